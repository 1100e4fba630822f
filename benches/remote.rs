//! Remote inference benchmark (not a test; prints figures, asserts nothing about time). The
//! default model is served over the OpenAI-compatible API in this process (mistral.rs's
//! router, as `mistralrs serve` runs it) and compared with the same model in process:
//!
//! 1. the `/ask` request (the ask feature's system prompt and question, greedy, the same token
//!    cap) through the engine `load_engine` builds with `[inference]` servers and without:
//!    time to the first text and in all, medians, and the ratio remote / in process;
//! 2. the pool's own cost: the same streamed request sent straight to the server with reqwest
//!    (to the first SSE chunk with text, and to the end) and through `RemotePool`
//!    (`Backend::generate`), and the median of the per-run differences in ms.
//!
//! 3. sizing: 1, 2 and 4 `/ask` requests at once through a pool that lets the server run four
//!    together: median first text and answer time, and answers per minute.
//!
//! The paths alternate run by run, so all see the same machine load; one warm-up round comes
//! first. Both models run on this machine's CPU (or GPU in a `cuda` build), so the remote
//! figures show the protocol's cost, not a faster machine's gain.
//!
//! Run: `cargo bench --bench remote` (add `-- --runs N`, default 5).

#[allow(dead_code)]
#[path = "../tests/integration/logs.rs"]
mod logs;
#[allow(dead_code)]
#[path = "../tests/integration/model_util.rs"]
mod model_util;
#[path = "../tests/integration/openai_server.rs"]
mod openai_server;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};
use steward::config::{Config, Language};
use steward::features::ask::{Ask, AskSettings};
use steward::llm::remote::RemotePool;
use steward::llm::{Backend, BackendJob, ChatRequest, ChatRole, Engine, LlmStream, StreamEvent};
use steward::metrics::Metrics;
use steward::prompts::Prompts;

use openai_server::OpenAiServer;

/// The default question of `steward bench`.
const QUESTION: &str = "Write a short paragraph about the history of Paris.";
const MAX_NEW_TOKENS: usize = 64;

/// Time to the first non-blank text, and to the end.
#[derive(Debug, Clone, Copy)]
struct Timing {
    first: Duration,
    total: Duration,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs = runs_from_args();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let server = OpenAiServer::start().await;
    println!(
        "server: {} serving {} (mistral.rs router in this process), up in {:.1} s",
        server.url(),
        server.model,
        started.elapsed().as_secs_f64()
    );

    let local_config = config(dir.path(), "local", None, 1);
    let remote_config = config(dir.path(), "remote", Some(&server), 1);
    let local = steward::app::load_engine(&local_config, false, Metrics::new())
        .await
        .expect("the in-process engine loads");
    let remote = steward::app::load_engine(&remote_config, false, Metrics::new())
        .await
        .expect("the remote engine starts");
    let pool = RemotePool::new(&remote_config.inference, Metrics::new()).expect("the pool starts");
    println!(
        "in process: {} ({})",
        local.info().model,
        local.info().backend
    );
    println!(
        "remote: {} ({})",
        remote.info().model,
        remote.info().backend
    );

    // The very request `/ask` sends.
    let ask = Ask::new(
        local.clone(),
        Arc::new(Prompts::builtin()),
        AskSettings {
            bot_name: local_config.bot.name.clone(),
            max_new_tokens: MAX_NEW_TOKENS,
            temperature: None,
            timeout: local_config.model.request_timeout,
        },
    );
    let request = ask.request("bench", QUESTION, Language::English);
    let body = openai_body(&server.model, &request);
    let http = reqwest::Client::new();
    let endpoint = format!("{}/chat/completions", server.url());

    let (mut in_process, mut through_remote) = (Vec::new(), Vec::new());
    let (mut direct, mut pooled) = (Vec::new(), Vec::new());
    for run in 0..=runs {
        let a = engine_timing(local.as_ref(), request.clone()).await;
        let b = engine_timing(remote.as_ref(), request.clone()).await;
        let c = direct_timing(&http, &endpoint, &body).await;
        let d = pool_timing(&pool, request.clone()).await;
        if run > 0 {
            in_process.push(a);
            through_remote.push(b);
            direct.push(c);
            pooled.push(d);
        }
    }

    println!(
        "runs: {runs}, alternating, after one warm-up; max {MAX_NEW_TOKENS} new tokens, greedy"
    );
    let (local_first, local_total) = medians(&in_process);
    let (remote_first, remote_total) = medians(&through_remote);
    println!("/ask request, in-process engine: first text {local_first:.0} ms, total {local_total:.0} ms (medians)");
    println!("/ask request, remote backend:    first text {remote_first:.0} ms, total {remote_total:.0} ms (medians)");
    println!(
        "ratio remote/in-process: first text {:.2}, total {:.2}",
        remote_first / local_first,
        remote_total / local_total
    );
    let (direct_first, direct_total) = medians(&direct);
    let (pool_first, pool_total) = medians(&pooled);
    println!("straight to the server (reqwest, SSE): first text chunk {direct_first:.1} ms, total {direct_total:.1} ms (medians)");
    println!("through RemotePool (Backend::generate): first text {pool_first:.1} ms, total {pool_total:.1} ms (medians)");
    let first_added = median_difference(&pooled, &direct, |t| t.first);
    let total_added = median_difference(&pooled, &direct, |t| t.total);
    println!(
        "pool's added latency per request: first text {first_added:+.1} ms, total {total_added:+.1} ms (median of per-run differences)"
    );

    // Sizing: members asking at the same time, through a pool that lets the server run
    // `MAX_AT_ONCE` requests together (the server batches them).
    let shared_config = config(dir.path(), "shared", Some(&server), MAX_AT_ONCE);
    let shared = steward::app::load_engine(&shared_config, false, Metrics::new())
        .await
        .expect("the remote engine starts");
    println!("several at once (server max_concurrent = {MAX_AT_ONCE}), {WAVES} waves each:");
    for at_once in [1, 2, 4] {
        let mut timings = Vec::new();
        let started = Instant::now();
        for _ in 0..WAVES {
            let wave = (0..at_once).map(|_| engine_timing(shared.as_ref(), request.clone()));
            for timing in futures::future::join_all(wave).await {
                timings.push(timing);
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        let (first, total) = medians(&timings);
        let per_minute = timings.len() as f64 / elapsed * 60.0;
        println!(
            "  {at_once} at once: first text {first:.0} ms, answer {total:.0} ms (medians), {per_minute:.1} answers/min"
        );
    }
}

/// Requests the sizing pool lets the server run together.
const MAX_AT_ONCE: usize = 4;
/// Rounds of simultaneous requests per level in the sizing part.
const WAVES: usize = 3;

/// A config without `[inference]` servers (the default model in process) or with `server` as
/// the only chat server.
fn config(dir: &Path, name: &str, server: Option<&OpenAiServer>, max_concurrent: usize) -> Config {
    let models_dir = model_util::default_model().parent().unwrap().to_path_buf();
    let mut text = format!(
        "[model]\nmodels_dir = {:?}\nmax_new_tokens = {MAX_NEW_TOKENS}\nmax_concurrent = 1\n",
        models_dir.display().to_string()
    );
    if let Some(server) = server {
        text.push_str(&format!(
            "\n[inference]\nfirst_token_timeout_secs = 120\n\n[[inference.servers]]\n\
             name = \"bench\"\nurl = {:?}\nmodel = {:?}\nmax_concurrent = {max_concurrent}\n",
            server.url(),
            server.model
        ));
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    Config::load_with_env(Some(&path), &|_| None).expect("the bench config is valid")
}

/// The body `RemotePool` sends for `request` (see `src/llm/remote/chat.rs`).
fn openai_body(model: &str, request: &ChatRequest) -> Value {
    let mut messages = vec![json!({"role": "system", "content": request.system})];
    for message in &request.messages {
        let role = match message.role {
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        };
        messages.push(json!({"role": role, "content": message.content}));
    }
    json!({
        "model": model,
        "messages": messages,
        "max_tokens": request.max_new_tokens,
        "temperature": 0.0,
        "stream": true,
        "stream_options": {"include_usage": true},
    })
}

/// Through an engine (scheduler in front), as `/ask` does.
async fn engine_timing(engine: &dyn Engine, request: ChatRequest) -> Timing {
    let started = Instant::now();
    let stream = engine
        .stream(request)
        .await
        .expect("the engine accepts the request");
    read(stream, started).await
}

/// Through the pool alone, without the scheduler.
async fn pool_timing(pool: &RemotePool, request: ChatRequest) -> Timing {
    let started = Instant::now();
    let (sink, stream) = LlmStream::channel();
    let job = BackendJob {
        request,
        json_schema: None,
        queued: Duration::ZERO,
    };
    let (result, timing) = tokio::join!(pool.generate(job, sink), read(stream, started));
    result.expect("the pool answers");
    timing
}

async fn read(mut stream: LlmStream, started: Instant) -> Timing {
    let mut first = None;
    while let Some(event) = stream.next_event().await {
        match event {
            StreamEvent::Delta(text) if first.is_none() && !text.trim().is_empty() => {
                first = Some(started.elapsed());
            }
            StreamEvent::Error(error) => panic!("generation failed: {error}"),
            _ => {}
        }
    }
    let total = started.elapsed();
    Timing {
        first: first.unwrap_or(total),
        total,
    }
}

/// Straight to the server: the first SSE event whose delta has non-blank text, and the end.
async fn direct_timing(http: &reqwest::Client, endpoint: &str, body: &Value) -> Timing {
    let started = Instant::now();
    let response = http
        .post(endpoint)
        .json(body)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("the server answers");
    let mut bytes = std::pin::pin!(response.bytes_stream());
    let mut pending = String::new();
    let mut first = None;
    while let Some(chunk) = bytes.next().await {
        pending.push_str(&String::from_utf8_lossy(
            &chunk.expect("the stream continues"),
        ));
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            let has_text = line
                .trim()
                .strip_prefix("data:")
                .and_then(|data| serde_json::from_str::<Value>(data.trim()).ok())
                .and_then(|event| {
                    event
                        .pointer("/choices/0/delta/content")
                        .and_then(Value::as_str)
                        .map(|text| !text.trim().is_empty())
                })
                .unwrap_or(false);
            if has_text && first.is_none() {
                first = Some(started.elapsed());
            }
        }
    }
    let total = started.elapsed();
    Timing {
        first: first.unwrap_or(total),
        total,
    }
}

fn runs_from_args() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == "--runs")
        .and_then(|at| args.get(at + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(5)
        .max(1)
}

fn median_ms(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Medians of the first-text and total times, in ms.
fn medians(timings: &[Timing]) -> (f64, f64) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (
        median_ms(timings.iter().map(|t| ms(t.first)).collect()),
        median_ms(timings.iter().map(|t| ms(t.total)).collect()),
    )
}

/// The median over runs of `a - b` for the measure `pick`, in ms.
fn median_difference(a: &[Timing], b: &[Timing], pick: fn(&Timing) -> Duration) -> f64 {
    let differences = a
        .iter()
        .zip(b)
        .map(|(a, b)| (pick(a).as_secs_f64() - pick(b).as_secs_f64()) * 1000.0)
        .collect();
    median_ms(differences)
}
