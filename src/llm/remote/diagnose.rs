//! One server checked step by step for `steward doctor`: reachable, lists the model, can
//! generate one token (chat servers). Each outcome is distinct so the doctor can say how to fix it.

use super::client::ServerClient;
use super::error::{Failure, FailureKind};
use super::settings::{Capability, InferenceSettings, ServerSettings};

/// What a check of one server found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diagnosis {
    /// Reachable, lists the model, and (for a chat server) generated a token; `models` are
    /// all it lists.
    Healthy { models: Vec<String> },
    /// No HTTP answer: connection refused, DNS, TLS, or a timeout.
    Unreachable(String),
    /// HTTP 401 or 403: the API key is missing or wrong.
    Unauthorized { status: u16, error: String },
    /// An HTTP answer that is not an OpenAI-compatible API (an error status, not JSON).
    NotOpenAi(String),
    /// `/models` does not list the configured model.
    ModelNotServed { listed: Vec<String> },
    /// The model is listed, but a one-token completion failed.
    CompletionFailed(String),
}

/// Checks `server` with the timeouts of `settings`. Messages never hold the API key.
pub async fn diagnose(server: &ServerSettings, settings: &InferenceSettings) -> Diagnosis {
    let client = match ServerClient::new(server, settings) {
        Ok(client) => client,
        Err(error) => return Diagnosis::Unreachable(error.to_string()),
    };
    let models = match client.models().await {
        Ok(models) => models,
        Err(failure) => return classify(failure, Diagnosis::NotOpenAi),
    };
    if !models.iter().any(|m| m == &server.model) {
        return Diagnosis::ModelNotServed { listed: models };
    }
    if !server.serves(Capability::Chat) {
        return Diagnosis::Healthy { models };
    }
    match client.complete_one().await {
        Ok(()) => Diagnosis::Healthy { models },
        Err(failure) => classify(failure, Diagnosis::CompletionFailed),
    }
}

/// Unreachable and unauthorized are the same whichever step found them; `otherwise` words
/// the rest.
fn classify(failure: Failure, otherwise: fn(String) -> Diagnosis) -> Diagnosis {
    match failure.kind {
        FailureKind::Unreachable => Diagnosis::Unreachable(failure.message),
        FailureKind::Rejected {
            status: status @ (401 | 403),
        } => Diagnosis::Unauthorized {
            status,
            error: failure.message,
        },
        _ => otherwise(failure.message),
    }
}
