//! Other people's mentions, written the way the core counts them (hole 4). A Matrix client
//! mentions someone with a pill (a `https://matrix.to/#/@user:server` link in the HTML body,
//! whose plain-text form is just the display name) and lists them in `m.mentions`; the
//! mention-spam rule counts `@name` words in the text. So each mentioned user becomes an `@`
//! word in the text the core sees: the pill's name gets its `@`, and a user the text does not
//! name at all (an `m.mentions` entry alone still notifies them) is added at the end, as is
//! `@room` for `m.mentions.room`.
//!
//! The bot's own mention is left to `rules::normalize_bot_mention`.

/// A pill in an HTML body: who it mentions and the text it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pill {
    pub user_id: String,
    pub label: String,
}

/// The user pills in `html` (`<a href="https://matrix.to/#/@user:server">Name</a>`), in order.
pub fn pills(html: &str) -> Vec<Pill> {
    const PREFIX: &str = "https://matrix.to/#/";
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<a ") {
        rest = &rest[start + 3..];
        let Some(end) = rest.find('>') else { break };
        let attributes = &rest[..end];
        rest = &rest[end + 1..];
        let label_end = rest.find("</a>").unwrap_or(rest.len());
        let label = strip_tags(&rest[..label_end]);
        let Some(href) = attribute(attributes, "href") else {
            continue;
        };
        let Some(target) = href.strip_prefix(PREFIX) else {
            continue;
        };
        let target = target.split('?').next().unwrap_or_default();
        let user_id = percent_decode(target);
        if is_user_id(&user_id) {
            found.push(Pill {
                user_id,
                label: decode_entities(label.trim()),
            });
        }
    }
    found
}

/// `body` with every mentioned user (pills, then `intentional` user ids) and `room` written as
/// `@` words, skipping `bot`. A user the body already names with an `@` is left alone.
pub fn with_mentions(
    body: &str,
    pills: &[Pill],
    intentional: &[String],
    room: bool,
    bot: &str,
) -> String {
    let mut text = body.to_string();
    let mut appended: Vec<String> = Vec::new();
    let mut done: Vec<&str> = Vec::new();
    let labels = pills
        .iter()
        .map(|pill| (pill.user_id.as_str(), pill.label.as_str()));
    let bare = intentional.iter().map(|user| (user.as_str(), ""));
    for (user, label) in labels.chain(bare) {
        if user == bot || done.contains(&user) {
            continue;
        }
        done.push(user);
        if text.contains(user) || (!label.is_empty() && has_at_word(&text, label)) {
            continue;
        }
        match word_at(&text, label) {
            Some(at) => text.insert(at, '@'),
            None => appended.push(user.to_string()),
        }
    }
    if room && !text.contains("@room") {
        appended.push("@room".to_string());
    }
    for mention in appended {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&mention);
    }
    text
}

/// Whether `text` has `@label` at a word start.
fn has_at_word(text: &str, label: &str) -> bool {
    text.match_indices(label)
        .any(|(at, _)| text[..at].ends_with('@') && starts_word(&text[..at - 1]))
}

/// The byte offset of the first `label` in `text` that starts a word (after the start, a space
/// or `(`) and starts with a word character, so that `@label` reads as a mention.
fn word_at(text: &str, label: &str) -> Option<usize> {
    let first = label.chars().next()?;
    if !(first.is_alphanumeric() || first == '_') {
        return None;
    }
    text.match_indices(label)
        .map(|(at, _)| at)
        .find(|at| starts_word(&text[..*at]))
}

fn starts_word(before: &str) -> bool {
    before
        .chars()
        .next_back()
        .is_none_or(|c| c.is_whitespace() || c == '(')
}

/// The value of `name="..."` (or single quotes) in a tag's attributes.
fn attribute<'a>(attributes: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = attributes;
    loop {
        let at = rest.find(name)?;
        let after = rest[at + name.len()..].trim_start();
        rest = &rest[at + name.len()..];
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let quote = value.chars().next()?;
        if quote != '"' && quote != '\'' {
            continue;
        }
        let value = &value[1..];
        return value.find(quote).map(|end| &value[..end]);
    }
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// `%40` -> `@` and the like; malformed escapes stay as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `@localpart:server`, loosely, without spaces.
fn is_user_id(text: &str) -> bool {
    text.strip_prefix('@')
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(local, server)| {
            !local.is_empty() && !server.is_empty() && !text.contains(char::is_whitespace)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOT: &str = "@steward:example.org";

    fn pill(user: &str, label: &str) -> String {
        format!("<a href=\"https://matrix.to/#/{user}\">{label}</a>")
    }

    #[test]
    fn pills_are_found_in_html() {
        let html = format!(
            "{} and <a href='https://matrix.to/#/%40bob%3Aexample.org?via=example.org'>Bob &amp; co</a>, \
             <a href=\"https://matrix.to/#/#room:example.org\">a room</a>, <a href=\"https://example.org\">x</a> {}",
            pill("@ana:example.org", "Ana"),
            pill(BOT, "<b>Steward</b>"),
        );
        let found = pills(&html);
        let users: Vec<(&str, &str)> = found
            .iter()
            .map(|p| (p.user_id.as_str(), p.label.as_str()))
            .collect();
        assert_eq!(
            users,
            vec![
                ("@ana:example.org", "Ana"),
                ("@bob:example.org", "Bob & co"),
                (BOT, "Steward"),
            ]
        );
        for odd in [
            "<a ",
            "<a href=",
            "<a href=\"https://matrix.to/#/%4",
            "<a>x</a>",
            "İ<a ẞ>",
        ] {
            let _ = pills(odd);
        }
    }

    #[test]
    fn hole_4_pills_and_intentional_mentions_count_as_mentions() {
        let pills_of = |users: &[(&str, &str)]| -> Vec<Pill> {
            users
                .iter()
                .map(|(user, label)| Pill {
                    user_id: user.to_string(),
                    label: label.to_string(),
                })
                .collect()
        };
        let none: Vec<String> = Vec::new();
        type Case<'a> = (&'a str, Vec<Pill>, Vec<String>, bool, &'a str);
        let cases: Vec<Case> = vec![
            // Element's pills: display names in the plain body.
            (
                "Ana Bob Carl hi",
                pills_of(&[("@ana:x", "Ana"), ("@bob:x", "Bob"), ("@carl:x", "Carl")]),
                none.clone(),
                false,
                "@Ana @Bob @Carl hi",
            ),
            // Already written as mentions.
            (
                "@Ana hi",
                pills_of(&[("@ana:x", "Ana")]),
                none.clone(),
                false,
                "@Ana hi",
            ),
            (
                "hi @ana:x",
                pills_of(&[("@ana:x", "Ana")]),
                none.clone(),
                false,
                "hi @ana:x",
            ),
            // `m.mentions` alone notifies: the users are added.
            (
                "hi",
                Vec::new(),
                vec!["@ana:x".into(), "@bob:x".into(), BOT.into()],
                false,
                "hi @ana:x @bob:x",
            ),
            // A label that cannot start an `@` word is added by id.
            (
                "🐱 hi",
                pills_of(&[("@cat:x", "🐱")]),
                none.clone(),
                false,
                "🐱 hi @cat:x",
            ),
            // The bot is left to the bot's own normalization.
            (
                "Steward: hi",
                pills_of(&[(BOT, "Steward")]),
                vec![BOT.into()],
                false,
                "Steward: hi",
            ),
            (
                "everyone look",
                Vec::new(),
                none.clone(),
                true,
                "everyone look @room",
            ),
            ("@room look", Vec::new(), none.clone(), true, "@room look"),
            ("", Vec::new(), vec!["@ana:x".into()], false, "@ana:x"),
            // No byte offsets from other strings: Unicode is safe.
            (
                "İẞ Ana",
                pills_of(&[("@ana:x", "Ana")]),
                none.clone(),
                false,
                "İẞ @Ana",
            ),
        ];
        for (body, pills, intentional, room, expected) in cases {
            assert_eq!(
                with_mentions(body, &pills, &intentional, room, BOT),
                expected,
                "{body}"
            );
        }
    }
}
