//! What Steward says about community conversations in the knowledge base (`kb mark`).

use super::Strings;
use crate::core::Language;

impl Strings {
    /// A moderator marked a conversation: it is in the knowledge base now.
    pub fn kb_marked(&self, messages: usize) -> String {
        match self.language {
            Language::English if messages == 1 => "Marked: this message is in the knowledge \
                 base now; answers can cite it, and it ranks above unmarked conversations."
                .to_string(),
            Language::English => format!(
                "Marked: this conversation ({messages} messages) is in the knowledge base now; \
                 answers can cite it, and it ranks above unmarked conversations."
            ),
            Language::Chinese => format!(
                "已标记：这段对话（{messages} 条消息）已加入知识库，回答可以引用它，\
                 且排在未标记的对话之前。"
            ),
        }
    }

    /// `kb mark` named nothing Steward recorded in this community.
    pub fn kb_mark_unknown(&self) -> &'static str {
        self.pick(
            "I have no record of that message in this community. Give a link to (or the id \
             of) a message posted while I was here.",
            "我在这个社区里没有这条消息的记录。请提供我在场时发布的消息的链接或 ID。",
        )
    }

    /// `kb mark` named a message in a channel excluded from the knowledge base.
    pub fn kb_mark_excluded(&self) -> &'static str {
        self.pick(
            "That message is in a channel excluded from the knowledge base ([knowledge] \
             exclude_channels in Steward's configuration).",
            "这条消息所在的频道已被排除在知识库之外（Steward 配置中的 [knowledge] exclude_channels）。",
        )
    }

    /// `kb mark` named a conversation with no members' messages left.
    pub fn kb_mark_empty(&self) -> &'static str {
        self.pick(
            "Nothing to add: that conversation has no members' messages left (they were \
             deleted, or bots wrote them).",
            "没有可加入的内容：这段对话已没有成员的消息（已删除，或由机器人发送）。",
        )
    }

    /// Marking failed on the database.
    pub fn kb_mark_failed(&self) -> &'static str {
        self.pick(
            "Sorry, I could not mark it: the database failed. Please try again.",
            "抱歉，标记失败：数据库出错。请再试一次。",
        )
    }
}
