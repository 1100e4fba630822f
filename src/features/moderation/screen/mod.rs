//! The lexical screening stage: English and Chinese word and phrase lists matched on
//! normalised text in microseconds, on the default CPU path, before the model's review. The
//! default model labels nearly everything "none"; this stage is what catches the obvious
//! harassment, hate, scams, threats, self-harm, sexual content and prompt injection, and says
//! which terms it matched so the case log can show them.
//!
//! - `normalize`: the forms a message is matched in (NFKC, accents and invisible characters
//!   dropped, lowercase, leetspeak undone, spelled-out words joined, letters and digits only).
//! - `english`: the profanity filter `rustrict` and Steward's patterns (`en_patterns.txt`).
//! - `chinese`: Steward's phrase list (`zh_terms.txt`).
//!
//! Both lists put technical slang first ("kill -9 the worker", 杀进程, 死锁) so that it is never
//! read as a threat.

mod chinese;
mod english;
mod lexicon;
mod normalize;
#[cfg(test)]
mod tests;

use crate::core::CaseCategory;

/// Evidence kept per screening (the case log shows it).
const MAX_EVIDENCE: usize = 8;
/// Characters kept of one piece of evidence.
const MAX_EVIDENCE_CHARS: usize = 60;

/// How much a lexical finding is worth on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    /// A weak sign (a lone insult, an invite link): the model is asked too.
    Low,
    /// A strong sign (a slur, an explicit threat, a known scam or injection phrase): the
    /// verdict without asking the model.
    High,
}

impl Confidence {
    /// Stable label, for logs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::High => "high",
        }
    }
}

/// What the lexical stage found in one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screening {
    /// The most serious category matched; [`CaseCategory::None`] when the message is clean.
    pub category: CaseCategory,
    /// How strong the strongest match of that category is (`Low` when clean).
    pub confidence: Confidence,
    /// The matched terms, the deciding category's first, for the case log.
    pub evidence: Vec<String>,
}

impl Screening {
    /// Nothing found.
    pub fn clean() -> Self {
        Self {
            category: CaseCategory::None,
            confidence: Confidence::Low,
            evidence: Vec::new(),
        }
    }

    /// Whether something was found.
    pub fn flags(&self) -> bool {
        self.category != CaseCategory::None
    }

    /// Whether the finding is strong enough to stand without the model.
    pub fn is_conclusive(&self) -> bool {
        self.flags() && self.confidence == Confidence::High
    }
}

/// Screens `text` with the English and Chinese stages (every message goes through both: mixed
/// messages are common, and each stage ignores the other's script).
pub fn screen(text: &str) -> Screening {
    let normalized = normalize::normalize(text);
    let mut hits = Vec::new();
    english::scan(&normalized, &mut hits);
    chinese::scan(&normalized, &mut hits);
    combine(hits)
}

/// One matched term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub category: CaseCategory,
    pub confidence: Confidence,
    pub evidence: String,
}

impl Hit {
    pub(crate) fn new(category: CaseCategory, confidence: Confidence, evidence: &str) -> Self {
        Self {
            category,
            confidence,
            evidence: evidence.trim().chars().take(MAX_EVIDENCE_CHARS).collect(),
        }
    }
}

/// The screening the hits add up to: the strongest hit decides (a strong sign beats a weak one,
/// then the more serious category wins).
fn combine(mut hits: Vec<Hit>) -> Screening {
    let Some(best) = hits
        .iter()
        .max_by_key(|hit| (hit.confidence, seriousness(hit.category)))
        .cloned()
    else {
        return Screening::clean();
    };
    // The deciding category's terms first, then the rest, each once.
    hits.sort_by_key(|hit| hit.category != best.category);
    let mut evidence: Vec<String> = Vec::new();
    for hit in hits {
        let new = !hit.evidence.is_empty() && !evidence.contains(&hit.evidence);
        if new && evidence.len() < MAX_EVIDENCE {
            evidence.push(hit.evidence);
        }
    }
    Screening {
        category: best.category,
        confidence: best.confidence,
        evidence,
    }
}

/// Which category names a message that matched several: the one most in need of a person.
fn seriousness(category: CaseCategory) -> u8 {
    match category {
        CaseCategory::SelfHarm => 8,
        CaseCategory::Violence => 7,
        CaseCategory::Hate => 6,
        CaseCategory::Sexual => 5,
        CaseCategory::Harassment => 4,
        CaseCategory::PromptInjection => 3,
        CaseCategory::Scam => 2,
        CaseCategory::Spam => 1,
        _ => 0,
    }
}
