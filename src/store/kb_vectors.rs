//! Passage embeddings for semantic retrieval: which passages still need a vector for the
//! current embedding model, storing vectors, reading them back in passage-id order (the
//! in-process index loads them once, then only newer ones), and loading candidates by id.
//!
//! A vector is stored as its float32 components, little-endian. Its `model` names the vector
//! space: after a change of embedding model every passage lacks a vector for the new one and
//! is embedded again, replacing the old vector.

use sqlx::Row;

use super::kb_search::{candidate_from_row, candidate_query};
use super::knowledge::{Candidate, ALL_COMMUNITIES};
use super::{Store, StoreError};

/// A passage's text as it is embedded: its heading path, then its text.
#[derive(Debug, Clone, PartialEq)]
pub struct PassageText {
    pub id: i64,
    pub text: String,
}

/// The most ids [`Store::kb_passages_by_id`] looks up in one query.
pub const MAX_IDS: usize = 200;

impl Store {
    /// Up to `limit` passages (lowest ids first) without a vector for `model`.
    pub async fn kb_passages_without_vector(
        &self,
        model: &str,
        limit: usize,
    ) -> Result<Vec<PassageText>, StoreError> {
        const OPERATION: &str = "find passages to embed";
        let rows = sqlx::query(
            "SELECT p.id AS id, p.heading AS heading, p.text AS text FROM kb_passages AS p \
             WHERE NOT EXISTS (SELECT 1 FROM kb_vectors AS v \
             WHERE v.passage_id = p.id AND v.model = $1) \
             ORDER BY p.id LIMIT $2",
        )
        .bind(model)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        rows.iter()
            .map(|row| {
                let heading: String = row.try_get("heading")?;
                let text: String = row.try_get("text")?;
                Ok(PassageText {
                    id: row.try_get("id")?,
                    text: if heading.is_empty() {
                        text
                    } else {
                        format!("{heading}\n{text}")
                    },
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::query(OPERATION))
    }

    /// Stores (or replaces) the vectors of passages for `model`, in one transaction. A passage
    /// deleted since it was read is skipped: its vector would belong to nothing.
    pub async fn kb_store_vectors(
        &self,
        model: &str,
        vectors: &[(i64, Vec<f32>)],
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "store passage vectors";
        let mut tx = self
            .begin_write()
            .await
            .map_err(StoreError::query(OPERATION))?;
        for (id, vector) in vectors {
            sqlx::query(
                "INSERT INTO kb_vectors (passage_id, model, vector) \
                 SELECT id, $2, $3 FROM kb_passages WHERE id = $1 \
                 ON CONFLICT (passage_id) DO UPDATE \
                 SET model = excluded.model, vector = excluded.vector",
            )
            .bind(*id)
            .bind(model)
            .bind(encode(vector))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(OPERATION))?;
        }
        tx.commit().await.map_err(StoreError::query(OPERATION))
    }

    /// Up to `limit` vectors of `model` for passages with an id above `after`, in id order.
    /// A stored value that is not a whole number of floats is skipped (and logged).
    pub async fn kb_vectors_after(
        &self,
        model: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Vec<f32>)>, StoreError> {
        const OPERATION: &str = "read passage vectors";
        let rows = sqlx::query(
            "SELECT passage_id, vector FROM kb_vectors \
             WHERE model = $1 AND passage_id > $2 ORDER BY passage_id LIMIT $3",
        )
        .bind(model)
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        let mut vectors = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get(0).map_err(StoreError::query(OPERATION))?;
            let bytes: Vec<u8> = row.try_get(1).map_err(StoreError::query(OPERATION))?;
            match decode(&bytes) {
                Some(vector) => vectors.push((id, vector)),
                None => tracing::warn!(
                    passage = id,
                    bytes = bytes.len(),
                    "skipped a stored vector that is not whole floats"
                ),
            }
        }
        Ok(vectors)
    }

    /// How many passages have a vector for `model`.
    pub async fn kb_vector_count(&self, model: &str) -> Result<u64, StoreError> {
        const OPERATION: &str = "count passage vectors";
        let row = sqlx::query("SELECT COUNT(*) FROM kb_vectors WHERE model = $1")
            .bind(model)
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        let count: i64 = row.try_get(0).map_err(StoreError::query(OPERATION))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// The passages with these ids that `scope` may cite (its own documents and those of
    /// [`ALL_COMMUNITIES`]), in the order of `ids`; ids of deleted or invisible passages are
    /// left out. At most [`MAX_IDS`] ids are looked up.
    pub async fn kb_passages_by_id(
        &self,
        ids: &[i64],
        scope: &str,
    ) -> Result<Vec<Candidate>, StoreError> {
        const OPERATION: &str = "load knowledge passages";
        let ids = &ids[..ids.len().min(MAX_IDS)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The `Any` driver binds no arrays: one placeholder per id, all bound as parameters.
        let placeholders = (0..ids.len())
            .map(|i| format!("${}", i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "{}FROM kb_passages AS p JOIN kb_documents AS d ON d.id = p.document_id \
             LEFT JOIN kb_conversations AS c ON c.scope = d.scope AND c.path = d.path \
             WHERE d.scope IN ($1, $2) AND p.id IN ({placeholders})",
            candidate_query!("")
        );
        // Only placeholders are formatted in; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ALL_COMMUNITIES)
            .bind(scope);
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        let mut found = rows
            .iter()
            .map(candidate_from_row)
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::query(OPERATION))?;
        found.sort_by_key(|candidate| ids.iter().position(|id| *id == candidate.id));
        Ok(found)
    }
}

/// A vector as stored: float32 components, little-endian.
pub fn encode(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The vector of stored bytes; `None` if they are not a whole number of floats.
pub fn decode(bytes: &[u8]) -> Option<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_survive_encoding() {
        let vector = vec![0.5, -1.25, 3.0e-7, f32::MAX];
        assert_eq!(decode(&encode(&vector)), Some(vector));
    }

    #[test]
    fn a_truncated_value_is_not_a_vector() {
        assert_eq!(decode(&[0, 0, 128]), None);
        assert_eq!(decode(&[]), Some(Vec::new()));
    }
}
