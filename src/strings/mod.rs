//! Every user-facing sentence Steward says, in English and Chinese: the common ones here, each
//! feature's in a file of its own beside this one (all `impl Strings`), so wording and
//! translations are easy to find and no feature imports another to borrow a sentence.

mod insights;
mod kb_reports;
mod kb_sources;
mod knowledge;
mod moderation;
mod privacy;
mod quotas;
mod settings;

pub use insights::Figure;
pub use privacy::{NoticeFacts, RecordingStatus};

use crate::core::Language;

/// The sentences for one language.
#[derive(Debug, Clone, Copy)]
pub struct Strings {
    pub language: Language,
}

impl Strings {
    pub fn new(language: Language) -> Self {
        Self { language }
    }

    pub(crate) fn pick(&self, english: &'static str, chinese: &'static str) -> &'static str {
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
                 - {prefix}rules: show this community's rules\n\
                 - {prefix}appeal <case> <why>: appeal a moderation decision about you\n\
                 - {prefix}setting [key] [value]: show or change settings (moderators)\n\
                 - {prefix}rules set <one rule per line> | clear: write the rules (moderators)\n\
                 - {prefix}cases: list open moderation cases (moderators)\n\
                 - {prefix}case <number> [dismiss|resolve|delete|timeout <minutes>|kick|ban|uphold|reverse]: \
                 show or decide a case, or answer its appeal (moderators)\n\
                 - {prefix}kb gaps|feedback [days]: the questions I could not answer, or members' \
                 👍/👎 on my answers (moderators)\n\
                 - {prefix}kb mark <message link>: add that conversation to what I answer from \
                 (moderators)\n\
                 - {prefix}report [24h|7d|4w] [channel]: the community's health with charts: \
                 activity, questions, sentiment, what changed (moderators); \
                 {prefix}setting digest here posts it weekly\n\
                 - {prefix}privacy: what I store about you and for how long; \
                 {prefix}privacy opt-out|opt-in|export\n\
                 - {prefix}forget-me: delete everything I store about you here (asks to confirm)\n\
                 - {prefix}privacy channel off|on, {prefix}privacy forget <user>: stop recording \
                 this channel, forget a member who left (moderators)\n\
                 You can also mention @{bot_name} with your question, and follow up by replying \
                 to my answer or writing in my thread. React with 👍 or 👎 to an answer to rate \
                 it, with 🙅 to my answer to your own message to remove it, and with ✅ to your \
                 own question once it is solved.{report}"
            ),
            Language::Chinese => format!(
                "{bot_name} 使用本地语言模型回答问题。\n\
                 命令：\n\
                 - {prefix}ask <问题>：提问\n\
                 - {prefix}summarize [条数]：总结这里最近的消息（附链接）\n\
                 - {prefix}help：显示帮助\n\
                 - {prefix}rules：查看本社区的规则\n\
                 - {prefix}appeal <编号> <理由>：对与你有关的处理提出申诉\n\
                 - {prefix}setting [名称] [值]：查看或修改设置（管理员）\n\
                 - {prefix}rules set <每行一条规则> | clear：编写规则（管理员）\n\
                 - {prefix}cases：查看未处理的审核案例（管理员）\n\
                 - {prefix}case <编号> [dismiss|resolve|delete|timeout <分钟>|kick|ban|uphold|reverse]：\
                 查看或处理案例，或答复申诉（管理员）\n\
                 - {prefix}kb gaps|feedback [天数]：我未能回答的问题，或成员对我的回答的 👍/👎（管理员）\n\
                 - {prefix}kb mark <消息链接>：把这段对话加入我回答时参考的知识库（管理员）\n\
                 - {prefix}report [24h|7d|4w] [频道]：社区健康报告（附图表）：活跃度、提问、情绪及变化\
                 （管理员）；{prefix}setting digest here 可每周自动发布\n\
                 - {prefix}privacy：我保存了你的哪些数据、保存多久；\
                 {prefix}privacy opt-out|opt-in|export\n\
                 - {prefix}forget-me：删除我在这里保存的关于你的全部数据（需确认）\n\
                 - {prefix}privacy channel off|on，{prefix}privacy forget <用户>：停止记录本频道，\
                 遗忘已离开的成员（管理员）\n\
                 也可以 @{bot_name} 并附上你的问题；回复我的回答或在我的话题中发言即可追问。\
                 给回答点 👍 或 👎 即可评价；对我回答你的消息点 🙅 即可删除该回答；问题解决后，\
                 给自己的提问点 ✅。{report}"
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

    /// The inference server stopped after part of the answer was posted: the partial answer
    /// stays, this says it is incomplete.
    pub fn interrupted(&self) -> &'static str {
        self.pick(
            "The answer was cut off: the model server stopped. Please ask again.",
            "回答中断：模型服务器已停止，请再问一次。",
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
                 `{prefix}setting language zh` for Chinese). {prefix}help lists every command.\n\
                 What I store about members, for how long, and how to opt out: {prefix}privacy."
            ),
            Language::Chinese => format!(
                "你好！我是 {bot_name}，使用本地语言模型回答问题。\n\
                 已启用：{prefix}ask 以及 @{bot_name} 提问。\n\
                 管理员可用 {prefix}setting 修改设置（例如 `{prefix}setting language en` 切换为英文）。\
                 {prefix}help 查看全部命令。\n\
                 我保存成员的哪些数据、保存多久以及如何退出：{prefix}privacy。"
            ),
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

    /// How a command is used, after arguments that did not fit: the form and what each
    /// argument allows.
    pub fn usage(&self, command: &str, prefix: &str) -> String {
        let (usage, english, chinese) = match command {
            "report" => return self.report_usage(prefix),
            "case" => (
                format!(
                    "{prefix}case <number> [dismiss|resolve|delete|timeout <minutes>|kick|ban|uphold|reverse]"
                ),
                "the case number from `cases`; minutes: a whole number of 1 or more",
                "案例编号见 `cases`；分钟数为不小于 1 的整数",
            ),
            "summarize" => (
                format!("{prefix}summarize [messages]"),
                "messages: a whole number from 1 to 100, default 30",
                "条数为 1 到 100 之间的整数，默认 30",
            ),
            "cases" => (format!("{prefix}cases"), "no arguments", "无参数"),
            "rules" => (
                format!("{prefix}rules [set <one rule per line> | clear]"),
                "setting or clearing the rules is for moderators",
                "设置或清除规则仅限管理员",
            ),
            "kb mark" => (
                format!("{prefix}kb mark <message link or id>"),
                "a link to a message Steward recorded in this community; moderators only",
                "Steward 在本社区记录过的消息的链接；仅限管理员",
            ),
            "kb" => (
                format!("{prefix}kb gaps|feedback [days]"),
                "days: a whole number from 1 to 365, default 30; moderators only",
                "天数为 1 到 365 之间的整数，默认 30；仅限管理员",
            ),
            "privacy" => (
                format!(
                    "{prefix}privacy [opt-out|opt-in|export|channel off|channel on|forget <user> [confirm]]"
                ),
                "channel and forget are for moderators",
                "channel 和 forget 仅限管理员",
            ),
            "forget-me" => (
                format!("{prefix}forget-me [confirm]"),
                "first without confirm: it says what will be deleted",
                "先不带 confirm 输入：会说明将删除哪些内容",
            ),
            "appeal" => (
                format!("{prefix}appeal <case number> <why>"),
                "the case number is in the notice you received",
                "案例编号见你收到的通知",
            ),
            other => (format!("{prefix}{other}"), "", ""),
        };
        match self.language {
            Language::English if english.is_empty() => format!("Usage: `{usage}`"),
            Language::English => format!("Usage: `{usage}` ({english})"),
            Language::Chinese if chinese.is_empty() => format!("用法：`{usage}`"),
            Language::Chinese => format!("用法：`{usage}`（{chinese}）"),
        }
    }

    /// A question longer than `[bot] max_question_chars`; the model never sees it.
    pub fn question_too_long(&self, chars: usize, limit: usize) -> String {
        match self.language {
            Language::English => format!(
                "Your question is {chars} characters long; I can take at most {limit}. Please shorten it."
            ),
            Language::Chinese => {
                format!("你的问题有 {chars} 个字符，最多只能 {limit} 个。请缩短后再问。")
            }
        }
    }

    /// A timeout longer than the platform allows.
    pub fn timeout_too_long(&self, minutes: u32, limit: u32) -> String {
        match self.language {
            Language::English => format!(
                "A timeout of {minutes} minutes is longer than this platform allows ({limit} minutes)."
            ),
            Language::Chinese => format!("禁言 {minutes} 分钟超过了本平台的上限（{limit} 分钟）。"),
        }
    }

    /// A command the platform no longer knows (e.g. a Discord command from an older version).
    pub fn unknown_command(&self) -> &'static str {
        self.pick(
            "That command is unknown or outdated. Type /help to see the current commands.",
            "该命令未知或已过时。输入 /help 查看当前命令。",
        )
    }
}
