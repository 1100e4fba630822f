//! A review's outcome: the verdict, which stage decided it (the lexicon alone, the model, or the
//! lexicon filling in for a model that found nothing), and the terms the lexicon matched.

use super::review::{Category, Severity, Verdict};
use super::screen::Screening;
use crate::core::CaseCategory;

/// Which stage decided a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A strong lexical match: the model was not asked.
    Lexicon,
    /// The model's verdict (any weak lexical match is kept as evidence).
    Model,
    /// The model found nothing; a weak lexical match labelled the message at low severity.
    LexiconOverModel,
}

impl Stage {
    /// Stable label, for logs and case reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Lexicon => "lexicon",
            Stage::Model => "model",
            Stage::LexiconOverModel => "lexicon+model",
        }
    }
}

/// A review of one message: the verdict, the stage that decided it, and the terms the lexicon
/// matched (for the case log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub verdict: Verdict,
    pub stage: Stage,
    /// The lexicon's matched terms; empty when it found nothing.
    pub evidence: Vec<String>,
}

impl Review {
    /// The verdict of a conclusive lexical screening (see [`Screening::is_conclusive`]): its
    /// category, high severity for threats, self-harm and hate, medium otherwise.
    pub fn from_lexicon(screening: Screening) -> Self {
        let severity = match screening.category {
            CaseCategory::Violence | CaseCategory::SelfHarm | CaseCategory::Hate => Severity::High,
            _ => Severity::Medium,
        };
        Self {
            verdict: Verdict {
                category: Category::from_case_category(screening.category),
                severity,
            },
            stage: Stage::Lexicon,
            evidence: screening.evidence,
        }
    }

    /// The model's verdict combined with an inconclusive screening: a weak lexical match labels
    /// a message the model found nothing wrong with, at low severity; otherwise the model's
    /// verdict stands.
    pub fn combine(model: Verdict, screening: Screening) -> Self {
        if !model.flags() && screening.flags() {
            Self {
                verdict: Verdict {
                    category: Category::from_case_category(screening.category),
                    severity: Severity::Low,
                },
                stage: Stage::LexiconOverModel,
                evidence: screening.evidence,
            }
        } else {
            Self {
                verdict: model,
                stage: Stage::Model,
                evidence: screening.evidence,
            }
        }
    }

    /// The review in words for the case log: who labelled it, and the matched terms.
    pub fn reason(&self) -> String {
        let labels = format!(
            "{} ({})",
            self.verdict.category.as_str(),
            self.verdict.severity.as_str()
        );
        let terms = self
            .evidence
            .iter()
            .map(|term| format!("\"{term}\""))
            .collect::<Vec<_>>()
            .join(", ");
        match self.stage {
            Stage::Lexicon => format!("the lexicon labelled it {labels}, matching {terms}"),
            Stage::Model if terms.is_empty() => format!("the model labelled it {labels}"),
            Stage::Model => format!("the model labelled it {labels} (lexicon: {terms})"),
            Stage::LexiconOverModel => format!(
                "the model found nothing; the lexicon labelled it {labels}, matching {terms}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::moderation::screen::Confidence;

    fn screening(category: CaseCategory, confidence: Confidence, term: &str) -> Screening {
        Screening {
            category,
            confidence,
            evidence: vec![term.to_string()],
        }
    }

    /// A strong lexical match decides alone: threats, self-harm and hate are high, the rest
    /// medium; the stage and the terms reach the case log.
    #[test]
    fn a_conclusive_screening_is_the_verdict() {
        let threat = Review::from_lexicon(screening(
            CaseCategory::Violence,
            Confidence::High,
            "i will kill you",
        ));
        assert_eq!(
            threat.verdict,
            Verdict {
                category: Category::Violence,
                severity: Severity::High
            }
        );
        assert_eq!(threat.stage, Stage::Lexicon);
        assert_eq!(
            threat.reason(),
            "the lexicon labelled it violence (high), matching \"i will kill you\""
        );
        let injection = Review::from_lexicon(screening(
            CaseCategory::PromptInjection,
            Confidence::High,
            "ignore all previous instructions",
        ));
        assert_eq!(
            injection.verdict.category.case_category(),
            CaseCategory::PromptInjection
        );
        assert_eq!(injection.verdict.severity, Severity::Medium);
        assert!(injection.verdict.flags());
    }

    /// A weak lexical match turns the model's "none" into its category at low severity, and
    /// never overrides a label the model did give.
    #[test]
    fn a_weak_screening_only_fills_in_for_a_silent_model() {
        let none = Verdict {
            category: Category::None,
            severity: Severity::None,
        };
        let weak = screening(CaseCategory::Harassment, Confidence::Low, "idiot");
        let upgraded = Review::combine(none, weak.clone());
        assert_eq!(upgraded.verdict.category, Category::Harassment);
        assert_eq!(upgraded.verdict.severity, Severity::Low);
        assert_eq!(upgraded.stage, Stage::LexiconOverModel);
        let spam = Verdict {
            category: Category::Spam,
            severity: Severity::Medium,
        };
        let kept = Review::combine(spam, weak);
        assert_eq!((kept.verdict, kept.stage), (spam, Stage::Model));
        let clean = Review::combine(none, Screening::clean());
        assert_eq!((clean.verdict, clean.stage), (none, Stage::Model));
        assert_eq!(clean.reason(), "the model labelled it none (none)");
    }
}
