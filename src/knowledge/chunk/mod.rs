//! Documents into passages: Markdown is cut into sections by its headings (the heading path
//! stays with every passage, so "Linux" under "Install" is found by "install"), and sections
//! into passages that fit a token budget, so that a few cited passages always fit a small
//! model's context.
//!
//! A section's text is cut at blank lines into blocks (a fenced code block stays one block),
//! and consecutive blocks share a passage while heading and text fit the budget. A block over
//! the budget is cut at sentence ends, and a sentence still over it into windows of pieces. A
//! passage is always a contiguous stretch of its section's text, as written.

use std::ops::Range;

use super::terms::index_terms;
use super::NewPassage;

mod count;
mod sections;

pub use count::TokenCounter;
pub use sections::{markdown_sections, plain_sections, Section};

use sections::Fence;

/// The budget of one passage, heading included, in [`TokenCounter`] pieces: about 200 subword
/// tokens of English, so four cited passages take under a thousand tokens of context.
pub const PASSAGE_TOKENS: usize = 160;

/// Joins the levels of a heading path (`Install › Linux`).
pub const HEADING_SEPARATOR: &str = " › ";

/// A passage also holds at most this many characters per piece of its budget. Prose never comes
/// near it (an English word and its space are about six); it stops a run without spaces or
/// punctuation (base64, a minified line), which counts as one piece but is many model tokens,
/// from making a passage of any length.
const MAX_CHARS_PER_PIECE: usize = 16;

/// The passages of a document's sections, each within `budget` pieces (heading included) and
/// `budget` × 16 characters of text, numbered from 0 across the document.
pub fn passages(sections: &[Section], budget: usize, counter: &TokenCounter) -> Vec<NewPassage> {
    let budget = budget.max(1);
    let max_chars = budget.saturating_mul(MAX_CHARS_PER_PIECE);
    let mut passages = Vec::new();
    for section in sections {
        // The heading takes at most half the budget, so every passage has room for text.
        let heading = heading_within(&section.heading, budget / 2, counter);
        let room = budget.saturating_sub(counter.count(&heading)).max(1);
        let spans = spans_within(&section.text, room, max_chars, counter);
        for span in pack(&section.text, spans, room, max_chars) {
            let text = section.text[span.range].to_string();
            if text.trim().is_empty() {
                continue;
            }
            let terms = index_terms(&format!("{heading}\n{text}"));
            passages.push(NewPassage {
                ordinal: u32::try_from(passages.len()).unwrap_or(u32::MAX),
                heading: heading.clone(),
                text,
                terms,
            });
        }
    }
    passages
}

/// A stretch of a section's text (byte range) and how many pieces it counts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Span {
    range: Range<usize>,
    pieces: usize,
}

/// The heading path joined, within `limit` pieces: the outer levels are dropped first, and a
/// deepest heading that alone is too long is cut to its first pieces.
fn heading_within(path: &[String], limit: usize, counter: &TokenCounter) -> String {
    if limit == 0 {
        return String::new();
    }
    let max_chars = limit.saturating_mul(MAX_CHARS_PER_PIECE);
    for outer in 0..path.len() {
        let heading = path[outer..].join(HEADING_SEPARATOR);
        if fits(&heading, limit, max_chars, counter).is_some() {
            return heading;
        }
    }
    let Some(deepest) = path.last() else {
        return String::new();
    };
    windows(deepest, 0..deepest.len(), limit, max_chars, counter)
        .into_iter()
        .next()
        .map(|span| deepest[span.range].to_string())
        .unwrap_or_default()
}

/// `text` cut into spans that each fit: whole blocks where they fit, else their sentences,
/// else windows of pieces.
fn spans_within(
    text: &str,
    max_pieces: usize,
    max_chars: usize,
    counter: &TokenCounter,
) -> Vec<Span> {
    let mut spans = Vec::new();
    for block in blocks(text) {
        if let Some(pieces) = fits(&text[block.clone()], max_pieces, max_chars, counter) {
            spans.push(Span {
                range: block,
                pieces,
            });
            continue;
        }
        for sentence in sentences(text, block) {
            match fits(&text[sentence.clone()], max_pieces, max_chars, counter) {
                Some(pieces) => spans.push(Span {
                    range: sentence,
                    pieces,
                }),
                None => spans.extend(windows(text, sentence, max_pieces, max_chars, counter)),
            }
        }
    }
    spans
}

/// The pieces of `text` when it is within both limits.
fn fits(text: &str, max_pieces: usize, max_chars: usize, counter: &TokenCounter) -> Option<usize> {
    // Characters first: a long stretch is not worth tokenizing to learn that it is too long.
    if text.chars().take(max_chars.saturating_add(1)).count() > max_chars {
        return None;
    }
    let pieces = counter.count(text);
    (pieces <= max_pieces).then_some(pieces)
}

/// Joins consecutive spans while the joined stretch stays within both limits. A joined stretch
/// counts no more pieces than its spans together: what lies between them is white space (or
/// text the counter ignores).
fn pack(
    text: &str,
    spans: impl IntoIterator<Item = Span>,
    max_pieces: usize,
    max_chars: usize,
) -> Vec<Span> {
    let mut packed = Vec::new();
    // The span being filled, and its characters.
    let mut open: Option<(Span, usize)> = None;
    for span in spans {
        if let Some((current, chars)) = open.as_mut() {
            let added = text
                .get(current.range.end..span.range.end)
                .map(|joined| joined.chars().count());
            if let Some(added) = added {
                if current.pieces + span.pieces <= max_pieces && *chars + added <= max_chars {
                    current.range.end = span.range.end;
                    current.pieces += span.pieces;
                    *chars += added;
                    continue;
                }
            }
        }
        let chars = text[span.range.clone()].chars().count();
        if let Some((done, _)) = open.replace((span, chars)) {
            packed.push(done);
        }
    }
    if let Some((done, _)) = open {
        packed.push(done);
    }
    packed
}

/// `within` cut into windows of at most `max_pieces` pieces and `max_chars` characters, at
/// piece boundaries: white space in Latin text, between characters in CJK text. A piece longer
/// than `max_chars` is cut between characters.
fn windows(
    text: &str,
    within: Range<usize>,
    max_pieces: usize,
    max_chars: usize,
    counter: &TokenCounter,
) -> Vec<Span> {
    let max_pieces = max_pieces.max(1);
    let max_chars = max_chars.max(1);
    let offset = within.start;
    let pieces = counter.pieces(&text[within]);
    let spans = pieces.into_iter().flat_map(|piece| {
        let piece = offset + piece.start..offset + piece.end;
        if text[piece.clone()].chars().count() > max_chars {
            char_chunks(text, piece, max_chars)
        } else {
            vec![Span {
                range: piece,
                pieces: 1,
            }]
        }
    });
    pack(text, spans, max_pieces, max_chars)
}

/// `within` (one piece) cut every `max_chars` characters.
fn char_chunks(text: &str, within: Range<usize>, max_chars: usize) -> Vec<Span> {
    let mut chunks = Vec::new();
    let mut start = within.start;
    let mut chars = 0;
    for (at, _) in text[within.clone()].char_indices() {
        let at = within.start + at;
        if chars == max_chars {
            chunks.push(Span {
                range: start..at,
                pieces: 1,
            });
            start = at;
            chars = 0;
        }
        chars += 1;
    }
    if start < within.end {
        chunks.push(Span {
            range: start..within.end,
            pieces: 1,
        });
    }
    chunks
}

/// The blocks of a section's text: runs of lines between blank lines, a fenced code block with
/// its blank lines being one. Ranges start at their first line (its indentation kept) and end
/// after their last non-blank character.
fn blocks(text: &str) -> Vec<Range<usize>> {
    let mut blocks = Vec::new();
    let mut open: Option<Range<usize>> = None;
    let mut fence: Option<Fence> = None;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let start = line_start;
        line_start += line.len();
        let blank = line.trim().is_empty();
        match fence {
            Some(open_fence) => {
                if open_fence.closes(line) {
                    fence = None;
                }
            }
            None if blank => {
                if let Some(block) = open.take() {
                    blocks.push(block);
                }
            }
            None => fence = Fence::opening(line),
        }
        if blank {
            // Inside a fence the block goes on; its end moves with the next non-blank line.
            continue;
        }
        let end = start + line.trim_end().len();
        if let Some(block) = open.as_mut() {
            block.end = end;
        } else {
            open = Some(start..end);
        }
    }
    if let Some(block) = open {
        blocks.push(block);
    }
    blocks
}

/// `within` cut after each sentence end: `.`, `!` or `?` followed by white space, and the CJK
/// full stops anywhere. The sentences are trimmed of white space; none is empty.
fn sentences(text: &str, within: Range<usize>) -> Vec<Range<usize>> {
    let offset = within.start;
    let slice = &text[within];
    let mut sentences = Vec::new();
    let mut start = 0;
    let mut chars = slice.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let end = at + c.len_utf8();
        let ends = match c {
            '。' | '！' | '？' => true,
            '.' | '!' | '?' => chars.peek().is_some_and(|&(_, next)| next.is_whitespace()),
            _ => false,
        };
        if ends {
            push_trimmed(slice, start..end, offset, &mut sentences);
            start = end;
        }
    }
    push_trimmed(slice, start..slice.len(), offset, &mut sentences);
    sentences
}

fn push_trimmed(text: &str, range: Range<usize>, offset: usize, out: &mut Vec<Range<usize>>) {
    let part = &text[range.clone()];
    let start = range.start + (part.len() - part.trim_start().len());
    let end = range.start + part.trim_end().len();
    if start < end {
        out.push(offset + start..offset + end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(levels: &[&str]) -> Vec<String> {
        levels.iter().map(|level| level.to_string()).collect()
    }

    /// Every passage within the budget (heading and text counted together), not empty, and
    /// numbered in order.
    fn assert_well_formed(passages: &[NewPassage], budget: usize, counter: &TokenCounter) {
        for (index, passage) in passages.iter().enumerate() {
            assert_eq!(passage.ordinal as usize, index);
            assert!(!passage.text.trim().is_empty(), "{passage:?}");
            let pieces = counter.count(&format!("{}\n{}", passage.heading, passage.text));
            assert!(
                pieces <= budget.max(1),
                "{pieces} pieces over {budget}: {passage:?}"
            );
            let chars = passage.text.chars().count();
            assert!(
                chars <= budget.max(1) * MAX_CHARS_PER_PIECE,
                "{chars} characters"
            );
        }
    }

    #[test]
    fn small_blocks_share_a_passage_with_their_heading() {
        let counter = TokenCounter::new();
        let sections = markdown_sections("# Install\n## Linux\n\nRun apt.\n\nThen cargo build.\n");
        let passages = passages(&sections, PASSAGE_TOKENS, &counter);
        assert_eq!(passages.len(), 1);
        assert_eq!(passages[0].heading, "Install › Linux");
        assert_eq!(passages[0].text, "Run apt.\n\nThen cargo build.");
        assert_eq!(
            passages[0].terms,
            index_terms("Install › Linux\nRun apt.\n\nThen cargo build.")
        );
    }

    #[test]
    fn a_fenced_code_block_is_one_block() {
        let text = "Intro.\n\n```\nfn main() {\n\n    run();\n}\n```\n\nOutro.";
        let found: Vec<&str> = blocks(text).into_iter().map(|block| &text[block]).collect();
        assert_eq!(
            found,
            vec!["Intro.", "```\nfn main() {\n\n    run();\n}\n```", "Outro."]
        );
    }

    fn long_english_document() -> String {
        let mut document = String::from("# Guide\n\n");
        for part in 0..6 {
            document.push_str(&format!("## Part {part}\n\n"));
            for paragraph in 0..8 {
                let sentences = 1 + (part * 7 + paragraph * 13) % 45;
                for sentence in 0..sentences {
                    document.push_str(&format!(
                        "Marker{part}x{paragraph}x{sentence} runs cargo build, with tokio and serde. "
                    ));
                }
                document.push_str("\n\n");
            }
            document.push_str("```rust\nfn main() {\n\n    println!(\"hi\");\n}\n```\n\n");
            // One long sentence with no end.
            document.push_str(&"endless words without a stop ".repeat(60));
            document.push_str("\n\n");
        }
        document
    }

    #[test]
    fn english_passages_stay_within_the_budget_and_lose_nothing() {
        let counter = TokenCounter::new();
        let document = long_english_document();
        let passages = passages(&markdown_sections(&document), PASSAGE_TOKENS, &counter);
        assert!(passages.len() > 20, "{}", passages.len());
        assert_well_formed(&passages, PASSAGE_TOKENS, &counter);
        for part in 0..6 {
            for paragraph in 0..8 {
                let marker = format!("Marker{part}x{paragraph}x0 ");
                let holders = passages.iter().filter(|p| p.text.contains(&marker)).count();
                assert_eq!(holders, 1, "{marker}");
            }
        }
        let words: usize = passages
            .iter()
            .map(|passage| passage.text.matches("endless").count())
            .sum();
        assert_eq!(words, 6 * 60);
    }

    #[test]
    fn chinese_passages_stay_within_the_budget() {
        let counter = TokenCounter::new();
        let mut document = String::from("# 安装\n\n");
        for paragraph in 0..10 {
            document.push_str(&"使用cargo构建项目，然后运行测试。".repeat(1 + paragraph * 3));
            document.push_str("\n\n");
        }
        let passages = passages(&markdown_sections(&document), PASSAGE_TOKENS, &counter);
        assert_well_formed(&passages, PASSAGE_TOKENS, &counter);
        assert!(passages.iter().all(|passage| passage.heading == "安装"));
        assert!(passages
            .iter()
            .all(|passage| passage.terms.contains(&"构建".to_string())));
        // Cut at full stops: every passage ends with one.
        assert!(passages.iter().all(|passage| passage.text.ends_with('。')));
    }

    #[test]
    fn a_long_cjk_paragraph_without_punctuation_is_split() {
        let counter = TokenCounter::new();
        let paragraph = "汉字".repeat(500);
        let passages = passages(&plain_sections(&paragraph), PASSAGE_TOKENS, &counter);
        assert_eq!(passages.len(), 1000_usize.div_ceil(PASSAGE_TOKENS));
        assert_well_formed(&passages, PASSAGE_TOKENS, &counter);
        let joined: String = passages
            .iter()
            .map(|passage| passage.text.as_str())
            .collect();
        assert_eq!(joined, paragraph);
    }

    #[test]
    fn ordinals_count_across_sections() {
        let counter = TokenCounter::new();
        let sections = markdown_sections("# A\n\none\n\n# B\n\ntwo\n\n# C\n\nthree\n");
        let passages = passages(&sections, PASSAGE_TOKENS, &counter);
        let ordinals: Vec<u32> = passages.iter().map(|passage| passage.ordinal).collect();
        assert_eq!(ordinals, vec![0, 1, 2]);
        assert_eq!(passages[2].heading, "C");
    }

    #[test]
    fn a_heading_too_long_for_the_budget_is_shortened() {
        let counter = TokenCounter::new();
        let long = format!("# {}\n\nbody text\n", "heading ".repeat(300));
        let shortened = passages(&markdown_sections(&long), 20, &counter);
        assert_well_formed(&shortened, 20, &counter);
        assert_eq!(counter.count(&shortened[0].heading), 10);
        // Outer levels go first.
        let sections = vec![Section {
            heading: path(&["Outer level with words", "Inner"]),
            text: "body".to_string(),
        }];
        assert_eq!(passages(&sections, 6, &counter)[0].heading, "Inner");
    }

    #[test]
    fn odd_input_never_panics_or_overflows_the_budget() {
        let counter = TokenCounter::new();
        let inputs = [
            String::new(),
            "\u{0}\u{1}\u{7f}".to_string(),
            "```".to_string(),
            "#".to_string(),
            "---".to_string(),
            "---\n---\n".to_string(),
            "\u{feff}".to_string(),
            "e\u{301}\u{301}\u{301}".repeat(50),
            "🦀🦀 emoji 👩‍👩‍👧 family".to_string(),
            "a".repeat(100_000),
            "ab+/".repeat(1_000),
            "\n".repeat(1000),
            "line\r\n\r\nnext\r\n".repeat(50),
            "\u{200B}".repeat(10_000),
            format!("{}x", " ".repeat(10_000)),
            "#".repeat(2_000),
            "# a\n## b\n### c\n#### d\n##### e\n###### f\n\ntext".to_string(),
            "İ".repeat(1000),
            "。".repeat(500),
            "~~~\nunclosed fence\n\n# inside".to_string(),
            "\u{10FFFF}\u{E000}\u{FFFD}".repeat(100),
        ];
        for input in &inputs {
            for budget in [0, 1, 2, 3, PASSAGE_TOKENS] {
                for sections in [markdown_sections(input), plain_sections(input)] {
                    let passages = passages(&sections, budget, &counter);
                    assert_well_formed(&passages, budget, &counter);
                }
            }
        }
    }
}
