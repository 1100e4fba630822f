//! The word lists the lexical stage scores with, compiled in from `data/` and parsed once:
//!
//! - `vader_lexicon.txt`: VADER's English lexicon (vaderSentiment 3.3.2, MIT, © 2016 C.J.
//!   Hutto; the first two columns of its `vader_lexicon.txt`, licence in `LICENSE-VADER.txt`),
//!   with `en_domain.tsv` (Steward's own) over it: technical senses ("panic", "kill", "error")
//!   made neutral, failure words softened, community words VADER lacks ("lgtm") added.
//! - `zh_lexicon.tsv`: Steward's hand-made Chinese list (sentiment words, negators, degree
//!   adverbs, contrasts, sarcasm cues and neutral words that stop wrong matches).
//! - `emoji.tsv`: Steward's emoji valences.
//!
//! `data/README.md` says where each comes from. A malformed line is a bug in the data, caught by
//! the tests here, so parsing panics with the file and line.

use std::collections::HashMap;
use std::sync::LazyLock;

/// VADER's English lexicon, word and mean valence (-4..4).
const VADER: &str = include_str!("data/vader_lexicon.txt");
/// Steward's English valences for technical chat, applied over VADER's.
const EN_DOMAIN: &str = include_str!("data/en_domain.tsv");
/// Steward's Chinese list.
const ZH: &str = include_str!("data/zh_lexicon.tsv");
/// Steward's emoji valences.
const EMOJI: &str = include_str!("data/emoji.tsv");

/// What a Chinese word is to the scorer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ZhKind {
    /// A sentiment word with its valence (-4..4).
    Sentiment(f32),
    /// Thanks and politeness, with its valence: counts less in a question.
    Thanks(f32),
    /// Flips a sentiment word up to three words after it.
    Negator,
    /// Added to the strength of a following sentiment word (negative: dampens).
    Degree(f32),
    /// A contrast ("但是"): what follows outweighs what went before.
    But,
    /// No sentiment; its place in the list stops a shorter, wrong match.
    Neutral,
    /// A sarcasm cue, with its own valence.
    Sarcasm(f32),
}

/// Every list, parsed.
pub struct Lexicons {
    /// English word (lower case) to valence: VADER's, with the domain overrides.
    pub english: HashMap<String, f32>,
    /// Chinese word to what it is.
    pub chinese: HashMap<String, ZhKind>,
    /// The longest Chinese entry, in characters (the longest-match window).
    pub chinese_max_chars: usize,
    /// Emoji (one code point) to valence.
    pub emoji: HashMap<char, f32>,
}

/// The lists, parsed on first use.
pub static LEXICONS: LazyLock<Lexicons> = LazyLock::new(Lexicons::parse);

impl Lexicons {
    fn parse() -> Self {
        let mut english = HashMap::with_capacity(7600);
        // Later lines win, as in VADER's own dict (its file repeats a few words).
        for (line, fields) in rows("vader_lexicon.txt", VADER) {
            english.insert(
                fields[0].to_string(),
                number("vader_lexicon.txt", line, fields[1]),
            );
        }
        for (line, fields) in rows("en_domain.tsv", EN_DOMAIN) {
            let word = fields[0].to_lowercase();
            english.insert(word, number("en_domain.tsv", line, fields[1]));
        }
        let mut chinese = HashMap::with_capacity(400);
        for (line, fields) in rows("zh_lexicon.tsv", ZH) {
            let value = || number("zh_lexicon.tsv", line, fields.get(2).copied().unwrap_or(""));
            let kind = match fields.get(1).copied() {
                Some("s") => ZhKind::Sentiment(value()),
                Some("thanks") => ZhKind::Thanks(value()),
                Some("neg") => ZhKind::Negator,
                Some("deg") => ZhKind::Degree(value()),
                Some("but") => ZhKind::But,
                Some("neu") => ZhKind::Neutral,
                Some("sarc") => ZhKind::Sarcasm(value()),
                other => panic!("zh_lexicon.tsv:{line}: unknown kind {other:?}"),
            };
            if chinese.insert(fields[0].to_string(), kind).is_some() {
                panic!("zh_lexicon.tsv:{line}: {} is listed twice", fields[0]);
            }
        }
        let chinese_max_chars = chinese.keys().map(|w| w.chars().count()).max().unwrap_or(1);
        let mut emoji = HashMap::new();
        for (line, fields) in rows("emoji.tsv", EMOJI) {
            let mut chars = fields[0].chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                panic!("emoji.tsv:{line}: one code point per emoji");
            };
            emoji.insert(c, number("emoji.tsv", line, fields[1]));
        }
        Self {
            english,
            chinese,
            chinese_max_chars,
            emoji,
        }
    }
}

/// The data lines of a tab-separated list (comments and blank lines skipped), with their
/// 1-based line numbers; each has at least two fields.
fn rows<'a>(name: &'static str, text: &'a str) -> impl Iterator<Item = (usize, Vec<&'a str>)> + 'a {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(move |(index, line)| {
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() < 2 || fields[0].is_empty() {
                panic!("{name}:{}: expected word<TAB>value", index + 1);
            }
            (index + 1, fields)
        })
}

fn number(name: &str, line: usize, text: &str) -> f32 {
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("{name}:{line}: {text:?} is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_parses_with_the_expected_sizes() {
        let lexicons = &*LEXICONS;
        assert!(lexicons.english.len() > 7000, "{}", lexicons.english.len());
        assert!(lexicons.chinese.len() > 300, "{}", lexicons.chinese.len());
        assert!(lexicons.emoji.len() > 40, "{}", lexicons.emoji.len());
        assert_eq!(lexicons.english.get("great"), Some(&3.1));
        // The domain list overrides VADER's valence and adds words.
        assert_eq!(lexicons.english.get("panic"), Some(&0.0));
        assert_eq!(lexicons.english.get("lgtm"), Some(&2.0));
        assert_eq!(lexicons.chinese.get("不"), Some(&ZhKind::Negator));
        assert_eq!(lexicons.chinese.get("不错"), Some(&ZhKind::Sentiment(1.8)));
        assert_eq!(lexicons.emoji.get(&'👎'), Some(&-2.0));
    }

    #[test]
    fn valences_stay_on_vaders_scale() {
        let lexicons = &*LEXICONS;
        for (word, valence) in &lexicons.english {
            assert!((-4.0..=4.0).contains(valence), "{word}: {valence}");
        }
        for (word, kind) in &lexicons.chinese {
            if let ZhKind::Sentiment(v) | ZhKind::Thanks(v) | ZhKind::Sarcasm(v) = kind {
                assert!((-4.0..=4.0).contains(v) && *v != 0.0, "{word}: {v}");
            }
            if let ZhKind::Degree(v) = kind {
                assert!((-0.5..=0.5).contains(v), "{word}: {v}");
            }
        }
        for (emoji, valence) in &lexicons.emoji {
            assert!((-4.0..=4.0).contains(valence), "{emoji}: {valence}");
        }
    }

    /// The Chinese list is matched over Han runs only: an entry with other letters would
    /// never match (ASCII slang such as "666" lives in the English list).
    #[test]
    fn chinese_entries_are_han_only() {
        for word in LEXICONS.chinese.keys() {
            assert!(
                word.chars().all(crate::sentiment::chinese::is_han),
                "{word}"
            );
        }
    }
}
