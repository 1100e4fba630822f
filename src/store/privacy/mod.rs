//! Members' data: who is not recorded (exclusions), forgetting a member, exporting what is
//! stored about them, and retention (purging what is older than a community keeps).
//!
//! Policy (`docs/privacy.md`): a deleted or purged message keeps its row (ids and times, for
//! counts) but not its words, nor what insights derived from it (sentiment, reaction counts); a
//! forgotten member's messages (with those), votes, questions and role are deleted, and
//! moderation cases about them are kept only while open or recently closed. Exclusions never
//! hold a member's id in clear: the subject is [`member_hash`]. What counts as old, and which
//! conversation documents hold a member's words, are decided above the store; the store
//! deletes what it is told, each operation in one transaction.

pub(crate) mod cleanup;
mod export;
mod forget;
mod purge;
mod scan;

use std::time::SystemTime;

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use super::{to_millis, Store, StoreError};
use crate::core::{ChannelId, CommunityId, Location, MessageId, Platform, UserId};

pub use export::{
    rfc3339_utc, ExportedAppeal, ExportedCase, ExportedEdit, ExportedGap, ExportedMessage,
    ExportedVote, MemberExport,
};
pub use forget::Forgotten;
pub use purge::Purged;

/// `$head`, the ids of the cases of community `$1:$2` closed before `$3` (milliseconds) with
/// no appeal waiting for a moderator, `$filter`, then `$tail`: what retention may empty and
/// forgetting may delete. (A case with an open appeal is still being decided.)
macro_rules! old_closed_cases {
    ($head:literal, $filter:literal, $tail:literal) => {
        concat!(
            $head,
            "SELECT c.id FROM moderation_cases AS c ",
            "WHERE c.platform = $1 AND c.community_id = $2 AND c.status <> 'open' ",
            "AND c.decided_at IS NOT NULL AND c.decided_at < $3 ",
            "AND NOT EXISTS (SELECT 1 FROM case_appeals AS a ",
            "WHERE a.case_id = c.id AND a.outcome IS NULL)",
            $filter,
            $tail
        )
    };
}
use old_closed_cases;

/// Who or what is not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A member (stored as [`member_hash`]).
    Member(UserId),
    /// A channel (stored by id); its threads are excluded with it.
    Channel(ChannelId),
}

impl Subject {
    /// The stored `kind` and `subject` columns.
    fn key(&self, platform: Platform, community: &CommunityId) -> (&'static str, String) {
        match self {
            Subject::Member(user) => ("member", member_hash(platform, community, user)),
            Subject::Channel(channel) => ("channel", channel.as_str().to_string()),
        }
    }
}

/// Why a subject is not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExclusionReason {
    /// The member opted out (`privacy opt-out`).
    OptOut,
    /// The member asked to be forgotten (`forget-me`), or a moderator forgot them.
    Forgotten,
    /// A moderator's choice (`privacy channel off`).
    Moderator,
}

impl ExclusionReason {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            ExclusionReason::OptOut => "opt_out",
            ExclusionReason::Forgotten => "forgotten",
            ExclusionReason::Moderator => "moderator",
        }
    }

    /// The reason stored as `text`; `None` for text this version does not know.
    pub fn parse(text: &str) -> Option<Self> {
        [
            ExclusionReason::OptOut,
            ExclusionReason::Forgotten,
            ExclusionReason::Moderator,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == text)
    }
}

/// How an excluded member is stored: lowercase hex SHA-256 of
/// `"steward-member\0{platform}\0{community}\0{user}"`. The same member in another community
/// has another hash, and the row does not say who they are.
pub fn member_hash(platform: Platform, community: &CommunityId, user: &UserId) -> String {
    let key = format!(
        "steward-member\0{}\0{}\0{}",
        platform.as_str(),
        community.as_str(),
        user.as_str()
    );
    format!("{:x}", Sha256::digest(key.as_bytes()))
}

impl Store {
    /// Stops recording `subject` in `community` from now on. Returns true when it was not
    /// excluded yet; an existing exclusion keeps its time and takes the new reason.
    pub async fn exclude(
        &self,
        platform: Platform,
        community: &CommunityId,
        subject: &Subject,
        reason: ExclusionReason,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "exclude from recording";
        let mut tx = self
            .begin_write()
            .await
            .map_err(StoreError::query(OPERATION))?;
        let new = exclude_in(&mut tx, platform, community, subject, reason, at)
            .await
            .map_err(StoreError::query(OPERATION))?;
        tx.commit().await.map_err(StoreError::query(OPERATION))?;
        Ok(new)
    }

    /// Records `subject` again (whatever the reason it was excluded, `forgotten` included: a
    /// member who opts in comes back by choice). Returns true when there was an exclusion.
    pub async fn include(
        &self,
        platform: Platform,
        community: &CommunityId,
        subject: &Subject,
    ) -> Result<bool, StoreError> {
        let (kind, key) = subject.key(platform, community);
        let result = sqlx::query(
            "DELETE FROM privacy_exclusions \
             WHERE platform = $1 AND community_id = $2 AND kind = $3 AND subject = $4",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(kind)
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("include in recording"))?;
        Ok(result.rows_affected() > 0)
    }

    /// The member's exclusion reason, if any.
    pub async fn member_exclusion(
        &self,
        platform: Platform,
        community: &CommunityId,
        user: &UserId,
    ) -> Result<Option<ExclusionReason>, StoreError> {
        const OPERATION: &str = "read a member's exclusion";
        let row = sqlx::query(
            "SELECT reason FROM privacy_exclusions \
             WHERE platform = $1 AND community_id = $2 AND kind = 'member' AND subject = $3",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(member_hash(platform, community, user))
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let text: String = row.try_get(0).map_err(StoreError::query(OPERATION))?;
        ExclusionReason::parse(&text).map(Some).ok_or_else(|| {
            StoreError::query(OPERATION)(sqlx::Error::Decode(
                format!("unknown value {text:?} in privacy_exclusions.reason").into(),
            ))
        })
    }

    /// False when the channel of `location` (or its thread) or `author` is excluded in its
    /// community (one query).
    pub async fn is_recorded(
        &self,
        location: &Location,
        author: &UserId,
    ) -> Result<bool, StoreError> {
        let platform = location.platform;
        let channel = location.channel.as_str();
        let thread = location
            .thread
            .as_ref()
            .map_or(channel, |thread| thread.as_str());
        let row = sqlx::query(
            "SELECT COUNT(*) FROM privacy_exclusions WHERE platform = $1 AND community_id = $2 \
             AND ((kind = 'member' AND subject = $3) OR (kind = 'channel' AND subject IN ($4, $5)))",
        )
        .bind(platform.as_str())
        .bind(location.community.as_str())
        .bind(member_hash(platform, &location.community, author))
        .bind(channel)
        .bind(thread)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::query("read whether a message is recorded"))?;
        let excluded: i64 = row
            .try_get(0)
            .map_err(StoreError::query("read whether a message is recorded"))?;
        Ok(excluded == 0)
    }

    /// Ids of the member's stored messages in the community, oldest first (for the caller to
    /// find their conversations before forgetting).
    pub async fn member_message_ids(
        &self,
        platform: Platform,
        community: &CommunityId,
        user: &UserId,
    ) -> Result<Vec<MessageId>, StoreError> {
        const OPERATION: &str = "list a member's messages";
        let rows = sqlx::query(
            "SELECT id FROM messages WHERE platform = $1 AND community_id = $2 \
             AND author_id = $3 ORDER BY created_at, id",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        rows.iter()
            .map(|row| Ok(MessageId::new(row.try_get::<String, _>(0)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::query(OPERATION))
    }

    /// Everyone the community has data about (for the owner's whole-community export): the
    /// authors of its stored messages, and members with a vote, an unanswered question, a
    /// case or a recorded role there. Sorted by id.
    pub async fn community_members(
        &self,
        platform: Platform,
        community: &CommunityId,
    ) -> Result<Vec<UserId>, StoreError> {
        const OPERATION: &str = "list a community's members";
        let rows = sqlx::query(
            "SELECT author_id AS id FROM messages WHERE platform = $1 AND community_id = $2 \
             UNION SELECT user_id FROM answer_feedback WHERE platform = $1 AND community_id = $2 \
             UNION SELECT user_id FROM kb_gaps \
             WHERE platform = $1 AND community = $2 AND user_id IS NOT NULL \
             UNION SELECT user_id FROM moderation_cases WHERE platform = $1 AND community_id = $2 \
             UNION SELECT user_id FROM member_roles WHERE platform = $1 AND community_id = $2",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        let mut members = rows
            .iter()
            .map(|row| Ok(UserId::new(row.try_get::<String, _>(0)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(StoreError::query(OPERATION))?;
        // PostgreSQL orders text by its collation; byte order is the same everywhere.
        members.sort();
        Ok(members)
    }

    /// Every community Steward has a row for: (platform, id), sorted. Communities of a
    /// platform this version does not know are left out.
    pub async fn communities(&self) -> Result<Vec<(Platform, CommunityId)>, StoreError> {
        const OPERATION: &str = "list communities";
        let rows = sqlx::query("SELECT platform, id FROM communities")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        let mut communities = Vec::with_capacity(rows.len());
        for row in &rows {
            let platform: String = row.try_get(0).map_err(StoreError::query(OPERATION))?;
            let id: String = row.try_get(1).map_err(StoreError::query(OPERATION))?;
            if let Some(platform) = Platform::parse(&platform) {
                communities.push((platform, CommunityId::new(id)));
            }
        }
        communities.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
        Ok(communities)
    }

    /// The indexed (or vouched) conversations of a community: (channel, root) pairs from
    /// `kb_conversations`, sorted.
    pub async fn kb_conversation_roots(
        &self,
        platform: Platform,
        community: &CommunityId,
    ) -> Result<Vec<(ChannelId, MessageId)>, StoreError> {
        const OPERATION: &str = "list a community's conversations";
        let rows = sqlx::query(
            "SELECT channel_id, root_id FROM kb_conversations \
             WHERE platform = $1 AND community_id = $2",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        let mut roots = rows
            .iter()
            .map(|row| {
                Ok((
                    ChannelId::new(row.try_get::<String, _>("channel_id")?),
                    MessageId::new(row.try_get::<String, _>("root_id")?),
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(StoreError::query(OPERATION))?;
        roots.sort();
        roots.dedup();
        Ok(roots)
    }
}

/// [`Store::exclude`] inside the caller's transaction.
async fn exclude_in(
    conn: &mut AnyConnection,
    platform: Platform,
    community: &CommunityId,
    subject: &Subject,
    reason: ExclusionReason,
    at: SystemTime,
) -> Result<bool, sqlx::Error> {
    let (kind, key) = subject.key(platform, community);
    let inserted = sqlx::query(
        "INSERT INTO privacy_exclusions (platform, community_id, kind, subject, reason, since) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (platform, community_id, kind, subject) DO NOTHING",
    )
    .bind(platform.as_str())
    .bind(community.as_str())
    .bind(kind)
    .bind(key.as_str())
    .bind(reason.as_str())
    .bind(to_millis(at))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        sqlx::query(
            "UPDATE privacy_exclusions SET reason = $1 \
             WHERE platform = $2 AND community_id = $3 AND kind = $4 AND subject = $5",
        )
        .bind(reason.as_str())
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(kind)
        .bind(key.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(inserted > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_back() {
        for reason in [
            ExclusionReason::OptOut,
            ExclusionReason::Forgotten,
            ExclusionReason::Moderator,
        ] {
            assert_eq!(ExclusionReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(ExclusionReason::parse("bored"), None);
    }

    #[test]
    fn member_hashes_hide_the_id_and_differ_per_community() {
        let user = UserId::new("1234567890");
        let here = member_hash(Platform::Discord, &CommunityId::new("g1"), &user);
        assert_eq!(here.len(), 64);
        assert!(here
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!(!here.contains("1234567890"));
        assert_ne!(
            here,
            member_hash(Platform::Discord, &CommunityId::new("g2"), &user)
        );
        assert_ne!(
            here,
            member_hash(Platform::Matrix, &CommunityId::new("g1"), &user)
        );
        // The separator keeps ("g1", "x") and ("g", "1x") apart.
        assert_ne!(
            member_hash(
                Platform::Discord,
                &CommunityId::new("g1"),
                &UserId::new("x")
            ),
            member_hash(
                Platform::Discord,
                &CommunityId::new("g"),
                &UserId::new("1x")
            )
        );
    }
}
