//! Splitting long text into messages that fit a platform's length limit, preferring paragraph
//! boundaries, then line breaks, then spaces, and never breaking a character.

/// Splits `text` into chunks of at most `limit` characters (Unicode scalar values, as Discord
/// counts). Chunks are trimmed; empty chunks are dropped.
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    assert!(limit > 0, "limit must be positive");
    let mut chunks = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if rest.chars().count() <= limit {
            chunks.push(rest.to_string());
            break;
        }
        // Byte offset just past `limit` characters.
        let hard_end = rest
            .char_indices()
            .nth(limit)
            .map(|(at, _)| at)
            .unwrap_or(rest.len());
        // A separator right after the limit is a fine place to cut too.
        let next_len = rest[hard_end..].chars().next().map_or(0, char::len_utf8);
        let window = &rest[..hard_end + next_len];
        let cut = ["\n\n", "\n", " "]
            .iter()
            .filter_map(|separator| window.rfind(separator))
            .find(|&at| at > 0 && at <= hard_end)
            .unwrap_or(hard_end);
        let (chunk, tail) = rest.split_at(cut);
        let chunk = chunk.trim();
        if !chunk.is_empty() {
            chunks.push(chunk.to_string());
        }
        rest = tail.trim_start();
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::split_message;

    #[test]
    fn table() {
        let cases: Vec<(&str, usize, Vec<&str>)> = vec![
            ("short", 10, vec!["short"]),
            ("", 10, vec![]),
            ("one two three", 7, vec!["one two", "three"]),
            ("para one\n\npara two", 12, vec!["para one", "para two"]),
            ("abcdefghij", 4, vec!["abcd", "efgh", "ij"]),
            ("汉字汉字汉字", 4, vec!["汉字汉字", "汉字"]),
        ];
        for (text, limit, expected) in cases {
            assert_eq!(split_message(text, limit), expected, "{text:?} / {limit}");
        }
    }

    #[test]
    fn long_answers_fit_discord() {
        let paragraph = "word ".repeat(150);
        let text = [paragraph.trim(); 8].join("\n\n");
        assert!(text.chars().count() > 5000);
        let chunks = split_message(&text, 2000);
        assert!(chunks.len() >= 3);
        for chunk in &chunks {
            assert!(chunk.chars().count() <= 2000);
        }
        let rejoined: String = chunks
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            rejoined,
            text.split_whitespace().collect::<Vec<_>>().join(" "),
            "nothing lost"
        );
    }
}
