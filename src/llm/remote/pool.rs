//! [`RemotePool`]: a [`Backend`] over several OpenAI-compatible chat servers.
//!
//! Each job goes to the least-loaded usable server. A retryable failure before any text
//! reached the caller moves the job to the next server (each at most once); a failure after
//! text is not restarted, the caller gets [`LlmError::Interrupted`]. Servers that keep
//! failing are taken out until a background probe finds them well. When no server is left,
//! the job fails with [`LlmError::Unavailable`], or runs on the local model when one was
//! given with [`RemotePool::with_fallback`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::super::{Backend, BackendJob, EngineInfo, LlmError, StreamEvent};
use super::chat::Ended;
use super::servers::{spawn_health, HealthTask, Servers};
use super::settings::{Capability, InferenceSettings};
use super::tokenize::estimate_tokens;
use crate::metrics::Metrics;

/// The metric label of jobs the local model ran because every server was out.
const LOCAL: &str = "local";

/// Chat generation on a pool of remote servers. Create it inside a Tokio runtime (it starts
/// the health task); dropping it stops the task.
pub struct RemotePool {
    servers: Arc<Servers>,
    _health: HealthTask,
    fallback: Option<Arc<dyn Backend>>,
    /// True while jobs run locally because every server is out (logged once per outage).
    in_outage: AtomicBool,
    info: EngineInfo,
    metrics: Arc<Metrics>,
}

impl RemotePool {
    /// A pool over the servers of `settings` that serve chat, counting into `metrics`.
    pub fn new(settings: &InferenceSettings, metrics: Arc<Metrics>) -> Result<Self, LlmError> {
        let servers = Arc::new(Servers::new(settings, Capability::Chat, metrics.clone())?);
        if servers.is_empty() {
            return Err(LlmError::InvalidRequest(
                "no inference server serves chat (serves = [\"chat\"])".to_string(),
            ));
        }
        let info = EngineInfo {
            model: servers.models().join(", "),
            backend: format!(
                "remote pool: {} (OpenAI-compatible)",
                servers.names().join(", ")
            ),
            context_tokens: None,
        };
        let health = spawn_health(&servers, settings);
        Ok(Self {
            servers,
            _health: health,
            fallback: None,
            in_outage: AtomicBool::new(false),
            info,
            metrics,
        })
    }

    /// Runs jobs on `local` while every remote server is out.
    pub fn with_fallback(mut self, local: Arc<dyn Backend>) -> Self {
        self.info.backend = format!(
            "{}; falling back to {} ({})",
            self.info.backend,
            local.info().model,
            local.info().backend
        );
        self.fallback = Some(local);
        self
    }

    fn outage_started(&self) {
        if !self.in_outage.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                servers = %self.servers.summary(),
                "no inference server is usable; answering with the local model until one is back"
            );
        }
    }

    fn outage_over(&self) {
        if self.in_outage.swap(false, Ordering::Relaxed) {
            tracing::info!("an inference server answered again; the local model is no longer used");
        }
    }
}

#[async_trait]
impl Backend for RemotePool {
    fn info(&self) -> EngineInfo {
        self.info.clone()
    }

    async fn generate(
        &self,
        job: BackendJob,
        sink: mpsc::Sender<StreamEvent>,
    ) -> Result<(), LlmError> {
        // Compiled once per request; every attempt and retry checks against it.
        let validator = match &job.json_schema {
            Some(schema) => Some(jsonschema::validator_for(schema).map_err(|error| {
                LlmError::InvalidRequest(format!("the JSON schema does not compile: {error}"))
            })?),
            None => None,
        };
        let mut tried = vec![false; self.servers.len()];
        while let Some(attempt) = self.servers.start(&mut tried) {
            match attempt.client().chat(&job, validator.as_ref(), &sink).await {
                Ok(Ended::Done) => {
                    attempt.succeeded();
                    self.outage_over();
                    return Ok(());
                }
                // The caller went away: nothing to record (dropping the attempt frees it).
                Ok(Ended::Cancelled) => return Ok(()),
                Err(failure) => {
                    let retry = failure.is_retryable();
                    let more =
                        retry && (self.servers.has_candidate(&tried) || self.fallback.is_some());
                    attempt.failed(&failure, more);
                    if !retry {
                        return Err(failure.into_llm_error());
                    }
                }
            }
        }
        match &self.fallback {
            Some(local) => {
                self.outage_started();
                self.metrics.inference_outcome(LOCAL, "fallback_local");
                local.generate(job, sink).await
            }
            None => Err(LlmError::Unavailable(self.servers.summary())),
        }
    }

    /// The first server that answers counts; without one, the local model's tokenizer, or
    /// an estimate (a count is never worth failing a request over).
    async fn count_tokens(&self, text: &str) -> Result<usize, LlmError> {
        let mut tried = vec![false; self.servers.len()];
        while let Some(attempt) = self.servers.start(&mut tried) {
            match attempt.client().count_tokens(text).await {
                Ok(count) => return Ok(count),
                Err(failure) => {
                    tracing::debug!(error = %failure.message, "counting tokens on another server")
                }
            }
        }
        match &self.fallback {
            Some(local) => local.count_tokens(text).await,
            None => Ok(estimate_tokens(text)),
        }
    }
}
