//! Ranking: the candidates the full-text index matched, ordered by BM25, each with a
//! relevance in 0..=1 that decides whether Steward may answer from it at all.
//!
//! The index matches a passage when any query term occurs in it, so a question about
//! "install on FreeBSD" also fetches every passage that says "install". BM25 orders them
//! (rare terms weigh more, long passages are not favoured for their length), and the
//! relevance, the share of the question's weighted terms a passage covers, keeps an answer
//! from resting on a passage that only shares the common words.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::{Candidate, TermStats};

/// Term frequency saturation: the usual BM25 setting.
const K1: f64 = 1.2;
/// Length normalisation: the usual BM25 setting.
const B: f64 = 0.75;

/// A passage must cover at least this share of the question's weighted terms that the
/// knowledge base knows at all; below, Steward says it does not know rather than answer from
/// a passage that shares only some words with the question.
pub const MIN_RELEVANCE: f64 = 0.3;

/// At least this share of the question's weight must be on terms the knowledge base knows:
/// a question mostly about things no document mentions ("who won the league last year?",
/// where only "year" occurs) is not answered from the one word it shares.
pub const MIN_KNOWN: f64 = 0.15;

/// A candidate with its BM25 score and its relevance (in 0..=1).
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub candidate: Candidate,
    pub score: f64,
    /// The idf mass of the distinct query terms the passage contains over that of the
    /// distinct query terms the knowledge base knows (occurring in some passage). Words no
    /// document uses (chat filler, typos, the cross-word pairs of Chinese text) do not count
    /// against a passage.
    pub relevance: f64,
    /// The share of the question's idf mass on terms the knowledge base knows (the same for
    /// every passage of one question).
    pub known: f64,
    /// Cosine similarity of the passage's embedding to the question's, when semantic
    /// retrieval ran and found this passage among its nearest.
    pub similarity: Option<f32>,
}

/// A community conversation someone vouched for (solved by its asker, marked by a moderator)
/// scores this many times its BM25 score: among passages that match a question about as well,
/// the confirmed answer comes first. Relevance (the floor) is not weighted: a vouched
/// conversation about something else is still not an answer.
pub const VOUCHED_WEIGHT: f64 = 1.5;

/// How much a candidate's score counts: [`VOUCHED_WEIGHT`] for a vouched conversation, else 1.
pub fn weight(candidate: &Candidate) -> f64 {
    match &candidate.source {
        Some(source) if source.vouched() => VOUCHED_WEIGHT,
        _ => 1.0,
    }
}

/// Reciprocal rank fusion's constant: the usual 60, so a passage first in one list and absent
/// from the other still ranks below one that both lists put near the top.
const RRF_K: f64 = 60.0;

/// Ranks `candidates` for the query terms `query`, best first (score descending, then id
/// ascending, so both database backends give the same order). A vouched conversation's score
/// is multiplied by [`VOUCHED_WEIGHT`].
///
/// A term repeated in the query counts once: a question that says "install" twice is not
/// more about installing.
pub fn rank(query: &[String], candidates: Vec<Candidate>, stats: &TermStats) -> Vec<Ranked> {
    if candidates.is_empty() {
        return Vec::new();
    }
    let weights = term_weights(query, stats, candidates.len());
    let total_weight: f64 = weights.iter().map(|(_, weight)| weight).sum();
    let known_weight: f64 = weights
        .iter()
        .filter(|(term, _)| stats.document_frequency.get(term).is_some_and(|&df| df > 0))
        .map(|(_, weight)| weight)
        .sum();
    let known = if total_weight > 0.0 {
        (known_weight / total_weight).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let average_length = average_length(stats, &candidates);

    let mut ranked: Vec<Ranked> = candidates
        .into_iter()
        .map(|candidate| {
            let counts = term_counts(&candidate.terms);
            let length = candidate.terms.len() as f64;
            // The denominator's length part, the same for every term of this passage.
            let norm = K1 * (1.0 - B + B * length / average_length);
            let mut score = 0.0;
            let mut covered = 0.0;
            for (term, weight) in &weights {
                let frequency = counts.get(term.as_str()).copied().unwrap_or(0) as f64;
                if frequency > 0.0 {
                    score += weight * frequency * (K1 + 1.0) / (frequency + norm);
                    covered += weight;
                }
            }
            let relevance = if known_weight > 0.0 {
                (covered / known_weight).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let score = score * weight(&candidate);
            Ranked {
                candidate,
                score,
                relevance,
                known,
                similarity: None,
            }
        })
        .collect();
    ranked.sort_by(best_first);
    ranked
}

/// The passages with a relevance of at least `min_relevance` for a question with at least
/// `min_known` of its weight on known terms, in the given order (best first: [`rank`]'s or
/// [`fuse`]'s), at most `limit`.
pub fn usable(
    mut ranked: Vec<Ranked>,
    min_relevance: f64,
    min_known: f64,
    limit: usize,
) -> Vec<Ranked> {
    ranked.retain(|passage| passage.relevance >= min_relevance && passage.known >= min_known);
    ranked.truncate(limit);
    ranked
}

/// Orders lexically ranked passages (BM25 order, as [`rank`] returns them, covering every
/// candidate of both searches) by reciprocal rank fusion with the semantic search's order
/// `nearest` (passage id and cosine similarity, best first), and records each passage's
/// similarity. A passage absent from one list gets nothing from it; ties go to the lower id.
///
/// Fusing ranks rather than scores needs no calibration between BM25 (unbounded) and
/// cosine similarity, and a passage that shares no word with the question (a paraphrase)
/// can still reach the top through the semantic list.
pub fn fuse(lexical: Vec<Ranked>, nearest: &[(i64, f32)]) -> Vec<Ranked> {
    let semantic: HashMap<i64, (usize, f32)> = nearest
        .iter()
        .enumerate()
        .map(|(place, (id, similarity))| (*id, (place, *similarity)))
        .collect();
    let mut fused: Vec<(f64, Ranked)> = lexical
        .into_iter()
        .enumerate()
        .map(|(place, mut passage)| {
            // Passages with no query term at all only came from the semantic search: they
            // have no lexical place.
            let mut score = if passage.score > 0.0 {
                1.0 / (RRF_K + place as f64 + 1.0)
            } else {
                0.0
            };
            if let Some((place, similarity)) = semantic.get(&passage.candidate.id) {
                score += 1.0 / (RRF_K + *place as f64 + 1.0);
                passage.similarity = Some(*similarity);
            }
            (score, passage)
        })
        .collect();
    fused.sort_by(|(a, pa), (b, pb)| {
        b.total_cmp(a)
            .then_with(|| pa.candidate.id.cmp(&pb.candidate.id))
    });
    fused.into_iter().map(|(_, passage)| passage).collect()
}

/// Score descending, then id ascending.
fn best_first(a: &Ranked, b: &Ranked) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| a.candidate.id.cmp(&b.candidate.id))
}

/// The distinct query terms (first occurrence order) with their idf.
fn term_weights(query: &[String], stats: &TermStats, candidates: usize) -> Vec<(String, f64)> {
    // The store's count can lag behind (or be absent in tests); the candidates themselves
    // are passages, so there are at least that many.
    let passages = stats.passages.max(candidates as u64) as f64;
    let mut weights: Vec<(String, f64)> = Vec::new();
    for term in query {
        if weights.iter().any(|(seen, _)| seen == term) {
            continue;
        }
        let frequency = stats.document_frequency.get(term).copied().unwrap_or(0) as f64;
        // A frequency above the passage count would make the idf undefined.
        let frequency = frequency.min(passages);
        let idf = (1.0 + (passages - frequency + 0.5) / (frequency + 0.5)).ln();
        weights.push((term.clone(), idf));
    }
    weights
}

/// The mean passage length in terms: the store's, else the candidates', at least 1 (so an
/// empty corpus never divides by zero).
fn average_length(stats: &TermStats, candidates: &[Candidate]) -> f64 {
    if stats.average_terms.is_finite() && stats.average_terms > 0.0 {
        return stats.average_terms;
    }
    let total: usize = candidates.iter().map(|c| c.terms.len()).sum();
    let mean = total as f64 / candidates.len().max(1) as f64;
    mean.max(1.0)
}

fn term_counts(terms: &[String]) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for term in terms {
        *counts.entry(term.as_str()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: i64, terms: &[&str]) -> Candidate {
        Candidate {
            id,
            path: format!("doc{id}.md"),
            heading: String::new(),
            text: terms.join(" "),
            terms: terms.iter().map(|t| t.to_string()).collect(),
            source: None,
        }
    }

    /// A community conversation's passage, solved by its asker when `solved`.
    fn conversation(id: i64, terms: &[&str], solved: bool) -> Candidate {
        use crate::core::{ChannelId, CommunityId, Location, MessageId, Platform};
        Candidate {
            source: Some(crate::knowledge::MessageSource {
                location: Location {
                    platform: Platform::Discord,
                    community: CommunityId::new("1"),
                    channel: ChannelId::new("2"),
                    thread: None,
                },
                message: MessageId::new(id.to_string()),
                solved,
                marked: false,
                endorsed: false,
            }),
            ..candidate(id, terms)
        }
    }

    fn ids(passages: &[Ranked]) -> Vec<i64> {
        passages.iter().map(|r| r.candidate.id).collect()
    }

    fn query(terms: &[&str]) -> Vec<String> {
        terms.iter().map(|t| t.to_string()).collect()
    }

    fn stats(passages: u64, average_terms: f64, frequencies: &[(&str, u64)]) -> TermStats {
        TermStats {
            passages,
            average_terms,
            document_frequency: frequencies
                .iter()
                .map(|(term, df)| (term.to_string(), *df))
                .collect(),
        }
    }

    #[test]
    fn a_passage_with_the_rare_term_outranks_one_with_the_common_term() {
        let stats = stats(100, 4.0, &[("install", 80), ("freebsd", 2)]);
        let candidates = vec![
            candidate(1, &["install", "linux", "packag", "manag"]),
            candidate(2, &["freebsd", "port", "build", "sourc"]),
        ];
        let ranked = rank(&query(&["install", "freebsd"]), candidates, &stats);
        let ids: Vec<i64> = ranked.iter().map(|r| r.candidate.id).collect();
        assert_eq!(ids, [2, 1]);
        assert!(ranked[0].score > ranked[1].score);
        assert!(
            ranked[0].relevance > 0.5 && ranked[1].relevance < 0.5,
            "the rare term carries most of the weight: {ranked:?}"
        );
    }

    #[test]
    fn fusion_lifts_a_passage_both_searches_rank_high() {
        let stats = stats(10, 3.0, &[("cargo", 3), ("test", 3)]);
        let candidates = vec![
            candidate(1, &["cargo", "test", "test"]),
            candidate(2, &["cargo", "test", "other"]),
            candidate(3, &["nothing", "in", "common"]),
        ];
        let lexical = rank(&query(&["cargo", "test"]), candidates, &stats);
        assert_eq!(ids(&lexical), [1, 2, 3]);
        // The semantic search puts 2 first, 3 second and never saw 1.
        let fused = fuse(lexical, &[(2, 0.9), (3, 0.8)]);
        assert_eq!(ids(&fused), [2, 1, 3]);
        assert_eq!(fused[0].similarity, Some(0.9));
        assert_eq!(fused[1].similarity, None);
        // A passage sharing no term is ordered by its semantic place alone.
        assert_eq!(fused[2].similarity, Some(0.8));
    }

    #[test]
    fn a_vouched_conversation_outranks_an_equal_match() {
        let stats = stats(10, 3.0, &[("cargo", 3), ("test", 3)]);
        let terms = ["cargo", "test", "x"];
        let candidates = vec![
            candidate(1, &terms),
            conversation(2, &terms, false),
            conversation(3, &terms, true),
        ];
        let ranked = rank(&query(&["cargo", "test"]), candidates, &stats);
        assert_eq!(ids(&ranked), [3, 1, 2], "{ranked:?}");
        assert!((ranked[0].score / ranked[1].score - VOUCHED_WEIGHT).abs() < 1e-9);
        // The floor is not weighted.
        assert_eq!(ranked[0].relevance, ranked[1].relevance);
        // A much better match still wins over a vouched weak one.
        let candidates = vec![
            conversation(4, &["cargo", "x", "y"], true),
            candidate(5, &["cargo", "test", "test"]),
        ];
        let ranked = rank(&query(&["cargo", "test"]), candidates, &stats);
        assert_eq!(ids(&ranked), [5, 4], "{ranked:?}");
    }

    #[test]
    fn relevance_is_the_share_of_weighted_terms_covered() {
        let stats = stats(10, 3.0, &[("cargo", 3), ("test", 3), ("bench", 3)]);
        let candidates = vec![
            candidate(1, &["cargo", "test", "bench"]),
            candidate(2, &["cargo", "other", "word"]),
            candidate(3, &["nothing", "in", "common"]),
        ];
        let ranked = rank(&query(&["cargo", "test", "bench"]), candidates, &stats);
        let relevance: HashMap<i64, f64> = ranked
            .iter()
            .map(|r| (r.candidate.id, r.relevance))
            .collect();
        assert!((relevance[&1] - 1.0).abs() < 1e-9);
        assert!(
            (relevance[&2] - 1.0 / 3.0).abs() < 1e-9,
            "equal weights: a third"
        );
        assert_eq!(relevance[&3], 0.0);
        assert_eq!(ranked[2].score, 0.0);
    }

    #[test]
    fn words_no_document_uses_do_not_count_against_a_passage() {
        let stats = stats(10, 3.0, &[("port", 2), ("lumen", 5)]);
        let candidates = vec![candidate(1, &["port", "lumen", "8428"])];
        let ranked = rank(
            &query(&["whats", "port", "lumen", "cant"]),
            candidates,
            &stats,
        );
        assert!((ranked[0].relevance - 1.0).abs() < 1e-9, "{ranked:?}");
        assert!(ranked[0].known > 0.0 && ranked[0].known < 1.0);
        // Mostly unknown words: the question is not about these documents.
        let candidates = vec![candidate(2, &["year", "x"])];
        let stats = super::tests::stats(100, 3.0, &[("year", 40)]);
        let ranked = rank(
            &query(&["won", "champion", "leagu", "year"]),
            candidates,
            &stats,
        );
        assert!(ranked[0].known < MIN_KNOWN, "{ranked:?}");
        assert!(usable(ranked, MIN_RELEVANCE, MIN_KNOWN, 3).is_empty());
    }

    #[test]
    fn repeated_query_terms_count_once() {
        let stats = stats(10, 2.0, &[("cargo", 3), ("test", 3)]);
        let candidates = vec![candidate(1, &["cargo", "x"])];
        let once = rank(&query(&["cargo", "test"]), candidates.clone(), &stats);
        let twice = rank(&query(&["cargo", "cargo", "test"]), candidates, &stats);
        assert_eq!(once, twice);
        assert!((once[0].relevance - 0.5).abs() < 1e-9);
    }

    #[test]
    fn ties_are_ordered_by_id() {
        let stats = stats(10, 2.0, &[("cargo", 3)]);
        let candidates = vec![
            candidate(7, &["cargo", "x"]),
            candidate(3, &["cargo", "y"]),
            candidate(5, &["cargo", "z"]),
        ];
        let ranked = rank(&query(&["cargo"]), candidates, &stats);
        let ids: Vec<i64> = ranked.iter().map(|r| r.candidate.id).collect();
        assert_eq!(ids, [3, 5, 7]);
    }

    #[test]
    fn an_empty_query_scores_nothing_and_is_never_usable() {
        let stats = stats(10, 2.0, &[]);
        let candidates = vec![candidate(2, &["a"]), candidate(1, &["b"])];
        let ranked = rank(&[], candidates, &stats);
        assert!(ranked.iter().all(|r| r.score == 0.0 && r.relevance == 0.0));
        assert_eq!(ranked[0].candidate.id, 1);
        assert!(usable(ranked, MIN_RELEVANCE, MIN_KNOWN, 5).is_empty());
    }

    #[test]
    fn zero_stats_give_finite_numbers() {
        let candidates = vec![
            candidate(1, &[]),
            candidate(2, &["cargo"]),
            candidate(3, &["cargo", "cargo", "test"]),
        ];
        // No passages, no mean length, and a frequency larger than any passage count.
        let bad = stats(0, f64::NAN, &[("cargo", 1000)]);
        for stats in [TermStats::default(), bad] {
            let ranked = rank(&query(&["cargo", "test"]), candidates.clone(), &stats);
            assert_eq!(ranked.len(), 3);
            for passage in &ranked {
                assert!(passage.score.is_finite(), "{passage:?}");
                assert!((0.0..=1.0).contains(&passage.relevance), "{passage:?}");
            }
            assert_eq!(ranked[0].candidate.id, 3);
        }
        assert!(rank(&query(&["cargo"]), Vec::new(), &TermStats::default()).is_empty());
    }

    #[test]
    fn usable_keeps_relevant_passages_best_first_up_to_the_limit() {
        let stats = stats(10, 3.0, &[("cargo", 3), ("test", 3)]);
        let candidates = vec![
            candidate(1, &["cargo", "test", "x"]),
            candidate(2, &["cargo", "x", "y"]),
            candidate(3, &["cargo", "test", "test"]),
            candidate(4, &["other", "x", "y"]),
        ];
        let ranked = rank(&query(&["cargo", "test"]), candidates, &stats);
        assert_eq!(
            ids(&usable(ranked.clone(), MIN_RELEVANCE, 0.0, 10)),
            [3, 1, 2]
        );
        assert_eq!(ids(&usable(ranked.clone(), 0.75, 0.0, 10)), [3, 1]);
        assert_eq!(ids(&usable(ranked, MIN_RELEVANCE, 0.0, 1)), [3]);
    }
}
