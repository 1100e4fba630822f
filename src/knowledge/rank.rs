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
}

/// Ranks `candidates` for the query terms `query`, best first (score descending, then id
/// ascending, so both database backends give the same order).
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
            Ranked {
                candidate,
                score,
                relevance,
                known,
            }
        })
        .collect();
    ranked.sort_by(best_first);
    ranked
}

/// The passages with a relevance of at least `min_relevance` for a question with at least
/// `min_known` of its weight on known terms, best first, at most `limit`.
pub fn usable(
    mut ranked: Vec<Ranked>,
    min_relevance: f64,
    min_known: f64,
    limit: usize,
) -> Vec<Ranked> {
    ranked.retain(|passage| passage.relevance >= min_relevance && passage.known >= min_known);
    // `rank` already sorts; sorting again keeps this correct for any caller.
    ranked.sort_by(best_first);
    ranked.truncate(limit);
    ranked
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
        }
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
        let ids = |passages: &[Ranked]| passages.iter().map(|r| r.candidate.id).collect::<Vec<_>>();
        assert_eq!(
            ids(&usable(ranked.clone(), MIN_RELEVANCE, 0.0, 10)),
            [3, 1, 2]
        );
        assert_eq!(ids(&usable(ranked.clone(), 0.75, 0.0, 10)), [3, 1]);
        assert_eq!(ids(&usable(ranked, MIN_RELEVANCE, 0.0, 1)), [3]);
    }
}
