//! The community's knowledge: owner documents split into passages, indexed for lexical
//! retrieval (SQLite FTS5 or PostgreSQL full text over Steward's own index terms, so both
//! stores match the same passages), ranked with BM25, cited in answers; and the questions
//! nobody could answer (knowledge gaps).
//!
//! The path of a question: [`terms::query_terms`] -> `Store::kb_candidates` (the full-text
//! index: any term matches) -> [`rank::rank`] (BM25 over the store's term statistics, and a
//! relevance in 0..=1 that decides "I don't know") -> the answer cites the passages
//! ([`cite`]). With an embedding model, [`retrieve::Knowledge`] also asks [`vectors`] for the
//! passages nearest to the question's embedding and fuses both orders ([`rank::fuse`]).
//! Documents enter through [`ingest`] (files and trees, bad files skipped with a reason) and
//! [`chunk`] (heading-aware, within a token budget); [`vectors::embed_missing`] embeds new
//! passages. Community conversations the bot recorded become documents too
//! ([`conversations`]): their passages carry a [`MessageSource`], so citations link to them.
//! With `[knowledge] judge = true`, the model reads each retrieved passage before the answer
//! ([`judge`]) and only the passages it says contain the answer are kept.

pub mod chunk;
pub mod cite;
pub mod conversations;
pub mod gaps;
pub mod ingest;
pub mod judge;
pub mod rank;
pub mod retrieve;
pub mod terms;
pub mod vectors;

pub use crate::store::{
    Candidate, Gap, KbDocument, MessageSource, NewDocument, NewPassage, Stored, TermStats,
    ALL_COMMUNITIES,
};

/// The scope key of one community: `platform:community` (e.g. `discord:1234`).
pub fn community_scope(
    platform: crate::core::Platform,
    community: &crate::core::CommunityId,
) -> String {
    format!("{}:{}", platform.as_str(), community.as_str())
}
