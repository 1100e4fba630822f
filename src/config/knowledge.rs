//! The `[knowledge]` section: how the knowledge base's passages and questions are embedded for
//! semantic retrieval (absent means "auto"), which channels' conversations never enter it, and
//! whether the model judges the retrieved passages before answering.

use serde::Deserialize;

use super::ConfigError;
use crate::llm::remote::{Capability, InferenceSettings};

/// `[knowledge]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKnowledge {
    pub embeddings: Option<String>,
    pub exclude_channels: Option<Vec<String>>,
    pub judge: Option<bool>,
}

/// Where embeddings come from (`[knowledge] embeddings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Embeddings {
    /// The `[inference]` servers that serve embeddings when there are any, else the in-process
    /// model.
    #[default]
    Auto,
    /// The in-process model (all-MiniLM-L6-v2, `steward model fetch`).
    Local,
    /// The `[inference]` servers that serve embeddings (at least one is required).
    Remote,
    /// None: retrieval is lexical only.
    Off,
}

impl Embeddings {
    /// What "auto" means for a config with (or without) embedding servers; the other choices
    /// stay as they are. Never returns [`Embeddings::Auto`].
    pub fn resolve(self, has_embedding_servers: bool) -> Embeddings {
        match self {
            Embeddings::Auto if has_embedding_servers => Embeddings::Remote,
            Embeddings::Auto => Embeddings::Local,
            other => other,
        }
    }
}

/// Validated `[knowledge]` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnowledgeSettings {
    /// As configured; [`Embeddings::resolve`] says what "auto" means.
    pub embeddings: Embeddings,
    /// Channel (or thread) ids whose messages are never indexed as community conversations:
    /// a Discord channel id, a Matrix room id.
    pub exclude_channels: Vec<String>,
    /// The model reads each retrieved passage before an answer and only those it says
    /// contain the answer are used; none: "I don't know" (`knowledge::judge`).
    pub judge: bool,
}

/// Checks `[knowledge]` against the validated `[inference]`; `invalid(key, message)` builds the
/// error naming file and key.
pub fn validate(
    raw: RawKnowledge,
    inference: &InferenceSettings,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<KnowledgeSettings, ConfigError> {
    let embeddings = match raw.embeddings.as_deref().unwrap_or("auto") {
        "auto" => Embeddings::Auto,
        "local" => Embeddings::Local,
        "remote" => Embeddings::Remote,
        "off" => Embeddings::Off,
        other => {
            return Err(invalid(
                "knowledge.embeddings",
                format!("unknown value {other:?}; use \"auto\", \"local\", \"remote\" or \"off\""),
            ))
        }
    };
    let servers = inference.has_embedding_servers();
    if embeddings == Embeddings::Remote && !servers {
        return Err(invalid(
            "knowledge.embeddings",
            "\"remote\" needs an [[inference.servers]] entry with serves = [\"embeddings\"]; \
             use \"local\" for the in-process model"
                .into(),
        ));
    }
    // Failover between servers must not mix vector spaces: vectors of two models cannot be
    // compared, and each vector is stored under one model name.
    if embeddings.resolve(servers) == Embeddings::Remote {
        let mut models: Vec<&str> = inference
            .servers_for(Capability::Embeddings)
            .map(|server| server.model.as_str())
            .collect();
        models.sort_unstable();
        models.dedup();
        if models.len() > 1 {
            return Err(invalid(
                "inference.servers",
                format!(
                    "the servers that serve embeddings name different models ({}); they must \
                     all serve the same embedding model",
                    models.join(", ")
                ),
            ));
        }
    }
    let exclude_channels = raw
        .exclude_channels
        .unwrap_or_default()
        .into_iter()
        .map(|id| id.trim().to_string())
        .collect::<Vec<_>>();
    if exclude_channels.iter().any(String::is_empty) {
        return Err(invalid(
            "knowledge.exclude_channels",
            "an empty channel id; list channel ids (Discord) or room ids (Matrix)".into(),
        ));
    }
    Ok(KnowledgeSettings {
        embeddings,
        exclude_channels,
        judge: raw.judge.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::remote::ServerSettings;

    fn check(value: Option<&str>, servers: &[&str]) -> Result<KnowledgeSettings, String> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: "steward.toml".into(),
            line: String::new(),
            key: key.into(),
            message,
        };
        let mut inference = InferenceSettings::default();
        for (i, model) in servers.iter().enumerate() {
            let url = format!("http://10.0.0.{i}:8000/v1");
            let mut server = ServerSettings::chat(format!("emb-{i}"), url, *model);
            server.serves = vec![Capability::Embeddings];
            inference.servers.push(server);
        }
        let raw = RawKnowledge {
            embeddings: value.map(str::to_string),
            exclude_channels: None,
            judge: None,
        };
        validate(raw, &inference, &invalid).map_err(|error| error.to_string())
    }

    #[test]
    fn each_choice_and_what_auto_means() {
        let cases = [
            (None, Embeddings::Auto, false, Embeddings::Local),
            (None, Embeddings::Auto, true, Embeddings::Remote),
            (Some("local"), Embeddings::Local, true, Embeddings::Local),
            (Some("remote"), Embeddings::Remote, true, Embeddings::Remote),
            (Some("off"), Embeddings::Off, true, Embeddings::Off),
            (Some("off"), Embeddings::Off, false, Embeddings::Off),
        ];
        for (value, want, servers, resolved) in cases {
            let models: &[&str] = if servers { &["minilm"] } else { &[] };
            let got = check(value, models).unwrap().embeddings;
            assert_eq!(got, want, "{value:?}");
            assert_eq!(
                got.resolve(servers),
                resolved,
                "{value:?}, servers {servers}"
            );
        }
    }

    #[test]
    fn excluded_channels_are_trimmed_ids() {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: "steward.toml".into(),
            line: String::new(),
            key: key.into(),
            message,
        };
        let raw = |ids: &[&str]| RawKnowledge {
            embeddings: None,
            exclude_channels: Some(ids.iter().map(|id| id.to_string()).collect()),
            judge: Some(true),
        };
        let inference = InferenceSettings::default();
        let settings = validate(raw(&[" 123 ", "!room:x"]), &inference, &invalid).unwrap();
        assert_eq!(settings.exclude_channels, ["123", "!room:x"]);
        assert!(settings.judge);
        assert!(
            !check(None, &[]).unwrap().judge,
            "the judge is off by default"
        );
        let error = validate(raw(&["123", " "]), &inference, &invalid).unwrap_err();
        assert!(
            error.to_string().contains("knowledge.exclude_channels"),
            "{error}"
        );
        assert!(check(None, &[]).unwrap().exclude_channels.is_empty());
    }

    #[test]
    fn bad_values_name_the_key() {
        let cases: [(&str, &[&str], &str); 4] = [
            ("Local", &[], "knowledge.embeddings"),
            ("", &[], "knowledge.embeddings"),
            ("remote", &[], "knowledge.embeddings"),
            ("auto", &["minilm", "bge-small"], "inference.servers"),
        ];
        for (value, servers, key) in cases {
            let error = check(Some(value), servers).expect_err(value);
            assert!(error.contains(&format!("key `{key}`")), "{value}: {error}");
        }
        // Two servers of one model are fine; off ignores the servers' models.
        check(Some("auto"), &["minilm", "minilm"]).unwrap();
        check(Some("off"), &["minilm", "bge-small"]).unwrap();
    }
}
