//! The `[inference]` section: remote OpenAI-compatible servers. Absent (or without servers)
//! means answers come from the in-process model, exactly as without this section.
//!
//! The validated types are the engine's own ([`crate::llm::remote::InferenceSettings`]), so
//! the engine layer needs nothing from the config. API keys come only from the environment
//! variable each server names; errors name the variable, never its value.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use crate::llm::remote::{ApiKey, Capability, InferenceSettings, ServerSettings};

/// `[inference]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInference {
    pub fallback_to_local: Option<bool>,
    pub connect_timeout_secs: Option<i64>,
    pub first_token_timeout_secs: Option<i64>,
    pub health_interval_secs: Option<i64>,
    pub probe_interval_secs: Option<i64>,
    pub failure_threshold: Option<i64>,
    #[serde(default)]
    pub servers: Vec<RawServer>,
}

/// One `[[inference.servers]]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub name: Option<String>,
    pub url: Option<String>,
    pub model: Option<String>,
    pub api_key_env: Option<String>,
    pub weight: Option<i64>,
    pub max_concurrent: Option<i64>,
    pub serves: Option<Vec<String>>,
}

/// Checks `[inference]`; `invalid(key, message)` builds the error naming file and key, `env`
/// reads the API keys.
pub fn validate(
    raw: RawInference,
    env: &dyn Fn(&str) -> Option<String>,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<InferenceSettings, ConfigError> {
    let in_range = |key: &str, value: Option<i64>, default: i64, min: i64, max: i64| {
        super::validate::in_range(invalid, key, value, default, min, max)
    };
    let secs = |key: &str, value: Option<i64>, default: i64| {
        in_range(key, value, default, 1, 3600).map(|s| Duration::from_secs(s as u64))
    };
    let defaults = InferenceSettings::default();
    let mut servers: Vec<ServerSettings> = Vec::new();
    for (index, raw_server) in raw.servers.into_iter().enumerate() {
        let server = validate_server(index, raw_server, env, invalid)?;
        if servers.iter().any(|s| s.name == server.name) {
            return Err(invalid(
                &format!("inference.servers[{index}].name"),
                format!(
                    "{:?} is used by another server; give each server its own name",
                    server.name
                ),
            ));
        }
        servers.push(server);
    }
    Ok(InferenceSettings {
        servers,
        fallback_to_local: raw.fallback_to_local.unwrap_or(defaults.fallback_to_local),
        connect_timeout: secs(
            "inference.connect_timeout_secs",
            raw.connect_timeout_secs,
            5,
        )?,
        first_token_timeout: secs(
            "inference.first_token_timeout_secs",
            raw.first_token_timeout_secs,
            60,
        )?,
        health_interval: secs(
            "inference.health_interval_secs",
            raw.health_interval_secs,
            15,
        )?,
        probe_interval: secs("inference.probe_interval_secs", raw.probe_interval_secs, 5)?,
        failure_threshold: in_range(
            "inference.failure_threshold",
            raw.failure_threshold,
            3,
            1,
            100,
        )? as u32,
    })
}

fn validate_server(
    index: usize,
    raw: RawServer,
    env: &dyn Fn(&str) -> Option<String>,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<ServerSettings, ConfigError> {
    let key = |field: &str| format!("inference.servers[{index}].{field}");
    let url_text = raw
        .url
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .ok_or_else(|| {
            invalid(
                &key("url"),
                "is required, e.g. \"http://10.0.0.5:8000/v1\"".into(),
            )
        })?;
    let url = reqwest::Url::parse(&url_text)
        .map_err(|e| invalid(&key("url"), format!("{url_text:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(
            &key("url"),
            format!("{url_text:?} must start with http:// or https://"),
        ));
    }
    // Credentials in the URL would show in every error and log line that names it.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            &key("url"),
            "must not hold credentials; put the key in an environment variable named by api_key_env"
                .into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            &key("url"),
            format!("{url_text:?} must be a base URL without ?query or #fragment"),
        ));
    }
    let host = url.host_str().unwrap_or("server");
    let default_name = match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    let name = raw
        .name
        .map(|n| n.trim().to_string())
        .unwrap_or(default_name);
    if name.is_empty() || name.chars().count() > 64 {
        return Err(invalid(&key("name"), "must be 1 to 64 characters".into()));
    }
    let model = raw.model.map(|m| m.trim().to_string()).unwrap_or_default();
    if model.is_empty() {
        return Err(invalid(
            &key("model"),
            "is required: the model id the server serves (its GET /models lists it)".into(),
        ));
    }
    let api_key = match &raw.api_key_env {
        None => None,
        Some(variable) if variable.trim().is_empty() => {
            return Err(invalid(&key("api_key_env"), "must name an environment variable".into()))
        }
        Some(variable) => match env(variable.trim()).filter(|k| !k.trim().is_empty()) {
            Some(value) => Some(ApiKey::new(value.trim())),
            None => {
                return Err(invalid(
                    &key("api_key_env"),
                    format!(
                        "the environment variable {} is not set (or empty); export it with the server's API key",
                        variable.trim()
                    ),
                ))
            }
        },
    };
    let in_range = |field: &str, value: Option<i64>, default: i64, max: i64| {
        super::validate::in_range(invalid, &key(field), value, default, 1, max)
    };
    let weight = in_range("weight", raw.weight, 1, 1000)? as u32;
    let max_concurrent = in_range("max_concurrent", raw.max_concurrent, 4, 1024)? as usize;
    let serves = match raw.serves {
        None => vec![Capability::Chat],
        Some(names) => {
            let mut serves = Vec::new();
            for name in &names {
                let capability = Capability::parse(name.trim()).ok_or_else(|| {
                    invalid(
                        &key("serves"),
                        format!("unknown {name:?}; use \"chat\" and/or \"embeddings\""),
                    )
                })?;
                if !serves.contains(&capability) {
                    serves.push(capability);
                }
            }
            if serves.is_empty() {
                return Err(invalid(
                    &key("serves"),
                    "must list \"chat\", \"embeddings\" or both".into(),
                ));
            }
            serves
        }
    };
    Ok(ServerSettings {
        name,
        url: url_text,
        model,
        api_key_env: raw.api_key_env.map(|v| v.trim().to_string()),
        api_key,
        weight,
        max_concurrent,
        serves,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        toml_servers: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<InferenceSettings, String> {
        let text = format!("[inference]\n{toml_servers}");
        let raw =
            super::super::RawConfig::parse(&text, "steward.toml").map_err(|e| e.to_string())?;
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: "steward.toml".into(),
            line: String::new(),
            key: key.into(),
            message,
        };
        validate(raw.inference, env, &invalid).map_err(|e| e.to_string())
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    const GOOD: &str = "[[inference.servers]]\nurl = \"http://10.0.0.5:8000/v1/\"\nmodel = \"m\"\n";

    #[test]
    fn absent_means_no_servers_and_defaults() {
        let settings = check("", &no_env).unwrap();
        assert_eq!(settings, InferenceSettings::default());
        assert!(!settings.has_chat_servers());
    }

    #[test]
    fn a_minimal_server_gets_its_defaults() {
        let settings = check(GOOD, &no_env).unwrap();
        let server = &settings.servers[0];
        assert_eq!(server.name, "10.0.0.5:8000");
        assert_eq!(server.url, "http://10.0.0.5:8000/v1");
        assert_eq!((server.weight, server.max_concurrent), (1, 4));
        assert_eq!(server.serves, [Capability::Chat]);
        assert!(server.api_key.is_none());
        let https = check(
            "[[inference.servers]]\nurl = \"https://api.example\"\nmodel = \"m\"\n",
            &no_env,
        )
        .unwrap();
        assert_eq!(https.servers[0].name, "api.example:443");
    }

    #[test]
    fn errors_name_the_key() {
        let second = |extra: &str| format!("{GOOD}[[inference.servers]]\n{extra}\n");
        // (config, expected key, expected words)
        let cases: Vec<(String, &str, &str)> = vec![
            (
                "[[inference.servers]]\nmodel = \"m\"\n".into(),
                "inference.servers[0].url",
                "required",
            ),
            (
                second("url = \"ftp://h/v1\"\nmodel = \"m\""),
                "inference.servers[1].url",
                "http",
            ),
            (
                second("url = \"not a url\"\nmodel = \"m\""),
                "inference.servers[1].url",
                "not a URL",
            ),
            (
                second("url = \"http://u:pw@h/v1\"\nmodel = \"m\""),
                "inference.servers[1].url",
                "credentials",
            ),
            (
                second("url = \"http://h/v1?x=1\"\nmodel = \"m\""),
                "inference.servers[1].url",
                "query",
            ),
            (
                second("url = \"http://h/v1\""),
                "inference.servers[1].model",
                "required",
            ),
            (
                second("url = \"http://h/v1\"\nmodel = \" \""),
                "inference.servers[1].model",
                "required",
            ),
            (
                second("url = \"http://10.0.0.5:8000/v1\"\nmodel = \"m\""),
                "inference.servers[1].name",
                "another server",
            ),
            (
                second("url = \"http://h/v1\"\nmodel = \"m\"\nweight = 0"),
                "inference.servers[1].weight",
                "out of range",
            ),
            (
                second("url = \"http://h/v1\"\nmodel = \"m\"\nmax_concurrent = 0"),
                "inference.servers[1].max_concurrent",
                "out of range",
            ),
            (
                second("url = \"http://h/v1\"\nmodel = \"m\"\nserves = [\"chat\", \"images\"]"),
                "inference.servers[1].serves",
                "unknown",
            ),
            (
                second("url = \"http://h/v1\"\nmodel = \"m\"\nserves = []"),
                "inference.servers[1].serves",
                "must list",
            ),
            (
                second("url = \"http://h/v1\"\nmodel = \"m\"\napi_key_env = \"STEWARD_NOPE\""),
                "inference.servers[1].api_key_env",
                "STEWARD_NOPE is not set",
            ),
            (
                second("url = \"http://h/v1\"\nmodel = \"m\"\ncolour = 1"),
                "inference.servers[1].colour",
                "unknown field",
            ),
            (
                "connect_timeout_secs = 0\n".into(),
                "inference.connect_timeout_secs",
                "out of range",
            ),
            (
                "first_token_timeout_secs = 0\n".into(),
                "inference.first_token_timeout_secs",
                "out of range",
            ),
            (
                "failure_threshold = 0\n".into(),
                "inference.failure_threshold",
                "out of range",
            ),
        ];
        for (text, key, words) in cases {
            let error = check(&text, &no_env).expect_err(&text);
            assert!(error.contains(&format!("key `{key}`")), "{text}\n{error}");
            assert!(error.contains(words), "{text}\n{error}");
        }
    }

    #[test]
    fn the_key_comes_from_the_environment_and_never_shows() {
        let text = format!("fallback_to_local = true\n{GOOD}name = \"gpu-1\"\napi_key_env = \"STEWARD_GPU1_API_KEY\"\nserves = [\"chat\", \"embeddings\"]\n");
        let env = |name: &str| (name == "STEWARD_GPU1_API_KEY").then(|| "sk-hunter2".to_string());
        let settings = check(&text, &env).unwrap();
        let server = &settings.servers[0];
        assert_eq!(server.api_key.as_ref().unwrap().expose(), "sk-hunter2");
        assert_eq!(server.serves, [Capability::Chat, Capability::Embeddings]);
        assert!(settings.fallback_to_local && settings.has_embedding_servers());
        assert!(!format!("{settings:?}").contains("hunter2"));
        let empty = |_: &str| Some("  ".to_string());
        let error = check(&text, &empty).unwrap_err();
        assert!(
            error.contains("key `inference.servers[0].api_key_env`"),
            "{error}"
        );
        assert!(error.contains("STEWARD_GPU1_API_KEY"), "{error}");
    }
}
