//! Retrieval for one question: its terms, the store's full-text candidates and, with an
//! embedding model, the passages nearest to the question's embedding; BM25 ranking, fused
//! with the semantic order by reciprocal rank; and the relevance floor below which Steward
//! says it does not know.
//!
//! Behind a trait so features and tests do not need a database: [`Knowledge`] is the
//! knowledge base the bot uses (lexical + semantic), [`Store`] alone retrieves lexically.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;

use super::rank::{self, Ranked};
use super::terms;
use super::vectors::VectorIndex;
use crate::core::{CommunityId, MessageId, Platform, UserId};
use crate::llm::Embedder;
use crate::store::{Store, StoreError};

/// How many full-text matches are ranked per question: enough that BM25 (not the database's
/// own rank, which differs between SQLite and PostgreSQL) decides the order.
pub const CANDIDATES: usize = 50;

/// When a passage is good enough to answer from (see [`rank::usable`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floor {
    pub min_relevance: f64,
    pub min_known: f64,
}

impl Default for Floor {
    fn default() -> Self {
        Self {
            min_relevance: rank::MIN_RELEVANCE,
            min_known: rank::MIN_KNOWN,
        }
    }
}

/// How many of the best passages below the floor a retrieval keeps for diagnostics.
const BEST_KEPT: usize = 5;

/// What retrieval found for a question.
#[derive(Debug, Clone, Default)]
pub struct Retrieval {
    /// The usable passages (at or above the floor), best first.
    pub passages: Vec<Ranked>,
    /// The best passages whatever the floor (for `steward eval ask`), best first.
    pub best: Vec<Ranked>,
    /// How many passages the knowledge base holds in all: 0 means there is nothing to ground
    /// answers on (no documents added yet).
    pub indexed: u64,
    /// Time spent retrieving.
    pub elapsed: Duration,
}

/// The community's knowledge, as `ask` uses it.
#[async_trait]
pub trait KnowledgeBase: Send + Sync {
    /// The passages visible in `scope` that answer `question`, at most `limit`.
    async fn retrieve(
        &self,
        scope: &str,
        question: &str,
        limit: usize,
    ) -> Result<Retrieval, StoreError> {
        self.retrieve_with(scope, question, limit, Floor::default())
            .await
    }

    /// [`KnowledgeBase::retrieve`] with another floor (evaluation).
    async fn retrieve_with(
        &self,
        scope: &str,
        question: &str,
        limit: usize,
        floor: Floor,
    ) -> Result<Retrieval, StoreError>;

    /// Records a question nobody could answer (for `kb gaps`), with who asked and in which
    /// message when known (deleting the message or forgetting the member deletes it).
    async fn record_gap(
        &self,
        platform: Platform,
        community: &CommunityId,
        asker: &UserId,
        message: Option<&MessageId>,
        question: &str,
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl KnowledgeBase for Store {
    async fn retrieve_with(
        &self,
        scope: &str,
        question: &str,
        limit: usize,
        floor: Floor,
    ) -> Result<Retrieval, StoreError> {
        retrieve(self, None, scope, question, limit, floor).await
    }

    async fn record_gap(
        &self,
        platform: Platform,
        community: &CommunityId,
        asker: &UserId,
        message: Option<&MessageId>,
        question: &str,
    ) -> Result<(), StoreError> {
        let query = terms::query_terms(question);
        let now = SystemTime::now();
        self.kb_record_gap(platform, community, asker, message, question, &query, now)
            .await
    }
}

/// The knowledge base as the bot uses it: the store's full-text index, plus semantic
/// retrieval when an embedding model is available.
pub struct Knowledge {
    store: Arc<Store>,
    semantic: Option<Semantic>,
}

/// The embedding model and the in-memory vectors of its passages.
struct Semantic {
    embedder: Arc<dyn Embedder>,
    index: VectorIndex,
}

impl Knowledge {
    /// Lexical retrieval, and semantic retrieval too when `embedder` is given.
    pub fn new(store: Arc<Store>, embedder: Option<Arc<dyn Embedder>>) -> Self {
        let semantic = embedder.map(|embedder| Semantic {
            index: VectorIndex::new(embedder.model()),
            embedder,
        });
        Self { store, semantic }
    }
}

#[async_trait]
impl KnowledgeBase for Knowledge {
    async fn retrieve_with(
        &self,
        scope: &str,
        question: &str,
        limit: usize,
        floor: Floor,
    ) -> Result<Retrieval, StoreError> {
        retrieve(
            &self.store,
            self.semantic.as_ref(),
            scope,
            question,
            limit,
            floor,
        )
        .await
    }

    async fn record_gap(
        &self,
        platform: Platform,
        community: &CommunityId,
        asker: &UserId,
        message: Option<&MessageId>,
        question: &str,
    ) -> Result<(), StoreError> {
        self.store
            .record_gap(platform, community, asker, message, question)
            .await
    }
}

/// One retrieval: lexical candidates, then (with `semantic`) the nearest passages by
/// embedding added to them, all ranked by BM25 and fused with the semantic order.
async fn retrieve(
    store: &Store,
    semantic: Option<&Semantic>,
    scope: &str,
    question: &str,
    limit: usize,
    floor: Floor,
) -> Result<Retrieval, StoreError> {
    let started = Instant::now();
    let query = terms::query_terms(question);
    let stats = store.kb_term_stats(&query).await?;
    if stats.passages == 0 || query.is_empty() {
        return Ok(Retrieval {
            passages: Vec::new(),
            best: Vec::new(),
            indexed: stats.passages,
            elapsed: started.elapsed(),
        });
    }
    let mut candidates = store.kb_candidates(&query, scope, CANDIDATES).await?;
    let nearest = match semantic {
        Some(semantic) => nearest(store, semantic, question).await?,
        None => Vec::new(),
    };
    let missing: Vec<i64> = nearest
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !candidates.iter().any(|candidate| candidate.id == *id))
        .collect();
    if !missing.is_empty() {
        candidates.extend(store.kb_passages_by_id(&missing, scope).await?);
    }
    let ranked = rank::fuse(rank::rank(&query, candidates, &stats), &nearest);
    let best = ranked.iter().take(BEST_KEPT).cloned().collect();
    Ok(Retrieval {
        passages: rank::usable(ranked, floor.min_relevance, floor.min_known, limit),
        best,
        indexed: stats.passages,
        elapsed: started.elapsed(),
    })
}

/// The passages nearest to the question's embedding (any scope; the caller filters), best
/// first. An embedding failure is logged and leaves retrieval lexical: a question is still
/// answered when the embedding model is unavailable.
async fn nearest(
    store: &Store,
    semantic: &Semantic,
    question: &str,
) -> Result<Vec<(i64, f32)>, StoreError> {
    let embedded = semantic.embedder.embed(&[question.to_string()]).await;
    let query = match embedded {
        Ok(mut vectors) if vectors.len() == 1 => super::vectors::normalized(vectors.remove(0)),
        Ok(vectors) => {
            tracing::warn!(
                vectors = vectors.len(),
                "semantic retrieval skipped: the embedding model returned no single vector"
            );
            return Ok(Vec::new());
        }
        Err(error) => {
            tracing::warn!(%error, "semantic retrieval skipped: the embedding model failed; answering from the full-text index");
            return Ok(Vec::new());
        }
    };
    semantic.index.nearest(store, &query, CANDIDATES).await
}
