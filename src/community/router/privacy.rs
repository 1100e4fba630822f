//! Members' data as the router sees it: whether an event's author (and channel) is recorded,
//! asked of the store once per event, and the `privacy` commands handed to
//! [`crate::features::privacy`].
//!
//! A store failure while asking counts as "not recorded": for a moment Steward stores less
//! than it could (and answers only direct questions), never something a member asked it not
//! to keep.

use std::sync::Arc;

use super::{reply, Router};
use crate::core::{Action, CommunityId, Location, MessageId, Platform, PrivacyCommand, UserId};
use crate::features::privacy::Privacy;
use crate::features::Context;

impl Router {
    /// The privacy feature (the retention loop of `steward run` and `steward console` runs
    /// with it).
    pub fn privacy(&self) -> &Arc<Privacy> {
        &self.features.privacy
    }

    /// Whether Steward records `author` at `location` (neither they nor the channel are
    /// excluded). A store failure counts as not recorded.
    pub(super) async fn recorded(&self, location: &Location, author: &UserId) -> bool {
        match self.store.is_recorded(location, author).await {
            Ok(recorded) => recorded,
            Err(error) => {
                tracing::error!(label = error.label(), %error, "store failed: ask whether a member is recorded; not recording");
                false
            }
        }
    }

    /// Whether Steward records `member` in `community` (events without a channel: a member
    /// joining). A store failure counts as not recorded.
    pub(super) async fn member_recorded(
        &self,
        platform: Platform,
        community: &CommunityId,
        member: &UserId,
    ) -> bool {
        match self
            .store
            .member_exclusion(platform, community, member)
            .await
        {
            Ok(exclusion) => exclusion.is_none(),
            Err(error) => {
                tracing::error!(label = error.label(), %error, "store failed: read a member's exclusion; not recording");
                false
            }
        }
    }

    /// `privacy ...` and `forget-me`: the answer goes to the invoker only (where the platform
    /// allows), an export's file privately.
    pub(super) async fn privacy_command(
        &self,
        ctx: &Context,
        command: PrivacyCommand,
        message: Option<MessageId>,
    ) -> Vec<Action> {
        let answer = self.features.privacy.command(ctx, command).await;
        let mut actions = vec![reply(ctx, message, answer.text, true)];
        actions.extend(answer.actions);
        actions
    }
}
