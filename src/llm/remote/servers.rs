//! The servers of one capability (chat or embeddings) with their live state: requests in
//! flight, circuit breaker, last error. Requests take an [`Attempt`] on the least-loaded
//! usable server; a background task probes every server (`GET /models`) and puts servers
//! that were taken out back when they answer again.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::super::LlmError;
use super::breaker::{choose, Breaker, Load, Transition};
use super::client::ServerClient;
use super::error::{truncate, Failure, FailureKind};
use super::settings::{Capability, InferenceSettings};
use crate::metrics::Metrics;

/// One server's live state.
struct State {
    in_flight: usize,
    breaker: Breaker,
    last_error: Option<String>,
}

/// The servers serving one capability, in config order.
pub(crate) struct Servers {
    clients: Vec<ServerClient>,
    state: Mutex<Vec<State>>,
    metrics: Arc<Metrics>,
    probe_interval: Duration,
}

impl Servers {
    pub fn new(
        settings: &InferenceSettings,
        capability: Capability,
        metrics: Arc<Metrics>,
    ) -> Result<Self, LlmError> {
        let clients = settings
            .servers_for(capability)
            .map(|server| ServerClient::new(server, settings))
            .collect::<Result<Vec<_>, _>>()?;
        let state: Vec<State> = clients
            .iter()
            .map(|client| {
                metrics.inference_server_up(client.name(), true);
                State {
                    in_flight: 0,
                    breaker: Breaker::new(settings.failure_threshold),
                    last_error: None,
                }
            })
            .collect();
        Ok(Self {
            clients,
            state: Mutex::new(state),
            metrics,
            probe_interval: settings.probe_interval,
        })
    }

    pub fn len(&self) -> usize {
        self.clients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    pub fn names(&self) -> Vec<&str> {
        self.clients.iter().map(ServerClient::name).collect()
    }

    /// The configured model names, each once, in config order.
    pub fn models(&self) -> Vec<&str> {
        let mut models: Vec<&str> = Vec::new();
        for client in &self.clients {
            let model = client.settings().model.as_str();
            if !models.contains(&model) {
                models.push(model);
            }
        }
        models
    }

    fn lock(&self) -> MutexGuard<'_, Vec<State>> {
        // The state stays consistent even if a holder panicked: every update is one step.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn loads(state: &[State], clients: &[ServerClient], tried: &[bool]) -> Vec<Load> {
        state
            .iter()
            .zip(clients)
            .enumerate()
            .map(|(index, (state, client))| Load {
                usable: !state.breaker.is_out() && !tried.get(index).copied().unwrap_or(false),
                in_flight: state.in_flight,
                weight: client.settings().weight,
                max_concurrent: client.settings().max_concurrent,
            })
            .collect()
    }

    /// Starts an attempt on the least-loaded usable server this request has not tried yet
    /// (and marks it tried); `None` when there is none.
    pub fn start(&self, tried: &mut [bool]) -> Option<Attempt<'_>> {
        let index = {
            let mut state = self.lock();
            let index = choose(&Self::loads(&state, &self.clients, tried))?;
            state[index].in_flight += 1;
            index
        };
        if let Some(slot) = tried.get_mut(index) {
            *slot = true;
        }
        self.metrics
            .inference_in_flight(self.clients[index].name(), 1);
        Some(Attempt {
            servers: self,
            index,
        })
    }

    /// Whether [`start`](Self::start) would find a server.
    pub fn has_candidate(&self, tried: &[bool]) -> bool {
        let state = self.lock();
        Self::loads(&state, &self.clients, tried)
            .iter()
            .any(|load| load.usable)
    }

    /// Each server's last error, briefly (for [`LlmError::Unavailable`]).
    pub fn summary(&self) -> String {
        let state = self.lock();
        let parts: Vec<String> = self
            .clients
            .iter()
            .zip(state.iter())
            .map(|(client, state)| {
                let out = if state.breaker.is_out() { " (out)" } else { "" };
                match &state.last_error {
                    // Messages start with the server's name already.
                    Some(error) => format!("{}{out}", truncate(error, 160)),
                    None => format!("{}: no error recorded{out}", client.name()),
                }
            })
            .collect();
        parts.join("; ")
    }

    /// Records a result of server `index` (of a request, or of a probe) in its breaker and
    /// announces a change.
    fn record(&self, index: usize, result: Result<(), &Failure>, probe: bool) {
        let transition = {
            let mut state = self.lock();
            let state = &mut state[index];
            match result {
                Ok(()) if probe => state.breaker.probe_succeeded(),
                Ok(()) => state.breaker.success(),
                Err(failure) => {
                    state.last_error = Some(failure.message.clone());
                    if failure.is_definitive() {
                        state.breaker.take_out()
                    } else if failure.blames_server() {
                        state.breaker.failure()
                    } else {
                        Transition::Unchanged
                    }
                }
            }
        };
        let name = self.clients[index].name();
        match transition {
            Transition::WentOut => {
                let error = result.err().map(|f| f.message.as_str()).unwrap_or_default();
                tracing::warn!(
                    server = %name,
                    %error,
                    probe_every = ?self.probe_interval,
                    "inference server taken out of the pool"
                );
                self.metrics.inference_server_up(name, false);
            }
            Transition::CameBack => {
                tracing::info!(server = %name, "inference server is back in the pool");
                self.metrics.inference_server_up(name, true);
            }
            Transition::Unchanged => {}
        }
    }

    /// Probes server `index` once and records the result.
    async fn probe(&self, index: usize) {
        let result = self.clients[index].probe().await;
        if let Err(failure) = &result {
            tracing::debug!(server = %self.clients[index].name(), error = %failure.message, "probe failed");
        }
        self.record(index, result.as_ref().map(|_| ()), true);
    }

    fn is_out(&self, index: usize) -> bool {
        self.lock()[index].breaker.is_out()
    }

    /// Probes each server every `health` (servers taken out every `probe`), all due ones at
    /// once so a slow server does not delay the others. Runs until aborted.
    async fn health_loop(self: Arc<Self>, health: Duration, probe: Duration) {
        let tick = health.min(probe).max(Duration::from_millis(10));
        let mut last: Vec<Option<Instant>> = vec![None; self.len()];
        loop {
            let due: Vec<usize> = (0..self.len())
                .filter(|&index| {
                    let every = if self.is_out(index) { probe } else { health };
                    last[index].is_none_or(|at| at.elapsed() >= every)
                })
                .collect();
            for &index in &due {
                last[index] = Some(Instant::now());
            }
            futures::future::join_all(due.iter().map(|&index| self.probe(index))).await;
            tokio::time::sleep(tick).await;
        }
    }
}

/// One request on one server: counts it in flight until dropped. Report the end with
/// [`succeeded`](Self::succeeded) or [`failed`](Self::failed); dropping it without either
/// (the caller went away) records nothing else.
pub(crate) struct Attempt<'a> {
    servers: &'a Servers,
    index: usize,
}

impl Attempt<'_> {
    pub fn client(&self) -> &ServerClient {
        &self.servers.clients[self.index]
    }

    pub fn succeeded(self) {
        self.servers.record(self.index, Ok(()), false);
        self.servers
            .metrics
            .inference_outcome(self.client().name(), "ok");
    }

    /// Records a failure; `more_after`: another server (or the local model) takes over.
    pub fn failed(self, failure: &Failure, more_after: bool) {
        self.servers.record(self.index, Err(failure), false);
        let outcome = match failure.kind {
            FailureKind::Interrupted => "interrupted",
            _ if failure.is_retryable() && more_after => "failed_over",
            _ => "error",
        };
        let server = self.client().name();
        if failure.is_retryable() {
            tracing::info!(%server, error = %failure.message, outcome, "inference request failed");
        } else {
            tracing::warn!(%server, error = %failure.message, outcome, "inference request failed");
        }
        self.servers.metrics.inference_outcome(server, outcome);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        {
            let mut state = self.servers.lock();
            let state = &mut state[self.index];
            state.in_flight = state.in_flight.saturating_sub(1);
        }
        self.servers
            .metrics
            .inference_in_flight(self.servers.clients[self.index].name(), -1);
    }
}

/// Stops the health task when the pool (or embedder) holding it is dropped.
pub(crate) struct HealthTask(tokio::task::AbortHandle);

impl Drop for HealthTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts probing `servers` in the background. Needs a Tokio runtime.
pub(crate) fn spawn_health(servers: &Arc<Servers>, settings: &InferenceSettings) -> HealthTask {
    let task = tokio::spawn(
        servers
            .clone()
            .health_loop(settings.health_interval, settings.probe_interval),
    );
    HealthTask(task.abort_handle())
}
