//! Moderation: rules on every member's message, the model's review of reported (or all)
//! messages, a case log in the store, and moderators' decisions on cases.
//!
//! Findings go through [`policy::decide`], which alone chooses automatic actions; the model
//! only ever contributes a label. Kicks and bans happen only when a moderator decides a case.

pub mod appeals;
mod assessment;
pub mod cases;
pub mod community_rules;
pub mod log;
#[cfg(test)]
mod memory;
mod opening;
pub mod policy;
pub mod review;
pub mod review_job;
pub mod rules;
pub mod screen;

use std::sync::Arc;

use crate::config::{ModelReview, ModerationSettings};
use crate::core::{Action, Author, Message, MessageId, Reaction, Role};
use crate::features::Context;
use crate::jobs::Worker;

use log::CaseLog;
use opening::{open_case, Subject, Venue};
use policy::{decide, Decision, Finding};
use review_job::ReviewJob;
use rules::Rules;

/// What screening a message decided.
#[derive(Debug, Default)]
pub struct Screened {
    pub actions: Vec<Action>,
    /// The message was deleted or its author timed out: do not answer it.
    pub removed: bool,
}

/// The moderation feature.
pub struct Moderation {
    settings: ModerationSettings,
    rules: Rules,
    store: Arc<dyn CaseLog>,
    /// Where the model's reviews are queued (durable jobs, worked in the background): one
    /// worker per platform this process serves; empty when `model_review = "off"`.
    reviews: Vec<Arc<Worker>>,
}

impl Moderation {
    pub fn new(
        settings: ModerationSettings,
        store: Arc<dyn CaseLog>,
        reviews: Vec<Arc<Worker>>,
    ) -> Self {
        Self {
            rules: Rules::new(&settings),
            settings,
            store,
            reviews,
        }
    }

    /// Queues the model's review of a message; nothing waits for it. A store failure is
    /// logged: the case (if any) is already open and moderators see it.
    async fn queue_review(&self, job: ReviewJob) {
        if self.reviews.is_empty() {
            return;
        }
        let new_job = job.to_job();
        let Some(worker) = self
            .reviews
            .iter()
            .find(|worker| worker.settings().kind == new_job.kind)
        else {
            // Events come only from the platforms this process serves, each with its worker.
            tracing::error!(kind = %new_job.kind, "no review worker for this platform");
            return;
        };
        if let Err(error) = worker.enqueue(&new_job).await {
            tracing::error!(label = error.label(), %error, "queueing a model review failed");
        }
    }

    /// The reaction that reports a message, if reports are on.
    pub fn report_emoji(&self) -> Option<&str> {
        self.settings
            .report_emoji
            .first()
            .map(String::as_str)
            .filter(|_| self.settings.enabled)
    }

    /// Whether `emoji` reports a message (the router counts reports against a quota).
    pub fn is_report(&self, emoji: &str) -> bool {
        self.settings.report_emoji.iter().any(|e| e == emoji)
    }

    /// How automatic moderation runs in the context's community: its `moderation` setting,
    /// else the configuration (`new_communities`; off when disabled).
    pub fn mode_in(&self, ctx: &Context) -> crate::core::settings::ModerationMode {
        ctx.settings.moderation_mode(self.settings.default_mode())
    }

    /// Whether automatic moderation acts for real (not off, not a dry run).
    fn acts_in(&self, ctx: &Context) -> bool {
        self.mode_in(ctx) == crate::core::settings::ModerationMode::On
    }

    /// Whether automatic moderation runs (for real or as a dry run) in the context's community.
    fn enabled_in(&self, ctx: &Context) -> bool {
        self.mode_in(ctx) != crate::core::settings::ModerationMode::Off
    }

    /// Screens a member's message: rules first, then (with `model_review = "all"`) the model,
    /// except for a message Steward does not record (`ctx.recorded` false: its author opted
    /// out or its channel is off): the model never sees those, the rules still screen them.
    pub async fn screen(&self, ctx: &Context, message: &Message) -> Screened {
        if message.author.is_bot || message.author.role.can_moderate() || !self.enabled_in(ctx) {
            return Screened::default();
        }
        let finding = match self.rules.check(message) {
            Some(hit) => Finding::Rule(hit),
            None => {
                if self.settings.model_review == ModelReview::All && ctx.recorded {
                    // The review runs in the background; a flagged message opens its case then.
                    let job = ReviewJob::of_message(ctx, message, None);
                    self.queue_review(job).await;
                }
                return Screened::default();
            }
        };
        let decision = decide(&finding, message.author.role, &self.settings);
        let subject = Subject {
            location: &message.location,
            message: Some(&message.id),
            author: &message.author.id,
            text: &message.text,
        };
        let (_, actions) = self.act(ctx, &subject, &finding, decision, None).await;
        Screened {
            // In a dry run nothing was removed: the message is handled as usual.
            removed: self.acts_in(ctx) && (decision.delete || decision.timeout.is_some()),
            actions,
        }
    }

    /// A command counts toward the flood rule like a message, and the text a member wrote
    /// into it (`text`: a question, an appeal) is screened by the same rules as a message.
    /// `removed`: the command is not run (the first time a member floods, a case opens and
    /// they are timed out as for messages).
    pub async fn screen_command(
        &self,
        ctx: &Context,
        invoker: &Author,
        text: Option<&str>,
        message: Option<&MessageId>,
    ) -> Screened {
        if invoker.is_bot || invoker.role.can_moderate() || !self.enabled_in(ctx) {
            return Screened::default();
        }
        if let Some(hit) = text.and_then(|text| self.rules.check_text(text)) {
            let finding = Finding::Rule(hit);
            let mut decision = decide(&finding, invoker.role, &self.settings);
            // A slash command has no message to delete; a text command (Matrix) has one.
            decision.delete &= message.is_some();
            let subject = Subject {
                location: &ctx.location,
                message,
                author: &invoker.id,
                text: text.unwrap_or_default(),
            };
            let (_, actions) = self.act(ctx, &subject, &finding, decision, None).await;
            return Screened {
                actions,
                removed: self.acts_in(ctx),
            };
        }
        match self.rules.check_command(&ctx.location, &invoker.id) {
            rules::Flooding::No => Screened::default(),
            rules::Flooding::Again => Screened {
                actions: Vec::new(),
                removed: self.acts_in(ctx),
            },
            rules::Flooding::New(hit) => {
                let finding = Finding::Rule(hit);
                let mut decision = decide(&finding, invoker.role, &self.settings);
                // A command has no message of its own to delete.
                decision.delete = false;
                let subject = Subject {
                    location: &ctx.location,
                    message: None,
                    author: &invoker.id,
                    text: "",
                };
                let (_, actions) = self.act(ctx, &subject, &finding, decision, None).await;
                Screened {
                    actions,
                    removed: self.acts_in(ctx),
                }
            }
        }
    }

    /// A member reacted with a report emoji: opens a case (one per message). The reported
    /// author's role as last seen weighs in: a moderator's message is never removed
    /// automatically (an author never seen counts as a member).
    pub async fn reaction(&self, ctx: &Context, reaction: &Reaction) -> Vec<Action> {
        if !self.is_report(&reaction.emoji) || !self.enabled_in(ctx) {
            return Vec::new();
        }
        let location = &reaction.location;
        let stored = match self
            .store
            .message(location.platform, &reaction.message)
            .await
        {
            Ok(Some(stored)) if !stored.is_deleted() => stored,
            Ok(_) => {
                tracing::info!(message = %reaction.message, "a report about a message Steward has not seen (or deleted) was ignored");
                return Vec::new();
            }
            Err(error) => {
                tracing::error!(label = error.label(), %error, "reading a reported message failed");
                return Vec::new();
            }
        };
        let author_role = match self
            .store
            .member_role(
                location.platform,
                &stored.location.community,
                &stored.author,
            )
            .await
        {
            Ok(role) => role.unwrap_or(Role::Member),
            Err(error) => {
                tracing::error!(label = error.label(), %error, "reading the reported author's role failed");
                Role::Member
            }
        };
        let existing = self
            .store
            .open_case_for_message(location.platform, &location.community, &reaction.message)
            .await;
        match existing {
            Ok(None) => {}
            Ok(Some(case)) => {
                tracing::info!(
                    case = case.id,
                    "a message with an open case was reported again"
                );
                return Vec::new();
            }
            Err(error) => {
                tracing::error!(label = error.label(), %error, "looking up a reported message's case failed");
                return Vec::new();
            }
        }
        // The case opens now; the model's review follows from the background.
        let finding = Finding::Report { verdict: None };
        let decision = decide(&finding, author_role, &self.settings);
        let subject = Subject {
            location: &stored.location,
            message: Some(&stored.id),
            author: &stored.author,
            text: &stored.text,
        };
        let (case, actions) = self
            .act(ctx, &subject, &finding, decision, Some(&reaction.user))
            .await;
        if let (Some(case), true) = (case, self.settings.model_review != ModelReview::Off) {
            let job = ReviewJob::of_report(ctx, &stored, case, author_role);
            self.queue_review(job).await;
        }
        actions
    }

    /// Opens the case with the context's wording.
    async fn act(
        &self,
        ctx: &Context,
        subject: &Subject<'_>,
        finding: &Finding,
        decision: Decision,
        reporter: Option<&crate::core::UserId>,
    ) -> (Option<i64>, Vec<Action>) {
        // The community's mode decides whether the decision acts or is only logged (dry run).
        let venue = Venue::of(ctx, self.settings.default_mode());
        let store = self.store.as_ref();
        open_case(store, &venue, subject, finding, decision, reporter, None).await
    }
}
