//! Every user-facing sentence Steward says, in one place, in English and Chinese.

use crate::config::Language;
use crate::core::{CaseDecision, UserId};
use crate::features::settings::Known;
use crate::store::{Case, NewCase};

/// The sentences for one language.
#[derive(Debug, Clone, Copy)]
pub struct Strings {
    pub language: Language,
}

impl Strings {
    pub fn new(language: Language) -> Self {
        Self { language }
    }

    fn pick(&self, english: &'static str, chinese: &'static str) -> &'static str {
        match self.language {
            Language::English => english,
            Language::Chinese => chinese,
        }
    }

    /// The `/help` text. `prefix` is how commands are written on this platform ("/", "!steward ");
    /// `report_emoji` is the reaction that reports a message, when reports are on.
    pub fn help(&self, bot_name: &str, prefix: &str, report_emoji: Option<&str>) -> String {
        let report = match (report_emoji, self.language) {
            (None, _) => String::new(),
            (Some(emoji), Language::English) => {
                format!(" React with {emoji} to report a message to the moderators.")
            }
            (Some(emoji), Language::Chinese) => {
                format!("用 {emoji} 回应某条消息即可向管理员举报。")
            }
        };
        match self.language {
            Language::English => format!(
                "{bot_name} answers questions with a local language model.\n\
                 Commands:\n\
                 - {prefix}ask <question>: ask a question\n\
                 - {prefix}summarize [messages]: summarize the recent messages here, with links\n\
                 - {prefix}help: show this help\n\
                 - {prefix}setting [key] [value]: show or change settings (moderators)\n\
                 - {prefix}cases: list open moderation cases (moderators)\n\
                 - {prefix}case <number> [dismiss|resolve|delete|timeout <minutes>|kick|ban]: \
                 show or decide a case (moderators)\n\
                 You can also mention @{bot_name} with your question.{report}"
            ),
            Language::Chinese => format!(
                "{bot_name} 使用本地语言模型回答问题。\n\
                 命令：\n\
                 - {prefix}ask <问题>：提问\n\
                 - {prefix}summarize [条数]：总结这里最近的消息（附链接）\n\
                 - {prefix}help：显示帮助\n\
                 - {prefix}setting [名称] [值]：查看或修改设置（管理员）\n\
                 - {prefix}cases：查看未处理的审核案例（管理员）\n\
                 - {prefix}case <编号> [dismiss|resolve|delete|timeout <分钟>|kick|ban]：\
                 查看或处理案例（管理员）\n\
                 也可以 @{bot_name} 并附上你的问题。{report}"
            ),
        }
    }

    pub fn busy(&self) -> &'static str {
        self.pick(
            "I'm busy answering other questions right now. Please try again in a minute.",
            "我正在回答其他问题，请稍后再试。",
        )
    }

    pub fn too_slow(&self) -> &'static str {
        self.pick(
            "Sorry, that took too long and I stopped. Please try a shorter question.",
            "抱歉，回答超时了。请尝试更简短的问题。",
        )
    }

    pub fn failed(&self) -> &'static str {
        self.pick(
            "Sorry, something went wrong while I was answering. The error was logged.",
            "抱歉，回答时出错了，错误已记录。",
        )
    }

    pub fn empty_question(&self, prefix: &str) -> String {
        match self.language {
            Language::English => {
                format!("What would you like to ask? Try `{prefix}ask <question>`.")
            }
            Language::Chinese => format!("你想问什么？试试 `{prefix}ask <问题>`。"),
        }
    }

    pub fn moderators_only(&self) -> &'static str {
        self.pick(
            "Sorry, only moderators can use that command.",
            "抱歉，只有管理员可以使用该命令。",
        )
    }
    /// Posted when Steward joins a community.
    pub fn setup_notice(&self, bot_name: &str, prefix: &str) -> String {
        match self.language {
            Language::English => format!(
                "Hello! I'm {bot_name}, a bot that answers questions with a local language model.\n\
                 Enabled: answers to {prefix}ask and to mentions of @{bot_name}.\n\
                 Moderators can change settings with {prefix}setting (for example \
                 `{prefix}setting language zh` for Chinese). {prefix}help lists every command."
            ),
            Language::Chinese => format!(
                "你好！我是 {bot_name}，使用本地语言模型回答问题。\n\
                 已启用：{prefix}ask 以及 @{bot_name} 提问。\n\
                 管理员可用 {prefix}setting 修改设置（例如 `{prefix}setting language en` 切换为英文）。\
                 {prefix}help 查看全部命令。"
            ),
        }
    }

    pub fn settings_list(&self, current: &[(String, String)], known: &[Known]) -> String {
        let mut lines = Vec::new();
        for setting in known {
            let value = current
                .iter()
                .find(|(key, _)| key == setting.key)
                .map(|(_, value)| value.as_str())
                .unwrap_or(self.pick("(default)", "（默认）"));
            lines.push(format!(
                "- {} = {} ({})",
                setting.key,
                value,
                setting.values.join(" | ")
            ));
        }
        format!("{}\n{}", self.pick("Settings:", "设置："), lines.join("\n"))
    }

    pub fn unknown_setting(&self, key: &str, known: &[Known]) -> String {
        let names: Vec<&str> = known.iter().map(|k| k.key).collect();
        match self.language {
            Language::English => format!(
                "There is no setting `{key}`. Settings: {}.",
                names.join(", ")
            ),
            Language::Chinese => {
                format!("没有名为 `{key}` 的设置。可用设置：{}。", names.join("、"))
            }
        }
    }

    pub fn setting_value(&self, key: &str, value: Option<&str>) -> String {
        let value = value.unwrap_or(self.pick("(default)", "（默认）"));
        format!("{key} = {value}")
    }

    pub fn setting_changed(&self, key: &str, value: &str) -> String {
        match self.language {
            Language::English => format!("Done: {key} is now {value}."),
            Language::Chinese => format!("已设置：{key} = {value}。"),
        }
    }

    pub fn bad_setting_value(&self, key: &str, value: &str, allowed: &[&str]) -> String {
        match self.language {
            Language::English => format!(
                "`{value}` is not a valid {key}; use one of: {}.",
                allowed.join(", ")
            ),
            Language::Chinese => {
                format!("`{value}` 不是有效的 {key}；可选：{}。", allowed.join("、"))
            }
        }
    }

    pub fn nothing_to_summarize(&self) -> &'static str {
        self.pick(
            "There is nothing to summarize here yet: I only see messages posted while I am present.",
            "这里还没有可以总结的内容：我只能看到我在场时发布的消息。",
        )
    }

    pub fn summary_without_sources(&self) -> &'static str {
        self.pick(
            "Sorry, I could not write a summary that points to its sources. Try again with fewer messages.",
            "抱歉，我无法写出注明来源的总结。请减少消息数量后再试。",
        )
    }

    pub fn summary_header(&self, messages: usize) -> String {
        match self.language {
            Language::English if messages == 1 => "Summary of the last message:".to_string(),
            Language::English => format!("Summary of the last {messages} messages:"),
            Language::Chinese => format!("最近 {messages} 条消息的总结："),
        }
    }

    /// How a command is used, after arguments that did not fit.
    pub fn usage(&self, command: &str, prefix: &str) -> String {
        let usage = match command {
            "case" => {
                format!("{prefix}case <number> [dismiss|resolve|delete|timeout <minutes>|kick|ban]")
            }
            other => format!("{prefix}{other}"),
        };
        match self.language {
            Language::English => format!("Usage: `{usage}`"),
            Language::Chinese => format!("用法：`{usage}`"),
        }
    }

    /// A command the platform no longer knows (e.g. a Discord command from an older version).
    pub fn unknown_command(&self) -> &'static str {
        self.pick(
            "That command is unknown or outdated. Type /help to see the current commands.",
            "该命令未知或已过时。输入 /help 查看当前命令。",
        )
    }

    /// A case's status in words.
    pub fn status_label(&self, status: &str) -> &'static str {
        match status {
            "open" => self.pick("open", "未处理"),
            "dismissed" => self.pick("dismissed", "已驳回"),
            "resolved" => self.pick("resolved", "已处理"),
            "deleted" => self.pick("message deleted", "已删除消息"),
            "timed_out" => self.pick("member timed out", "已禁言"),
            "kicked" => self.pick("member kicked", "已踢出"),
            "banned" => self.pick("member banned", "已封禁"),
            "deleted_and_timed_out" => self.pick("deleted and timed out", "已删除并禁言"),
            "none" => self.pick("nothing", "无"),
            _ => self.pick("decided", "已决定"),
        }
    }

    /// The moderators' notice of a new case. `id` is `None` if the case could not be saved.
    pub fn case_opened(&self, id: Option<i64>, case: &NewCase, prefix: &str) -> String {
        let number = id.map_or_else(|| "?".to_string(), |id| id.to_string());
        let decide = id.map_or_else(String::new, |id| {
            format!("\n`{prefix}case {id} dismiss|delete|timeout <minutes>|kick|ban`")
        });
        format!("{}{decide}", self.case_summary(&number, case))
    }

    /// What a case is about: who, where, the excerpt, why, and what was done automatically.
    fn case_summary(&self, number: &str, case: &NewCase) -> String {
        let done = self.status_label(&case.automatic);
        let excerpt = quote(&case.excerpt);
        let (category, source, user) = (&case.category, &case.source, &case.user);
        let (channel, reason) = (&case.location.channel, &case.reason);
        match self.language {
            Language::English => format!(
                "Case #{number}: {category} ({source}) by {user} in {channel}\n{excerpt}\nWhy: {reason}\nDone automatically: {done}"
            ),
            Language::Chinese => format!(
                "案例 #{number}：{category}（{source}），用户 {user}，频道 {channel}\n{excerpt}\n原因：{reason}\n自动处理：{done}"
            ),
        }
    }

    /// The list of open cases.
    pub fn open_cases(&self, cases: &[Case]) -> String {
        if cases.is_empty() {
            return self
                .pick("No open cases.", "没有未处理的案例。")
                .to_string();
        }
        let lines: Vec<String> = cases
            .iter()
            .map(|case| {
                let excerpt: String = case.excerpt.chars().take(60).collect();
                format!(
                    "#{} {} · {} · \"{}\" · {}",
                    case.id,
                    case.category,
                    case.user,
                    excerpt.replace('\n', " "),
                    self.status_label(&case.automatic)
                )
            })
            .collect();
        format!(
            "{}\n{}",
            self.pick("Open cases (newest first):", "未处理的案例（最新在前）："),
            lines.join("\n")
        )
    }

    /// One case in full.
    pub fn case_details(&self, case: &Case) -> String {
        let summary = self.case_summary(&case.id.to_string(), &case.facts());
        let status = self.status_label(&case.status);
        let decided_by = case
            .decided_by
            .as_ref()
            .map_or_else(String::new, |user| format!(" ({user})"));
        match self.language {
            Language::English => format!("{summary}\nStatus: {status}{decided_by}"),
            Language::Chinese => format!("{summary}\n状态：{status}{decided_by}"),
        }
    }

    pub fn no_such_case(&self, id: i64) -> String {
        match self.language {
            Language::English => format!("There is no case #{id} in this community."),
            Language::Chinese => format!("本社区没有案例 #{id}。"),
        }
    }

    pub fn case_already_decided(&self, case: &Case) -> String {
        let status = self.status_label(&case.status);
        let by = case
            .decided_by
            .as_ref()
            .map_or_else(String::new, |user| user.to_string());
        match self.language {
            Language::English => {
                format!("Case #{} was already decided: {status} by {by}.", case.id)
            }
            Language::Chinese => format!("案例 #{} 已被处理：{status}（{by}）。", case.id),
        }
    }

    /// The reply to the moderator who decided a case.
    pub fn case_decided(&self, id: i64, decision: CaseDecision) -> String {
        let status = self.decision_label(decision);
        match self.language {
            Language::English => format!("Case #{id} closed: {status}."),
            Language::Chinese => format!("案例 #{id} 已关闭：{status}。"),
        }
    }

    /// The moderators' log line for a decision.
    pub fn case_decided_log(&self, id: i64, decision: CaseDecision, moderator: &UserId) -> String {
        let status = self.decision_label(decision);
        match self.language {
            Language::English => format!("Case #{id}: {status}, decided by {moderator}."),
            Language::Chinese => format!("案例 #{id}：{status}，处理人 {moderator}。"),
        }
    }

    fn decision_label(&self, decision: CaseDecision) -> String {
        let label = self.status_label(decision.as_str());
        match decision {
            CaseDecision::Timeout { minutes } => match self.language {
                Language::English => format!("{label} for {minutes} min"),
                Language::Chinese => format!("{label} {minutes} 分钟"),
            },
            _ => label.to_string(),
        }
    }
}

/// A message excerpt as a Markdown quote, one line per line.
fn quote(text: &str) -> String {
    text.lines()
        .map(|line| format!("> {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
