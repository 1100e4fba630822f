//! Sentiment of community messages: positive, neutral or negative, with a score from -1 to 1.
//!
//! Two stages. The lexical stage ([`lexical`]) is fast and needs no model: English words are
//! scored with a port of VADER's rules over VADER's lexicon (vaderSentiment 3.3.2, MIT,
//! © 2016 C.J. Hutto), Chinese words with the same rules over Steward's own hand-made list
//! (longest-match segmentation against it), emoji with a small table; a message in both
//! languages is scored in both and the valences summed before VADER's normalisation
//! `sum / sqrt(sum² + 15)`. `data/README.md` says where each list comes from and its licence.
//! The lexical stage also says when it is unsure ([`LexicalScore::unsure`]): no sentiment word
//! at all, a score too weak to mean much, strong words of both signs, or a sarcasm cue.
//!
//! The model stage ([`model::ModelClassifier`]) asks the LLM about several messages in one
//! request (one shared prompt, the messages numbered, one character per message back in a
//! constrained-JSON string); any message the model's answer leaves out or garbles keeps its
//! lexical result.
//!
//! [`eval`] measures either stage against labelled messages (accuracy, macro-F1).
//!
//! - `lexicon`: the word lists, parsed once.
//! - `english`: VADER's rules.
//! - `chinese`: longest-match segmentation and the same rules in Chinese form.

mod chinese;
mod english;
pub mod eval;
mod lexicon;
pub mod model;

pub use eval::{Confusion, Evaluation, Lang};
pub use model::{BatchOutcome, ModelClassifier, SentimentError, DEFAULT_BATCH, MAX_BATCH};

use lexicon::LEXICONS;

/// VADER's negation factor.
const N_SCALAR: f64 = -0.74;
/// Thanks in a question are politeness ("thanks in advance"): they count this much.
const POLITE_IN_QUESTION: f64 = 0.25;
/// VADER's normalisation constant (about the largest sum expected).
const ALPHA: f64 = 15.0;
/// A score at or above this is positive (VADER's threshold).
pub const POSITIVE_FROM: f32 = 0.05;
/// A score at or below this is negative (VADER's threshold).
pub const NEGATIVE_FROM: f32 = -0.05;
/// A lexical score weaker than this (either sign) is unsure: one mild word, or words that
/// nearly cancel out.
pub const WEAK_BELOW: f32 = 0.25;
/// Both signs count as mixed when each side sums to at least this much valence...
const MIXED_MIN_VALENCE: f64 = 0.5;
/// ...and the weaker side is at least this share of the stronger.
const MIXED_MIN_RATIO: f64 = 0.4;

/// How a message feels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Label {
    Positive,
    Neutral,
    Negative,
}

impl Label {
    /// Every label, in the order reports list them.
    pub const ALL: [Label; 3] = [Label::Positive, Label::Neutral, Label::Negative];

    /// The label of a score, with VADER's thresholds.
    pub fn from_score(score: f32) -> Self {
        if score >= POSITIVE_FROM {
            Label::Positive
        } else if score <= NEGATIVE_FROM {
            Label::Negative
        } else {
            Label::Neutral
        }
    }

    /// A stable name: `positive`, `neutral` or `negative`.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Positive => "positive",
            Label::Neutral => "neutral",
            Label::Negative => "negative",
        }
    }

    /// The label named `name` (as [`Label::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Self> {
        Label::ALL.into_iter().find(|label| label.as_str() == name)
    }

    /// Its place in [`Label::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Which stage decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Lexical,
    Model,
}

impl Stage {
    /// A stable name: `lexical` or `model`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Lexical => "lexical",
            Stage::Model => "model",
        }
    }
}

/// A message's sentiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sentiment {
    pub label: Label,
    /// From -1 (most negative) to 1 (most positive).
    pub score: f32,
    pub stage: Stage,
}

/// Why the lexical stage is unsure of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unsure {
    /// A sarcasm cue: "yeah right", "thanks for nothing", "great... not", "呵呵".
    Sarcasm,
    /// Not one word, phrase or emoji of the lists: the words may still carry feeling the
    /// lists do not know ("40 minutes per build, every time").
    NoSentimentWords,
    /// Strong words of both signs.
    Mixed,
    /// A score too weak to mean much.
    Weak,
}

impl Unsure {
    /// A short stable name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Unsure::Sarcasm => "sarcasm",
            Unsure::NoSentimentWords => "no sentiment words",
            Unsure::Mixed => "mixed",
            Unsure::Weak => "weak",
        }
    }
}

/// What the lexical stage makes of a message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LexicalScore {
    /// VADER's compound score, -1..1.
    pub score: f32,
    /// How sure, 0..1: the score's magnitude times the share of evidence (1 - 2^-matched),
    /// halved when mixed, less still with a sarcasm cue; 0 with no sentiment words.
    pub confidence: f32,
    /// Sentiment words, phrases and emoji that matched.
    pub matched: usize,
    /// Strong words of both signs.
    pub mixed: bool,
    /// A sarcasm cue matched (positive words then count as negative).
    pub sarcasm: bool,
}

impl LexicalScore {
    pub fn label(&self) -> Label {
        Label::from_score(self.score)
    }

    /// The lexical stage's result.
    pub fn sentiment(&self) -> Sentiment {
        Sentiment {
            label: self.label(),
            score: self.score,
            stage: Stage::Lexical,
        }
    }

    /// Why this score should be checked by the model, if it should.
    pub fn unsure(&self) -> Option<Unsure> {
        if self.sarcasm {
            Some(Unsure::Sarcasm)
        } else if self.matched == 0 {
            Some(Unsure::NoSentimentWords)
        } else if self.mixed {
            Some(Unsure::Mixed)
        } else if self.score.abs() < WEAK_BELOW {
            Some(Unsure::Weak)
        } else {
            None
        }
    }

    pub fn is_unsure(&self) -> bool {
        self.unsure().is_some()
    }
}

/// The lexical stage: scores `text` (any length, any script; English, Chinese and emoji are
/// read, everything else is neutral).
pub fn lexical(text: &str) -> LexicalScore {
    let lexicons = &*LEXICONS;
    let question = text.contains(['?', '？']) || text.contains('吗') || text.contains("请问");
    let mut emoji = Vec::new();
    // The English half reads everything but Chinese and emoji.
    let mut latin = String::with_capacity(text.len());
    for c in text.chars() {
        if let Some(&valence) = lexicons.emoji.get(&c) {
            emoji.push(f64::from(valence));
            latin.push(' ');
        } else if is_emoji_modifier(c) {
            // Variation selectors, joiners and skin tones belong to the emoji before them.
        } else if chinese::is_han(c) {
            latin.push(' ');
        } else {
            latin.push(c);
        }
    }
    let english = english::score(&latin, lexicons, question);
    let chinese = chinese::score(text, lexicons, question);
    let sarcasm = english.sarcasm || chinese.sarcasm;
    let mut valences: Vec<f64> = english.valences;
    valences.extend(chinese.valences);
    valences.extend(emoji);
    if sarcasm {
        // The praise is what is being mocked.
        for valence in valences.iter_mut().filter(|v| **v > 0.0) {
            *valence *= N_SCALAR;
        }
    }
    let matched = valences.iter().filter(|v| **v != 0.0).count();
    let positive: f64 = valences.iter().filter(|v| **v > 0.0).sum();
    let negative: f64 = -valences.iter().filter(|v| **v < 0.0).sum::<f64>();
    let mixed = positive >= MIXED_MIN_VALENCE
        && negative >= MIXED_MIN_VALENCE
        && positive.min(negative) >= MIXED_MIN_RATIO * positive.max(negative);
    let mut sum: f64 = valences.iter().sum();
    let emphasis = punctuation_emphasis(text);
    if sum > 0.0 {
        sum += emphasis;
    } else if sum < 0.0 {
        sum -= emphasis;
    }
    let score = normalize(sum) as f32;
    let mut confidence = if matched == 0 {
        0.0
    } else {
        let evidence = 1.0 - 0.5f32.powi(matched.min(16) as i32);
        score.abs() * evidence
    };
    if mixed {
        confidence *= 0.5;
    }
    if sarcasm {
        confidence *= 0.3;
    }
    LexicalScore {
        score,
        confidence: confidence.clamp(0.0, 1.0),
        matched,
        mixed,
        sarcasm,
    }
}

/// VADER's `normalize`: `sum / sqrt(sum² + 15)`, within -1..1.
fn normalize(sum: f64) -> f64 {
    (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

/// VADER's punctuation emphasis: up to four exclamation marks (0.292 each), and two or three
/// question marks (0.18 each; more: 0.96). Chinese full-width marks count too.
fn punctuation_emphasis(text: &str) -> f64 {
    let exclamations = text.chars().filter(|c| matches!(c, '!' | '！')).count();
    let questions = text.chars().filter(|c| matches!(c, '?' | '？')).count();
    let exclamation = exclamations.min(4) as f64 * 0.292;
    let question = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * 0.18,
        _ => 0.96,
    };
    exclamation + question
}

/// Code points that modify the emoji before them.
fn is_emoji_modifier(c: char) -> bool {
    matches!(
        c,
        '\u{FE0E}' | '\u{FE0F}' | '\u{200D}' | '\u{1F3FB}'..='\u{1F3FF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_vaders_thresholds() {
        let cases = [
            (0.05, Label::Positive),
            (0.049, Label::Neutral),
            (0.0, Label::Neutral),
            (-0.049, Label::Neutral),
            (-0.05, Label::Negative),
            (1.0, Label::Positive),
        ];
        for (score, label) in cases {
            assert_eq!(Label::from_score(score), label, "{score}");
        }
        for label in Label::ALL {
            assert_eq!(Label::parse(label.as_str()), Some(label));
            assert_eq!(Label::ALL[label.index()], label);
        }
        assert_eq!(Label::parse("happy"), None);
    }

    #[test]
    fn the_table_of_plain_messages() {
        let cases = [
            ("Thanks, that fixed it!", Label::Positive),
            ("This crate is great, love the API", Label::Positive),
            ("The docs are not good", Label::Negative),
            (
                "this build system is terrible and I hate it",
                Label::Negative,
            ),
            ("How do I set the worker count in tokio?", Label::Neutral),
            ("太棒了，感谢！", Label::Positive),
            ("这个库很好用", Label::Positive),
            ("这个文档不好", Label::Negative),
            ("垃圾，又崩溃了", Label::Negative),
            ("怎么设置连接池大小？", Label::Neutral),
            ("👍", Label::Positive),
            ("👎👎", Label::Negative),
            ("", Label::Neutral),
        ];
        for (text, label) in cases {
            let score = lexical(text);
            assert_eq!(score.label(), label, "{text}: {score:?}");
            assert!((-1.0..=1.0).contains(&score.score), "{text}");
        }
    }

    #[test]
    fn emoji_only_messages() {
        let hearts = lexical("❤️🎉🎉");
        assert_eq!(hearts.label(), Label::Positive);
        assert_eq!(hearts.matched, 3);
        // Skin tones and joiners do not stop a match.
        assert_eq!(lexical("👍🏽").label(), Label::Positive);
        assert_eq!(lexical("🤦‍♂️").label(), Label::Negative);
        // Emoji the table does not know are neutral, and unsure.
        let crabs = lexical("🦀🦀🦀");
        assert_eq!(crabs.label(), Label::Neutral);
        assert_eq!(crabs.unsure(), Some(Unsure::NoSentimentWords));
    }

    #[test]
    fn mixed_languages_are_scored_in_both() {
        assert_eq!(
            lexical("这个 crate 太棒了, great work").label(),
            Label::Positive
        );
        assert_eq!(
            lexical("编译又失败了, this is terrible").label(),
            Label::Negative
        );
        let both = lexical("很好 great");
        assert_eq!(both.matched, 2);
        assert!(both.score > lexical("great").score);
    }

    #[test]
    fn unsure_cases() {
        let cases = [
            (
                "How do I configure the runtime",
                Some(Unsure::NoSentimentWords),
            ),
            (
                "Great, the build broke again... not.",
                Some(Unsure::Sarcasm),
            ),
            ("yeah right, works on my machine", Some(Unsure::Sarcasm)),
            ("thanks for nothing", Some(Unsure::Sarcasm)),
            ("呵呵，真是太好了", Some(Unsure::Sarcasm)),
            ("I love the API but the docs are awful", Some(Unsure::Mixed)),
            ("the query is a bit slow", Some(Unsure::Weak)),
            ("Thanks so much, this is amazing!", None),
            ("这个工具太垃圾了", None),
        ];
        for (text, unsure) in cases {
            let score = lexical(text);
            assert_eq!(score.unsure(), unsure, "{text}: {score:?}");
            assert_eq!(score.is_unsure(), unsure.is_some());
        }
        // Sarcasm turns the praise negative.
        assert_eq!(lexical("thanks for nothing").label(), Label::Negative);
    }

    #[test]
    fn confidence_grows_with_magnitude_and_evidence() {
        let none = lexical("the config lives in /etc");
        assert_eq!(none.confidence, 0.0);
        let one = lexical("good");
        let many = lexical("good, great, excellent work, thank you");
        assert!(one.confidence > 0.0 && many.confidence > one.confidence);
        assert!(many.confidence <= 1.0);
        let mixed = lexical("I love the API but the docs are awful");
        assert!(mixed.confidence < many.confidence);
    }

    #[test]
    fn exclamation_marks_emphasise() {
        assert!(lexical("great!!!").score > lexical("great").score);
        assert!(lexical("太好了！！").score > lexical("太好了").score);
        // Emphasis adds nothing to a neutral message.
        assert_eq!(lexical("release 1.2 is out!!!").score, 0.0);
    }

    /// A 50,000-character message (pasted logs) is scored in linear time.
    #[test]
    fn long_messages_return_quickly() {
        let english = "the build failed again and this is terrible. ".repeat(1200);
        let chinese = "这个版本很好用但是文档不好".repeat(4000);
        let unbroken = "a".repeat(50_000);
        for text in [&english, &chinese, &unbroken] {
            assert!(text.chars().count() >= 50_000);
            let started = std::time::Instant::now();
            let score = lexical(text);
            assert!(started.elapsed() < std::time::Duration::from_secs(2));
            assert!((-1.0..=1.0).contains(&score.score));
        }
        assert_eq!(lexical(&english).label(), Label::Negative);
    }
}
