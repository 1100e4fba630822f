//! The English half of the lexical stage: a port of VADER's rules (vaderSentiment 3.3.2,
//! `SentimentIntensityAnalyzer.polarity_scores`, MIT, © 2016 C.J. Hutto) over its lexicon.
//!
//! Ported: words split at white space with their outer punctuation stripped (emoticons kept);
//! boosters and dampeners up to three words before a sentiment word ("very", "kind of"), less
//! the further away; negation up to three words before ("not", "isn't", "never"; "no" before a
//! sentiment word); "never so/this" and "without doubt"; "least"; ALL CAPS emphasis when only
//! some words are capitals; VADER's special idioms ("the bomb", "yeah right"); and the "but"
//! shift (before it counts half, after it one and a half). Punctuation emphasis and the
//! normalisation are applied to the whole message in the parent module.
//!
//! Differences, all on purpose: curly apostrophes count as straight ones; Chinese punctuation is
//! stripped like ASCII punctuation; a short token whose stripped form is a lexicon word ("ty!")
//! is that word; words whose valence the domain list sets to 0 carry nothing, not even ALL CAPS
//! emphasis; thanks in a question counts a quarter ("thanks in advance" is politeness); sarcasm
//! cues ("yeah right", "thanks for nothing", "great... not", "/s") add a negative item and mark
//! the message (the parent flips its positive words).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use super::lexicon::Lexicons;
use super::{N_SCALAR, POLITE_IN_QUESTION};

/// VADER's booster increment.
const B_INCR: f64 = 0.293;
/// VADER's dampener decrement.
const B_DECR: f64 = -0.293;
/// VADER's ALL CAPS increment.
const C_INCR: f64 = 0.733;
/// The valence a sarcasm cue adds.
const SARCASM_VALENCE: f64 = -1.5;

/// VADER's negations (`NEGATE`); any word containing "n't" negates too.
const NEGATE: &str = "aint arent cannot cant couldnt darent didnt doesnt ain't aren't can't \
    couldn't daren't didn't doesn't dont hadnt hasnt havent isnt mightnt mustnt neither don't \
    hadn't hasn't haven't isn't mightn't mustn't neednt needn't never none nope nor not nothing \
    nowhere oughtnt shant shouldnt uhuh wasnt werent oughtn't shan't shouldn't uh-uh wasn't \
    weren't without wont wouldnt won't wouldn't rarely seldom despite";

/// VADER's boosters (`BOOSTER_DICT`, up)...
const BOOSTERS_UP: &str = "absolutely, amazingly, awfully, completely, considerable, \
    considerably, decidedly, deeply, effing, enormous, enormously, entirely, especially, \
    exceptional, exceptionally, extreme, extremely, fabulously, flipping, flippin, frackin, \
    fracking, fricking, frickin, frigging, friggin, fully, fuckin, fucking, fuggin, fugging, \
    greatly, hella, highly, hugely, incredible, incredibly, intensely, major, majorly, more, most, \
    particularly, purely, quite, really, remarkably, so, substantially, thoroughly, total, \
    totally, tremendous, tremendously, uber, unbelievably, unusually, utter, utterly, very";
/// ...and dampeners (down).
const BOOSTERS_DOWN: &str = "almost, barely, hardly, just enough, kind of, kinda, kindof, \
    kind-of, less, little, marginal, marginally, occasional, occasionally, partly, scarce, \
    scarcely, slight, slightly, somewhat, sort of, sorta, sortof, sort-of";

static NEGATIONS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| NEGATE.split_whitespace().collect());

static BOOSTERS: LazyLock<HashMap<&'static str, f64>> = LazyLock::new(|| {
    let words = |list: &'static str| list.split(',').map(str::trim);
    words(BOOSTERS_UP)
        .map(|w| (w, B_INCR))
        .chain(words(BOOSTERS_DOWN).map(|w| (w, B_DECR)))
        .collect()
});

/// VADER's idioms that contain lexicon words (`SPECIAL_CASES`).
const SPECIAL_CASES: &[(&str, f64)] = &[
    ("the shit", 3.0),
    ("the bomb", 3.0),
    ("bad ass", 1.5),
    ("badass", 1.5),
    ("bus stop", 0.0),
    ("yeah right", -2.0),
    ("kiss of death", -1.5),
    ("to die for", 3.0),
    ("beating heart", 3.5),
];

/// Thanks and the like: politeness, counted a quarter in a question.
const POLITE: &[&str] = &[
    "thanks",
    "thank",
    "thx",
    "ty",
    "tia",
    "cheers",
    "appreciate",
    "appreciated",
];

/// Phrases that mark sarcasm (lower case, matched as substrings of the spaced text).
const SARCASM_PHRASES: &[&str] = &[
    "yeah right",
    "thanks for nothing",
    "oh great",
    "oh joy",
    "oh wonderful",
    "just great",
    "just perfect",
    "just what i needed",
    "just what we needed",
    "what could possibly go wrong",
];

/// What the English half found.
#[derive(Debug, Default)]
pub struct Scored {
    /// One valence per word (0 for words without sentiment), then the sarcasm cues'.
    pub valences: Vec<f64>,
    pub sarcasm: bool,
}

/// Scores the English words of `text` (Chinese and emoji already taken out). `question`: the
/// message asks something, so thanks count a quarter.
pub fn score(text: &str, lexicons: &Lexicons, question: bool) -> Scored {
    let lexicon = &lexicons.english;
    let words: Vec<String> = text
        .split_whitespace()
        .map(|token| strip_token(&token.replace('’', "'"), lexicon))
        .filter(|word| !word.is_empty())
        .collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let cap_diff = {
        let caps = words.iter().filter(|w| is_upper(w)).count();
        caps > 0 && caps < words.len()
    };
    let mut valences: Vec<f64> = (0..words.len())
        .map(|i| valence_at(i, &words, &lower, cap_diff, lexicon))
        .collect();
    but_check(&lower, &mut valences);
    if question {
        for (valence, word) in valences.iter_mut().zip(&lower) {
            if POLITE.contains(&word.as_str()) {
                *valence *= POLITE_IN_QUESTION;
            }
        }
    }
    let sarcasm = has_sarcasm_cue(&lower, text);
    if sarcasm {
        valences.push(SARCASM_VALENCE);
    }
    Scored { valences, sarcasm }
}

/// VADER's `sentiment_valence` for the word at `i`.
fn valence_at(
    i: usize,
    words: &[String],
    lower: &[String],
    cap_diff: bool,
    lexicon: &HashMap<String, f32>,
) -> f64 {
    let word = lower[i].as_str();
    if BOOSTERS.contains_key(word) {
        return 0.0;
    }
    if word == "kind" && lower.get(i + 1).map(String::as_str) == Some("of") {
        return 0.0;
    }
    let in_lexicon = |w: &str| lexicon.contains_key(w);
    let Some(&base) = lexicon.get(word) else {
        return 0.0;
    };
    let base = f64::from(base);
    if base == 0.0 {
        return 0.0;
    }
    let mut valence = base;
    if word == "no" && i + 1 < words.len() && in_lexicon(lower[i + 1].as_str()) {
        valence = 0.0;
    }
    let before = |k: usize| lower[i - k].as_str();
    if (i > 0 && before(1) == "no")
        || (i > 1 && before(2) == "no")
        || (i > 2 && before(3) == "no" && matches!(before(1), "or" | "nor"))
    {
        valence = base * N_SCALAR;
    }
    if is_upper(&words[i]) && cap_diff && valence != 0.0 {
        valence += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    for start in 0..3 {
        if i > start && !in_lexicon(before(start + 1)) {
            let mut scalar = booster_scalar(&words[i - (start + 1)], valence, cap_diff);
            if start == 1 {
                scalar *= 0.95;
            } else if start == 2 {
                scalar *= 0.9;
            }
            valence += scalar;
            valence = negation_check(valence, lower, start, i);
            if start == 2 {
                valence = special_idioms_check(valence, lower, i);
            }
        }
    }
    least_check(valence, lower, i, lexicon)
}

/// VADER's `scalar_inc_dec`: what a booster before a sentiment word adds.
fn booster_scalar(word: &str, valence: f64, cap_diff: bool) -> f64 {
    let Some(&scalar) = BOOSTERS.get(word.to_lowercase().as_str()) else {
        return 0.0;
    };
    let mut scalar = if valence < 0.0 { -scalar } else { scalar };
    if is_upper(word) && cap_diff {
        scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
    }
    scalar
}

fn negated(word: &str) -> bool {
    NEGATIONS.contains(word) || word.contains("n't")
}

/// VADER's `_negation_check` for the word `start + 1` places before `i`.
fn negation_check(valence: f64, lower: &[String], start: usize, i: usize) -> f64 {
    let at = |k: usize| lower[i - k].as_str();
    let so_or_this = |w: &str| w == "so" || w == "this";
    match start {
        0 if negated(at(1)) => valence * N_SCALAR,
        1 if at(2) == "never" && so_or_this(at(1)) => valence * 1.25,
        1 if at(2) == "without" && at(1) == "doubt" => valence,
        1 if negated(at(2)) => valence * N_SCALAR,
        // VADER's own precedence: (never and so/this two back) or so/this just before.
        2 if (at(3) == "never" && so_or_this(at(2))) || so_or_this(at(1)) => valence * 1.25,
        2 if at(3) == "without" && (at(2) == "doubt" || at(1) == "doubt") => valence,
        2 if negated(at(3)) => valence * N_SCALAR,
        _ => valence,
    }
}

/// VADER's `_special_idioms_check` (only reached with three words before `i`).
fn special_idioms_check(valence: f64, lower: &[String], i: usize) -> f64 {
    let (w3, w2, w1, w0) = (&lower[i - 3], &lower[i - 2], &lower[i - 1], &lower[i]);
    let three_two_one = format!("{w3} {w2} {w1}");
    let three_two = format!("{w3} {w2}");
    let two_one = format!("{w2} {w1}");
    let sequences = [
        format!("{w1} {w0}"),
        format!("{w2} {w1} {w0}"),
        two_one.clone(),
        three_two_one.clone(),
        three_two.clone(),
    ];
    let mut valence = sequences
        .iter()
        .find_map(|seq| special_case(seq.as_str()))
        .unwrap_or(valence);
    if let Some(next) = lower.get(i + 1) {
        if let Some(v) = special_case(&format!("{w0} {next}")) {
            valence = v;
        }
        if let Some(after) = lower.get(i + 2) {
            if let Some(v) = special_case(&format!("{w0} {next} {after}")) {
                valence = v;
            }
        }
    }
    for n_gram in [&three_two_one, &three_two, &two_one] {
        if let Some(scalar) = BOOSTERS.get(n_gram.as_str()) {
            valence += scalar;
        }
    }
    valence
}

/// The valence of one of VADER's idioms.
fn special_case(seq: &str) -> Option<f64> {
    SPECIAL_CASES
        .iter()
        .find(|(idiom, _)| *idiom == seq)
        .map(|(_, valence)| *valence)
}

/// VADER's `_least_check`: "least" before a word negates it, "at least" and "very least" not.
fn least_check(valence: f64, lower: &[String], i: usize, lexicon: &HashMap<String, f32>) -> f64 {
    let least_before = i > 0 && lower[i - 1] == "least" && !lexicon.contains_key("least");
    if !least_before {
        return valence;
    }
    if i > 1 && matches!(lower[i - 2].as_str(), "at" | "very") {
        valence
    } else {
        valence * N_SCALAR
    }
}

/// VADER's `_but_check`: words before the first "but" count half, words after it 1.5 times.
fn but_check(lower: &[String], valences: &mut [f64]) {
    let Some(but) = lower.iter().position(|w| w == "but") else {
        return;
    };
    for (index, valence) in valences.iter_mut().enumerate() {
        if index < but {
            *valence *= 0.5;
        } else if index > but {
            *valence *= 1.5;
        }
    }
}

/// Python's `str.isupper`: some cased letter, and no lower-case one.
fn is_upper(word: &str) -> bool {
    word.chars().any(char::is_uppercase) && !word.chars().any(char::is_lowercase)
}

/// Outer punctuation stripped, as VADER's `_strip_punc_if_word`: a result of two characters or
/// fewer was probably an emoticon (":)"), so the token stays whole, unless the stripped form is
/// a lexicon word the token is not ("ty!").
fn strip_token(token: &str, lexicon: &HashMap<String, f32>) -> String {
    let stripped = token.trim_matches(is_punctuation);
    if stripped.chars().count() > 2 {
        return stripped.to_string();
    }
    let known = |w: &str| lexicon.contains_key(&w.to_lowercase());
    if !stripped.is_empty() && known(stripped) && !known(token) {
        return stripped.to_string();
    }
    token.to_string()
}

/// ASCII punctuation (Python's `string.punctuation`) and the Chinese punctuation that stays
/// behind when the Chinese words are taken out.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || "，。！？、；：“”‘’（）【】《》…—～·".contains(c)
}

/// Whether the message has one of the sarcasm cues: a phrase, a "/s" tag, or praise taken back
/// at the end ("great docs... not").
fn has_sarcasm_cue(lower: &[String], text: &str) -> bool {
    if lower.iter().any(|w| w == "/s") || text.split_whitespace().any(|t| t == "/s") {
        return true;
    }
    let spaced = lower.join(" ");
    if SARCASM_PHRASES.iter().any(|p| spaced.contains(p)) {
        return true;
    }
    let end = text
        .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '.' | '!' | '?' | '。' | '！'))
        .to_lowercase();
    [
        "... not", "...not", "… not", "…not", ", not", " - not", " — not",
    ]
    .iter()
    .any(|taken_back| end.ends_with(taken_back))
}

#[cfg(test)]
mod tests {
    use super::super::lexicon::LEXICONS;
    use super::*;

    fn total(text: &str) -> f64 {
        score(text, &LEXICONS, false).valences.iter().sum()
    }

    #[test]
    fn negation_flips_a_word_up_to_three_words_later() {
        let good = total("The docs are good");
        assert!(good > 0.0);
        for negated in [
            "The docs are not good",
            "The docs aren't good",
            "The docs are not really very good",
            "The docs are never good",
        ] {
            assert!(total(negated) < 0.0, "{negated}: {}", total(negated));
        }
        // Four words back is out of reach.
        assert!(total("not that the docs are really good") > 0.0);
        // "no" before a sentiment word negates it.
        assert!(total("no good") < 0.0);
    }

    #[test]
    fn boosters_amplify_and_dampeners_soften() {
        let plain = total("the release is good");
        let boosted = total("the release is extremely good");
        let damped = total("the release is kind of good");
        assert!(
            boosted > plain && (0.1..plain).contains(&damped),
            "{boosted} {plain} {damped}"
        );
        // A booster before a negative word makes it more negative.
        assert!(total("this is very bad") < total("this is bad"));
    }

    #[test]
    fn but_shifts_the_weight_to_what_follows() {
        let valences = score(
            "The API is great but the docs are terrible",
            &LEXICONS,
            false,
        )
        .valences;
        let sum: f64 = valences.iter().sum();
        assert!(sum < 0.0, "{valences:?}");
        // Without "but" the praise outweighs.
        assert!(total("The API is great and the docs are bad") > 0.0);
    }

    #[test]
    fn capitals_emphasise_when_only_some_words_are_capitals() {
        assert!(total("this is GREAT") > total("this is great"));
        // All capitals: no difference to emphasise.
        assert_eq!(total("THIS IS GREAT"), total("this is great"));
        // Words the domain list neutralised stay neutral in capitals.
        assert_eq!(total("got a PANIC in main"), 0.0);
    }

    #[test]
    fn technical_words_carry_no_sentiment() {
        for text in [
            "thread 'main' panicked at src/main.rs:3",
            "the OOM killer killed the process",
            "fatal: not a git repository",
            "warning: unused variable",
            "dead code elimination",
        ] {
            assert_eq!(total(text), 0.0, "{text}");
        }
    }

    #[test]
    fn punctuation_around_words_and_curly_apostrophes() {
        assert!(total("great!!!") > 0.0);
        assert!(total("ty!") > 0.0);
        assert!(total("it isn’t good") < 0.0);
        // Emoticons stay whole.
        assert!(total(":)") > 0.0 && total(":(") < 0.0);
    }

    #[test]
    fn thanks_count_less_in_a_question() {
        let question = score("how do I pin a version? thanks", &LEXICONS, true);
        let statement = score("that fixed it, thanks", &LEXICONS, false);
        let q: f64 = question.valences.iter().sum();
        let s: f64 = statement.valences.iter().sum();
        assert!((0.1..s / 2.0).contains(&q), "{q} {s}");
    }

    #[test]
    fn sarcasm_cues() {
        for text in [
            "yeah right, that will work",
            "thanks for nothing",
            "Great docs... not.",
            "love this build system /s",
            "oh great, another breaking change",
        ] {
            assert!(score(text, &LEXICONS, false).sarcasm, "{text}");
        }
        for text in ["great docs", "not great", "right, that works"] {
            assert!(!score(text, &LEXICONS, false).sarcasm, "{text}");
        }
    }
}
