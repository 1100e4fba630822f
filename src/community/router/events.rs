//! Events that change what Steward knows and never get an answer (the setup notice aside): a
//! message deleted, a member joining, Steward added to a community, a thread marked solved, a
//! message pinned.

use std::time::SystemTime;

use super::{log_store_error, Router};
use crate::core::{
    Action, Author, Body, CommunityId, Location, MessageId, Platform, Reply, Role, UserId,
};
use crate::strings::Strings;

impl Router {
    /// Forgets the message and takes it out of the knowledge base at once (not queued: a
    /// deleted message must never be retrieved or cited).
    pub(super) async fn message_deleted(
        &self,
        location: Location,
        message: MessageId,
        at: SystemTime,
    ) -> Vec<Action> {
        let result = self
            .store
            .delete_message(location.platform, &message, at)
            .await;
        log_store_error("delete_message", result.map(|_| ()));
        self.features
            .conversations
            .deleted(location.platform, &message)
            .await;
        Vec::new()
    }

    /// Records a new member, unless they are not recorded there (`privacy`).
    pub(super) async fn member_joined(
        &self,
        platform: Platform,
        community: CommunityId,
        member: Author,
    ) -> Vec<Action> {
        if self.member_recorded(platform, &community, &member.id).await {
            log_store_error(
                "upsert_user",
                self.store.upsert_user(platform, &member).await,
            );
        }
        Vec::new()
    }

    /// Records the community and posts the setup notice.
    pub(super) async fn bot_added(
        &self,
        platform: Platform,
        community: CommunityId,
        community_name: String,
        added_by: Option<UserId>,
        notice_location: Option<Location>,
    ) -> Vec<Action> {
        let result = self
            .store
            .upsert_community(platform, &community, &community_name)
            .await;
        log_store_error("upsert_community", result);
        self.setup_notice(platform, added_by, notice_location)
    }

    /// A forum post's solved tag added or removed: its conversation is vouched for, or no
    /// longer.
    pub(super) async fn thread_solved(&self, location: Location, solved: bool) -> Vec<Action> {
        self.features
            .conversations
            .thread_solved(&location, solved)
            .await;
        Vec::new()
    }

    /// A pin stands for `kb mark`, which is for moderators only.
    pub(super) async fn message_pinned(
        &self,
        location: Location,
        message: MessageId,
        by: UserId,
        role: Role,
    ) -> Vec<Action> {
        if role.can_moderate() {
            self.features
                .conversations
                .pinned(&location, &message)
                .await;
        } else {
            tracing::debug!(%message, %by, "a member's pin vouches for nothing");
        }
        Vec::new()
    }

    /// The notice posted when Steward joins: in the notice channel, else privately to whoever
    /// added it.
    fn setup_notice(
        &self,
        platform: Platform,
        added_by: Option<UserId>,
        notice_location: Option<Location>,
    ) -> Vec<Action> {
        let strings = Strings::new(self.settings.language);
        let capabilities = self.capabilities(platform);
        let text = strings.setup_notice(&self.settings.bot_name, &capabilities.command_prefix);
        match (notice_location, added_by) {
            (Some(location), _) => vec![Action::Reply(Reply {
                location,
                in_reply_to: None,
                body: Body::Text(text),
                only_invoker: false,
            })],
            (None, Some(user)) => vec![Action::PrivateNotice {
                platform,
                user,
                text,
                attachment: None,
            }],
            (None, None) => Vec::new(),
        }
    }
}
