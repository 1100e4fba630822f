//! The Chinese half of the lexical stage: the runs of Han characters are cut into words by
//! forward longest match against Steward's list (`data/zh_lexicon.tsv`; characters that start
//! no entry stand alone), then scored with VADER's rules in Chinese form: a negator up to three
//! words before a sentiment word flips it (x -0.74, "不好"), a degree adverb adds to its strength
//! ("很好", "有点慢"; less the further away), "好" right before a sentiment word is a degree
//! adverb ("好慢"), a contrast ("但是") makes what follows count 1.5 times and what went before
//! half, thanks count a quarter in a question, and a sarcasm cue ("呵呵") adds its own valence and
//! marks the message. Negation and degree do not reach across punctuation or other scripts.
//!
//! Longest match over the list is enough here: the list's neutral entries ("别人", "好像",
//! "差不多") keep a short entry from matching inside a longer word, and words the list does
//! not know carry no sentiment whatever way they would be cut.

use super::lexicon::{Lexicons, ZhKind};
use super::{N_SCALAR, POLITE_IN_QUESTION};

/// The strength "好" adds as a degree adverb, as "很".
const HAO_DEGREE: f32 = 0.293;

/// One word of a run, or the end of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Word(ZhKind),
    /// A character or word that is not in the list.
    Unknown,
    /// Punctuation, another script or a line break came between.
    Break,
}

/// What the Chinese half found.
#[derive(Debug, Default)]
pub struct Scored {
    /// One valence per sentiment word and sarcasm cue.
    pub valences: Vec<f64>,
    pub sarcasm: bool,
}

/// Whether `c` is a Han character (with the extensions and compatibility ideographs).
pub fn is_han(c: char) -> bool {
    matches!(
        c,
        '\u{4E00}'..='\u{9FFF}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{2FA1F}'
    )
}

/// Scores the Han runs of `text`. `question`: the message asks something.
pub fn score(text: &str, lexicons: &Lexicons, question: bool) -> Scored {
    let tokens = tokenize(text, lexicons);
    let mut scored = Scored::default();
    // Where the first contrast fell, as an index into `valences`.
    let mut but_at = None;
    for (index, token) in tokens.iter().enumerate() {
        let Token::Word(kind) = *token else {
            continue;
        };
        match kind {
            ZhKind::Sentiment(valence) | ZhKind::Thanks(valence) => {
                let mut valence = f64::from(valence);
                for distance in 1..=3 {
                    let Some(before) = index.checked_sub(distance).map(|i| tokens[i]) else {
                        break;
                    };
                    match before {
                        Token::Break => break,
                        Token::Word(ZhKind::Degree(scalar)) => {
                            let mut scalar = f64::from(scalar);
                            if valence < 0.0 {
                                scalar = -scalar;
                            }
                            scalar *= match distance {
                                1 => 1.0,
                                2 => 0.95,
                                _ => 0.9,
                            };
                            valence += scalar;
                        }
                        Token::Word(ZhKind::Negator) => valence *= N_SCALAR,
                        _ => {}
                    }
                }
                if question && matches!(kind, ZhKind::Thanks(_)) {
                    valence *= POLITE_IN_QUESTION;
                }
                scored.valences.push(valence);
            }
            ZhKind::Sarcasm(valence) => {
                scored.sarcasm = true;
                scored.valences.push(f64::from(valence));
            }
            ZhKind::But => {
                if but_at.is_none() {
                    but_at = Some(scored.valences.len());
                }
            }
            ZhKind::Negator | ZhKind::Degree(_) | ZhKind::Neutral => {}
        }
    }
    if let Some(but) = but_at {
        for (index, valence) in scored.valences.iter_mut().enumerate() {
            *valence *= if index < but { 0.5 } else { 1.5 };
        }
    }
    scored
}

/// The words of every Han run of `text`, runs separated by [`Token::Break`].
fn tokenize(text: &str, lexicons: &Lexicons) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut run_start = None;
    for (at, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (is_han(c), run_start) {
            (true, None) => run_start = Some(at),
            (false, Some(start)) => {
                if !tokens.is_empty() {
                    tokens.push(Token::Break);
                }
                cut_run(&text[start..at], lexicons, &mut tokens);
                run_start = None;
            }
            _ => {}
        }
    }
    tokens
}

/// Forward longest match of one Han run against the list.
fn cut_run(run: &str, lexicons: &Lexicons, tokens: &mut Vec<Token>) {
    // Byte offsets of each character, and the end.
    let bounds: Vec<usize> = run
        .char_indices()
        .map(|(at, _)| at)
        .chain(std::iter::once(run.len()))
        .collect();
    let chars = bounds.len() - 1;
    let first = tokens.len();
    let mut texts: Vec<&str> = Vec::new();
    let mut at = 0;
    while at < chars {
        let longest = lexicons.chinese_max_chars.min(chars - at);
        let found = (1..=longest).rev().find_map(|len| {
            let word = &run[bounds[at]..bounds[at + len]];
            lexicons.chinese.get(word).map(|kind| (len, word, *kind))
        });
        match found {
            Some((len, word, kind)) => {
                tokens.push(Token::Word(kind));
                texts.push(word);
                at += len;
            }
            None => {
                tokens.push(Token::Unknown);
                texts.push(&run[bounds[at]..bounds[at + 1]]);
                at += 1;
            }
        }
    }
    // "好" right before a sentiment word is a degree adverb: "好慢", "好难用".
    for (i, pair) in texts.windows(2).enumerate() {
        let next_is_sentiment = matches!(
            tokens[first + i + 1],
            Token::Word(ZhKind::Sentiment(_) | ZhKind::Thanks(_))
        );
        if pair[0] == "好" && next_is_sentiment {
            tokens[first + i] = Token::Word(ZhKind::Degree(HAO_DEGREE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::lexicon::LEXICONS;
    use super::*;

    fn total(text: &str) -> f64 {
        score(text, &LEXICONS, false).valences.iter().sum()
    }

    /// A text and what its total valence must satisfy.
    type Case = (&'static str, fn(f64) -> bool);

    #[test]
    fn negation_degree_and_plain_words() {
        let cases: &[Case] = &[
            ("很好", |v| v > 1.9),
            ("好", |v| v > 0.0),
            ("不好", |v| v < 0.0),
            ("很不好", |v| v < -1.4),
            ("不是不好", |v| v > 0.0),
            ("不错", |v| v > 0.0),
            ("这个库太难用了", |v| v < -2.2),
            ("有点慢", |v| (-0.8..0.0).contains(&v)),
            ("好慢啊", |v| v < -0.8),
            ("没问题", |v| v > 0.0),
            ("别人的代码", |v| v == 0.0),
            ("好像是配置的问题", |v| v == 0.0),
            ("差不多就这样", |v| v == 0.0),
        ];
        for (text, check) in cases {
            let value = total(text);
            assert!(check(value), "{text}: {value}");
        }
    }

    #[test]
    fn negation_stops_at_punctuation_and_three_words() {
        // "不" in another clause does not reach "好".
        assert!(total("不，好") > 0.0);
        assert!(total("不知道为什么，但是很好") > 0.0);
    }

    #[test]
    fn a_contrast_shifts_the_weight_to_what_follows() {
        assert!(total("文档很好，但是太慢了") < 0.0);
        assert!(total("虽然有点慢，但是很好用") > 0.0);
    }

    #[test]
    fn thanks_count_less_in_a_question_and_sarcasm_is_marked() {
        let asked: f64 = score("怎么配置代理？谢谢", &LEXICONS, true)
            .valences
            .iter()
            .sum();
        let said: f64 = score("解决了，谢谢", &LEXICONS, false)
            .valences
            .iter()
            .sum();
        assert!((0.1..1.0).contains(&asked) && said > 2.0, "{asked} {said}");
        let sarcastic = score("呵呵，真是太好了", &LEXICONS, false);
        assert!(sarcastic.sarcasm);
        assert!(!score("真是太好了", &LEXICONS, false).sarcasm);
    }

    #[test]
    fn other_scripts_are_not_cut() {
        assert_eq!(tokenize("hello world 123", &LEXICONS), Vec::new());
        assert_eq!(total("Rust 的 borrow checker"), 0.0);
    }
}
