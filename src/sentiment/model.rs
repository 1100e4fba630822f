//! The model stage: the LLM labels several messages in one request, one character each.
//!
//! One shared prompt (`prompts/sentiment_batch.txt`, the same for every batch, so a backend
//! that caches prompt prefixes reuses it), the messages numbered in the user turn, and one
//! constrained-JSON object back: `{"labels":"+0-"}`, one character per message in their order
//! (`+` positive, `0` neutral, `-` negative). The schema ([`schema`]) pins the string to exactly
//! as many characters as messages (`pattern: ^[-+0]{N}$`), closes the object (open ones make
//! small models invent fields until the token budget runs out) and turns llguidance's flexible
//! whitespace off, so the whole answer is `{"labels":"` + N characters + `"}`: about N + 6
//! generated tokens, where a JSON object per message (`{"n":3,"label":"negative",
//! "score":-0.6}`) cost ~20 tokens each and made a batch cost as much as one request per
//! message (measured: 1.06x).
//!
//! The model gives no score: a label's score is derived from the label and the lexical
//! stage's strength ([`model_score`]). The answer is checked item by item ([`parse_labels`]): a
//! character outside the alphabet keeps its message's lexical result; a string of the wrong
//! length (a backend that ignored the constraint) keeps all of them, since only its position
//! ties a character to a message. Only a request that could not run (overloaded engine,
//! deadline, shut down) is an error, for the caller to count. Requests are
//! [`Priority::Background`]: members waiting for answers come first.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::{lexical, Label, LexicalScore, Sentiment, Stage};
use crate::llm::{ChatRequest, Engine, LlmError, Priority};
use crate::prompts::{PromptError, Prompts};

/// Messages per request unless the caller says otherwise.
pub const DEFAULT_BATCH: usize = 16;
/// The most messages one request may carry.
pub const MAX_BATCH: usize = 64;
/// Messages longer than this are shown to the model by their start (its context is small).
const MESSAGE_MAX_CHARS: usize = 400;
/// Generated tokens around the labels: `{"labels":"` and `"}` are at most 13 single-character
/// tokens, plus the end token; the rest is slack for a remote backend that ignores the
/// whitespace option. Each label is one ASCII character, so at most one token.
const TOKENS_AROUND: usize = 24;
/// A batch's deadline is the request timeout times 1 + messages / this.
const MESSAGES_PER_TIMEOUT: u32 = 8;
/// The key of the answer's one field.
const LABELS_KEY: &str = "labels";
/// The score a model label starts from before the lexical strength is blended in.
pub const LABEL_SCORE: f32 = 0.6;

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

/// Asks the model about messages. Cheap to clone (the engine and prompts are shared).
#[derive(Clone)]
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
            .with_max_new_tokens(TOKENS_AROUND + texts.len())
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
            Ok(value) => Ok(parse_labels(&value, texts)),
            Err(LlmError::BadStructuredOutput(reason)) => {
                // Cut off by the token budget, or a backend that ignored the constraint.
                tracing::debug!(%reason, "sentiment batch output unusable; lexical results kept");
                Ok(parse_labels(&Value::Null, texts))
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

/// The JSON schema of the answer for `count` messages: one string of exactly `count`
/// characters of `+`, `0` and `-` under `labels`, in a closed object, without optional
/// whitespace (`x-guidance` is llguidance's option block, which mistral.rs reads; other
/// validators ignore unknown keywords). The pattern alone fixes the length: `minLength` and
/// `maxLength` beside it would make llguidance intersect two regexes and check the result for
/// emptiness on every request.
pub fn schema(count: usize) -> Value {
    json!({
        "type": "object",
        "properties": {
            LABELS_KEY: {
                "type": "string",
                "pattern": format!("^[-+0]{{{count}}}$")
            }
        },
        "required": [LABELS_KEY],
        "additionalProperties": false,
        "x-guidance": { "whitespace_flexible": false }
    })
}

/// The label a character of the answer stands for.
pub fn label_of(symbol: char) -> Option<Label> {
    match symbol {
        '+' => Some(Label::Positive),
        '0' => Some(Label::Neutral),
        '-' => Some(Label::Negative),
        _ => None,
    }
}

/// The model's answer for `texts`, item by item: each message whose character is one of the
/// three gets the model's label; the others keep their lexical result. A string whose length
/// is not the number of messages (or no string at all) keeps every lexical result.
pub fn parse_labels(value: &Value, texts: &[&str]) -> BatchOutcome {
    let symbols: Option<Vec<char>> = value
        .get(LABELS_KEY)
        .and_then(Value::as_str)
        .map(|labels| labels.chars().collect())
        .filter(|symbols: &Vec<char>| symbols.len() == texts.len());
    let mut fallbacks = 0;
    let sentiments = texts
        .iter()
        .enumerate()
        .map(|(slot, text)| {
            let score = lexical(text);
            let label = symbols
                .as_ref()
                .and_then(|symbols| symbols.get(slot).copied())
                .and_then(label_of);
            match label {
                Some(label) => Sentiment {
                    label,
                    score: model_score(label, &score),
                    stage: Stage::Model,
                },
                None => {
                    fallbacks += 1;
                    score.sentiment()
                }
            }
        })
        .collect();
    BatchOutcome {
        sentiments,
        fallbacks,
    }
}

/// The score of a model label: neutral is 0; positive is the mean of [`LABEL_SCORE`] and the
/// lexical score's magnitude (0.3 when the words say nothing, up to 0.8 when they are strong),
/// negative the same below 0. So the score always lies on its label's side of the thresholds,
/// and a label the words agree with strongly weighs more in averages than one they do not.
pub fn model_score(label: Label, lexical: &LexicalScore) -> f32 {
    let strength = (LABEL_SCORE + lexical.score.abs().min(1.0)) / 2.0;
    match label {
        Label::Positive => strength,
        Label::Neutral => 0.0,
        Label::Negative => -strength,
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

    fn labels(outcome: &BatchOutcome) -> Vec<Label> {
        outcome.sentiments.iter().map(|s| s.label).collect()
    }

    #[test]
    fn a_complete_answer_is_the_models() {
        let outcome = parse_labels(&json!({"labels": "+-0"}), &TEXTS);
        assert_eq!(outcome.fallbacks, 0);
        assert_eq!(stages(&outcome), [Stage::Model; 3]);
        assert_eq!(
            labels(&outcome),
            [Label::Positive, Label::Negative, Label::Neutral]
        );
        assert_eq!(outcome.sentiments[2].score, 0.0);
        // The model may disagree with the words; its label wins.
        let outcome = parse_labels(&json!({"labels": "-+0"}), &TEXTS);
        assert_eq!(
            labels(&outcome),
            [Label::Negative, Label::Positive, Label::Neutral]
        );
    }

    /// Unknown characters fall back for their message only; a wrong length, a missing or
    /// mistyped field, or no object fall back for every message.
    #[test]
    fn bad_answers_fall_back_to_the_lexical_result() {
        let lexical_of = |i: usize| lexical(TEXTS[i]).sentiment();
        let all = [Stage::Lexical; 3];
        let cases = [
            (
                "unknown character",
                json!({"labels": "+x-"}),
                [Stage::Model, Stage::Lexical, Stage::Model],
            ),
            ("letters, not symbols", json!({"labels": "pnu"}), all),
            ("too short", json!({"labels": "+-"}), all),
            ("too long", json!({"labels": "+-0+"}), all),
            ("empty", json!({"labels": ""}), all),
            ("not a string", json!({"labels": ["+", "-", "0"]}), all),
            ("another field", json!({"answer": "+-0"}), all),
            (
                "old format",
                json!({"results": [{"n": 1, "label": "positive"}]}),
                all,
            ),
            ("not an object", Value::Null, all),
        ];
        for (name, value, expected) in cases {
            let outcome = parse_labels(&value, &TEXTS);
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
    fn scores_follow_the_label_and_the_words_strength() {
        let none = lexical("the config lives in /etc");
        let strong = lexical("thanks so much, this is amazing, I love it!");
        assert!(strong.score > LABEL_SCORE, "{strong:?}");
        assert_eq!(model_score(Label::Positive, &none), LABEL_SCORE / 2.0);
        assert_eq!(model_score(Label::Negative, &none), -LABEL_SCORE / 2.0);
        assert_eq!(model_score(Label::Neutral, &strong), 0.0);
        let agreed = model_score(Label::Positive, &strong);
        assert!(agreed > LABEL_SCORE && agreed <= 0.8, "{agreed}");
        // Only the magnitude counts: a negative label on praised words is still negative.
        assert_eq!(model_score(Label::Negative, &strong), -agreed);
        for label in Label::ALL {
            for score in [&none, &strong] {
                assert_eq!(Label::from_score(model_score(label, score)), label);
                assert!((-1.0..=1.0).contains(&model_score(label, score)));
            }
        }
    }

    #[test]
    fn the_schema_is_closed_and_sized_to_the_batch() {
        let schema = schema(5);
        let labels = &schema["properties"]["labels"];
        assert_eq!(labels["pattern"], "^[-+0]{5}$");
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["required"], json!(["labels"]));
        assert_eq!(schema["x-guidance"]["whitespace_flexible"], false);
        // What the schema allows, the parser takes: every character of the alphabet.
        let texts = ["a", "b", "c", "d", "e"];
        let outcome = parse_labels(&json!({"labels": "+-0-+"}), &texts);
        assert_eq!(outcome.fallbacks, 0);
        for symbol in ['+', '0', '-'] {
            assert!(label_of(symbol).is_some(), "{symbol}");
        }
        // The whole answer fits the token budget with the slack to spare.
        let answer = json!({"labels": "+".repeat(MAX_BATCH)}).to_string();
        assert!(answer.len() < TOKENS_AROUND + MAX_BATCH, "{answer}");
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
        for symbol in ["\"+\"", "\"0\"", "\"-\""] {
            assert!(request.system.contains(symbol), "{}", request.system);
        }
        assert!(request.messages[0]
            .content
            .ends_with("3. how do I pin a crate version"));
        assert_eq!(request.max_new_tokens, TOKENS_AROUND + 3);
        assert!(request.validate().is_ok());
        // The shared prefix is the same for every batch.
        let other = classifier.request(&TEXTS[..1]).unwrap();
        assert_eq!(other.system, request.system);
        assert!(matches!(
            classifier.request(&[]),
            Err(SentimentError::BatchSize(0))
        ));
        let too_many = ["x"; MAX_BATCH + 1];
        assert!(matches!(
            classifier.request(&too_many),
            Err(SentimentError::BatchSize(_))
        ));
        let most = classifier.request(&["x"; MAX_BATCH]).unwrap();
        assert!(most.validate().is_ok());
    }

    #[tokio::test]
    async fn a_batch_is_one_request_and_unusable_output_keeps_the_lexical_results() {
        let (engine, classifier) = canned(|| Ok(json!({"labels": "+-0"})));
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

        let (_, one) = canned(|| Ok(json!({"labels": "-"})));
        let sentiment = one.classify_one("meh").await.unwrap();
        assert_eq!(
            (sentiment.label, sentiment.stage),
            (Label::Negative, Stage::Model)
        );
    }
}
