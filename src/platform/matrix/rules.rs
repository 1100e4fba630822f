//! Pure decisions the Matrix adapter makes about plain values: who may invite Steward, which
//! role a power level means, whether a message mentions the bot, and how `!steward ...`
//! commands parse. No I/O and no SDK calls, so each rule is a table-driven unit test.

use crate::community::mention::find_at_name;
use crate::core::{Command, Role};

/// Whether an invite from `inviter` (a full user id like `@ana:example.org`) is accepted.
///
/// Allowlist entries are user ids (`@ana:example.org`, exact match) or server names
/// (`example.org` or `:example.org`, any user on that server). An empty list accepts nobody:
/// a bot that joins any room it is invited to is a spam target.
pub fn invite_allowed(inviter: &str, allowlist: &[String]) -> bool {
    let server = inviter.split_once(':').map(|(_, server)| server);
    allowlist.iter().any(|entry| {
        let entry = entry.trim();
        if entry.starts_with('@') {
            entry == inviter
        } else {
            let wanted = entry.strip_prefix(':').unwrap_or(entry);
            !wanted.is_empty() && server == Some(wanted)
        }
    })
}

/// The core role for a Matrix power level. `None` means "infinite" (room creators from room
/// version 12 on), which ranks above every integer level.
pub fn role_for_power_level(level: Option<i64>, moderator_level: i64) -> Role {
    match level {
        None => Role::Owner,
        Some(level) if level >= 100 => Role::Owner,
        Some(level) if level >= moderator_level => Role::Moderator,
        Some(_) => Role::Member,
    }
}

/// Who the bot is, for mention detection.
#[derive(Debug, Clone)]
pub struct BotIdentity {
    /// Full user id, e.g. `@steward:example.org`.
    pub user_id: String,
    /// The bot's display name in the room (falls back to the localpart).
    pub display_name: String,
    /// The name the core knows the bot by (`[bot] name`): mentions become `@name`, which the
    /// router strips, as Discord's `<@id>` does.
    pub core_name: String,
}

impl BotIdentity {
    /// The localpart of the user id (`steward` for `@steward:example.org`).
    pub fn localpart(&self) -> &str {
        self.user_id
            .trim_start_matches('@')
            .split(':')
            .next()
            .unwrap_or_default()
    }
}

/// Whether a message mentions the bot: an intentional mention (`m.mentions`), a pill link in
/// the HTML body, the full user id in the text, or the display name / localpart at the start
/// (`Steward: ...`, the plain-text form of a pill) or written as `@name`.
pub fn mentions_bot(
    body: &str,
    formatted: Option<&str>,
    intentional: &[String],
    bot: &BotIdentity,
) -> bool {
    if intentional.iter().any(|user| user == &bot.user_id) {
        return true;
    }
    if let Some(html) = formatted {
        let encoded = bot.user_id.replace('@', "%40").replace(':', "%3A");
        if html.contains(&format!("matrix.to/#/{}", bot.user_id))
            || html.contains(&format!("matrix.to/#/{encoded}"))
        {
            return true;
        }
    }
    body.contains(&bot.user_id) || leading_name(body, bot).is_some() || at_name(body, bot)
}

/// Writes the bot's Matrix mention forms the way the core reads mentions, `@name` (the router
/// strips it, in one place for every platform): the full user id anywhere, a leading `Name:` /
/// `Name,` (the plain-text form of a pill), and `@Name` / `@localpart` as a word.
pub fn normalize_bot_mention(body: &str, bot: &BotIdentity) -> String {
    let at_name = format!("@{}", bot.core_name);
    let text = body.replace(&bot.user_id, &at_name);
    let trimmed = text.trim();
    if let Some(rest) = leading_name(trimmed, bot) {
        return format!("{at_name}{rest}");
    }
    for name in [bot.display_name.as_str(), bot.localpart()] {
        if name.is_empty() {
            continue;
        }
        // Hole 6: offsets from the text itself (a lowercased copy panicked on `İ@stewardẞ`).
        let found = find_at_name(trimmed, name, |c| !c.is_alphanumeric() && c != '_');
        if let Some((at, end)) = found {
            return format!("{}{at_name}{}", &trimmed[..at], &trimmed[end..]);
        }
    }
    trimmed.to_string()
}

/// If `body` starts with the bot's display name or localpart (optionally after `@`) followed by
/// `:`, `,`, whitespace or the end, returns the text after it.
fn leading_name<'a>(body: &'a str, bot: &BotIdentity) -> Option<&'a str> {
    let body = body.trim_start();
    let (unprefixed, had_at) = match body.strip_prefix('@') {
        Some(rest) => (rest, true),
        None => (body, false),
    };
    [bot.display_name.as_str(), bot.localpart()]
        .into_iter()
        .filter(|name| !name.is_empty())
        .find_map(|name| {
            let head = unprefixed.get(..name.len())?;
            if !head.eq_ignore_ascii_case(name) {
                return None;
            }
            let rest = &unprefixed[name.len()..];
            let next = rest.chars().next();
            // Without `@` only `Name:` / `Name,` count: "Steward is great" is not a question to
            // the bot. With `@` any word boundary counts.
            let ok = match next {
                None => true,
                Some(':' | ',' | '：' | '，') => true,
                Some(c) if had_at => !c.is_alphanumeric() && c != '_',
                Some(_) => false,
            };
            ok.then_some(rest)
        })
}

/// `@name` anywhere in the text, as a whole word.
fn at_name(body: &str, bot: &BotIdentity) -> bool {
    [bot.display_name.as_str(), bot.localpart()]
        .into_iter()
        .any(|name| {
            find_at_name(body, name, |c| !c.is_alphanumeric() && c != '_' && c != ':').is_some()
        })
}

/// Parses `!steward <command> ...` (with the configured prefix). `None`: not a command.
///
/// `!steward` alone shows help; the command words are [`Command::parse`]'s (`ask`, `help`,
/// `setting`, `cases`, `case`); any other text after the prefix is taken as a question
/// (`!steward what is Rust?`).
pub fn parse_command(body: &str, prefix: &str) -> Option<Command> {
    let text = body.trim();
    let head = text.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = &text[prefix.len()..];
    if rest.chars().next().is_some_and(|c| !c.is_whitespace()) {
        return None; // `!stewardship` is not our command.
    }
    let rest = rest.trim();
    let (word, argument) = match rest.split_once(char::is_whitespace) {
        Some((word, argument)) => (word, argument.trim()),
        None => (rest, ""),
    };
    if word.is_empty() {
        return Some(Command::Help);
    }
    // Any other text after the prefix is a question (`!steward what is Rust?`).
    Some(
        Command::parse(word, argument).unwrap_or_else(|| Command::Ask {
            question: rest.to_string(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bot() -> BotIdentity {
        BotIdentity {
            user_id: "@steward:example.org".into(),
            display_name: "Stewie".into(),
            core_name: "Steward".into(),
        }
    }

    #[test]
    fn invite_allowlist_table() {
        let list: Vec<String> = vec![
            "@ana:other.org".into(),
            "example.org".into(),
            ":corp.net".into(),
        ];
        let cases = [
            ("@ana:other.org", true),
            ("@bob:other.org", false),
            ("@bob:example.org", true),
            ("@eve:corp.net", true),
            ("@eve:evil.example.org", false),
            ("@eve:example.org.evil", false),
        ];
        for (inviter, allowed) in cases {
            assert_eq!(invite_allowed(inviter, &list), allowed, "{inviter}");
        }
        assert!(
            !invite_allowed("@ana:other.org", &[]),
            "empty list accepts nobody"
        );
        assert!(!invite_allowed("@ana:other.org", &[":".into()]));
    }

    #[test]
    fn roles_table() {
        let cases = [
            (Some(0), Role::Member),
            (Some(49), Role::Member),
            (Some(50), Role::Moderator),
            (Some(99), Role::Moderator),
            (Some(100), Role::Owner),
            (Some(150), Role::Owner),
            (None, Role::Owner),
            (Some(-1), Role::Member),
        ];
        for (level, role) in cases {
            assert_eq!(role_for_power_level(level, 50), role, "{level:?}");
        }
        assert_eq!(role_for_power_level(Some(20), 10), Role::Moderator);
    }

    #[test]
    fn mention_table() {
        let none: Vec<String> = vec![];
        let intentional = vec!["@steward:example.org".to_string()];
        let pill = r#"<a href="https://matrix.to/#/@steward:example.org">Steward</a>: hi"#;
        let cases: Vec<(&str, Option<&str>, &Vec<String>, bool)> = vec![
            ("Steward: what is Rust?", None, &none, true),
            ("steward, what is Rust?", None, &none, true),
            ("@steward what is Rust?", None, &none, true),
            ("hey @Steward what is Rust?", None, &none, true),
            ("hi @steward:example.org", None, &none, true),
            ("anything", Some(pill), &none, true),
            ("anything", None, &intentional, true),
            ("Steward is a nice bot", None, &none, false),
            ("the stewardship of code", None, &none, false),
            ("@stewardship", None, &none, false),
            ("ask @steward:other.org", None, &none, false),
            ("what is Rust?", None, &none, false),
        ];
        for (body, html, intentional, expected) in cases {
            assert_eq!(
                mentions_bot(body, html, intentional, &bot()),
                expected,
                "{body}"
            );
        }
    }

    #[test]
    fn mentions_become_the_core_form() {
        let cases = [
            ("Stewie: what is Rust?", "@Steward: what is Rust?"),
            ("steward, what is Rust?", "@Steward, what is Rust?"),
            ("@stewie, what is Rust?", "@Steward, what is Rust?"),
            (
                "@steward:example.org what is Rust?",
                "@Steward what is Rust?",
            ),
            (
                "what is Rust, @steward:example.org?",
                "what is Rust, @Steward?",
            ),
            ("so @Stewie what now", "so @Steward what now"),
            ("Stewie：什么是 Rust？", "@Steward：什么是 Rust？"),
            ("no mention here", "no mention here"),
            ("@stewieboy hi", "@stewieboy hi"),
        ];
        for (body, expected) in cases {
            assert_eq!(normalize_bot_mention(body, &bot()), expected, "{body}");
        }
    }

    #[test]
    fn the_router_then_strips_the_core_form() {
        use crate::community::mention::strip_mention;
        let cases = [
            ("Stewie: what is Rust?", "what is Rust?"),
            ("@steward:example.org what is Rust?", "what is Rust?"),
            ("what is Rust, @steward:example.org?", "what is Rust, ?"),
            ("Stewie：什么是 Rust？", "什么是 Rust？"),
        ];
        for (body, expected) in cases {
            let normalized = normalize_bot_mention(body, &bot());
            let (found, question) = strip_mention(&normalized, "Steward");
            assert!(found, "{body}");
            assert_eq!(question, expected, "{body}");
        }
    }

    #[test]
    fn command_table() {
        let ask = |q: &str| Some(Command::Ask { question: q.into() });
        let setting = |k: Option<&str>, v: Option<&str>| {
            Some(Command::Setting {
                key: k.map(Into::into),
                value: v.map(Into::into),
            })
        };
        let cases = vec![
            ("!steward", Some(Command::Help)),
            ("!steward help", Some(Command::Help)),
            ("  !Steward HELP ", Some(Command::Help)),
            ("!steward ask What is Rust?", ask("What is Rust?")),
            ("!steward ask", ask("")),
            ("!steward what is Rust?", ask("what is Rust?")),
            ("!steward setting", setting(None, None)),
            (
                "!steward settings language",
                setting(Some("language"), None),
            ),
            (
                "!steward setting language zh",
                setting(Some("language"), Some("zh")),
            ),
            ("!steward kb gaps", Some(Command::KbGaps { days: None })),
            (
                "!steward kb feedback 14",
                Some(Command::KbFeedback { days: Some(14) }),
            ),
            ("!stewardship", None),
            ("hello !steward", None),
            ("!ste", None),
        ];
        for (body, expected) in cases {
            assert_eq!(parse_command(body, "!steward"), expected, "{body}");
        }
    }
}
