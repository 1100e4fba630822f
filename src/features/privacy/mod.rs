//! Members' data: the `privacy` commands and what runs behind them.
//!
//! - `privacy` ([`notice`]): what Steward stores in the community, for how long, and what the
//!   member can do about it.
//! - `privacy opt-out|opt-in` (the member, for themselves) and `privacy channel off|on`
//!   (moderators, the channel typed in): exclusions in the store. The router asks the store
//!   whether an event's author and channel are recorded before it records anything
//!   ([`crate::features::Context::recorded`]).
//! - `forget-me [confirm]` and `privacy forget <user> [confirm]` ([`forget`]): two steps, the
//!   second within [`CONFIRM_WITHIN`]; then one transaction per member in the store.
//! - `privacy export` ([`export`]): the member's data as a JSON file, privately.
//! - Retention ([`retention`]): message text older than the effective retention is purged at
//!   start and every hour.
//!
//! Who may forget whom: a member forgets only themselves; a moderator may forget a member
//! whose last seen role is below theirs (an owner may forget a moderator; a moderator may not
//! forget another moderator or the owner: they can type `forget-me` themselves), or
//! themselves. The stored data is always the community's where the command is typed.

pub mod export;
pub mod forget;
pub mod notice;
pub mod retention;

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::config::PrivacySettings;
use crate::core::{Action, PrivacyCommand, Role, UserId};
use crate::features::Context;
use crate::knowledge::conversations::ConversationIndex;
use crate::store::{ExclusionReason, Store, StoreError, Subject};

pub use forget::{Confirmations, CONFIRM_WITHIN};

/// What a privacy command answers: the reply to the invoker (only they see it where the
/// platform allows) and any further actions (the export's private message).
#[derive(Debug)]
pub struct Answer {
    pub text: String,
    pub actions: Vec<Action>,
}

impl Answer {
    fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            actions: Vec::new(),
        }
    }
}

/// The privacy feature: the store, the conversation index (forgetting and retention re-index
/// the conversations they change), the configured retention, and pending confirmations.
pub struct Privacy {
    store: Arc<Store>,
    index: Arc<ConversationIndex>,
    settings: PrivacySettings,
    confirmations: Confirmations,
}

impl Privacy {
    pub fn new(
        store: Arc<Store>,
        index: Arc<ConversationIndex>,
        settings: PrivacySettings,
    ) -> Self {
        Self {
            store,
            index,
            settings,
            confirmations: Confirmations::default(),
        }
    }

    /// The configured `[privacy]` settings.
    pub fn settings(&self) -> &PrivacySettings {
        &self.settings
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn index(&self) -> &Arc<ConversationIndex> {
        &self.index
    }

    /// Runs a privacy command; the router has checked that moderators' commands come from a
    /// moderator. A store failure is logged and answered as such (nothing was half-done: each
    /// change is one statement or one transaction).
    pub async fn command(&self, ctx: &Context, command: PrivacyCommand) -> Answer {
        match self.run(ctx, command).await {
            Ok(answer) => answer,
            Err(error) => {
                tracing::error!(label = error.label(), %error, "privacy command failed");
                Answer::text(ctx.strings.privacy_failed())
            }
        }
    }

    async fn run(&self, ctx: &Context, command: PrivacyCommand) -> Result<Answer, StoreError> {
        let strings = ctx.strings;
        let (platform, community) = (ctx.location.platform, &ctx.location.community);
        let now = SystemTime::now();
        Ok(match command {
            PrivacyCommand::Notice => Answer::text(notice::text(self, ctx).await?),
            PrivacyCommand::OptOut => {
                let member = Subject::Member(ctx.actor.clone());
                let new = self
                    .store
                    .exclude(platform, community, &member, ExclusionReason::OptOut, now)
                    .await?;
                Answer::text(strings.opted_out(new, ctx.prefix()))
            }
            PrivacyCommand::OptIn => {
                let member = Subject::Member(ctx.actor.clone());
                let was = self.store.include(platform, community, &member).await?;
                Answer::text(strings.opted_in(was))
            }
            PrivacyCommand::Channel { recorded } => {
                let channel = Subject::Channel(ctx.location.channel.clone());
                let changed = if recorded {
                    self.store.include(platform, community, &channel).await?
                } else {
                    let reason = ExclusionReason::Moderator;
                    self.store
                        .exclude(platform, community, &channel, reason, now)
                        .await?
                };
                let text = strings.channel_recording(recorded, changed, &ctx.location.channel);
                Answer::text(text)
            }
            PrivacyCommand::Export => export::command(&self.store, ctx).await?,
            PrivacyCommand::ForgetMe { confirm } => {
                let target = ctx.actor.clone();
                self.forget_request(ctx, target, None, confirm).await?
            }
            PrivacyCommand::Forget { user, confirm } => {
                let Some(target) = forget::member_id_of(&user) else {
                    return Ok(Answer::text(strings.forget_unknown_user(&user)));
                };
                if target != ctx.actor {
                    let role = self
                        .store
                        .member_role(platform, community, &target)
                        .await?
                        .unwrap_or(Role::Member);
                    if role >= ctx.role {
                        return Ok(Answer::text(strings.forget_not_below(&target)));
                    }
                }
                let typed = format!("privacy forget {user}");
                self.forget_request(ctx, target, Some(typed), confirm)
                    .await?
            }
        })
    }

    /// A step of forgetting `target` in the context's community: without `confirm`, say what
    /// will be deleted and wait for the confirmation; with it, forget if the same actor asked
    /// for the same target within [`CONFIRM_WITHIN`]. `typed` is the moderator's command
    /// (without the prefix), `None` for `forget-me`.
    async fn forget_request(
        &self,
        ctx: &Context,
        target: UserId,
        typed: Option<String>,
        confirm: bool,
    ) -> Result<Answer, StoreError> {
        let strings = ctx.strings;
        let (platform, community) = (ctx.location.platform, &ctx.location.community);
        let key = (platform, community.clone(), ctx.actor.clone());
        let first = match &typed {
            Some(typed) => format!("{}{typed}", ctx.prefix()),
            None => format!("{}forget-me", ctx.prefix()),
        };
        let about = typed.as_ref().map(|_| &target);
        let minutes = CONFIRM_WITHIN.as_secs() / 60;
        if !confirm {
            let messages = self
                .store
                .member_message_ids(platform, community, &target)
                .await?
                .len();
            self.confirmations.ask(key, target.clone(), Instant::now());
            let confirm = format!("{first} confirm");
            let days = self.settings.retain_cases_days;
            return Ok(Answer::text(
                strings.forget_explained(about, messages, days, &confirm, minutes),
            ));
        }
        if !self.confirmations.take(&key, &target, Instant::now()) {
            return Ok(Answer::text(
                strings.forget_nothing_to_confirm(&first, minutes),
            ));
        }
        let forgotten = forget::forget(
            &self.store,
            &self.index,
            (platform, community, &target),
            self.settings.retain_cases_days,
            SystemTime::now(),
        )
        .await?;
        tracing::info!(
            %platform,
            %community,
            by_moderator = typed.is_some(),
            messages = forgotten.messages,
            documents = forgotten.documents,
            cases_kept = forgotten.cases_kept,
            "a member was forgotten"
        );
        Ok(Answer::text(strings.forgotten(about, &forgotten)))
    }
}
