//! Retrieval for one question: its terms, the store's full-text candidates, BM25 ranking and
//! the relevance floor below which Steward says it does not know.
//!
//! Behind a trait so features and tests do not need a database; [`Store`] implements it.

use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;

use super::rank::{self, Ranked};
use super::terms;
use crate::core::{CommunityId, Platform};
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

    /// Records a question nobody could answer (for `kb gaps`).
    async fn record_gap(
        &self,
        platform: Platform,
        community: &CommunityId,
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
        let started = Instant::now();
        let query = terms::query_terms(question);
        let stats = self.kb_term_stats(&query).await?;
        if stats.passages == 0 || query.is_empty() {
            return Ok(Retrieval {
                passages: Vec::new(),
                best: Vec::new(),
                indexed: stats.passages,
                elapsed: started.elapsed(),
            });
        }
        let candidates = self.kb_candidates(&query, scope, CANDIDATES).await?;
        let ranked = rank::rank(&query, candidates, &stats);
        let best = ranked.iter().take(BEST_KEPT).cloned().collect();
        Ok(Retrieval {
            passages: rank::usable(ranked, floor.min_relevance, floor.min_known, limit),
            best,
            indexed: stats.passages,
            elapsed: started.elapsed(),
        })
    }

    async fn record_gap(
        &self,
        platform: Platform,
        community: &CommunityId,
        question: &str,
    ) -> Result<(), StoreError> {
        let query = terms::query_terms(question);
        self.kb_record_gap(platform, community, question, &query, SystemTime::now())
            .await
    }
}
