//! Moderation cases: what a rule, the model or a member's report found, what Steward did about
//! it automatically, and what a moderator decided.
//!
//! Cases are numbered per community (`#12` in one guild is not `#12` in another): every read
//! and write names the community and the case's number in it, so a moderator of one community
//! can never see or close another community's case by guessing its number. The global row id
//! stays inside the store.

use std::time::SystemTime;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{from_millis, location_from_row, to_millis, Store, StoreError};
use crate::core::{
    Automatic, CaseCategory, CaseSource, CaseStatus, CommunityId, Location, MessageId, Platform,
    UserId,
};

/// The status of a case nobody has decided yet, as stored.
const OPEN: &str = "open";
/// How many times opening a case tries for a fresh number: processes sharing one PostgreSQL
/// database may pick the same number at once, and the unique index refuses all but one (each
/// retry sees the winner's number, so n cases opened at once need at most n attempts).
const NUMBER_ATTEMPTS: u32 = 8;

/// A case to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    pub location: Location,
    pub message: Option<MessageId>,
    pub user: UserId,
    pub excerpt: String,
    pub source: CaseSource,
    pub category: CaseCategory,
    pub reason: String,
    /// What Steward did automatically.
    pub automatic: Automatic,
    /// The rule of the community's own list the model said the message breaks (1-based).
    pub rule_index: Option<u32>,
}

/// A stored case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The store's own row id, unique across communities: never shown, never looked up by a
    /// moderator.
    pub id: i64,
    /// The case's number in its community: what moderators and members see and type.
    pub number: i64,
    pub location: Location,
    pub message: Option<MessageId>,
    pub user: UserId,
    pub excerpt: String,
    pub source: CaseSource,
    pub category: CaseCategory,
    pub reason: String,
    pub automatic: Automatic,
    /// Open, or the moderator's decision.
    pub status: CaseStatus,
    pub created_at: SystemTime,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<SystemTime>,
    /// When the model's review arrived, and the severity it gave (`none` .. `high`).
    pub reviewed_at: Option<SystemTime>,
    pub review_severity: Option<String>,
    /// The rule of the community's own list the model said the message breaks (1-based).
    pub rule_index: Option<u32>,
}

impl Case {
    pub fn is_open(&self) -> bool {
        self.status == CaseStatus::Open
    }

    /// What the case was opened with.
    pub fn facts(&self) -> NewCase {
        NewCase {
            location: self.location.clone(),
            message: self.message.clone(),
            user: self.user.clone(),
            excerpt: self.excerpt.clone(),
            source: self.source,
            category: self.category,
            reason: self.reason.clone(),
            automatic: self.automatic,
            rule_index: self.rule_index,
        }
    }

    fn from_row(platform: Platform, row: &AnyRow) -> Result<Self, sqlx::Error> {
        let id: i64 = row.try_get("id")?;
        Ok(Case {
            id,
            // Every row has a number since migration 0005; a missing one reads as the id.
            number: row.try_get::<Option<i64>, _>("number")?.unwrap_or(id),
            location: location_from_row(platform, row)?,
            message: row
                .try_get::<Option<String>, _>("message_id")?
                .map(MessageId::new),
            user: UserId::new(row.try_get::<String, _>("user_id")?),
            excerpt: row.try_get("excerpt")?,
            source: label(row, "source", CaseSource::parse)?,
            category: label(row, "category", CaseCategory::parse)?,
            reason: row.try_get("reason")?,
            automatic: label(row, "automatic", Automatic::parse)?,
            status: label(row, "status", CaseStatus::parse)?,
            created_at: from_millis(row.try_get("created_at")?),
            decided_by: row
                .try_get::<Option<String>, _>("decided_by")?
                .map(UserId::new),
            decided_at: row
                .try_get::<Option<i64>, _>("decided_at")?
                .map(from_millis),
            reviewed_at: row
                .try_get::<Option<i64>, _>("reviewed_at")?
                .map(from_millis),
            review_severity: row.try_get("review_severity")?,
            rule_index: row
                .try_get::<Option<i64>, _>("rule_index")?
                .and_then(|index| u32::try_from(index).ok()),
        })
    }
}

/// A stored label read back; text this version does not know is an error that names it.
fn label<T>(row: &AnyRow, column: &str, parse: fn(&str) -> Option<T>) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| {
        sqlx::Error::Decode(format!("unknown value {text:?} in moderation_cases.{column}").into())
    })
}

/// A query for whole cases; `$tail` filters and orders. (sqlx wants static SQL.)
macro_rules! select_cases {
    ($tail:literal) => {
        concat!(
            "SELECT id, number, community_id, channel_id, thread_id, message_id, user_id, ",
            "excerpt, source, category, reason, automatic, status, created_at, decided_by, ",
            "decided_at, reviewed_at, review_severity, rule_index ",
            "FROM moderation_cases ",
            $tail
        )
    };
}

impl Store {
    /// Opens a case; returns its number in its community (1 + the community's highest). The
    /// number is chosen inside the insert itself, so it is atomic on SQLite (one writer at a
    /// time); on PostgreSQL two processes may choose the same number at once, the unique index
    /// refuses the second, and it tries again with the next number. (Each try is its own
    /// statement, so a refused one leaves nothing behind.)
    pub async fn open_case(&self, case: &NewCase, at: SystemTime) -> Result<i64, StoreError> {
        const OPERATION: &str = "open a moderation case";
        let mut attempt = 1;
        loop {
            match self.insert_case(case, at).await {
                Ok(number) => return Ok(number),
                Err(sqlx::Error::Database(error))
                    if error.is_unique_violation() && attempt < NUMBER_ATTEMPTS =>
                {
                    attempt += 1;
                }
                Err(error) => return Err(StoreError::query(OPERATION)(error)),
            }
        }
    }

    async fn insert_case(&self, case: &NewCase, at: SystemTime) -> Result<i64, sqlx::Error> {
        let location = &case.location;
        let row = sqlx::query(
            "INSERT INTO moderation_cases (platform, community_id, channel_id, thread_id, \
             message_id, user_id, excerpt, source, category, reason, automatic, status, \
             created_at, rule_index, number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, (SELECT COALESCE(MAX(number), 0) + 1 FROM moderation_cases \
             WHERE platform = $1 AND community_id = $2)) \
             RETURNING number",
        )
        .bind(location.platform.as_str())
        .bind(location.community.as_str())
        .bind(location.channel.as_str())
        .bind(location.thread.as_ref().map(|t| t.as_str().to_string()))
        .bind(case.message.as_ref().map(|m| m.as_str().to_string()))
        .bind(case.user.as_str())
        .bind(&case.excerpt)
        .bind(case.source.as_str())
        .bind(case.category.as_str())
        .bind(&case.reason)
        .bind(case.automatic.as_str())
        .bind(OPEN)
        .bind(to_millis(at))
        .bind(case.rule_index.map(i64::from))
        .fetch_one(&self.pool)
        .await?;
        row.try_get::<i64, _>(0)
    }

    /// Case `number` of one community.
    pub async fn case(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
    ) -> Result<Option<Case>, StoreError> {
        const OPERATION: &str = "read a moderation case";
        let row = sqlx::query(select_cases!(
            "WHERE platform = $1 AND community_id = $2 AND number = $3"
        ))
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(number)
        .fetch_optional(&self.pool)
        .await;
        optional_case(platform, row, OPERATION)
    }

    /// The open case about `message`, if there is one (so repeated reports open one case).
    pub async fn open_case_for_message(
        &self,
        platform: Platform,
        community: &CommunityId,
        message: &MessageId,
    ) -> Result<Option<Case>, StoreError> {
        const OPERATION: &str = "find the case of a message";
        let row = sqlx::query(select_cases!(
            "WHERE platform = $1 AND community_id = $2 AND message_id = $3 AND status = $4 \
             ORDER BY id LIMIT 1"
        ))
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(message.as_str())
        .bind(OPEN)
        .fetch_optional(&self.pool)
        .await;
        optional_case(platform, row, OPERATION)
    }

    /// The community's open cases, newest first, at most `limit`.
    pub async fn open_cases(
        &self,
        platform: Platform,
        community: &CommunityId,
        limit: u32,
    ) -> Result<Vec<Case>, StoreError> {
        const OPERATION: &str = "list moderation cases";
        let rows = sqlx::query(select_cases!(
            "WHERE platform = $1 AND community_id = $2 AND status = $3 \
             ORDER BY id DESC LIMIT $4"
        ))
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(OPEN)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        rows.iter()
            .map(|row| Case::from_row(platform, row))
            .collect::<Result<_, _>>()
            .map_err(StoreError::query(OPERATION))
    }

    /// Closes an open case with a moderator's decision. Returns false if the community has no
    /// such case or it was already closed (two moderators deciding at once: the first wins).
    pub async fn close_case(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
        status: CaseStatus,
        decided_by: &UserId,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        let open = CaseStatus::Open;
        self.change_case_status(platform, community, number, open, status, decided_by, at)
            .await
    }

    /// Moves case `number` from status `from` to `to` (a decision, or a reversal on appeal),
    /// recording who and when. Returns false if the community has no such case or its status
    /// is no longer `from` (someone else changed it first).
    #[allow(clippy::too_many_arguments)]
    pub async fn change_case_status(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
        from: CaseStatus,
        to: CaseStatus,
        decided_by: &UserId,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE moderation_cases SET status = $1, decided_by = $2, decided_at = $3 \
             WHERE platform = $4 AND community_id = $5 AND number = $6 AND status = $7",
        )
        .bind(to.as_str())
        .bind(decided_by.as_str())
        .bind(to_millis(at))
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(number)
        .bind(from.as_str())
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("change a moderation case's status"))?;
        Ok(result.rows_affected() > 0)
    }
}

/// The model's review of a case, recorded when it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseReview {
    /// The model's label, filed as the case's category when it flags something.
    pub category: Option<CaseCategory>,
    /// `none`, `low`, `medium` or `high`.
    pub severity: String,
    /// Appended to the case's reason.
    pub reason: String,
    /// What Steward did about it automatically, if anything.
    pub automatic: Option<Automatic>,
    /// The rule of the community's own list the model named (1-based, checked against the
    /// list's length), if any.
    pub rule_index: Option<u32>,
}

impl Store {
    /// Records the model's review of a case (at most once: a second review of the same case,
    /// e.g. a job run twice after a crash, changes nothing). Returns false when the community
    /// has no such case or it was reviewed already.
    pub async fn record_case_review(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
        review: &CaseReview,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE moderation_cases SET reviewed_at = $1, review_severity = $2, \
             category = COALESCE($3, category), reason = reason || $4, \
             automatic = COALESCE($5, automatic), rule_index = COALESCE($6, rule_index) \
             WHERE platform = $7 AND community_id = $8 AND number = $9 AND reviewed_at IS NULL",
        )
        .bind(to_millis(at))
        .bind(&review.severity)
        .bind(review.category.map(|c| c.as_str().to_string()))
        .bind(format!("; {}", review.reason))
        .bind(review.automatic.map(|a| a.as_str().to_string()))
        .bind(review.rule_index.map(i64::from))
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(number)
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("record a case review"))?;
        Ok(result.rows_affected() > 0)
    }
}

/// One row, if any, as a case.
fn optional_case(
    platform: Platform,
    row: Result<Option<AnyRow>, sqlx::Error>,
    operation: &'static str,
) -> Result<Option<Case>, StoreError> {
    row.and_then(|row| row.map(|row| Case::from_row(platform, &row)).transpose())
        .map_err(StoreError::query(operation))
}
