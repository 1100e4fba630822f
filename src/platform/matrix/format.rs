//! Markdown -> Matrix message content: a plain `body` and an HTML `formatted_body`
//! (org.matrix.custom.html), without letting model output inject HTML.
//!
//! [`message`] and [`replacement`] build everything Steward sends: the text first goes through
//! [`sanitize_generated`] (no images, links show their real target, no `@room`), and every
//! message and every edit declares its mentions explicitly (`m.mentions`, in an edit's
//! `m.new_content` and outside it), so an edit never pings anyone (hole 9).
//!
//! The Markdown renderer passes raw HTML through, and answers are model output that members can
//! steer ("reply with `<a href=...>`"). Clients sanitize what they display, but a deceptive link
//! or a page-sized `<h1>` would still get through, so `<` outside code is escaped before
//! rendering. Code spans and fenced blocks are left alone: there `<` is already literal text.

use matrix_sdk::ruma::events::room::message::{
    FormattedBody, MessageType, NoticeMessageEventContent, ReplacementMetadata,
    RoomMessageEventContent, RoomMessageEventContentWithoutRelation, TextMessageEventContent,
};
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::{EventId, UserId};

use crate::features::hygiene::sanitize_generated;

/// A message Steward sends: `text` made safe and rendered, mentioning `mention` alone (the
/// author of the message answered) or nobody.
pub fn message(
    text: &str,
    notice: bool,
    mention: Option<&UserId>,
) -> RoomMessageEventContentWithoutRelation {
    markdown_content(&sanitize_generated(text), notice).add_mentions(mentions(mention))
}

/// An edit of Steward's message `original` to `text`. `m.new_content` carries the message's
/// mentions (`mention`, as when it was first sent); the edit itself declares none new, so it
/// notifies nobody.
pub fn replacement(
    original: &EventId,
    text: &str,
    notice: bool,
    mention: Option<&UserId>,
) -> RoomMessageEventContent {
    message(text, notice, mention).make_replacement(ReplacementMetadata::new(
        original.to_owned(),
        Some(mentions(mention)),
    ))
}

fn mentions(user: Option<&UserId>) -> Mentions {
    match user {
        Some(user) => Mentions::with_user_ids([user.to_owned()]),
        None => Mentions::new(),
    }
}

/// A text (or notice) message from Markdown: the plain body is the text as written; the HTML
/// body is present only when the Markdown renders to something other than plain text.
pub fn markdown_content(text: &str, notice: bool) -> RoomMessageEventContentWithoutRelation {
    let html = FormattedBody::markdown(escape_raw_html(text));
    let msgtype = match (notice, html) {
        (false, Some(html)) => MessageType::Text(TextMessageEventContent::html(text, html.body)),
        (false, None) => MessageType::Text(TextMessageEventContent::plain(text)),
        (true, Some(html)) => MessageType::Notice(NoticeMessageEventContent::html(text, html.body)),
        (true, None) => MessageType::Notice(NoticeMessageEventContent::plain(text)),
    };
    RoomMessageEventContentWithoutRelation::new(msgtype)
}

/// Escapes `<` outside code spans and fenced code blocks, so Markdown renders it as text instead
/// of passing it through as an HTML tag.
pub fn escape_raw_html(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut fence: Option<&str> = None;
    for line in markdown.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(marker) = fence {
            if trimmed.starts_with(marker) {
                fence = None;
            }
            out.push_str(line);
            continue;
        }
        if let Some(marker) = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m)) {
            fence = Some(marker);
            out.push_str(line);
            continue;
        }
        escape_line(line, &mut out);
    }
    out
}

/// One line outside fences: a run of N backticks opens a code span only if a run of exactly N
/// closes it later on the line (CommonMark's rule, kept to one line).
fn escape_line(line: &str, out: &mut String) {
    let mut rest = line;
    while let Some(at) = rest.find(['<', '`']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('<') {
            // `\<` is already Markdown's escaped `<` (hygiene writes it): escaping again would
            // show `&lt;` to the reader.
            let backslashes = out.len() - out.trim_end_matches('\\').len();
            out.push_str(if backslashes % 2 == 1 { "<" } else { "&lt;" });
            rest = &rest[1..];
            continue;
        }
        let run = rest.len() - rest.trim_start_matches('`').len();
        let after = &rest[run..];
        match closing_run(after, run) {
            Some(end) => {
                out.push_str(&rest[..run + end + run]);
                rest = &after[end + run..];
            }
            None => {
                out.push_str(&rest[..run]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// The offset in `text` of a backtick run of exactly `length`.
fn closing_run(text: &str, length: usize) -> Option<usize> {
    let mut offset = 0;
    while let Some(at) = text[offset..].find('`') {
        let start = offset + at;
        let run = text[start..].len() - text[start..].trim_start_matches('`').len();
        if run == length {
            return Some(start);
        }
        offset = start + run;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_table() {
        let cases = [
            ("plain text", "plain text"),
            ("<b>bold</b>", "&lt;b>bold&lt;/b>"),
            ("use `Vec<T>` here", "use `Vec<T>` here"),
            ("``a ` <b> ``, then <i>", "``a ` <b> ``, then &lt;i>"),
            ("unclosed ` <b>", "unclosed ` &lt;b>"),
            (
                "```rust\nlet v: Vec<u8>;\n```\n<img>",
                "```rust\nlet v: Vec<u8>;\n```\n&lt;img>",
            ),
            ("a < b and b > c", "a &lt; b and b > c"),
            ("> quoted <x>", "> quoted &lt;x>"),
            (r"escaped \<b>", r"escaped \<b>"),
            (
                r"a literal backslash \\<b>",
                r"a literal backslash \\&lt;b>",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(escape_raw_html(input), expected, "{input:?}");
        }
    }

    fn parts(content: &RoomMessageEventContentWithoutRelation) -> (&str, Option<&str>, bool) {
        match &content.msgtype {
            MessageType::Text(text) => (
                &text.body,
                text.formatted.as_ref().map(|f| f.body.as_str()),
                false,
            ),
            MessageType::Notice(notice) => (
                &notice.body,
                notice.formatted.as_ref().map(|f| f.body.as_str()),
                true,
            ),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn markdown_becomes_html_with_a_plain_body() {
        let content = markdown_content("Use **`cargo`** <script>x</script>", false);
        let (body, html, notice) = parts(&content);
        assert_eq!(
            body, "Use **`cargo`** <script>x</script>",
            "the plain body is the text"
        );
        let html = html.expect("formatted");
        assert!(
            html.contains("<strong><code>cargo</code></strong>"),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;") || html.contains("&lt;script>"),
            "{html}"
        );
        assert!(!notice);

        let plain = markdown_content("Paris is the capital of France.", true);
        assert_eq!(
            parts(&plain),
            ("Paris is the capital of France.", None, true)
        );
    }

    fn json(content: &impl serde::Serialize) -> serde_json::Value {
        serde_json::to_value(content).expect("content serializes")
    }

    #[test]
    fn hole_9_generated_text_cannot_embed_images_or_ping_the_room() {
        let text = "Sure @room! ![x](mxc://evil.org/abc) and [docs](https://evil.example)";
        let ana = UserId::parse("@ana:example.org").unwrap();
        let posted = json(&message(text, false, Some(&ana)));
        let html = posted["formatted_body"].as_str().unwrap_or_default();
        assert!(!html.contains("<img"), "{html}");
        let body = posted["body"].as_str().unwrap();
        assert!(!body.contains("@room"), "{body}");
        assert_eq!(
            posted["m.mentions"],
            serde_json::json!({ "user_ids": ["@ana:example.org"] })
        );

        // No mention: declared empty, not left out.
        let plain = json(&message("Paris.", true, None));
        assert_eq!(plain["m.mentions"], serde_json::json!({}));

        // A streamed edit: the new content keeps the mention, the edit itself pings nobody.
        let original = EventId::parse("$answer:example.org").unwrap();
        let edit = json(&replacement(&original, text, false, Some(&ana)));
        assert_eq!(edit["m.mentions"], serde_json::json!({}), "{edit}");
        let new_content = &edit["m.new_content"];
        assert_eq!(
            new_content["m.mentions"],
            serde_json::json!({ "user_ids": ["@ana:example.org"] })
        );
        for part in [&edit, new_content] {
            let html = part["formatted_body"].as_str().unwrap_or_default();
            assert!(!html.contains("<img"), "{html}");
            assert!(!part["body"].as_str().unwrap().contains("@room"));
        }
        assert_eq!(edit["m.relates_to"]["rel_type"], "m.replace");
        let edit = json(&replacement(&original, "more", true, None));
        assert_eq!(edit["m.mentions"], serde_json::json!({}));
        assert_eq!(edit["m.new_content"]["m.mentions"], serde_json::json!({}));
        assert_eq!(edit["m.new_content"]["msgtype"], "m.notice");
    }
}
