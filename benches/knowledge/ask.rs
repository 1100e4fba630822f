//! Part 5 of the knowledge benchmark: one `ask`, end to end, split into retrieval and
//! generation. The default chat model answers English questions of the evaluation corpus
//! (`tests/fixtures/kb/`) through `Ask::answer`, the path every platform takes, with
//! `[model] languages = ["en"]` so the answers are generated, not quoted. A wrapper around
//! the knowledge base records how long retrieval took inside each answer.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use steward::config::Config;
use steward::core::{
    Capabilities, ChannelId, CommunityId, Language, Location, MessageId, Platform, Role,
    TextStreamItem, UserId,
};
use steward::features::ask::{Ask, AskSettings};
use steward::features::grounded::Grounding;
use steward::features::{CommunitySettings, Context};
use steward::knowledge::retrieve::{Floor, Knowledge, KnowledgeBase, Retrieval};
use steward::knowledge::{vectors, ALL_COMMUNITIES};
use steward::llm::Embedder;
use steward::metrics::Metrics;
use steward::prompts::Prompts;
use steward::store::{Store, StoreError};
use steward::strings::Strings;

/// Answered once before the measured questions (the model's first run), not measured.
const WARM_UP: &str = "can I take a backup while lumen is running or do i need downtime";

/// English questions of `tests/fixtures/kb/cases.jsonl` that the documents answer.
pub const QUESTIONS: &[&str] = &[
    "whats the default port lumen listens on? running it in docker and cant reach it from my browser",
    "is there a way to validate lumen.toml before I restart the server? dont want to break prod",
    "where am I supposed to put alert rule files?",
    "our grafana datasource suddenly started getting 401s after working fine for months, do tokens expire?",
    "how many nodes do I need at minimum for a cluster? was thinking 2",
    "how do I send backups to our minio instead of local disk?",
    "for the k8s readiness probe should I just point it at /health?",
    "running lumend by hand (not systemd) and it dies with too many open files (os error 24)",
];

/// One answer's times, each from the call to `Ask::answer`.
pub struct AskTiming {
    pub question: &'static str,
    /// Spent in `KnowledgeBase::retrieve` inside the answer.
    pub retrieval: Duration,
    /// To the first non-blank text the member would see.
    pub first_text: Duration,
    /// To the end of the answer.
    pub total: Duration,
    /// Generated tokens (0: the answer was not generated, e.g. "I don't know").
    pub tokens: usize,
    pub failed: Option<String>,
}

/// What part 5 measured.
pub struct AskRun {
    pub model: String,
    pub retrieval_mode: String,
    pub passages: usize,
    pub max_new_tokens: usize,
    pub load: Duration,
    pub timings: Vec<AskTiming>,
}

/// Answers the first `asks` questions; `Err` says why part 5 could not run.
pub async fn run(
    models_dir: &Path,
    scratch: &Path,
    embedder: Option<Arc<dyn Embedder>>,
    asks: usize,
) -> Result<AskRun, String> {
    let config = config(models_dir, scratch)?;
    let model_file = steward::app::default_model_path(&config);
    if !model_file.is_file() {
        return Err(format!(
            "{} is missing: run `cargo run --release -- model fetch`",
            model_file.display()
        ));
    }
    let url = format!("sqlite://{}", scratch.join("ask.db").display());
    let store = Arc::new(Store::open(&url).await.map_err(|e| e.to_string())?);
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kb/docs");
    let added = steward::app::kb::add(&store, &[docs], ALL_COMMUNITIES, |_| {})
        .await
        .map_err(|e| e.to_string())?;
    let retrieval_mode = match &embedder {
        Some(embedder) => {
            vectors::embed_missing(&store, embedder.as_ref(), |_| {})
                .await
                .map_err(|e| e.to_string())?;
            format!("lexical + semantic ({})", embedder.info())
        }
        None => "lexical only".to_string(),
    };
    let knowledge = Arc::new(Timed {
        inner: Arc::new(Knowledge::new(store, embedder)),
        last: Mutex::new(None),
    });

    let started = Instant::now();
    let engine = steward::app::load_engine(&config, false, Metrics::new())
        .await
        .map_err(|e| e.to_string())?;
    let load = started.elapsed();
    let model = engine.info().model;
    let grounded_in: Arc<dyn KnowledgeBase> = knowledge.clone();
    let ask = Ask::new(
        engine,
        Arc::new(Prompts::builtin()),
        AskSettings {
            bot_name: config.bot.name.clone(),
            max_new_tokens: config.model.max_new_tokens,
            temperature: config.model.temperature,
            timeout: config.model.request_timeout,
        },
    )
    .with_grounding(Grounding {
        knowledge: grounded_in,
        writes: config.model.languages.clone(),
    });

    let ctx = context();
    eprintln!("ask: warm-up answer");
    answer(&ask, &knowledge, &ctx, WARM_UP).await;
    let mut timings = Vec::new();
    for (at, &question) in QUESTIONS.iter().take(asks).enumerate() {
        eprintln!("ask: question {} of {asks}", at + 1);
        timings.push(answer(&ask, &knowledge, &ctx, question).await);
    }
    Ok(AskRun {
        model,
        retrieval_mode,
        passages: added.passages,
        max_new_tokens: config.model.max_new_tokens,
        load,
        timings,
    })
}

/// The default model in process, generating English grounded answers.
fn config(models_dir: &Path, scratch: &Path) -> Result<Config, String> {
    let text = format!(
        "[model]\nmodels_dir = {:?}\nlanguages = [\"en\"]\n",
        models_dir.display().to_string()
    );
    let path = scratch.join("ask.toml");
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Config::load_with_env(Some(&path), &|_| None).map_err(|e| e.to_string())
}

/// A member asking in the console community.
fn context() -> Context {
    Context {
        location: Location {
            platform: Platform::Console,
            community: CommunityId::new("bench"),
            channel: ChannelId::new("general"),
            thread: None,
        },
        actor: UserId::new("bench"),
        role: Role::Member,
        language: Language::English,
        strings: Strings::new(Language::English),
        settings: CommunitySettings::default(),
        capabilities: Arc::new(Capabilities::console()),
        recorded: true,
    }
}

/// Answers `question` as the router would, reading the stream as an adapter does.
async fn answer(ask: &Ask, knowledge: &Timed, ctx: &Context, question: &'static str) -> AskTiming {
    let started = Instant::now();
    let mut first = None;
    let mut tokens = 0;
    let mut failed = None;
    match ask.answer(ctx, question).await {
        Ok(stream) => {
            let mut items = stream.0;
            while let Some(item) = items.next().await {
                match item {
                    TextStreamItem::Delta(text) => {
                        if first.is_none() && !text.trim().is_empty() {
                            first = Some(started.elapsed());
                        }
                    }
                    TextStreamItem::Finished { tokens: generated } => tokens = generated,
                    TextStreamItem::Failed(message) => failed = Some(message),
                }
            }
        }
        Err(error) => failed = Some(error.to_string()),
    }
    let total = started.elapsed();
    AskTiming {
        question,
        retrieval: knowledge.take(),
        first_text: first.unwrap_or(total),
        total,
        tokens,
        failed,
    }
}

/// The knowledge base, remembering how long its last retrieval took.
struct Timed {
    inner: Arc<dyn KnowledgeBase>,
    last: Mutex<Option<Duration>>,
}

impl Timed {
    fn take(&self) -> Duration {
        self.last
            .lock()
            .expect("the lock is not poisoned")
            .take()
            .unwrap_or_default()
    }
}

#[async_trait]
impl KnowledgeBase for Timed {
    async fn retrieve_with(
        &self,
        scope: &str,
        question: &str,
        limit: usize,
        floor: Floor,
    ) -> Result<Retrieval, StoreError> {
        let started = Instant::now();
        let retrieval = self
            .inner
            .retrieve_with(scope, question, limit, floor)
            .await;
        *self.last.lock().expect("the lock is not poisoned") = Some(started.elapsed());
        retrieval
    }

    async fn record_gap(
        &self,
        platform: Platform,
        community: &CommunityId,
        asker: &UserId,
        message: Option<&MessageId>,
        question: &str,
    ) -> Result<(), StoreError> {
        self.inner
            .record_gap(platform, community, asker, message, question)
            .await
    }
}
