//! [`RemoteEmbedder`]: an [`Embedder`] over the servers that serve embeddings, with the same
//! least-loaded choice, failover and circuit breakers as the chat pool (its own health task:
//! a server serving both is probed by both).

use std::sync::Arc;

use async_trait::async_trait;

use super::super::{Embedder, LlmError};
use super::servers::{spawn_health, HealthTask, Servers};
use super::settings::{Capability, InferenceSettings};
use crate::metrics::Metrics;

/// Embeddings from remote OpenAI-compatible servers (`POST /embeddings`). Create it inside a
/// Tokio runtime; dropping it stops its health task.
pub struct RemoteEmbedder {
    servers: Arc<Servers>,
    _health: HealthTask,
    info: String,
    model: String,
}

impl RemoteEmbedder {
    /// An embedder over the servers of `settings` that serve embeddings.
    pub fn new(settings: &InferenceSettings, metrics: Arc<Metrics>) -> Result<Self, LlmError> {
        let servers = Arc::new(Servers::new(settings, Capability::Embeddings, metrics)?);
        if servers.is_empty() {
            return Err(LlmError::InvalidRequest(
                "no inference server serves embeddings (serves = [\"embeddings\"])".to_string(),
            ));
        }
        let info = format!(
            "{} on {} (OpenAI-compatible)",
            servers.models().join(", "),
            servers.names().join(", ")
        );
        // Config validation lets embedding servers name only one model between them; joined,
        // a mix would still be a name of its own.
        let model = servers.models().join("+");
        let health = spawn_health(&servers, settings);
        Ok(Self {
            servers,
            _health: health,
            info,
            model,
        })
    }
}

#[async_trait]
impl Embedder for RemoteEmbedder {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LlmError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut tried = vec![false; self.servers.len()];
        while let Some(attempt) = self.servers.start(&mut tried) {
            match attempt.client().embed(texts).await {
                Ok(vectors) => {
                    attempt.succeeded();
                    return Ok(vectors);
                }
                Err(failure) => {
                    let retry = failure.is_retryable();
                    attempt.failed(&failure, retry && self.servers.has_candidate(&tried));
                    if !retry {
                        return Err(failure.into_llm_error());
                    }
                }
            }
        }
        Err(LlmError::Unavailable(self.servers.summary()))
    }

    fn info(&self) -> String {
        self.info.clone()
    }

    fn model(&self) -> String {
        self.model.clone()
    }
}
