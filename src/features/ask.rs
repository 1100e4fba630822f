//! `ask`: answer a member's question with the model, streamed. An answer the token cap cut
//! off ends at its last complete sentence with a mark ([`super::ending`]).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::core::{Language, TextStream, TextStreamItem};
use crate::features::ending::Ending;
use crate::features::Context;
use crate::llm::{ChatRequest, Engine, LlmError, StreamEvent};
use crate::prompts::{AskSystem, Prompts};
use crate::strings::Strings;

/// How answers are generated.
#[derive(Debug, Clone)]
pub struct AskSettings {
    pub bot_name: String,
    pub max_new_tokens: usize,
    pub temperature: Option<f64>,
    pub timeout: Duration,
}

/// Answers questions.
pub struct Ask {
    engine: Arc<dyn Engine>,
    prompts: Arc<Prompts>,
    settings: AskSettings,
}

impl Ask {
    pub fn new(engine: Arc<dyn Engine>, prompts: Arc<Prompts>, settings: AskSettings) -> Self {
        Self {
            engine,
            prompts,
            settings,
        }
    }

    /// The request sent to the model for `question`, answered in `language`.
    pub fn request(&self, community: &str, question: &str, language: Language) -> ChatRequest {
        let language = language.code();
        let system = self
            .prompts
            .render(
                "ask_system.txt",
                AskSystem {
                    bot_name: &self.settings.bot_name,
                    community,
                    language,
                },
            )
            .expect("ask_system.txt renders (checked by tests)");
        ChatRequest::new(system, question.trim())
            .with_max_new_tokens(self.settings.max_new_tokens)
            .with_temperature(self.settings.temperature)
            .with_deadline(self.settings.timeout)
    }

    /// Starts answering `question`; the text streams as the model generates. An error
    /// before any text (a full queue, an invalid request) comes back for the router to word.
    pub async fn answer(&self, ctx: &Context, question: &str) -> Result<TextStream, LlmError> {
        let request = self.request(ctx.location.community.as_str(), question, ctx.language);
        let stream = self.engine.stream(request).await?;
        let ending = Ending::new(self.settings.max_new_tokens);
        Ok(to_text_stream(stream, ctx.strings, ending))
    }
}

/// Maps engine events to the core's text stream, turning errors into safe user-facing text;
/// `ending` holds text back near the cap so a cut answer ends with a whole sentence.
pub(crate) fn to_text_stream(
    stream: crate::llm::LlmStream,
    strings: Strings,
    mut ending: Ending,
) -> TextStream {
    TextStream::new(stream.flat_map(move |event| {
        let items: Vec<TextStreamItem> = match event {
            StreamEvent::Delta(text) => ending
                .push(&text)
                .map(TextStreamItem::Delta)
                .into_iter()
                .collect(),
            StreamEvent::Done(stats) => {
                let cut = stats.finish_reason.as_deref() == Some("length");
                tracing::info!(
                    prompt_tokens = stats.prompt_tokens,
                    generated_tokens = stats.generated_tokens,
                    queued_ms = stats.queued.as_millis() as u64,
                    total_ms = stats.total.as_millis() as u64,
                    cut,
                    "answered"
                );
                let tail = ending.finish(cut).map(TextStreamItem::Delta);
                let finished = TextStreamItem::Finished {
                    tokens: stats.generated_tokens,
                };
                tail.into_iter().chain([finished]).collect()
            }
            StreamEvent::Error(error) => {
                log_failure(&error);
                let held = ending.flush().map(TextStreamItem::Delta);
                let failed = TextStreamItem::Failed(user_message(&error, strings).to_string());
                held.into_iter().chain([failed]).collect()
            }
        };
        futures::stream::iter(items)
    }))
}

fn log_failure(error: &LlmError) {
    tracing::warn!(label = error.label(), %error, "answer failed");
}

/// What users are told when the model fails.
pub(crate) fn user_message(error: &LlmError, strings: Strings) -> &'static str {
    match error {
        LlmError::Overloaded { .. } => strings.busy(),
        LlmError::DeadlineExceeded(_) => strings.too_slow(),
        LlmError::Interrupted => strings.interrupted(),
        _ => strings.failed(),
    }
}
