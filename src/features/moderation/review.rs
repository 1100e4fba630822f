//! The model's review of one message: a category and a severity, as constrained JSON. The
//! output is a closed set of labels, so whatever a message says to the model, the most it can
//! produce is a label; what happens next is decided by [`super::policy`].

use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::core::CaseCategory;
use crate::llm::{generate_structured, ChatRequest, Engine, LlmError, Priority};
use crate::prompts::{ModerationReview, Prompts};

/// What the model thinks a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    None,
    Spam,
    Scam,
    Harassment,
    Hate,
    Sexual,
    Violence,
    SelfHarm,
    Other,
}

impl Category {
    /// The case category this label files a case under.
    pub fn case_category(self) -> CaseCategory {
        match self {
            Category::None => CaseCategory::None,
            Category::Spam => CaseCategory::Spam,
            Category::Scam => CaseCategory::Scam,
            Category::Harassment => CaseCategory::Harassment,
            Category::Hate => CaseCategory::Hate,
            Category::Sexual => CaseCategory::Sexual,
            Category::Violence => CaseCategory::Violence,
            Category::SelfHarm => CaseCategory::SelfHarm,
            Category::Other => CaseCategory::Other,
        }
    }

    /// Stable label, as the model writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::None => "none",
            Category::Spam => "spam",
            Category::Scam => "scam",
            Category::Harassment => "harassment",
            Category::Hate => "hate",
            Category::Sexual => "sexual",
            Category::Violence => "violence",
            Category::SelfHarm => "self_harm",
            Category::Other => "other",
        }
    }
}

/// How bad the model thinks it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// The model's verdict on one message. Unknown fields are refused, which also makes the schema
/// say `additionalProperties: false`, so constrained decoding closes the object after the two
/// labels (without it the small model kept inventing fields until its token budget ran out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub category: Category,
    pub severity: Severity,
}

impl Verdict {
    /// A verdict that something is wrong (a category other than none, severity above none).
    pub fn flags(&self) -> bool {
        self.category != Category::None && self.severity > Severity::None
    }
}

/// The JSON is two labels; this leaves room for whitespace without letting a run-away
/// generation cost much.
const REVIEW_MAX_TOKENS: usize = 40;
/// Messages longer than this are reviewed by their start (the model's context is small).
const REVIEW_MAX_CHARS: usize = 1500;

/// Asks the model about messages.
pub struct Reviewer {
    engine: Arc<dyn Engine>,
    prompts: Arc<Prompts>,
    timeout: Duration,
}

impl Reviewer {
    pub fn new(engine: Arc<dyn Engine>, prompts: Arc<Prompts>, timeout: Duration) -> Self {
        Self {
            engine,
            prompts,
            timeout,
        }
    }

    /// The request for reviewing `text` in `community`.
    pub fn request(&self, community: &str, text: &str) -> ChatRequest {
        let system = self
            .prompts
            .render("moderation_review.txt", ModerationReview { community })
            .expect("moderation_review.txt renders (checked by tests)");
        let excerpt: String = text.chars().take(REVIEW_MAX_CHARS).collect();
        // Fenced and labelled, so the model reads it as the thing to classify.
        let user = format!("Message to classify:\n<<<\n{excerpt}\n>>>");
        // Members waiting for answers come first; a review can wait.
        ChatRequest::new(system, user)
            .with_max_new_tokens(REVIEW_MAX_TOKENS)
            .with_deadline(self.timeout)
            .with_priority(Priority::Moderation)
    }

    /// The model's verdict on `text`.
    pub async fn review(&self, community: &str, text: &str) -> Result<Verdict, LlmError> {
        generate_structured(self.engine.as_ref(), self.request(community, text)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_parse_from_labels_only() {
        let verdict: Verdict =
            serde_json::from_str(r#"{"category": "self_harm", "severity": "high"}"#).unwrap();
        assert_eq!(
            verdict,
            Verdict {
                category: Category::SelfHarm,
                severity: Severity::High
            }
        );
        assert!(verdict.flags());
        for not_a_label in [
            r#"{"category": "ban", "severity": "high"}"#,
            r#"{"category": "spam", "severity": "extreme"}"#,
            r#"{"category": "spam"}"#,
            r#"{"category": "spam", "severity": "high", "action": "ban"}"#,
        ] {
            assert!(
                serde_json::from_str::<Verdict>(not_a_label).is_err(),
                "{not_a_label}"
            );
        }
        let none: Verdict =
            serde_json::from_str(r#"{"category": "spam", "severity": "none"}"#).unwrap();
        assert!(!none.flags());
    }

    #[test]
    fn schema_is_a_closed_set() {
        let schema = serde_json::to_string(&schemars::schema_for!(Verdict)).unwrap();
        for label in ["\"none\"", "\"self_harm\"", "\"high\""] {
            assert!(schema.contains(label), "{schema}");
        }
        assert!(!schema.contains("\"action\""), "{schema}");
        assert!(
            schema.contains("\"additionalProperties\":false"),
            "{schema}"
        );
    }
}
