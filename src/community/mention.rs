//! The bot's mention, removed from a question in one place for every platform: adapters
//! write a mention as `@name` (Discord's `<@id>`, Matrix's pills and user ids), the router
//! strips it here.

/// Finds `@name` (any case) in `text`; returns whether it was there and the text without it.
pub fn strip_mention<'a>(text: &'a str, bot_name: &str) -> (bool, std::borrow::Cow<'a, str>) {
    // Names are ASCII-ish; "@steward什么" (no space, common in Chinese) still counts.
    let Some((at, end)) = find_at_name(text, bot_name, |c| !c.is_ascii_alphanumeric() && c != '_')
    else {
        return (false, text.into());
    };
    let rest = format!("{} {}", &text[..at], &text[end..]);
    let collapsed = rest.split_whitespace().collect::<Vec<_>>().join(" ");
    let cleaned = collapsed
        .trim_start_matches([',', ':', '，', '：'])
        .trim()
        .to_string();
    (true, cleaned.into())
}

/// The byte range of the first `@name` in `text` (name compared ignoring case) that ends at
/// the end of the text or before a char `ends_word` accepts. Offsets come from `text` itself,
/// never from a lowercased copy (whose byte lengths can differ: `İ` lowercases to three
/// bytes), so both ends fall on char boundaries.
pub fn find_at_name(
    text: &str,
    name: &str,
    ends_word: impl Fn(char) -> bool,
) -> Option<(usize, usize)> {
    if name.is_empty() {
        return None;
    }
    text.match_indices('@').find_map(|(at, _)| {
        let end = name_end(text, at + 1, name)?;
        text[end..]
            .chars()
            .next()
            .is_none_or(&ends_word)
            .then_some((at, end))
    })
}

/// If `text[start..]` begins with `name` (compared char by char, ignoring case), the byte
/// offset where the name ends.
fn name_end(text: &str, start: usize, name: &str) -> Option<usize> {
    let mut chars = text[start..].char_indices();
    for expected in name.chars() {
        let (_, found) = chars.next()?;
        if !found.to_lowercase().eq(expected.to_lowercase()) {
            return None;
        }
    }
    Some(
        chars
            .next()
            .map_or(text.len(), |(offset, _)| start + offset),
    )
}

#[cfg(test)]
mod tests {
    use super::strip_mention;

    #[test]
    fn mention_table() {
        let cases = [
            ("@steward what is Rust?", true, "what is Rust?"),
            ("@Steward: what is Rust?", true, "what is Rust?"),
            ("hey @STEWARD, why?", true, "hey , why?"),
            ("@steward什么是 Rust？", true, "什么是 Rust？"),
            ("what is Rust?", false, "what is Rust?"),
            ("@stewardship is nice", false, "@stewardship is nice"),
            ("@steward", true, ""),
            ("请问 @steward 什么是 Rust？", true, "请问 什么是 Rust？"),
            // Hole 6: lowercasing changes byte lengths here; this panicked before.
            ("İ@stewardẞ", true, "İ ẞ"),
            ("ẞ@STEWARD İ", true, "ẞ İ"),
            ("@@steward hi", true, "@ hi"),
            ("@stewar", false, "@stewar"),
            ("@", false, "@"),
        ];
        for (text, mentioned, question) in cases {
            let (found, rest) = strip_mention(text, "Steward");
            assert_eq!((found, rest.as_ref()), (mentioned, question), "{text}");
        }
    }
}
