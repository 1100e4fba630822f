//! Normalisation before matching: the forms of a message the lists are matched against, so that
//! evasions (full-width letters, accents, zero-width characters, leetspeak, spelled-out words)
//! do not change what the lists see.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Characters that display as blank but are not Unicode whitespace: treated as spaces.
const BLANKS: [char; 5] = ['\u{115F}', '\u{1160}', '\u{2800}', '\u{3164}', '\u{FFA0}'];
/// What may separate the letters of a spelled-out word ("f r e e", "f.r.e.e").
const SPELLING_SEPARATORS: [char; 6] = [' ', '.', '-', '_', '*', '\u{00B7}'];
/// Symbols that stand for letters inside a word ("sh!t", "n@zi", "$cam").
const LEET_SYMBOLS: [char; 4] = ['@', '$', '!', '|'];

/// One message in the forms the stages match on. All are lowercase, compatibility-folded
/// (NFKC: full-width letters become ASCII), with accents and invisible characters dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Normalized {
    /// One space between words; otherwise as written. The profanity filter reads this one.
    pub plain: String,
    /// `plain` with leetspeak inside words undone ("k1ll" -> "kill", "n1tr0" -> "nitro").
    pub leet: String,
    /// `leet` with spelled-out words joined ("f r e e  n i t r o" -> "free nitro").
    pub joined: String,
    /// Letters and digits only, in any script (from `leet`): Chinese phrases are matched here,
    /// so "傻 逼" and "傻*逼" read as 傻逼.
    pub squashed: String,
}

impl Normalized {
    /// The distinct word forms English patterns are matched against.
    pub fn forms(&self) -> Vec<&str> {
        let mut forms: Vec<&str> = Vec::with_capacity(3);
        for form in [&self.plain, &self.leet, &self.joined] {
            if !forms.contains(&form.as_str()) {
                forms.push(form);
            }
        }
        forms
    }

    /// Whether `word` (ASCII letters and digits) stands alone in the text: pinyin abbreviations
    /// such as "nmsl" count only as whole words.
    pub fn has_ascii_word(&self, word: &str) -> bool {
        [&self.plain, &self.leet].into_iter().any(|form| {
            form.split(|c: char| !c.is_ascii_alphanumeric())
                .any(|token| token == word)
        })
    }
}

/// The forms of `text`.
pub(crate) fn normalize(text: &str) -> Normalized {
    let chars: Vec<char> = text
        .nfkd()
        .flat_map(char::to_lowercase)
        .filter(|c| !is_combining_mark(*c))
        .nfc()
        .filter_map(visible)
        .collect();
    let leet = undo_leetspeak(&chars);
    Normalized {
        plain: collapse_spaces(&chars),
        joined: collapse_spaces(&join_spelled_out(&leet)),
        squashed: leet.iter().filter(|c| c.is_alphanumeric()).collect(),
        leet: collapse_spaces(&leet),
    }
}

/// Whitespace and blank-looking characters become a space; control and format characters
/// (zero-width spaces and joiners, bidirectional overrides, soft hyphens) and unassigned or
/// private-use code points are dropped; everything else is kept.
fn visible(c: char) -> Option<char> {
    if c.is_whitespace() || BLANKS.contains(&c) {
        Some(' ')
    } else if rustrict::is_whitespace(c) {
        None
    } else {
        Some(c)
    }
}

/// Undoes leetspeak inside words: in a run of ASCII letters, digits and letter-like symbols that
/// holds at least one letter, digits and symbols become the letters they stand for. Numbers on
/// their own ("kill -9", "8080", "0.1") are left alone.
fn undo_leetspeak(chars: &[char]) -> Vec<char> {
    let in_run = |c: char| c.is_ascii_alphanumeric() || LEET_SYMBOLS.contains(&c);
    let mut out = chars.to_vec();
    let mut start = 0;
    while start < chars.len() {
        if !in_run(chars[start]) {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < chars.len() && in_run(chars[end]) {
            end += 1;
        }
        if chars[start..end].iter().any(char::is_ascii_alphabetic) {
            for at in start..end {
                let before = at.checked_sub(1).map(|i| chars[i]);
                let after = chars.get(at + 1).copied();
                if let Some(letter) = leet_letter(chars[at], before, after) {
                    out[at] = letter;
                }
            }
        }
        start = end;
    }
    out
}

/// The letter `c` stands for between `before` and `after`, if any. Symbols count only inside a
/// word ("@alice" stays a mention), except `$` opening one ("$cam").
fn leet_letter(c: char, before: Option<char>, after: Option<char>) -> Option<char> {
    let alphanumeric = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let letter = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphabetic());
    let inside = alphanumeric(before) && alphanumeric(after);
    match c {
        '0' => Some('o'),
        '1' => Some('i'),
        '3' => Some('e'),
        '4' => Some('a'),
        '5' => Some('s'),
        '7' => Some('t'),
        '@' if inside => Some('a'),
        '!' if inside => Some('i'),
        '|' if inside => Some('l'),
        '$' if inside || (!alphanumeric(before) && letter(after)) => Some('s'),
        _ => None,
    }
}

/// Joins words spelled out letter by letter: three or more single letters (or digits), each
/// separated from the next by exactly one separator. A wider gap ends the word, so
/// "f r e e  n i t r o" becomes "free  nitro".
fn join_spelled_out(chars: &[char]) -> Vec<char> {
    let single = |at: usize| {
        chars[at].is_alphanumeric()
            && !(at > 0 && chars[at - 1].is_alphanumeric())
            && !chars.get(at + 1).is_some_and(|c| c.is_alphanumeric())
    };
    let mut out = Vec::with_capacity(chars.len());
    let mut at = 0;
    while at < chars.len() {
        if single(at) {
            let mut letters = vec![chars[at]];
            let mut last = at;
            while last + 2 < chars.len()
                && SPELLING_SEPARATORS.contains(&chars[last + 1])
                && single(last + 2)
            {
                letters.push(chars[last + 2]);
                last += 2;
            }
            if letters.len() >= 3 {
                out.extend(letters);
                at = last + 1;
                continue;
            }
        }
        out.push(chars[at]);
        at += 1;
    }
    out
}

/// One space between words, none at either end.
fn collapse_spaces(chars: &[char]) -> String {
    let mut out = String::with_capacity(chars.len());
    for &c in chars {
        if c != ' ' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_evasions() {
        let n = normalize("ＦＲＥＥ\u{200B} ＮＩＴＲＯ");
        assert_eq!(n.plain, "free nitro");
        let n = normalize("f r e e  n i t r o, café");
        assert_eq!(n.plain, "f r e e n i t r o, cafe");
        assert_eq!(n.joined, "free nitro, cafe");
        let n = normalize("K1ll y0urself, sh!t, $cam @alice kill -9 8080 0.1");
        assert_eq!(n.leet, "kill yourself, shit, scam @alice kill -9 8080 0.1");
        let n = normalize("傻 逼\u{FEFF}吧，kill -9");
        assert_eq!(n.squashed, "傻逼吧kill9");
        assert!(normalize("ｎｍｓｌ，菜").has_ascii_word("nmsl"));
        assert!(!normalize("nmslx").has_ascii_word("nmsl"));
        assert_eq!(normalize("a b").forms(), vec!["a b"]);
    }
}
