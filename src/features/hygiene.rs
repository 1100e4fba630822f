//! Output hygiene for text the model wrote: before a chat adapter posts or edits a message
//! with generated text (a streamed answer), and where a feature renders model text into its
//! own message (a summary's points), [`sanitize_generated`] restricts its Markdown to a safe
//! subset.
//!
//! A prompt-injected or merely confused model must not be able to embed images (a Matrix
//! `mxc://` or a tracking pixel), hide a link's real target behind friendly text, smuggle raw
//! HTML into Matrix's formatted body, or ping a whole room. Code blocks and inline code are
//! left as they are (they render literally everywhere), except for mass mentions.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// `![alt](target "title")`.
static IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"!\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"\n]*")?\s*\)"#).unwrap()
});
/// `[text](target "title")`.
static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"\n]*")?\s*\)"#).unwrap()
});
/// A reference definition (`[1]: https://...`) would turn `[text][1]` into a hidden link.
static REFERENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^(\s{0,3})\[([^\]\n]+)\]:").unwrap());
/// `@everyone`, `@here` (Discord) and `@room` (Matrix) at a word start.
static MASS_MENTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)@(everyone|here|room)\b").unwrap());

/// Text the model generated, made safe to post: images become their description, links show
/// their real target, raw HTML and Discord's `<@id>`/`<#id>`/`<@&id>` forms are escaped, and
/// mass mentions cannot ping.
pub fn sanitize_generated(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (segment, is_code) in split_code(text) {
        if is_code {
            out.push_str(&defuse_mass_mentions(segment));
        } else {
            out.push_str(&sanitize_prose(segment));
        }
    }
    out
}

fn sanitize_prose(text: &str) -> String {
    let text = IMAGE.replace_all(text, |caps: &regex::Captures| {
        let alt = caps[1].trim();
        if alt.is_empty() {
            "[image]".to_string()
        } else {
            format!("[image: {alt}]")
        }
    });
    let text = LINK.replace_all(&text, |caps: &regex::Captures| {
        let label = caps[1].trim();
        let target = &caps[2];
        if label.is_empty() || label == target {
            target.to_string()
        } else {
            // Brackets stay, escaped, so the pair cannot form a link again.
            format!("{label} ({target})")
        }
    });
    let text = REFERENCE.replace_all(&text, r"$1\[$2]:");
    // Raw HTML (Matrix renders the formatted body) and Discord's angle-bracket mentions.
    let text = text.replace('<', r"\<");
    defuse_mass_mentions(&text).into_owned()
}

fn defuse_mass_mentions(text: &str) -> Cow<'_, str> {
    // A zero-width space after the `@` keeps the word readable and inert.
    MASS_MENTION.replace_all(text, "@\u{200B}$1")
}

/// Splits `text` into prose and code (fenced blocks and inline spans), in order.
fn split_code(text: &str) -> Vec<(&str, bool)> {
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let Some(start) = rest.find('`') else {
            parts.push((rest, false));
            break;
        };
        if start > 0 {
            parts.push((&rest[..start], false));
        }
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let fence = &rest[start..start + ticks];
        let after = start + ticks;
        match rest[after..].find(fence) {
            Some(end) => {
                let close = after + end + ticks;
                parts.push((&rest[start..close], true));
                rest = &rest[close..];
            }
            None => {
                // An unclosed fence (still streaming, or just stray backticks): prose.
                parts.push((&rest[start..], false));
                break;
            }
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::sanitize_generated;

    #[test]
    fn hygiene_table() {
        let cases = [
            ("plain answer.", "plain answer."),
            ("see ![cat](mxc://evil.org/abc)", "see [image: cat]"),
            ("![](https://t.example/pixel.png)", "[image]"),
            (
                "[docs](https://docs.rs/tokio)",
                "docs (https://docs.rs/tokio)",
            ),
            (
                "[https://github.com](https://evil.example/login)",
                "https://github.com (https://evil.example/login)",
            ),
            ("[x](https://a.example \"title\")", "x (https://a.example)"),
            ("<https://a.example>", r"\<https://a.example>"),
            ("<img src=mxc://evil.org/x>", r"\<img src=mxc://evil.org/x>"),
            ("hi <@123> and <@&9>", r"hi \<@123> and \<@&9>"),
            ("[1]: https://evil.example", r"\[1]: https://evil.example"),
            ("@everyone look", "@\u{200B}everyone look"),
            ("hey @room!", "hey @\u{200B}room!"),
            ("@Here", "@\u{200B}Here"),
            ("`a<b` and ![x](y)", "`a<b` and [image: x]"),
            (
                "```\nfn f() -> Vec<u8> {}\n```",
                "```\nfn f() -> Vec<u8> {}\n```",
            ),
            ("```\n@everyone\n```", "```\n@\u{200B}everyone\n```"),
            ("unclosed `code <b>", r"unclosed `code \<b>"),
            ("user@example.org stays", "user@example.org stays"),
            (
                "中文 [链接](https://a.example)",
                "中文 链接 (https://a.example)",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(sanitize_generated(input), expected, "{input}");
        }
    }

    #[test]
    fn never_panics_on_odd_text() {
        for text in [
            "`",
            "``",
            "```",
            "![",
            "[](",
            "İ`ẞ`",
            "\u{200B}@",
            "<<<<",
            "`@room",
        ] {
            let _ = sanitize_generated(text);
        }
    }
}
