//! Property tests: arbitrary Unicode and very long input through every parser a member can
//! reach (text commands on each platform, the mention finder, the output sanitizer, the
//! console line parser) must never panic. The adapters' event converters have their own
//! property tests next to them (`discord::conversion`, `matrix::conversion`), fed by
//! [`arbitrary_text`].

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Cases per property: 100,000 in the suite (about a second each in release builds).
pub const CASES: usize = 100_000;

/// A seeded generator, so a failure names a reproducible seed.
pub fn rng(seed: u64) -> SmallRng {
    SmallRng::seed_from_u64(seed)
}

/// Pieces chosen to hit the parsers' edges: prefixes, mentions, numbers, Markdown, and
/// characters whose case mapping changes their byte length (`İ`, `ẞ`), combining marks,
/// zero-width and right-to-left characters, emoji with joiners, CJK.
const PIECES: &[&str] = &[
    "@steward",
    "@Steward",
    "@STEWARD",
    "!steward",
    "!STEWARD",
    "/ask",
    "/case",
    "/setting",
    "ask",
    "case",
    "cases",
    "setting",
    "summarize",
    "rules",
    "appeal",
    "kb",
    "gaps",
    "feedback",
    "set",
    "clear",
    "ban",
    "kick",
    "timeout",
    "dismiss",
    "reverse",
    "uphold",
    "#",
    "#12",
    "12",
    "-5",
    "0",
    "99999999999999999999",
    " ",
    "  ",
    "\n",
    "\t",
    ":",
    "：",
    ",",
    "，",
    "@",
    "@@",
    "`",
    "```",
    "![x](mxc://a/b)",
    "[t](https://e.example)",
    "<@123>",
    "<#1>",
    "@room",
    "@everyone",
    "İ",
    "ẞ",
    "ß",
    "ǅ",
    "ﬃ",
    "\u{0307}",
    "\u{200B}",
    "\u{200D}",
    "\u{202E}",
    "\u{FEFF}",
    "👩‍💻",
    "🚩",
    "中文",
    "什么",
    "請問",
    "？",
    "é",
    "e\u{0301}",
    "\u{10FFFF}",
    "\u{7F}",
    "\0",
    "\\",
    "\"",
    "{",
    "}",
    "%",
    "free nitro",
    "discord.gg/x",
];

/// Arbitrary text: mostly short mixes of [`PIECES`] and random chars, sometimes very long.
pub fn arbitrary_text(rng: &mut impl Rng) -> String {
    let long = rng.random_ratio(1, 200);
    let parts = if long {
        rng.random_range(1_000..5_000)
    } else {
        rng.random_range(0..12)
    };
    let mut text = String::new();
    for _ in 0..parts {
        match rng.random_range(0..4) {
            0 | 1 => text.push_str(PIECES[rng.random_range(0..PIECES.len())]),
            2 => text.push(rng.random_range('\u{20}'..='\u{7E}')),
            _ => text.push(rng.random::<char>()),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::mention::strip_mention;
    use crate::core::{CaseDecision, Command, Role};
    use crate::features::hygiene::sanitize_generated;
    use crate::platform::console::{parse_line, ConsoleContext};

    #[test]
    fn text_parsers_never_panic() {
        let mut rng = rng(0x5eed_0001);
        let context = ConsoleContext {
            user: "ana".into(),
            role: Role::Member,
            community: "c".into(),
            channel: "general".into(),
        };
        for case in 0..CASES {
            let text = arbitrary_text(&mut rng);
            let split = text
                .char_indices()
                .nth(rng.random_range(0..=text.chars().count().min(8)))
                .map_or(text.len(), |(at, _)| at);
            let (name, argument) = text.split_at(split);
            let _ = Command::parse(name, argument);
            let _ = CaseDecision::parse(name, Some(argument));
            let (_, question) = strip_mention(&text, "Steward");
            assert!(question.len() <= text.len() + 1, "case {case}: {text:?}");
            let _ = strip_mention(&text, "İẞ");
            let _ = sanitize_generated(&text);
            let _ = parse_line(&text, &context, format!("fuzz-{case}"));
        }
    }

    #[test]
    fn the_generator_reaches_the_edges() {
        let mut rng = rng(7);
        let texts: Vec<String> = (0..2_000).map(|_| arbitrary_text(&mut rng)).collect();
        assert!(texts
            .iter()
            .any(|t| t.contains('İ') && t.contains("@steward")));
        assert!(texts.iter().any(|t| t.chars().count() > 1_000));
        assert!(texts.iter().any(String::is_empty));
    }
}
