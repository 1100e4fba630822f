//! Answers that end well. A generation stopped by its token cap (`max_new_tokens`) would show
//! the member half a sentence; instead the answer ends at its last complete sentence, with
//! [`CUT_MARK`] to say that more was coming (and an open code block is closed).
//!
//! Text streams out as the model writes it, except in the last stretch before the cap
//! ([`HOLD_TOKENS`] pieces): there, text is released only up to the last sentence end, because
//! text already shown cannot always be taken back (the console prints it; chat edits would
//! flicker). Streamed pieces are counted as tokens: every backend sends about one per token, and
//! an undercount only makes the stretch start later.

use crate::text::last_sentence_end;

/// Shown after an answer cut at the cap.
pub const CUT_MARK: &str = "…";

/// How many pieces before the cap text is held back to a sentence end: about two sentences of a
/// small model's English, or three quarters of a smaller cap (a sentence that starts before
/// the stretch and runs past the cap is shown cut: a small cap's stretch must be long).
pub const HOLD_TOKENS: usize = 64;

/// Releases streamed text so that a cut answer never ends mid-sentence.
#[derive(Debug)]
pub struct Ending {
    /// Pieces after which text is held back.
    hold_from: usize,
    pieces: usize,
    /// Text received but not yet released (it has no sentence end yet).
    held: String,
    /// Whether the released text has an unclosed code fence (```).
    open_fence: bool,
    released_any: bool,
}

impl Ending {
    /// For a generation capped at `max_new_tokens`.
    pub fn new(max_new_tokens: usize) -> Self {
        // A small cap streams its first quarter at once, then sentence by sentence.
        let hold = HOLD_TOKENS.min((max_new_tokens * 3).div_ceil(4));
        Self {
            hold_from: max_new_tokens - hold,
            pieces: 0,
            held: String::new(),
            open_fence: false,
            released_any: false,
        }
    }

    /// Takes the next piece of generated text; returns what may be shown now.
    pub fn push(&mut self, piece: &str) -> Option<String> {
        self.pieces += 1;
        self.held.push_str(piece);
        let release = if self.pieces <= self.hold_from {
            self.held.len()
        } else {
            last_sentence_end(&self.held, false)?
        };
        self.release(release)
    }

    /// The generation ended: `cut` when the cap stopped it. Returns the text still to show:
    /// the held text when the model finished by itself; when cut, the held text up to its
    /// last sentence end, then the mark.
    pub fn finish(&mut self, cut: bool) -> Option<String> {
        if !cut {
            return self.release(self.held.len());
        }
        let mut tail = match last_sentence_end(&self.held, true) {
            Some(end) => self.release(end).unwrap_or_default(),
            // One unfinished sentence and nothing shown yet: better its words than nothing.
            None if !self.released_any => self.release(self.held.len()).unwrap_or_default(),
            None => String::new(),
        };
        self.held.clear();
        if self.open_fence {
            tail.push_str("\n```");
        }
        tail.push(' ');
        tail.push_str(CUT_MARK);
        Some(tail)
    }

    /// The text given back when a generation fails: everything held (the failure note that
    /// follows explains the end).
    pub fn flush(&mut self) -> Option<String> {
        self.release(self.held.len())
    }

    fn release(&mut self, end: usize) -> Option<String> {
        if end == 0 {
            return None;
        }
        let released: String = self.held.drain(..end).collect();
        if released.matches("```").count() % 2 == 1 {
            self.open_fence = !self.open_fence;
        }
        self.released_any = true;
        Some(released)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `pieces` (one per token) to an ending capped at `cap` and returns what a member
    /// would see, in the order it was released.
    fn run(cap: usize, pieces: &[&str], cut: bool) -> String {
        let mut ending = Ending::new(cap);
        let mut shown = String::new();
        for piece in pieces {
            if let Some(text) = ending.push(piece) {
                shown.push_str(&text);
            }
        }
        if let Some(text) = ending.finish(cut) {
            shown.push_str(&text);
        }
        shown
    }

    fn words(text: &str) -> Vec<&str> {
        text.split_inclusive(' ').collect()
    }

    #[test]
    fn sentence_ends_table() {
        let cases = [
            ("Hello there. How are", false, Some("Hello there.".len())),
            ("Pi is 3.14 and", false, None),
            ("Done.", false, None),
            ("Done.", true, Some(5)),
            (
                "He said \"stop.\" Then",
                false,
                Some("He said \"stop.\"".len()),
            ),
            ("列表\n第二", false, Some("列表\n".len())),
            ("你好。我是", false, Some("你好。".len())),
            ("no end here", true, None),
        ];
        for (text, at_end, expected) in cases {
            assert_eq!(last_sentence_end(text, at_end), expected, "{text:?}");
        }
    }

    #[test]
    fn an_uncut_answer_is_shown_whole() {
        let text = "Use cargo build. It compiles the crate and its dependencies";
        assert_eq!(run(256, &words(text), false), text);
        assert_eq!(
            run(4, &words(text), false),
            text,
            "held text is released at the end"
        );
    }

    #[test]
    fn a_cut_answer_ends_at_its_last_sentence_with_the_mark() {
        let text = "Use cargo build. It compiles the crate. Then run the tests with cargo";
        let shown = run(4, &words(text), true);
        assert_eq!(shown, "Use cargo build. It compiles the crate. …");
    }

    #[test]
    fn text_before_the_last_stretch_streams_at_once() {
        let mut ending = Ending::new(12);
        assert_eq!(ending.push("No "), Some("No ".to_string()));
        assert_eq!(ending.push("period "), Some("period ".to_string()));
        assert_eq!(ending.push("yet "), Some("yet ".to_string()));
        // Within the stretch: held until a sentence ends.
        assert_eq!(ending.push("still "), None);
        assert_eq!(ending.push("none. "), Some("still none.".to_string()));
        assert_eq!(ending.push("Half"), None);
        assert_eq!(ending.finish(true), Some(" …".to_string()));
    }

    #[test]
    fn a_cut_inside_a_code_block_closes_it() {
        let pieces = ["Run:\n", "```\n", "cargo test\n", "cargo bu"];
        let shown = run(2, &pieces, true);
        assert_eq!(shown, "Run:\n```\ncargo test\n\n``` …");
    }

    #[test]
    fn one_unfinished_sentence_is_shown_rather_than_nothing() {
        assert_eq!(
            run(1, &words("a very long unfinished"), true),
            "a very long unfinished …"
        );
    }

    #[test]
    fn chinese_answers_end_at_a_full_stop() {
        let pieces = ["使用", "cargo", "构建。", "然后", "运行"];
        assert_eq!(run(2, &pieces, true), "使用cargo构建。 …");
    }
}
