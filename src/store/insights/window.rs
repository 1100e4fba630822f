//! What happened in a community over a time window: its messages with their authors' roles,
//! bot flags, sentiment and reaction counts; the members who posted for the first time; the
//! channels that were active. And counting reactions as they come and go.
//!
//! A thread's messages keep their parent channel in `channel_id` (see `record_message`), so
//! asking for a channel includes its threads.

use std::time::SystemTime;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{milli_to_score, WindowMessage};
use crate::core::{ChannelId, CommunityId, MessageId, Platform, UserId};
use crate::store::members::parse_role;
use crate::store::{from_millis, location_from_row, to_millis, Store, StoreError};

/// The messages of community `$2` on platform `$1` created in [`$4`, `$5`), in channel `$3`
/// (with its threads) or every channel when `$3` is `''`, oldest first. Reactions are summed
/// per message (cast: PostgreSQL's `SUM` of a `BIGINT` is a `NUMERIC`).
const WINDOW_MESSAGES: &str = "SELECT m.id AS id, m.community_id AS community_id, \
     m.channel_id AS channel_id, m.thread_id AS thread_id, m.author_id AS author_id, \
     u.is_bot AS is_bot, r.role AS role, m.reply_to AS reply_to, m.created_at AS created_at, \
     m.text AS text, m.deleted_at AS deleted_at, s.label AS label, s.score_milli AS score_milli, \
     (SELECT CAST(COALESCE(SUM(x.count), 0) AS BIGINT) FROM message_reactions AS x \
     WHERE x.platform = m.platform AND x.message_id = m.id) AS reactions \
     FROM messages AS m \
     JOIN users AS u ON u.platform = m.platform AND u.id = m.author_id \
     LEFT JOIN member_roles AS r ON r.platform = m.platform \
     AND r.community_id = m.community_id AND r.user_id = m.author_id \
     LEFT JOIN message_sentiment AS s ON s.platform = m.platform AND s.message_id = m.id \
     WHERE m.platform = $1 AND m.community_id = $2 AND ($3 = '' OR m.channel_id = $3) \
     AND m.created_at >= $4 AND m.created_at < $5 \
     ORDER BY m.created_at, m.id";

/// Authors (not bots) of community `$2` whose first recorded message there is in [`$3`, `$4`).
const FIRST_TIME_POSTERS: &str = "SELECT m.author_id FROM messages AS m \
     JOIN users AS u ON u.platform = m.platform AND u.id = m.author_id \
     WHERE m.platform = $1 AND m.community_id = $2 AND u.is_bot = 0 \
     GROUP BY m.author_id HAVING MIN(m.created_at) >= $3 AND MIN(m.created_at) < $4";

/// One more `$3` on recorded message `$2` (not deleted); an unknown message inserts nothing.
/// (The `WHERE` also keeps SQLite from reading `ON CONFLICT` as a join constraint.)
const REACTION_ADDED: &str = "INSERT INTO message_reactions (platform, message_id, emoji, count) \
     SELECT m.platform, m.id, $3, 1 FROM messages AS m \
     WHERE m.platform = $1 AND m.id = $2 AND m.deleted_at IS NULL \
     ON CONFLICT (platform, message_id, emoji) \
     DO UPDATE SET count = message_reactions.count + 1";
/// One `$3` less on message `$2`, never below 0.
const REACTION_REMOVED: &str = "UPDATE message_reactions SET count = count - 1 \
     WHERE platform = $1 AND message_id = $2 AND emoji = $3 AND count > 0";
/// A count back at 0 says nothing: its row goes.
const REACTION_GONE: &str = "DELETE FROM message_reactions \
     WHERE platform = $1 AND message_id = $2 AND emoji = $3 AND count = 0";

impl Store {
    /// The community's messages created in [`from`, `until`), oldest first: in `channel` and
    /// its threads, or in every channel when `channel` is `None`. Deleted and purged messages
    /// are included (with an empty text) so volumes stay true.
    pub async fn window_messages(
        &self,
        platform: Platform,
        community: &CommunityId,
        channel: Option<&ChannelId>,
        from: SystemTime,
        until: SystemTime,
    ) -> Result<Vec<WindowMessage>, StoreError> {
        const OPERATION: &str = "read a window of messages";
        let rows = sqlx::query(WINDOW_MESSAGES)
            .bind(platform.as_str())
            .bind(community.as_str())
            .bind(channel.map_or("", ChannelId::as_str))
            .bind(to_millis(from))
            .bind(to_millis(until))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        rows.iter()
            .map(|row| window_message(platform, row))
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(StoreError::query(OPERATION))
    }

    /// Authors (not bots) whose first recorded message in the community (any channel) was
    /// created in [`from`, `until`); sorted by id.
    pub async fn first_time_posters(
        &self,
        platform: Platform,
        community: &CommunityId,
        from: SystemTime,
        until: SystemTime,
    ) -> Result<Vec<UserId>, StoreError> {
        const OPERATION: &str = "list first-time posters";
        let rows = sqlx::query(FIRST_TIME_POSTERS)
            .bind(platform.as_str())
            .bind(community.as_str())
            .bind(to_millis(from))
            .bind(to_millis(until))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        let mut authors = rows
            .iter()
            .map(|row| Ok(UserId::new(row.try_get::<String, _>(0)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(StoreError::query(OPERATION))?;
        // PostgreSQL orders text by its collation; byte order is the same everywhere.
        authors.sort();
        Ok(authors)
    }

    /// Counts a reaction `emoji` put on (`added`) or taken off a message: aggregate counts
    /// only, no reactor ids; never below 0. Only messages the store recorded (and not deleted)
    /// are counted; others are ignored (`Ok(())`).
    pub async fn count_reaction(
        &self,
        platform: Platform,
        message: &MessageId,
        emoji: &str,
        added: bool,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "count a reaction";
        const ADDED: &[&str] = &[REACTION_ADDED];
        const REMOVED: &[&str] = &[REACTION_REMOVED, REACTION_GONE];
        let statements = if added { ADDED } else { REMOVED };
        let mut tx = self
            .begin_write()
            .await
            .map_err(StoreError::query(OPERATION))?;
        for &sql in statements {
            sqlx::query(sql)
                .bind(platform.as_str())
                .bind(message.as_str())
                .bind(emoji)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(OPERATION))?;
        }
        tx.commit().await.map_err(StoreError::query(OPERATION))?;
        Ok(())
    }

    /// Channels of the community with at least one message created at or after `since`
    /// (a thread counts for its channel); sorted by id.
    pub async fn active_channels(
        &self,
        platform: Platform,
        community: &CommunityId,
        since: SystemTime,
    ) -> Result<Vec<ChannelId>, StoreError> {
        const OPERATION: &str = "list active channels";
        let rows = sqlx::query(
            "SELECT DISTINCT channel_id FROM messages \
             WHERE platform = $1 AND community_id = $2 AND created_at >= $3",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(to_millis(since))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        let mut channels = rows
            .iter()
            .map(|row| Ok(ChannelId::new(row.try_get::<String, _>(0)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(StoreError::query(OPERATION))?;
        channels.sort();
        Ok(channels)
    }
}

/// One row of [`WINDOW_MESSAGES`] on `platform`.
fn window_message(platform: Platform, row: &AnyRow) -> Result<WindowMessage, sqlx::Error> {
    let label: Option<String> = row.try_get("label")?;
    let score: Option<i64> = row.try_get("score_milli")?;
    let role: Option<String> = row.try_get("role")?;
    Ok(WindowMessage {
        message: MessageId::new(row.try_get::<String, _>("id")?),
        location: location_from_row(platform, row)?,
        author: UserId::new(row.try_get::<String, _>("author_id")?),
        author_is_bot: row.try_get::<i64, _>("is_bot")? != 0,
        // A role stored by a newer version that this one does not know reads as never seen.
        author_role: role.as_deref().and_then(parse_role),
        reply_to: row
            .try_get::<Option<String>, _>("reply_to")?
            .map(MessageId::new),
        created_at: from_millis(row.try_get("created_at")?),
        text: row.try_get("text")?,
        deleted: row.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
        sentiment: label.zip(score.map(milli_to_score)),
        reactions: row.try_get::<i64, _>("reactions")?.unsigned_abs(),
    })
}
