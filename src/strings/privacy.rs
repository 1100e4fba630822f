//! What Steward says about members' data: the privacy notice, opting out and in, a channel
//! off and on, forgetting (with its confirmation), exports, and the community's retention
//! setting.

use super::Strings;
use crate::core::{ChannelId, Language, UserId};
use crate::store::Forgotten;

/// Whether Steward records the member asking, as the notice says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingStatus {
    Recorded,
    /// `privacy opt-out`.
    OptedOut,
    /// `forget-me` (or a moderator's `privacy forget`).
    Forgotten,
    /// `privacy channel off` in this channel.
    ChannelOff,
}

/// What the privacy notice states about one community.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeFacts<'a> {
    /// The effective retention of message text in days; `None`: kept until deleted.
    pub retain_messages_days: Option<u32>,
    pub retain_cases_days: u32,
    pub status: RecordingStatus,
    pub prefix: &'a str,
}

impl Strings {
    /// `privacy`: what is stored, for how long, and what members can do about it.
    pub fn privacy_notice(&self, facts: &NoticeFacts<'_>) -> String {
        let NoticeFacts {
            retain_messages_days,
            retain_cases_days,
            status,
            prefix,
        } = *facts;
        match self.language {
            Language::English => {
                let kept = match retain_messages_days {
                    Some(days) => format!("for {days} days, then its text is erased"),
                    None => "until its author deletes it or asks to be forgotten".to_string(),
                };
                let status = match status {
                    RecordingStatus::Recorded => "Steward records your messages here.",
                    RecordingStatus::OptedOut => {
                        "You opted out: Steward does not record your messages here."
                    }
                    RecordingStatus::Forgotten => {
                        "You asked to be forgotten: Steward does not record your messages here."
                    }
                    RecordingStatus::ChannelOff => {
                        "The moderators switched recording off in this channel."
                    }
                };
                format!(
                    "What Steward stores in this community:\n\
                     - members' messages in the channels it is in (text, author, time, edits, \
                     replies), to follow up questions, summarize, answer from earlier \
                     conversations and moderate; conversations may become cited sources\n\
                     - display names, and the role it last saw each member have\n\
                     - questions it could not answer, and 👍/👎 on its answers\n\
                     - moderation cases and appeals, with a short excerpt of the message\n\
                     A message is kept {kept}; a message deleted on the platform loses its text \
                     at once. A closed case keeps its excerpt {retain_cases_days} days.\n\
                     {status}\n\
                     What you can do:\n\
                     - `{prefix}privacy opt-out`: stop recording your messages (Steward still \
                     answers when you mention or reply to it, and anti-spam rules still apply); \
                     `{prefix}privacy opt-in` undoes it\n\
                     - `{prefix}privacy export`: get everything stored about you as a file, \
                     privately\n\
                     - `{prefix}forget-me`: delete everything stored about you here\n\
                     Moderators: `{prefix}privacy channel off|on`, `{prefix}privacy forget \
                     <user>` for a member who left, `{prefix}setting retain_messages_days \
                     <days>`."
                )
            }
            Language::Chinese => {
                let kept = match retain_messages_days {
                    Some(days) => format!("保留 {days} 天，之后清除其文本"),
                    None => "一直保留，直到作者删除或要求被遗忘".to_string(),
                };
                let status = match status {
                    RecordingStatus::Recorded => "Steward 会记录你在这里的消息。",
                    RecordingStatus::OptedOut => "你已选择退出：Steward 不记录你在这里的消息。",
                    RecordingStatus::Forgotten => "你已要求被遗忘：Steward 不记录你在这里的消息。",
                    RecordingStatus::ChannelOff => "管理员已关闭本频道的记录。",
                };
                format!(
                    "Steward 在本社区保存的内容：\n\
                     - 成员在它所在频道中的消息（文本、作者、时间、编辑、回复），用于追问、总结、\
                     根据以往对话回答以及审核；对话可能成为回答引用的来源\n\
                     - 显示名称，以及它最后看到的成员角色\n\
                     - 它未能回答的问题，以及对其回答的 👍/👎\n\
                     - 审核案例和申诉，附消息的简短摘录\n\
                     消息{kept}；在平台上删除的消息会立即清除文本。已结案的案例保留摘录 \
                     {retain_cases_days} 天。\n\
                     {status}\n\
                     你可以：\n\
                     - `{prefix}privacy opt-out`：停止记录你的消息（你 @ 或回复 Steward 时它仍会\
                     回答，反垃圾规则仍然适用）；`{prefix}privacy opt-in` 可撤销\n\
                     - `{prefix}privacy export`：以文件形式私下获取关于你的全部数据\n\
                     - `{prefix}forget-me`：删除这里关于你的全部数据\n\
                     管理员：`{prefix}privacy channel off|on`，`{prefix}privacy forget <用户>`\
                     （针对已离开的成员），`{prefix}setting retain_messages_days <天数>`。"
                )
            }
        }
    }

    /// `privacy opt-out`; `new` false: they were not recorded already.
    pub fn opted_out(&self, new: bool, prefix: &str) -> String {
        match (new, self.language) {
            (true, Language::English) => format!(
                "Done: Steward no longer records your messages in this community. It still \
                 answers when you mention or reply to it (only that question goes to the model), \
                 and anti-spam rules still apply. What was stored before stays until you type \
                 `{prefix}forget-me`; `{prefix}privacy opt-in` undoes this."
            ),
            (false, Language::English) => format!(
                "Steward already does not record your messages here. `{prefix}privacy opt-in` \
                 records them again."
            ),
            (true, Language::Chinese) => format!(
                "已设置：Steward 不再记录你在本社区的消息。你 @ 或回复它时它仍会回答（只有那个问题\
                 会发给模型），反垃圾规则仍然适用。之前保存的内容会保留，直到你输入 \
                 `{prefix}forget-me`；`{prefix}privacy opt-in` 可撤销。"
            ),
            (false, Language::Chinese) => {
                format!("Steward 本来就不记录你在这里的消息。`{prefix}privacy opt-in` 可恢复记录。")
            }
        }
    }

    /// `privacy opt-in`; `was_excluded` false: nothing changed.
    pub fn opted_in(&self, was_excluded: bool) -> &'static str {
        match was_excluded {
            true => self.pick(
                "Done: Steward records your messages in this community again.",
                "已设置：Steward 重新记录你在本社区的消息。",
            ),
            false => self.pick(
                "Steward already records your messages here; nothing changed.",
                "Steward 已经在记录你在这里的消息，无需更改。",
            ),
        }
    }

    /// `privacy channel off|on`; `changed` false: it already was so.
    pub fn channel_recording(&self, recorded: bool, changed: bool, channel: &ChannelId) -> String {
        match (recorded, changed, self.language) {
            (false, true, Language::English) => format!(
                "Done: Steward no longer records messages in this channel ({channel}): they are \
                 not stored, indexed or reviewed by the model (anti-spam rules still apply). \
                 What was stored before stays; retention and deletions still apply to it."
            ),
            (false, false, Language::English) => {
                format!("Recording is already off in this channel ({channel}).")
            }
            (true, true, Language::English) => {
                format!("Done: Steward records messages in this channel ({channel}) again.")
            }
            (true, false, Language::English) => {
                format!("Recording is already on in this channel ({channel}).")
            }
            (false, true, Language::Chinese) => format!(
                "已设置：Steward 不再记录本频道（{channel}）的消息：不保存、不索引、不交给模型审核\
                 （反垃圾规则仍然适用）。之前保存的内容会保留，保留期限和删除仍然适用。"
            ),
            (false, false, Language::Chinese) => format!("本频道（{channel}）已经关闭记录。"),
            (true, true, Language::Chinese) => {
                format!("已设置：Steward 重新记录本频道（{channel}）的消息。")
            }
            (true, false, Language::Chinese) => format!("本频道（{channel}）已经在记录。"),
        }
    }

    /// `forget-me` (or a moderator's `privacy forget <user>`) without `confirm`: what will be
    /// deleted, and how to confirm. `user` is `None` when members ask for themselves.
    pub fn forget_explained(
        &self,
        user: Option<&UserId>,
        messages: usize,
        retain_cases_days: u32,
        confirm: &str,
        minutes: u64,
    ) -> String {
        match (user, self.language) {
            (None, Language::English) => format!(
                "This deletes everything Steward stores about you in this community: your \
                 {messages} stored messages and their edits, the conversations they are part \
                 of in its knowledge base (indexed again without them), your unanswered \
                 questions and 👍/👎 votes. Moderation cases about you stay while open and \
                 {retain_cases_days} days after they close. Afterwards Steward does not record \
                 you here (`privacy opt-in` ends that). Type `{confirm}` within {minutes} \
                 minutes to go ahead."
            ),
            (Some(user), Language::English) => format!(
                "This deletes everything Steward stores about {user} in this community: \
                 {messages} stored messages and their edits, the conversations they are part \
                 of in its knowledge base (indexed again without them), their unanswered \
                 questions and votes. Cases about them stay while open and \
                 {retain_cases_days} days after they close. Afterwards Steward does not record \
                 them here. Type `{confirm}` within {minutes} minutes to go ahead."
            ),
            (None, Language::Chinese) => format!(
                "这将删除 Steward 在本社区保存的关于你的全部内容：你的 {messages} 条消息及其编辑记录、\
                 知识库中包含这些消息的对话（去掉它们后重新索引）、你未获回答的问题和 👍/👎。\
                 与你有关的审核案例在未结案时以及结案后 {retain_cases_days} 天内保留。之后 Steward \
                 不再记录你在这里的消息（`privacy opt-in` 可恢复）。请在 {minutes} 分钟内输入 \
                 `{confirm}` 确认。"
            ),
            (Some(user), Language::Chinese) => format!(
                "这将删除 Steward 在本社区保存的关于 {user} 的全部内容：{messages} 条消息及其编辑记录、\
                 知识库中包含这些消息的对话（去掉它们后重新索引）、其未获回答的问题和投票。与其有关的\
                 案例在未结案时以及结案后 {retain_cases_days} 天内保留。之后 Steward 不再记录其消息。\
                 请在 {minutes} 分钟内输入 `{confirm}` 确认。"
            ),
        }
    }

    /// `confirm` without a request in the last few minutes.
    pub fn forget_nothing_to_confirm(&self, first: &str, minutes: u64) -> String {
        match self.language {
            Language::English => format!(
                "There is nothing to confirm: type `{first}` first, then confirm within \
                 {minutes} minutes. Nothing was deleted."
            ),
            Language::Chinese => format!(
                "没有需要确认的请求：请先输入 `{first}`，然后在 {minutes} 分钟内确认。未删除任何内容。"
            ),
        }
    }

    /// Forgetting is done: what was deleted and kept. `user` is `None` for oneself.
    pub fn forgotten(&self, user: Option<&UserId>, done: &Forgotten) -> String {
        let nothing = done == &Forgotten::default();
        let Forgotten {
            messages,
            gaps,
            votes,
            cases_deleted,
            cases_kept,
            documents,
        } = done;
        match (user, nothing, self.language) {
            (None, true, Language::English) => "Steward had nothing stored about you in this \
                community. It does not record you here from now on (`privacy opt-in` ends that)."
                .to_string(),
            (Some(user), true, Language::English) => format!(
                "Steward had nothing stored about {user} in this community. It does not record \
                 them here from now on."
            ),
            (None, false, Language::English) => format!(
                "Done: deleted {messages} messages, {documents} knowledge-base conversations \
                 (indexed again without you), {gaps} unanswered questions, {votes} votes and \
                 {cases_deleted} old cases. Kept: {cases_kept} cases still open or recently \
                 closed. Steward does not record you here from now on (`privacy opt-in` ends \
                 that)."
            ),
            (Some(user), false, Language::English) => format!(
                "Done: deleted {messages} messages of {user}, {documents} knowledge-base \
                 conversations (indexed again without them), {gaps} unanswered questions, \
                 {votes} votes and {cases_deleted} old cases. Kept: {cases_kept} cases still \
                 open or recently closed. Steward does not record them here from now on."
            ),
            (None, true, Language::Chinese) => "Steward 在本社区没有保存关于你的任何内容。从现在起\
                它不再记录你在这里的消息（`privacy opt-in` 可恢复）。"
                .to_string(),
            (Some(user), true, Language::Chinese) => format!(
                "Steward 在本社区没有保存关于 {user} 的任何内容。从现在起它不再记录其消息。"
            ),
            (None, false, Language::Chinese) => format!(
                "已删除：{messages} 条消息、{documents} 段知识库对话（去掉你的消息后重新索引）、\
                 {gaps} 个未获回答的问题、{votes} 个投票和 {cases_deleted} 个旧案例。保留：\
                 {cases_kept} 个未结案或刚结案的案例。从现在起 Steward 不再记录你在这里的消息\
                 （`privacy opt-in` 可恢复）。"
            ),
            (Some(user), false, Language::Chinese) => format!(
                "已删除 {user} 的 {messages} 条消息、{documents} 段知识库对话（重新索引）、{gaps} \
                 个未获回答的问题、{votes} 个投票和 {cases_deleted} 个旧案例。保留：{cases_kept} \
                 个未结案或刚结案的案例。从现在起 Steward 不再记录其消息。"
            ),
        }
    }

    /// `privacy forget <user>` names a moderator (or an owner) the invoker does not outrank.
    pub fn forget_not_below(&self, user: &UserId) -> String {
        match self.language {
            Language::English => format!(
                "{user} was last seen as a moderator or the owner: only someone above them can \
                 forget them (they can type `forget-me` themselves)."
            ),
            Language::Chinese => format!(
                "{user} 上次出现时是管理员或所有者：只有比其级别更高的人才能让 Steward 遗忘其数据\
                 （其本人可以输入 `forget-me`）。"
            ),
        }
    }

    /// `privacy forget <user>` with something that is neither an id nor a mention.
    pub fn forget_unknown_user(&self, given: &str) -> String {
        match self.language {
            Language::English => format!(
                "`{given}` is not a user id or a mention. Use the member's id (Discord: \
                 Copy User ID; Matrix: @name:server)."
            ),
            Language::Chinese => format!(
                "`{given}` 不是用户 ID 或提及。请使用成员的 ID（Discord：复制用户 ID；\
                 Matrix：@name:server）。"
            ),
        }
    }

    /// The reply in the channel to `privacy export`.
    pub fn export_sent(&self, empty: bool) -> &'static str {
        match empty {
            false => self.pick(
                "I sent you everything Steward stores about you in this community as a JSON \
                 file, in a private message.",
                "已通过私信把 Steward 在本社区保存的关于你的全部内容以 JSON 文件发给你。",
            ),
            true => self.pick(
                "Steward stores nothing about you in this community; I sent you the (empty) \
                 JSON file in a private message anyway.",
                "Steward 在本社区没有保存关于你的内容；仍已通过私信把（空的）JSON 文件发给你。",
            ),
        }
    }

    /// The private message that carries the export file.
    pub fn export_message(&self, community: &str, empty: bool) -> String {
        match (empty, self.language) {
            (false, Language::English) => format!(
                "Everything Steward stores about you in {community}: your messages (with their \
                 edits), unanswered questions, votes, and the cases and appeals about you."
            ),
            (true, Language::English) => format!(
                "Steward stores nothing about you in {community}: the lists in this file are \
                 empty."
            ),
            (false, Language::Chinese) => format!(
                "Steward 在 {community} 保存的关于你的全部内容：你的消息（含编辑记录）、未获回答的问题、\
                 投票，以及与你有关的案例和申诉。"
            ),
            (true, Language::Chinese) => {
                format!("Steward 在 {community} 没有保存关于你的内容：文件中的列表都是空的。")
            }
        }
    }

    /// A privacy command failed in the store; one transaction, so nothing was half-done.
    pub fn privacy_failed(&self) -> &'static str {
        self.pick(
            "Sorry, that did not work and nothing was changed; the error was logged. Please \
             try again later.",
            "抱歉，操作失败，未做任何更改；错误已记录。请稍后再试。",
        )
    }

    /// `setting retain_messages_days default`.
    pub fn retention_default(&self, configured: Option<u32>) -> String {
        match (configured, self.language) {
            (Some(days), Language::English) => {
                format!("Done: this community keeps message text for the configured {days} days.")
            }
            (None, Language::English) => "Done: this community keeps message text until its \
                author deletes it (the configured default)."
                .to_string(),
            (Some(days), Language::Chinese) => {
                format!("已设置：本社区按配置保留消息文本 {days} 天。")
            }
            (None, Language::Chinese) => {
                "已设置：本社区按默认配置保留消息文本，直到作者删除。".to_string()
            }
        }
    }

    /// `setting retain_messages_days <days>`.
    pub fn retention_changed(&self, days: u32) -> String {
        match self.language {
            Language::English => format!(
                "Done: message text older than {days} days is erased within the hour (the rows \
                 keep ids and times for statistics)."
            ),
            Language::Chinese => format!(
                "已设置：超过 {days} 天的消息文本会在一小时内清除（记录保留 ID 和时间用于统计）。"
            ),
        }
    }

    /// `setting retain_messages_days` with 0, a negative number or a word.
    pub fn retention_invalid(&self, value: &str, max: u32) -> String {
        match self.language {
            Language::English => format!(
                "`{value}` is not a valid retain_messages_days: use a whole number of days from \
                 1 to {max}, or `default` for the configured retention."
            ),
            Language::Chinese => format!(
                "`{value}` 不是有效的 retain_messages_days：请使用 1 到 {max} 之间的整数天数，\
                 或用 `default` 恢复配置的保留期限。"
            ),
        }
    }

    /// `setting retain_messages_days` longer than the configured retention.
    pub fn retention_longer(&self, value: &str, limit: u32) -> String {
        match self.language {
            Language::English => format!(
                "`{value}` days is longer than this Steward keeps message text ({limit} days): \
                 a community may only choose a shorter time."
            ),
            Language::Chinese => format!(
                "`{value}` 天超过了本 Steward 保留消息文本的期限（{limit} 天）：社区只能选择更短的期限。"
            ),
        }
    }
}
