//! The `setting` command's sentences.

use super::Strings;
use crate::core::settings::{
    AnswerMode, Known, ModerationMode, Values, ANSWER_MODE, SOLVED_POINTERS,
};
use crate::core::{ChannelId, Language};

impl Strings {
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
                allowed(&setting.values)
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

    /// `setting mod-log here`: this channel is now the community's moderators' log.
    pub fn mod_log_here(&self, channel: &ChannelId) -> String {
        match self.language {
            Language::English => format!(
                "Done: this channel ({channel}) is now this community's moderators' log. Cases, \
                 appeals and decisions are posted here, and case notices may quote members' \
                 messages: keep the channel private to moderators."
            ),
            Language::Chinese => format!(
                "已设置：本频道（{channel}）现在是本社区的管理员日志频道。案例、申诉和处理结果会发到这里，\
                 案例通知可能引用成员的消息：请确保只有管理员能看到本频道。"
            ),
        }
    }

    /// `setting mod-log off`.
    pub fn mod_log_off(&self) -> &'static str {
        self.pick(
            "Done: this community has no moderators' log channel of its own any more; \
             Steward uses the configured one only if it belongs to this community.",
            "已取消本社区的管理员日志频道；只有配置文件中的频道属于本社区时才会使用它。",
        )
    }

    /// `setting moderation on|off|dry-run`: what the mode means.
    pub fn moderation_mode_changed(&self, mode: ModerationMode) -> String {
        match (mode, self.language) {
            (ModerationMode::On, Language::English) => "Done: moderation is now on: Steward \
                deletes messages that break the rules and times out flooding members."
                .to_string(),
            (ModerationMode::Off, Language::English) => "Done: moderation is now off: no rules, \
                reviews or reports (moderators' case commands still work)."
                .to_string(),
            (ModerationMode::DryRun, Language::English) => "Done: moderation is now dry-run: \
                every decision is logged and posted to the moderators as \"would have ...\", and \
                nothing is done automatically. A moderator's own `case` decision still acts."
                .to_string(),
            (ModerationMode::On, Language::Chinese) => {
                "已设置：自动审核已开启，违规消息会被删除，刷屏成员会被禁言。".to_string()
            }
            (ModerationMode::Off, Language::Chinese) => {
                "已设置：自动审核已关闭，不再检查规则、审核或举报（管理员的 case 命令仍可用）。"
                    .to_string()
            }
            (ModerationMode::DryRun, Language::Chinese) => {
                "已设置：自动审核为试运行，每个决定都会记录并以“本会……”通知管理员，但不会自动处理。\
                 管理员的 `case` 决定仍会执行。"
                    .to_string()
            }
        }
    }

    /// `setting answer_mode`: this channel's mode.
    pub fn answer_mode_value(&self, mode: AnswerMode) -> String {
        let here = self.pick("this channel", "本频道");
        match self.language {
            Language::English => format!("{ANSWER_MODE} = {} ({here})", mode.as_str()),
            Language::Chinese => format!("{ANSWER_MODE} = {}（{here}）", mode.as_str()),
        }
    }

    /// `setting solved_pointers`: this channel's choice.
    pub fn solved_pointers_value(&self, on: bool) -> String {
        let here = self.pick("this channel", "本频道");
        let value = if on { "on" } else { "off" };
        match self.language {
            Language::English => format!("{SOLVED_POINTERS} = {value} ({here})"),
            Language::Chinese => format!("{SOLVED_POINTERS} = {value}（{here}）"),
        }
    }

    /// `setting solved_pointers on|off`: what it means in this channel.
    pub fn solved_pointers_changed(&self, on: bool, channel: &ChannelId) -> String {
        match (on, self.language) {
            (true, Language::English) => format!(
                "Done: in this channel ({channel}) a question that closely matches a solved \
                 conversation gets a link to that conversation instead of a new answer."
            ),
            (false, Language::English) => format!(
                "Done: in this channel ({channel}) questions are answered, not pointed at solved \
                 conversations."
            ),
            (true, Language::Chinese) => format!(
                "已设置：在本频道（{channel}）中，与已解决讨论非常相似的问题会收到指向该讨论的链接，\
                 而不是新的回答。"
            ),
            (false, Language::Chinese) => {
                format!("已设置：在本频道（{channel}）中，问题会直接回答，不再指向已解决的讨论。")
            }
        }
    }

    /// `setting answer_mode help|mention`: what the mode means in this channel.
    pub fn answer_mode_changed(
        &self,
        mode: AnswerMode,
        channel: &ChannelId,
        prefix: &str,
    ) -> String {
        match (mode, self.language) {
            (AnswerMode::Help, Language::English) => format!(
                "Done: this channel ({channel}) is now a help channel. Steward answers every new \
                 question or post here without a mention, in a thread, and follow-ups in that \
                 thread; never bots. A member who reacts 🙅 to Steward's answer to their own \
                 post removes the answer. `{prefix}setting answer_mode mention` ends it."
            ),
            (AnswerMode::Mention, Language::English) => format!(
                "Done: in this channel ({channel}) Steward answers only when mentioned or \
                 replied to, and follow-ups in its threads."
            ),
            (AnswerMode::Help, Language::Chinese) => format!(
                "已设置：本频道（{channel}）现在是求助频道。这里的每个新问题或新帖子，Steward 都会\
                 直接在话题中回答，无需 @，话题中的追问也会回答；不回答机器人。成员对 Steward \
                 回答自己帖子的消息点 🙅 即可删除该回答。`{prefix}setting answer_mode mention` \
                 可恢复为只在被 @ 时回答。"
            ),
            (AnswerMode::Mention, Language::Chinese) => format!(
                "已设置：在本频道（{channel}）中，Steward 只在被 @ 或被回复时回答，\
                 以及它的话题中的追问。"
            ),
        }
    }

    pub fn bad_setting_value(&self, key: &str, value: &str, values: &Values) -> String {
        match (values, self.language) {
            (Values::OneOf(words), Language::English) => format!(
                "`{value}` is not a valid {key}; use one of: {}.",
                words.join(", ")
            ),
            (Values::OneOf(words), Language::Chinese) => {
                format!("`{value}` 不是有效的 {key}；可选：{}。", words.join("、"))
            }
            (Values::Number { min, max }, Language::English) => {
                format!("`{value}` is not a valid {key}; use a whole number from {min} to {max}.")
            }
            (Values::Number { min, max }, Language::Chinese) => {
                format!("`{value}` 不是有效的 {key}；请使用 {min} 到 {max} 之间的整数。")
            }
        }
    }
}

/// The allowed values in words: "en | zh" or "1-10000".
fn allowed(values: &Values) -> String {
    match values {
        Values::OneOf(words) => words.join(" | "),
        Values::Number { min, max } => format!("{min}-{max}"),
    }
}
