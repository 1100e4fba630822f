//! Configuration: raw settings from a TOML file, validated before anything starts.
//!
//! Stage one ([`raw`]) is plain serde with unknown keys rejected; stage two ([`Config`]) holds
//! only checked values. Secrets come only from environment variables, all listed in
//! [`ENV_OVERRIDES`], and live in [`Secret`], whose Debug output is `[redacted]`.

mod discord;
mod inference;
mod insights;
mod knowledge;
mod matrix;
mod metrics;
mod moderation;
mod privacy;
mod quotas;
mod raw;
mod secret;
mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use discord::DiscordSettings;
pub use insights::{InsightsSettings, SentimentModel};
pub use knowledge::{Embeddings, KnowledgeSettings};
pub use matrix::{MatrixAuth, MatrixSettings};
pub use metrics::MetricsSettings;
pub use moderation::{FloodLimit, ModelReview, ModerationSettings};
pub use privacy::{PrivacySettings, DEFAULT_RETAIN_CASES_DAYS, MAX_RETAIN_DAYS};
pub use quotas::QuotaSettings;
pub use raw::RawConfig;
pub use secret::Secret;

/// Every environment variable Steward reads, in one place: (name, what it sets).
pub const ENV_OVERRIDES: &[(&str, &str)] = &[
    (
        "STEWARD_DATABASE_URL",
        "database URL, replaces [store] url (use it for URLs with a password)",
    ),
    (
        "STEWARD_LOG",
        "log filter, e.g. `info` or `steward=debug` (default: warn)",
    ),
    (
        "STEWARD_CACHE_DIR",
        "where downloads are cached (default: ~/.cache/steward)",
    ),
];

/// The default config file, used when it exists and no `--config` is given.
pub const DEFAULT_CONFIG_PATH: &str = "config/steward.toml";

/// A configuration problem: names the file and key, says what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: config file not found (copy config/steward.example.toml to start)")]
    NotFound { path: String },
    #[error("{path}: cannot read the config file: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{path}{line}: key `{key}`: {message}")]
    Invalid {
        path: String,
        /// ", line N" when known.
        line: String,
        key: String,
        message: String,
    },
}

impl ConfigError {
    pub fn label(&self) -> &'static str {
        match self {
            ConfigError::NotFound { .. } => "config_not_found",
            ConfigError::Unreadable { .. } => "config_unreadable",
            ConfigError::Invalid { .. } => "config_invalid",
        }
    }
}

/// Where the model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// The default model from `models/default.toml`, expected in `models_dir`.
    Default,
    /// Any local GGUF file.
    LocalGguf(PathBuf),
    /// A GGUF file in a Hugging Face repository (needs the hub).
    Hub { repo: String, file: String },
}

/// Which in-process engine runs a local model (`[model] engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineChoice {
    /// llama.cpp when this build has it (cargo feature `llamacpp`), is not a GPU build and the
    /// model is a local file; mistral.rs otherwise.
    Auto,
    /// mistral.rs: the GPU engine, and the only one that loads from the Hugging Face hub.
    MistralRs,
    /// llama.cpp: the fast CPU engine (local GGUF files only).
    LlamaCpp,
}

impl EngineChoice {
    /// The engine that runs: `Auto` resolved for this build and model source.
    pub fn resolve(self, source: &ModelSource) -> EngineChoice {
        match self {
            EngineChoice::Auto
                if cfg!(feature = "llamacpp")
                    && !cfg!(feature = "cuda")
                    && !matches!(source, ModelSource::Hub { .. }) =>
            {
                EngineChoice::LlamaCpp
            }
            EngineChoice::Auto => EngineChoice::MistralRs,
            chosen => chosen,
        }
    }
}

/// Validated `[bot]` settings.
#[derive(Debug, Clone)]
pub struct BotSettings {
    pub name: String,
    pub language: Language,
    /// Longer questions are refused before the model sees them.
    pub max_question_chars: usize,
    /// At start, questions addressed to the bot this recently (while it was stopped) are
    /// answered once; 0 turns catch-up off.
    pub catch_up_minutes: u32,
}

pub use crate::core::Language;

/// `[inference]` is validated into the engine's own types: the engine imports nothing of the
/// config (see `inference`).
pub use crate::llm::remote::{ApiKey, Capability, InferenceSettings, ServerSettings};

/// Validated `[model]` settings.
#[derive(Debug, Clone)]
pub struct ModelSettings {
    pub source: ModelSource,
    pub models_dir: PathBuf,
    pub max_new_tokens: usize,
    /// `None`: greedy decoding.
    pub temperature: Option<f64>,
    pub request_timeout: Duration,
    pub queue_capacity: usize,
    pub max_concurrent: usize,
    pub force_cpu: bool,
    /// The in-process engine (`auto`, `mistralrs`, `llamacpp`).
    pub engine: EngineChoice,
    /// The languages the model writes grounded answers well in. A question in another
    /// language, when the knowledge base has sources for it, gets an extractive answer (the
    /// sources quoted and cited) instead of generated text. Default: none for the small
    /// default model (it repeats itself on grounded prompts), English and Chinese for any
    /// other model or remote servers.
    pub languages: Vec<Language>,
}

/// Validated `[store]` settings.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// May hold a password, hence secret.
    pub url: Secret<String>,
}

/// Validated `[console]` settings.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    pub community: String,
    pub channel: String,
    pub user: String,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from; `None` for built-in defaults.
    pub source: Option<PathBuf>,
    pub bot: BotSettings,
    pub model: ModelSettings,
    pub store: StoreSettings,
    pub console: ConsoleSettings,
    pub moderation: ModerationSettings,
    /// `[quotas]`: how much model time members, channels and communities may use.
    pub quotas: QuotaSettings,
    /// Present when the file has a `[matrix]` section.
    pub matrix: Option<MatrixSettings>,
    /// Present when the file has a `[discord]` section.
    pub discord: Option<DiscordSettings>,
    /// `[metrics]`: the scrape endpoint, off unless `listen` is set.
    pub metrics: MetricsSettings,
    /// `[inference]`: remote OpenAI-compatible servers; none means the in-process model.
    pub inference: InferenceSettings,
    /// `[knowledge]`: where the embeddings of semantic retrieval come from.
    pub knowledge: KnowledgeSettings,
    /// `[privacy]`: how long message text and closed cases are kept.
    pub privacy: PrivacySettings,
    /// `[insights]`: sentiment scoring, alerts and the digest's default time.
    pub insights: InsightsSettings,
}

impl Config {
    /// Loads `path`, or the default file if it exists, or the built-in defaults.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(path, &|name| std::env::var(name).ok())
    }

    /// Like [`Config::load`] with an explicit environment (for tests).
    pub fn load_with_env(
        path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let chosen = match path {
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_PATH)).filter(|p| p.is_file()),
        };
        let Some(file) = chosen else {
            return validate::validate(RawConfig::default(), None, env);
        };
        let shown = file.display().to_string();
        let text = std::fs::read_to_string(&file).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ConfigError::NotFound {
                path: shown.clone(),
            },
            _ => ConfigError::Unreadable {
                path: shown.clone(),
                reason: e.to_string(),
            },
        })?;
        let raw = RawConfig::parse(&text, &shown)?;
        validate::validate(raw, Some(file), env)
    }

    /// The built-in defaults, without reading any file or environment.
    pub fn defaults() -> Self {
        validate::validate(RawConfig::default(), None, &|_| None)
            .expect("built-in defaults are valid")
    }
}
