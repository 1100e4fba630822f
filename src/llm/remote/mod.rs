//! Remote inference: OpenAI-compatible servers (vLLM, llama.cpp, `mistralrs serve`, hosted
//! APIs) as a [`Backend`](super::Backend) and an [`Embedder`](super::Embedder).
//!
//! The [`Scheduler`](super::Scheduler) stays in front: queues, priorities and deadlines are
//! the same whether answers come from the process or from a server. Behind it:
//!
//! - `settings`: [`InferenceSettings`] and [`ServerSettings`] (validated by `config`).
//! - `client` + `chat` + `sse` + `tokenize`: one server; streamed chat completions,
//!   structured output checked against its schema, `/models`, `/embeddings`, `/tokenize`.
//! - `error`: failures classified once (try another server, stop, or interrupted).
//! - `breaker` + `servers`: the least-loaded choice, circuit breakers, the health task.
//! - `pool`: [`RemotePool`], the chat [`Backend`](super::Backend) with failover and an
//!   optional local fallback.
//! - `embed`: [`RemoteEmbedder`].
//! - `diagnose`: one server checked step by step for `steward doctor`.

mod breaker;
mod chat;
mod client;
mod diagnose;
mod embed;
mod error;
mod pool;
mod servers;
mod settings;
mod sse;
mod tokenize;

pub use diagnose::{diagnose, Diagnosis};
pub use embed::RemoteEmbedder;
pub use pool::RemotePool;
pub use settings::{ApiKey, Capability, InferenceSettings, ServerSettings};
