//! Moderation: rules on every member's message, the model's review of reported (or all)
//! messages, a case log in the store, and moderators' decisions on cases.
//!
//! Findings go through [`policy::decide`], which alone chooses automatic actions; the model
//! only ever contributes a label. Kicks and bans happen only when a moderator decides a case.

pub mod cases;
pub mod policy;
pub mod review;
pub mod rules;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::config::{ModelReview, ModerationSettings};
use crate::core::{Action, Location, Message, MessageId, Reaction, Role, UserId};
use crate::llm::Engine;
use crate::prompts::Prompts;
use crate::store::{NewCase, Store};
use crate::strings::Strings;

use policy::{decide, Decision, Finding};
use review::{Reviewer, Verdict};
use rules::{RuleHit, Rules};

/// The per-community setting that turns automatic moderation on or off.
pub const SETTING: &str = "moderation";

/// Characters of a message kept in its case (the message itself stays in the store).
const EXCERPT_CHARS: usize = 200;

/// What screening a message decided.
#[derive(Debug, Default)]
pub struct Screened {
    pub actions: Vec<Action>,
    /// The message was deleted or its author timed out: do not answer it.
    pub removed: bool,
}

/// What a finding is about: one message by one member.
struct Subject<'a> {
    location: &'a Location,
    message: &'a MessageId,
    author: &'a UserId,
    text: &'a str,
}

/// The moderation feature.
pub struct Moderation {
    settings: ModerationSettings,
    rules: Rules,
    reviewer: Reviewer,
    store: Arc<Store>,
}

impl Moderation {
    pub fn new(
        settings: ModerationSettings,
        store: Arc<Store>,
        engine: Arc<dyn Engine>,
        prompts: Arc<Prompts>,
        review_timeout: Duration,
    ) -> Self {
        Self {
            rules: Rules::new(&settings),
            reviewer: Reviewer::new(engine, prompts, review_timeout),
            settings,
            store,
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

    /// Whether automatic moderation runs in the community of `location`: its `moderation`
    /// setting (`on`/`off`), else the configuration.
    async fn enabled_in(&self, location: &Location) -> bool {
        let stored = self
            .store
            .setting(location.platform, &location.community, SETTING)
            .await;
        match stored {
            Ok(Some(value)) => value == "on",
            Ok(None) => self.settings.enabled,
            Err(error) => {
                tracing::warn!(label = error.label(), %error, "reading the moderation setting failed");
                self.settings.enabled
            }
        }
    }

    /// Screens a member's message: rules first, then (with `model_review = "all"`) the model.
    pub async fn screen(&self, message: &Message, strings: Strings, prefix: &str) -> Screened {
        if message.author.is_bot || message.author.role.can_moderate() {
            return Screened::default();
        }
        if !self.enabled_in(&message.location).await {
            return Screened::default();
        }
        let finding = match self.rules.check(message) {
            Some(hit) => Finding::Rule(hit),
            None if self.settings.model_review == ModelReview::All => {
                match self.review(&message.location, &message.text).await {
                    Some(verdict) => Finding::Model(verdict),
                    None => return Screened::default(),
                }
            }
            None => return Screened::default(),
        };
        let decision = decide(&finding, message.author.role, &self.settings);
        let subject = Subject {
            location: &message.location,
            message: &message.id,
            author: &message.author.id,
            text: &message.text,
        };
        Screened {
            removed: decision.delete || decision.timeout.is_some(),
            actions: self
                .act(&subject, &finding, decision, None, strings, prefix)
                .await,
        }
    }

    /// A member reacted to a message: a report reaction opens a case (one per message).
    pub async fn reaction(
        &self,
        reaction: &Reaction,
        strings: Strings,
        prefix: &str,
    ) -> Vec<Action> {
        if !self.settings.report_emoji.contains(&reaction.emoji)
            || !self.enabled_in(&reaction.location).await
        {
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
        let verdict = match self.settings.model_review {
            ModelReview::Off => None,
            ModelReview::Reported | ModelReview::All => self.review(location, &stored.text).await,
        };
        let finding = Finding::Report { verdict };
        // The store does not know roles; reports about moderators are decided by others.
        let decision = decide(&finding, Role::Member, &self.settings);
        let subject = Subject {
            location: &stored.location,
            message: &stored.id,
            author: &stored.author,
            text: &stored.text,
        };
        self.act(
            &subject,
            &finding,
            decision,
            Some(&reaction.user),
            strings,
            prefix,
        )
        .await
    }

    async fn review(&self, location: &Location, text: &str) -> Option<Verdict> {
        match self
            .reviewer
            .review(location.community.as_str(), text)
            .await
        {
            Ok(verdict) => {
                tracing::debug!(?verdict, "model review");
                Some(verdict)
            }
            Err(error) => {
                tracing::warn!(label = error.label(), %error, "the model's review failed");
                None
            }
        }
    }

    /// Opens the case and returns the automatic actions and the moderators' notice.
    async fn act(
        &self,
        subject: &Subject<'_>,
        finding: &Finding,
        decision: Decision,
        reporter: Option<&UserId>,
        strings: Strings,
        prefix: &str,
    ) -> Vec<Action> {
        if !decision.open_case {
            return Vec::new();
        }
        let reason = reason(finding, reporter);
        let new_case = NewCase {
            location: subject.location.clone(),
            message: Some(subject.message.clone()),
            user: subject.author.clone(),
            excerpt: subject.text.chars().take(EXCERPT_CHARS).collect(),
            source: finding.source().to_string(),
            category: category(finding).to_string(),
            reason: reason.clone(),
            automatic: decision.automatic().to_string(),
        };
        let id = match self.store.open_case(&new_case, SystemTime::now()).await {
            Ok(id) => Some(id),
            Err(error) => {
                // Act anyway: the message itself stays in the store as evidence.
                tracing::error!(label = error.label(), %error, "opening a moderation case failed");
                None
            }
        };
        tracing::info!(
            case = id,
            source = new_case.source,
            category = new_case.category,
            automatic = new_case.automatic,
            "moderation case opened"
        );
        let location = subject.location;
        let mut actions = Vec::new();
        if decision.delete {
            actions.push(Action::DeleteMessage {
                location: location.clone(),
                message: subject.message.clone(),
                reason: reason.clone(),
            });
        }
        if let Some(duration) = decision.timeout {
            actions.push(Action::TimeoutMember {
                platform: location.platform,
                community: location.community.clone(),
                user: subject.author.clone(),
                duration,
                reason: reason.clone(),
            });
        }
        actions.push(Action::PostToModLog {
            platform: location.platform,
            community: location.community.clone(),
            text: strings.case_opened(id, &new_case, prefix),
        });
        actions
    }
}

/// The case's category: the rule's, or the model's label, or `reported`.
fn category(finding: &Finding) -> &'static str {
    match finding {
        Finding::Rule(hit) => hit.category(),
        Finding::Model(verdict) => verdict.category.as_str(),
        Finding::Report {
            verdict: Some(verdict),
        } if verdict.flags() => verdict.category.as_str(),
        Finding::Report { .. } => "reported",
    }
}

/// Why, in words for the case log and the platform's audit log.
fn reason(finding: &Finding, reporter: Option<&UserId>) -> String {
    let model = |verdict: &Verdict| {
        format!(
            "the model labelled it {} ({})",
            verdict.category.as_str(),
            verdict.severity.as_str()
        )
    };
    match finding {
        Finding::Rule(RuleHit::Blocked { pattern }) => {
            format!("matched the blocked pattern `{pattern}`")
        }
        Finding::Rule(RuleHit::Flood { messages, window }) => format!(
            "more than {messages} messages within {} s",
            window.as_secs()
        ),
        Finding::Rule(RuleHit::Mentions { count, max }) => {
            format!("{count} mentions in one message (limit {max})")
        }
        Finding::Rule(RuleHit::Links { count, max }) => {
            format!("{count} links in one message (limit {max})")
        }
        Finding::Model(verdict) => model(verdict),
        Finding::Report { verdict } => {
            let by = reporter.map_or_else(|| "a member".to_string(), |user| user.to_string());
            match verdict {
                Some(verdict) => format!("reported by {by}; {}", model(verdict)),
                None => format!("reported by {by}"),
            }
        }
    }
}
