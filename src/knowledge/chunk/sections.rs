//! Documents into sections: Markdown cut at its headings (ATX and setext, never inside a
//! fenced code block, front matter left out), plain text as one section.

/// A stretch of a document under one heading path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// The headings above the text, outermost first; empty before any heading.
    pub heading: Vec<String>,
    /// The text, as written (never blank).
    pub text: String,
}

/// The sections of a Markdown document. ATX (`## Title`) and setext (a `===` or `---` line
/// under a paragraph) headings make the heading path, by level; nothing inside a fenced code
/// block is a heading; a YAML front matter block at the very start is left out. Sections with
/// no text are dropped, but their headings stay on the path of the sections below them.
pub fn markdown_sections(text: &str) -> Vec<Section> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut sections = Vec::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut body: Vec<&str> = Vec::new();
    // How many of the last lines of `body` are a paragraph a setext underline would turn into
    // a heading.
    let mut paragraph = 0usize;
    let mut fence: Option<Fence> = None;

    for &line in &lines[front_matter_lines(&lines)..] {
        if let Some(open) = fence {
            if open.closes(line) {
                fence = None;
            }
            body.push(line);
            continue;
        }
        if let Some(opened) = Fence::opening(line) {
            fence = Some(opened);
            paragraph = 0;
            body.push(line);
            continue;
        }
        if let Some((level, title)) = atx_heading(line) {
            flush_section(&path, &mut body, &mut sections);
            enter_heading(&mut path, level, title);
            paragraph = 0;
            continue;
        }
        if paragraph > 0 {
            if let Some(level) = setext_level(line) {
                let first = body.len().saturating_sub(paragraph);
                let title = body[first..]
                    .iter()
                    .map(|line| line.trim())
                    .collect::<Vec<_>>()
                    .join(" ");
                body.truncate(first);
                flush_section(&path, &mut body, &mut sections);
                enter_heading(&mut path, level, title);
                paragraph = 0;
                continue;
            }
        }
        paragraph =
            if line.trim().is_empty() || opens_list_or_quote(line) || is_thematic_break(line) {
                0
            } else if paragraph > 0 || strip_indent(line).is_some() {
                paragraph + 1
            } else {
                // Four spaces with no paragraph open: indented code.
                0
            };
        body.push(line);
    }
    flush_section(&path, &mut body, &mut sections);
    sections
}

/// A plain text document: one section with no heading (none when the text is blank).
pub fn plain_sections(text: &str) -> Vec<Section> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = without_blank_edges(text);
    if text.is_empty() {
        return Vec::new();
    }
    vec![Section {
        heading: Vec::new(),
        text: text.to_string(),
    }]
}

/// `text` without its leading blank lines (the first line's indentation kept) and trailing
/// white space.
fn without_blank_edges(text: &str) -> &str {
    let text = text.trim_end();
    let Some(first_visible) = text.find(|c: char| !c.is_whitespace()) else {
        return "";
    };
    let line_start = text[..first_visible].rfind('\n').map_or(0, |at| at + 1);
    &text[line_start..]
}

/// The number of lines of a YAML front matter block (`---` ... `---` or `...` from the very
/// first line), or 0 when the document has none.
fn front_matter_lines(lines: &[&str]) -> usize {
    if lines.first().map(|line| line.trim_end()) != Some("---") {
        return 0;
    }
    lines
        .iter()
        .skip(1)
        .position(|line| matches!(line.trim_end(), "---" | "..."))
        .map_or(0, |closing| closing + 2)
}

/// Adds the body so far as a section under `path` (unless it is blank) and empties it.
fn flush_section(path: &[(usize, String)], body: &mut Vec<&str>, sections: &mut Vec<Section>) {
    let joined = body.join("\n");
    body.clear();
    let text = without_blank_edges(&joined);
    if text.is_empty() {
        return;
    }
    sections.push(Section {
        heading: path
            .iter()
            .map(|(_, title)| title.clone())
            .filter(|title| !title.is_empty())
            .collect(),
        text: text.to_string(),
    });
}

/// A heading of `level` closes the open headings of its level and deeper.
fn enter_heading(path: &mut Vec<(usize, String)>, level: usize, title: String) {
    path.retain(|(open_level, _)| *open_level < level);
    path.push((level, title));
}

/// The level and title of an ATX heading line (`## Title ##`).
fn atx_heading(line: &str) -> Option<(usize, String)> {
    let rest = strip_indent(line)?;
    let level = rest.bytes().take_while(|&byte| byte == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let after = &rest[level..];
    // `#hashtag` is not a heading.
    if !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    let content = after.trim();
    let without_closing = content.trim_end_matches('#');
    // A closing run of `#` needs a space before it: `## C#` keeps its `#`.
    let title = if without_closing.is_empty() {
        ""
    } else if without_closing.ends_with([' ', '\t']) {
        without_closing.trim_end()
    } else {
        content
    };
    Some((level, title.to_string()))
}

/// The level of a setext underline (`===` for 1, `---` for 2).
fn setext_level(line: &str) -> Option<usize> {
    let underline = strip_indent(line)?.trim_end();
    if !underline.is_empty() && underline.chars().all(|c| c == '=') {
        Some(1)
    } else if underline.len() >= 2 && underline.chars().all(|c| c == '-') {
        // A lone `-` is an empty list item.
        Some(2)
    } else {
        None
    }
}

/// Whether a line is a thematic break (`---`, `* * *`, `___`): it ends a paragraph.
fn is_thematic_break(line: &str) -> bool {
    let Some(rest) = strip_indent(line) else {
        return false;
    };
    let mut marks = rest.chars().filter(|c| !matches!(c, ' ' | '\t'));
    let Some(mark) = marks.next() else {
        return false;
    };
    matches!(mark, '-' | '*' | '_') && marks.clone().all(|c| c == mark) && marks.count() >= 2
}

/// Whether a line opens a list item or a block quote: not a paragraph a setext underline could
/// make a heading of.
fn opens_list_or_quote(line: &str) -> bool {
    let rest = line.trim_start();
    if rest.starts_with('>') {
        return true;
    }
    if let Some(after) = rest.strip_prefix(['-', '*', '+']) {
        return after.is_empty() || after.starts_with([' ', '\t']);
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=9).contains(&digits) || !rest[digits..].starts_with(['.', ')']) {
        return false;
    }
    let after = &rest[digits + 1..];
    after.is_empty() || after.starts_with([' ', '\t'])
}

/// The line without its line break and up to three spaces of indentation; `None` when it is
/// indented further (indented code, never a heading or fence).
fn strip_indent(line: &str) -> Option<&str> {
    let line = line.trim_end_matches(['\n', '\r']);
    let rest = line.trim_start_matches(' ');
    (line.len() - rest.len() <= 3).then_some(rest)
}

/// An open fenced code block: its marker character and run length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fence {
    marker: char,
    length: usize,
}

impl Fence {
    /// The fence a line opens (three or more backticks or tildes).
    pub(super) fn opening(line: &str) -> Option<Fence> {
        let rest = strip_indent(line)?;
        let marker = rest.chars().next()?;
        if marker != '`' && marker != '~' {
            return None;
        }
        let length = rest.chars().take_while(|&c| c == marker).count();
        // A backtick fence's info string has no backticks: ```a``` is inline code.
        if length < 3 || (marker == '`' && rest[length..].contains('`')) {
            return None;
        }
        Some(Fence { marker, length })
    }

    /// Whether `line` closes this fence: a run of the same marker, at least as long, alone.
    pub(super) fn closes(self, line: &str) -> bool {
        let Some(rest) = strip_indent(line) else {
            return false;
        };
        let length = rest.chars().take_while(|&c| c == self.marker).count();
        length >= self.length && rest[length..].trim().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headings(text: &str) -> Vec<Vec<String>> {
        markdown_sections(text)
            .into_iter()
            .map(|section| section.heading)
            .collect()
    }

    fn path(levels: &[&str]) -> Vec<String> {
        levels.iter().map(|level| level.to_string()).collect()
    }

    #[test]
    fn headings_nest_by_level() {
        let text = "# A\n\ntext a\n\n## B\n\ntext b\n\n### C\n\ntext c\n\n## D\n\ntext d\n\n# E\n\ntext e\n";
        assert_eq!(
            headings(text),
            vec![
                path(&["A"]),
                path(&["A", "B"]),
                path(&["A", "B", "C"]),
                path(&["A", "D"]),
                path(&["E"]),
            ]
        );
        let sections = markdown_sections(text);
        assert_eq!(sections[2].text, "text c");
    }

    #[test]
    fn text_before_any_heading_has_an_empty_path() {
        let sections = markdown_sections("intro\n\n# A\nbody\n");
        assert_eq!(
            sections[0],
            Section {
                heading: Vec::new(),
                text: "intro".to_string()
            }
        );
        assert_eq!(
            sections[1],
            Section {
                heading: path(&["A"]),
                text: "body".to_string()
            }
        );
    }

    #[test]
    fn setext_headings_count() {
        let text = "Title\n=====\n\nintro\n\nSub\n---\n\nbody\n";
        assert_eq!(
            headings(text),
            vec![path(&["Title"]), path(&["Title", "Sub"])]
        );
        assert_eq!(markdown_sections(text)[1].text, "body");
        // A `---` after a blank line or a list item is a thematic break, not an underline.
        let text = "# A\n\npara\n\n---\n\n- item\n---\nend\n";
        let sections = markdown_sections(text);
        assert_eq!(headings(text), vec![path(&["A"])]);
        assert!(sections[0].text.contains("- item\n---\nend"));
    }

    #[test]
    fn closing_hashes_are_stripped_but_not_from_words() {
        assert_eq!(headings("## Install ##\nx"), vec![path(&["Install"])]);
        assert_eq!(headings("## Using C#\nx"), vec![path(&["Using C#"])]);
        assert_eq!(headings("#hashtag\nx"), vec![path(&[])]);
        assert_eq!(headings("####### seven\nx"), vec![path(&[])]);
        assert_eq!(headings("    # indented code\nx"), vec![path(&[])]);
    }

    #[test]
    fn headings_inside_code_fences_are_code() {
        let text =
            "# Real\n\n```sh\n# not a heading\n\necho hi\n```\n\n~~~\n## nor this\n~~~\n\nafter\n";
        let sections = markdown_sections(text);
        assert_eq!(sections.len(), 1);
        assert_eq!(sections[0].heading, path(&["Real"]));
        assert!(sections[0].text.contains("# not a heading"));
        assert!(sections[0].text.contains("## nor this"));
        assert!(sections[0].text.ends_with("after"));
    }

    #[test]
    fn front_matter_is_skipped() {
        let text = "---\ntitle: Install\ntags: [a]\n---\n# Doc\n\nbody\n";
        let sections = markdown_sections(text);
        assert_eq!(
            sections,
            vec![Section {
                heading: path(&["Doc"]),
                text: "body".to_string()
            }]
        );
        // Only at the very start, and only when closed.
        let text = "---\nno front matter\n";
        assert_eq!(markdown_sections(text)[0].text, "---\nno front matter");
    }

    #[test]
    fn empty_sections_are_dropped_but_their_headings_stay_on_the_path() {
        let text = "# A\n## B\n\n   \ntext\n# C\n";
        assert_eq!(
            markdown_sections(text),
            vec![Section {
                heading: path(&["A", "B"]),
                text: "text".to_string()
            }]
        );
    }

    #[test]
    fn plain_text_is_one_section() {
        assert_eq!(
            plain_sections("\n\n  line one\nline two\n\n"),
            vec![Section {
                heading: Vec::new(),
                text: "  line one\nline two".to_string()
            }]
        );
        assert!(plain_sections(" \n\t\n").is_empty());
    }
}
