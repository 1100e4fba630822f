//! Messages: recording what was said, edits, deletes, and reading recent history.
//!
//! Times are stored as milliseconds since the Unix epoch, so a [`StoredMessage`] carries its
//! times truncated to whole milliseconds.

use std::time::SystemTime;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::privacy::cleanup::{
    delete_finished_jobs, delete_gaps_quoting, delete_message_insights, JobField,
};
use super::records::{ensure_channel, ensure_community, upsert_user};
use super::{from_millis, location_from_row, to_millis, Store, StoreError};
use crate::core::{CommunityId, Location, Message, MessageId, Platform, ThreadId, UserId};

/// What became of an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditOutcome {
    /// The text changed; the old text is in the edit history.
    Applied,
    /// The same text again (Discord sends updates for embeds), or the message was deleted
    /// (its text stays gone): nothing changed.
    Unchanged,
    /// Someone other than the author sent it: ignored.
    NotTheAuthor,
    /// Steward never recorded the message.
    Unknown,
}

/// A message as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: MessageId,
    /// Where it was posted (with its thread, if any).
    pub location: Location,
    pub author: UserId,
    /// The author's display name as last seen (not necessarily when this message was posted).
    pub author_name: String,
    /// The current text (after the last edit); empty once the message was deleted on its
    /// platform or purged by retention.
    pub text: String,
    pub reply_to: Option<MessageId>,
    pub created_at: SystemTime,
    pub edited_at: Option<SystemTime>,
    pub deleted_at: Option<SystemTime>,
}

impl StoredMessage {
    /// True once the message was deleted on its platform.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    fn from_row(platform: Platform, row: &AnyRow) -> Result<Self, sqlx::Error> {
        let optional_time = |column: &str| -> Result<Option<SystemTime>, sqlx::Error> {
            Ok(row.try_get::<Option<i64>, _>(column)?.map(from_millis))
        };
        Ok(StoredMessage {
            id: MessageId::new(row.try_get::<String, _>("id")?),
            location: location_from_row(platform, row)?,
            author: UserId::new(row.try_get::<String, _>("author_id")?),
            author_name: row.try_get("display_name")?,
            text: row.try_get("text")?,
            reply_to: row
                .try_get::<Option<String>, _>("reply_to")?
                .map(MessageId::new),
            created_at: from_millis(row.try_get("created_at")?),
            edited_at: optional_time("edited_at")?,
            deleted_at: optional_time("deleted_at")?,
        })
    }
}

/// A query for whole messages (with the author's name); `$tail` filters and orders.
macro_rules! select_messages {
    ($tail:literal) => {
        concat!(
            "SELECT m.id, m.community_id, m.channel_id, m.thread_id, m.author_id, ",
            "u.display_name, m.text, m.reply_to, m.created_at, m.edited_at, m.deleted_at ",
            "FROM messages m JOIN users u ON u.platform = m.platform AND u.id = m.author_id ",
            $tail
        )
    };
}

const MESSAGE_BY_ID: &str = select_messages!("WHERE m.platform = $1 AND m.id = $2");
const ANSWERS_TO: &str = select_messages!(
    "WHERE m.platform = $1 AND m.author_id = $3 AND m.deleted_at IS NULL \
     AND (m.reply_to = $2 OR (m.reply_to IS NULL AND m.thread_id = $2)) \
     ORDER BY m.created_at, m.id"
);
const RECENT_IN_CHANNEL: &str = select_messages!(
    "WHERE m.platform = $1 AND m.channel_id = $2 AND m.deleted_at IS NULL \
     ORDER BY m.created_at DESC, m.id DESC LIMIT $3"
);
const RECENT_IN_THREAD: &str = select_messages!(
    "WHERE m.platform = $1 AND m.channel_id = $2 AND m.thread_id = $4 AND m.deleted_at IS NULL \
     ORDER BY m.created_at DESC, m.id DESC LIMIT $3"
);

impl Store {
    /// Records a message, first adding its community, channel and author if they are new (and
    /// updating the author's display name). Recording a message id that is already stored
    /// changes nothing and is not an error; returns whether the message was new.
    pub async fn record_message(&self, message: &Message) -> Result<bool, StoreError> {
        const OPERATION: &str = "record a message";
        let location = &message.location;
        let platform = location.platform;

        let mut tx = self
            .begin_write()
            .await
            .map_err(StoreError::query(OPERATION))?;
        ensure_community(&mut *tx, platform, &location.community)
            .await
            .map_err(StoreError::query(OPERATION))?;
        ensure_channel(&mut *tx, location)
            .await
            .map_err(StoreError::query(OPERATION))?;
        upsert_user(&mut *tx, platform, &message.author)
            .await
            .map_err(StoreError::query(OPERATION))?;
        let inserted = sqlx::query(
            "INSERT INTO messages (platform, id, community_id, channel_id, thread_id, author_id, \
             text, reply_to, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (platform, id) DO NOTHING",
        )
        .bind(platform.as_str())
        .bind(message.id.as_str())
        .bind(location.community.as_str())
        .bind(location.channel.as_str())
        .bind(location.thread.as_ref().map(ThreadId::as_str))
        .bind(message.author.id.as_str())
        .bind(message.text.as_str())
        .bind(message.reply_to.as_ref().map(MessageId::as_str))
        .bind(to_millis(message.created_at))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query(OPERATION))?
        .rows_affected();
        tx.commit().await.map_err(StoreError::query(OPERATION))?;
        Ok(inserted > 0)
    }

    /// Applies an edit of a stored message by `editor`: only the message's author may change
    /// it (Matrix lets anyone send an `m.replace` for any event), and a deleted message stays
    /// without text. The text it replaces is kept in the message's edit history. Returns what
    /// happened.
    pub async fn edit_message(
        &self,
        platform: Platform,
        message: &MessageId,
        editor: &UserId,
        new_text: &str,
        at: SystemTime,
    ) -> Result<EditOutcome, StoreError> {
        const OPERATION: &str = "edit a message";
        let mut tx = self
            .begin_write()
            .await
            .map_err(StoreError::query(OPERATION))?;
        let row = sqlx::query(
            "SELECT author_id, text, deleted_at FROM messages WHERE platform = $1 AND id = $2",
        )
        .bind(platform.as_str())
        .bind(message.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::query(OPERATION))?;
        let Some(row) = row else {
            return Ok(EditOutcome::Unknown);
        };
        let author: String = row
            .try_get("author_id")
            .map_err(StoreError::query(OPERATION))?;
        if author != editor.as_str() {
            return Ok(EditOutcome::NotTheAuthor);
        }
        let previous: String = row.try_get("text").map_err(StoreError::query(OPERATION))?;
        let deleted: Option<i64> = row
            .try_get("deleted_at")
            .map_err(StoreError::query(OPERATION))?;
        // An edit arriving after the deletion (events race) must not bring the text back.
        if previous == new_text || deleted.is_some() {
            return Ok(EditOutcome::Unchanged);
        }
        sqlx::query(
            "INSERT INTO message_edits (platform, message_id, previous_text, edited_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(platform.as_str())
        .bind(message.as_str())
        .bind(previous.as_str())
        .bind(to_millis(at))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query(OPERATION))?;
        sqlx::query(
            "UPDATE messages SET text = $1, edited_at = $2 WHERE platform = $3 AND id = $4",
        )
        .bind(new_text)
        .bind(to_millis(at))
        .bind(platform.as_str())
        .bind(message.as_str())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query(OPERATION))?;
        tx.commit().await.map_err(StoreError::query(OPERATION))?;
        Ok(EditOutcome::Applied)
    }

    /// The texts a message had before its edits, oldest first.
    pub async fn message_edits(
        &self,
        platform: Platform,
        message: &MessageId,
    ) -> Result<Vec<(String, SystemTime)>, StoreError> {
        let rows = sqlx::query(
            "SELECT previous_text, edited_at FROM message_edits \
             WHERE platform = $1 AND message_id = $2 ORDER BY edited_at, previous_text",
        )
        .bind(platform.as_str())
        .bind(message.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query("read a message's edits"))?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get::<String, _>("previous_text")?,
                    from_millis(row.try_get("edited_at")?),
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::query("read a message's edits"))
    }

    /// Marks a message deleted and forgets what it said, in one transaction: the row keeps
    /// its ids and times (for counts; a second delete keeps the first time) but its text
    /// becomes empty, its edit history is deleted, and so are the unanswered question it asked
    /// (its knowledge gap), its sentiment and reaction counts, and finished jobs whose payload
    /// names it (a review job carries the text). Pending and running jobs are left to finish.
    /// Moderation cases keep their excerpt. Re-indexing its conversation is the caller's
    /// (`Conversations::deleted`).
    /// Returns false if the message is unknown.
    pub async fn delete_message(
        &self,
        platform: Platform,
        message: &MessageId,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "delete a message";
        let mut tx = self
            .begin_write()
            .await
            .map_err(StoreError::query(OPERATION))?;
        let known = forget_message(&mut tx, platform, message, at)
            .await
            .map_err(StoreError::query(OPERATION))?;
        tx.commit().await.map_err(StoreError::query(OPERATION))?;
        Ok(known)
    }

    /// One stored message, deleted or not.
    pub async fn message(
        &self,
        platform: Platform,
        message: &MessageId,
    ) -> Result<Option<StoredMessage>, StoreError> {
        let row = sqlx::query(MESSAGE_BY_ID)
            .bind(platform.as_str())
            .bind(message.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::query("read a message"))?;
        row.map(|row| StoredMessage::from_row(platform, &row))
            .transpose()
            .map_err(StoreError::query("read a message"))
    }

    /// The messages by `author` that answer `question` and are not deleted, oldest first:
    /// those replying to it, and those in the thread opened from it that reply to nothing (a
    /// thread's id is its first message's; a reply there answers someone else).
    pub async fn answers_to(
        &self,
        platform: Platform,
        question: &MessageId,
        author: &UserId,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        const OPERATION: &str = "read the answers to a message";
        let rows = sqlx::query(ANSWERS_TO)
            .bind(platform.as_str())
            .bind(question.as_str())
            .bind(author.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        rows.iter()
            .map(|row| StoredMessage::from_row(platform, row))
            .collect::<Result<_, _>>()
            .map_err(StoreError::query(OPERATION))
    }

    /// The last `limit` messages that are not deleted, oldest first: in the channel of
    /// `location`, and if the location has a thread, in that thread only. Without a thread,
    /// messages in the channel's threads are included.
    pub async fn recent_messages(
        &self,
        location: &Location,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        const OPERATION: &str = "read recent messages";
        let query = match &location.thread {
            Some(thread) => sqlx::query(RECENT_IN_THREAD)
                .bind(location.platform.as_str())
                .bind(location.channel.as_str())
                .bind(i64::from(limit))
                .bind(thread.as_str()),
            None => sqlx::query(RECENT_IN_CHANNEL)
                .bind(location.platform.as_str())
                .bind(location.channel.as_str())
                .bind(i64::from(limit)),
        };
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        let mut messages = rows
            .iter()
            .map(|row| StoredMessage::from_row(location.platform, row))
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::query(OPERATION))?;
        messages.reverse();
        Ok(messages)
    }
}

/// [`Store::delete_message`] inside the caller's transaction; false if the message is unknown.
async fn forget_message(
    conn: &mut AnyConnection,
    platform: Platform,
    message: &MessageId,
    at: SystemTime,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT community_id, author_id, text FROM messages WHERE platform = $1 AND id = $2",
    )
    .bind(platform.as_str())
    .bind(message.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let community = CommunityId::new(row.try_get::<String, _>("community_id")?);
    let author = UserId::new(row.try_get::<String, _>("author_id")?);
    // Every text it had, for the questions recorded without a message id.
    let mut texts = vec![row.try_get::<String, _>("text")?];
    let edits = sqlx::query(
        "SELECT previous_text FROM message_edits WHERE platform = $1 AND message_id = $2",
    )
    .bind(platform.as_str())
    .bind(message.as_str())
    .fetch_all(&mut *conn)
    .await?;
    for edit in &edits {
        texts.push(edit.try_get(0)?);
    }

    sqlx::query(
        "UPDATE messages SET deleted_at = COALESCE(deleted_at, $1), text = '' \
         WHERE platform = $2 AND id = $3",
    )
    .bind(to_millis(at))
    .bind(platform.as_str())
    .bind(message.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM message_edits WHERE platform = $1 AND message_id = $2")
        .bind(platform.as_str())
        .bind(message.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM kb_gaps WHERE platform = $1 AND message_id = $2")
        .bind(platform.as_str())
        .bind(message.as_str())
        .execute(&mut *conn)
        .await?;
    delete_gaps_quoting(&mut *conn, platform, &community, &author, &texts).await?;
    delete_message_insights(&mut *conn, platform, message).await?;
    let fields = [
        JobField::new("message", message.as_str()),
        JobField::new("platform", platform.as_str()),
    ];
    delete_finished_jobs(&mut *conn, &fields, None).await?;
    Ok(true)
}
