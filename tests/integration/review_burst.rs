//! Durable reviews: a burst of 200 reports through the router as `steward run` wires it, over
//! the engine scheduler with a fake model. Every report gets its verdict (none dropped because
//! the model was busy), a member's question is answered during the burst, and stopping the
//! process mid-burst loses nothing: a new process on the same database finishes the reviews.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use steward::community::Router;
use steward::config::Config;
use steward::core::{
    Action, Author, Body, ChannelId, Command, CommunityId, Event, EventKind, Location, Message,
    MessageId, Platform, Reaction, Role, UserId,
};
use steward::llm::{
    Backend, BackendJob, EngineInfo, GenerationStats, LlmError, Priority, Scheduler,
    SchedulerSettings, StreamEvent,
};
use steward::metrics::Metrics;
use steward::store::Store;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const REPORTS: usize = 200;

/// A model that takes a little time: a verdict for reviews, a sentence for questions.
struct Judge;

#[async_trait]
impl Backend for Judge {
    fn info(&self) -> EngineInfo {
        EngineInfo {
            model: "judge".into(),
            backend: "test".into(),
            context_tokens: None,
        }
    }

    async fn generate(
        &self,
        job: BackendJob,
        sink: mpsc::Sender<StreamEvent>,
    ) -> Result<(), LlmError> {
        tokio::time::sleep(Duration::from_millis(15)).await;
        let text = match job.request.priority {
            Priority::Interactive => "Pin it with an exact version requirement.",
            _ => r#"{"category": "spam", "severity": "medium"}"#,
        };
        let _ = sink.send(StreamEvent::Delta(text.into())).await;
        let _ = sink
            .send(StreamEvent::Done(GenerationStats::default()))
            .await;
        Ok(())
    }

    async fn count_tokens(&self, text: &str) -> Result<usize, LlmError> {
        Ok(text.split_whitespace().count())
    }
}

fn general() -> Location {
    Location {
        platform: Platform::Console,
        community: CommunityId::new("c"),
        channel: ChannelId::new("general"),
        thread: None,
    }
}

fn member(id: String) -> Author {
    Author {
        id: UserId::new(id.clone()),
        display_name: id,
        role: Role::Member,
        is_bot: false,
    }
}

/// Spam message number `n` by its own poster.
fn spam(n: usize) -> Message {
    Message {
        id: MessageId::new(format!("m{n}")),
        location: general(),
        author: member(format!("poster{n}")),
        text: format!("cheap followers, offer {n}"),
        created_at: SystemTime::now(),
        reply_to: None,
        mentions_bot: false,
        replies_to_bot: false,
    }
}

/// A 🚩 report of message `n` by its own reporter.
fn flag(n: usize) -> Reaction {
    Reaction {
        location: general(),
        message: MessageId::new(format!("m{n}")),
        user: UserId::new(format!("reporter{n}")),
        emoji: "🚩".into(),
    }
}

/// A process: the router over a fresh scheduler on `store`, its workers running until `stop`.
fn process(
    store: Arc<Store>,
    stop: &CancellationToken,
) -> (Router, Vec<tokio::task::JoinHandle<()>>) {
    process_serving(store, stop, &Platform::ALL)
}

/// A process that serves only `platforms` (as `steward run` with those adapters configured).
fn process_serving(
    store: Arc<Store>,
    stop: &CancellationToken,
    platforms: &[Platform],
) -> (Router, Vec<tokio::task::JoinHandle<()>>) {
    let mut config = Config::defaults();
    // The burst is spread over many members and reporters; rules and quotas are tested elsewhere.
    config.moderation.flood = None;
    let metrics = Metrics::new();
    let settings = SchedulerSettings {
        queue_capacity: 16,
        max_concurrent: 2,
        preempt_background: false,
    };
    let engine = Arc::new(Scheduler::new(Arc::new(Judge), settings, metrics.clone()));
    let router = steward::app::router_serving(&config, store, engine, metrics, platforms, None);
    let workers = router.start_background(stop);
    (router, workers)
}

async fn reviewed(store: &Store) -> usize {
    let mut count = 0;
    for id in 1..=REPORTS as i64 {
        let case = store
            .case(Platform::Console, &CommunityId::new("c"), id)
            .await
            .unwrap();
        if case.is_some_and(|case| case.reviewed_at.is_some()) {
            count += 1;
        }
    }
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_reports_get_two_hundred_verdicts_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/steward.db", dir.path().display());
    let store = Arc::new(Store::open(&url).await.unwrap());
    let first_stop = CancellationToken::new();
    let (router, workers) = process(store.clone(), &first_stop);
    let mut background = router.subscribe(Platform::Console);

    for n in 0..REPORTS {
        let message = spam(n);
        router
            .handle(Event::now(EventKind::MessagePosted(message)))
            .await;
    }
    let started = Instant::now();
    for n in 0..REPORTS {
        let report = flag(n);
        let actions = router
            .handle(Event::now(EventKind::ReactionAdded(report)))
            .await;
        assert_eq!(actions.len(), 1, "the case opens at once: {actions:?}");
    }
    let burst = started.elapsed();

    // A question during the burst is answered (interactive work goes first).
    let asked = Instant::now();
    let mut actions = router
        .handle(Event::now(EventKind::CommandInvoked {
            location: general(),
            invoker: member("asker".into()),
            command: Command::Ask {
                question: "How do I pin a crate version?".into(),
            },
            message: Some(MessageId::new("q1")),
        }))
        .await;
    let Some(Action::Reply(reply)) = actions.pop() else {
        panic!("an answer")
    };
    let Body::Streaming(stream) = reply.body else {
        panic!("a streamed answer")
    };
    let (text, failure) = stream.collect_text().await;
    assert!(
        failure.is_none() && text.contains("exact version"),
        "{text} {failure:?}"
    );
    let answered_after = asked.elapsed();

    // Stop the first process mid-burst.
    let deadline = Instant::now() + Duration::from_secs(60);
    while reviewed(&store).await < 40 {
        assert!(Instant::now() < deadline, "reviews progress");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first_stop.cancel();
    for worker in workers {
        worker.await.unwrap();
    }
    let before_restart = reviewed(&store).await;
    let mut posted = 0;
    while background.try_recv().is_ok() {
        posted += 1;
    }
    drop(router);
    assert!(
        before_restart < REPORTS,
        "the burst was still running at the stop ({before_restart} reviewed)"
    );

    // A new process on the same database finishes every review.
    let second_stop = CancellationToken::new();
    let (router, _workers) = process(store.clone(), &second_stop);
    let mut background = router.subscribe(Platform::Console);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        while background.try_recv().is_ok() {
            posted += 1;
        }
        let counts = store.job_counts().await.unwrap();
        if counts.pending + counts.running == 0 {
            assert_eq!(counts.failed, 0, "{counts:?}");
            break;
        }
        assert!(Instant::now() < deadline, "reviews finish: {counts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    while background.try_recv().is_ok() {
        posted += 1;
    }
    assert_eq!(
        reviewed(&store).await,
        REPORTS,
        "every report has its verdict"
    );
    // Each verdict reached the moderators once (a review run twice posts nothing the 2nd time).
    assert_eq!(posted, REPORTS, "one follow-up per verdict");
    eprintln!(
        "review burst: {REPORTS} reports in {burst:?}; a question answered {answered_after:?} after asking; \
         {before_restart} reviewed before the restart"
    );
    second_stop.cancel();
}

/// Several processes share one database (a Matrix process, Discord shard processes): a
/// review's verdict is delivered by the process that ran it, through its own adapter, so a
/// process never claims the reviews of a platform it does not serve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_claims_only_the_reviews_of_the_platforms_it_serves() {
    const QUEUED: usize = 5;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/steward.db", dir.path().display());
    let store = Arc::new(Store::open(&url).await.unwrap());
    // The process that takes the reports runs no workers (it stopped before reviewing).
    let stopped = CancellationToken::new();
    stopped.cancel();
    let (reporting, _) = process_serving(store.clone(), &stopped, &[Platform::Console]);
    for n in 0..QUEUED {
        let message = spam(n);
        reporting
            .handle(Event::now(EventKind::MessagePosted(message)))
            .await;
        let report = flag(n);
        reporting
            .handle(Event::now(EventKind::ReactionAdded(report)))
            .await;
    }
    assert_eq!(store.job_counts().await.unwrap().pending, QUEUED as u64);

    // A process serving the other platforms leaves them alone.
    let others = CancellationToken::new();
    let (_other, _) = process_serving(
        store.clone(),
        &others,
        &[Platform::Discord, Platform::Matrix],
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let counts = store.job_counts().await.unwrap();
    assert_eq!(
        (counts.pending, counts.running, counts.done),
        (QUEUED as u64, 0, 0),
        "nothing claimed by a process without the platform"
    );
    assert_eq!(reviewed(&store).await, 0);

    // A process serving the platform reviews every one.
    let serving = CancellationToken::new();
    let (_serving, _) = process_serving(store.clone(), &serving, &[Platform::Console]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while reviewed(&store).await < QUEUED {
        assert!(
            Instant::now() < deadline,
            "the serving process reviews them"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    others.cancel();
    serving.cancel();
}
