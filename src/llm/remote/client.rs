//! One OpenAI-compatible server: the HTTP client, the API key, error classification, and the
//! short calls (`GET /models`, `POST /embeddings`). Chat streaming is in `chat`, token
//! counting in `tokenize`.
//!
//! The key is sent only as `Authorization: Bearer` (reqwest marks that header sensitive) and
//! scrubbed from every failure message this client produces.

use std::sync::atomic::{AtomicBool, AtomicU8};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use super::super::LlmError;
use super::error::{error_chain, server_message, truncate, Failure, FailureKind};
use super::settings::{InferenceSettings, ServerSettings};

/// A client for one server. Cheap to share: reqwest pools the connections.
pub(crate) struct ServerClient {
    pub(super) settings: ServerSettings,
    pub(super) http: reqwest::Client,
    pub(super) connect_timeout: Duration,
    pub(super) first_token_timeout: Duration,
    /// Which `/tokenize` shape the server understood (`tokenize`).
    pub(super) tokenizer: AtomicU8,
    pub(super) estimate_logged: AtomicBool,
}

impl ServerClient {
    pub fn new(server: &ServerSettings, settings: &InferenceSettings) -> Result<Self, LlmError> {
        // No overall timeout: answers stream for as long as they take; stalls are detected
        // per chunk in `chat`. Short calls set their own.
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .build()
            .map_err(|error| LlmError::LoadFailed {
                path: server.url.clone(),
                reason: format!(
                    "cannot build the HTTP client for {}: {}",
                    server.name,
                    error_chain(&error)
                ),
            })?;
        Ok(Self {
            settings: server.clone(),
            http,
            connect_timeout: settings.connect_timeout,
            first_token_timeout: settings.first_token_timeout,
            tokenizer: AtomicU8::new(super::tokenize::UNKNOWN),
            estimate_logged: AtomicBool::new(false),
        })
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }

    pub fn settings(&self) -> &ServerSettings {
        &self.settings
    }

    /// The key, for scrubbing only.
    pub(super) fn key(&self) -> Option<&str> {
        self.settings.api_key.as_ref().map(|key| key.expose())
    }

    /// `{url}/{path}`, e.g. `http://h:8000/v1/chat/completions`.
    pub(super) fn endpoint(&self, path: &str) -> String {
        format!("{}/{path}", self.settings.url)
    }

    /// The server's own endpoints (`/tokenize`) hang off the root, not `/v1`.
    pub(super) fn root_endpoint(&self, path: &str) -> String {
        let url = &self.settings.url;
        format!("{}/{path}", url.strip_suffix("/v1").unwrap_or(url))
    }

    pub(super) fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.settings.api_key {
            Some(key) => request.bearer_auth(key.expose()),
            None => request,
        }
    }

    /// Short calls (`/models`, `/tokenize`) get twice the connect timeout in all.
    pub(super) fn short_timeout(&self) -> Duration {
        self.connect_timeout * 2
    }

    /// A request that got no HTTP answer.
    pub(super) fn transport(&self, error: reqwest::Error) -> Failure {
        let what = if error.is_connect() {
            "cannot connect"
        } else if error.is_timeout() {
            "timed out"
        } else {
            "request failed"
        };
        let message = format!("{}: {what}: {}", self.settings.name, error_chain(&error));
        if error.is_connect() || error.is_timeout() || error.is_request() {
            Failure::unreachable(message)
        } else {
            Failure::retryable(message)
        }
    }

    /// Passes a success through; turns any other status into a classified failure with the
    /// server's own message (at most 200 characters).
    pub(super) async fn check_status(
        &self,
        response: reqwest::Response,
    ) -> Result<reqwest::Response, Failure> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        // A server that stalls while sending its error must not hold the request.
        let wait = self.connect_timeout.max(Duration::from_secs(1));
        let body = tokio::time::timeout(wait, response.text())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let message = server_message(&body);
        let name = &self.settings.name;
        let code = status.as_u16();
        if code == 429 || status.is_server_error() {
            return Err(Failure::retryable(format!(
                "{name}: HTTP {status}: {message}"
            )));
        }
        let hint = match (code, &self.settings.api_key_env) {
            (401 | 403, Some(variable)) => {
                format!("; check that {variable} holds this server's API key")
            }
            (401 | 403, None) => {
                "; the server wants an API key: set api_key_env for this server".to_string()
            }
            (404, _) => format!(
                "; check the url ({}) and that the server serves model {:?}",
                self.settings.url, self.settings.model
            ),
            _ => String::new(),
        };
        Err(Failure::new(
            FailureKind::Rejected { status: code },
            format!("{name} refused the request: HTTP {status}: {message}{hint}"),
        ))
    }

    /// `GET /models`: the model ids the server lists.
    pub async fn models(&self) -> Result<Vec<String>, Failure> {
        self.models_unscrubbed()
            .await
            .map_err(|failure| failure.scrubbed(self.key()))
    }

    async fn models_unscrubbed(&self) -> Result<Vec<String>, Failure> {
        let request = self
            .authorized(self.http.get(self.endpoint("models")))
            .timeout(self.short_timeout());
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let response = self.check_status(response).await?;
        let body = response.bytes().await.map_err(|e| self.transport(e))?;
        parse_models(&body)
            .map_err(|why| Failure::retryable(format!("{}: GET /models: {why}", self.name())))
    }

    /// The health probe: `/models` answers and lists the configured model.
    pub async fn probe(&self) -> Result<Vec<String>, Failure> {
        let models = self.models().await?;
        if models.iter().any(|m| m == &self.settings.model) {
            return Ok(models);
        }
        let listed = if models.is_empty() {
            "none".to_string()
        } else {
            truncate(&models.join(", "), 200)
        };
        Err(Failure::new(
            FailureKind::ModelNotServed,
            format!(
                "{}: unhealthy: model {} not served (server lists: {listed})",
                self.name(),
                self.settings.model
            ),
        ))
    }

    /// `POST /embeddings`: one vector per text, in the order of `texts`.
    pub async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, Failure> {
        self.embed_unscrubbed(texts)
            .await
            .map_err(|failure| failure.scrubbed(self.key()))
    }

    async fn embed_unscrubbed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, Failure> {
        let body = json!({ "model": self.settings.model, "input": texts });
        let request = self
            .authorized(self.http.post(self.endpoint("embeddings")))
            .timeout(self.first_token_timeout)
            .json(&body);
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let response = self.check_status(response).await?;
        let bytes = response.bytes().await.map_err(|e| self.transport(e))?;
        parse_embeddings(&bytes, texts.len())
            .map_err(|why| Failure::retryable(format!("{}: POST /embeddings: {why}", self.name())))
    }
}

fn parse_models(body: &[u8]) -> Result<Vec<String>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        format!(
            "not JSON: {:?}",
            truncate(&String::from_utf8_lossy(body), 80)
        )
    })?;
    let data = value
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| "the answer has no `data` list".to_string())?;
    Ok(data
        .iter()
        .filter_map(|model| model.get("id").and_then(Value::as_str))
        .map(str::to_string)
        .collect())
}

#[derive(Deserialize)]
struct EmbeddingList {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    index: Option<usize>,
    embedding: Vec<f32>,
}

fn parse_embeddings(body: &[u8], expected: usize) -> Result<Vec<Vec<f32>>, String> {
    let list: EmbeddingList =
        serde_json::from_slice(body).map_err(|e| format!("not an OpenAI embeddings list ({e})"))?;
    let mut items: Vec<(usize, Vec<f32>)> = list
        .data
        .into_iter()
        .enumerate()
        .map(|(at, item)| (item.index.unwrap_or(at), item.embedding))
        .collect();
    // Servers may answer out of order; `index` says which input each vector belongs to.
    items.sort_by_key(|(index, _)| *index);
    if items.len() != expected {
        return Err(format!("{} vectors for {expected} texts", items.len()));
    }
    Ok(items.into_iter().map(|(_, vector)| vector).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_lists_and_embeddings_parse() {
        let models = br#"{"object":"list","data":[{"id":"a","object":"model"},{"id":"b"}]}"#;
        assert_eq!(parse_models(models).unwrap(), ["a", "b"]);
        assert!(parse_models(b"<html>").is_err());
        assert!(parse_models(br#"{"models":[]}"#).is_err());

        let out_of_order =
            br#"{"data":[{"index":1,"embedding":[2.0]},{"index":0,"embedding":[1.0,0.5]}]}"#;
        assert_eq!(
            parse_embeddings(out_of_order, 2).unwrap(),
            vec![vec![1.0, 0.5], vec![2.0]]
        );
        assert!(parse_embeddings(out_of_order, 3).is_err());
        assert!(parse_embeddings(b"nonsense", 1).is_err());
    }
}
