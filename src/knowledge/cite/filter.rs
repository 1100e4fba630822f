//! The streaming citation filter: passes an answer through as it streams, keeping markers
//! that cite shown passages and dropping invented ones.

/// A bracket still open after this many characters is not a citation marker: it is released
/// as plain text. Long enough for `[1, 2, 3, 4, 5]`.
const MAX_MARKER_CHARS: usize = 16;

/// Keeps the citations of a streamed answer honest: markers citing passages `1..=shown` are
/// kept (rewritten as `[n]` or `[n, m]`), markers citing none of them are dropped with the
/// space before them, and everything else passes unchanged.
///
/// Text is held back only while it may still change: from an opening `[` or `【` until the
/// bracket closes, a character that cannot be in a marker comes (a newline, a letter), or
/// sixteen characters pass (`MAX_MARKER_CHARS`); a space, until the next character shows it is not before a
/// marker; a complete marker, until the next character shows it is not the text of a
/// Markdown link (`[1](url)`). Brackets in code (`` `v[0]` ``, fenced blocks) are code.
#[derive(Debug)]
pub struct CitationFilter {
    /// How many passages the model was shown.
    shown: usize,
    /// A space held back: it goes with an invented marker right after it.
    space: bool,
    /// Complete markers in a row (`[1][2]`), not yet released.
    run: Vec<Marker>,
    /// An opening bracket and what followed it, while it can still become a marker.
    open: String,
    open_chars: usize,
    /// Backticks in a row just seen: their meaning (inline code or fence) is known when the
    /// row ends.
    ticks: usize,
    inline_code: bool,
    fence: bool,
    /// What the current call releases.
    released: String,
    cited: Vec<usize>,
}

/// A complete citation marker as written, with the numbers in it that are valid.
#[derive(Debug)]
struct Marker {
    raw: String,
    valid: Vec<usize>,
}

impl CitationFilter {
    /// For an answer written from `shown` numbered passages.
    pub fn new(shown: usize) -> Self {
        Self {
            shown,
            space: false,
            run: Vec::new(),
            open: String::new(),
            open_chars: 0,
            ticks: 0,
            inline_code: false,
            fence: false,
            released: String::new(),
            cited: Vec::new(),
        }
    }

    /// Takes the next piece of the answer; returns the text that can be shown now.
    pub fn push(&mut self, delta: &str) -> Option<String> {
        for c in delta.chars() {
            self.take(c);
        }
        self.take_released()
    }

    /// The answer ended: releases what was held (an unclosed bracket is plain text; a
    /// trailing marker is settled).
    pub fn finish(&mut self) -> Option<String> {
        if !self.open.is_empty() {
            self.release_open();
        }
        self.settle_run();
        self.release_space();
        self.take_released()
    }

    /// The valid passage numbers released so far, once each, in order of first appearance.
    pub fn cited(&self) -> Vec<usize> {
        self.cited.clone()
    }

    fn take(&mut self, c: char) {
        if !self.open.is_empty() {
            if is_closing(c) {
                let mut raw = std::mem::take(&mut self.open);
                self.open_chars = 0;
                raw.push(c);
                match marker_numbers(&raw, self.shown) {
                    Some(valid) => self.run.push(Marker { raw, valid }),
                    // `[ ]`, `[]`: a checkbox or plain brackets.
                    None => {
                        self.settle_run();
                        self.release_space();
                        self.released.push_str(&raw);
                    }
                }
                return;
            }
            // Room must stay for the closing bracket.
            if could_be_in_marker(c) && self.open_chars + 1 < MAX_MARKER_CHARS {
                self.open.push(c);
                self.open_chars += 1;
                return;
            }
            self.release_open();
            // `c` is then an ordinary character (it may open another bracket).
        }
        self.track_code(c);
        let in_code = self.in_code();
        if !in_code && is_opening(c) {
            self.open.push(c);
            self.open_chars = 1;
            return;
        }
        if c == '(' {
            self.release_link_text();
        }
        self.settle_run();
        self.release_space();
        if c == ' ' && !in_code {
            self.space = true;
        } else {
            self.released.push(c);
        }
    }

    fn in_code(&self) -> bool {
        self.fence || self.inline_code
    }

    /// Follows code spans and fences: a row of three or more backticks opens or closes a
    /// fence, a shorter one an inline span (which a line break ends, so a stray backtick
    /// does not turn the rest of the answer into code).
    fn track_code(&mut self, c: char) {
        if c == '`' {
            self.ticks += 1;
            return;
        }
        if self.ticks >= 3 {
            self.fence = !self.fence;
            self.inline_code = false;
        } else if self.ticks > 0 && !self.fence {
            self.inline_code = !self.inline_code;
        }
        self.ticks = 0;
        if c == '\n' {
            self.inline_code = false;
        }
    }

    /// The open bracket is not a marker: releases it as written.
    fn release_open(&mut self) {
        self.settle_run();
        self.release_space();
        let open = std::mem::take(&mut self.open);
        self.open_chars = 0;
        self.released.push_str(&open);
    }

    /// A `(` follows the run: its last marker is a Markdown link's text, left as written.
    fn release_link_text(&mut self) {
        let Some(link_text) = self.run.pop() else {
            return;
        };
        self.settle_run();
        self.release_space();
        self.released.push_str(&link_text.raw);
    }

    /// Releases the run of markers, rewritten to their valid numbers; a run with none goes,
    /// with the space before it ("works [9]." reads "works.").
    fn settle_run(&mut self) {
        if self.run.is_empty() {
            return;
        }
        let run = std::mem::take(&mut self.run);
        if run.iter().all(|marker| marker.valid.is_empty()) {
            self.space = false;
            return;
        }
        self.release_space();
        for marker in run {
            if marker.valid.is_empty() {
                continue;
            }
            let numbers: Vec<String> = marker.valid.iter().map(usize::to_string).collect();
            self.released.push('[');
            self.released.push_str(&numbers.join(", "));
            self.released.push(']');
            for number in marker.valid {
                if !self.cited.contains(&number) {
                    self.cited.push(number);
                }
            }
        }
    }

    fn release_space(&mut self) {
        if self.space {
            self.released.push(' ');
            self.space = false;
        }
    }

    fn take_released(&mut self) -> Option<String> {
        if self.released.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.released))
        }
    }
}

fn is_opening(c: char) -> bool {
    matches!(c, '[' | '【')
}

fn is_closing(c: char) -> bool {
    matches!(c, ']' | '】')
}

/// Digits (ASCII or full-width), separators and spaces: what a marker holds.
fn could_be_in_marker(c: char) -> bool {
    digit_value(c).is_some() || matches!(c, ' ' | '\u{3000}' | ',' | '，' | '、')
}

fn digit_value(c: char) -> Option<usize> {
    let value = match c {
        '0'..='9' => c as u32 - '0' as u32,
        '０'..='９' => c as u32 - '０' as u32,
        _ => return None,
    };
    Some(value as usize)
}

/// For a complete bracketed text `raw`: `None` when it is not a citation marker (not a list
/// of numbers), else its distinct numbers within `1..=shown`, in order (maybe none).
fn marker_numbers(raw: &str, shown: usize) -> Option<Vec<usize>> {
    let mut chars = raw.chars();
    chars.next();
    chars.next_back();
    let inner = chars.as_str().trim();
    if inner.is_empty() {
        return None;
    }
    let mut valid = Vec::new();
    for part in inner.split([',', '，', '、']) {
        let part = part.trim();
        if part.is_empty() {
            return None;
        }
        // `None` once the number overflows: a number that large cites nothing.
        let mut number = Some(0usize);
        for c in part.chars() {
            let digit = digit_value(c)?;
            number = number
                .and_then(|n| n.checked_mul(10))
                .and_then(|n| n.checked_add(digit));
        }
        if let Some(n) = number.filter(|n| (1..=shown).contains(n)) {
            if !valid.contains(&n) {
                valid.push(n);
            }
        }
    }
    Some(valid)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a member would see from `deltas`, and the numbers cited.
    fn filter(shown: usize, deltas: &[&str]) -> (String, Vec<usize>) {
        let mut filter = CitationFilter::new(shown);
        let mut shown_text = String::new();
        for delta in deltas {
            if let Some(text) = filter.push(delta) {
                assert!(!text.is_empty(), "Some is never empty");
                shown_text.push_str(&text);
            }
        }
        if let Some(text) = filter.finish() {
            shown_text.push_str(&text);
        }
        (shown_text, filter.cited())
    }

    /// Ways to stream `text`: whole, one character at a time, and in two pieces split at
    /// every character boundary.
    fn streamings(text: &str) -> Vec<Vec<&str>> {
        let mut ways = vec![vec![text]];
        ways.push(
            text.char_indices()
                .map(|(at, c)| &text[at..at + c.len_utf8()])
                .collect(),
        );
        for (at, _) in text.char_indices().skip(1) {
            ways.push(vec![&text[..at], &text[at..]]);
        }
        ways
    }

    #[test]
    fn citation_filter_table() {
        // (answer, what is shown with 3 passages, cited numbers)
        let cases: &[(&str, &str, &[usize])] = &[
            ("Use cargo build [1].", "Use cargo build [1].", &[1]),
            ("It works [9].", "It works.", &[]),
            ("a [9] b", "a b", &[]),
            ("Both [2, 9] agree.", "Both [2] agree.", &[2]),
            ("Spaced [ 3 ,1 ] out", "Spaced [3, 1] out", &[3, 1]),
            ("Twice [2, 2]", "Twice [2]", &[2]),
            ("全角【１】。", "全角[1]。", &[1]),
            ("中文【2，3】和【7】。", "中文[2, 3]和。", &[2, 3]),
            ("顿号【１、２】", "顿号[1, 2]", &[1, 2]),
            (
                "Adjacent [3][1] and [9][2].",
                "Adjacent [3][1] and [2].",
                &[3, 1, 2],
            ),
            ("Dropped [9][8] here", "Dropped here", &[]),
            ("Zero [0] cites nothing", "Zero cites nothing", &[]),
            (
                "Huge [99999999999999999999] too",
                "Huge [99999999999999999999] too",
                &[],
            ),
            (
                "See [the guide](https://example.com/a) now [1]",
                "See [the guide](https://example.com/a) now [1]",
                &[1],
            ),
            (
                "A link [2](https://x.y) stays",
                "A link [2](https://x.y) stays",
                &[],
            ),
            ("- [x] done\n- [ ] todo", "- [x] done\n- [ ] todo", &[]),
            ("Empty [] stays", "Empty [] stays", &[]),
            ("【注】见下", "【注】见下", &[]),
            ("Unclosed [1", "Unclosed [1", &[]),
            ("Unclosed [", "Unclosed [", &[]),
            ("Line [1\n2] break", "Line [1\n2] break", &[]),
            (
                "Long [1, 2, 3, 1, 2, 3, 1]",
                "Long [1, 2, 3, 1, 2, 3, 1]",
                &[],
            ),
            (
                "Code `v[9]` and\n```\nx[0]\n```\n[0]",
                "Code `v[9]` and\n```\nx[0]\n```\n",
                &[],
            ),
            ("Nested [see [1]]", "Nested [see [1]]", &[1]),
            ("No citations at all.", "No citations at all.", &[]),
            ("", "", &[]),
        ];
        for &(answer, expected, cited) in cases {
            for deltas in streamings(answer) {
                let (shown, numbers) = filter(3, &deltas);
                assert_eq!(shown, expected, "{answer:?} streamed as {deltas:?}");
                assert_eq!(numbers, cited, "{answer:?} streamed as {deltas:?}");
            }
        }
    }

    #[test]
    fn nothing_shown_means_every_marker_goes() {
        assert_eq!(filter(0, &["Maybe [1] or 【2】."]).0, "Maybe or.");
    }

    #[test]
    fn only_a_possible_marker_is_held_back() {
        let mut filter = CitationFilter::new(2);
        assert_eq!(filter.push("Plain text"), Some("Plain text".to_string()));
        // The space might go with an invented marker.
        assert_eq!(filter.push(" works "), Some(" works".to_string()));
        assert_eq!(filter.push("[9"), None);
        assert_eq!(filter.push("]"), None);
        assert_eq!(filter.push("."), Some(".".to_string()));
        assert_eq!(filter.push(" Also [1"), Some(" Also".to_string()));
        assert!(filter.cited().is_empty(), "held markers are not cited yet");
        assert_eq!(filter.push("]"), None, "it might be a link's text");
        assert_eq!(filter.push("\n"), Some(" [1]\n".to_string()));
        assert_eq!(filter.cited(), [1]);
        assert_eq!(filter.finish(), None);
    }

    #[test]
    fn cited_numbers_in_order_of_first_appearance() {
        let (_, cited) = filter(3, &["x [3] y [1][3] z [2, 1]"]);
        assert_eq!(cited, [3, 1, 2]);
    }
}
