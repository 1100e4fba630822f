//! The line format both word lists share: `category<TAB>level<TAB>term`, `#` comments and blank
//! lines ignored. The lists are compiled in; a malformed line is a bug that the module's tests
//! catch, so loading panics with the file and line instead of returning an error.

use super::Confidence;
use crate::core::CaseCategory;

/// The categories a list may name (besides `allow`).
const CATEGORIES: [CaseCategory; 8] = [
    CaseCategory::Harassment,
    CaseCategory::Hate,
    CaseCategory::Sexual,
    CaseCategory::Violence,
    CaseCategory::SelfHarm,
    CaseCategory::Spam,
    CaseCategory::Scam,
    CaseCategory::PromptInjection,
];

/// What a line does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Benign slang or an idiom, blanked before the other lines look.
    Allow,
    /// A sign of `category`.
    Signal(CaseCategory, Confidence),
}

/// One line of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    /// 1-based, for messages about the line.
    pub line: usize,
    pub kind: Kind,
    pub term: &'static str,
}

/// The entries of the list `name` (for messages) whose text is `source`.
pub(crate) fn entries(name: &str, source: &'static str) -> Vec<Entry> {
    source
        .lines()
        .enumerate()
        .filter(|(_, text)| !text.trim().is_empty() && !text.starts_with('#'))
        .map(|(index, text)| {
            let line = index + 1;
            let mut fields = text.splitn(3, '\t');
            let (Some(category), Some(level), Some(term)) =
                (fields.next(), fields.next(), fields.next())
            else {
                panic!("{name}:{line}: expected category<TAB>level<TAB>term");
            };
            if term.trim().is_empty() || term != term.trim() {
                panic!("{name}:{line}: the term is empty or has spaces around it");
            }
            let kind = match (category, level) {
                ("allow", "-") => Kind::Allow,
                (category, level) => {
                    let category = CaseCategory::parse(category)
                        .filter(|category| CATEGORIES.contains(category))
                        .unwrap_or_else(|| panic!("{name}:{line}: unknown category {category:?}"));
                    let confidence = match level {
                        "high" => Confidence::High,
                        "low" => Confidence::Low,
                        other => panic!("{name}:{line}: level {other:?} is not high or low"),
                    };
                    Kind::Signal(category, confidence)
                }
            };
            Entry { line, kind, term }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_into_entries() {
        let source = "# a comment\n\nallow\t-\tkill -9\nscam\thigh\tfree\\s+nitro\nhate\tlow\tx\n";
        let entries = entries("test.txt", source);
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].kind, Kind::Allow);
        assert_eq!(entries[0].line, 3);
        assert_eq!(
            entries[1].kind,
            Kind::Signal(CaseCategory::Scam, Confidence::High)
        );
        assert_eq!(entries[1].term, "free\\s+nitro");
        assert_eq!(
            entries[2].kind,
            Kind::Signal(CaseCategory::Hate, Confidence::Low)
        );
    }

    #[test]
    #[should_panic(expected = "test.txt:1: unknown category \"flood\"")]
    fn a_case_label_that_is_no_content_category_is_refused() {
        entries("test.txt", "flood\thigh\tx\n");
    }
}
