//! The LLM engine: a trait for chat generation and constrained output, and its backends.
//!
//! Features talk to [`Engine`] only. Requests are validated before a backend sees them
//! ([`ChatRequest::validate`]); backends own their model behind one task with a bounded queue
//! per [`Priority`] (interactive requests first) and answer [`LlmError::Overloaded`] instead of
//! growing an unbounded backlog.

mod gguf_check;
mod mistral;
mod request;
mod stream;
mod structured;

use async_trait::async_trait;

pub use gguf_check::{check_gguf, GgufProblem};
pub use mistral::{MistralEngine, MistralSettings, ModelLocation};
pub use request::{ChatMessage, ChatRequest, ChatRole, Priority};
pub use stream::{Generated, GenerationStats, LlmStream, StreamEvent};
pub use structured::generate_structured;

/// Errors from the engine. Each has a stable [`label`](LlmError::label) for logs and metrics.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model is busy: {queued} requests are already waiting (queue capacity {capacity}); try again shortly")]
    Overloaded { queued: usize, capacity: usize },
    #[error("the model did not finish within {0:?}")]
    DeadlineExceeded(std::time::Duration),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("model file not found: {path}; fetch the default model with `steward model fetch` or set [model] gguf in the config")]
    ModelMissing { path: String },
    #[error("could not load the model from {path}: {reason}")]
    LoadFailed { path: String, reason: String },
    #[error("the model failed while generating: {0}")]
    Generation(String),
    #[error("the model's output did not match the requested format: {0}")]
    BadStructuredOutput(String),
    #[error("the engine has shut down")]
    ShutDown,
}

impl LlmError {
    /// A short stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            LlmError::Overloaded { .. } => "overloaded",
            LlmError::DeadlineExceeded(_) => "deadline_exceeded",
            LlmError::InvalidRequest(_) => "invalid_request",
            LlmError::ModelMissing { .. } => "model_missing",
            LlmError::LoadFailed { .. } => "load_failed",
            LlmError::Generation(_) => "generation",
            LlmError::BadStructuredOutput(_) => "bad_structured_output",
            LlmError::ShutDown => "shut_down",
        }
    }
}

/// What an engine says about itself.
#[derive(Debug, Clone)]
pub struct EngineInfo {
    /// Human-readable model name, e.g. "SmolLM2-135M-Instruct.Q4_1.gguf".
    pub model: String,
    /// Where it runs, e.g. "cpu (mistral.rs, in process)".
    pub backend: String,
    /// Maximum prompt + generation length the model supports, if known.
    pub context_tokens: Option<usize>,
}

/// A chat-generation engine.
///
/// Implementations own their model; callers hold `Arc<dyn Engine>`.
#[async_trait]
pub trait Engine: Send + Sync {
    /// Describes the model and backend.
    fn info(&self) -> EngineInfo;

    /// Starts generating and returns the stream of partial text. Dropping the stream cancels
    /// the generation. Fails fast with [`LlmError::Overloaded`] when the queue is full.
    async fn stream(&self, request: ChatRequest) -> Result<LlmStream, LlmError>;

    /// Generates text constrained by a JSON schema and returns the parsed JSON value.
    async fn generate_json(
        &self,
        request: ChatRequest,
        schema: serde_json::Value,
    ) -> Result<serde_json::Value, LlmError>;

    /// Counts the tokens of `text` with the model's own tokenizer (no special tokens).
    async fn count_tokens(&self, text: &str) -> Result<usize, LlmError>;

    /// Generates the whole answer and returns it with statistics.
    async fn generate(&self, request: ChatRequest) -> Result<Generated, LlmError> {
        self.stream(request).await?.collect().await
    }
}
