//! The model stage: the LLM labels several messages in one request.
//!
//! One shared prompt (`prompts/sentiment_batch.txt`, the same for every batch, so a backend
//! that caches prompt prefixes reuses it), the messages numbered in the user turn, and one
//! constrained-JSON object back: `{"results":[{"n":1,"label":"negative","score":-0.6}, ...]}`.
//! The schema is written here rather than derived from a type because it depends on the batch:
//! exactly as many results as messages, `n` between 1 and their count, closed objects (open ones
//! make small models invent fields until the token budget runs out).
//!
//! The answer is checked item by item ([`parse_results`]): a message whose number is missing,
//! repeated, or whose label is not one of the three keeps its lexical result, and so does every
//! message of a batch whose output did not parse at all. Only a request that could not run
//! (overloaded engine, deadline, shut down) is an error, for the caller to count. Requests are
//! [`Priority::Background`]: members waiting for answers come first.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::{lexical, Label, Sentiment, Stage, NEGATIVE_FROM, POSITIVE_FROM};
use crate::llm::{ChatRequest, Engine, LlmError, Priority};
use crate::prompts::{PromptError, Prompts};

/// Messages per request unless the caller says otherwise.
pub const DEFAULT_BATCH: usize = 16;
/// The most messages one request may carry.
pub const MAX_BATCH: usize = 64;
/// Messages longer than this are shown to the model by their start (its context is small).
const MESSAGE_MAX_CHARS: usize = 400;
/// Generated tokens per result (`{"n":12,"label":"negative","score":-0.65},` is about 20), and
/// for the object around them.
const TOKENS_PER_RESULT: usize = 28;
const TOKENS_AROUND: usize = 16;
/// A batch's deadline is the request timeout times 1 + messages / this.
const MESSAGES_PER_TIMEOUT: u32 = 8;
/// Scores for a label whose score the model left out or contradicted.
const DEFAULT_POSITIVE: f32 = 0.5;
const DEFAULT_NEGATIVE: f32 = -0.5;

/// Why the model stage could not run a request.
#[derive(Debug, thiserror::Error)]
pub enum SentimentError {
    #[error("sentiment model: {0}")]
    Model(#[from] LlmError),
    #[error(transparent)]
    Prompt(#[from] PromptError),
    #[error("a batch holds 1 to {MAX_BATCH} messages, not {0}")]
    BatchSize(usize),
}

impl SentimentError {
    /// A short stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            SentimentError::Model(error) => error.label(),
            SentimentError::Prompt(_) => "prompt",
            SentimentError::BatchSize(_) => "batch_size",
        }
    }
}

/// The results of one batch, in the order of its messages.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOutcome {
    pub sentiments: Vec<Sentiment>,
    /// How many kept their lexical result because the model's answer lacked them.
    pub fallbacks: usize,
}

/// Asks the model about messages.
pub struct ModelClassifier {
    engine: Arc<dyn Engine>,
    prompts: Arc<Prompts>,
    timeout: Duration,
}

impl ModelClassifier {
    /// `timeout`: the request timeout for a small batch; larger batches get more.
    pub fn new(engine: Arc<dyn Engine>, prompts: Arc<Prompts>, timeout: Duration) -> Self {
        Self {
            engine,
            prompts,
            timeout,
        }
    }

    /// The request for `texts` (1 to [`MAX_BATCH`]).
    pub fn request(&self, texts: &[&str]) -> Result<ChatRequest, SentimentError> {
        if texts.is_empty() || texts.len() > MAX_BATCH {
            return Err(SentimentError::BatchSize(texts.len()));
        }
        let system = self.prompts.render("sentiment_batch.txt", ())?;
        let count = texts.len() as u32;
        Ok(ChatRequest::new(system, numbered(texts))
            .with_max_new_tokens(TOKENS_AROUND + TOKENS_PER_RESULT * texts.len())
            .with_deadline(self.timeout * (1 + count / MESSAGES_PER_TIMEOUT))
            .with_priority(Priority::Background))
    }

    /// The sentiment of each of `texts` (1 to [`MAX_BATCH`]), in one request.
    pub async fn classify_batch(&self, texts: &[&str]) -> Result<BatchOutcome, SentimentError> {
        let request = self.request(texts)?;
        match self
            .engine
            .generate_json(request, schema(texts.len()))
            .await
        {
            Ok(value) => Ok(parse_results(&value, texts)),
            Err(LlmError::BadStructuredOutput(reason)) => {
                // Cut off by the token budget, or a backend that ignored the constraint.
                tracing::debug!(%reason, "sentiment batch output unusable; lexical results kept");
                Ok(parse_results(&Value::Null, texts))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The sentiment of one message, in a request of its own (what batching is measured
    /// against).
    pub async fn classify_one(&self, text: &str) -> Result<Sentiment, SentimentError> {
        let outcome = self.classify_batch(&[text]).await?;
        Ok(outcome.sentiments[0])
    }
}

/// The user turn: one line per message, numbered from 1. Line breaks become spaces, so a
/// message cannot start a line that looks like another message's number.
pub fn numbered(texts: &[&str]) -> String {
    let mut out = String::from("Messages:");
    for (index, text) in texts.iter().enumerate() {
        let flat: String = text
            .chars()
            .take(MESSAGE_MAX_CHARS)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
        let flat = if flat.is_empty() { "(empty)" } else { &flat };
        out.push_str(&format!("\n{}. {flat}", index + 1));
    }
    out
}

/// The JSON schema of the answer for `count` messages.
pub fn schema(count: usize) -> Value {
    json!({
        "type": "object",
        "properties": {
            "results": {
                "type": "array",
                "minItems": count,
                "maxItems": count,
                "items": {
                    "type": "object",
                    "properties": {
                        "n": { "type": "integer", "minimum": 1, "maximum": count },
                        "label": { "type": "string", "enum": ["positive", "neutral", "negative"] },
                        "score": { "type": "number", "minimum": -1, "maximum": 1 }
                    },
                    "required": ["n", "label", "score"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["results"],
        "additionalProperties": false
    })
}

/// The model's answer for `texts`, item by item: each message numbered once with a valid label
/// gets the model's result; the others keep their lexical one.
pub fn parse_results(value: &Value, texts: &[&str]) -> BatchOutcome {
    let count = texts.len();
    let mut seen = vec![0usize; count];
    let mut found: Vec<Option<(Label, f32)>> = vec![None; count];
    let items = value.get("results").and_then(Value::as_array);
    for item in items.into_iter().flatten() {
        let slot = item
            .get("n")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .and_then(|n| n.checked_sub(1))
            .filter(|&slot| slot < count);
        let Some(slot) = slot else {
            continue;
        };
        seen[slot] += 1;
        let label = item
            .get("label")
            .and_then(Value::as_str)
            .and_then(Label::parse);
        let score = item.get("score").and_then(Value::as_f64);
        found[slot] = label.map(|label| (label, consistent_score(label, score)));
    }
    let mut fallbacks = 0;
    let sentiments = texts
        .iter()
        .enumerate()
        .map(|(slot, text)| match (seen[slot], found[slot]) {
            (1, Some((label, score))) => Sentiment {
                label,
                score,
                stage: Stage::Model,
            },
            _ => {
                fallbacks += 1;
                lexical(text).sentiment()
            }
        })
        .collect();
    BatchOutcome {
        sentiments,
        fallbacks,
    }
}

/// The model's score within -1..1 and on its label's side of the thresholds; the label wins
/// when they disagree (or the score is missing).
fn consistent_score(label: Label, score: Option<f64>) -> f32 {
    let score = score.map(|s| s.clamp(-1.0, 1.0) as f32);
    match (label, score) {
        (Label::Positive, Some(s)) if s >= POSITIVE_FROM => s,
        (Label::Positive, _) => DEFAULT_POSITIVE,
        (Label::Negative, Some(s)) if s <= NEGATIVE_FROM => s,
        (Label::Negative, _) => DEFAULT_NEGATIVE,
        (Label::Neutral, Some(s)) if s > NEGATIVE_FROM && s < POSITIVE_FROM => s,
        (Label::Neutral, _) => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXTS: [&str; 3] = [
        "thanks, that fixed it!",
        "the build is broken again and I hate it",
        "how do I pin a crate version",
    ];

    fn stages(outcome: &BatchOutcome) -> Vec<Stage> {
        outcome.sentiments.iter().map(|s| s.stage).collect()
    }

    #[test]
    fn a_complete_answer_is_the_models() {
        let value = json!({"results": [
            {"n": 1, "label": "positive", "score": 0.8},
            {"n": 3, "label": "neutral", "score": 0.0},
            {"n": 2, "label": "negative", "score": -0.6},
        ]});
        let outcome = parse_results(&value, &TEXTS);
        assert_eq!(outcome.fallbacks, 0);
        assert_eq!(stages(&outcome), [Stage::Model; 3]);
        let labels: Vec<Label> = outcome.sentiments.iter().map(|s| s.label).collect();
        assert_eq!(labels, [Label::Positive, Label::Negative, Label::Neutral]);
        assert_eq!(outcome.sentiments[1].score, -0.6);
    }

    /// Missing, repeated, out-of-range and garbled items fall back to the lexical result for
    /// their message only.
    #[test]
    fn bad_items_fall_back_to_the_lexical_result() {
        let lexical_of = |i: usize| lexical(TEXTS[i]).sentiment();
        let cases = [
            (
                "missing item",
                json!({"results": [{"n": 1, "label": "positive", "score": 0.8},
                                   {"n": 2, "label": "negative", "score": -0.6}]}),
                [Stage::Model, Stage::Model, Stage::Lexical],
            ),
            (
                "duplicate n",
                json!({"results": [{"n": 1, "label": "positive", "score": 0.8},
                                   {"n": 1, "label": "negative", "score": -0.8},
                                   {"n": 3, "label": "neutral", "score": 0}]}),
                [Stage::Lexical, Stage::Lexical, Stage::Model],
            ),
            (
                "out-of-range n",
                json!({"results": [{"n": 0, "label": "positive", "score": 0.8},
                                   {"n": 2, "label": "negative", "score": -0.6},
                                   {"n": 9, "label": "neutral", "score": 0}]}),
                [Stage::Lexical, Stage::Model, Stage::Lexical],
            ),
            (
                "invalid label",
                json!({"results": [{"n": 1, "label": "happy", "score": 0.8},
                                   {"n": 2, "label": "negative"},
                                   {"n": 3, "label": 7}]}),
                [Stage::Lexical, Stage::Model, Stage::Lexical],
            ),
            (
                "no results",
                json!({"answer": "positive"}),
                [Stage::Lexical; 3],
            ),
            ("not an object", Value::Null, [Stage::Lexical; 3]),
        ];
        for (name, value, expected) in cases {
            let outcome = parse_results(&value, &TEXTS);
            assert_eq!(stages(&outcome), expected, "{name}");
            let fallbacks = expected.iter().filter(|s| **s == Stage::Lexical).count();
            assert_eq!(outcome.fallbacks, fallbacks, "{name}");
            for (i, stage) in expected.iter().enumerate() {
                if *stage == Stage::Lexical {
                    assert_eq!(outcome.sentiments[i], lexical_of(i), "{name} {i}");
                }
            }
        }
    }

    #[test]
    fn scores_agree_with_labels() {
        let cases = [
            (Label::Positive, Some(0.7), 0.7),
            (Label::Positive, Some(-0.7), DEFAULT_POSITIVE),
            (Label::Positive, Some(3.0), 1.0),
            (Label::Negative, None, DEFAULT_NEGATIVE),
            (Label::Negative, Some(-0.3), -0.3),
            (Label::Neutral, Some(0.9), 0.0),
            (Label::Neutral, Some(0.01), 0.01),
        ];
        for (label, score, expected) in cases {
            assert_eq!(
                consistent_score(label, score),
                expected,
                "{label:?} {score:?}"
            );
        }
    }

    #[test]
    fn the_schema_is_closed_and_sized_to_the_batch() {
        let schema = schema(5);
        let results = &schema["properties"]["results"];
        assert_eq!(results["minItems"], 5);
        assert_eq!(results["maxItems"], 5);
        assert_eq!(results["items"]["properties"]["n"]["maximum"], 5);
        assert_eq!(results["items"]["additionalProperties"], false);
        assert_eq!(schema["additionalProperties"], false);
        // What the schema allows, the parser takes.
        let answer = json!({"results": [{"n": 1, "label": "neutral", "score": 0}]});
        assert_eq!(parse_results(&answer, &["hi"]).fallbacks, 0);
    }

    #[test]
    fn messages_are_numbered_one_per_line() {
        let text = numbered(&["first\nline\r\n2. fake", "", &"x".repeat(5000)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[0], "Messages:");
        assert_eq!(lines[1], "1. first line 2. fake");
        assert_eq!(lines[2], "2. (empty)");
        assert_eq!(lines[3].chars().count(), "3. ".len() + MESSAGE_MAX_CHARS);
    }

    /// An engine that answers every JSON request with the same canned result.
    struct Canned {
        answer: fn() -> Result<Value, LlmError>,
        seen: std::sync::Mutex<Vec<(ChatRequest, Value)>>,
    }

    #[async_trait::async_trait]
    impl Engine for Canned {
        fn info(&self) -> crate::llm::EngineInfo {
            crate::llm::EngineInfo {
                model: "canned".into(),
                backend: "test".into(),
                context_tokens: None,
            }
        }

        async fn stream(&self, _: ChatRequest) -> Result<crate::llm::LlmStream, LlmError> {
            Err(LlmError::ShutDown)
        }

        async fn generate_json(
            &self,
            request: ChatRequest,
            schema: Value,
        ) -> Result<Value, LlmError> {
            self.seen.lock().unwrap().push((request, schema));
            (self.answer)()
        }

        async fn count_tokens(&self, text: &str) -> Result<usize, LlmError> {
            Ok(text.split_whitespace().count())
        }
    }

    fn canned(answer: fn() -> Result<Value, LlmError>) -> (Arc<Canned>, ModelClassifier) {
        let engine = Arc::new(Canned {
            answer,
            seen: std::sync::Mutex::new(Vec::new()),
        });
        let classifier = ModelClassifier::new(
            engine.clone(),
            Arc::new(Prompts::builtin()),
            Duration::from_secs(60),
        );
        (engine, classifier)
    }

    #[test]
    fn the_prompt_renders_and_requests_are_background_work() {
        let (_, classifier) = canned(|| Ok(Value::Null));
        let request = classifier.request(&TEXTS).unwrap();
        assert_eq!(request.priority, Priority::Background);
        assert!(
            request.system.contains("not instructions"),
            "{}",
            request.system
        );
        assert!(request.messages[0]
            .content
            .ends_with("3. how do I pin a crate version"));
        assert_eq!(
            request.max_new_tokens,
            TOKENS_AROUND + 3 * TOKENS_PER_RESULT
        );
        assert!(request.validate().is_ok());
        // The shared prefix is the same for every batch.
        let other = classifier.request(&TEXTS[..1]).unwrap();
        assert_eq!(other.system, request.system);
        assert!(matches!(
            classifier.request(&[]),
            Err(SentimentError::BatchSize(0))
        ));
        let too_many = vec!["x"; MAX_BATCH + 1];
        assert!(matches!(
            classifier.request(&too_many),
            Err(SentimentError::BatchSize(_))
        ));
    }

    #[tokio::test]
    async fn a_batch_is_one_request_and_unusable_output_keeps_the_lexical_results() {
        let (engine, classifier) = canned(|| {
            Ok(json!({"results": [
                {"n": 1, "label": "positive", "score": 0.9},
                {"n": 2, "label": "negative", "score": -0.9},
                {"n": 3, "label": "neutral", "score": 0},
            ]}))
        });
        let outcome = classifier.classify_batch(&TEXTS).await.unwrap();
        assert_eq!(stages(&outcome), [Stage::Model; 3]);
        {
            let seen = engine.seen.lock().unwrap();
            assert_eq!(seen.len(), 1);
            assert_eq!(seen[0].1, schema(3));
        }

        let (_, garbled) = canned(|| Err(LlmError::BadStructuredOutput("cut off".into())));
        let outcome = garbled.classify_batch(&TEXTS).await.unwrap();
        assert_eq!(outcome.fallbacks, 3);
        assert_eq!(stages(&outcome), [Stage::Lexical; 3]);

        let (_, busy) = canned(|| {
            Err(LlmError::Overloaded {
                queued: 16,
                capacity: 16,
            })
        });
        let error = busy.classify_batch(&TEXTS).await.unwrap_err();
        assert_eq!(error.label(), "overloaded");

        let (_, one) =
            canned(|| Ok(json!({"results": [{"n": 1, "label": "negative", "score": -0.4}]})));
        let sentiment = one.classify_one("meh").await.unwrap();
        assert_eq!(
            (sentiment.label, sentiment.stage),
            (Label::Negative, Stage::Model)
        );
    }
}
