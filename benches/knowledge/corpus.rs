//! The knowledge benchmark's synthetic corpus: community messages of technical chatter in
//! English and (about a fifth) Chinese, and questions in the same vocabulary, generated from
//! fixed seeds so that every run indexes and asks exactly the same text.
//!
//! Common technical words are drawn skewed (a few are everywhere, most are uncommon, as in a
//! real channel); about half the messages name one of a few thousand made-up project names,
//! each of which occurs in a handful of messages only, so questions about them have real
//! answers among the noise.

use std::collections::HashSet;

/// A message (or question) and whether it is Chinese.
pub struct Message {
    pub text: String,
    pub chinese: bool,
}

/// The share of Chinese messages and questions.
const CHINESE_SHARE: f64 = 0.2;
/// How many made-up project names there are.
const RARE_NAMES: usize = 4_000;
const CORPUS_SEED: u64 = 0x5EED_0001;
const QUESTION_SEED: u64 = 0x5EED_0002;

/// `count` messages of 8-40 words (Chinese: 16-80 characters, about two a word).
pub fn messages(count: usize) -> Vec<Message> {
    let mut rng = Rng::new(CORPUS_SEED);
    let vocabulary = Vocabulary::new(&mut rng);
    (0..count).map(|_| vocabulary.message(&mut rng)).collect()
}

/// `count` questions as members type them (not taken from the messages).
pub fn questions(count: usize) -> Vec<Message> {
    // The same made-up names as the messages: built from the corpus seed.
    let vocabulary = Vocabulary::new(&mut Rng::new(CORPUS_SEED));
    let mut rng = Rng::new(QUESTION_SEED);
    (0..count).map(|_| vocabulary.question(&mut rng)).collect()
}

/// SplitMix64: small, fast, and the same numbers on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `low..=high`.
    pub fn range(&mut self, low: usize, high: usize) -> usize {
        low + (self.next_u64() % (high - low + 1) as u64) as usize
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len() - 1)]
    }

    /// Skewed to the front of `items`: the first are common, the last rare.
    fn skewed<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let at = (self.unit().powf(2.5) * items.len() as f64) as usize;
        items[at.min(items.len() - 1)]
    }
}

struct Vocabulary {
    rare: Vec<String>,
}

impl Vocabulary {
    fn new(rng: &mut Rng) -> Self {
        let mut seen = HashSet::new();
        let mut rare = Vec::with_capacity(RARE_NAMES);
        while rare.len() < RARE_NAMES {
            let syllables = rng.range(2, 3);
            let name: String = (0..syllables).map(|_| rng.pick(SYLLABLES)).collect();
            if seen.insert(name.clone()) {
                rare.push(name);
            }
        }
        Self { rare }
    }

    fn message(&self, rng: &mut Rng) -> Message {
        let chinese = rng.chance(CHINESE_SHARE);
        let words = rng.range(8, 40);
        let text = if chinese {
            let target = words * 2;
            let mut text = self.fill(rng.pick(ZH_TEMPLATES), rng, true);
            while text.chars().count() < target {
                text.push('，');
                if rng.chance(0.7) {
                    text.push_str(rng.pick(ZH_FILLERS));
                } else {
                    text.push_str(&self.fill(rng.pick(ZH_TEMPLATES), rng, true));
                }
            }
            text
        } else {
            let mut text = self.fill(rng.pick(EN_TEMPLATES), rng, false);
            while text.split_whitespace().count() < words {
                if rng.chance(0.7) {
                    text.push_str(", ");
                    text.push_str(rng.pick(EN_FILLERS));
                } else {
                    text.push_str(". ");
                    text.push_str(&self.fill(rng.pick(EN_TEMPLATES), rng, false));
                }
            }
            text.split_whitespace()
                .take(words)
                .collect::<Vec<_>>()
                .join(" ")
        };
        Message { text, chinese }
    }

    fn question(&self, rng: &mut Rng) -> Message {
        let chinese = rng.chance(CHINESE_SHARE);
        let templates = if chinese { ZH_QUESTIONS } else { EN_QUESTIONS };
        let text = self.fill(rng.pick(templates), rng, chinese);
        Message { text, chinese }
    }

    /// `template` with its slots filled: {t} and {t2} technical words, {p} a problem, {c} an
    /// error, {port}, {v} a version, {r} a made-up project name, {os} a system.
    fn fill(&self, template: &str, rng: &mut Rng, chinese: bool) -> String {
        let mut tech = || {
            if chinese && rng.chance(0.6) {
                rng.skewed(ZH_TECH)
            } else {
                rng.skewed(EN_TECH)
            }
        };
        let (first, second) = (tech(), tech());
        let problem = rng.pick(if chinese { ZH_PROBLEMS } else { EN_PROBLEMS });
        let code = rng.skewed(CODES);
        let port = if rng.chance(0.7) {
            rng.pick(PORTS).to_string()
        } else {
            rng.range(1024, 65535).to_string()
        };
        let version = format!("{}.{}", rng.range(1, 3), rng.range(0, 12));
        let rare = self.rare[rng.range(0, self.rare.len() - 1)].as_str();
        let os = rng.pick(SYSTEMS);
        template
            .replace("{t2}", second)
            .replace("{t}", first)
            .replace("{p}", problem)
            .replace("{c}", code)
            .replace("{port}", &port)
            .replace("{v}", &version)
            .replace("{r}", rare)
            .replace("{os}", os)
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lor", "vex", "mi", "tan", "zo", "rin", "bel", "qua", "dor", "fen", "ix", "sul", "tra",
    "nov", "pel", "gar", "yon", "chi", "mur", "ost", "ple", "wen", "dax",
];

/// Most common first.
const EN_TECH: &[&str] = &[
    "docker",
    "config file",
    "nginx",
    "reverse proxy",
    "tls",
    "postgres",
    "webhook",
    "api",
    "token",
    "certificate",
    "redis",
    "kubernetes",
    "compose file",
    "dashboard",
    "backup",
    "database",
    "cache",
    "systemd unit",
    "log level",
    "env var",
    "health check",
    "grafana",
    "prometheus",
    "cluster",
    "replica",
    "ingress",
    "helm chart",
    "cron job",
    "oauth",
    "sso",
    "ldap",
    "alert rule",
    "quota",
    "migration",
    "index",
    "query planner",
    "load balancer",
    "dns",
    "firewall",
    "websocket",
    "api key",
    "rate limit",
    "retention policy",
    "snapshot",
    "bucket",
    "shard",
    "compaction",
    "write-ahead log",
    "scheduler",
    "worker pool",
    "message queue",
    "plugin",
    "bot account",
    "permission",
    "role mapping",
    "upload limit",
    "s3 bucket",
    "minio",
    "smtp relay",
    "password reset",
    "session cookie",
    "cors header",
    "grpc",
    "http2",
    "ipv6",
    "arm64 build",
    "raspberry pi",
    "alpine image",
    "cli",
    "python client",
    "rust crate",
    "go module",
    "npm package",
    "traefik",
    "caddy",
    "letsencrypt",
    "wireguard",
    "tailscale",
    "object storage",
    "read replica",
    "connection pool",
    "tokenizer",
    "embedding model",
];

/// Most common first.
const ZH_TECH: &[&str] = &[
    "配置文件",
    "反向代理",
    "证书",
    "数据库",
    "日志",
    "端口",
    "容器",
    "镜像",
    "机器人",
    "频道",
    "权限",
    "备份",
    "集群",
    "缓存",
    "索引",
    "迁移",
    "负载均衡",
    "防火墙",
    "定时任务",
    "单点登录",
    "消息队列",
    "对象存储",
    "内存",
    "磁盘",
    "插件",
    "告警规则",
    "仪表盘",
    "接口",
    "令牌",
    "会话",
    "域名解析",
    "限流",
    "副本",
    "分片",
    "压缩任务",
    "连接池",
    "健康检查",
    "环境变量",
];

const EN_PROBLEMS: &[&str] = &[
    "keeps returning",
    "times out",
    "crashes",
    "hangs on startup",
    "leaks memory",
    "refuses to start",
    "fails silently",
    "is really slow",
    "returns empty results",
    "drops connections",
    "loops forever",
    "spams the logs",
];

const ZH_PROBLEMS: &[&str] = &[
    "一直返回错误",
    "启动不了",
    "特别慢",
    "超时",
    "崩溃了",
    "内存占用很高",
    "连不上",
    "报错",
    "没有反应",
    "丢消息",
];

/// Most common first.
const CODES: &[&str] = &[
    "502",
    "500",
    "connection refused",
    "404",
    "401",
    "503",
    "403",
    "504",
    "permission denied",
    "429",
    "413",
    "timeout",
    "broken pipe",
    "EADDRINUSE",
    "OOMKilled",
    "SIGSEGV",
    "certificate expired",
    "no such file or directory",
    "deadline exceeded",
];

const PORTS: &[&str] = &[
    "80", "443", "3000", "5432", "6379", "8080", "8086", "8428", "8443", "9090", "9093", "9100",
];

const SYSTEMS: &[&str] = &[
    "ubuntu 22.04",
    "debian 12",
    "windows",
    "macos",
    "alpine",
    "fedora",
    "arch",
    "freebsd",
];

const EN_TEMPLATES: &[&str] = &[
    "how do I configure the {t} for port {port} with {t2}",
    "after upgrading to {v} the {t} {p} {c}",
    "{t} {p} with {c} since yesterday",
    "has anyone got {r} working behind {t}",
    "the {r} plugin {p} when the {t} restarts",
    "is there a way to run {r} without {t}",
    "what is the default {t} setting for {r}",
    "we moved the {t} to {t2} and now {r} {p}",
    "can someone explain why {t} says {c} on port {port}",
    "fixed it, the {t} needed {t2} enabled and {r} works now",
    "does {v} still support {t} or do I need {t2}",
    "getting {c} from {r} every few minutes, the {t} looks fine",
    "tip: raise the {t} timeout if {r} {p}",
    "where are the {t} logs for {r} on {os}",
    "{r} on {os} {p} after the {t} update",
    "just use {t2} in front of the {t}, that fixed the {c} for us",
];

const EN_FILLERS: &[&str] = &[
    "any ideas",
    "thanks in advance",
    "it worked fine yesterday",
    "I already tried restarting it",
    "on ubuntu 22.04",
    "in docker compose",
    "same thing on the staging box",
    "not sure if this is a bug",
    "the logs show nothing useful",
    "happens maybe once an hour",
    "the docs were not clear about this",
    "running the latest release",
    "anyone seen this before",
    "I can share my config",
    "ping me if you need more details",
    "lol",
    "ok",
    "nvm",
    "weird",
    "this is blocking our deploy",
    "tried with a fresh install too",
    "only on arm64 though",
    "worked around it for now",
    "opened an issue about it",
    "+1 same here",
    "rolling back fixed it",
];

const ZH_TEMPLATES: &[&str] = &[
    "升级到 {v} 之后 {t} 一直返回 {c}",
    "{t} 的端口 {port} 怎么配置",
    "有人在 {t} 后面跑过 {r} 吗",
    "{r} 插件在 {t} 重启的时候{p}",
    "我们把 {t} 换成了 {t2}，现在 {r} {p}",
    "{t} 报 {c}，{t2} 看起来正常",
    "请问 {r} 支持 {t} 吗",
    "{os} 上 {t} 的日志在哪里",
    "{r} 在 {os} 上{p}",
    "解决了，{t} 要打开 {t2}，{r} 现在正常了",
];

const ZH_FILLERS: &[&str] = &[
    "有人遇到过吗",
    "求助",
    "谢谢",
    "昨天还好好的",
    "重启也没用",
    "日志里什么都没有",
    "在 docker 里跑的",
    "不知道是不是 bug",
    "大概一个小时出现一次",
    "文档没写清楚",
    "用的是最新版",
    "我可以贴配置",
    "已经提了 issue",
    "回滚之后就好了",
    "急",
    "同问",
    "先绕过去了",
    "测试环境也一样",
];

const EN_QUESTIONS: &[&str] = &[
    "how do I configure the {t} for {r} on port {port}",
    "why does {r} return {c} behind the {t}",
    "does {r} work with {t} on {os}",
    "{r} {p} after upgrading to {v}, any fix?",
    "where are the {t} logs for {r}",
    "what is the default {t} for {r}",
    "how do I set up {t} and {t2} together",
    "the {t} keeps returning {c}, what should I check",
];

const ZH_QUESTIONS: &[&str] = &[
    "{r} 在 {t} 后面返回 {c} 怎么办",
    "{t} 的端口 {port} 怎么配置",
    "升级到 {v} 以后 {r} {p}",
    "{os} 上 {r} 的日志在哪里",
    "请问 {r} 支持 {t} 吗",
];
