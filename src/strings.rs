//! Every user-facing sentence Steward says, in one place, in English and Chinese.

use crate::config::Language;
use crate::features::settings::Known;

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

    /// The `/help` text. `prefix` is how commands are written on this platform ("/", "!steward ").
    pub fn help(&self, bot_name: &str, prefix: &str) -> String {
        match self.language {
            Language::English => format!(
                "{bot_name} answers questions with a local language model.\n\
                 Commands:\n\
                 - {prefix}ask <question>: ask a question\n\
                 - {prefix}help: show this help\n\
                 - {prefix}setting [key] [value]: show or change settings (moderators)\n\
                 You can also mention @{bot_name} with your question."
            ),
            Language::Chinese => format!(
                "{bot_name} 使用本地语言模型回答问题。\n\
                 命令：\n\
                 - {prefix}ask <问题>：提问\n\
                 - {prefix}help：显示帮助\n\
                 - {prefix}setting [名称] [值]：查看或修改设置（管理员）\n\
                 也可以 @{bot_name} 并附上你的问题。"
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
}
