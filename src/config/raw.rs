//! Stage one: the config file as written, parsed with serde; unknown keys are errors.

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub bot: RawBot,
    #[serde(default)]
    pub model: RawModel,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub console: RawConsole,
    #[serde(default)]
    pub moderation: super::moderation::RawModeration,
    #[serde(default)]
    pub quotas: super::quotas::RawQuotas,
    pub matrix: Option<super::matrix::RawMatrix>,
    pub discord: Option<super::discord::RawDiscord>,
    #[serde(default)]
    pub metrics: super::metrics::RawMetrics,
    #[serde(default)]
    pub inference: super::inference::RawInference,
    #[serde(default)]
    pub knowledge: super::knowledge::RawKnowledge,
    #[serde(default)]
    pub privacy: super::privacy::RawPrivacy,
    #[serde(default)]
    pub insights: super::insights::RawInsights,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBot {
    pub name: Option<String>,
    pub language: Option<String>,
    pub max_question_chars: Option<i64>,
    pub catch_up_minutes: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub gguf: Option<String>,
    pub hf_repo: Option<String>,
    pub hf_file: Option<String>,
    pub models_dir: Option<String>,
    pub max_new_tokens: Option<i64>,
    pub temperature: Option<f64>,
    pub request_timeout_secs: Option<i64>,
    pub queue_capacity: Option<i64>,
    pub max_concurrent: Option<i64>,
    pub force_cpu: Option<bool>,
    pub engine: Option<String>,
    pub languages: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConsole {
    pub community: Option<String>,
    pub channel: Option<String>,
    pub user: Option<String>,
}

impl RawConfig {
    /// Parses TOML text; errors name `path`, the line, and the key.
    pub fn parse(text: &str, path: &str) -> Result<Self, ConfigError> {
        let invalid = |line: Option<usize>, key: String, message: String| ConfigError::Invalid {
            path: path.to_string(),
            line: line.map(|n| format!(", line {n}")).unwrap_or_default(),
            key,
            message,
        };
        let deserializer = toml::Deserializer::parse(text).map_err(|e| {
            let line = e.span().map(|span| line_of(text, span.start));
            invalid(line, "(syntax)".to_string(), e.message().trim().to_string())
        })?;
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let mut key = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.message().trim().to_string();
            // Depending on nesting the path may stop at the table; name the offending key.
            if let Some(field) = unknown_field_name(&message).filter(|f| !key.ends_with(f.as_str()))
            {
                key = if key == "." || key.is_empty() {
                    field
                } else {
                    format!("{key}.{field}")
                };
            }
            let line = inner.span().map(|span| line_of(text, span.start));
            invalid(line, key, message)
        })
    }
}

/// 1-based line number of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn unknown_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_string())
}
