//! The knowledge base's tables: owner documents, their passages with a full-text index over
//! Steward's own index terms, the terms' document frequencies, and knowledge gaps.
//!
//! The index terms ([`crate::knowledge::terms`]) are stored joined by single spaces. Neither
//! database re-parses them: SQLite indexes them in the FTS5 table `kb_passages_fts` (rowid =
//! the passage's id, its `unicode61` tokenizer splits only at spaces and punctuation, which
//! terms never contain), PostgreSQL in the `lexemes` column built with `array_to_tsvector` (no
//! parser, no dictionary). So both backends match the same passages for the same terms; only
//! their first ordering differs (FTS5 `bm25` against `ts_rank`), and Steward ranks the
//! candidates itself afterwards ([`crate::knowledge::rank`]) with the document frequencies
//! kept in `kb_terms`.
//!
//! A document's passages, their index rows and the frequencies change together, in one
//! transaction. Frequency rows are updated in term order, so two PostgreSQL processes storing
//! documents at once cannot deadlock on them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::SystemTime;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::kb_conversations::MessageSource;
use super::{from_millis, to_millis, Backend, Store, StoreError};

/// The scope of documents every community of this process may cite.
pub const ALL_COMMUNITIES: &str = "";

/// A passage ready for the store: one chunk of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPassage {
    /// Position in its document, from 0.
    pub ordinal: u32,
    /// The heading path above it, e.g. `Install › Linux`; empty before any heading and in
    /// plain text.
    pub heading: String,
    /// The passage's text (Markdown as written).
    pub text: String,
    /// Index terms of heading and text ([`terms::index_terms`]), in order, repeats kept.
    pub terms: Vec<String>,
}

/// A document to store, with its passages.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDocument {
    /// The path as citations show it (relative to the directory the owner added).
    pub path: String,
    /// Who may cite it: [`ALL_COMMUNITIES`] or a [`community_scope`].
    pub scope: String,
    /// SHA-256 of the file's bytes, lowercase hex: re-adding an unchanged file does nothing.
    pub sha256: String,
    pub passages: Vec<NewPassage>,
}

/// A stored document, as `kb list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct KbDocument {
    pub path: String,
    pub scope: String,
    pub sha256: String,
    pub passages: u64,
    pub added_at: SystemTime,
}

/// What storing a document did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A path not stored before.
    Added,
    /// The path was stored with other content: its passages were replaced.
    Replaced,
    /// The same content was already stored: nothing changed.
    Unchanged,
}

/// A passage the full-text index matched, with what ranking needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The passage's row id (stable while its document is not replaced).
    pub id: i64,
    pub path: String,
    pub heading: String,
    pub text: String,
    /// Its index terms, in order, repeats kept.
    pub terms: Vec<String>,
    /// Where it was said, when the passage comes from a community conversation (citations
    /// link there); `None` for an owner's document.
    pub source: Option<MessageSource>,
}

/// Corpus statistics for BM25, over every stored passage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermStats {
    /// How many passages.
    pub passages: u64,
    /// Their mean number of terms.
    pub average_terms: f64,
    /// For each asked term, in how many passages it occurs (absent: none).
    pub document_frequency: HashMap<String, u64>,
}

/// A recorded question Steward could not answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    pub question: String,
    /// Its query terms ([`terms::query_terms`]), for grouping.
    pub terms: Vec<String>,
    pub asked_at: SystemTime,
}

/// Terms longer than this (in bytes) are neither indexed as PostgreSQL lexemes nor searched
/// for, on either backend (PostgreSQL refuses lexemes over 2 KiB). Real terms are far shorter.
pub(super) const MAX_TERM_BYTES: usize = 1000;

impl Store {
    /// Stores a document and its passages, in one transaction. If the same scope and path are
    /// stored with the same SHA-256 nothing changes ([`Stored::Unchanged`]); with another, the
    /// old passages (and their index rows and frequencies) are replaced by the new ones and
    /// the document takes the new hash and `now` ([`Stored::Replaced`]); otherwise the
    /// document is added ([`Stored::Added`]). A passage without terms is stored but never
    /// matched.
    ///
    /// On PostgreSQL, two processes adding the same new path at the very same time: one of
    /// them fails on the unique (scope, path) and stores nothing.
    pub async fn kb_store_document(
        &self,
        document: &NewDocument,
        now: SystemTime,
    ) -> Result<Stored, StoreError> {
        const OPERATION: &str = "store a knowledge document";
        let mut tx = self
            .begin_write()
            .await
            .map_err(StoreError::query(OPERATION))?;
        let stored = store_document(&mut tx, self.backend, document, now)
            .await
            .map_err(StoreError::query(OPERATION))?;
        tx.commit().await.map_err(StoreError::query(OPERATION))?;
        Ok(stored)
    }

    /// Every stored document with its number of passages, ordered by scope, then path (byte
    /// order, the same on both backends).
    pub async fn kb_documents(&self) -> Result<Vec<KbDocument>, StoreError> {
        const OPERATION: &str = "list knowledge documents";
        let rows = sqlx::query(
            "SELECT d.scope AS scope, d.path AS path, d.sha256 AS sha256, \
             d.added_at AS added_at, COUNT(p.id) AS passages \
             FROM kb_documents AS d LEFT JOIN kb_passages AS p ON p.document_id = d.id \
             GROUP BY d.id, d.scope, d.path, d.sha256, d.added_at \
             ORDER BY d.scope, d.path",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        let mut documents = rows
            .iter()
            .map(document_from_row)
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::query(OPERATION))?;
        // PostgreSQL orders text by its collation; byte order is the same everywhere.
        documents.sort_by(|a, b| (&a.scope, &a.path).cmp(&(&b.scope, &b.path)));
        Ok(documents)
    }

    /// Removes a document with its passages, their index rows and frequencies, in one
    /// transaction. False if no document has this scope and path.
    pub async fn kb_remove_document(&self, scope: &str, path: &str) -> Result<bool, StoreError> {
        const OPERATION: &str = "remove a knowledge document";
        let mut tx = self
            .begin_write()
            .await
            .map_err(StoreError::query(OPERATION))?;
        let removed = remove_document(&mut tx, self.backend, scope, path)
            .await
            .map_err(StoreError::query(OPERATION))?;
        tx.commit().await.map_err(StoreError::query(OPERATION))?;
        Ok(removed)
    }
}

/// [`Store::kb_store_document`] inside the caller's transaction (which commits it).
pub(super) async fn store_document(
    conn: &mut AnyConnection,
    backend: Backend,
    document: &NewDocument,
    now: SystemTime,
) -> Result<Stored, sqlx::Error> {
    let existing =
        sqlx::query("SELECT id, sha256 FROM kb_documents WHERE scope = $1 AND path = $2")
            .bind(document.scope.as_str())
            .bind(document.path.as_str())
            .fetch_optional(&mut *conn)
            .await?;

    let (document_id, stored) = match existing {
        Some(row) => {
            let id: i64 = row.try_get("id")?;
            let sha256: String = row.try_get("sha256")?;
            if sha256 == document.sha256 {
                return Ok(Stored::Unchanged);
            }
            delete_passages(&mut *conn, backend, id).await?;
            sqlx::query("UPDATE kb_documents SET sha256 = $1, added_at = $2 WHERE id = $3")
                .bind(document.sha256.as_str())
                .bind(to_millis(now))
                .bind(id)
                .execute(&mut *conn)
                .await?;
            (id, Stored::Replaced)
        }
        None => {
            let row = sqlx::query(
                "INSERT INTO kb_documents (scope, path, sha256, added_at) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(document.scope.as_str())
            .bind(document.path.as_str())
            .bind(document.sha256.as_str())
            .bind(to_millis(now))
            .fetch_one(&mut *conn)
            .await?;
            let id: i64 = row.try_get(0)?;
            (id, Stored::Added)
        }
    };

    // In how many of the new passages each term occurs.
    let mut frequencies: BTreeMap<&str, i64> = BTreeMap::new();
    for passage in &document.passages {
        let terms = passage_terms(passage);
        insert_passage(&mut *conn, backend, document_id, passage, &terms).await?;
        for term in terms.iter().copied().collect::<BTreeSet<&str>>() {
            *frequencies.entry(term).or_default() += 1;
        }
    }
    for (term, passages) in &frequencies {
        sqlx::query(
            "INSERT INTO kb_terms (term, passages) VALUES ($1, $2) \
             ON CONFLICT (term) DO UPDATE SET passages = kb_terms.passages + $2",
        )
        .bind(*term)
        .bind(*passages)
        .execute(&mut *conn)
        .await?;
    }
    Ok(stored)
}

/// [`Store::kb_remove_document`] inside the caller's transaction (which commits it).
pub(super) async fn remove_document(
    conn: &mut AnyConnection,
    backend: Backend,
    scope: &str,
    path: &str,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT id FROM kb_documents WHERE scope = $1 AND path = $2")
        .bind(scope)
        .bind(path)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let id: i64 = row.try_get(0)?;
    delete_passages(&mut *conn, backend, id).await?;
    sqlx::query("DELETE FROM kb_documents WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// A passage's terms as stored: without empty ones (a term never holds whitespace; if one
/// did, its parts would be the terms).
fn passage_terms(passage: &NewPassage) -> Vec<&str> {
    passage
        .terms
        .iter()
        .flat_map(|term| term.split_whitespace())
        .collect()
}

/// Inserts one passage of document `document_id` and its full-text index entry.
async fn insert_passage(
    conn: &mut AnyConnection,
    backend: Backend,
    document_id: i64,
    passage: &NewPassage,
    terms: &[&str],
) -> Result<(), sqlx::Error> {
    let joined = terms.join(" ");
    let term_count = i64::try_from(terms.len()).unwrap_or(i64::MAX);
    match backend {
        Backend::Sqlite => {
            let row = sqlx::query(
                "INSERT INTO kb_passages (document_id, ordinal, heading, text, terms, \
                 term_count) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(document_id)
            .bind(i64::from(passage.ordinal))
            .bind(passage.heading.as_str())
            .bind(passage.text.as_str())
            .bind(joined.as_str())
            .bind(term_count)
            .fetch_one(&mut *conn)
            .await?;
            let id: i64 = row.try_get(0)?;
            sqlx::query("INSERT INTO kb_passages_fts (rowid, terms) VALUES ($1, $2)")
                .bind(id)
                .bind(joined.as_str())
                .execute(&mut *conn)
                .await?;
        }
        Backend::Postgres => {
            // The distinct terms as lexemes, none empty (array_to_tsvector refuses those);
            // an empty list gives an empty tsvector, which matches nothing.
            let lexemes = terms
                .iter()
                .copied()
                .filter(|term| term.len() <= MAX_TERM_BYTES)
                .collect::<BTreeSet<&str>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(" ");
            sqlx::query(
                "INSERT INTO kb_passages (document_id, ordinal, heading, text, terms, \
                 term_count, lexemes) VALUES ($1, $2, $3, $4, $5, $6, \
                 array_to_tsvector(string_to_array($7, ' ')))",
            )
            .bind(document_id)
            .bind(i64::from(passage.ordinal))
            .bind(passage.heading.as_str())
            .bind(passage.text.as_str())
            .bind(joined.as_str())
            .bind(term_count)
            .bind(lexemes)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Deletes the passages of document `document_id`, their full-text index rows, and their
/// share of the document frequencies (a term left in no passage loses its row).
async fn delete_passages(
    conn: &mut AnyConnection,
    backend: Backend,
    document_id: i64,
) -> Result<(), sqlx::Error> {
    let rows = sqlx::query("SELECT terms FROM kb_passages WHERE document_id = $1")
        .bind(document_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut frequencies: BTreeMap<String, i64> = BTreeMap::new();
    for row in &rows {
        let terms: String = row.try_get(0)?;
        for term in terms.split_whitespace().collect::<BTreeSet<&str>>() {
            *frequencies.entry(term.to_string()).or_default() += 1;
        }
    }

    if backend == Backend::Sqlite {
        sqlx::query(
            "DELETE FROM kb_passages_fts WHERE rowid IN \
             (SELECT id FROM kb_passages WHERE document_id = $1)",
        )
        .bind(document_id)
        .execute(&mut *conn)
        .await?;
    }
    // Foreign keys cascade only where SQLite enforces them: delete the vectors explicitly.
    sqlx::query(
        "DELETE FROM kb_vectors WHERE passage_id IN \
         (SELECT id FROM kb_passages WHERE document_id = $1)",
    )
    .bind(document_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM kb_passages WHERE document_id = $1")
        .bind(document_id)
        .execute(&mut *conn)
        .await?;

    for (term, passages) in &frequencies {
        let left = sqlx::query(
            "UPDATE kb_terms SET passages = passages - $1 WHERE term = $2 RETURNING passages",
        )
        .bind(*passages)
        .bind(term.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        let left: Option<i64> = left.map(|row| row.try_get(0)).transpose()?;
        if left.is_some_and(|left| left <= 0) {
            sqlx::query("DELETE FROM kb_terms WHERE term = $1 AND passages <= 0")
                .bind(term.as_str())
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// A row of [`Store::kb_documents`]'s query as a document.
fn document_from_row(row: &AnyRow) -> Result<KbDocument, sqlx::Error> {
    let passages: i64 = row.try_get("passages")?;
    Ok(KbDocument {
        path: row.try_get("path")?,
        scope: row.try_get("scope")?,
        sha256: row.try_get("sha256")?,
        passages: u64::try_from(passages).unwrap_or(0),
        added_at: from_millis(row.try_get("added_at")?),
    })
}
