//! The remote backend's settings as plain values: which servers, what each serves, and the
//! timeouts of the pool.
//!
//! They live here, not in `config`, because the engine layer imports nothing of the config;
//! `config` validates the `[inference]` section into these types and re-exports them
//! (`crate::config::InferenceSettings`). Tests build them directly, with short timeouts.

use std::fmt;
use std::time::Duration;

/// What a server is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// `POST /chat/completions`: answers, summaries, reviews.
    Chat,
    /// `POST /embeddings`: vectors for retrieval.
    Embeddings,
}

impl Capability {
    /// Every capability, in the order the config documents them.
    pub const ALL: [Capability; 2] = [Capability::Chat, Capability::Embeddings];

    /// The name used in the config (`serves = ["chat", "embeddings"]`).
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Chat => "chat",
            Capability::Embeddings => "embeddings",
        }
    }

    /// The capability a config name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        Capability::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// A server's API key. `Debug` and `Display` print `[redacted]`; the value is read only where
/// the `Authorization` header is built.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself. Only for the request header and for scrubbing error text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// One OpenAI-compatible server (`[[inference.servers]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    /// Names the server in logs, errors and metric labels ("gpu-1"; default "host:port").
    pub name: String,
    /// The base that `/chat/completions`, `/models` and `/embeddings` hang off, without a
    /// trailing slash, e.g. "http://10.0.0.5:8000/v1".
    pub url: String,
    /// The model id sent with every request; `/models` must list it.
    pub model: String,
    /// The environment variable the key came from: error texts name it, never the key.
    pub api_key_env: Option<String>,
    /// Sent as `Authorization: Bearer ...` when set.
    pub api_key: Option<ApiKey>,
    /// Share of the load: a server of weight 2 gets twice the requests of one of weight 1.
    pub weight: u32,
    /// Requests this server should run at once; more go elsewhere while another has room.
    pub max_concurrent: usize,
    pub serves: Vec<Capability>,
}

impl ServerSettings {
    /// A chat server with the defaults (weight 1, 4 at once, no key), for tests.
    pub fn chat(name: impl Into<String>, url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            url: url.into().trim_end_matches('/').to_string(),
            model: model.into(),
            api_key_env: None,
            api_key: None,
            weight: 1,
            max_concurrent: 4,
            serves: vec![Capability::Chat],
        }
    }

    pub fn serves(&self, capability: Capability) -> bool {
        self.serves.contains(&capability)
    }
}

/// The `[inference]` section: remote servers and how the pool treats them. Without chat
/// servers answers come from the in-process model.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceSettings {
    pub servers: Vec<ServerSettings>,
    /// When every chat server is out, answer with the in-process model.
    pub fallback_to_local: bool,
    /// TCP (and TLS) connection setup, per request.
    pub connect_timeout: Duration,
    /// No first token within this is a failure (tried on another server); after text started,
    /// no next chunk within this interrupts the answer.
    pub first_token_timeout: Duration,
    /// How often a server in use is probed (`GET /models`).
    pub health_interval: Duration,
    /// How often a server taken out is probed again.
    pub probe_interval: Duration,
    /// Consecutive failures that take a server out.
    pub failure_threshold: u32,
}

impl Default for InferenceSettings {
    /// No servers, and the documented defaults for the rest.
    fn default() -> Self {
        Self {
            servers: Vec::new(),
            fallback_to_local: false,
            connect_timeout: Duration::from_secs(5),
            first_token_timeout: Duration::from_secs(60),
            health_interval: Duration::from_secs(15),
            probe_interval: Duration::from_secs(5),
            failure_threshold: 3,
        }
    }
}

impl InferenceSettings {
    /// The servers that serve `capability`, in config order.
    pub fn servers_for(&self, capability: Capability) -> impl Iterator<Item = &ServerSettings> {
        self.servers.iter().filter(move |s| s.serves(capability))
    }

    /// True when answers are generated remotely.
    pub fn has_chat_servers(&self) -> bool {
        self.servers_for(Capability::Chat).next().is_some()
    }

    /// True when some server serves embeddings.
    pub fn has_embedding_servers(&self) -> bool {
        self.servers_for(Capability::Embeddings).next().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_shows_in_debug_or_display() {
        let mut server = ServerSettings::chat("gpu-1", "http://h:1/v1/", "m");
        server.api_key = Some(ApiKey::new("sk-hunter2"));
        server.api_key_env = Some("STEWARD_GPU1_API_KEY".into());
        let settings = InferenceSettings {
            servers: vec![server.clone()],
            ..InferenceSettings::default()
        };
        for shown in [
            format!("{settings:?}"),
            format!("{server:?}"),
            format!("{}", server.api_key.as_ref().unwrap()),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        assert!(format!("{server:?}").contains("STEWARD_GPU1_API_KEY"));
        assert_eq!(server.url, "http://h:1/v1");
    }

    #[test]
    fn capabilities_parse_and_filter() {
        assert_eq!(Capability::parse("chat"), Some(Capability::Chat));
        assert_eq!(
            Capability::parse("embeddings"),
            Some(Capability::Embeddings)
        );
        assert_eq!(Capability::parse("Chat"), None);
        let mut embed = ServerSettings::chat("e", "http://e:1/v1", "m");
        embed.serves = vec![Capability::Embeddings];
        let settings = InferenceSettings {
            servers: vec![embed],
            ..InferenceSettings::default()
        };
        assert!(!settings.has_chat_servers());
        assert!(settings.has_embedding_servers());
        assert!(!InferenceSettings::default().has_embedding_servers());
    }
}
