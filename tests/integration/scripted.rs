//! A scripted engine for tests that need a model's shape but not its words: it answers every
//! request with fixed text (or a fixed error) and records the requests it saw.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use steward::llm::{
    ChatRequest, Engine, EngineInfo, GenerationStats, LlmError, LlmStream, StreamEvent,
};

/// Answers with fixed text word by word, or fails with a fixed error.
pub struct Scripted {
    answer: Result<String, fn() -> LlmError>,
    /// Reported when the answer ends ("length": the token cap cut it off).
    finish_reason: Option<String>,
    /// Every valid request, in order.
    pub seen: Mutex<Vec<ChatRequest>>,
    /// When set and it has an answer for a request, that answer is given instead of the
    /// fixed text (a judge that says yes to some passages only).
    pub respond: Mutex<Option<fn(&ChatRequest) -> Option<String>>>,
}

impl Scripted {
    pub fn new(answer: Result<&str, fn() -> LlmError>) -> Self {
        Self {
            answer: answer.map(str::to_string),
            finish_reason: None,
            seen: Mutex::new(Vec::new()),
            respond: Mutex::new(None),
        }
    }
}

impl Scripted {
    /// What `request` gets: the responder's answer for it, else the fixed text (or error).
    fn answer_to(&self, request: &ChatRequest) -> Result<String, LlmError> {
        let respond = *self.respond.lock().unwrap();
        match respond.and_then(|respond| respond(request)) {
            Some(text) => Ok(text),
            None => self.answer.clone().map_err(|make| make()),
        }
    }
}

/// A scripted engine answering `text`.
pub fn scripted(text: &str) -> Arc<dyn Engine> {
    Arc::new(Scripted::new(Ok(text)))
}

/// A scripted engine whose answer `text` is longer than any cap: it stops after the request's
/// `max_new_tokens` words and reports "length", as a model stopped by its cap does.
pub fn scripted_cut(text: &str) -> Arc<dyn Engine> {
    let mut engine = Scripted::new(Ok(text));
    engine.finish_reason = Some("length".to_string());
    Arc::new(engine)
}

#[async_trait]
impl Engine for Scripted {
    fn info(&self) -> EngineInfo {
        EngineInfo {
            model: "scripted".into(),
            backend: "test".into(),
            context_tokens: None,
        }
    }

    async fn stream(&self, request: ChatRequest) -> Result<LlmStream, LlmError> {
        request.validate()?;
        let cap = request.max_new_tokens;
        // Recorded even when it fails: tests count the requests a failing model saw.
        let text = self.answer_to(&request);
        self.seen.lock().unwrap().push(request);
        let text = text?;
        let finish_reason = self.finish_reason.clone();
        // A cut answer stops at the cap (one word per token).
        let text = match finish_reason {
            Some(_) => text.split_inclusive(' ').take(cap).collect::<String>(),
            None => text,
        };
        let (sink, stream) = LlmStream::channel();
        // A task feeds the stream, so answers longer than the channel's buffer do not block.
        tokio::spawn(async move {
            for word in text.split_inclusive(' ') {
                let _ = sink.send(StreamEvent::Delta(word.to_string())).await;
            }
            let stats = GenerationStats {
                generated_tokens: text.split(' ').count(),
                finish_reason,
                ..Default::default()
            };
            let _ = sink.send(StreamEvent::Done(stats)).await;
        });
        Ok(stream)
    }

    /// The scripted text, parsed as JSON (the schema is not enforced: tests may script
    /// output a real backend could not produce).
    async fn generate_json(
        &self,
        request: ChatRequest,
        _: serde_json::Value,
    ) -> Result<serde_json::Value, LlmError> {
        request.validate()?;
        let text = self.answer_to(&request);
        self.seen.lock().unwrap().push(request);
        serde_json::from_str(&text?).map_err(|e| LlmError::BadStructuredOutput(e.to_string()))
    }

    async fn count_tokens(&self, text: &str) -> Result<usize, LlmError> {
        Ok(text.split_whitespace().count())
    }
}
