//! Matrix latency benchmark (not a test; prints figures): the median time from a member's
//! message to the bot's first reply event on a local Synapse, next to the median time from the
//! identical request to its first non-blank text for the raw engine call, and the ratio. The two
//! alternate run by run, so both see the same machine load.
//!
//! Run: `cargo bench --bench matrix` (add `-- --runs N`, default 5). It reuses the integration
//! harness: a private Synapse from the cached venv, the default model, Steward's adapter.

#[allow(dead_code)]
#[path = "../tests/integration/logs.rs"]
mod logs;
#[path = "../tests/integration/matrix_util.rs"]
mod matrix_util;
#[allow(dead_code)]
#[path = "../tests/integration/model_util.rs"]
mod model_util;
#[path = "../tests/integration/synapse.rs"]
mod synapse;

use std::sync::Arc;
use std::time::{Duration, Instant};

use matrix_sdk::ruma::events::room::member::MembershipState;
use steward::config::Config;
use steward::features::ask::{Ask, AskSettings};
use steward::llm::{Engine, StreamEvent};
use steward::prompts::Prompts;
use steward::store::Store;

use matrix_util::{bot_reply_to, bot_settings, homeserver, mention, Member, TestBot, BOT};
use synapse::{Synapse, SERVER_NAME};

const QUESTION: &str = "What is the capital of France?";
/// Short answers: the figure of interest is the time to the first reply, and the next run must
/// not queue behind the previous answer.
const MAX_NEW_TOKENS: usize = 32;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `STEWARD_LOG=steward=debug` shows where the time goes (adapter timings, engine stats).
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("STEWARD_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let runs = runs_from_args();
    let dir = tempfile::tempdir().unwrap();
    let synapse = tokio::task::spawn_blocking(|| homeserver(&["ana"]));

    let mut config = Config::defaults();
    config.model.max_new_tokens = MAX_NEW_TOKENS;
    let engine = Arc::new(model_util::engine(8, 1).await);
    let url = format!("sqlite://{}/steward.db", dir.path().display());
    let store = Arc::new(Store::open(&url).await.unwrap());
    let router = Arc::new(steward::app::router(
        &config,
        store,
        engine.clone(),
        steward::metrics::Metrics::new(),
    ));
    let synapse = synapse.await.unwrap();
    println!(
        "model: {} on {}",
        engine.info().model,
        engine.info().backend
    );
    println!("synapse: started in {:.1} s", synapse.startup.as_secs_f64());

    // Through Matrix: member message -> homeserver -> adapter -> router -> engine -> reply
    // event -> homeserver -> member.
    let settings = bot_settings(&synapse, &dir.path().join("bot"), &[SERVER_NAME]);
    let bot = TestBot::start(settings, router).await;
    let ana = Member::login(&synapse, "ana").await;
    let room = ana.create_room(&[&Synapse::user_id(BOT)], false).await;
    let bot_id = Synapse::user_id(BOT);
    ana.wait_for_membership(room.room_id(), &bot_id, MembershipState::Join)
        .await;

    // Raw engine: the very request the ask feature sends for this room (the room is the
    // community), timed to the first non-blank text, as the adapter posts it.
    let ask = Ask::new(
        engine.clone(),
        Arc::new(Prompts::builtin()),
        AskSettings {
            bot_name: config.bot.name.clone(),
            max_new_tokens: MAX_NEW_TOKENS,
            temperature: config.model.temperature,
            timeout: config.model.request_timeout,
        },
    );
    let request = ask.request(room.room_id().as_str(), QUESTION, config.bot.language);

    // Raw and Matrix runs alternate, so both see the same machine load; run 0 is a warm-up.
    let (mut raw, mut matrix, mut on_server) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..=runs {
        let raw_first = first_text(engine.as_ref(), request.clone()).await;

        let started = Instant::now();
        let asked = ana.send(&room, mention(QUESTION)).await;
        let (reply, _) = ana
            .wait_for("the reply", |seen| {
                bot_reply_to(seen, room.room_id(), &asked)
            })
            .await;
        let elapsed = started.elapsed();
        // The homeserver's own timestamps: question stored -> reply stored. The rest is the
        // member's round trips.
        let question_ts = ana
            .messages_from(room.room_id(), ana.user_id.as_str())
            .into_iter()
            .find(|event| event.event_id == asked)
            .map(|event| u64::from(event.origin_server_ts.0));
        if run > 0 {
            raw.push(raw_first);
            matrix.push(elapsed);
            if let Some(question_ts) = question_ts {
                let reply_ts = u64::from(reply.origin_server_ts.0);
                on_server.push(Duration::from_millis(reply_ts.saturating_sub(question_ts)));
            }
        }
        // Let the streamed answer finish so the next request does not queue behind it.
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    bot.stop().await;

    let raw_ms = median_ms(&mut raw);
    let matrix_ms = median_ms(&mut matrix);
    println!(
        "runs: {runs}, alternating, after one warm-up; max {MAX_NEW_TOKENS} new tokens, greedy"
    );
    println!("raw engine call, request -> first non-blank text: {raw_ms:.0} ms median");
    println!("matrix, member message -> bot's first reply event: {matrix_ms:.0} ms median");
    println!(
        "  of which question stored -> reply stored (homeserver timestamps): {:.0} ms median",
        median_ms(&mut on_server)
    );
    println!("ratio matrix/raw: {:.2}", matrix_ms / raw_ms);
}

/// Time from submitting `request` to its first non-blank text; the rest is drained so the
/// engine is idle afterwards.
async fn first_text(engine: &dyn Engine, request: steward::llm::ChatRequest) -> Duration {
    use futures::StreamExt;
    let started = Instant::now();
    let mut stream = engine
        .stream(request)
        .await
        .expect("the engine accepts the request");
    let mut first = None;
    while let Some(event) = stream.next().await {
        if let StreamEvent::Delta(text) = event {
            if first.is_none() && !text.trim().is_empty() {
                first = Some(started.elapsed());
            }
        }
    }
    first.unwrap_or_else(|| started.elapsed())
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

fn median_ms(values: &mut [Duration]) -> f64 {
    values.sort();
    values
        .get(values.len() / 2)
        .map_or(0.0, |median| median.as_secs_f64() * 1000.0)
}
