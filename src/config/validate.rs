//! Stage two: raw settings become checked settings, with defaults and environment overrides.

use std::path::PathBuf;
use std::time::Duration;

use super::raw::RawConfig;
use super::{
    BotSettings, Config, ConfigError, ConsoleSettings, EngineChoice, Language, ModelSettings,
    ModelSource, Secret, StoreSettings,
};

/// The default SQLite database, relative to the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/steward.db";

/// `value` (or `default` when unset) if it lies in `min..=max`; else the error naming `key`.
/// Every numeric setting of every section is checked with this one function.
pub(super) fn in_range(
    invalid: &dyn Fn(&str, String) -> ConfigError,
    key: &str,
    value: Option<i64>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    let value = value.unwrap_or(default);
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(
            key,
            format!("{value} is out of range; use {min} to {max}"),
        ))
    }
}

pub fn validate(
    raw: RawConfig,
    source: Option<PathBuf>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let path = source
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(built-in defaults)".to_string());
    let invalid = |key: &str, message: String| ConfigError::Invalid {
        path: path.clone(),
        line: String::new(),
        key: key.to_string(),
        message,
    };

    let name = raw.bot.name.unwrap_or_else(|| "Steward".to_string());
    if name.trim().is_empty() || name.len() > 64 {
        return Err(invalid("bot.name", "must be 1 to 64 characters".into()));
    }
    let code = raw.bot.language.as_deref().unwrap_or("en");
    let Some(language) = Language::from_code(code) else {
        return Err(invalid(
            "bot.language",
            format!("unknown language {code:?}; use \"en\" or \"zh\""),
        ));
    };

    let model = raw.model;
    let source_kind = match (model.gguf, model.hf_repo, model.hf_file) {
        (None, None, None) => ModelSource::Default,
        (Some(path), None, None) => {
            if path.trim().is_empty() {
                return Err(invalid("model.gguf", "must not be empty".into()));
            }
            ModelSource::LocalGguf(PathBuf::from(path))
        }
        (None, Some(repo), Some(file)) => {
            if !repo.contains('/') {
                return Err(invalid(
                    "model.hf_repo",
                    format!("{repo:?} is not a repository id like \"owner/name\""),
                ));
            }
            if !file.to_ascii_lowercase().ends_with(".gguf") {
                return Err(invalid("model.hf_file", "must name a .gguf file".into()));
            }
            ModelSource::Hub { repo, file }
        }
        (None, Some(_), None) => {
            return Err(invalid(
                "model.hf_file",
                "is required with model.hf_repo".into(),
            ))
        }
        (None, None, Some(_)) => {
            return Err(invalid(
                "model.hf_repo",
                "is required with model.hf_file".into(),
            ))
        }
        (Some(_), _, _) => {
            return Err(invalid(
                "model.gguf",
                "set either model.gguf or model.hf_repo + model.hf_file, not both".into(),
            ))
        }
    };
    let in_range = |key: &str, value: Option<i64>, default: i64, min: i64, max: i64| {
        in_range(&invalid, key, value, default, min, max)
    };
    let max_new_tokens = in_range("model.max_new_tokens", model.max_new_tokens, 256, 1, 8192)?;
    let timeout = in_range(
        "model.request_timeout_secs",
        model.request_timeout_secs,
        120,
        1,
        3600,
    )?;
    let queue_capacity = in_range("model.queue_capacity", model.queue_capacity, 16, 1, 10_000)?;
    let max_concurrent = in_range("model.max_concurrent", model.max_concurrent, 2, 1, 256)?;
    let engine = match model.engine.as_deref().map(str::trim) {
        None | Some("auto") => EngineChoice::Auto,
        Some("mistralrs") => EngineChoice::MistralRs,
        Some("llamacpp") if !cfg!(feature = "llamacpp") => {
            return Err(invalid(
                "model.engine",
                "\"llamacpp\" is not in this build (cargo feature `llamacpp`); use \"mistralrs\"".into(),
            ))
        }
        Some("llamacpp") if matches!(source_kind, ModelSource::Hub { .. }) => {
            return Err(invalid(
                "model.engine",
                "\"llamacpp\" loads local GGUF files only: download the file and set model.gguf, or use \"mistralrs\"".into(),
            ))
        }
        Some("llamacpp") => EngineChoice::LlamaCpp,
        Some(other) => {
            return Err(invalid(
                "model.engine",
                format!("{other:?} is not an engine: use \"auto\", \"mistralrs\" or \"llamacpp\""),
            ))
        }
    };
    let max_question_chars = in_range(
        "bot.max_question_chars",
        raw.bot.max_question_chars,
        4000,
        1,
        100_000,
    )?;
    let catch_up_minutes = in_range(
        "bot.catch_up_minutes",
        raw.bot.catch_up_minutes,
        10,
        0,
        24 * 60,
    )?;
    let temperature = match model.temperature.unwrap_or(0.0) {
        0.0 => None,
        t if t > 0.0 && t <= 2.0 => Some(t),
        t => {
            return Err(invalid(
                "model.temperature",
                format!("{t} is out of range; use 0 (greedy) to 2"),
            ))
        }
    };

    let url = env("STEWARD_DATABASE_URL")
        .or(raw.store.url)
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
    if !(url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://"))
    {
        // The URL may hold a password: name only its scheme.
        let scheme = url.split(':').next().unwrap_or_default();
        return Err(invalid(
            "store.url",
            format!("unsupported database {scheme:?}; use sqlite://path or postgres://..."),
        ));
    }

    let invalid_dyn = |key: &str, message: String| invalid(key, message);
    let moderation = super::moderation::validate(raw.moderation, &invalid_dyn)?;
    let quotas = super::quotas::validate(raw.quotas, &invalid_dyn)?;
    let matrix = raw
        .matrix
        .map(|m| super::matrix::validate(m, env, &invalid_dyn))
        .transpose()?;
    let discord = raw
        .discord
        .map(|d| super::discord::validate(d, env, &invalid_dyn))
        .transpose()?;
    let metrics = super::metrics::validate(raw.metrics, &invalid_dyn)?;
    let inference = super::inference::validate(raw.inference, env, &invalid_dyn)?;
    let knowledge = super::knowledge::validate(raw.knowledge, &inference, &invalid_dyn)?;
    let privacy = super::privacy::validate(raw.privacy, &invalid_dyn)?;
    // The built-in default model labels sentiment worse than the lexical stage (config/insights.rs).
    let capable_model = source_kind != ModelSource::Default || inference.has_chat_servers();
    let insights = super::insights::validate(raw.insights, capable_model, &invalid_dyn)?;
    let languages = match model.languages {
        // The default 135M model repeats itself on grounded prompts (37 of 55 English answers
        // degenerate in `steward eval ask`) and writes no usable Chinese: it quotes instead.
        None if source_kind == ModelSource::Default && !inference.has_chat_servers() => Vec::new(),
        None => vec![Language::English, Language::Chinese],
        Some(codes) => {
            let mut languages = Vec::new();
            for code in &codes {
                let Some(language) = Language::from_code(code) else {
                    return Err(invalid(
                        "model.languages",
                        format!("unknown language {code:?}; use \"en\" and/or \"zh\""),
                    ));
                };
                if !languages.contains(&language) {
                    languages.push(language);
                }
            }
            languages
        }
    };

    let console_user = raw
        .console
        .user
        .or_else(|| env("USER"))
        .unwrap_or_else(|| "you".to_string());

    Ok(Config {
        source,
        bot: BotSettings {
            name,
            language,
            max_question_chars: max_question_chars as usize,
            catch_up_minutes: catch_up_minutes as u32,
        },
        model: ModelSettings {
            source: source_kind,
            models_dir: PathBuf::from(model.models_dir.unwrap_or_else(|| "models".to_string())),
            max_new_tokens: max_new_tokens as usize,
            temperature,
            request_timeout: Duration::from_secs(timeout as u64),
            queue_capacity: queue_capacity as usize,
            max_concurrent: max_concurrent as usize,
            force_cpu: model.force_cpu.unwrap_or(false),
            engine,
            languages,
        },
        store: StoreSettings {
            url: Secret::new(url),
        },
        console: ConsoleSettings {
            community: raw
                .console
                .community
                .unwrap_or_else(|| "console".to_string()),
            channel: raw.console.channel.unwrap_or_else(|| "general".to_string()),
            user: console_user,
        },
        moderation,
        quotas,
        matrix,
        discord,
        metrics,
        inference,
        knowledge,
        privacy,
        insights,
    })
}
