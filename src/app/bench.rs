//! `steward bench`: model load time, raw engine speed, and the same `/ask` through the full
//! console path (router, store, streaming), with the ratio between them; then moderation's
//! costs: a member's message recorded and screened by the rules, and one model review.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{console_options, load_engine, router, AppError};
use crate::config::Config;
use crate::core::Role;
use crate::llm::Engine;
use crate::platform::console;
use crate::store::Store;

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub runs: usize,
    pub question: String,
}

/// Runs the benchmark and returns the report text.
pub async fn run(config: &Config, options: &BenchOptions) -> Result<String, AppError> {
    let runs = options.runs.max(1);
    let mut out = String::new();

    let started = Instant::now();
    let metrics = crate::metrics::Metrics::new();
    let engine = load_engine(config, true, metrics.clone()).await?;
    let load = started.elapsed();
    let info = engine.info();
    let _ = writeln!(out, "model: {} on {}", info.model, info.backend);
    let _ = writeln!(out, "model load: {:.2} s", load.as_secs_f64());

    // The same request the ask feature sends, straight to the engine.
    let scratch = std::env::temp_dir().join(format!("steward-bench-{}", std::process::id()));
    let url = format!("sqlite://{}/bench.db", scratch.display());
    let store = Arc::new(Store::open(&url).await?);
    // The bench asks more often than a member may: quotas would refuse its runs.
    let mut unlimited = config.clone();
    unlimited.quotas.enabled = false;
    let router = router(&unlimited, store.clone(), engine.clone(), metrics.clone());

    let ask = crate::features::ask::Ask::new(
        engine.clone(),
        Arc::new(crate::prompts::Prompts::builtin()),
        crate::features::ask::AskSettings {
            bot_name: config.bot.name.clone(),
            max_new_tokens: config.model.max_new_tokens,
            temperature: config.model.temperature,
            timeout: config.model.request_timeout,
        },
    );
    let request = ask.request(
        &config.console.community,
        &options.question,
        config.bot.language,
    );

    // Warm-up: the first generation pays one-time costs.
    engine.generate(request.clone()).await?;

    let mut raw_wall = Vec::new();
    let mut raw_tokens = 0usize;
    let mut prompt_speed = Vec::new();
    let mut gen_speed = Vec::new();
    let mut first_text = Vec::new();
    let mut decode_rates = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let generated = engine.generate(request.clone()).await?;
        raw_wall.push(started.elapsed());
        raw_tokens += generated.stats.generated_tokens;
        prompt_speed.push(generated.stats.prompt_tokens_per_sec);
        gen_speed.push(generated.stats.generated_tokens_per_sec);
        if let Some(first) = generated.stats.first_text_after {
            first_text.push(first);
            let decoding = generated.stats.total.saturating_sub(first).as_secs_f64();
            let tokens = generated.stats.generated_tokens.saturating_sub(1);
            if decoding > 0.0 && tokens > 0 {
                decode_rates.push(tokens as f64 / decoding);
            }
        }
    }
    let raw_total: Duration = raw_wall.iter().sum();
    let raw_rate = raw_tokens as f64 / raw_total.as_secs_f64();
    let _ = writeln!(
        out,
        "raw engine ({runs} runs, greedy, max {} new tokens):",
        config.model.max_new_tokens
    );
    let _ = writeln!(
        out,
        "  prompt: {:.1} tokens/s (as the engine reports it)",
        mean(&prompt_speed)
    );
    let _ = writeln!(
        out,
        "  generation: {:.1} tokens/s (as the engine reports it), {:.1} tokens/s wall clock after the first text",
        mean(&gen_speed),
        mean(&decode_rates)
    );
    let _ = writeln!(
        out,
        "  whole answer: {raw_rate:.1} tokens/s wall clock (prompt included)"
    );
    let _ = writeln!(
        out,
        "  first text after: {:.0} ms median",
        median_ms(&mut first_text)
    );
    let _ = writeln!(
        out,
        "  answer: {:.0} ms median, {} tokens per answer",
        median_ms(&mut raw_wall.clone()),
        raw_tokens / runs
    );

    // The full console path: parse, dispatch, store, stream to a writer.
    let console_options = console_options(config, Role::Member, false);
    let mut full_wall = Vec::new();
    let mut full_tokens = 0usize;
    for _ in 0..runs {
        let input = format!("/ask {}\n", options.question);
        let mut sink = Vec::new();
        let started = Instant::now();
        let summary = console::run(&router, &console_options, input.as_bytes(), &mut sink).await?;
        full_wall.push(started.elapsed());
        full_tokens += summary.generated_tokens;
    }
    let full_total: Duration = full_wall.iter().sum();
    let full_rate = full_tokens as f64 / full_total.as_secs_f64();
    let _ = writeln!(out, "console /ask ({runs} runs):");
    let _ = writeln!(
        out,
        "  whole answer: {full_rate:.1} tokens/s wall clock (prompt included)"
    );
    let _ = writeln!(
        out,
        "  answer: {:.0} ms median",
        median_ms(&mut full_wall.clone())
    );
    let _ = writeln!(
        out,
        "ratio console/raw: {:.3} (tokens/s), {:.3} (time per answer)",
        full_rate / raw_rate,
        full_total.as_secs_f64() / raw_total.as_secs_f64()
    );
    if let Some(micros) = scheduler_overhead_micros(&metrics) {
        let _ = writeln!(
            out,
            "scheduler: {micros:.1} µs of its own per request (mean over the runs above: validation, queueing, bookkeeping; the wait for the model excluded)"
        );
    }
    moderation_figures(config, &router, engine.clone(), runs, &mut out).await;
    if let Some(peak) = peak_rss_mib() {
        let _ = writeln!(out, "peak memory (RSS): {peak:.0} MiB");
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(out)
}

/// Messages pushed through the router to time the per-message cost of moderation.
const SCREENED_MESSAGES: usize = 500;

/// Every member's message is recorded and screened; every report costs one model review.
async fn moderation_figures(
    config: &Config,
    router: &crate::community::Router,
    engine: Arc<dyn Engine>,
    runs: usize,
    out: &mut String,
) {
    use crate::core::{
        Author, ChannelId, CommunityId, Event, EventKind, Location, Message, MessageId, Platform,
        UserId,
    };
    let location = Location {
        platform: Platform::Console,
        community: CommunityId::new(&config.console.community),
        channel: ChannelId::new(&config.console.channel),
        thread: None,
    };
    let mut screened = Vec::with_capacity(SCREENED_MESSAGES);
    for n in 0..SCREENED_MESSAGES {
        // A different member each time, so the flood rule measures its check, not its cases.
        let message = Message {
            id: MessageId::new(format!("bench-{n}")),
            location: location.clone(),
            author: Author {
                id: UserId::new(format!("bench-member-{n}")),
                display_name: format!("member {n}"),
                role: Role::Member,
                is_bot: false,
            },
            text: format!(
                "Has anyone tried tokio 1.{n} with @ana? See https://docs.rs/tokio and the \
                 changelog; it fixed the hang we saw in production last week."
            ),
            created_at: std::time::SystemTime::now(),
            reply_to: None,
            mentions_bot: false,
            replies_to_bot: false,
        };
        let started = Instant::now();
        router
            .handle(Event::now(EventKind::MessagePosted(message)))
            .await;
        screened.push(started.elapsed());
    }
    screened.sort();
    let p99 = screened[screened.len() * 99 / 100];
    let _ = writeln!(
        out,
        "moderation: member message recorded + screened ({SCREENED_MESSAGES} messages, {} blocked patterns): {:.2} ms median, {:.2} ms p99",
        config.moderation.blocked_patterns.len(),
        median_ms(&mut screened) ,
        p99.as_secs_f64() * 1000.0
    );
    let reviewer = crate::features::moderation::review::Reviewer::new(
        engine,
        Arc::new(crate::prompts::Prompts::builtin()),
        config.model.request_timeout,
    );
    let mut reviews = Vec::new();
    let mut failed = 0;
    for _ in 0..runs {
        let started = Instant::now();
        match reviewer
            .review(
                &config.console.community,
                "Buy cheap followers now at example.com!!!",
            )
            .await
        {
            Ok(_) => reviews.push(started.elapsed()),
            Err(_) => failed += 1,
        }
    }
    if !reviews.is_empty() {
        let _ = writeln!(
            out,
            "moderation: model review of a reported message: {:.0} ms median ({} runs, {failed} failed)",
            median_ms(&mut reviews),
            reviews.len()
        );
    }
}

/// The scheduler's mean cost per request, from its histogram.
fn scheduler_overhead_micros(metrics: &crate::metrics::Metrics) -> Option<f64> {
    let samples = crate::metrics::status::parse(&metrics.encode());
    let value = |name: &str| {
        samples
            .iter()
            .find(|sample| sample.name == name)
            .map(|sample| sample.value)
    };
    let sum = value("steward_scheduler_overhead_microseconds_sum")?;
    let count = value("steward_scheduler_overhead_microseconds_count")?;
    (count > 0.0).then(|| sum / count)
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

fn median_ms(values: &mut [Duration]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort();
    values[values.len() / 2].as_secs_f64() * 1000.0
}

/// Peak resident memory from /proc (Linux only).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
