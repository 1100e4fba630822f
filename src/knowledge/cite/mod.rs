//! Citations: the retrieved passages numbered in the prompt, the numbers the model writes in
//! its answer checked against them while the answer streams, and the sources line under it.
//!
//! The model sees `[1] (path › heading)` blocks and cites them as `[1]`, `[1, 2]` or `【1】`.
//! Like summaries, answers keep only the numbers of passages Steward showed: an invented
//! citation is dropped with the space before it, so an answer never points at a source that
//! does not exist. Because answers stream, [`CitationFilter`] works on the stream, holding
//! back only what may still become a citation marker.

use super::rank::Ranked;
use super::Candidate;
use crate::text::last_sentence_end;

mod filter;

pub use filter::CitationFilter;

/// Marks text cut short.
const ELLIPSIS: char = '…';

/// How a passage is named to the model and to members: `path › heading`, or the path alone
/// before any heading.
pub fn source_label(candidate: &Candidate) -> String {
    let heading = candidate.heading.trim();
    if heading.is_empty() {
        candidate.path.clone()
    } else {
        format!("{} › {heading}", candidate.path)
    }
}

/// The passages for the prompt: `[n] (label)` and the text, blocks separated by blank lines,
/// each text cut to `max_chars` ([`shorten`]).
pub fn numbered(passages: &[Ranked], max_chars: usize) -> String {
    passages
        .iter()
        .enumerate()
        .map(|(index, passage)| {
            format!(
                "[{}] ({})\n{}",
                index + 1,
                source_label(&passage.candidate),
                shorten(&passage.candidate.text, max_chars)
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// `text` without surrounding white space, and when longer than `max_chars` characters cut
/// to at most that many, ellipsis included: at the last sentence end, else the last white
/// space, as long as that keeps at least half of what fits (CJK text has no spaces between
/// words; there the cut falls anywhere, on a character boundary).
pub fn shorten(text: &str, max_chars: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    if max_chars == 0 {
        return String::new();
    }
    // Room for the ellipsis. The text is longer than `max_chars`, so the character at
    // `max_chars - 1` exists.
    let (prefix, next) = match text.char_indices().nth(max_chars - 1) {
        Some((at, next)) => (&text[..at], Some(next)),
        None => (text, None),
    };
    let followed_by_space = next.is_none_or(char::is_whitespace);
    let floor = prefix.len() / 2;
    let sentence_end = last_sentence_end(prefix, followed_by_space).filter(|&end| end >= floor);
    let word_end = if followed_by_space {
        Some(prefix.len())
    } else {
        prefix.rfind(char::is_whitespace).filter(|&at| at >= floor)
    };
    let cut = sentence_end.or(word_end).unwrap_or(prefix.len());
    let mut shortened = prefix[..cut].trim_end().to_string();
    shortened.push(ELLIPSIS);
    shortened
}

/// The line under an answer that names its sources: `Sources: [1] link · [2] link`, with the
/// caller's `header` (`Sources:`, `来源：`) and `link` (how a passage is shown). Only numbers
/// of the given passages are listed, once each, in the order given; empty when none is.
pub fn sources_line(
    header: &str,
    numbers: &[usize],
    passages: &[Ranked],
    link: impl Fn(&Candidate) -> String,
) -> String {
    let mut listed: Vec<usize> = Vec::new();
    for &number in numbers {
        if (1..=passages.len()).contains(&number) && !listed.contains(&number) {
            listed.push(number);
        }
    }
    if listed.is_empty() {
        return String::new();
    }
    let items: Vec<String> = listed
        .iter()
        .map(|&number| format!("[{number}] {}", link(&passages[number - 1].candidate)))
        .collect();
    // A full-width colon carries its own spacing.
    let spaced = header.is_empty() || header.ends_with(|c: char| c.is_whitespace() || c == '：');
    let separator = if spaced { "" } else { " " };
    format!("{header}{separator}{}", items.join(" · "))
}

/// An answer made only of retrieved text, for languages the model cannot write well: the
/// lead-in line, then the first `max_passages` passages as Markdown quotes (cut like
/// [`numbered`]), each ending with its citation ` [n]`, blank lines between them.
pub fn extractive(
    lead_in: &str,
    passages: &[Ranked],
    max_passages: usize,
    max_chars: usize,
) -> String {
    let mut blocks: Vec<String> = Vec::new();
    let lead_in = lead_in.trim();
    if !lead_in.is_empty() {
        blocks.push(lead_in.to_string());
    }
    for (index, passage) in passages.iter().take(max_passages).enumerate() {
        let text = shorten(&passage.candidate.text, max_chars);
        let mut quote: Vec<String> = text
            .lines()
            .map(|line| {
                let line = line.trim_end();
                // A bare `>` keeps an empty line inside the quote without trailing space.
                if line.is_empty() {
                    ">".to_string()
                } else {
                    format!("> {line}")
                }
            })
            .collect();
        if quote.is_empty() {
            quote.push(">".to_string());
        }
        if let Some(last) = quote.last_mut() {
            *last = format!("{last} [{}]", index + 1);
        }
        blocks.push(quote.join("\n"));
    }
    blocks.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(id: i64, path: &str, heading: &str, text: &str) -> Ranked {
        Ranked {
            candidate: Candidate {
                id,
                path: path.to_string(),
                heading: heading.to_string(),
                text: text.to_string(),
                terms: Vec::new(),
                source: None,
            },
            score: 1.0,
            relevance: 1.0,
            known: 1.0,
            similarity: None,
        }
    }

    #[test]
    fn labels_name_path_and_heading() {
        let with_heading = passage(1, "guide.md", "Install › Linux", "text");
        let without = passage(2, "notes.txt", "", "text");
        assert_eq!(
            source_label(&with_heading.candidate),
            "guide.md › Install › Linux"
        );
        assert_eq!(source_label(&without.candidate), "notes.txt");
    }

    #[test]
    fn numbered_blocks_for_the_prompt() {
        let passages = [
            passage(1, "guide.md", "Install", "  Run the installer.  "),
            passage(2, "faq.md", "", "Ask in #help."),
        ];
        assert_eq!(
            numbered(&passages, 100),
            "[1] (guide.md › Install)\nRun the installer.\n\n[2] (faq.md)\nAsk in #help."
        );
        assert_eq!(numbered(&[], 100), "");
    }

    #[test]
    fn long_text_is_cut_at_a_sentence_or_word_end() {
        let cjk = passage(1, "安装.md", "", "安装需要三步。先下载。再解压然后运行程序");
        assert_eq!(
            numbered(std::slice::from_ref(&cjk), 15),
            "[1] (安装.md)\n安装需要三步。先下载。…"
        );
        let cases = [
            (
                "Install the crate. Then run the binary with flags",
                30,
                "Install the crate.…",
            ),
            ("alpha beta gamma delta", 12, "alpha beta…"),
            ("alpha beta gamma delta", 11, "alpha beta…"),
            // No sentence end, no space: a cut between characters.
            ("一二三四五六七八九十", 5, "一二三四…"),
            ("short", 5, "short"),
            ("  padded  ", 6, "padded"),
            ("longer", 0, ""),
            ("longer", 1, "…"),
        ];
        for (text, max_chars, expected) in cases {
            assert_eq!(
                shorten(text, max_chars),
                expected,
                "{text:?} in {max_chars}"
            );
        }
        // Every limit on a mixed text: never longer than allowed, never a panic.
        let mixed = "Steward 支持 Discord 和 Matrix。It answers questions! 然后……";
        for max_chars in 0..mixed.chars().count() + 2 {
            let shortened = shorten(mixed, max_chars);
            assert!(
                shortened.chars().count() <= max_chars,
                "{max_chars}: {shortened:?}"
            );
        }
    }

    #[test]
    fn extractive_answers_quote_and_cite() {
        let passages = [
            passage(1, "a.md", "", "First line.\n\nSecond line."),
            passage(2, "b.md", "", "Only line."),
            passage(3, "c.md", "", "Not shown."),
        ];
        assert_eq!(
            extractive("From the docs:", &passages, 2, 200),
            "From the docs:\n\n> First line.\n>\n> Second line. [1]\n\n> Only line. [2]"
        );
        assert_eq!(extractive("", &passages[1..2], 5, 200), "> Only line. [1]");
    }

    #[test]
    fn sources_line_lists_valid_numbers_once() {
        let passages = [
            passage(1, "a.md", "", "x"),
            passage(2, "b.md", "Intro", "y"),
            passage(3, "c.md", "", "z"),
        ];
        let link = source_label;
        assert_eq!(
            sources_line("Sources:", &[2, 1, 5, 2, 0], &passages, link),
            "Sources: [2] b.md › Intro · [1] a.md"
        );
        assert_eq!(
            sources_line("来源：", &[3], &passages, link),
            "来源：[3] c.md"
        );
        assert_eq!(sources_line("Sources:", &[], &passages, link), "");
        assert_eq!(sources_line("Sources:", &[4, 9], &passages, link), "");
    }
}
