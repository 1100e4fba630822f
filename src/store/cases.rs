//! Moderation cases: what a rule, the model or a member's report found, what Steward did about
//! it automatically, and what a moderator decided.
//!
//! Every read and write names the community, so a moderator of one community can never see or
//! close another community's case by guessing its number.

use std::time::SystemTime;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{from_millis, to_millis, Store, StoreError};
use crate::core::{ChannelId, CommunityId, Location, MessageId, Platform, ThreadId, UserId};

/// The status of a case nobody has decided yet.
pub const OPEN: &str = "open";

/// A case to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    pub location: Location,
    pub message: Option<MessageId>,
    pub user: UserId,
    pub excerpt: String,
    /// `rule`, `model` or `report`.
    pub source: String,
    pub category: String,
    pub reason: String,
    /// What Steward did automatically (`none`, `deleted`, `timed_out`).
    pub automatic: String,
}

/// A stored case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: i64,
    pub location: Location,
    pub message: Option<MessageId>,
    pub user: UserId,
    pub excerpt: String,
    pub source: String,
    pub category: String,
    pub reason: String,
    pub automatic: String,
    /// [`OPEN`] or the moderator's decision.
    pub status: String,
    pub created_at: SystemTime,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<SystemTime>,
}

impl Case {
    pub fn is_open(&self) -> bool {
        self.status == OPEN
    }

    /// What the case was opened with.
    pub fn facts(&self) -> NewCase {
        NewCase {
            location: self.location.clone(),
            message: self.message.clone(),
            user: self.user.clone(),
            excerpt: self.excerpt.clone(),
            source: self.source.clone(),
            category: self.category.clone(),
            reason: self.reason.clone(),
            automatic: self.automatic.clone(),
        }
    }

    fn from_row(platform: Platform, row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Case {
            id: row.try_get("id")?,
            location: Location {
                platform,
                community: CommunityId::new(row.try_get::<String, _>("community_id")?),
                channel: ChannelId::new(row.try_get::<String, _>("channel_id")?),
                thread: row
                    .try_get::<Option<String>, _>("thread_id")?
                    .map(ThreadId::new),
            },
            message: row
                .try_get::<Option<String>, _>("message_id")?
                .map(MessageId::new),
            user: UserId::new(row.try_get::<String, _>("user_id")?),
            excerpt: row.try_get("excerpt")?,
            source: row.try_get("source")?,
            category: row.try_get("category")?,
            reason: row.try_get("reason")?,
            automatic: row.try_get("automatic")?,
            status: row.try_get("status")?,
            created_at: from_millis(row.try_get("created_at")?),
            decided_by: row
                .try_get::<Option<String>, _>("decided_by")?
                .map(UserId::new),
            decided_at: row
                .try_get::<Option<i64>, _>("decided_at")?
                .map(from_millis),
        })
    }
}

/// A query for whole cases; `$tail` filters and orders. (sqlx wants static SQL.)
macro_rules! select_cases {
    ($tail:literal) => {
        concat!(
            "SELECT id, community_id, channel_id, thread_id, message_id, user_id, excerpt, ",
            "source, category, reason, automatic, status, created_at, decided_by, decided_at ",
            "FROM moderation_cases ",
            $tail
        )
    };
}

impl Store {
    /// Opens a case; returns its number.
    pub async fn open_case(&self, case: &NewCase, at: SystemTime) -> Result<i64, StoreError> {
        const OPERATION: &str = "open a moderation case";
        let location = &case.location;
        let row = sqlx::query(
            "INSERT INTO moderation_cases (platform, community_id, channel_id, thread_id, \
             message_id, user_id, excerpt, source, category, reason, automatic, status, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             RETURNING id",
        )
        .bind(location.platform.as_str())
        .bind(location.community.as_str())
        .bind(location.channel.as_str())
        .bind(location.thread.as_ref().map(|t| t.as_str().to_string()))
        .bind(case.message.as_ref().map(|m| m.as_str().to_string()))
        .bind(case.user.as_str())
        .bind(&case.excerpt)
        .bind(&case.source)
        .bind(&case.category)
        .bind(&case.reason)
        .bind(&case.automatic)
        .bind(OPEN)
        .bind(to_millis(at))
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        row.try_get::<i64, _>(0)
            .map_err(StoreError::query(OPERATION))
    }

    /// One case of one community.
    pub async fn case(
        &self,
        platform: Platform,
        community: &CommunityId,
        id: i64,
    ) -> Result<Option<Case>, StoreError> {
        const OPERATION: &str = "read a moderation case";
        let row = sqlx::query(select_cases!(
            "WHERE platform = $1 AND community_id = $2 AND id = $3"
        ))
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(id)
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
        id: i64,
        status: &str,
        decided_by: &UserId,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE moderation_cases SET status = $1, decided_by = $2, decided_at = $3 \
             WHERE platform = $4 AND community_id = $5 AND id = $6 AND status = $7",
        )
        .bind(status)
        .bind(decided_by.as_str())
        .bind(to_millis(at))
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(id)
        .bind(OPEN)
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("close a moderation case"))?;
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
