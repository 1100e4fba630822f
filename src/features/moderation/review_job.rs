//! The model's review as a durable background job. A report opens its case at once and queues
//! a review; with `model_review = "all"` every screened message queues one. The worker claims
//! the job, asks the model (at moderation priority), files the verdict and sends the follow-up
//! (the moderators' notice, a deletion the policy allows) through the outbox to the adapter.
//! A burst of reports waits in the job table instead of being dropped, and a restart resumes it.
//!
//! Jobs may run twice (a crash between the review and its completion): recording a review is
//! idempotent, and a message review first looks for the case it would open.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::log::CaseLog;
use super::opening::{model_reason, open_case, Subject};
use super::policy::{decide, Finding};
use super::review::{Reviewer, Verdict};
use crate::config::ModerationSettings;
use crate::core::{
    Action, Automatic, ChannelId, CommunityId, Language, Location, Message, MessageId, Platform,
    Role, ThreadId, UserId,
};
use crate::features::Context;
use crate::jobs::{JobError, JobHandler};
use crate::llm::LlmError;
use crate::outbox::Outbox;
use crate::store::{CaseReview, Job, NewJob, StoredMessage};
use crate::strings::Strings;

/// The job kind in the job table.
pub const KIND: &str = "moderation_review";
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
    /// The report's case; `None`: a screened message with no case yet.
    pub case: Option<i64>,
    /// The community's language code and command prefix when the job was queued.
    pub language: String,
    pub prefix: String,
}

impl ReviewJob {
    /// The review of a reported message whose case `case` is open.
    pub fn of_report(ctx: &Context, message: &StoredMessage, case: i64) -> Self {
        Self::new(
            ctx,
            &message.location,
            &message.id,
            &message.author,
            &message.text,
            Some(case),
        )
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
            language: ctx.language.code().to_string(),
            prefix: ctx.prefix().to_string(),
        }
    }

    /// The job for the table; one pending review per case (or per message).
    pub fn to_job(&self) -> NewJob {
        let dedup = match self.case {
            Some(case) => format!("case:{}:{}:{case}", self.platform, self.community),
            None => format!("message:{}:{}", self.platform, self.message),
        };
        let payload = serde_json::to_string(self).expect("a review job serializes");
        NewJob::new(KIND, payload).with_dedup_key(dedup)
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

    /// The verdict on a reported message: filed on its case; the policy may delete it (with
    /// `model_may_delete`) while the case is open; the moderators hear of it either way.
    async fn report_reviewed(
        &self,
        job: &ReviewJob,
        case_id: i64,
        location: &Location,
        verdict: Verdict,
    ) -> Result<Vec<Action>, JobError> {
        let store_failed = |error: crate::store::StoreError| JobError::retry(error.to_string());
        let community = &location.community;
        let Some(case) = self
            .store
            .case(location.platform, community, case_id)
            .await
            .map_err(store_failed)?
        else {
            return Err(JobError::fatal(format!("case #{case_id} no longer exists")));
        };
        let finding = Finding::Report {
            verdict: Some(verdict),
        };
        let decision = decide(&finding, Role::Member, &self.settings);
        let delete = decision.delete && case.is_open() && !case.automatic.deleted();
        let review = CaseReview {
            category: verdict.flags().then(|| verdict.category.case_category()),
            severity: verdict.severity.as_str().to_string(),
            reason: model_reason(&verdict),
            automatic: delete.then_some(Automatic::Deleted),
        };
        let recorded = self
            .store
            .record_case_review(
                location.platform,
                community,
                case_id,
                &review,
                SystemTime::now(),
            )
            .await
            .map_err(store_failed)?;
        if !recorded {
            return Ok(Vec::new()); // Reviewed before (the job ran twice).
        }
        let mut actions = Vec::new();
        if let (true, Some(message)) = (delete, case.message.clone()) {
            actions.push(Action::DeleteMessage {
                location: case.location.clone(),
                message,
                reason: format!("case #{case_id}: {}", review.reason),
            });
        }
        actions.push(Action::PostToModLog {
            platform: location.platform,
            community: community.clone(),
            text: job.strings().case_reviewed(
                case_id,
                (
                    verdict.category.as_str(),
                    verdict.severity.as_str(),
                    verdict.flags(),
                ),
                delete,
                &job.prefix,
            ),
        });
        Ok(actions)
    }

    /// The verdict on a screened message: a flag opens a case as a rule hit would.
    async fn message_reviewed(
        &self,
        job: &ReviewJob,
        location: &Location,
        verdict: Verdict,
    ) -> Result<Vec<Action>, JobError> {
        let finding = Finding::Model(verdict);
        let decision = decide(&finding, Role::Member, &self.settings);
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
        let strings = job.strings();
        let (_, actions) = open_case(
            self.store.as_ref(),
            strings,
            &job.prefix,
            &subject,
            &finding,
            decision,
            None,
        )
        .await;
        Ok(actions)
    }
}

#[async_trait]
impl JobHandler for ReviewJobs {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        let review: ReviewJob = serde_json::from_str(&job.payload)
            .map_err(|error| JobError::fatal(format!("unreadable review job: {error}")))?;
        let location = review.location()?;
        let verdict = match self.reviewer.review(&review.community, &review.text).await {
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
            Some(case) => {
                self.report_reviewed(&review, case, &location, verdict)
                    .await?
            }
            None => self.message_reviewed(&review, &location, verdict).await?,
        };
        for action in actions {
            self.outbox.deliver(action).await;
        }
        Ok(())
    }
}
