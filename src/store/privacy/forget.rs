//! Forgetting a member of one community (`forget-me`, `privacy forget`): their messages with
//! their edits, sentiment and reaction counts, the questions they asked, their votes, their
//! role, finished jobs naming them, the conversation documents holding their words, and old
//! closed cases about them, all in one transaction; then they are excluded from recording.

use std::time::SystemTime;

use sqlx::{AnyConnection, Row};

use super::cleanup::{delete_finished_jobs, delete_gaps_quoting, JobField};
use super::{exclude_in, old_closed_cases, ExclusionReason, Subject};
use crate::core::{CommunityId, Platform, UserId};
use crate::store::kb_conversations::remove_conversation;
use crate::store::{to_millis, Backend, Store, StoreError};

/// What forgetting a member deleted (and kept). All zero: nothing was stored about them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Their messages (rows, with their edits).
    pub messages: u64,
    /// Questions they asked that Steward could not answer.
    pub gaps: u64,
    /// Their 👍/👎 votes on Steward's answers.
    pub votes: u64,
    /// Cases about them closed before the cutoff, with their appeals.
    pub cases_deleted: u64,
    /// Cases about them still open or closed since the cutoff: kept.
    pub cases_kept: u64,
    /// Conversation documents removed from the knowledge base.
    pub documents: u64,
}

/// `$head`, the ids of the member's messages in parentheses (`$1` platform, `$2` community,
/// `$3` user), then `$tail`.
macro_rules! their_messages {
    ($head:literal, $tail:literal) => {
        concat!(
            $head,
            "(SELECT id FROM messages WHERE platform = $1 AND community_id = $2 ",
            "AND author_id = $3)",
            $tail
        )
    };
}

impl Store {
    /// Forgets `user` in `community`, in one transaction: deletes their messages (rows), those
    /// messages' edits, answered marks, sentiment and reaction counts (reactions are counted
    /// without reactor ids, so those they gave stay in others' counts), the unanswered
    /// questions they asked, their votes, their role, finished jobs naming them as author, the
    /// knowledge documents `documents` ((scope, path) of the conversations holding their
    /// messages, which the caller indexes again afterwards) and cases about them closed before
    /// `cases_decided_before` with their appeals (other cases about them are kept and
    /// counted); deletes their user row when no message of theirs remains on the platform; and
    /// excludes them from recording ([`ExclusionReason::Forgotten`], from `at`). Forgetting
    /// twice deletes nothing the second time.
    pub async fn forget_member(
        &self,
        platform: Platform,
        community: &CommunityId,
        user: &UserId,
        documents: &[(String, String)],
        cases_decided_before: SystemTime,
        at: SystemTime,
    ) -> Result<Forgotten, StoreError> {
        const OPERATION: &str = "forget a member";
        let mut tx = self
            .begin_write()
            .await
            .map_err(StoreError::query(OPERATION))?;
        let member = Member {
            platform,
            community,
            user,
        };
        let cutoff = to_millis(cases_decided_before);
        let forgotten = forget(&mut tx, self.backend, &member, documents, cutoff)
            .await
            .map_err(StoreError::query(OPERATION))?;
        let subject = Subject::Member(user.clone());
        let reason = ExclusionReason::Forgotten;
        exclude_in(&mut tx, platform, community, &subject, reason, at)
            .await
            .map_err(StoreError::query(OPERATION))?;
        tx.commit().await.map_err(StoreError::query(OPERATION))?;
        Ok(forgotten)
    }
}

/// Whom to forget.
struct Member<'a> {
    platform: Platform,
    community: &'a CommunityId,
    user: &'a UserId,
}

impl Member<'_> {
    /// `sql` with `$1` platform, `$2` community and `$3` user bound, run; rows affected.
    async fn run(&self, conn: &mut AnyConnection, sql: &'static str) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(sql)
            .bind(self.platform.as_str())
            .bind(self.community.as_str())
            .bind(self.user.as_str())
            .execute(&mut *conn)
            .await?
            .rows_affected())
    }

    /// `sql` over their old closed cases ([`old_closed_cases`]: `$3` the cutoff, `$4` the
    /// user), run; rows affected.
    async fn run_cases(
        &self,
        conn: &mut AnyConnection,
        sql: &'static str,
        decided_before: i64,
    ) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(sql)
            .bind(self.platform.as_str())
            .bind(self.community.as_str())
            .bind(decided_before)
            .bind(self.user.as_str())
            .execute(&mut *conn)
            .await?
            .rows_affected())
    }

    /// Every text of theirs: their messages' current and earlier texts.
    async fn texts(&self, conn: &mut AnyConnection) -> Result<Vec<String>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT text FROM messages WHERE platform = $1 AND community_id = $2 \
             AND author_id = $3 \
             UNION ALL SELECT e.previous_text FROM message_edits AS e \
             JOIN messages AS m ON m.platform = e.platform AND m.id = e.message_id \
             WHERE m.platform = $1 AND m.community_id = $2 AND m.author_id = $3",
        )
        .bind(self.platform.as_str())
        .bind(self.community.as_str())
        .bind(self.user.as_str())
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(|row| row.try_get::<String, _>(0)).collect()
    }
}

/// [`Store::forget_member`] but the exclusion, inside the caller's transaction.
async fn forget(
    conn: &mut AnyConnection,
    backend: Backend,
    member: &Member<'_>,
    documents: &[(String, String)],
    cases_decided_before: i64,
) -> Result<Forgotten, sqlx::Error> {
    let mut forgotten = Forgotten::default();
    let texts = member.texts(&mut *conn).await?;

    // What hangs on their messages goes before the messages themselves.
    const EDITS: &str = their_messages!(
        "DELETE FROM message_edits WHERE platform = $1 AND message_id IN ",
        ""
    );
    const ANSWERED: &str = their_messages!(
        "DELETE FROM answered_messages WHERE platform = $1 AND message_id IN ",
        ""
    );
    const GAPS: &str = their_messages!(
        "DELETE FROM kb_gaps WHERE platform = $1 AND community = $2 \
         AND (user_id = $3 OR message_id IN ",
        ")"
    );
    const SENTIMENT: &str = their_messages!(
        "DELETE FROM message_sentiment WHERE platform = $1 AND message_id IN ",
        ""
    );
    const REACTIONS: &str = their_messages!(
        "DELETE FROM message_reactions WHERE platform = $1 AND message_id IN ",
        ""
    );
    member.run(&mut *conn, EDITS).await?;
    member.run(&mut *conn, ANSWERED).await?;
    member.run(&mut *conn, SENTIMENT).await?;
    member.run(&mut *conn, REACTIONS).await?;
    forgotten.gaps = member.run(&mut *conn, GAPS).await?;
    forgotten.gaps += delete_gaps_quoting(
        &mut *conn,
        member.platform,
        member.community,
        member.user,
        &texts,
    )
    .await?;
    forgotten.votes = member
        .run(
            &mut *conn,
            "DELETE FROM answer_feedback \
             WHERE platform = $1 AND community_id = $2 AND user_id = $3",
        )
        .await?;
    let fields = [
        JobField::new("author", member.user.as_str()),
        JobField::new("community", member.community.as_str()),
        JobField::new("platform", member.platform.as_str()),
    ];
    delete_finished_jobs(&mut *conn, &fields, None).await?;
    forgotten.messages = member
        .run(
            &mut *conn,
            "DELETE FROM messages WHERE platform = $1 AND community_id = $2 AND author_id = $3",
        )
        .await?;
    member
        .run(
            &mut *conn,
            "DELETE FROM member_roles WHERE platform = $1 AND community_id = $2 AND user_id = $3",
        )
        .await?;

    for (scope, path) in documents {
        if remove_conversation(&mut *conn, backend, scope, path).await? {
            forgotten.documents += 1;
        }
    }

    forgotten.cases_deleted = forget_cases(&mut *conn, member, cases_decided_before).await?;
    let kept = sqlx::query(
        "SELECT COUNT(*) FROM moderation_cases \
         WHERE platform = $1 AND community_id = $2 AND user_id = $3",
    )
    .bind(member.platform.as_str())
    .bind(member.community.as_str())
    .bind(member.user.as_str())
    .fetch_one(&mut *conn)
    .await?;
    forgotten.cases_kept = kept.try_get::<i64, _>(0)?.unsigned_abs();

    // Their user row goes with their last message on the platform (it holds their name).
    sqlx::query(
        "DELETE FROM users WHERE platform = $1 AND id = $2 \
         AND NOT EXISTS (SELECT 1 FROM messages WHERE platform = $1 AND author_id = $2)",
    )
    .bind(member.platform.as_str())
    .bind(member.user.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(forgotten)
}

/// Deletes the cases about the member closed before `decided_before` (no appeal waiting)
/// and their appeals; returns how many cases.
async fn forget_cases(
    conn: &mut AnyConnection,
    member: &Member<'_>,
    decided_before: i64,
) -> Result<u64, sqlx::Error> {
    const APPEALS: &str = old_closed_cases!(
        "DELETE FROM case_appeals WHERE case_id IN (",
        " AND c.user_id = $4",
        ")"
    );
    const CASES: &str = old_closed_cases!(
        "DELETE FROM moderation_cases WHERE id IN (",
        " AND c.user_id = $4",
        ")"
    );
    // The appeals first: the cases' condition does not change by deleting them (a case with
    // an appeal waiting is not among them).
    member
        .run_cases(&mut *conn, APPEALS, decided_before)
        .await?;
    member.run_cases(&mut *conn, CASES, decided_before).await
}
