//! `steward bench --sentiment`: what scoring every stored message costs, and what it costs
//! members waiting for answers.
//!
//! On synthetic chatter (`chatter`, English and Chinese) in an in-memory SQLite store:
//! 1. the lexical stage alone, and the lexical-only scoring rounds with the store's reads and
//!    writes (messages/s);
//! 2. the model stage on the same sample, one message per request and then batched
//!    (`[insights] sentiment_batch` per request), one request after another (messages/s and
//!    the ratio; the goal is 5x);
//! 3. `/ask` latency (to the first text and to the end, p50/p95) while a backfill of every
//!    message runs with the model on every message (`sentiment_model = "all"`, background
//!    priority), then the same number of asks with nothing else running. Asks use the ask
//!    feature's own request (interactive priority) through the same engine, each question
//!    numbered differently so none is an exact repeat (mistral.rs's prefix cache then serves
//!    the system prompt, as for members' questions).

mod chatter;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use super::scoring::ROUND_LIMIT;
use super::{load_engine, AppError};
use crate::config::{Config, SentimentModel};
use crate::features::ask::{Ask, AskSettings};
use crate::insights::scoring::score_pending;
use crate::llm::{Engine, StreamEvent};
use crate::prompts::Prompts;
use crate::sentiment::{lexical, ModelClassifier, MAX_BATCH};
use crate::store::Store;

/// New tokens per timed answer: enough to see generation slowed down, short enough that the
/// asks finish while the backfill still runs.
const ASK_MAX_TOKENS: usize = 64;
/// Batches of the model sample (each mode labels `batch * SAMPLE_BATCHES` messages).
const SAMPLE_BATCHES: usize = 3;
/// How long the backfill runs before the first timed ask, so a model request is in flight.
const BACKFILL_HEAD_START: Duration = Duration::from_millis(500);

/// What to measure.
#[derive(Debug, Clone)]
pub struct SentimentBenchOptions {
    /// Synthetic messages in the store (the backfill).
    pub messages: usize,
    /// Asks timed with the backfill running, and again without.
    pub asks: usize,
    /// The question asked (numbered per ask).
    pub question: String,
}

/// Runs the benchmark and returns the report text.
pub async fn run(config: &Config, options: &SentimentBenchOptions) -> Result<String, AppError> {
    let count = options.messages.max(1);
    let asks = options.asks.max(1);
    let batch = config.insights.sentiment_batch.clamp(1, MAX_BATCH);
    let mut out = String::new();
    let texts: Vec<String> = (0..count).map(chatter::text).collect();

    // 1. The lexical stage, alone and with the store.
    let started = Instant::now();
    let unsure = texts.iter().filter(|t| lexical(t).is_unsure()).count();
    let alone = started.elapsed();
    let _ = writeln!(
        out,
        "lexical stage alone: {count} messages in {:.1} ms, {:.0} messages/s ({unsure} unsure)",
        ms(alone),
        rate(count, alone)
    );
    let store = filled_store(count).await?;
    let started = Instant::now();
    let mut scored = 0;
    loop {
        let round = score_pending(&store, None, SentimentModel::Off, batch, ROUND_LIMIT).await?;
        if round.read() == 0 {
            break;
        }
        scored += round.scored;
    }
    let with_store = started.elapsed();
    let _ = writeln!(
        out,
        "lexical scoring rounds (read, score, save; {ROUND_LIMIT} per round): {scored} messages, {:.0} messages/s",
        rate(scored as usize, with_store)
    );
    store.close().await;

    // 2. The model stage, one message per request and batched.
    let loading = Instant::now();
    let engine = load_engine(config, true, crate::metrics::Metrics::new()).await?;
    let info = engine.info();
    let _ = writeln!(
        out,
        "model: {} on {} (loaded in {:.1} s)",
        info.model,
        info.backend,
        loading.elapsed().as_secs_f64()
    );
    let classifier = ModelClassifier::new(
        engine.clone(),
        Arc::new(Prompts::builtin()),
        config.model.request_timeout,
    );
    let sample: Vec<&str> = texts
        .iter()
        .take(batch * SAMPLE_BATCHES)
        .map(String::as_str)
        .collect();
    // Warm-up: the first generation of each shape pays one-time costs.
    let _ = classifier.classify_one(sample[0]).await;
    let _ = classifier
        .classify_batch(&sample[..batch.min(sample.len())])
        .await;
    let started = Instant::now();
    let mut failed = 0;
    for text in &sample {
        if classifier.classify_one(text).await.is_err() {
            failed += 1;
        }
    }
    let one = rate(sample.len(), started.elapsed());
    let _ = writeln!(
        out,
        "model, one message per request: {} messages, {one:.2} messages/s ({failed} requests failed)",
        sample.len()
    );
    let started = Instant::now();
    let (mut failed, mut fallbacks) = (0, 0);
    for chunk in sample.chunks(batch) {
        match classifier.classify_batch(chunk).await {
            Ok(outcome) => fallbacks += outcome.fallbacks,
            Err(_) => failed += 1,
        }
    }
    let batched = rate(sample.len(), started.elapsed());
    let ratio = batched / one.max(1e-9);
    let _ = writeln!(
        out,
        "model, {batch} per request: {} messages, {batched:.2} messages/s ({failed} requests failed, {fallbacks} kept the lexical result)",
        sample.len()
    );
    let _ = writeln!(
        out,
        "batching gain: {ratio:.2}x (goal: 5x; {})",
        if ratio >= 5.0 { "met" } else { "not met" }
    );

    // 3. Ask latency with the backfill running, then without.
    let ask = Ask::new(
        engine.clone(),
        Arc::new(Prompts::builtin()),
        AskSettings {
            bot_name: config.bot.name.clone(),
            max_new_tokens: config.model.max_new_tokens.min(ASK_MAX_TOKENS),
            temperature: config.model.temperature,
            timeout: config.model.request_timeout,
        },
    );
    let question = |number: usize| {
        let text = format!("({number}) {}", options.question);
        ask.request(&config.console.community, &text, config.bot.language)
    };
    // Warm-up of the ask shape.
    let _ = time_ask(engine.as_ref(), question(0)).await;
    let store = filled_store(count).await?;
    let stop = CancellationToken::new();
    let by_model = Arc::new(AtomicU64::new(0));
    let backfill = {
        let (store, classifier, stop, by_model) = (
            store.clone(),
            classifier.clone(),
            stop.clone(),
            by_model.clone(),
        );
        tokio::spawn(async move {
            loop {
                let round = score_pending(
                    &store,
                    Some(&classifier),
                    SentimentModel::All,
                    batch,
                    ROUND_LIMIT,
                );
                let round = tokio::select! {
                    () = stop.cancelled() => return,
                    round = round => round,
                };
                match round {
                    Ok(round) => {
                        by_model.fetch_add(round.by_model, Ordering::Relaxed);
                        // A round whose model requests gave way to the asks stores nothing and
                        // leaves its messages for the next one: go on while any is left.
                        if round.read() == 0 && store.count_unscored(None).await.unwrap_or(0) == 0 {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
        })
    };
    tokio::time::sleep(BACKFILL_HEAD_START).await;
    let backfill_started = Instant::now();
    let mut loaded = Latencies::default();
    for number in 1..=asks {
        loaded.add(time_ask(engine.as_ref(), question(number)).await);
    }
    let during = backfill_started.elapsed();
    let still_running = !backfill.is_finished();
    stop.cancel();
    let _ = backfill.await;
    let left = store.count_unscored(None).await?;
    let backfilled = (count as u64).saturating_sub(left);
    let _ = writeln!(
        out,
        "backfill with the model on every message ({batch} per request, background priority): {backfilled} of {count} scored ({} by the model, only whole rounds of {ROUND_LIMIT} counted) in {:.1} s of asks; {}",
        by_model.load(Ordering::Relaxed),
        during.as_secs_f64(),
        if still_running { "still running at the last ask" } else { "finished before the last ask" }
    );
    store.close().await;
    let mut idle = Latencies::default();
    for number in asks + 1..=2 * asks {
        idle.add(time_ask(engine.as_ref(), question(number)).await);
    }
    let _ = writeln!(
        out,
        "ask latency ({asks} asks each, at most {} new tokens):",
        config.model.max_new_tokens.min(ASK_MAX_TOKENS)
    );
    let _ = writeln!(out, "  with the backfill:    {}", loaded.summary());
    let _ = writeln!(out, "  without the backfill: {}", idle.summary());
    let _ = writeln!(
        out,
        "  added by the backfill: first text {:+.0} ms p50, {:+.0} ms p95; whole answer {:+.0} ms p50, {:+.0} ms p95",
        loaded.first.p(0.5) - idle.first.p(0.5),
        loaded.first.p(0.95) - idle.first.p(0.95),
        loaded.total.p(0.5) - idle.total.p(0.5),
        loaded.total.p(0.95) - idle.total.p(0.95)
    );
    Ok(out)
}

/// An in-memory store holding `count` synthetic messages.
async fn filled_store(count: usize) -> Result<Store, AppError> {
    let store = Store::open("sqlite::memory:").await?;
    for message in chatter::messages(count, SystemTime::now()) {
        store.record_message(&message).await?;
    }
    Ok(store)
}

/// One ask's times: to the first text and to the end; `None` when it failed.
type AskTimes = Option<(Duration, Duration)>;

/// Streams one ask to its end.
async fn time_ask(engine: &dyn Engine, request: crate::llm::ChatRequest) -> AskTimes {
    let started = Instant::now();
    let mut stream = engine.stream(request).await.ok()?;
    let mut first = None;
    while let Some(event) = stream.next_event().await {
        match event {
            StreamEvent::Delta(_) => {
                first.get_or_insert_with(|| started.elapsed());
            }
            StreamEvent::Done(_) => {
                let total = started.elapsed();
                return Some((first.unwrap_or(total), total));
            }
            StreamEvent::Error(_) => return None,
        }
    }
    None
}

/// Milliseconds, sorted on demand.
#[derive(Debug, Default)]
struct Samples(Vec<f64>);

impl Samples {
    /// The nearest-rank percentile `p` (0..1); 0 without samples.
    fn p(&self, p: f64) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return 0.0;
        }
        // The epsilon keeps 0.95 * 20 at rank 19 whatever the rounding of 0.95.
        let rank = (p * sorted.len() as f64 - 1e-9).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }
}

/// The asks of one phase.
#[derive(Debug, Default)]
struct Latencies {
    first: Samples,
    total: Samples,
    failed: usize,
}

impl Latencies {
    fn add(&mut self, times: AskTimes) {
        match times {
            Some((first, total)) => {
                self.first.0.push(ms(first));
                self.total.0.push(ms(total));
            }
            None => self.failed += 1,
        }
    }

    fn summary(&self) -> String {
        format!(
            "first text p50 {:.0} ms, p95 {:.0} ms; whole answer p50 {:.0} ms, p95 {:.0} ms ({} failed)",
            self.first.p(0.5),
            self.first.p(0.95),
            self.total.p(0.5),
            self.total.p(0.95),
            self.failed
        )
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples = Samples((1..=20).map(f64::from).collect());
        assert_eq!(samples.p(0.5), 10.0);
        assert_eq!(samples.p(0.95), 19.0);
        assert_eq!(samples.p(1.0), 20.0);
        assert_eq!(samples.p(0.0), 1.0);
        assert_eq!(Samples::default().p(0.5), 0.0);
    }
}
