//! Searching the knowledge base and recording what it could not answer: full-text
//! candidates for a question's terms, the term statistics ranking needs, and knowledge gaps.
//!
//! Query strings for the full-text index are built only from terms made of letters and digits
//! (others are skipped), each quoted, and always bound as a parameter.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::SystemTime;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::kb_conversations::MessageSource;
use super::knowledge::{Candidate, Gap, TermStats, ALL_COMMUNITIES, MAX_TERM_BYTES};
use super::{from_millis, to_millis, Backend, Store, StoreError};
use crate::core::{ChannelId, CommunityId, Location, MessageId, Platform, ThreadId, UserId};

/// The most gaps [`Store::kb_gaps`] returns.
const MAX_GAPS: i64 = 1000;

/// A candidates query: the columns of a candidate (passage `p`, document `d`, and the
/// conversation `c` it came from, if any: `LEFT JOIN kb_conversations AS c ON c.scope =
/// d.scope AND c.path = d.path`), read by [`candidate_from_row`], then `$tail`.
macro_rules! candidate_query {
    ($tail:literal) => {
        concat!(
            "SELECT p.id AS id, d.path AS path, p.heading AS heading, p.text AS text, ",
            "p.terms AS terms, c.platform AS source_platform, ",
            "c.community_id AS source_community, c.channel_id AS source_channel, ",
            "c.thread_id AS source_thread, c.message_id AS source_message, ",
            "c.solved AS source_solved, c.marked AS source_marked, ",
            "c.endorsed AS source_endorsed ",
            $tail
        )
    };
}
pub(super) use candidate_query;

/// Candidates on SQLite: the FTS5 table drives the join (`CROSS JOIN` keeps it the outer loop,
/// so `MATCH` and `bm25` always run on it), best `bm25` first (lower is better), then by id.
/// Parameters: $1 the FTS5 query, $2 and $3 the visible scopes, $4 the limit.
const CANDIDATES_SQLITE: &str = candidate_query!(
    "FROM (SELECT rowid AS passage_id, bm25(kb_passages_fts) AS score FROM kb_passages_fts \
     WHERE kb_passages_fts MATCH $1) AS m \
     CROSS JOIN kb_passages AS p ON p.id = m.passage_id \
     CROSS JOIN kb_documents AS d ON d.id = p.document_id \
     LEFT JOIN kb_conversations AS c ON c.scope = d.scope AND c.path = d.path \
     WHERE d.scope IN ($2, $3) \
     ORDER BY m.score, p.id LIMIT $4"
);

/// Candidates on PostgreSQL: the GIN index on `lexemes` finds the passages, best `ts_rank`
/// first, then by id. Parameters as for [`CANDIDATES_SQLITE`], $1 being a tsquery's text.
const CANDIDATES_POSTGRES: &str = candidate_query!(
    "FROM kb_passages AS p JOIN kb_documents AS d ON d.id = p.document_id \
     LEFT JOIN kb_conversations AS c ON c.scope = d.scope AND c.path = d.path \
     WHERE p.lexemes @@ $1::tsquery AND d.scope IN ($2, $3) \
     ORDER BY ts_rank(p.lexemes, $1::tsquery) DESC, p.id LIMIT $4"
);

impl Store {
    /// The passages visible in `scope` (documents of that scope and of [`ALL_COMMUNITIES`])
    /// in which any of `terms` occurs, at most `limit`: the index's own best first (FTS5
    /// `bm25` on SQLite, `ts_rank` on PostgreSQL), ties by passage id, so the answer is
    /// deterministic. Terms that are empty, not made of letters and digits only, or very long
    /// are skipped; with no term left the answer is empty (and nothing is queried).
    pub async fn kb_candidates(
        &self,
        terms: &[String],
        scope: &str,
        limit: usize,
    ) -> Result<Vec<Candidate>, StoreError> {
        const OPERATION: &str = "find knowledge candidates";
        let mut seen = HashSet::new();
        let wanted: Vec<&str> = terms
            .iter()
            .map(String::as_str)
            .filter(|term| searchable(term))
            .filter(|term| seen.insert(*term))
            .collect();
        if wanted.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        // Each term is letters and digits only, so quoting it cannot change the query's shape.
        let (sql, query) = match self.backend {
            Backend::Sqlite => (
                CANDIDATES_SQLITE,
                wanted
                    .iter()
                    .map(|term| format!("\"{term}\""))
                    .collect::<Vec<_>>()
                    .join(" OR "),
            ),
            Backend::Postgres => (
                CANDIDATES_POSTGRES,
                wanted
                    .iter()
                    .map(|term| format!("'{term}'"))
                    .collect::<Vec<_>>()
                    .join(" | "),
            ),
        };
        let rows = sqlx::query(sql)
            .bind(query)
            .bind(ALL_COMMUNITIES)
            .bind(scope)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        rows.iter()
            .map(candidate_from_row)
            .collect::<Result<_, _>>()
            .map_err(StoreError::query(OPERATION))
    }

    /// Statistics for ranking: how many passages are stored, their mean number of terms (0.0
    /// when there are none), and for each of `terms` stored in some passage, in how many
    /// (terms in none are absent from the map). Read in one transaction, so consistent.
    pub async fn kb_term_stats(&self, terms: &[String]) -> Result<TermStats, StoreError> {
        const OPERATION: &str = "read knowledge term statistics";
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(StoreError::query(OPERATION))?;
        // SUM of BIGINT is NUMERIC on PostgreSQL, which the `Any` driver cannot read.
        let row = sqlx::query(
            "SELECT COUNT(*) AS passages, CAST(COALESCE(SUM(term_count), 0) AS BIGINT) AS terms \
             FROM kb_passages",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::query(OPERATION))?;
        let passages: i64 = row
            .try_get("passages")
            .map_err(StoreError::query(OPERATION))?;
        let total_terms: i64 = row.try_get("terms").map_err(StoreError::query(OPERATION))?;
        let passages = u64::try_from(passages).unwrap_or(0);
        let average_terms = if passages == 0 {
            0.0
        } else {
            total_terms.max(0) as f64 / passages as f64
        };

        let mut document_frequency = HashMap::new();
        let asked: BTreeSet<&str> = terms
            .iter()
            .map(String::as_str)
            .filter(|term| !term.is_empty())
            .collect();
        for term in asked {
            let row = sqlx::query("SELECT passages FROM kb_terms WHERE term = $1")
                .bind(term)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::query(OPERATION))?;
            if let Some(row) = row {
                let count: i64 = row.try_get(0).map_err(StoreError::query(OPERATION))?;
                if count > 0 {
                    document_frequency.insert(term.to_string(), count.unsigned_abs());
                }
            }
        }
        tx.commit().await.map_err(StoreError::query(OPERATION))?;
        Ok(TermStats {
            passages,
            average_terms,
            document_frequency,
        })
    }

    /// Records a question of `community` that Steward could not answer, with its query terms,
    /// who asked and in which message (when the caller knows it): deleting the message or
    /// forgetting the member deletes the question too.
    #[allow(clippy::too_many_arguments)]
    pub async fn kb_record_gap(
        &self,
        platform: Platform,
        community: &CommunityId,
        asker: &UserId,
        message: Option<&MessageId>,
        question: &str,
        terms: &[String],
        now: SystemTime,
    ) -> Result<(), StoreError> {
        let terms = terms
            .iter()
            .flat_map(|term| term.split_whitespace())
            .collect::<Vec<_>>()
            .join(" ");
        sqlx::query(
            "INSERT INTO kb_gaps (platform, community, user_id, message_id, question, terms, \
             asked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(asker.as_str())
        .bind(message.map(MessageId::as_str))
        .bind(question)
        .bind(terms)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("record a knowledge gap"))?;
        Ok(())
    }

    /// The unanswered questions of `community` asked at or after `since`, newest first, at
    /// most 1000.
    pub async fn kb_gaps(
        &self,
        platform: Platform,
        community: &CommunityId,
        since: SystemTime,
    ) -> Result<Vec<Gap>, StoreError> {
        const OPERATION: &str = "list knowledge gaps";
        let rows = sqlx::query(
            "SELECT question, terms, asked_at FROM kb_gaps \
             WHERE platform = $1 AND community = $2 AND asked_at >= $3 \
             ORDER BY asked_at DESC, id DESC LIMIT $4",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(to_millis(since))
        .bind(MAX_GAPS)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        rows.iter()
            .map(gap_from_row)
            .collect::<Result<_, _>>()
            .map_err(StoreError::query(OPERATION))
    }
}

/// Whether a term may enter a full-text query: letters and digits only, not empty, not over
/// [`MAX_TERM_BYTES`].
fn searchable(term: &str) -> bool {
    !term.is_empty() && term.len() <= MAX_TERM_BYTES && term.chars().all(char::is_alphanumeric)
}

/// A row of a candidates query ([`candidate_query`]) as a candidate (its terms split at the
/// spaces, its message source when it has one).
pub(super) fn candidate_from_row(row: &AnyRow) -> Result<Candidate, sqlx::Error> {
    let terms: String = row.try_get("terms")?;
    Ok(Candidate {
        id: row.try_get("id")?,
        path: row.try_get("path")?,
        heading: row.try_get("heading")?,
        text: row.try_get("text")?,
        terms: terms.split_whitespace().map(str::to_string).collect(),
        source: source_from_row(row)?,
    })
}

/// The `source_*` columns of a candidate row: `None` for a document that is no conversation
/// (or one of a platform this version does not know).
fn source_from_row(row: &AnyRow) -> Result<Option<MessageSource>, sqlx::Error> {
    let Some(message) = row.try_get::<Option<String>, _>("source_message")? else {
        return Ok(None);
    };
    let platform: Option<String> = row.try_get("source_platform")?;
    let Some(platform) = platform.as_deref().and_then(Platform::parse) else {
        return Ok(None);
    };
    let text = |column: &str| -> Result<String, sqlx::Error> {
        Ok(row
            .try_get::<Option<String>, _>(column)?
            .unwrap_or_default())
    };
    let flag = |column: &str| -> Result<bool, sqlx::Error> {
        Ok(row.try_get::<Option<i64>, _>(column)?.unwrap_or(0) != 0)
    };
    Ok(Some(MessageSource {
        location: Location {
            platform,
            community: CommunityId::new(text("source_community")?),
            channel: ChannelId::new(text("source_channel")?),
            thread: row
                .try_get::<Option<String>, _>("source_thread")?
                .map(ThreadId::new),
        },
        message: MessageId::new(message),
        solved: flag("source_solved")?,
        marked: flag("source_marked")?,
        endorsed: flag("source_endorsed")?,
    }))
}

/// A row of `kb_gaps` as a gap.
fn gap_from_row(row: &AnyRow) -> Result<Gap, sqlx::Error> {
    let terms: String = row.try_get("terms")?;
    Ok(Gap {
        question: row.try_get("question")?,
        terms: terms.split_whitespace().map(str::to_string).collect(),
        asked_at: from_millis(row.try_get("asked_at")?),
    })
}
