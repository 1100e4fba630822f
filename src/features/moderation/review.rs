//! The model's review of one message: a category and a severity, as constrained JSON. The
//! output is a closed set of labels, so whatever a message says to the model, the most it can
//! produce is a label; what happens next is decided by [`super::policy`].
//!
//! The lexical stage ([`super::screen`]) reads the message first: a strong match (a slur, an
//! explicit threat, a known scam or injection phrase) is the verdict without asking the model;
//! otherwise the model is asked, and a weak match labels a message the model found nothing wrong
//! with, at low severity. [`Review`] records which stage decided and the matched terms.

use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

pub use super::assessment::{Review, Stage};
use super::screen::screen;
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
    /// Text aimed at the bot's instructions. Only the lexicon files this label: it is not in
    /// the model's schema and never parses from the model's output.
    #[serde(skip)]
    PromptInjection,
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
            Category::PromptInjection => CaseCategory::PromptInjection,
        }
    }

    /// The label for a case category (the lexicon's findings); categories only rules file
    /// (flood, links...) are `Other`.
    pub fn from_case_category(category: CaseCategory) -> Self {
        match category {
            CaseCategory::None => Category::None,
            CaseCategory::Spam => Category::Spam,
            CaseCategory::Scam => Category::Scam,
            CaseCategory::Harassment => Category::Harassment,
            CaseCategory::Hate => Category::Hate,
            CaseCategory::Sexual => Category::Sexual,
            CaseCategory::Violence => Category::Violence,
            CaseCategory::SelfHarm => Category::SelfHarm,
            CaseCategory::PromptInjection => Category::PromptInjection,
            _ => Category::Other,
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
            Category::PromptInjection => "prompt_injection",
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

/// The model's verdict when the community has its own rules: the two labels and the number of
/// the rule the message breaks (0: none). Only a number: it is checked against the list's
/// length and never read as text, so a message cannot steer anything through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuledVerdict {
    pub category: Category,
    pub severity: Severity,
    /// Optional for the parser (a model that leaves it out named no rule).
    #[serde(default)]
    pub rule: u8,
}

impl RuledVerdict {
    /// The labels, and the rule as a 1-based index into a list of `rules` rules: 0 or a
    /// number past the end is none.
    pub fn split(self, rules: usize) -> (Verdict, Option<u32>) {
        let verdict = Verdict {
            category: self.category,
            severity: self.severity,
        };
        let rule = (1..=rules)
            .contains(&usize::from(self.rule))
            .then_some(u32::from(self.rule));
        (verdict, rule)
    }
}

/// The rule's number: a few more tokens than the two labels.
const RULE_EXTRA_TOKENS: usize = 8;

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
        self.request_with_rules(community, &[], text)
    }

    /// The request for reviewing `text` against the community's own `rules` (numbered in the
    /// prompt; none: the plain review).
    pub fn request_with_rules(&self, community: &str, rules: &[String], text: &str) -> ChatRequest {
        let system = self
            .prompts
            .render(
                "moderation_review.txt",
                ModerationReview { community, rules },
            )
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

    /// The verdict on `text`: the lexicon's when it is conclusive, else the model's combined
    /// with the lexicon's weak signs (see [`Reviewer::assess`] for the stage and the terms).
    pub async fn review(&self, community: &str, text: &str) -> Result<Verdict, LlmError> {
        Ok(self.assess(community, text).await?.verdict)
    }

    /// [`Reviewer::review`] against the community's own `rules`, and the number of the rule
    /// the model names (1-based; 0 or past the end of the list: `None`; none when the lexicon
    /// decided without the model).
    pub async fn review_with_rules(
        &self,
        community: &str,
        rules: &[String],
        text: &str,
    ) -> Result<(Verdict, Option<u32>), LlmError> {
        let (review, rule) = self.assess_with_rules(community, rules, text).await?;
        Ok((review.verdict, rule))
    }

    /// The review of `text`: the lexical stage first, the model only when the lexicon is not
    /// conclusive.
    pub async fn assess(&self, community: &str, text: &str) -> Result<Review, LlmError> {
        Ok(self.assess_with_rules(community, &[], text).await?.0)
    }

    /// [`Reviewer::assess`] against the community's own `rules`, and the rule the model names.
    pub async fn assess_with_rules(
        &self,
        community: &str,
        rules: &[String],
        text: &str,
    ) -> Result<(Review, Option<u32>), LlmError> {
        let screening = screen(text);
        if screening.is_conclusive() {
            return Ok((Review::from_lexicon(screening), None));
        }
        let (model, rule) = self.review_model_with_rules(community, rules, text).await?;
        Ok((Review::combine(model, screening), rule))
    }

    /// The model's verdict on `text` alone, without the lexicon.
    pub async fn review_model(&self, community: &str, text: &str) -> Result<Verdict, LlmError> {
        generate_structured(self.engine.as_ref(), self.request(community, text)).await
    }

    /// The model's verdict on `text` against the community's own `rules`, without the lexicon,
    /// and the number of the rule it names. Without rules this is [`Reviewer::review_model`]:
    /// the small model gets the shorter schema.
    pub async fn review_model_with_rules(
        &self,
        community: &str,
        rules: &[String],
        text: &str,
    ) -> Result<(Verdict, Option<u32>), LlmError> {
        if rules.is_empty() {
            return Ok((self.review_model(community, text).await?, None));
        }
        let request = self
            .request_with_rules(community, rules, text)
            .with_max_new_tokens(REVIEW_MAX_TOKENS + RULE_EXTRA_TOKENS);
        let ruled: RuledVerdict = generate_structured(self.engine.as_ref(), request).await?;
        Ok(ruled.split(rules.len()))
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

    /// The rule is a number checked against the list: rule 9 of 3 is none, and nothing but a
    /// number parses.
    #[test]
    fn a_ruled_verdict_names_a_rule_of_the_list_or_none() {
        let parse = |json: &str| serde_json::from_str::<RuledVerdict>(json);
        let ruled = parse(r#"{"category": "spam", "severity": "medium", "rule": 2}"#).unwrap();
        let (verdict, rule) = ruled.split(3);
        assert_eq!(verdict.category, Category::Spam);
        assert_eq!(rule, Some(2));
        let nine = parse(r#"{"category": "spam", "severity": "medium", "rule": 9}"#).unwrap();
        assert_eq!(nine.split(3).1, None);
        assert_eq!(ruled.split(0).1, None);
        let zero = parse(r#"{"category": "none", "severity": "none", "rule": 0}"#).unwrap();
        assert_eq!(zero.split(3).1, None);
        let left_out = parse(r#"{"category": "spam", "severity": "low"}"#).unwrap();
        assert_eq!(left_out.split(3).1, None);
        for not_a_number in [
            r#"{"category": "spam", "severity": "low", "rule": "ban everyone"}"#,
            r#"{"category": "spam", "severity": "low", "rule": -1}"#,
            r#"{"category": "spam", "severity": "low", "rule": 2, "action": "ban"}"#,
        ] {
            assert!(parse(not_a_number).is_err(), "{not_a_number}");
        }
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
        // Only the lexicon files prompt injection: the model can neither choose nor write it.
        assert!(!schema.contains("prompt_injection"), "{schema}");
        assert!(serde_json::from_str::<Verdict>(
            r#"{"category": "prompt_injection", "severity": "high"}"#
        )
        .is_err());
    }
}
