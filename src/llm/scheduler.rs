//! The engine scheduler: what runs on a [`Backend`] and when.
//!
//! Any backend (mistral.rs in process now, remote servers later) plugs in behind the small
//! [`Backend`] trait; the [`Scheduler`] in front of it is the [`Engine`] features use. It keeps one
//! bounded queue per [`Priority`] class and refuses work with [`LlmError::Overloaded`] when a
//! class's queue is full, instead of growing a backlog. One owner task takes a free slot (at most
//! `max_concurrent` generations run at once), then picks a job: interactive first, then
//! moderation, then background. The non-interactive classes together hold at most
//! `max(1, max_concurrent - 1)` slots, so however long their queues, an interactive request
//! waits for at most one generation in flight (none when a slot is free for it).
//! With `preempt_background` (the in-process engine on a CPU, where a running background
//! generation shares the cores with a member's question and would delay its first token by
//! its whole prefill), an interactive request arriving stops every running background
//! generation (`LlmError::Preempted`; the caller tries again later or keeps a fallback).
//! Deadlines cover queueing and generation; a job whose deadline passed in the queue is shed
//! without starting, and one whose caller dropped the stream is skipped. Every request ends in
//! one outcome counted in [`Metrics`].

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::FutureExt as _;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

use super::stream::{GenerationStats, LlmStream, StreamEvent};
use super::{Backend, BackendJob, ChatRequest, Engine, EngineInfo, LlmError, Priority};
use crate::metrics::Metrics;

/// How much the scheduler accepts and runs at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerSettings {
    /// Requests that may wait, per class; more are refused with [`LlmError::Overloaded`].
    pub queue_capacity: usize,
    /// Generations running at once, all classes together.
    pub max_concurrent: usize,
    /// An interactive request stops running background generations (see the module doc).
    pub preempt_background: bool,
}

impl Default for SchedulerSettings {
    /// The config's defaults: 16 waiting per class, 2 running, no preemption.
    fn default() -> Self {
        Self {
            queue_capacity: 16,
            max_concurrent: 2,
            preempt_background: false,
        }
    }
}

impl SchedulerSettings {
    /// Slots the moderation and background classes may hold together: all but one, so an
    /// interactive request finds a free slot (or, with a single slot, waits for one generation).
    pub fn non_interactive_slots(&self) -> usize {
        self.max_concurrent.max(1).saturating_sub(1).max(1)
    }
}

/// One value per class.
struct PerClass<T> {
    interactive: T,
    moderation: T,
    background: T,
}

impl<T> PerClass<T> {
    fn get(&self, class: Priority) -> &T {
        match class {
            Priority::Interactive => &self.interactive,
            Priority::Moderation => &self.moderation,
            Priority::Background => &self.background,
        }
    }
}

/// A request waiting in a queue, with the caller's end of its stream.
struct Job {
    request: ChatRequest,
    json_schema: Option<serde_json::Value>,
    sink: mpsc::Sender<StreamEvent>,
    /// When `stream()` was called: deadlines and the scheduler's own cost count from here.
    entered: Instant,
    enqueued: Instant,
    /// An interactive job's place in the count background generations give way to.
    _in_flight: Option<InFlight>,
}

/// The [`Engine`] on top of a [`Backend`]: per-class bounded queues, priorities, a concurrency
/// limit, deadlines, cancellation on drop, and counters. Create it inside a Tokio runtime (it
/// spawns its owner task); dropping it lets the owner finish the queued jobs and end.
pub struct Scheduler {
    queues: PerClass<mpsc::Sender<Job>>,
    backend: Arc<dyn Backend>,
    metrics: Arc<Metrics>,
    settings: SchedulerSettings,
    preemption: Arc<Preemption>,
}

/// How many interactive requests are in flight (queued or running), for `preempt_background`:
/// a background generation starts only when none is, and stops when one arrives.
struct Preemption {
    in_flight: Arc<watch::Sender<usize>>,
}

impl Default for Preemption {
    fn default() -> Self {
        Self {
            in_flight: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Preemption {
    /// Counts one interactive request until the returned guard is dropped (with its job,
    /// however the job ends: shed, cancelled, finished).
    fn interactive(&self) -> InFlight {
        self.in_flight.send_modify(|count| *count += 1);
        InFlight {
            in_flight: self.in_flight.clone(),
        }
    }

    /// What a background generation watches.
    fn gate(&self) -> watch::Receiver<usize> {
        self.in_flight.subscribe()
    }
}

/// One interactive request in flight; dropping it ends the count.
struct InFlight {
    in_flight: Arc<watch::Sender<usize>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.in_flight
            .send_modify(|count| *count = count.saturating_sub(1));
    }
}

impl Scheduler {
    /// Starts the owner task. Zero capacities are raised to one.
    pub fn new(
        backend: Arc<dyn Backend>,
        settings: SchedulerSettings,
        metrics: Arc<Metrics>,
    ) -> Self {
        let settings = SchedulerSettings {
            queue_capacity: settings.queue_capacity.max(1),
            max_concurrent: settings.max_concurrent.max(1),
            preempt_background: settings.preempt_background,
        };
        let preemption = Arc::new(Preemption::default());
        let (interactive, interactive_queue) = mpsc::channel(settings.queue_capacity);
        let (moderation, moderation_queue) = mpsc::channel(settings.queue_capacity);
        let (background, background_queue) = mpsc::channel(settings.queue_capacity);
        let owner = Owner {
            queues: PerClass {
                interactive: interactive_queue,
                moderation: moderation_queue,
                background: background_queue,
            },
            backend: backend.clone(),
            metrics: metrics.clone(),
            slots: Arc::new(Semaphore::new(settings.max_concurrent)),
            non_interactive_slots: Arc::new(Semaphore::new(settings.non_interactive_slots())),
            preemption: settings.preempt_background.then(|| preemption.clone()),
        };
        tokio::spawn(owner.run());
        Self {
            queues: PerClass {
                interactive,
                moderation,
                background,
            },
            backend,
            metrics,
            settings,
            preemption,
        }
    }

    /// The settings in force (after raising zeros).
    pub fn settings(&self) -> SchedulerSettings {
        self.settings
    }

    fn enqueue(
        &self,
        request: ChatRequest,
        json_schema: Option<serde_json::Value>,
    ) -> Result<LlmStream, LlmError> {
        let entered = Instant::now();
        request.validate()?;
        let class = request.priority;
        let queue = self.queues.get(class);
        let (sink, stream) = LlmStream::channel();
        let in_flight = (class == Priority::Interactive && self.settings.preempt_background)
            .then(|| self.preemption.interactive());
        let job = Job {
            request,
            json_schema,
            sink,
            entered,
            enqueued: Instant::now(),
            _in_flight: in_flight,
        };
        // Counted before sending, so the owner's decrement can never come first.
        self.metrics.engine_queued(class.as_str(), 1);
        match queue.try_send(job) {
            Ok(()) => Ok(stream),
            Err(refused) => {
                self.metrics.engine_queued(class.as_str(), -1);
                Err(match refused {
                    mpsc::error::TrySendError::Full(_) => {
                        self.metrics.engine_outcome(class.as_str(), "refused");
                        let capacity = queue.max_capacity();
                        LlmError::Overloaded {
                            queued: capacity.saturating_sub(queue.capacity()),
                            capacity,
                        }
                    }
                    mpsc::error::TrySendError::Closed(_) => LlmError::ShutDown,
                })
            }
        }
    }
}

#[async_trait]
impl Engine for Scheduler {
    fn info(&self) -> EngineInfo {
        self.backend.info()
    }

    async fn stream(&self, request: ChatRequest) -> Result<LlmStream, LlmError> {
        self.enqueue(request, None)
    }

    async fn generate_json(
        &self,
        request: ChatRequest,
        schema: serde_json::Value,
    ) -> Result<serde_json::Value, LlmError> {
        let generated = self.enqueue(request, Some(schema))?.collect().await?;
        serde_json::from_str(generated.text.trim()).map_err(|e| {
            LlmError::BadStructuredOutput(format!("{e}; the model wrote: {}", generated.text))
        })
    }

    /// Not queued: tokenizing is cheap and needs no generation slot.
    async fn count_tokens(&self, text: &str) -> Result<usize, LlmError> {
        self.backend.count_tokens(text).await
    }
}

/// The owner task's state: the receiving ends of the queues and the slots.
struct Owner {
    queues: PerClass<mpsc::Receiver<Job>>,
    backend: Arc<dyn Backend>,
    metrics: Arc<Metrics>,
    slots: Arc<Semaphore>,
    non_interactive_slots: Arc<Semaphore>,
    /// `Some` with `preempt_background`: background jobs watch its token.
    preemption: Option<Arc<Preemption>>,
}

/// The slots a running job holds; dropping them frees its place.
struct Permits {
    _slot: OwnedSemaphorePermit,
    _non_interactive: Option<OwnedSemaphorePermit>,
}

impl Owner {
    /// Takes a free slot before picking the next job, so the pick sees every job queued
    /// meanwhile and interactive ones win. Ends when the [`Scheduler`] is dropped and the queues
    /// are empty.
    async fn run(mut self) {
        loop {
            let Ok(slot) = self.slots.clone().acquire_owned().await else {
                break;
            };
            let (job, non_interactive) = tokio::select! {
                biased;
                Some(job) = self.queues.interactive.recv() => (job, None),
                Some((job, permit)) = next_non_interactive(
                    &mut self.queues.moderation,
                    &mut self.queues.background,
                    &self.non_interactive_slots,
                ) => (job, Some(permit)),
                else => break,
            };
            let permits = Permits {
                _slot: slot,
                _non_interactive: non_interactive,
            };
            self.dispatch(job, permits);
        }
        tracing::debug!("engine queues closed; scheduler owner task ends");
    }

    /// Skips a job nobody waits for, sheds one past its deadline, and starts the others.
    fn dispatch(&self, job: Job, permits: Permits) {
        let class = job.request.priority.as_str();
        self.metrics.engine_queued(class, -1);
        let waited = job.enqueued.elapsed();
        if job.sink.is_closed() {
            self.metrics.engine_outcome(class, "cancelled");
            return;
        }
        if let Some(deadline) = job.request.deadline {
            if job.entered.elapsed() >= deadline {
                self.metrics.engine_outcome(class, "shed");
                // Nothing was sent on this fresh channel yet, so there is room.
                let _ = job
                    .sink
                    .try_send(StreamEvent::Error(LlmError::DeadlineExceeded(deadline)));
                return;
            }
        }
        self.metrics
            .engine_wait_seconds(class, waited.as_secs_f64());
        let gate = match &self.preemption {
            Some(preemption) if job.request.priority == Priority::Background => {
                Some(preemption.gate())
            }
            _ => None,
        };
        tokio::spawn(run_job(
            self.backend.clone(),
            self.metrics.clone(),
            job,
            waited,
            permits,
            gate,
        ));
    }
}

/// The next moderation or background job, once a non-interactive slot is free.
///
/// Cancel-safe inside the owner's `select!`: waiting for the permit or in `recv` can be dropped
/// without loss, and once `recv` yields a job this future completes in the same poll, so a job
/// taken from a queue is never dropped.
async fn next_non_interactive(
    moderation: &mut mpsc::Receiver<Job>,
    background: &mut mpsc::Receiver<Job>,
    slots: &Arc<Semaphore>,
) -> Option<(Job, OwnedSemaphorePermit)> {
    let permit = slots.clone().acquire_owned().await.ok()?;
    let job = tokio::select! {
        biased;
        Some(job) = moderation.recv() => job,
        Some(job) = background.recv() => job,
        else => return None,
    };
    Some((job, permit))
}

/// Decrements the running gauge however the job ends (a panicking backend included).
struct Running<'a> {
    metrics: &'a Metrics,
    class: &'static str,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.metrics.engine_running(self.class, -1);
    }
}

/// Runs one job on the backend within what is left of its deadline, relays its events to the
/// caller, and counts the outcome. A background job with a `gate` (the count of interactive
/// requests in flight) starts when none is and stops as soon as one arrives.
async fn run_job(
    backend: Arc<dyn Backend>,
    metrics: Arc<Metrics>,
    job: Job,
    waited: Duration,
    permits: Permits,
    gate: Option<watch::Receiver<usize>>,
) {
    let priority = job.request.priority;
    let class = priority.as_str();
    let deadline = job.request.deadline;
    let remaining = deadline.map(|d| d.saturating_sub(job.entered.elapsed()));
    let sink = job.sink;
    // Held until the job ends: an interactive job counts as in flight while it runs.
    let _in_flight = job._in_flight;
    let (backend_sink, from_backend) = mpsc::channel(RELAY_BUFFER);
    let backend_job = BackendJob {
        request: job.request,
        json_schema: job.json_schema,
        queued: waited,
    };
    let started_at = Instant::now();
    let overhead = started_at
        .saturating_duration_since(job.entered)
        .saturating_sub(waited);
    metrics.scheduler_overhead_micros(overhead.as_secs_f64() * 1e6);
    metrics.engine_running(class, 1);
    let running = Running {
        metrics: metrics.as_ref(),
        class,
    };
    let work = AssertUnwindSafe(async {
        tokio::join!(
            backend.generate(backend_job, backend_sink),
            relay(from_backend, &sink),
        )
    })
    .catch_unwind();
    // `Err`: preempted. Dropping the work drops the backend's sink, which stops the generation.
    let gated = async {
        let Some(mut gate) = gate else {
            return Ok(work.await);
        };
        if gate.wait_for(|count| *count == 0).await.is_err() {
            return Ok(work.await);
        }
        tokio::select! {
            finished = work => Ok(finished),
            _ = gate.wait_for(|count| *count > 0) => Err(()),
        }
    };
    let (finished, was_preempted) = match remaining {
        Some(remaining) => match tokio::time::timeout(remaining, gated).await {
            Ok(Ok(finished)) => (Some(finished), false),
            Ok(Err(())) => (None, true),
            Err(_) => (None, false),
        },
        None => match gated.await {
            Ok(finished) => (Some(finished), false),
            Err(()) => (None, true),
        },
    };
    drop(running);
    // The slot is free before the last event is sent: a caller that stopped reading must not
    // hold it.
    drop(permits);
    let (outcome, last) = match finished {
        _ if sink.is_closed() => ("cancelled", None),
        None if was_preempted => ("preempted", Some(StreamEvent::Error(LlmError::Preempted))),
        // `remaining`, hence a timeout, exists only with a deadline.
        None => (
            "timed_out",
            deadline.map(|d| StreamEvent::Error(LlmError::DeadlineExceeded(d))),
        ),
        Some(Ok((_, Some(mut stats)))) => {
            stats.class = priority;
            stats.queued = waited;
            stats.started_at = Some(started_at);
            ("completed", Some(StreamEvent::Done(stats)))
        }
        Some(Ok((result, None))) => {
            let error = result.err().unwrap_or_else(|| {
                LlmError::Generation("the backend stopped without finishing the answer".into())
            });
            tracing::warn!(class, error = %error, "generation failed");
            ("failed", Some(StreamEvent::Error(error)))
        }
        Some(Err(_panic)) => {
            tracing::warn!(class, "the backend panicked");
            let error = LlmError::Generation("the backend panicked".to_string());
            ("failed", Some(StreamEvent::Error(error)))
        }
    };
    // Counted before the caller sees its last event, so a caller (or test) that has read the
    // whole stream finds the outcome already counted.
    metrics.engine_outcome(class, outcome);
    if let Some(last) = last {
        let _ = sink.send(last).await;
    }
}

/// Events buffered between the backend and the relay; the caller's stream has its own buffer.
const RELAY_BUFFER: usize = 4;

/// Forwards the backend's text to the caller and returns its final statistics, unsent: the
/// caller gets `Done` once the outcome is counted. Returns `None` if the backend ended without
/// `Done` or the caller is gone; returning drops `from`, so the backend then sees its own sink
/// closed and stops.
async fn relay(
    mut from: mpsc::Receiver<StreamEvent>,
    to: &mpsc::Sender<StreamEvent>,
) -> Option<GenerationStats> {
    while let Some(event) = from.recv().await {
        if let StreamEvent::Done(stats) = event {
            return Some(stats);
        }
        if to.send(event).await.is_err() {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_interactive_classes_leave_one_slot_free() {
        // (max_concurrent, slots moderation and background may hold together)
        for (max_concurrent, expected) in [(0, 1), (1, 1), (2, 1), (3, 2), (8, 7)] {
            let settings = SchedulerSettings {
                queue_capacity: 1,
                max_concurrent,
                preempt_background: false,
            };
            assert_eq!(
                settings.non_interactive_slots(),
                expected,
                "{max_concurrent}"
            );
        }
    }
}
