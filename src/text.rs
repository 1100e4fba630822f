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

/// About how many words `text` has: words between white space, where each two Chinese,
/// Japanese or Korean characters (written without spaces) count as one. Used to tell a real
/// question from "thanks!" and a short follow-up ("and on Windows?") from a full question.
pub fn rough_words(text: &str) -> usize {
    let mut words = 0;
    let mut cjk = 0;
    for word in text.split_whitespace() {
        let ideographs = word.chars().filter(|&c| is_cjk(c)).count();
        cjk += ideographs;
        // The rest of a word mixed with CJK ("Windows上") still counts once.
        if word.chars().any(|c| c.is_alphanumeric() && !is_cjk(c)) {
            words += 1;
        }
    }
    words + cjk.div_ceil(2)
}

/// Chinese words that ask something wherever they stand in a message.
pub const CHINESE_QUESTION_WORDS: [&str; 9] = [
    "吗",
    "怎么",
    "如何",
    "为什么",
    "什么",
    "哪",
    "有没有",
    "能不能",
    "是否",
];

/// Whether `text` asks something, by its marks alone: a question mark (ASCII or full width) or
/// a Chinese question word anywhere. Deliberately loose: the knowledge base pairs it with "a
/// member answered" (`knowledge::conversations`), and `insights::questions` adds its own
/// filters on top.
pub fn asks_question(text: &str) -> bool {
    text.contains(['?', '？'])
        || CHINESE_QUESTION_WORDS
            .iter()
            .any(|word| text.contains(word))
}

/// Han ideographs (with extension A and the compatibility block), kana and Hangul syllables.
fn is_cjk(c: char) -> bool {
    matches!(
        c,
        '\u{4E00}'..='\u{9FFF}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{3040}'..='\u{30FF}'
            | '\u{AC00}'..='\u{D7AF}'
    )
}

/// The calendar date (year, month 1-12, day 1-31) of day `day` since 1970-01-01 (UTC), by
/// Howard Hinnant's `civil_from_days`.
pub fn civil_date(day: i64) -> (i64, i64, i64) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day_of_month = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day_of_month)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rough_words_table() {
        let cases = [
            ("", 0),
            ("thanks!", 1),
            ("and on Windows?", 3),
            ("How do I pin a crate version?", 7),
            ("Windows 上呢？", 2),
            ("怎么安装？", 2),
            ("如何在 Docker 中配置代理服务器？", 7),
            ("👍 👍", 0),
        ];
        for (text, expected) in cases {
            assert_eq!(rough_words(text), expected, "{text}");
        }
    }
}
