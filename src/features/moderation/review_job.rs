//! The model's review as a durable background job. A report opens its case at once and queues
//! a review; with `model_review = "all"` every screened message queues one. The worker claims
//! the job, asks the model (at moderation priority), files the verdict and sends the follow-up
//! (the moderators' notice, a deletion the policy allows) through the outbox to the adapter.
//! A burst of reports waits in the job table instead of being dropped, and a restart resumes it.
//!
//! Jobs may run twice (a crash between the review and its completion): recording a review is
//! idempotent, and a message review first looks for the case it would open.
//!
//! The job has no event context: the community's settings (its moderation mode, moderators'
//! channel and own rules) are read from the store when the job runs.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::community_rules;
use super::log::CaseLog;
use super::opening::{model_reason, open_case, Subject, Venue};
use super::policy::{decide, Finding};
use super::review::{Reviewer, Verdict};
use crate::config::ModerationSettings;
use crate::core::settings::ModerationMode;
use crate::core::{
    Action, Automatic, ChannelId, CommunityId, Language, Location, Message, MessageId, Platform,
    Role, ThreadId, UserId,
};
use crate::features::{CommunitySettings, Context};
use crate::jobs::{JobError, JobHandler};
use crate::llm::LlmError;
use crate::outbox::Outbox;
use crate::store::{CaseReview, Job, NewJob, StoredMessage};
use crate::strings::Strings;

/// The job kind of reviews on `platform`, in the job table. Kinds are per platform because a
/// verdict is delivered through the adapter of the process that ran the review: a process
/// claims only the reviews of the platforms it serves (several processes may share one
/// database). Migration 0006 moved jobs of the former shared kind `moderation_review` here.
pub fn kind(platform: Platform) -> &'static str {
    match platform {
        Platform::Console => "moderation_review:console",
        Platform::Discord => "moderation_review:discord",
        Platform::Matrix => "moderation_review:matrix",
    }
}
/// How long a review waits before trying again when the model's queue is full.
const BUSY_RETRY: Duration = Duration::from_secs(2);

/// One queued review: what to review, and how to word the follow-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewJob {
    pub platform: String,
    pub community: String,
    pub channel: String,
    pub thread: Option<String>,
    pub message: String,
    pub author: String,
    pub text: String,
    /// The report's case, by its number in the community; `None`: a screened message with no
    /// case yet.
    #[serde(rename = "case_number", default)]
    pub case: Option<i64>,
    /// A report's case by its global id, as versions before per-community numbers queued it:
    /// such a job is not reviewed (it could name another case now), its case stays open.
    #[serde(rename = "case", default, skip_serializing)]
    pub legacy_case: Option<i64>,
    /// The community's language code and command prefix when the job was queued.
    pub language: String,
    pub prefix: String,
    /// The author moderates the community (as last seen): the verdict never removes their
    /// message automatically. Absent in jobs queued by older versions.
    #[serde(default)]
    pub author_moderates: bool,
}

impl ReviewJob {
    /// The role the policy weighs: moderators' messages are decided by people.
    fn author_role(&self) -> Role {
        if self.author_moderates {
            Role::Moderator
        } else {
            Role::Member
        }
    }

    /// The review of a reported message whose case `case` is open.
    pub fn of_report(ctx: &Context, message: &StoredMessage, case: i64, author_role: Role) -> Self {
        Self {
            author_moderates: author_role.can_moderate(),
            ..Self::new(
                ctx,
                &message.location,
                &message.id,
                &message.author,
                &message.text,
                Some(case),
            )
        }
    }

    /// The review of a member's message (`model_review = "all"`).
    pub fn of_message(ctx: &Context, message: &Message, case: Option<i64>) -> Self {
        let (location, author) = (&message.location, &message.author.id);
        Self::new(ctx, location, &message.id, author, &message.text, case)
    }

    fn new(
        ctx: &Context,
        location: &Location,
        message: &MessageId,
        author: &UserId,
        text: &str,
        case: Option<i64>,
    ) -> Self {
        Self {
            platform: location.platform.as_str().to_string(),
            community: location.community.to_string(),
            channel: location.channel.to_string(),
            thread: location.thread.as_ref().map(ToString::to_string),
            message: message.to_string(),
            author: author.to_string(),
            text: text.to_string(),
            case,
            legacy_case: None,
            language: ctx.language.code().to_string(),
            prefix: ctx.prefix().to_string(),
            author_moderates: false,
        }
    }

    /// The job for the table; one pending review per case (or per message).
    pub fn to_job(&self) -> NewJob {
        let dedup = match self.case {
            Some(case) => format!("case:{}:{}:{case}", self.platform, self.community),
            None => format!("message:{}:{}", self.platform, self.message),
        };
        let payload = serde_json::to_string(self).expect("a review job serializes");
        // An unknown platform cannot come from an event; its job goes to the console's kind,
        // where the worker fails it with a clear error instead of leaving it unclaimed.
        let platform = Platform::parse(&self.platform).unwrap_or(Platform::Console);
        NewJob::new(kind(platform), payload).with_dedup_key(dedup)
    }

    fn location(&self) -> Result<Location, JobError> {
        let platform = Platform::parse(&self.platform)
            .ok_or_else(|| JobError::fatal(format!("unknown platform {:?}", self.platform)))?;
        Ok(Location {
            platform,
            community: CommunityId::new(&self.community),
            channel: ChannelId::new(&self.channel),
            thread: self.thread.as_deref().map(ThreadId::new),
        })
    }

    fn strings(&self) -> Strings {
        Strings::new(Language::from_code(&self.language).unwrap_or(Language::English))
    }
}

/// Works review jobs.
pub struct ReviewJobs {
    reviewer: Reviewer,
    store: Arc<dyn CaseLog>,
    outbox: Arc<Outbox>,
    settings: ModerationSettings,
}

impl ReviewJobs {
    pub fn new(
        reviewer: Reviewer,
        store: Arc<dyn CaseLog>,
        outbox: Arc<Outbox>,
        settings: ModerationSettings,
    ) -> Self {
        Self {
            reviewer,
            store,
            outbox,
            settings,
        }
    }

    /// The community's venue, from its stored settings (the job has no event context).
    async fn venue(&self, job: &ReviewJob, location: &Location) -> Result<Venue, JobError> {
        let values = self
            .store
            .settings(location.platform, &location.community)
            .await
            .map_err(|error| JobError::retry(error.to_string()))?;
        Ok(Venue::from_settings(
            job.strings(),
            &job.prefix,
            &CommunitySettings::new(values),
            self.settings.default_mode(),
        ))
    }

    /// The verdict on a reported message: filed on its case; the policy may delete it (with
    /// `model_may_delete`) while the case is open, and in a dry run the moderators hear that
    /// it would have been; the moderators hear of it either way.
    async fn report_reviewed(
        &self,
        job: &ReviewJob,
        number: i64,
        location: &Location,
        (verdict, rule): (Verdict, Option<u32>),
        venue: &Venue,
    ) -> Result<Vec<Action>, JobError> {
        let store_failed = |error: crate::store::StoreError| JobError::retry(error.to_string());
        let community = &location.community;
        let Some(case) = self
            .store
            .case(location.platform, community, number)
            .await
            .map_err(store_failed)?
        else {
            return Err(JobError::fatal(format!("case #{number} no longer exists")));
        };
        let finding = Finding::Report {
            verdict: Some(verdict),
        };
        let decision = decide(&finding, job.author_role(), &self.settings);
        let allowed = decision.delete
            && case.is_open()
            && !case.automatic.deleted()
            && case.message.is_some();
        let delete = allowed && venue.mode == ModerationMode::On;
        let would_delete = allowed && venue.mode == ModerationMode::DryRun;
        let cited = rule.and_then(|rule| community_rules::cited(rule, &venue.rules));
        let review = CaseReview {
            category: verdict.flags().then(|| verdict.category.case_category()),
            severity: verdict.severity.as_str().to_string(),
            reason: model_reason(&verdict),
            automatic: delete.then_some(Automatic::Deleted),
            rule_index: cited.map(|(rule, _)| rule),
        };
        let recorded = self
            .store
            .record_case_review(
                location.platform,
                community,
                number,
                &review,
                SystemTime::now(),
            )
            .await
            .map_err(store_failed)?;
        if !recorded {
            return Ok(Vec::new()); // Reviewed before (the job ran twice).
        }
        let strings = venue.strings;
        let mut actions = Vec::new();
        if let (true, Some(message)) = (delete, case.message.clone()) {
            actions.push(Action::DeleteMessage {
                location: case.location.clone(),
                message,
                reason: format!("case #{number}: {}", review.reason),
                decided_by: None,
            });
            actions.push(Action::PrivateNotice {
                platform: location.platform,
                user: case.user.clone(),
                text: strings.member_notice_automatic(
                    number,
                    Automatic::Deleted,
                    None,
                    &venue.prefix,
                ),
                attachment: None,
            });
        }
        let text = strings.case_reviewed(
            number,
            (
                verdict.category.as_str(),
                verdict.severity.as_str(),
                verdict.flags(),
            ),
            cited,
            (delete, would_delete),
            &venue.prefix,
        );
        actions.push(venue.mod_log_post(location, Some(number), text));
        Ok(actions)
    }

    /// The verdict on a screened message: a flag opens a case as a rule hit would.
    async fn message_reviewed(
        &self,
        job: &ReviewJob,
        location: &Location,
        (verdict, rule): (Verdict, Option<u32>),
        venue: &Venue,
    ) -> Result<Vec<Action>, JobError> {
        if venue.mode == ModerationMode::Off {
            return Ok(Vec::new()); // Turned off since the message was queued.
        }
        let finding = Finding::Model(verdict);
        let decision = decide(&finding, job.author_role(), &self.settings);
        if !decision.open_case {
            return Ok(Vec::new());
        }
        let message = MessageId::new(&job.message);
        let existing = self
            .store
            .open_case_for_message(location.platform, &location.community, &message)
            .await
            .map_err(|error| JobError::retry(error.to_string()))?;
        if existing.is_some() {
            return Ok(Vec::new()); // Opened before (the job ran twice) or reported meanwhile.
        }
        let author = UserId::new(&job.author);
        let subject = Subject {
            location,
            message: Some(&message),
            author: &author,
            text: &job.text,
        };
        let store = self.store.as_ref();
        let (_, actions) = open_case(store, venue, &subject, &finding, decision, None, rule).await;
        Ok(actions)
    }
}

#[async_trait]
impl JobHandler for ReviewJobs {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        let review: ReviewJob = serde_json::from_str(&job.payload)
            .map_err(|error| JobError::fatal(format!("unreadable review job: {error}")))?;
        if let (None, Some(id)) = (review.case, review.legacy_case) {
            return Err(JobError::fatal(format!(
                "the review of case id {id} was queued before cases were numbered per \
                 community; the case stays open for the moderators"
            )));
        }
        let location = review.location()?;
        let venue = self.venue(&review, &location).await?;
        let rules = &venue.rules;
        let reviewed = self
            .reviewer
            .review_with_rules(&review.community, rules, &review.text)
            .await;
        let verdict = match reviewed {
            Ok(verdict) => verdict,
            Err(LlmError::Overloaded { .. }) => {
                return Err(JobError::retry_after("the model is busy", BUSY_RETRY))
            }
            // The same text gives the same output with greedy decoding: trying again is futile.
            Err(error @ (LlmError::BadStructuredOutput(_) | LlmError::InvalidRequest(_))) => {
                return Err(JobError::fatal(error.to_string()))
            }
            Err(error) => return Err(JobError::retry(error.to_string())),
        };
        tracing::debug!(?verdict, case = review.case, "model review");
        let actions = match review.case {
            Some(number) => {
                self.report_reviewed(&review, number, &location, verdict, &venue)
                    .await?
            }
            None => {
                self.message_reviewed(&review, &location, verdict, &venue)
                    .await?
            }
        };
        for action in actions {
            self.outbox.deliver(action).await;
        }
        Ok(())
    }
}
