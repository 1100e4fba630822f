//! The background job worker on a SQLite file: a burst of 200 jobs is all done (every third
//! one failing its first attempt, as under an overloaded engine), fatal errors and exhausted
//! retries fail, and a worker stopped mid-burst plus one that died holding a job lose nothing
//! when a new process on the same file takes over. Short leases and backoffs keep it to seconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use steward::jobs::{JobError, JobHandler, Worker, WorkerSettings};
use steward::metrics::Metrics;
use steward::store::{Job, JobCounts, JobState, NewJob, Store};
use tokio_util::sync::CancellationToken;

const KIND: &str = "test-job";

/// Numbered jobs: the first attempt (by the store's count) of every third fails with a short
/// retry, like a review refused by a busy engine. `bad` is fatal; `always-busy` never succeeds.
struct Flaky {
    work: Duration,
    /// Handler calls per payload.
    calls: Mutex<HashMap<String, u32>>,
    /// Payloads finished, in order.
    done: Mutex<Vec<String>>,
}

impl Flaky {
    fn new(work: Duration) -> Arc<Flaky> {
        Arc::new(Flaky {
            work,
            calls: Mutex::new(HashMap::new()),
            done: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self, payload: &str) -> u32 {
        self.calls
            .lock()
            .unwrap()
            .get(payload)
            .copied()
            .unwrap_or(0)
    }

    fn done(&self) -> Vec<String> {
        self.done.lock().unwrap().clone()
    }
}

#[async_trait]
impl JobHandler for Flaky {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(job.payload.clone())
            .or_insert(0) += 1;
        tokio::time::sleep(self.work).await;
        let busy = || JobError::retry_after("the model is busy", Duration::from_millis(10));
        let number: u32 = match job.payload.as_str() {
            "bad" => return Err(JobError::fatal("bad payload")),
            "always-busy" => return Err(busy()),
            number => number
                .parse()
                .map_err(|_| JobError::fatal("not a number"))?,
        };
        if number.is_multiple_of(3) && job.attempts == 1 {
            return Err(busy());
        }
        self.done.lock().unwrap().push(job.payload.clone());
        Ok(())
    }
}

fn settings(concurrency: usize) -> WorkerSettings {
    WorkerSettings {
        kind: KIND,
        concurrency,
        lease: Duration::from_secs(5),
        max_attempts: 3,
        backoff: Duration::from_millis(20),
        idle_poll: Duration::from_millis(50),
    }
}

async fn open_store(dir: &tempfile::TempDir) -> Arc<Store> {
    let url = format!("sqlite://{}", dir.path().join("steward.db").display());
    Arc::new(Store::open(&url).await.unwrap())
}

/// Polls the counts until `reached`; panics after `timeout`.
async fn wait_for(
    store: &Store,
    what: &str,
    timeout: Duration,
    reached: impl Fn(&JobCounts) -> bool,
) -> JobCounts {
    let started = Instant::now();
    loop {
        let counts = store.job_counts().await.unwrap();
        if reached(&counts) {
            return counts;
        }
        assert!(
            started.elapsed() < timeout,
            "timed out waiting for {what}: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn numbers(count: u32) -> Vec<String> {
    let mut all: Vec<String> = (0..count).map(|n| n.to_string()).collect();
    all.sort();
    all
}

fn sorted(mut payloads: Vec<String>) -> Vec<String> {
    payloads.sort();
    payloads
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_of_200_jobs_all_done() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir).await;
    let handler = Flaky::new(Duration::from_millis(2));
    let worker = Worker::new(store.clone(), handler.clone(), settings(8), Metrics::new());
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(Arc::clone(&worker).run(shutdown.clone()));

    // The burst: 200 enqueues at once, as reports arrive, while the worker runs.
    let started = Instant::now();
    let mut enqueues = tokio::task::JoinSet::new();
    for n in 0..200u32 {
        let worker = Arc::clone(&worker);
        enqueues.spawn(async move { worker.enqueue(&NewJob::new(KIND, n.to_string())).await });
    }
    while let Some(enqueued) = enqueues.join_next().await {
        enqueued.unwrap().unwrap();
    }
    let counts = wait_for(&store, "200 jobs done", Duration::from_secs(60), |c| {
        c.done == 200
    })
    .await;
    eprintln!("200 jobs done in {:?}", started.elapsed());
    assert_eq!(
        counts,
        JobCounts {
            pending: 0,
            running: 0,
            done: 200,
            failed: 0
        }
    );
    shutdown.cancel();
    running.await.unwrap();

    assert_eq!(sorted(handler.done()), numbers(200), "each job done once");
    for n in 0..200u32 {
        let expected = if n % 3 == 0 { 2 } else { 1 };
        assert_eq!(handler.calls(&n.to_string()), expected, "job {n}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fatal_errors_and_exhausted_retries_fail() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir).await;
    let handler = Flaky::new(Duration::ZERO);
    let worker = Worker::new(store.clone(), handler.clone(), settings(2), Metrics::new());
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(Arc::clone(&worker).run(shutdown.clone()));

    let bad = worker.enqueue(&NewJob::new(KIND, "bad")).await.unwrap();
    let busy = worker
        .enqueue(&NewJob::new(KIND, "always-busy"))
        .await
        .unwrap();
    let good = worker.enqueue(&NewJob::new(KIND, "7")).await.unwrap();
    wait_for(&store, "2 failed, 1 done", Duration::from_secs(30), |c| {
        c.failed == 2 && c.done == 1
    })
    .await;
    shutdown.cancel();
    running.await.unwrap();

    let bad = store.job(bad).await.unwrap().unwrap();
    assert_eq!((bad.state, bad.attempts), (JobState::Failed, 1));
    assert_eq!(bad.last_error.as_deref(), Some("bad payload"));
    let busy = store.job(busy).await.unwrap().unwrap();
    assert_eq!((busy.state, busy.attempts), (JobState::Failed, 3));
    assert_eq!(
        busy.last_error.as_deref(),
        Some("gave up after 3 attempts: the model is busy")
    );
    assert_eq!(handler.calls("always-busy"), 3);
    let good = store.job(good).await.unwrap().unwrap();
    assert_eq!(good.state, JobState::Done);
}

/// A worker stopped mid-burst finishes the jobs in hand; a job held by a process that died
/// comes back after its lease; a new process on the same file finishes everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_burst_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir).await;
    for n in 0..200u32 {
        store
            .enqueue_job(&NewJob::new(KIND, n.to_string()), SystemTime::now())
            .await
            .unwrap();
    }

    let first = Flaky::new(Duration::from_millis(10));
    let worker = Worker::new(store.clone(), first.clone(), settings(4), Metrics::new());
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(Arc::clone(&worker).run(shutdown.clone()));
    wait_for(&store, "40 jobs done", Duration::from_secs(30), |c| {
        c.done >= 40
    })
    .await;
    shutdown.cancel();
    running.await.unwrap();

    let stopped = store.job_counts().await.unwrap();
    eprintln!("stopped with {stopped:?}");
    assert_eq!(stopped.running, 0, "jobs in hand are finished on shutdown");
    assert_eq!(stopped.failed, 0);
    assert_eq!(stopped.pending + stopped.done, 200);
    assert!(stopped.pending > 1, "stopped mid-burst: {stopped:?}");

    // Another process claims a job and dies without finishing it.
    let orphan = store
        .claim_job(KIND, Duration::from_millis(300), SystemTime::now())
        .await
        .unwrap()
        .expect("a pending job");
    store.close().await;
    drop(worker);

    // The restarted process, on the same file.
    let store = open_store(&dir).await;
    let second = Flaky::new(Duration::from_millis(1));
    let worker = Worker::new(store.clone(), second.clone(), settings(4), Metrics::new());
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(Arc::clone(&worker).run(shutdown.clone()));
    let counts = wait_for(&store, "all 200 done", Duration::from_secs(60), |c| {
        c.done == 200
    })
    .await;
    shutdown.cancel();
    running.await.unwrap();
    assert_eq!(counts.unfinished() + counts.failed, 0, "{counts:?}");

    let mut all = first.done();
    all.extend(second.done());
    assert_eq!(sorted(all), numbers(200), "each job done exactly once");
    assert!(
        second.done().contains(&orphan.payload),
        "the orphaned job {} was finished after its lease",
        orphan.payload
    );
    let record = store.job(orphan.id).await.unwrap().unwrap();
    assert!(record.attempts >= 2, "{record:?}");
    store.close().await;
}
