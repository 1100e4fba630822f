//! Feedback on Steward's answers as the router sees it: which user Steward is on each platform
//! (each adapter registers it once logged in), and 👍/👎 reactions handed to
//! [`crate::features::feedback`] with that user; and every reaction counted per message for
//! community insights. A failure is logged; reactions never answer.

use std::time::SystemTime;

use super::Router;
use crate::core::{Platform, Reaction, UserId};
use crate::features::feedback::{self, Outcome};

impl Router {
    /// Registers Steward's own user on `platform` (replacing an earlier one): its messages are
    /// the answers members vote on, and its own reactions and edits are not members'.
    pub fn register_self(&self, platform: Platform, user: UserId) {
        let mut own = self
            .own_users
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        own.insert(platform, user);
    }

    /// Steward's own user on `platform`, once its adapter registered it.
    pub fn own_user(&self, platform: Platform) -> Option<UserId> {
        let own = self
            .own_users
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        own.get(&platform).cloned()
    }

    /// Whether `user` is Steward itself on `platform`.
    pub(super) fn is_self(&self, platform: Platform, user: &UserId) -> bool {
        self.own_user(platform).as_ref() == Some(user)
    }

    /// Records (or, `added` false, removes) a member's vote if `reaction` is a 👍/👎 on one of
    /// Steward's messages; anything else is left alone.
    pub(super) async fn feedback_reaction(&self, reaction: &Reaction, added: bool) {
        if feedback::vote_value(&reaction.emoji).is_none() {
            return;
        }
        let own = self.own_user(reaction.location.platform);
        let outcome = feedback::reaction(
            &self.store,
            own.as_ref(),
            reaction,
            added,
            SystemTime::now(),
        )
        .await;
        match outcome {
            Ok(Outcome::SelfUnknown) => tracing::warn!(
                platform = %reaction.location.platform,
                "a vote on an answer was ignored: the adapter has not registered Steward's user"
            ),
            Ok(outcome) => tracing::debug!(
                message = %reaction.message,
                ?outcome,
                "reaction on a message as feedback"
            ),
            Err(error) => {
                tracing::error!(label = error.label(), %error, "store failed: record a vote on an answer");
            }
        }
    }

    /// Counts `reaction` on its message (`added` false: one taken back) for community insights:
    /// how many, never who. Steward's own reactions are not the community's; a member Steward
    /// does not record is left out both ways, so taking a reaction back never lowers a count
    /// it did not raise. Only recorded messages are counted (the store ignores the others).
    pub(super) async fn count_reaction(&self, reaction: &Reaction, added: bool) {
        let platform = reaction.location.platform;
        if self.is_self(platform, &reaction.user)
            || !self.recorded(&reaction.location, &reaction.user).await
        {
            return;
        }
        let counted = self
            .store
            .count_reaction(platform, &reaction.message, &reaction.emoji, added)
            .await;
        super::log_store_error("count_reaction", counted);
    }
}
