//! Small text helpers shared by the features and the knowledge base (it imports nothing of
//! the crate, so every layer may use it).

/// The byte offset just after the last complete sentence of `text`, with the closing quotes
/// or brackets that belong to it; `None` when it has none. A line break ends a sentence (lists,
/// code); `.`, `!`, `?` end one only when followed by white space (not "3.14", "e.g.x"), or by
/// the end of the text when `at_end` says nothing more follows. CJK full stops end one anywhere.
pub fn last_sentence_end(text: &str, at_end: bool) -> Option<usize> {
    let mut last = None;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let mut end = at + c.len_utf8();
        let ends = match c {
            '\n' | '。' | '！' | '？' | '…' => true,
            '.' | '!' | '?' => {
                // Closing quotes and brackets stay with the sentence they close.
                while let Some(&(next_at, next)) = chars.peek() {
                    if !matches!(next, '"' | '\'' | ')' | ']' | '”' | '’' | '）' | '*' | '_') {
                        break;
                    }
                    end = next_at + next.len_utf8();
                    chars.next();
                }
                match chars.peek() {
                    Some(&(_, next)) => next.is_whitespace(),
                    None => at_end,
                }
            }
            _ => false,
        };
        if ends {
            last = Some(end);
        }
    }
    last
}
