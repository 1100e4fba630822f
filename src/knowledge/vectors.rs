//! Semantic retrieval: passage embeddings kept in memory for a brute-force nearest-neighbour
//! search, and the background step that embeds passages that have no vector yet.
//!
//! Vectors are unit length, so the dot product is the cosine similarity. A flat scan over
//! 100,000 passages of 384 floats is a few milliseconds on one core, simpler and exact where
//! an approximate index would need its own tuning and persistence. The store stays the source
//! of truth: the index loads vectors once, then only those with higher passage ids (ids are
//! never reused), and is rebuilt when deletions have left it much larger than the store.

use tokio::sync::Mutex;

use crate::llm::Embedder;
use crate::store::{Store, StoreError};

/// Passages embedded per model call and stored per transaction: enough that the model can
/// group texts of similar length (less padding), few enough to report progress often.
pub const EMBED_BATCH: usize = 256;
/// Vectors read from the store per query while loading the index.
const LOAD_PAGE: usize = 5_000;

/// A failure to embed or store vectors.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the embedding model failed: {0}")]
    Embed(String),
    #[error("the embedding model returned {got} vectors for {sent} texts")]
    Count { sent: usize, got: usize },
}

/// Embeds every passage without a vector for the embedder's model, in batches; `progress`
/// gets the running count. Returns how many passages were embedded.
pub async fn embed_missing(
    store: &Store,
    embedder: &dyn Embedder,
    mut progress: impl FnMut(u64),
) -> Result<u64, VectorError> {
    let model = embedder.model();
    let mut done = 0u64;
    loop {
        let batch = store
            .kb_passages_without_vector(&model, EMBED_BATCH)
            .await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let texts: Vec<String> = batch.iter().map(|p| p.text.clone()).collect();
        let vectors = embedder
            .embed(&texts)
            .await
            .map_err(|error| VectorError::Embed(error.to_string()))?;
        if vectors.len() != texts.len() {
            return Err(VectorError::Count {
                sent: texts.len(),
                got: vectors.len(),
            });
        }
        let rows: Vec<(i64, Vec<f32>)> = batch
            .iter()
            .map(|p| p.id)
            .zip(vectors.into_iter().map(normalized))
            .collect();
        store.kb_store_vectors(&model, &rows).await?;
        done += rows.len() as u64;
        progress(done);
    }
}

/// `vector` scaled to unit length (a zero vector stays zero): remote servers need not
/// normalise.
pub fn normalized(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}

/// The in-memory vectors of one model.
#[derive(Default)]
struct Loaded {
    dimensions: usize,
    ids: Vec<i64>,
    /// `ids.len() * dimensions` floats, row by row.
    values: Vec<f32>,
}

impl Loaded {
    fn push(&mut self, id: i64, vector: &[f32]) {
        if self.dimensions == 0 {
            self.dimensions = vector.len();
        }
        // A vector of another size cannot be compared; it is skipped.
        if vector.len() == self.dimensions && self.dimensions > 0 {
            self.ids.push(id);
            self.values.extend_from_slice(vector);
        }
    }

    fn last_id(&self) -> i64 {
        self.ids.last().copied().unwrap_or(0)
    }
}

/// Passage vectors of one embedding model, searchable by similarity.
pub struct VectorIndex {
    model: String,
    loaded: Mutex<Loaded>,
}

impl VectorIndex {
    pub fn new(model: String) -> Self {
        Self {
            model,
            loaded: Mutex::new(Loaded::default()),
        }
    }

    /// The `limit` passages most similar to `query` (unit length), best first, with their
    /// cosine similarity; first brings the index up to date with the store.
    pub async fn nearest(
        &self,
        store: &Store,
        query: &[f32],
        limit: usize,
    ) -> Result<Vec<(i64, f32)>, StoreError> {
        let mut loaded = self.loaded.lock().await;
        self.refresh(store, &mut loaded).await?;
        Ok(top(&loaded, query, limit))
    }

    /// Loads the vectors stored since the last refresh; rebuilds from scratch when the store
    /// holds far fewer than the index (passages were deleted or re-embedded).
    async fn refresh(&self, store: &Store, loaded: &mut Loaded) -> Result<(), StoreError> {
        let stored = store.kb_vector_count(&self.model).await?;
        let held = loaded.ids.len() as u64;
        if held > stored + stored / 10 + 100 {
            *loaded = Loaded::default();
        }
        loop {
            let page = store
                .kb_vectors_after(&self.model, loaded.last_id(), LOAD_PAGE)
                .await?;
            let full = page.len() == LOAD_PAGE;
            for (id, vector) in &page {
                loaded.push(*id, vector);
            }
            if !full {
                return Ok(());
            }
        }
    }
}

/// The best `limit` rows of `loaded` by dot product with `query`.
fn top(loaded: &Loaded, query: &[f32], limit: usize) -> Vec<(i64, f32)> {
    let dimensions = loaded.dimensions;
    if dimensions == 0 || query.len() != dimensions || limit == 0 {
        return Vec::new();
    }
    let mut scored: Vec<(i64, f32)> = loaded
        .ids
        .iter()
        .zip(loaded.values.chunks_exact(dimensions))
        .map(|(id, row)| (*id, row.iter().zip(query).map(|(a, b)| a * b).sum()))
        .collect();
    let by_score = |a: &(i64, f32), b: &(i64, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if scored.len() > limit {
        scored.select_nth_unstable_by(limit - 1, by_score);
        scored.truncate(limit);
    }
    scored.sort_by(by_score);
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(rows: &[(i64, [f32; 2])]) -> Loaded {
        let mut loaded = Loaded::default();
        for (id, v) in rows {
            loaded.push(*id, v);
        }
        loaded
    }

    #[test]
    fn the_nearest_come_first_and_ties_go_to_the_lower_id() {
        let index = loaded(&[
            (1, [1.0, 0.0]),
            (2, [0.0, 1.0]),
            (3, [0.6, 0.8]),
            (4, [0.0, 1.0]),
        ]);
        let found = top(&index, &[0.0, 1.0], 3);
        let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [2, 4, 3]);
        assert!((found[2].1 - 0.8).abs() < 1e-6);
    }

    #[test]
    fn a_query_of_another_size_finds_nothing() {
        let index = loaded(&[(1, [1.0, 0.0])]);
        assert!(top(&index, &[1.0, 0.0, 0.0], 3).is_empty());
        assert!(top(&Loaded::default(), &[1.0], 3).is_empty());
    }

    #[test]
    fn vectors_of_another_size_are_skipped() {
        let mut index = loaded(&[(1, [1.0, 0.0])]);
        index.push(2, &[1.0, 0.0, 0.0]);
        assert_eq!(index.ids, [1]);
    }

    #[test]
    fn normalising_keeps_direction_and_zero() {
        let v = normalized(vec![3.0, 4.0]);
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        assert_eq!(normalized(vec![0.0, 0.0]), vec![0.0, 0.0]);
    }
}
