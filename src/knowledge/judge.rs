//! Reading the passages before answering: the model judges each retrieved passage, "does it
//! contain the answer to the question?", and only the passages it says yes to are answered
//! from. None left means "I don't know".
//!
//! Why: retrieval scores say a passage is on the question's topic, not that it answers it. A
//! question about a Helm chart finds the install guide; a floor on lexical relevance or
//! embedding similarity refuses about half of such questions at best (docs/knowledge.md,
//! "Measuring"). A model that reads the passage can tell them apart, if it is capable enough:
//! the default SmolLM2-135M is not, so the judge is off unless `[knowledge] judge = true`.
//!
//! The model answers in plain words, "yes" or "no", greedily. Not JSON: on our corpus, with
//! Qwen2.5-Coder-1.5B, a plain first word told answerable from unanswerable questions best
//! (ROC AUC 0.97 English, 0.87 Chinese; 0.93 / 0.79 as a JSON string, and a JSON boolean
//! refused fewer unanswerable questions still: docs/knowledge.md, "Measuring"). A reply that
//! is neither yes nor no is no verdict. A
//! judge that fails (queue full, deadline, a server down, no verdict) keeps the passage: the
//! answer is then what it was without a judge. A yes only keeps a retrieved passage, so a
//! passage that talks the judge into it gains nothing beyond being quoted.

use std::sync::Arc;
use std::time::Duration;

use super::cite;
use super::rank::Ranked;
use crate::llm::{ChatRequest, Engine, LlmError, Priority};

/// Each passage is shown to the judge at this length, as the answer prompt shows it.
const JUDGED_CHARS: usize = 700;
/// "yes", "No.", "是": the first word is the verdict.
const VERDICT_MAX_TOKENS: usize = 3;

/// Asks the model whether passages answer a question.
pub struct Judge {
    engine: Arc<dyn Engine>,
    /// `prompts/knowledge_judge.txt`, rendered (the knowledge layer does not read prompts).
    system: String,
    timeout: Duration,
}

impl Judge {
    pub fn new(engine: Arc<dyn Engine>, system: String, timeout: Duration) -> Self {
        Self {
            engine,
            system,
            timeout,
        }
    }

    /// The model, as the evaluation names it.
    pub fn model(&self) -> String {
        self.engine.info().model
    }

    /// The request asking whether `passage` answers `question`. Someone waits for the answer,
    /// so it has the answer's priority; greedy, so a verdict is reproducible.
    pub fn request(&self, question: &str, passage: &Ranked) -> ChatRequest {
        let user = format!(
            "Passage ({}):\n<<<\n{}\n>>>\n\nQuestion: {}\n\nDoes the passage contain the answer \
             to the question? Answer yes or no.",
            cite::source_label(&passage.candidate),
            cite::shorten(&passage.candidate.text, JUDGED_CHARS),
            question.trim()
        );
        ChatRequest::new(self.system.clone(), user)
            .with_max_new_tokens(VERDICT_MAX_TOKENS)
            .with_temperature(None)
            .with_deadline(self.timeout)
            .with_priority(Priority::Interactive)
    }

    /// The verdict on one passage.
    pub async fn verdict(&self, question: &str, passage: &Ranked) -> Result<bool, LlmError> {
        let generated = self
            .engine
            .generate(self.request(question, passage))
            .await?;
        parse_verdict(&generated.text).ok_or_else(|| {
            LlmError::BadStructuredOutput(format!("not yes or no: {:?}", generated.text))
        })
    }

    /// The verdict on each passage, in order, asked at once (a server pool or a GPU judges
    /// them side by side; on the CPU the scheduler runs them in turn).
    pub async fn verdicts(
        &self,
        question: &str,
        passages: &[Ranked],
    ) -> Vec<Result<bool, LlmError>> {
        let asks = passages
            .iter()
            .map(|passage| self.verdict(question, passage));
        futures::future::join_all(asks).await
    }

    /// The passages the model says contain the answer, in their order. A passage whose
    /// verdict failed is kept (and logged).
    pub async fn keep(&self, question: &str, passages: Vec<Ranked>) -> Vec<Ranked> {
        let verdicts = self.verdicts(question, &passages).await;
        passages
            .into_iter()
            .zip(verdicts)
            .filter_map(|(passage, verdict)| match verdict {
                Ok(answers) => answers.then_some(passage),
                Err(error) => {
                    tracing::warn!(%error, "judging a passage failed; keeping it");
                    Some(passage)
                }
            })
            .collect()
    }
}

/// Yes or no from the first word of `text` (any case, punctuation after it ignored; a model
/// asked in English about a Chinese passage may still answer 是 or 否).
fn parse_verdict(text: &str) -> Option<bool> {
    let text = text.trim_start();
    let word: String = text
        .chars()
        .take_while(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect();
    match word.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ if text.starts_with('是') || text.starts_with('对') => Some(true),
        _ if text.starts_with('否') || text.starts_with('不') => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_verdict;

    #[test]
    fn the_first_word_is_the_verdict() {
        for yes in ["yes", "Yes.", " YES", "yes, it says", "是", "是的"] {
            assert_eq!(parse_verdict(yes), Some(true), "{yes:?}");
        }
        for no in ["no", "No.", "\nno", "否", "不是"] {
            assert_eq!(parse_verdict(no), Some(false), "{no:?}");
        }
        for neither in [
            "",
            "The passage",
            "yesterday",
            "nope",
            "maybe",
            "{\"answer\":",
        ] {
            assert_eq!(parse_verdict(neither), None, "{neither:?}");
        }
    }
}
