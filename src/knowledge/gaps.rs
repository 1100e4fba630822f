//! Knowledge gaps: the questions Steward could not answer, grouped so that the owner sees
//! "asked 7 times" once rather than seven rewordings of the same question.
//!
//! Two questions are the same when their query terms overlap enough (Jaccard similarity),
//! which absorbs word order, inflection (the terms are stemmed) and small rewordings.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::time::SystemTime;

use super::Gap;

/// The similarity at which two questions count as one: half of their distinct terms shared.
pub const SIMILAR: f64 = 0.5;

/// At most this many other phrasings are shown with a group.
const MAX_EXAMPLES: usize = 3;

/// Questions asked in different words, counted together.
#[derive(Debug, Clone, PartialEq)]
pub struct GapGroup {
    /// The most recent phrasing.
    pub question: String,
    /// How many times it was asked, in any phrasing.
    pub count: usize,
    pub last_asked: SystemTime,
    /// Up to three other distinct phrasings, newest first.
    pub examples: Vec<String>,
}

/// A group being built: what later gaps are compared with.
struct Forming<'a> {
    /// The distinct terms of its newest gap.
    terms: HashSet<&'a str>,
    /// Its newest question, lowercase and trimmed: the key of questions without terms.
    text: String,
    /// The phrasings already in it (normalised), so examples are distinct.
    phrasings: Vec<String>,
    group: GapGroup,
}

/// Groups `gaps`: each gap, newest first, joins the first group whose newest question has a
/// term similarity of at least `min_similarity` with it (questions without terms, such as
/// a lone emoji, join on equal text), or starts one. The most asked groups come first, then
/// the most recently asked.
pub fn group(gaps: &[Gap], min_similarity: f64) -> Vec<GapGroup> {
    let mut newest_first: Vec<&Gap> = gaps.iter().collect();
    // Stable: gaps asked at the same time keep the order they were given in.
    newest_first.sort_by_key(|gap| Reverse(gap.asked_at));

    let mut forming: Vec<Forming> = Vec::new();
    for gap in newest_first {
        let terms: HashSet<&str> = gap.terms.iter().map(String::as_str).collect();
        let text = normalised(&gap.question);
        let joined = forming.iter_mut().find(|candidate| {
            if terms.is_empty() || candidate.terms.is_empty() {
                terms.is_empty() && candidate.terms.is_empty() && candidate.text == text
            } else {
                jaccard(&terms, &candidate.terms) >= min_similarity
            }
        });
        match joined {
            Some(existing) => {
                existing.group.count += 1;
                // Gaps come newest first, so the group's question and time are already the
                // newest; only an unseen phrasing adds something.
                if !existing.phrasings.contains(&text) {
                    existing.phrasings.push(text);
                    if existing.group.examples.len() < MAX_EXAMPLES {
                        existing
                            .group
                            .examples
                            .push(gap.question.trim().to_string());
                    }
                }
            }
            None => forming.push(Forming {
                terms,
                text: text.clone(),
                phrasings: vec![text],
                group: GapGroup {
                    question: gap.question.trim().to_string(),
                    count: 1,
                    last_asked: gap.asked_at,
                    examples: Vec::new(),
                },
            }),
        }
    }

    let mut groups: Vec<GapGroup> = forming.into_iter().map(|f| f.group).collect();
    groups.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| b.last_asked.cmp(&a.last_asked))
    });
    groups
}

/// Shared terms over all terms of the two questions.
fn jaccard(a: &HashSet<&str>, b: &HashSet<&str>) -> f64 {
    let shared = a.intersection(b).count();
    let all = a.len() + b.len() - shared;
    if all == 0 {
        return 0.0;
    }
    shared as f64 / all as f64
}

/// The form in which two phrasings are the same: lowercase, without surrounding space.
fn normalised(question: &str) -> String {
    question.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn gap(question: &str, terms: &[&str], seconds: u64) -> Gap {
        Gap {
            question: question.to_string(),
            terms: terms.iter().map(|t| t.to_string()).collect(),
            asked_at: SystemTime::UNIX_EPOCH + Duration::from_secs(seconds),
        }
    }

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn repeated_and_reworded_questions_are_counted_together() {
        let gaps = [
            gap("How do I install on Linux?", &["instal", "linux"], 10),
            gap("how do I install on linux?", &["instal", "linux"], 20),
            gap("Installing on Linux Mint", &["instal", "linux", "mint"], 30),
            gap("  How do I install on Linux?  ", &["instal", "linux"], 40),
        ];
        let groups = group(&gaps, SIMILAR);
        assert_eq!(groups.len(), 1);
        let only = &groups[0];
        assert_eq!(only.count, 4);
        assert_eq!(
            only.question, "How do I install on Linux?",
            "the newest, trimmed"
        );
        assert_eq!(only.last_asked, at(40));
        // The same words in another case are not another phrasing.
        assert_eq!(only.examples, ["Installing on Linux Mint"]);
    }

    #[test]
    fn different_questions_stay_apart() {
        let gaps = [
            gap("How do I install on Linux?", &["instal", "linux"], 10),
            gap("How do I reset my password?", &["reset", "password"], 20),
            gap("Linux password reset", &["linux", "password", "reset"], 30),
        ];
        let groups = group(&gaps, SIMILAR);
        let summary: Vec<(&str, usize)> = groups
            .iter()
            .map(|g| (g.question.as_str(), g.count))
            .collect();
        // The password question shares 2 of the 3 terms of the newer "Linux password reset"
        // (0.67); the install question shares only "linux" (1 of 4 terms, 0.25).
        assert_eq!(
            summary,
            [
                ("Linux password reset", 2),
                ("How do I install on Linux?", 1)
            ]
        );
    }

    #[test]
    fn questions_without_terms_group_by_their_text() {
        let gaps = [
            gap("🤔", &[], 10),
            gap(" 🤔 ", &[], 20),
            gap("??", &[], 30),
            gap("why", &["why"], 40),
        ];
        let groups = group(&gaps, SIMILAR);
        let summary: Vec<(&str, usize)> = groups
            .iter()
            .map(|g| (g.question.as_str(), g.count))
            .collect();
        assert_eq!(summary, [("🤔", 2), ("why", 1), ("??", 1)]);
    }

    #[test]
    fn groups_are_ordered_by_count_then_recency() {
        let gaps = [
            gap("old single", &["old", "singl"], 10),
            gap("pair one", &["pair", "one"], 20),
            gap("pair one again", &["pair", "one", "again"], 30),
            gap("new single", &["new", "fresh"], 50),
            gap("mid single", &["mid", "middl"], 40),
        ];
        let groups = group(&gaps, SIMILAR);
        let questions: Vec<&str> = groups.iter().map(|g| g.question.as_str()).collect();
        assert_eq!(
            questions,
            ["pair one again", "new single", "mid single", "old single"]
        );
        assert_eq!(groups[0].examples, ["pair one"]);
    }

    #[test]
    fn at_most_three_examples() {
        let gaps: Vec<Gap> = (0..6)
            .map(|n| gap(&format!("install variant {n}"), &["instal"], n))
            .collect();
        let groups = group(&gaps, SIMILAR);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].count, 6);
        assert_eq!(groups[0].question, "install variant 5");
        assert_eq!(
            groups[0].examples,
            [
                "install variant 4",
                "install variant 3",
                "install variant 2"
            ]
        );
    }

    #[test]
    fn no_gaps_no_groups() {
        assert!(group(&[], SIMILAR).is_empty());
    }
}
