//! The bot's mention, removed from a question in one place for every platform: adapters
//! write a mention as `@name` (Discord's `<@id>`, Matrix's pills and user ids), the router
//! strips it here.

/// Finds `@name` (any case) in `text`; returns whether it was there and the text without it.
pub fn strip_mention<'a>(text: &'a str, bot_name: &str) -> (bool, std::borrow::Cow<'a, str>) {
    let needle = format!("@{}", bot_name.to_lowercase());
    let lower = text.to_lowercase();
    // Lowercasing can change byte lengths outside ASCII; only strip when offsets agree.
    match lower.find(&needle) {
        Some(start) if lower.len() == text.len() => {
            let end = start + needle.len();
            // Names are ASCII-ish; "@steward什么" (no space, common in Chinese) still counts.
            let boundary = text[end..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_');
            if !boundary {
                return (false, text.into());
            }
            let rest = format!("{} {}", &text[..start], &text[end..]);
            let collapsed = rest.split_whitespace().collect::<Vec<_>>().join(" ");
            let cleaned = collapsed
                .trim_start_matches([',', ':', '，', '：'])
                .trim()
                .to_string();
            (true, cleaned.into())
        }
        _ => (false, text.into()),
    }
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
        ];
        for (text, mentioned, question) in cases {
            let (found, rest) = strip_mention(text, "Steward");
            assert_eq!((found, rest.as_ref()), (mentioned, question), "{text}");
        }
    }
}
