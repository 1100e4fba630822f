//! Community conversations as knowledge sources: reading a conversation's recorded messages
//! (a thread, or a message with the replies to it), listing every message's place for a
//! backfill, and the `kb_conversations` rows that say where a conversation document came from
//! (so citations link there) and how it was vouched for (solved by its asker, marked by a
//! moderator), written and removed with the document in one transaction.
//!
//! What makes a conversation, which messages count and how it is written as a document are
//! decided above the store ([`crate::knowledge::conversations`]); the store only reads and
//! writes.

use std::time::SystemTime;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::knowledge::{remove_document, store_document, NewDocument, Stored};
use super::{from_millis, location_from_row, to_millis, Backend, Store, StoreError};
use crate::core::{ChannelId, CommunityId, Location, MessageId, Platform, ThreadId, UserId};

/// Where a passage of a community conversation was said: citations link to `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSource {
    /// Where the linked message is, with its thread if it is in one.
    pub location: Location,
    /// The message citations link to: the conversation's first message still there.
    pub message: MessageId,
    /// The member who asked marked it solved (a ✅ reaction).
    pub solved: bool,
    /// A moderator marked it (`kb mark`).
    pub marked: bool,
    /// An answer in it has positive reactions from the community (set by indexing, from the
    /// reactions as they stand).
    pub endorsed: bool,
}

impl MessageSource {
    /// Solved, marked or endorsed: someone vouched for it, and ranking weighs it more.
    pub fn vouched(&self) -> bool {
        self.solved || self.marked || self.endorsed
    }
}

/// A recorded message of a conversation, as indexing reads it: one that still has its text
/// (deleted on its platform before its text was emptied, by an older version, it says so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationMessage {
    pub id: MessageId,
    pub location: Location,
    pub author: UserId,
    /// The author's display name as last seen.
    pub author_name: String,
    /// The author is a bot (Steward included), as last seen.
    pub author_is_bot: bool,
    pub text: String,
    pub reply_to: Option<MessageId>,
    pub created_at: SystemTime,
    pub deleted: bool,
}

/// Where a recorded message sits, for working out conversations in bulk (a backfill).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageLink {
    pub id: MessageId,
    pub location: Location,
    pub reply_to: Option<MessageId>,
    /// Written by a member (not a bot) and not deleted.
    pub member: bool,
}

/// A query over the conversation rooted at `$2` in channel `$3` on platform `$1`: `$select`
/// (reading `messages AS m`) sees the CTE `replies`, the root and the replies to it outside
/// threads down to `$4` levels; add `m.thread_id = $2` for the thread's messages.
macro_rules! in_conversation {
    ($select:literal) => {
        concat!(
            "WITH RECURSIVE replies (id, depth) AS ( ",
            "SELECT CAST($2 AS TEXT), 0 ",
            "UNION ALL ",
            "SELECT m.id, r.depth + 1 FROM replies AS r ",
            "JOIN messages AS m ON m.platform = $1 AND m.reply_to = r.id ",
            "WHERE m.channel_id = $3 AND m.thread_id IS NULL AND r.depth < $4 ",
            ") ",
            $select
        )
    };
}

/// A conversation's messages: its root (`$2`) and the replies to it, level by level, at most
/// `$4` levels deep, in its channel (`$3`) outside threads; and every message of the thread
/// whose id is the root. The root itself may be unrecorded (it predates the bot), so the
/// recursion starts from its id, not its row. Messages without text (deleted, or purged by
/// retention) are not read, though replies are followed through them. Oldest first.
const CONVERSATION_MESSAGES: &str = in_conversation!(
    "SELECT m.id, m.community_id, m.channel_id, m.thread_id, m.author_id, u.display_name, \
     u.is_bot, m.text, m.reply_to, m.created_at, m.deleted_at \
     FROM messages AS m JOIN users AS u ON u.platform = m.platform AND u.id = m.author_id \
     WHERE m.platform = $1 AND m.channel_id = $3 AND m.text <> '' \
     AND (m.id IN (SELECT id FROM replies) OR m.thread_id = $2) \
     ORDER BY m.created_at, m.id"
);

/// The reaction counts on the messages of a conversation (as [`CONVERSATION_MESSAGES`]).
const CONVERSATION_REACTIONS: &str = in_conversation!(
    "SELECT x.message_id, x.emoji, x.count FROM message_reactions AS x \
     JOIN messages AS m ON m.platform = x.platform AND m.id = x.message_id \
     WHERE m.platform = $1 AND m.channel_id = $3 AND m.text <> '' \
     AND (m.id IN (SELECT id FROM replies) OR m.thread_id = $2) \
     ORDER BY x.message_id, x.emoji"
);

/// Every recorded message's place; `$tail` filters.
macro_rules! message_links {
    ($tail:literal) => {
        concat!(
            "SELECT m.platform, m.id, m.community_id, m.channel_id, m.thread_id, m.reply_to, ",
            "m.deleted_at, u.is_bot FROM messages AS m ",
            "JOIN users AS u ON u.platform = m.platform AND u.id = m.author_id ",
            $tail,
            " ORDER BY m.created_at, m.platform, m.id"
        )
    };
}

const ALL_MESSAGE_LINKS: &str = message_links!("");
const COMMUNITY_MESSAGE_LINKS: &str =
    message_links!("WHERE m.platform = $1 AND m.community_id = $2");

/// Inserts a conversation's row; when it exists, `$link` decides whether the linked place is
/// replaced. Flags are only added here: indexing never clears them (only the asker taking
/// their ✅ back does, through [`Store::kb_unsolve_conversation`]).
macro_rules! upsert_conversation {
    ($link:literal) => {
        concat!(
            "INSERT INTO kb_conversations (scope, path, platform, community_id, channel_id, ",
            "root_id, thread_id, message_id, solved, marked, endorsed, updated_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $11) ",
            "ON CONFLICT (scope, path) DO UPDATE SET ",
            $link,
            "solved = CASE WHEN excluded.solved = 1 THEN 1 ELSE kb_conversations.solved END, ",
            "marked = CASE WHEN excluded.marked = 1 THEN 1 ELSE kb_conversations.marked END, ",
            "updated_at = excluded.updated_at"
        )
    };
}

/// Vouching: the link stays as indexing last wrote it.
const VOUCH_CONVERSATION: &str = upsert_conversation!("");
/// Indexing: the link follows the conversation (its first message may have been deleted),
/// and `endorsed` the reactions as they stand.
const STORE_CONVERSATION: &str = upsert_conversation!(
    "community_id = excluded.community_id, channel_id = excluded.channel_id, \
     root_id = excluded.root_id, thread_id = excluded.thread_id, \
     message_id = excluded.message_id, endorsed = excluded.endorsed, "
);

impl Store {
    /// The recorded messages of the conversation rooted at `root` in `channel` that still have
    /// their text (bots' included; the caller decides what counts), oldest first: the root,
    /// the replies to it outside threads down to `max_depth` levels, and the messages of the
    /// thread `root` (a thread's id is its root's). Deleted and purged messages, whose text
    /// is empty, are left out.
    pub async fn conversation_messages(
        &self,
        platform: Platform,
        channel: &ChannelId,
        root: &MessageId,
        max_depth: u32,
    ) -> Result<Vec<ConversationMessage>, StoreError> {
        const OPERATION: &str = "read a conversation";
        let rows = self
            .conversation_rows(
                CONVERSATION_MESSAGES,
                OPERATION,
                (platform, channel, root),
                max_depth,
            )
            .await?;
        rows.iter()
            .map(|row| conversation_message(platform, row))
            .collect::<Result<_, _>>()
            .map_err(StoreError::query(OPERATION))
    }

    /// How many times each emoji was put on each message of the conversation rooted at
    /// `root` (the messages [`Store::conversation_messages`] reads): (message, emoji, count).
    pub async fn conversation_reactions(
        &self,
        platform: Platform,
        channel: &ChannelId,
        root: &MessageId,
        max_depth: u32,
    ) -> Result<Vec<(MessageId, String, u32)>, StoreError> {
        const OPERATION: &str = "read a conversation's reactions";
        let rows = self
            .conversation_rows(
                CONVERSATION_REACTIONS,
                OPERATION,
                (platform, channel, root),
                max_depth,
            )
            .await?;
        let reaction = |row: &AnyRow| -> Result<(MessageId, String, u32), sqlx::Error> {
            let count = row.try_get::<i64, _>(2)?;
            Ok((
                MessageId::new(row.try_get::<String, _>(0)?),
                row.try_get(1)?,
                u32::try_from(count.max(0)).unwrap_or(u32::MAX),
            ))
        };
        rows.iter()
            .map(reaction)
            .collect::<Result<_, _>>()
            .map_err(StoreError::query(OPERATION))
    }

    /// The rows of `sql`, a query made with `in_conversation!`, for the conversation rooted at
    /// `root` in `channel`.
    async fn conversation_rows(
        &self,
        sql: &'static str,
        operation: &'static str,
        (platform, channel, root): (Platform, &ChannelId, &MessageId),
        max_depth: u32,
    ) -> Result<Vec<AnyRow>, StoreError> {
        sqlx::query(sql)
            .bind(platform.as_str())
            .bind(root.as_str())
            .bind(channel.as_str())
            .bind(i64::from(max_depth))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(operation))
    }

    /// Where every recorded message sits (of one community, or all), oldest first.
    pub async fn message_links(
        &self,
        community: Option<(Platform, &CommunityId)>,
    ) -> Result<Vec<MessageLink>, StoreError> {
        const OPERATION: &str = "list recorded messages";
        let query = match community {
            Some((platform, id)) => sqlx::query(COMMUNITY_MESSAGE_LINKS)
                .bind(platform.as_str())
                .bind(id.as_str()),
            None => sqlx::query(ALL_MESSAGE_LINKS),
        };
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        let mut links = Vec::with_capacity(rows.len());
        for row in &rows {
            if let Some(link) = message_link(row).map_err(StoreError::query(OPERATION))? {
                links.push(link);
            }
        }
        Ok(links)
    }

    /// The source row of the conversation document `path` in `scope`, if there is one (a
    /// vouched conversation has one before it is indexed).
    pub async fn kb_conversation_source(
        &self,
        scope: &str,
        path: &str,
    ) -> Result<Option<MessageSource>, StoreError> {
        const OPERATION: &str = "read a conversation source";
        let row = sqlx::query(
            "SELECT platform, community_id, channel_id, thread_id, message_id, solved, marked, \
             endorsed FROM kb_conversations WHERE scope = $1 AND path = $2",
        )
        .bind(scope)
        .bind(path)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        let Some(row) = row else {
            return Ok(None);
        };
        source_row(&row).map_err(StoreError::query(OPERATION))
    }

    /// Records that someone vouched for a conversation (the flags set in `source`: solved,
    /// marked), before or after it is indexed. Flags already set stay set; an existing row
    /// keeps its link, a new one links to `source`'s message.
    pub async fn kb_vouch_conversation(
        &self,
        (scope, path): (&str, &str),
        root: &MessageId,
        source: &MessageSource,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        let result = async {
            let mut conn = self.pool.acquire().await?;
            upsert_source(
                &mut conn,
                VOUCH_CONVERSATION,
                (scope, path),
                root,
                source,
                now,
            )
            .await
        };
        result
            .await
            .map_err(StoreError::query("vouch for a conversation"))
    }

    /// Clears a conversation's solved flag (its asker took their ✅ back); a moderator's mark
    /// stays. False when there was no row or it was not solved.
    pub async fn kb_unsolve_conversation(
        &self,
        (scope, path): (&str, &str),
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE kb_conversations SET solved = 0, updated_at = $3 \
             WHERE scope = $1 AND path = $2 AND solved = 1",
        )
        .bind(scope)
        .bind(path)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("take a conversation's solved mark back"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Stores a conversation's document (as [`Store::kb_store_document`]: an unchanged text
    /// is left alone, a changed one replaces its passages) and its source row, in one
    /// transaction. The row links to `source`'s message; its flags are added to those
    /// already recorded.
    pub async fn kb_store_conversation(
        &self,
        document: &NewDocument,
        root: &MessageId,
        source: &MessageSource,
        now: SystemTime,
    ) -> Result<Stored, StoreError> {
        let result = async {
            let mut tx = self.begin_write().await?;
            let stored = store_document(&mut tx, self.backend, document, now).await?;
            let key = (document.scope.as_str(), document.path.as_str());
            upsert_source(&mut tx, STORE_CONVERSATION, key, root, source, now).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(stored)
        };
        result
            .await
            .map_err(StoreError::query("store a conversation"))
    }

    /// Removes a conversation's document (with its passages, index rows, frequencies and
    /// vectors) and its source row, in one transaction. False if there was no document.
    pub async fn kb_remove_conversation(
        &self,
        scope: &str,
        path: &str,
    ) -> Result<bool, StoreError> {
        let result = async {
            let mut tx = self.begin_write().await?;
            let removed = remove_conversation(&mut tx, self.backend, scope, path).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(removed)
        };
        result
            .await
            .map_err(StoreError::query("remove a conversation"))
    }
}

/// [`Store::kb_remove_conversation`] inside the caller's transaction (forgetting a member
/// removes the conversations holding their words in its own).
pub(super) async fn remove_conversation(
    conn: &mut AnyConnection,
    backend: Backend,
    scope: &str,
    path: &str,
) -> Result<bool, sqlx::Error> {
    let removed = remove_document(&mut *conn, backend, scope, path).await?;
    sqlx::query("DELETE FROM kb_conversations WHERE scope = $1 AND path = $2")
        .bind(scope)
        .bind(path)
        .execute(&mut *conn)
        .await?;
    Ok(removed)
}

/// Writes a conversation's source row with `sql` ([`VOUCH_CONVERSATION`] or
/// [`STORE_CONVERSATION`]).
async fn upsert_source(
    conn: &mut AnyConnection,
    sql: &'static str,
    (scope, path): (&str, &str),
    root: &MessageId,
    source: &MessageSource,
    now: SystemTime,
) -> Result<(), sqlx::Error> {
    let location = &source.location;
    sqlx::query(sql)
        .bind(scope)
        .bind(path)
        .bind(location.platform.as_str())
        .bind(location.community.as_str())
        .bind(location.channel.as_str())
        .bind(root.as_str())
        .bind(location.thread.as_ref().map(ThreadId::as_str))
        .bind(source.message.as_str())
        .bind(i64::from(source.solved))
        .bind(i64::from(source.marked))
        .bind(to_millis(now))
        .bind(i64::from(source.endorsed))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A `kb_conversations` row as a source; `None` for a platform this version does not know.
fn source_row(row: &AnyRow) -> Result<Option<MessageSource>, sqlx::Error> {
    let platform: String = row.try_get("platform")?;
    let Some(platform) = Platform::parse(&platform) else {
        return Ok(None);
    };
    Ok(Some(MessageSource {
        location: location_from_row(platform, row)?,
        message: MessageId::new(row.try_get::<String, _>("message_id")?),
        solved: row.try_get::<i64, _>("solved")? != 0,
        marked: row.try_get::<i64, _>("marked")? != 0,
        endorsed: row.try_get::<i64, _>("endorsed")? != 0,
    }))
}

/// A row of [`CONVERSATION_MESSAGES`].
fn conversation_message(
    platform: Platform,
    row: &AnyRow,
) -> Result<ConversationMessage, sqlx::Error> {
    Ok(ConversationMessage {
        id: MessageId::new(row.try_get::<String, _>("id")?),
        location: location_from_row(platform, row)?,
        author: UserId::new(row.try_get::<String, _>("author_id")?),
        author_name: row.try_get("display_name")?,
        author_is_bot: row.try_get::<i64, _>("is_bot")? != 0,
        text: row.try_get("text")?,
        reply_to: row
            .try_get::<Option<String>, _>("reply_to")?
            .map(MessageId::new),
        created_at: from_millis(row.try_get("created_at")?),
        deleted: row.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
    })
}

/// A row of the message links queries; `None` for a platform this version does not know.
fn message_link(row: &AnyRow) -> Result<Option<MessageLink>, sqlx::Error> {
    let platform: String = row.try_get("platform")?;
    let Some(platform) = Platform::parse(&platform) else {
        return Ok(None);
    };
    let deleted = row.try_get::<Option<i64>, _>("deleted_at")?.is_some();
    let bot = row.try_get::<i64, _>("is_bot")? != 0;
    Ok(Some(MessageLink {
        id: MessageId::new(row.try_get::<String, _>("id")?),
        location: location_from_row(platform, row)?,
        reply_to: row
            .try_get::<Option<String>, _>("reply_to")?
            .map(MessageId::new),
        member: !bot && !deleted,
    }))
}
