//! `ask`: answer a member's question, streamed. With a knowledge base the answer is grounded
//! in it ([`super::grounded`]: cited sources, "I don't know", quoted sources in languages the
//! model does not write); without, the model answers on its own. A follow-up carries the
//! conversation's earlier turns within a token budget ([`super::followup`]). An answer the
//! token cap cut off ends at its last complete sentence with a mark ([`super::ending`]).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::core::{Language, TextStream, TextStreamItem};
use crate::features::ending::Ending;
use crate::features::followup;
use crate::features::grounded::{self, Citations, Grounded, Grounding};
use crate::features::Context;
use crate::knowledge::rank::Ranked;
use crate::llm::{ChatMessage, ChatRequest, Engine, LlmError, StreamEvent};
use crate::prompts::{AskGrounded, AskSystem, Prompts};
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
    grounding: Option<Grounding>,
}

impl Ask {
    pub fn new(engine: Arc<dyn Engine>, prompts: Arc<Prompts>, settings: AskSettings) -> Self {
        Self {
            engine,
            prompts,
            settings,
            grounding: None,
        }
    }

    /// Grounds answers in a knowledge base.
    pub fn with_grounding(mut self, grounding: Grounding) -> Self {
        self.grounding = Some(grounding);
        self
    }

    /// The request for `question` answered from `passages` (numbered from 1).
    pub fn grounded_request(
        &self,
        community: &str,
        question: &str,
        language: Language,
        passages: &[Ranked],
    ) -> ChatRequest {
        let values = AskGrounded {
            bot_name: &self.settings.bot_name,
            community,
            language: language.code(),
            sources: &grounded::numbered(passages),
            question: question.trim(),
        };
        let system = self
            .prompts
            .render("ask_grounded_system.txt", &values)
            .expect("ask_grounded_system.txt renders (checked by tests)");
        let user = self
            .prompts
            .render("ask_grounded_user.txt", &values)
            .expect("ask_grounded_user.txt renders (checked by tests)");
        ChatRequest::new(system, user)
            .with_max_new_tokens(self.settings.max_new_tokens)
            .with_temperature(self.settings.temperature)
            .with_deadline(self.settings.timeout)
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
        self.follow_up(ctx, question, Vec::new()).await
    }

    /// Like [`Ask::answer`], for `question` as the next turn of a conversation: its `earlier`
    /// turns (oldest first, from [`followup::earlier_turns`]) go into the request before it,
    /// as many as fit in [`followup::budget`] tokens of the model's tokenizer, and a short
    /// follow-up is retrieved together with the member's previous turn. A quoted answer (or
    /// "I don't know") needs no model, so no history.
    pub async fn follow_up(
        &self,
        ctx: &Context,
        question: &str,
        earlier: Vec<ChatMessage>,
    ) -> Result<TextStream, LlmError> {
        let community = ctx.location.community.as_str();
        let ending = Ending::new(self.settings.max_new_tokens);
        let Some(grounding) = &self.grounding else {
            let request = self
                .request(community, question, ctx.language)
                .with_history(self.history(earlier).await);
            let stream = self.engine.stream(request).await?;
            return Ok(to_text_stream(stream, ctx.strings, ending, None));
        };
        let language = grounded::answer_language(question, ctx.language);
        let query = followup::retrieval_query(question, &earlier).into_owned();
        match grounding.decide(ctx, question, &query, language).await {
            Grounded::Ungrounded => {
                let request = self
                    .request(community, question, ctx.language)
                    .with_history(self.history(earlier).await);
                let stream = self.engine.stream(request).await?;
                Ok(to_text_stream(stream, ctx.strings, ending, None))
            }
            Grounded::Text(text) => Ok(finished_text(text)),
            Grounded::Generate(passages) => {
                let request = self
                    .grounded_request(community, question, language, &passages)
                    .with_history(self.history(earlier).await);
                let stream = self.engine.stream(request).await?;
                let strings = Strings::new(language);
                let citations = Citations::new(passages, strings, ctx.capabilities.clone());
                Ok(to_text_stream(stream, strings, ending, Some(citations)))
            }
        }
    }

    /// The `earlier` turns that fit the budget, counted with the engine's tokenizer; none when
    /// counting fails (the question is still answered).
    async fn history(&self, earlier: Vec<ChatMessage>) -> Vec<ChatMessage> {
        if earlier.is_empty() {
            return earlier;
        }
        let budget = followup::budget(self.engine.info().context_tokens);
        match followup::fit(&self.engine, earlier, budget).await {
            Ok(kept) => kept,
            Err(error) => {
                tracing::warn!(label = error.label(), %error, "counting the earlier turns failed; answering without them");
                Vec::new()
            }
        }
    }
}

/// A complete answer as a stream (no model involved).
fn finished_text(text: String) -> TextStream {
    let items = [
        TextStreamItem::Delta(text),
        TextStreamItem::Finished { tokens: 0 },
    ];
    TextStream::new(futures::stream::iter(items))
}

/// Maps engine events to the core's text stream, turning errors into safe user-facing text;
/// `ending` holds text back near the cap so a cut answer ends with a whole sentence;
/// `citations` (grounded answers) drops invented citations and closes with the sources.
pub(crate) fn to_text_stream(
    stream: crate::llm::LlmStream,
    strings: Strings,
    mut ending: Ending,
    mut citations: Option<Citations>,
) -> TextStream {
    TextStream::new(stream.flat_map(move |event| {
        let items: Vec<TextStreamItem> = match event {
            StreamEvent::Delta(text) => {
                let released = match citations.as_mut() {
                    Some(citations) => citations.push(&text),
                    None => Some(text),
                };
                released
                    .and_then(|text| ending.push(&text))
                    .map(TextStreamItem::Delta)
                    .into_iter()
                    .collect()
            }
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
                let mut tail = String::new();
                if let Some(held) = citations.as_mut().and_then(Citations::finish) {
                    tail.extend(ending.push(&held));
                }
                tail.extend(ending.finish(cut));
                if let Some(citations) = &citations {
                    tail.push_str(&citations.sources());
                }
                let tail = (!tail.is_empty()).then_some(TextStreamItem::Delta(tail));
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
