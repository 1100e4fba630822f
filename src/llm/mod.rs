//! The LLM engine: the interface features use, the scheduler behind it, and the backends.
//!
//! Features talk to [`Engine`] only (`Arc<dyn Engine>`). The engine they get is a [`Scheduler`]:
//! it validates requests before a backend sees them ([`ChatRequest::validate`]), keeps one
//! bounded queue per [`Priority`] class (interactive, then moderation, then background), answers
//! [`LlmError::Overloaded`] instead of growing an unbounded backlog, enforces deadlines,
//! cancels a generation when its [`LlmStream`] is dropped, limits how many generations run at
//! once, and counts every outcome in [`crate::metrics::Metrics`]. Models plug in behind the small
//! [`Backend`] trait; [`MistralBackend`] runs mistral.rs in process.
//!
//! - `request`: [`ChatRequest`], its classes and validation.
//! - `stream`: [`LlmStream`], the partial text a caller reads.
//! - `scheduler`: [`Scheduler`], the [`Engine`] over any [`Backend`].
//! - `mistral`: the mistral.rs backend.
//! - `structured`: JSON output parsed into a Rust type.
//! - `gguf_check`: a GGUF header check run before mistral.rs touches a file.
//! - `remote`: [`remote::RemotePool`], a [`Backend`] over OpenAI-compatible servers (least
//!   loaded first, failover, circuit breakers, optional local fallback), and
//!   [`remote::RemoteEmbedder`], an [`Embedder`] over the same kind of servers.
//! - `bert`: [`bert::LocalEmbedder`], the in-process [`Embedder`] (all-MiniLM-L6-v2 on candle).
//! - `threads`: [`default_threads`], the thread count of the in-process engines.

pub mod bert;
mod gguf_check;
#[cfg(feature = "llamacpp")]
pub mod llamacpp;
mod mistral;
pub mod remote;
mod repack;
mod request;
mod scheduler;
mod stream;
mod structured;
mod threads;

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

pub use gguf_check::{check_gguf, GgufProblem};
#[cfg(feature = "llamacpp")]
pub use llamacpp::{LlamaCppBackend, LlamaCppSettings};
pub use mistral::{MistralBackend, MistralSettings, ModelLocation};
pub use request::{ChatMessage, ChatRequest, ChatRole, Priority};
pub use scheduler::{Scheduler, SchedulerSettings};
pub use stream::{Generated, GenerationStats, LlmStream, StreamEvent};
pub use structured::generate_structured;
pub use threads::default_threads;

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
    /// No inference server could take the request; the text lists each server's last error.
    #[error("no inference server is available: {0}")]
    Unavailable(String),
    /// The inference server failed after part of the answer was sent; the part stays sent.
    #[error("the answer was interrupted: the inference server stopped mid-answer")]
    Interrupted,
    /// Background work stopped to let a member's question run first (in-process CPU engine,
    /// where two generations share the same cores); the caller may try it again later.
    #[error("stopped to let a member's question go first")]
    Preempted,
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
            LlmError::Unavailable(_) => "unavailable",
            LlmError::Interrupted => "interrupted",
            LlmError::Preempted => "preempted",
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

/// A chat-generation engine: what features call.
///
/// The real one is a [`Scheduler`] over a [`Backend`]; tests script their own. Callers hold
/// `Arc<dyn Engine>`.
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

/// A model that runs one generation per call; the [`Scheduler`] in front of it decides what runs
/// when, so a backend has no queue, priorities or deadlines of its own.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Describes the model and where it runs.
    fn info(&self) -> EngineInfo;

    /// Runs one generation, sending [`StreamEvent::Delta`] events then [`StreamEvent::Done`] into
    /// `sink`; returns early (dropping its own model stream) when `sink` is closed. Errors are
    /// returned, not sent. The scheduler fills `queued`, `class` and `started_at` of the final
    /// [`GenerationStats`] and hands `Done` to the caller once this returns. Dropping the
    /// returned future (on a deadline) must stop the generation too.
    async fn generate(
        &self,
        job: BackendJob,
        sink: mpsc::Sender<StreamEvent>,
    ) -> Result<(), LlmError>;

    /// Counts the tokens of `text` with the model's own tokenizer (no special tokens).
    async fn count_tokens(&self, text: &str) -> Result<usize, LlmError>;
}

/// Turns texts into embedding vectors (for retrieval). The remote one is
/// [`remote::RemoteEmbedder`], the in-process one [`bert::LocalEmbedder`]; callers hold
/// `Arc<dyn Embedder>`.
#[async_trait]
pub trait Embedder: Send + Sync {
    /// One vector per text, in the order of `texts`.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LlmError>;

    /// Describes the model and where it runs, e.g. "all-MiniLM-L6-v2 on emb-1
    /// (OpenAI-compatible)".
    fn info(&self) -> String;

    /// A stable name of the vector space, e.g. "all-MiniLM-L6-v2": stored beside each vector,
    /// so vectors of another model are never compared with this one's.
    fn model(&self) -> String;

    /// How many components each vector has, when known before the first call.
    fn dimensions(&self) -> Option<usize> {
        None
    }
}

/// One validated request, handed to a [`Backend`] when its turn comes.
#[derive(Debug, Clone)]
pub struct BackendJob {
    pub request: ChatRequest,
    /// Constrain decoding to this JSON schema.
    pub json_schema: Option<serde_json::Value>,
    /// How long the request waited in its queue.
    pub queued: Duration,
}
