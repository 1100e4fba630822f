//! Sentiment per message: which recorded messages still need a score, and storing scores.
//!
//! Only members' messages with words are scored: not bots' (Steward's answers would tilt a
//! community's tone), not deleted or purged ones (their text is gone). A score is written only
//! while its message still has its text, in the same statement that checks it, so a message
//! deleted or forgotten between reading and saving is never scored (the scorer may take
//! seconds, the model longer).

use std::time::SystemTime;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{score_to_milli, MessageSentiment, UnscoredMessage};
use crate::core::{MessageId, Platform};
use crate::store::{to_millis, Store, StoreError};

/// `$head`, then the conditions of an unscored message: `$1` the platform, or `''` for every
/// platform. `m` is the message, `u` its author.
macro_rules! unscored {
    ($head:literal, $tail:literal) => {
        concat!(
            $head,
            " FROM messages AS m ",
            "JOIN users AS u ON u.platform = m.platform AND u.id = m.author_id ",
            "WHERE ($1 = '' OR m.platform = $1) AND m.text <> '' AND m.deleted_at IS NULL ",
            "AND u.is_bot = 0 AND NOT EXISTS (SELECT 1 FROM message_sentiment AS s ",
            "WHERE s.platform = m.platform AND s.message_id = m.id)",
            $tail
        )
    };
}

const UNSCORED: &str = unscored!(
    "SELECT m.platform AS platform, m.id AS id, m.text AS text",
    " ORDER BY m.created_at, m.platform, m.id LIMIT $2"
);
const COUNT_UNSCORED: &str = unscored!("SELECT COUNT(*)", "");

/// Upserts one score, copying the message's community, channel and time, only if the message
/// still has its text. `$1` platform, `$2` message, `$3` label, `$4` score (thousandths),
/// `$5` stage, `$6` when scored. (The `WHERE` also keeps SQLite from reading `ON CONFLICT` as
/// a join constraint.)
const SAVE: &str = "INSERT INTO message_sentiment \
     (platform, message_id, community_id, channel_id, created_at, label, score_milli, stage, \
     scored_at) \
     SELECT m.platform, m.id, m.community_id, m.channel_id, m.created_at, $3, $4, $5, $6 \
     FROM messages AS m \
     WHERE m.platform = $1 AND m.id = $2 AND m.text <> '' AND m.deleted_at IS NULL \
     ON CONFLICT (platform, message_id) DO UPDATE SET label = excluded.label, \
     score_milli = excluded.score_milli, stage = excluded.stage, scored_at = excluded.scored_at";

/// The `$1` of [`UNSCORED`] and [`COUNT_UNSCORED`].
fn platform_filter(platform: Option<Platform>) -> &'static str {
    platform.map_or("", Platform::as_str)
}

impl Store {
    /// Messages with non-empty text, not deleted, whose author is not a bot, that have no
    /// sentiment row yet; oldest first, at most `limit`. `platform` `None`: every platform
    /// (messages of a platform this version does not know are left out).
    pub async fn unscored_messages(
        &self,
        platform: Option<Platform>,
        limit: u32,
    ) -> Result<Vec<UnscoredMessage>, StoreError> {
        const OPERATION: &str = "list messages without sentiment";
        let rows = sqlx::query(UNSCORED)
            .bind(platform_filter(platform))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        let mut messages = Vec::with_capacity(rows.len());
        for row in &rows {
            if let Some(message) = unscored(row).map_err(StoreError::query(OPERATION))? {
                messages.push(message);
            }
        }
        Ok(messages)
    }

    /// How many messages [`Store::unscored_messages`] would list without a limit.
    pub async fn count_unscored(&self, platform: Option<Platform>) -> Result<u64, StoreError> {
        const OPERATION: &str = "count messages without sentiment";
        let row = sqlx::query(COUNT_UNSCORED)
            .bind(platform_filter(platform))
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        let count: i64 = row.try_get(0).map_err(StoreError::query(OPERATION))?;
        Ok(count.unsigned_abs())
    }

    /// Stores the scores of `rows` (replacing earlier ones: a model's label replaces the
    /// lexical one), in one transaction, as scored at `now`. A message deleted (its text
    /// emptied) or forgotten (its row gone) since it was read is skipped, never stored.
    /// Returns how many rows were written.
    pub async fn save_sentiments(
        &self,
        rows: &[MessageSentiment],
        now: SystemTime,
    ) -> Result<u64, StoreError> {
        const OPERATION: &str = "save message sentiment";
        if rows.is_empty() {
            return Ok(0);
        }
        let scored_at = to_millis(now);
        let mut tx = self
            .begin_write()
            .await
            .map_err(StoreError::query(OPERATION))?;
        let mut written = 0;
        for row in rows {
            written += sqlx::query(SAVE)
                .bind(row.platform.as_str())
                .bind(row.message.as_str())
                .bind(row.label)
                .bind(score_to_milli(row.score))
                .bind(row.stage)
                .bind(scored_at)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(OPERATION))?
                .rows_affected();
        }
        tx.commit().await.map_err(StoreError::query(OPERATION))?;
        Ok(written)
    }
}

/// One row of [`UNSCORED`]; `None` for a platform this version does not know.
fn unscored(row: &AnyRow) -> Result<Option<UnscoredMessage>, sqlx::Error> {
    let platform: String = row.try_get("platform")?;
    let Some(platform) = Platform::parse(&platform) else {
        return Ok(None);
    };
    Ok(Some(UnscoredMessage {
        platform,
        message: MessageId::new(row.try_get::<String, _>("id")?),
        text: row.try_get("text")?,
    }))
}
