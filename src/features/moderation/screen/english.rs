//! The English stage: the profanity filter `rustrict` for slurs and swearing (it knows
//! spellings, spacing and look-alike characters), and Steward's own patterns
//! (`en_patterns.txt`) for what a profanity filter does not catch: threats, self-harm, hate aimed
//! at a group, scams, sexual solicitation and prompt injection. Technical slang ("kill -9 the
//! worker", "the daemon died") is blanked by the list's `allow` lines before the patterns look.

use std::sync::LazyLock;

use regex::Regex;
use rustrict::{Censor, Type};

use super::lexicon::{entries, Kind};
use super::normalize::Normalized;
use super::{Confidence, Hit};
use crate::core::CaseCategory;

/// What an allowed span is replaced with: no pattern matches it.
const BLANK: &str = " ~ ";
/// What rustrict puts in place of each character it censors.
const CENSORED: char = '*';

/// Second-person words: a rude word next to one is aimed at someone.
const SECOND_PERSON: &[&str] = &[
    "you", "u", "ya", "ur", "your", "you're", "youre", "yourself", "urself", "y'all", "yall",
];
/// Words that may stand between "you" and an insult ("you're a total ...").
const FILLERS: &[&str] = &[
    "a",
    "an",
    "and",
    "are",
    "r",
    "is",
    "such",
    "so",
    "the",
    "total",
    "absolute",
    "complete",
    "utter",
    "fucking",
    "fkn",
    "freaking",
    "stupid",
    "dumb",
    "little",
    "big",
    "fat",
    "ugly",
    "pathetic",
    "worthless",
    "piece",
    "of",
    "real",
    "damn",
];
/// Swear words that only intensify ("are you fucking kidding me"): never an insult alone.
const INTENSIFIERS: &[&str] = &[
    "fucking", "fuckin", "fking", "fkn", "freaking", "frigging", "bloody", "damn", "damned",
    "goddamn", "effing", "shit", "shitty", "hell", "crap",
];
/// Rude words that are feelings about things, not insults ("you'll hate this", "it sucks").
const NOT_INSULTS: &[&str] = &["hate", "hates", "hated", "suck", "sucks", "sucked"];
/// Verbs aimed at whoever follows them ("fuck you", "screw off").
const AIMED_VERBS: &[&str] = &[
    "fuck", "fuk", "fck", "fk", "phuck", "screw", "frick", "frig",
];
/// What follows an aimed verb when it is aimed at someone.
const AIM_OBJECTS: &[&str] = &[
    "you", "u", "ya", "off", "yourself", "urself", "y'all", "yall",
];
/// Severe "offensive" words that insult a person rather than a group.
const INSULTS_NOT_SLURS: &[&str] = &["bastard", "bastards"];

/// Steward's English patterns, compiled.
struct Patterns {
    allow: Vec<Regex>,
    signals: Vec<(Regex, CaseCategory, Confidence)>,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    let mut patterns = Patterns {
        allow: Vec::new(),
        signals: Vec::new(),
    };
    for entry in entries("en_patterns.txt", include_str!("en_patterns.txt")) {
        // An ASCII word boundary: a Latin word right after a Chinese character still starts a
        // word (Unicode counts both as word characters).
        let pattern = entry.term.replace(r"\b", r"(?-u:\b)");
        let regex = Regex::new(&pattern)
            .unwrap_or_else(|error| panic!("en_patterns.txt:{}: {error}", entry.line));
        match entry.kind {
            Kind::Allow => patterns.allow.push(regex),
            Kind::Signal(category, confidence) => {
                patterns.signals.push((regex, category, confidence))
            }
        }
    }
    patterns
});

/// Adds what the English stage finds in `text` to `hits`.
pub(super) fn scan(text: &Normalized, hits: &mut Vec<Hit>) {
    let patterns = &*PATTERNS;
    for form in text.forms() {
        let mut form = form.to_string();
        for allow in &patterns.allow {
            if allow.is_match(&form) {
                form = allow.replace_all(&form, BLANK).into_owned();
            }
        }
        for (regex, category, confidence) in &patterns.signals {
            if let Some(found) = regex.find(&form) {
                hits.push(Hit::new(*category, *confidence, found.as_str()));
            }
        }
    }
    profanity(&text.plain, hits);
}

/// The profanity filter's findings in `plain`: slurs (hate), severe meanness ("kys"), explicit
/// sexual words, and swearing or meanness aimed at someone ("fuck you", "you moron"). Swearing
/// at nothing in particular ("wtf, the build broke") is not a finding.
fn profanity(plain: &str, hits: &mut Vec<Hit>) {
    if plain.is_empty() {
        return;
    }
    let mut censor = Censor::from_str(plain);
    censor
        .with_censor_threshold(Type::ANY)
        .with_censor_first_character_threshold(Type::ANY);
    let (censored, overall) = censor.censor_and_analyze();
    let worth_a_look =
        (Type::PROFANE | Type::OFFENSIVE | Type::SEXUAL | Type::MEAN) & Type::MODERATE_OR_HIGHER;
    if overall.isnt(worth_a_look) {
        return;
    }
    let original: Vec<char> = plain.chars().collect();
    let masked: Vec<char> = censored.chars().collect();
    if original.len() != masked.len() {
        // rustrict dropped characters it refuses: judge the message by its overall type.
        if let Some((category, _)) = judge(overall, "", false) {
            hits.push(Hit::new(category, Confidence::Low, "profanity filter"));
        }
        return;
    }
    let words = words(&original);
    for (start, end) in censored_spans(&original, &masked) {
        // A Latin match starting inside a word ("ng a" in "running away") is a coincidence.
        if original[start].is_ascii_alphanumeric()
            && start > 0
            && original[start - 1].is_alphanumeric()
        {
            continue;
        }
        let span: String = original[start..end].iter().collect();
        let word: String = span.chars().filter(|c| c.is_alphanumeric()).collect();
        let kind = Censor::from_str(&span).analyze();
        let aimed = aimed_at_someone(&words, start, end, &word);
        if let Some((category, confidence)) = judge(kind, &word, aimed) {
            hits.push(Hit::new(category, confidence, &span));
        }
    }
}

/// What a word rustrict typed as `kind` means here.
fn judge(kind: Type, word: &str, aimed: bool) -> Option<(CaseCategory, Confidence)> {
    if kind.is(Type::SEXUAL & Type::SEVERE) {
        return Some((CaseCategory::Sexual, Confidence::Low));
    }
    if kind.is(Type::OFFENSIVE & Type::SEVERE) {
        return Some(if INSULTS_NOT_SLURS.contains(&word) {
            (CaseCategory::Harassment, Confidence::Low)
        } else {
            (CaseCategory::Hate, Confidence::High)
        });
    }
    if kind.is(Type::MEAN & Type::SEVERE) {
        return Some((CaseCategory::Harassment, Confidence::High));
    }
    let rude = (Type::PROFANE | Type::OFFENSIVE | Type::MEAN) & Type::MODERATE_OR_HIGHER;
    let insult = !INTENSIFIERS.contains(&word) && !NOT_INSULTS.contains(&word);
    (aimed && insult && kind.is(rude)).then_some((CaseCategory::Harassment, Confidence::Low))
}

/// A word of the message: its character range and its text without surrounding punctuation.
struct Word {
    start: usize,
    end: usize,
    text: String,
}

/// The whitespace-separated words of `chars`.
fn words(chars: &[char]) -> Vec<Word> {
    let mut words = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        if chars[at].is_whitespace() {
            at += 1;
            continue;
        }
        let start = at;
        while at < chars.len() && !chars[at].is_whitespace() {
            at += 1;
        }
        let text: String = chars[start..at].iter().collect();
        let text = text
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
            .to_string();
        words.push(Word {
            start,
            end: at,
            text,
        });
    }
    words
}

/// The character ranges rustrict censored, pieces split only by separators joined ("f u c k").
fn censored_spans(original: &[char], masked: &[char]) -> Vec<(usize, usize)> {
    let censored = |at: usize| masked[at] == CENSORED && original[at] != CENSORED;
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while at < original.len() {
        if !censored(at) {
            at += 1;
            continue;
        }
        let start = at;
        while at < original.len() && censored(at) {
            at += 1;
        }
        let joins = spans.last().is_some_and(|last| {
            start - last.1 <= 3 && original[last.1..start].iter().all(|c| !c.is_alphanumeric())
        });
        if !joins {
            spans.push((start, at));
        } else if let Some(last) = spans.last_mut() {
            last.1 = at;
        }
    }
    spans
}

/// Whether the censored `word` at `start..end` is aimed at someone: a second-person word
/// before it (fillers allowed in between: "you're a total ..."), or an aimed verb with its
/// object after it ("fuck off").
fn aimed_at_someone(words: &[Word], start: usize, end: usize, word: &str) -> bool {
    let Some(first) = words.iter().position(|w| w.end > start) else {
        return false;
    };
    for before in words[first.saturating_sub(4)..first].iter().rev() {
        if SECOND_PERSON.contains(&before.text.as_str()) {
            return true;
        }
        if !FILLERS.contains(&before.text.as_str()) {
            break;
        }
    }
    let last = words.iter().rposition(|w| w.start < end).unwrap_or(first);
    AIMED_VERBS.contains(&word)
        && words
            .get(last + 1)
            .is_some_and(|next| AIM_OBJECTS.contains(&next.text.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        let patterns = &*PATTERNS;
        assert!(patterns.allow.len() >= 10, "{}", patterns.allow.len());
        assert!(patterns.signals.len() >= 60, "{}", patterns.signals.len());
    }

    #[test]
    fn spans_join_spelled_out_words() {
        let original: Vec<char> = "a f u c k b".chars().collect();
        let masked: Vec<char> = "a * * * * b".chars().collect();
        assert_eq!(censored_spans(&original, &masked), vec![(2, 9)]);
    }

    #[test]
    fn rude_words_are_aimed_through_fillers_only() {
        let chars: Vec<char> = "you are a total moron, see this shit".chars().collect();
        let split = words(&chars);
        // "moron" at 16..21, "shit" at 32..36.
        assert!(aimed_at_someone(&split, 16, 21, "moron"));
        assert!(!aimed_at_someone(&split, 32, 36, "shit"));
        let chars: Vec<char> = "oh fuck off".chars().collect();
        assert!(aimed_at_someone(&words(&chars), 3, 7, "fuck"));
        assert!(!aimed_at_someone(&words(&chars), 8, 11, "off"));
    }
}
