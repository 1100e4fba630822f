//! Every user-facing sentence Steward says, in one place, in English and Chinese.

use crate::config::Language;

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
                 You can also mention @{bot_name} with your question."
            ),
            Language::Chinese => format!(
                "{bot_name} 使用本地语言模型回答问题。\n\
                 命令：\n\
                 - {prefix}ask <问题>：提问\n\
                 - {prefix}help：显示帮助\n\
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
}
