//! The engine scheduler: class order, refusal when a queue is full, cancellation, deadlines,
//! and that 2,000 queued background jobs delay an interactive request by at most the generation
//! in flight, with a fake backend and with the real model.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use steward::llm::{
    Backend, BackendJob, ChatRequest, Engine, EngineInfo, GenerationStats, LlmError, LlmStream,
    Priority, Scheduler, SchedulerSettings, StreamEvent,
};
use steward::metrics::Metrics;
use tokio::sync::{mpsc, Notify};

/// "Generates" one word per requested token, pausing before each; a user message "fail" fails.
/// Stops as soon as its reader is gone (as real backends do).
pub struct Fake {
    pub pause: Duration,
}

#[async_trait]
impl Backend for Fake {
    fn info(&self) -> EngineInfo {
        EngineInfo {
            model: "fake".to_string(),
            backend: "test".to_string(),
            context_tokens: None,
        }
    }

    async fn generate(
        &self,
        job: BackendJob,
        sink: mpsc::Sender<StreamEvent>,
    ) -> Result<(), LlmError> {
        if prompt(&job.request) == "fail" {
            return Err(LlmError::Generation("scripted failure".to_string()));
        }
        for i in 0..job.request.max_new_tokens {
            tokio::time::sleep(self.pause).await;
            if sink
                .send(StreamEvent::Delta(format!("w{i} ")))
                .await
                .is_err()
            {
                return Ok(());
            }
        }
        let stats = GenerationStats {
            generated_tokens: job.request.max_new_tokens,
            ..GenerationStats::default()
        };
        let _ = sink.send(StreamEvent::Done(stats)).await;
        Ok(())
    }

    async fn count_tokens(&self, text: &str) -> Result<usize, LlmError> {
        Ok(text.split_whitespace().count())
    }
}

fn prompt(request: &ChatRequest) -> String {
    request
        .messages
        .last()
        .map(|m| m.content.clone())
        .unwrap_or_default()
}

fn index(class: Priority) -> usize {
    match class {
        Priority::Interactive => 0,
        Priority::Moderation => 1,
        Priority::Background => 2,
    }
}

/// One generation the backend began.
#[derive(Debug, Clone)]
struct Start {
    class: Priority,
    at: Instant,
    prompt: String,
}

/// What a [`Recorded`] backend saw: starts in order, and how many ran at once per class.
#[derive(Default)]
struct Log {
    starts: Mutex<Vec<Start>>,
    running: [AtomicUsize; 3],
    max_running: [AtomicUsize; 3],
    started: Notify,
}

impl Log {
    fn starts(&self) -> Vec<Start> {
        self.starts.lock().unwrap().clone()
    }

    fn prompts(&self) -> Vec<String> {
        self.starts().into_iter().map(|s| s.prompt).collect()
    }

    fn started_count(&self, class: Priority) -> usize {
        self.starts().iter().filter(|s| s.class == class).count()
    }

    fn running(&self, class: Priority) -> usize {
        self.running[index(class)].load(Ordering::SeqCst)
    }

    fn max_running(&self, class: Priority) -> usize {
        self.max_running[index(class)].load(Ordering::SeqCst)
    }

    /// Waits until at least `count` generations of `class` have begun.
    async fn wait_for_starts(&self, class: Priority, count: usize) {
        loop {
            // Created before the check, so a start in between still wakes it.
            let notified = self.started.notified();
            if self.started_count(class) >= count {
                return;
            }
            notified.await;
        }
    }
}

/// Ends one recorded generation's "running" however the backend call ends.
struct RunningGuard<'a> {
    log: &'a Log,
    class: Priority,
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        self.log.running[index(self.class)].fetch_sub(1, Ordering::SeqCst);
    }
}

/// Wraps any backend (the fake or the real model) and logs every generation it begins.
struct Recorded {
    inner: Arc<dyn Backend>,
    log: Arc<Log>,
}

#[async_trait]
impl Backend for Recorded {
    fn info(&self) -> EngineInfo {
        self.inner.info()
    }

    async fn generate(
        &self,
        job: BackendJob,
        sink: mpsc::Sender<StreamEvent>,
    ) -> Result<(), LlmError> {
        let class = job.request.priority;
        let now = self.log.running[index(class)].fetch_add(1, Ordering::SeqCst) + 1;
        self.log.max_running[index(class)].fetch_max(now, Ordering::SeqCst);
        let _running = RunningGuard {
            log: self.log.as_ref(),
            class,
        };
        self.log.starts.lock().unwrap().push(Start {
            class,
            at: Instant::now(),
            prompt: prompt(&job.request),
        });
        self.log.started.notify_waiters();
        self.inner.generate(job, sink).await
    }

    async fn count_tokens(&self, text: &str) -> Result<usize, LlmError> {
        self.inner.count_tokens(text).await
    }
}

/// A scheduler over `backend`, with the log of what the backend began and fresh metrics.
fn scheduler(
    backend: Arc<dyn Backend>,
    queue_capacity: usize,
    max_concurrent: usize,
) -> (Scheduler, Arc<Log>, Arc<Metrics>) {
    scheduler_with(backend, queue_capacity, max_concurrent, false)
}

/// [`scheduler`], with background work giving way to interactive requests or not.
fn scheduler_with(
    backend: Arc<dyn Backend>,
    queue_capacity: usize,
    max_concurrent: usize,
    preempt_background: bool,
) -> (Scheduler, Arc<Log>, Arc<Metrics>) {
    let log = Arc::new(Log::default());
    let metrics = Metrics::new();
    let recorded = Recorded {
        inner: backend,
        log: log.clone(),
    };
    let settings = SchedulerSettings {
        queue_capacity,
        max_concurrent,
        preempt_background,
    };
    let scheduler = Scheduler::new(Arc::new(recorded), settings, metrics.clone());
    (scheduler, log, metrics)
}

fn fake(pause_ms: u64) -> Arc<dyn Backend> {
    Arc::new(Fake {
        pause: Duration::from_millis(pause_ms),
    })
}

fn request(class: Priority, tokens: usize, prompt: &str) -> ChatRequest {
    ChatRequest::new("sys", prompt)
        .with_max_new_tokens(tokens)
        .with_priority(class)
}

/// Polls `done` every 10 ms for up to `limit`.
async fn eventually(limit: Duration, what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_jobs_start_before_queued_moderation_and_background_ones() {
    let (engine, log, metrics) = scheduler(fake(20), 16, 1);
    let blocker = engine
        .stream(request(Priority::Background, 5, "blocker"))
        .await
        .unwrap();
    log.wait_for_starts(Priority::Background, 1).await;
    let mut streams = vec![blocker];
    for n in 1..=3 {
        for (class, name) in [
            (Priority::Background, "b"),
            (Priority::Moderation, "m"),
            (Priority::Interactive, "i"),
        ] {
            let stream = engine.stream(request(class, 1, &format!("{name}{n}")));
            streams.push(stream.await.unwrap());
        }
    }
    for result in futures::future::join_all(streams.into_iter().map(LlmStream::collect)).await {
        result.expect("every job completes");
    }
    assert_eq!(
        log.prompts(),
        ["blocker", "i1", "i2", "i3", "m1", "m2", "m3", "b1", "b2", "b3"]
    );
    assert_eq!(metrics.engine_outcome_count("interactive", "completed"), 3);
    assert_eq!(metrics.engine_outcome_count("moderation", "completed"), 3);
    assert_eq!(metrics.engine_outcome_count("background", "completed"), 4);
    for class in Priority::ALL {
        assert_eq!(metrics.engine_gauge("queued", class.as_str()), 0);
        assert_eq!(metrics.engine_gauge("running", class.as_str()), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_is_refused_at_once_and_counted() {
    let (engine, log, metrics) = scheduler(fake(20), 2, 1);
    let blocker = engine
        .stream(request(Priority::Interactive, 5, "blocker"))
        .await
        .unwrap();
    log.wait_for_starts(Priority::Interactive, 1).await;
    let mut waiting = Vec::new();
    for n in 0..2 {
        let stream = engine.stream(request(Priority::Interactive, 1, &format!("q{n}")));
        waiting.push(stream.await.unwrap());
    }
    assert_eq!(metrics.engine_gauge("queued", "interactive"), 2);
    // Refused, not made to wait for room.
    match engine
        .stream(request(Priority::Interactive, 1, "one too many"))
        .await
    {
        Err(LlmError::Overloaded { queued, capacity }) => assert_eq!((queued, capacity), (2, 2)),
        other => panic!("expected Overloaded, got {other:?}"),
    }
    assert_eq!(metrics.engine_outcome_count("interactive", "refused"), 1);
    // Each class has its own queue: background work is still accepted.
    waiting.push(
        engine
            .stream(request(Priority::Background, 1, "other class"))
            .await
            .unwrap(),
    );
    waiting.push(blocker);
    for stream in waiting {
        stream.collect().await.expect("accepted jobs complete");
    }
    assert_eq!(metrics.engine_outcome_count("interactive", "completed"), 3);
    assert_eq!(metrics.engine_gauge("queued", "interactive"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_dropped_while_queued_is_skipped_and_never_reaches_the_backend() {
    let (engine, log, metrics) = scheduler(fake(20), 4, 1);
    let blocker = engine
        .stream(request(Priority::Background, 5, "blocker"))
        .await
        .unwrap();
    log.wait_for_starts(Priority::Background, 1).await;
    let gone = engine
        .stream(request(Priority::Interactive, 1, "gone"))
        .await
        .unwrap();
    drop(gone);
    let kept = engine
        .stream(request(Priority::Interactive, 1, "kept"))
        .await
        .unwrap();
    kept.collect().await.expect("the kept job completes");
    blocker.collect().await.expect("the blocker completes");
    assert_eq!(log.prompts(), ["blocker", "kept"]);
    assert_eq!(metrics.engine_outcome_count("interactive", "cancelled"), 1);
    assert_eq!(metrics.engine_outcome_count("interactive", "completed"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_running_stream_stops_the_backend() {
    let (engine, log, metrics) = scheduler(fake(5), 4, 1);
    let mut stream = engine
        .stream(request(Priority::Interactive, 5000, "long"))
        .await
        .unwrap();
    assert!(matches!(
        stream.next_event().await,
        Some(StreamEvent::Delta(_))
    ));
    drop(stream);
    // 5,000 words would take 25 s; the backend sees its sink closed within a word or two.
    eventually(Duration::from_secs(2), "the backend stops", || {
        log.running(Priority::Interactive) == 0
    })
    .await;
    eventually(Duration::from_secs(2), "the outcome is counted", || {
        metrics.engine_outcome_count("interactive", "cancelled") == 1
    })
    .await;
    assert_eq!(metrics.engine_gauge("running", "interactive"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_preemption_a_question_stops_background_work_and_new_work_waits_for_it() {
    let (engine, log, metrics) = scheduler_with(fake(5), 4, 2, true);
    let mut background = engine
        .stream(request(Priority::Background, 5000, "long"))
        .await
        .unwrap();
    assert!(matches!(
        background.next_event().await,
        Some(StreamEvent::Delta(_))
    ));
    // 60 words: about 300 ms.
    let mut question = engine
        .stream(request(Priority::Interactive, 60, "question"))
        .await
        .unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match background.next_event().await {
                Some(StreamEvent::Delta(_)) => continue,
                other => return other,
            }
        }
    })
    .await
    .expect("the background generation stops within 2 s (it would run 25 s)");
    assert!(
        matches!(stopped, Some(StreamEvent::Error(LlmError::Preempted))),
        "{stopped:?}"
    );
    // Background work asked for while the question runs waits for it to end.
    let mut later = engine
        .stream(request(Priority::Background, 3, "later"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(
        log.running(Priority::Background),
        0,
        "waits for the question"
    );
    loop {
        match question.next_event().await {
            Some(StreamEvent::Delta(_)) => continue,
            Some(StreamEvent::Done(_)) => break,
            other => panic!("the question finishes: {other:?}"),
        }
    }
    loop {
        match later.next_event().await {
            Some(StreamEvent::Delta(_)) => continue,
            Some(StreamEvent::Done(_)) => break,
            other => panic!("the later background job runs afterwards: {other:?}"),
        }
    }
    assert_eq!(metrics.engine_outcome_count("background", "preempted"), 1);
    assert_eq!(metrics.engine_outcome_count("background", "completed"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_preemption_background_work_runs_beside_a_question() {
    let (engine, _log, metrics) = scheduler_with(fake(5), 4, 2, false);
    let mut background = engine
        .stream(request(Priority::Background, 40, "long"))
        .await
        .unwrap();
    assert!(matches!(
        background.next_event().await,
        Some(StreamEvent::Delta(_))
    ));
    let question = engine
        .stream(request(Priority::Interactive, 5, "question"))
        .await
        .unwrap();
    drop(question);
    loop {
        match background.next_event().await {
            Some(StreamEvent::Delta(_)) => continue,
            Some(StreamEvent::Done(_)) => break,
            other => panic!("the background job finishes: {other:?}"),
        }
    }
    assert_eq!(metrics.engine_outcome_count("background", "preempted"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_that_passes_in_the_queue_sheds_the_job() {
    let (engine, log, metrics) = scheduler(fake(20), 4, 1);
    let blocker = engine
        .stream(request(Priority::Background, 10, "blocker"))
        .await
        .unwrap();
    log.wait_for_starts(Priority::Background, 1).await;
    let late = request(Priority::Interactive, 1, "late").with_deadline(Duration::from_millis(50));
    match engine.generate(late).await {
        Err(LlmError::DeadlineExceeded(deadline)) => {
            assert_eq!(deadline, Duration::from_millis(50))
        }
        other => panic!("expected DeadlineExceeded, got {other:?}"),
    }
    blocker.collect().await.expect("the blocker completes");
    assert_eq!(log.prompts(), ["blocker"], "the late job never started");
    assert_eq!(metrics.engine_outcome_count("interactive", "shed"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_during_generation_times_out() {
    let (engine, log, metrics) = scheduler(fake(5), 4, 1);
    let slow =
        request(Priority::Interactive, 5000, "slow").with_deadline(Duration::from_millis(100));
    let started = Instant::now();
    match engine.generate(slow).await {
        Err(LlmError::DeadlineExceeded(deadline)) => {
            assert_eq!(deadline, Duration::from_millis(100))
        }
        other => panic!("expected DeadlineExceeded, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(metrics.engine_outcome_count("interactive", "timed_out"), 1);
    eventually(Duration::from_secs(2), "the backend stops", || {
        log.running(Priority::Interactive) == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_errors_reach_the_caller_and_count_as_failed() {
    let (engine, _log, metrics) = scheduler(fake(1), 4, 1);
    let error = engine
        .generate(request(Priority::Moderation, 3, "fail"))
        .await
        .unwrap_err();
    assert_eq!(error.label(), "generation");
    assert_eq!(metrics.engine_outcome_count("moderation", "failed"), 1);
    // Invalid requests never reach a queue.
    let invalid = engine
        .stream(request(Priority::Interactive, 0, "zero tokens"))
        .await
        .unwrap_err();
    assert_eq!(invalid.label(), "invalid_request");
    let answer = engine
        .generate(request(Priority::Interactive, 3, "fine"))
        .await
        .unwrap();
    assert_eq!(answer.text, "w0 w1 w2 ");
    assert_eq!(answer.stats.class, Priority::Interactive);
    assert!(answer.stats.started_at.is_some());
    assert_eq!(engine.count_tokens("three little words").await.unwrap(), 3);
}

/// Queues 2,000 copies of `background` at background priority, waits until the background
/// slots are busy, then asks `interactive`. Returns the answer's text; asserts that
/// no background job began between the question and its start, and that the background
/// classes never held more than their share of slots. Drops the background streams at the
/// end and checks each of the 2,000 ended as completed or cancelled.
async fn interactive_after_a_background_burst(
    backend: Arc<dyn Backend>,
    max_concurrent: usize,
    background: ChatRequest,
    interactive: ChatRequest,
) -> String {
    const BURST: usize = 2_000;
    let (engine, log, metrics) = scheduler(backend, 4_000, max_concurrent);
    let share = engine.settings().non_interactive_slots();
    let mut queued = Vec::with_capacity(BURST);
    for _ in 0..BURST {
        let job = background.clone().with_priority(Priority::Background);
        queued.push(engine.stream(job).await.expect("room for the burst"));
    }
    log.wait_for_starts(Priority::Background, share).await;

    let asked = Instant::now();
    let answer = engine
        .generate(interactive.with_priority(Priority::Interactive))
        .await
        .expect("the interactive request is answered");
    let starts = log.starts();
    let interactive_start = starts
        .iter()
        .find(|s| s.class == Priority::Interactive)
        .map(|s| s.at)
        .expect("the interactive request started");
    let overtaking: Vec<&Start> = starts
        .iter()
        .filter(|s| s.class == Priority::Background && s.at > asked && s.at < interactive_start)
        .collect();
    assert!(
        overtaking.is_empty(),
        "{} background jobs started after the interactive request was queued and before it",
        overtaking.len()
    );
    assert!(
        interactive_start - asked < Duration::from_secs(5),
        "waited {:?}",
        interactive_start - asked
    );
    assert!(
        log.max_running(Priority::Background) <= share,
        "{} background jobs ran at once; their share is {share}",
        log.max_running(Priority::Background)
    );

    // Nobody waits for the rest: dropping their streams cancels them, queued or running.
    drop(queued);
    let ended = |outcome: &'static str| metrics.engine_outcome_count("background", outcome);
    eventually(Duration::from_secs(30), "every background job ends", || {
        ended("completed") + ended("cancelled") == BURST as u64
    })
    .await;
    assert!(ended("cancelled") > 0);
    for outcome in ["refused", "shed", "timed_out", "failed"] {
        assert_eq!(ended(outcome), 0, "{outcome}");
    }
    assert_eq!(metrics.engine_gauge("queued", "background"), 0);
    assert_eq!(metrics.engine_gauge("running", "background"), 0);
    assert_eq!(metrics.engine_outcome_count("interactive", "completed"), 1);
    answer.text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_burst_delays_interactive_by_at_most_one_generation() {
    // Background generations of 10 words x 20 ms: long enough that none ends by chance while
    // the interactive request is being queued.
    for max_concurrent in [1, 2, 3] {
        let text = interactive_after_a_background_burst(
            fake(20),
            max_concurrent,
            request(Priority::Background, 10, "background"),
            request(Priority::Interactive, 2, "urgent"),
        )
        .await;
        assert_eq!(text, "w0 w1 ", "max_concurrent {max_concurrent}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_burst_delays_interactive_by_at_most_one_generation_real_model() {
    const SYSTEM: &str = "You are a helpful assistant. Answer briefly and accurately.";
    let started = Instant::now();
    let model: Arc<dyn Backend> = Arc::new(crate::model_util::backend(2).await);
    let text = interactive_after_a_background_burst(
        model,
        2,
        ChatRequest::new(SYSTEM, "Say hello.").with_max_new_tokens(4),
        ChatRequest::new(SYSTEM, "What is the capital of France?").with_max_new_tokens(16),
    )
    .await;
    assert!(!text.trim().is_empty(), "the interactive answer is empty");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}
