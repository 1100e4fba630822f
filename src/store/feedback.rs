//! Feedback on Steward's answers: members' 👍/👎 votes, one per member per answer (a later vote
//! replaces the earlier one; removing the reaction removes it), and what `kb feedback` reads:
//! the votes per day and the worst-rated answers with their recorded text.
//!
//! Which message is an answer, and whose reaction counts, is decided above the store
//! (`features::feedback`); the store keeps what it is given.

use std::time::SystemTime;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{location_from_row, to_millis, Store, StoreError};
use crate::core::{CommunityId, Location, MessageId, Platform, UserId};

/// A member's vote on one of Steward's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    /// Where the answer was posted (its community and channel are kept with the vote).
    pub location: Location,
    /// The answer: a message Steward posted.
    pub message: MessageId,
    pub user: UserId,
    /// +1 (👍) or -1 (👎).
    pub value: i64,
    pub at: SystemTime,
}

/// The votes cast on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayVotes {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub up: u64,
    pub down: u64,
}

/// An answer with its votes, as the worst-rated list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatedAnswer {
    pub message: MessageId,
    /// Where it was posted, with its thread.
    pub location: Location,
    /// Its text as last recorded (an answer ends with its sources line).
    pub text: String,
    pub up: u64,
    pub down: u64,
    /// The answer was deleted on its platform since (its text is then empty).
    pub deleted: bool,
}

/// Votes per UTC day (86,400,000 ms; times before 1970 do not occur).
const VOTES_PER_DAY: &str = "SELECT voted_at / 86400000 AS vote_day, \
     SUM(CASE WHEN value > 0 THEN 1 ELSE 0 END) AS up, \
     SUM(CASE WHEN value < 0 THEN 1 ELSE 0 END) AS down \
     FROM answer_feedback \
     WHERE platform = $1 AND community_id = $2 AND voted_at >= $3 \
     GROUP BY voted_at / 86400000 ORDER BY vote_day";

/// Answers with at least one 👎, most 👎 first, then fewest 👍, then the most recently voted.
const WORST_ANSWERS: &str = "SELECT m.id, m.community_id, m.channel_id, m.thread_id, m.text, \
     m.deleted_at, \
     SUM(CASE WHEN f.value > 0 THEN 1 ELSE 0 END) AS up, \
     SUM(CASE WHEN f.value < 0 THEN 1 ELSE 0 END) AS down, \
     MAX(f.voted_at) AS last_vote \
     FROM answer_feedback f \
     JOIN messages m ON m.platform = f.platform AND m.id = f.message_id \
     WHERE f.platform = $1 AND f.community_id = $2 AND f.voted_at >= $3 \
     GROUP BY m.id, m.community_id, m.channel_id, m.thread_id, m.text, m.deleted_at \
     HAVING SUM(CASE WHEN f.value < 0 THEN 1 ELSE 0 END) > 0 \
     ORDER BY down DESC, up ASC, last_vote DESC, m.id \
     LIMIT $4";

impl Store {
    /// Records a vote, replacing the member's earlier vote on the same answer.
    pub async fn record_vote(&self, vote: &Vote) -> Result<(), StoreError> {
        let location = &vote.location;
        sqlx::query(
            "INSERT INTO answer_feedback \
             (platform, message_id, user_id, community_id, channel_id, value, voted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (platform, message_id, user_id) \
             DO UPDATE SET value = excluded.value, voted_at = excluded.voted_at",
        )
        .bind(location.platform.as_str())
        .bind(vote.message.as_str())
        .bind(vote.user.as_str())
        .bind(location.community.as_str())
        .bind(location.channel.as_str())
        .bind(vote.value.signum())
        .bind(to_millis(vote.at))
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("record a vote on an answer"))?;
        Ok(())
    }

    /// Removes `user`'s vote on `message` if it is `value` (a member who reacted 👍 and then 👎
    /// and takes the 👍 back keeps their 👎). Returns whether a vote was removed.
    pub async fn remove_vote(
        &self,
        platform: Platform,
        message: &MessageId,
        user: &UserId,
        value: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "DELETE FROM answer_feedback \
             WHERE platform = $1 AND message_id = $2 AND user_id = $3 AND value = $4",
        )
        .bind(platform.as_str())
        .bind(message.as_str())
        .bind(user.as_str())
        .bind(value.signum())
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("remove a vote on an answer"))?;
        Ok(result.rows_affected() > 0)
    }

    /// `user`'s vote on `message` (+1 or -1), if any.
    pub async fn vote(
        &self,
        platform: Platform,
        message: &MessageId,
        user: &UserId,
    ) -> Result<Option<i64>, StoreError> {
        const OPERATION: &str = "read a vote on an answer";
        let row = sqlx::query(
            "SELECT value FROM answer_feedback \
             WHERE platform = $1 AND message_id = $2 AND user_id = $3",
        )
        .bind(platform.as_str())
        .bind(message.as_str())
        .bind(user.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        row.map(|row| row.try_get::<i64, _>("value"))
            .transpose()
            .map_err(StoreError::query(OPERATION))
    }

    /// The votes in `community` cast at or after `since`, per UTC day, oldest day first; days
    /// without votes are absent.
    pub async fn votes_per_day(
        &self,
        platform: Platform,
        community: &CommunityId,
        since: SystemTime,
    ) -> Result<Vec<DayVotes>, StoreError> {
        const OPERATION: &str = "count votes on answers per day";
        let rows = sqlx::query(VOTES_PER_DAY)
            .bind(platform.as_str())
            .bind(community.as_str())
            .bind(to_millis(since))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        rows.iter()
            .map(|row| {
                Ok(DayVotes {
                    day: row.try_get("vote_day")?,
                    up: count(row, "up")?,
                    down: count(row, "down")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::query(OPERATION))
    }

    /// At most `limit` answers of `community` with a 👎 cast at or after `since` (counting only
    /// the votes since then): the most 👎 first, then the fewest 👍, then the most recently
    /// voted on.
    pub async fn worst_answers(
        &self,
        platform: Platform,
        community: &CommunityId,
        since: SystemTime,
        limit: u32,
    ) -> Result<Vec<RatedAnswer>, StoreError> {
        const OPERATION: &str = "list the worst-rated answers";
        let rows = sqlx::query(WORST_ANSWERS)
            .bind(platform.as_str())
            .bind(community.as_str())
            .bind(to_millis(since))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        rows.iter()
            .map(|row| rated_answer(platform, row))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::query(OPERATION))
    }

    /// Whether `user` is known as a bot on `platform` (recorded from one of their messages); an
    /// unknown user is not.
    pub async fn is_known_bot(
        &self,
        platform: Platform,
        user: &UserId,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "read whether a user is a bot";
        let row = sqlx::query("SELECT is_bot FROM users WHERE platform = $1 AND id = $2")
            .bind(platform.as_str())
            .bind(user.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        let is_bot = row
            .map(|row| row.try_get::<i64, _>("is_bot"))
            .transpose()
            .map_err(StoreError::query(OPERATION))?;
        Ok(is_bot == Some(1))
    }
}

fn count(row: &AnyRow, column: &str) -> Result<u64, sqlx::Error> {
    Ok(row.try_get::<i64, _>(column)?.unsigned_abs())
}

fn rated_answer(platform: Platform, row: &AnyRow) -> Result<RatedAnswer, sqlx::Error> {
    Ok(RatedAnswer {
        message: MessageId::new(row.try_get::<String, _>("id")?),
        location: location_from_row(platform, row)?,
        text: row.try_get("text")?,
        up: count(row, "up")?,
        down: count(row, "down")?,
        deleted: row.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
    })
}
