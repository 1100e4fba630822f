//! The community's own rules in plain language (`rules`, `rules set ...`, `rules clear`).
//!
//! Moderators write them as they would for people, one rule per line, in any language; Steward
//! numbers them. The model's review receives the numbered list and names the rule a message
//! breaks by its number only: a number outside the list counts as none, and the rule never
//! becomes text that decides anything (the policy acts on the closed category and severity).

use std::sync::LazyLock;

use regex::Regex;

use crate::core::settings::RULES;
use crate::features::Context;
use crate::store::{Store, StoreError};

/// At most this many rules: the list goes into every review prompt of a small model.
pub const MAX_RULES: usize = 20;
/// At most this many characters in all.
pub const MAX_CHARS: usize = 2000;

/// Rules moderators wrote that cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("{count} rules; at most {MAX_RULES}")]
    TooMany { count: usize },
    #[error("{chars} characters; at most {MAX_CHARS}")]
    TooLong { chars: usize },
    #[error("no rule in the text")]
    Empty,
}

impl RulesError {
    /// A short stable label for logs.
    pub fn label(&self) -> &'static str {
        match self {
            RulesError::TooMany { .. } => "rules_too_many",
            RulesError::TooLong { .. } => "rules_too_long",
            RulesError::Empty => "rules_empty",
        }
    }
}

/// A numbering or bullet at the start of a line, which Steward replaces with its own numbers:
/// `1.`, `2)`, `(3)`, `４．`, `五、`, `第6条`, `-`, `*`, `•`. An ASCII `.`, `)` or `:` counts
/// only when a space follows, so "3.5 is the minimum version" keeps its number.
static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\s*(?:[-*•·‣▪]+\s*|[(（]?\s*[0-9０-９]{1,3}\s*(?:[.):](?:\s+|$)|[．）、：]\s*)|第\s*[0-9０-９一二三四五六七八九十百]+\s*条[：:、.．]?\s*|[一二三四五六七八九十]+\s*[、．]\s*)",
    )
    .expect("the rule marker pattern compiles")
});

/// `N.` or `N)` after a space inside one line: "1. Be kind 2. No spam" typed on one line (a
/// Discord slash command option has no line breaks).
static INLINE_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|\s)(\d{1,2})[.)]\s").expect("the inline pattern compiles"));

/// The rules in `text` as moderators wrote them: one per line (or numbered on one line),
/// numbering and bullets removed, blank lines dropped.
pub fn parse(text: &str) -> Result<Vec<String>, RulesError> {
    let chars = text.trim().chars().count();
    if chars > MAX_CHARS {
        return Err(RulesError::TooLong { chars });
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let pieces = if lines.len() == 1 {
        split_inline(lines[0])
    } else {
        lines
    };
    let rules: Vec<String> = pieces
        .iter()
        .map(|line| MARKER.replace(line, "").trim().to_string())
        .filter(|rule| !rule.is_empty())
        .collect();
    match rules.len() {
        0 => Err(RulesError::Empty),
        count if count > MAX_RULES => Err(RulesError::TooMany { count }),
        _ => Ok(rules),
    }
}

/// Splits one line at `1.`, `2.`, `3.` ... when they count up from 1; otherwise the line is
/// one rule.
fn split_inline(line: &str) -> Vec<&str> {
    let mut starts = Vec::new();
    for caps in INLINE_NUMBER.captures_iter(line) {
        let Some(number) = caps.get(1) else {
            continue;
        };
        if number.as_str().parse::<usize>().ok() != Some(starts.len() + 1) {
            continue;
        }
        // The piece starts at the number, not at the space before it.
        starts.push(number.start());
    }
    if starts.len() < 2 || starts[0] != line.len() - line.trim_start().len() {
        return vec![line];
    }
    let mut pieces = Vec::with_capacity(starts.len());
    for (i, start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(line.len());
        pieces.push(&line[*start..end]);
    }
    pieces
}

/// The rules as stored (one per line, already parsed); a damaged value yields what it can.
pub fn stored(value: &str) -> Vec<String> {
    value
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .take(MAX_RULES)
        .map(str::to_string)
        .collect()
}

/// The rule the model named, if it is one of the community's: `rule` counts from 1, and 0 or
/// a number past the end of the list is none.
pub fn cited(rule: u32, rules: &[String]) -> Option<(u32, &str)> {
    let index = usize::try_from(rule).ok()?.checked_sub(1)?;
    rules.get(index).map(|text| (rule, text.as_str()))
}

/// Handles `rules` (anyone: show them) and `rules set ...` / `rules clear` (moderators). The
/// router has checked the role for setting; it is checked again here because a wrong answer
/// would let a member rewrite what the model reviews against.
pub async fn rules(store: &Store, ctx: &Context, text: Option<String>) -> String {
    let Some(text) = text else {
        return ctx.strings.rules_list(&ctx.settings.rules(), ctx.prefix());
    };
    if !ctx.role.can_moderate() {
        return ctx.strings.moderators_only().to_string();
    }
    match set(store, ctx, &text).await {
        Ok(reply) => reply,
        Err(error) => {
            tracing::error!(label = error.label(), %error, "the rules command failed");
            ctx.strings.failed().to_string()
        }
    }
}

async fn set(store: &Store, ctx: &Context, text: &str) -> Result<String, StoreError> {
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    if text.trim().is_empty() {
        store.delete_setting(platform, community, RULES).await?;
        return Ok(ctx.strings.rules_cleared().to_string());
    }
    match parse(text) {
        Ok(rules) => {
            store
                .set_setting(platform, community, RULES, &rules.join("\n"))
                .await?;
            Ok(ctx.strings.rules_saved(&rules))
        }
        Err(error) => {
            tracing::info!(label = error.label(), "rules refused: {error}");
            let strings = ctx.strings;
            Ok(match error {
                RulesError::TooMany { count } => strings.too_many_rules(count, MAX_RULES),
                RulesError::TooLong { chars } => strings.rules_too_long(chars, MAX_CHARS),
                RulesError::Empty => strings.no_rules_in_text(ctx.prefix()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let cases: Vec<(&str, Result<Vec<&str>, RulesError>)> = vec![
            ("1. Be kind\n2. No spam", Ok(vec!["Be kind", "No spam"])),
            (
                "- Be kind\n\n* No spam\n• English only",
                Ok(vec!["Be kind", "No spam", "English only"]),
            ),
            (
                "(1) Be kind\n2) No spam\n3: No ads",
                Ok(vec!["Be kind", "No spam", "No ads"]),
            ),
            (
                "1. Be kind 2. No spam 3. No ads",
                Ok(vec!["Be kind", "No spam", "No ads"]),
            ),
            // Numbers that do not count up from 1 are part of the text.
            ("Be kind to the 2. team", Ok(vec!["Be kind to the 2. team"])),
            (
                "3.5 is the minimum version",
                Ok(vec!["3.5 is the minimum version"]),
            ),
            (
                "一、友善交流\n二、禁止广告\n第3条：禁止刷屏",
                Ok(vec!["友善交流", "禁止广告", "禁止刷屏"]),
            ),
            (
                "１．不要刷屏\n2、不要发广告",
                Ok(vec!["不要刷屏", "不要发广告"]),
            ),
            ("1.\n-\n  ", Err(RulesError::Empty)),
        ];
        for (text, expected) in cases {
            let expected: Result<Vec<String>, RulesError> =
                expected.map(|rules| rules.iter().map(|r| r.to_string()).collect());
            assert_eq!(parse(text), expected, "{text:?}");
        }
    }

    #[test]
    fn limits() {
        let many: Vec<String> = (1..=21).map(|n| format!("{n}. rule {n}")).collect();
        assert_eq!(
            parse(&many.join("\n")),
            Err(RulesError::TooMany { count: 21 })
        );
        assert_eq!(parse(&many[..20].join("\n")).unwrap().len(), 20);
        let long = "x".repeat(MAX_CHARS + 1);
        assert_eq!(
            parse(&long),
            Err(RulesError::TooLong {
                chars: MAX_CHARS + 1
            })
        );
        // Characters, not bytes: 2,000 Chinese characters fit.
        assert!(parse(&"禁".repeat(MAX_CHARS)).is_ok());
    }

    #[test]
    fn the_model_names_a_rule_by_its_number_only() {
        let rules = stored("Be kind\nNo spam\nEnglish only");
        assert_eq!(cited(2, &rules), Some((2, "No spam")));
        assert_eq!(cited(0, &rules), None);
        // Rule 9 of 3 is ignored.
        assert_eq!(cited(9, &rules), None);
        assert_eq!(cited(u32::MAX, &rules), None);
        assert_eq!(cited(1, &[]), None);
    }
}
