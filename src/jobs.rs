//! The worker for durable background jobs (model reviews of reports now; sentiment and
//! indexing later): claims jobs of one kind from the store's job table, runs them through a
//! [`JobHandler`], and retries with backoff, so a burst waits in the database instead of being
//! dropped, and a restart resumes where the last process stopped.
//!
//! Delivery is at least once: a job whose worker died is claimed again when its lease expires,
//! so handlers must tolerate doing a job twice. While a handler runs, the worker extends the
//! job's lease (a heartbeat every third of it), so only a dead process loses its jobs to others.
//! On shutdown the worker claims nothing more and finishes the jobs in hand.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures::FutureExt;
use tokio::sync::{Notify, Semaphore};
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::store::{Job, NewJob, Store, StoreError};

/// The longest wait before a retry, however many attempts failed.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10 * 60);
/// How long done and failed jobs stay in the table (for counts and failure reasons).
const RETAIN_FINISHED: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// How often a worker deletes finished jobs older than [`RETAIN_FINISHED`].
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);
/// Floors for settings that must not be zero (a zero poll or heartbeat would spin).
const MIN_TICK: Duration = Duration::from_millis(10);

/// Why a handler did not finish a job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Try again later: after `after` if given (e.g. a short wait when the engine is
    /// overloaded, the normal case under a burst), else after the worker's backoff.
    #[error("{reason}")]
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Give up (bad payload, the subject no longer exists, ...).
    #[error("{reason}")]
    Fatal { reason: String },
}

impl JobError {
    /// Retry after the worker's backoff.
    pub fn retry(reason: impl Into<String>) -> JobError {
        JobError::Retry {
            reason: reason.into(),
            after: None,
        }
    }

    /// Retry after `after`.
    pub fn retry_after(reason: impl Into<String>, after: Duration) -> JobError {
        JobError::Retry {
            reason: reason.into(),
            after: Some(after),
        }
    }

    /// Give up.
    pub fn fatal(reason: impl Into<String>) -> JobError {
        JobError::Fatal {
            reason: reason.into(),
        }
    }

    /// A short stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            JobError::Retry { .. } => "job_retry",
            JobError::Fatal { .. } => "job_fatal",
        }
    }
}

/// Does the work of one kind of job.
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// Works one job. `Ok`: done. [`JobError::Retry`]: try again later with backoff.
    /// [`JobError::Fatal`]: give up (bad payload etc.).
    async fn handle(&self, job: &Job) -> Result<(), JobError>;
}

/// How a [`Worker`] runs its kind of job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    /// The job kind this worker claims (and its metrics label).
    pub kind: &'static str,
    /// Jobs worked at once (at least 1).
    pub concurrency: usize,
    /// How long a claimed job is ours without a heartbeat; after that another worker (or this
    /// one after a restart) may claim it again.
    pub lease: Duration,
    /// Attempts before a job that keeps asking for a retry is failed (at least 1).
    pub max_attempts: u32,
    /// The wait before the first retry; doubled for each later one, at most [`MAX_BACKOFF`].
    pub backoff: Duration,
    /// How often an idle worker looks for due jobs when nobody calls [`Worker::notify`].
    pub idle_poll: Duration,
}

impl WorkerSettings {
    /// Settings for `kind`: one job at a time, a 2-minute lease, 5 attempts, 5 s first
    /// backoff, a 5 s idle poll.
    pub fn new(kind: &'static str) -> WorkerSettings {
        WorkerSettings {
            kind,
            concurrency: 1,
            lease: Duration::from_secs(120),
            max_attempts: 5,
            backoff: Duration::from_secs(5),
            idle_poll: Duration::from_secs(5),
        }
    }

    /// The wait after attempt number `attempts` (1-based) asked for a retry.
    pub fn backoff_after(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(20);
        self.backoff
            .saturating_mul(1u32 << doublings)
            .min(MAX_BACKOFF)
    }
}

/// Claims and works jobs of one kind until shut down. Several workers (in one process or
/// several sharing a PostgreSQL database) may run the same kind.
pub struct Worker {
    store: Arc<Store>,
    handler: Arc<dyn JobHandler>,
    settings: WorkerSettings,
    metrics: Arc<Metrics>,
    wake: Notify,
}

impl Worker {
    /// A worker; start it with [`Worker::run`].
    pub fn new(
        store: Arc<Store>,
        handler: Arc<dyn JobHandler>,
        settings: WorkerSettings,
        metrics: Arc<Metrics>,
    ) -> Arc<Worker> {
        Arc::new(Worker {
            store,
            handler,
            settings,
            metrics,
            wake: Notify::new(),
        })
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &WorkerSettings {
        &self.settings
    }

    /// Wakes the worker at once (after an enqueue) instead of at its next idle poll. A wake
    /// while it is busy is remembered.
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// Enqueues `job` (of this worker's kind), counts it as `enqueued` (a deduplicated job
    /// too) and wakes the worker.
    pub async fn enqueue(&self, job: &NewJob) -> Result<i64, StoreError> {
        let id = self.store.enqueue_job(job, SystemTime::now()).await?;
        self.metrics.jobs(self.settings.kind, "enqueued");
        self.notify();
        Ok(id)
    }

    /// Claims and works jobs, up to `concurrency` at a time, until `shutdown` is cancelled;
    /// then claims nothing more and returns once the jobs in hand are finished.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let kind = self.settings.kind;
        let concurrency = self.settings.concurrency.clamp(1, Semaphore::MAX_PERMITS);
        let idle_poll = self.settings.idle_poll.max(MIN_TICK);
        let slots = Arc::new(Semaphore::new(concurrency));
        let mut in_hand = JoinSet::new();
        let mut next_prune = tokio::time::Instant::now();
        tracing::info!(kind, concurrency, "job worker started");

        loop {
            while let Some(joined) = in_hand.try_join_next() {
                report_join(kind, joined);
            }
            if tokio::time::Instant::now() >= next_prune {
                self.prune().await;
                next_prune = tokio::time::Instant::now() + PRUNE_EVERY;
            }
            let slot = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                slot = Arc::clone(&slots).acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_closed) => break, // never closed; kept for completeness
                },
            };
            // Not raced against shutdown: a claim dropped after it committed would leave its
            // job locked until the lease expires.
            let claimed = self
                .store
                .claim_job(kind, self.settings.lease, SystemTime::now())
                .await;
            match claimed {
                Ok(Some(job)) => {
                    let worker = Arc::clone(&self);
                    in_hand.spawn(async move {
                        worker.work(job).await;
                        drop(slot);
                    });
                }
                Ok(None) => {
                    drop(slot);
                    if !self.idle(&shutdown, idle_poll).await {
                        break;
                    }
                }
                Err(error) => {
                    drop(slot);
                    tracing::warn!(kind, %error, label = error.label(), "cannot claim a job");
                    if !self.idle(&shutdown, idle_poll).await {
                        break;
                    }
                }
            }
        }

        if !in_hand.is_empty() {
            tracing::info!(
                kind,
                jobs = in_hand.len(),
                "job worker stopping: finishing jobs"
            );
        }
        while let Some(joined) = in_hand.join_next().await {
            report_join(kind, joined);
        }
        tracing::info!(kind, "job worker stopped: shutdown");
    }

    /// Waits for a wake, the idle poll or shutdown; false on shutdown.
    async fn idle(&self, shutdown: &CancellationToken, poll: Duration) -> bool {
        tokio::select! {
            () = shutdown.cancelled() => false,
            () = self.wake.notified() => true,
            () = tokio::time::sleep(poll) => true,
        }
    }

    /// Works one claimed job and records the outcome.
    async fn work(self: Arc<Self>, job: Job) {
        let kind = self.settings.kind;
        let max_attempts = self.settings.max_attempts.max(1);
        if job.attempts > max_attempts {
            // Claimed again after expired leases more often than allowed: the handler keeps
            // killing or hanging its process, so running it once more would do the same.
            let reason = format!(
                "abandoned: claimed {} times, the lease expired each time",
                job.attempts - 1
            );
            self.give_up(&job, &reason).await;
            return;
        }

        let outcome = self.handle(&job).await;
        let now = SystemTime::now();
        match outcome {
            Ok(()) => match self.store.complete_job(job.id, now).await {
                Ok(true) => {
                    self.metrics.jobs(kind, "done");
                    // A duplicate may have asked it to run again: look now, not at the poll.
                    self.notify();
                }
                Ok(false) => tracing::warn!(
                    kind,
                    job = job.id,
                    "job finished after its lease was lost; another worker had taken it"
                ),
                Err(error) => tracing::warn!(
                    kind, job = job.id, %error, "cannot mark a job done; it will run again"
                ),
            },
            Err(JobError::Retry { reason, after }) if job.attempts < max_attempts => {
                let delay = after
                    .unwrap_or_else(|| self.settings.backoff_after(job.attempts))
                    .min(MAX_BACKOFF);
                match self
                    .store
                    .retry_job(job.id, &reason, later(now, delay), now)
                    .await
                {
                    Ok(_) => {
                        self.metrics.jobs(kind, "retried");
                        tracing::debug!(kind, job = job.id, ?delay, %reason, "job will retry");
                        if delay < self.settings.idle_poll {
                            self.wake_after(delay);
                        }
                    }
                    Err(error) => tracing::warn!(
                        kind, job = job.id, %error, "cannot schedule a job's retry"
                    ),
                }
            }
            Err(JobError::Retry { reason, .. }) => {
                let reason = format!("gave up after {} attempts: {reason}", job.attempts);
                self.give_up(&job, &reason).await;
            }
            Err(JobError::Fatal { reason }) => self.give_up(&job, &reason).await,
        }
    }

    /// Runs the handler, extending the lease while it works. A panic is a retry.
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        let lease = self.settings.lease;
        let beat = (lease / 3).max(MIN_TICK);
        let handling = AssertUnwindSafe(self.handler.handle(job)).catch_unwind();
        tokio::pin!(handling);
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                result = &mut handling => {
                    return result.unwrap_or_else(|_panic| {
                        Err(JobError::retry("the job handler panicked"))
                    });
                }
                _ = heartbeat.tick() => {
                    let now = SystemTime::now();
                    let until = later(now, lease);
                    let extended = self.store.extend_job_lease(job.id, until, now).await;
                    if let Err(error) = extended {
                        tracing::warn!(
                            kind = self.settings.kind, job = job.id, %error,
                            "cannot extend a job's lease"
                        );
                    }
                }
            }
        }
    }

    async fn give_up(&self, job: &Job, reason: &str) {
        let kind = self.settings.kind;
        match self.store.fail_job(job.id, reason, SystemTime::now()).await {
            Ok(_) => {
                self.metrics.jobs(kind, "failed");
                tracing::warn!(kind, job = job.id, %reason, "job failed");
            }
            Err(error) => tracing::warn!(kind, job = job.id, %error, "cannot mark a job failed"),
        }
    }

    /// Wakes the worker after `delay`, for retries due before the next idle poll.
    fn wake_after(self: &Arc<Self>, delay: Duration) {
        let worker = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            worker.notify();
        });
    }

    /// Deletes this kind's finished jobs older than [`RETAIN_FINISHED`].
    async fn prune(&self) {
        let kind = self.settings.kind;
        let Some(before) = SystemTime::now().checked_sub(RETAIN_FINISHED) else {
            return;
        };
        match self.store.prune_jobs(kind, before).await {
            Ok(0) => {}
            Ok(pruned) => tracing::debug!(kind, pruned, "pruned finished jobs"),
            Err(error) => tracing::warn!(kind, %error, "cannot prune finished jobs"),
        }
    }
}

/// `now + by`, or `now + MAX_BACKOFF` where that would overflow (absurd settings).
fn later(now: SystemTime, by: Duration) -> SystemTime {
    now.checked_add(by).unwrap_or(now + MAX_BACKOFF)
}

/// Logs a job task that ended abnormally (handler panics are caught before this).
fn report_join(kind: &'static str, joined: Result<(), JoinError>) {
    if let Err(error) = joined {
        tracing::error!(kind, %error, "a job task ended abnormally");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mut settings = WorkerSettings::new("test");
        settings.backoff = Duration::from_secs(5);
        let cases = [
            (0, 5),
            (1, 5),
            (2, 10),
            (3, 20),
            (4, 40),
            (8, 600),
            (u32::MAX, 600),
        ];
        for (attempts, seconds) in cases {
            assert_eq!(
                settings.backoff_after(attempts),
                Duration::from_secs(seconds),
                "{attempts}"
            );
        }
        settings.backoff = Duration::ZERO;
        assert_eq!(settings.backoff_after(3), Duration::ZERO);
    }

    #[test]
    fn errors_have_labels_and_constructors() {
        let cases = [
            (JobError::retry("busy"), "job_retry", None),
            (
                JobError::retry_after("overloaded", Duration::from_millis(50)),
                "job_retry",
                Some(Duration::from_millis(50)),
            ),
            (JobError::fatal("bad payload"), "job_fatal", None),
        ];
        for (error, label, wanted_after) in cases {
            assert_eq!(error.label(), label);
            if let JobError::Retry { after, .. } = &error {
                assert_eq!(*after, wanted_after);
            }
        }
        assert_eq!(JobError::fatal("bad payload").to_string(), "bad payload");
    }
}
