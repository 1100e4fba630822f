//! Retention: what one community keeps for a limited time. Messages older than the cutoff keep
//! their rows (for counts) but not their text; their edits, sentiment and reaction counts,
//! unanswered questions asked before the cutoff and finished jobs created before it are
//! deleted; cases closed long enough ago keep their facts but not the excerpt of the message
//! nor their appeals' text.

use std::time::SystemTime;

use sqlx::AnyConnection;

use super::cleanup::{delete_finished_jobs, JobField};
use super::old_closed_cases;
use crate::core::{CommunityId, Platform};
use crate::store::{to_millis, Store, StoreError};

/// What a retention purge emptied or deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    /// Messages whose text was emptied.
    pub messages: u64,
    /// Earlier texts (edit history) deleted.
    pub edits: u64,
    /// Unanswered questions deleted.
    pub gaps: u64,
    /// Finished jobs deleted.
    pub jobs: u64,
    /// Closed cases whose excerpt was emptied.
    pub case_excerpts: u64,
}

impl Store {
    /// Retention for one community, in one transaction: messages created before
    /// `messages_before` get an empty text (their rows stay) and lose their edit history,
    /// sentiment and reaction counts; unanswered questions asked before it and finished jobs
    /// about the community created before it are deleted; cases closed before
    /// `cases_decided_before` (with no appeal waiting) get an empty excerpt, and their appeals
    /// an empty text. Purging again changes nothing. Re-indexing the community's conversations
    /// is the caller's.
    pub async fn purge_before(
        &self,
        platform: Platform,
        community: &CommunityId,
        messages_before: SystemTime,
        cases_decided_before: SystemTime,
    ) -> Result<Purged, StoreError> {
        const OPERATION: &str = "purge old data";
        let mut tx = self
            .begin_write()
            .await
            .map_err(StoreError::query(OPERATION))?;
        let cutoffs = (to_millis(messages_before), to_millis(cases_decided_before));
        let purged = purge(&mut tx, platform, community, cutoffs)
            .await
            .map_err(StoreError::query(OPERATION))?;
        tx.commit().await.map_err(StoreError::query(OPERATION))?;
        Ok(purged)
    }
}

/// [`Store::purge_before`] inside the caller's transaction; cutoffs in milliseconds.
async fn purge(
    conn: &mut AnyConnection,
    platform: Platform,
    community: &CommunityId,
    (messages_before, cases_decided_before): (i64, i64),
) -> Result<Purged, sqlx::Error> {
    // Each statement: `$1` platform, `$2` community, `$3` the cutoff.
    const EDITS: &str = "DELETE FROM message_edits WHERE platform = $1 AND message_id IN \
         (SELECT id FROM messages WHERE platform = $1 AND community_id = $2 AND created_at < $3)";
    const MESSAGES: &str = "UPDATE messages SET text = '' \
         WHERE platform = $1 AND community_id = $2 AND created_at < $3 AND text <> ''";
    const GAPS: &str =
        "DELETE FROM kb_gaps WHERE platform = $1 AND community = $2 AND asked_at < $3";
    // A sentiment row copies its message's community and time.
    const SENTIMENT: &str = "DELETE FROM message_sentiment \
         WHERE platform = $1 AND community_id = $2 AND created_at < $3";
    const REACTIONS: &str = "DELETE FROM message_reactions WHERE platform = $1 AND message_id IN \
         (SELECT id FROM messages WHERE platform = $1 AND community_id = $2 AND created_at < $3)";
    const EXCERPTS: &str = old_closed_cases!(
        "UPDATE moderation_cases SET excerpt = '' WHERE excerpt <> '' AND id IN (",
        "",
        ")"
    );
    const APPEALS: &str = old_closed_cases!(
        "UPDATE case_appeals SET text = '' WHERE text <> '' AND case_id IN (",
        "",
        ")"
    );
    let place = (platform, community);
    let mut purged = Purged {
        edits: run(&mut *conn, EDITS, place, messages_before).await?,
        messages: run(&mut *conn, MESSAGES, place, messages_before).await?,
        gaps: run(&mut *conn, GAPS, place, messages_before).await?,
        ..Purged::default()
    };
    run(&mut *conn, SENTIMENT, place, messages_before).await?;
    run(&mut *conn, REACTIONS, place, messages_before).await?;
    let fields = [
        JobField::new("community", community.as_str()),
        JobField::new("platform", platform.as_str()),
    ];
    purged.jobs = delete_finished_jobs(&mut *conn, &fields, Some(messages_before)).await?;
    purged.case_excerpts = run(&mut *conn, EXCERPTS, place, cases_decided_before).await?;
    run(&mut *conn, APPEALS, place, cases_decided_before).await?;
    Ok(purged)
}

/// `sql` with `$1` platform, `$2` community and `$3` `cutoff` bound, run; rows affected.
async fn run(
    conn: &mut AnyConnection,
    sql: &'static str,
    (platform, community): (Platform, &CommunityId),
    cutoff: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(sql)
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(cutoff)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}
