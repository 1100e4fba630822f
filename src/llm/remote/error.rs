//! How a remote call failed, classified once so the pool can decide: try another server,
//! stop, or report an interrupted answer. Every message names the server and never holds
//! its API key.

use super::super::LlmError;

/// What kind of failure, as far as the pool is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// No HTTP answer at all: connection refused, DNS, TLS, or a timeout before the headers.
    /// Another server may succeed.
    Unreachable,
    /// No first token in time, HTTP 5xx or 429, or a body that is not what was asked for,
    /// all before any text reached the caller: another server may succeed.
    Retryable,
    /// The server refused the request (HTTP 4xx other than 429): the same request would be
    /// refused again, so no other server is tried.
    Rejected { status: u16 },
    /// The server answers but does not list the configured model.
    ModelNotServed,
    /// The stream broke after text reached the caller: the answer cannot be restarted.
    Interrupted,
    /// Structured output that is not JSON or does not match the schema, twice.
    BadOutput,
}

/// A classified failure with a message fit for logs and operators.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Retryable, message)
    }

    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Retryable before any text was forwarded, interrupted after.
    pub fn broken(forwarded: bool, message: impl Into<String>) -> Self {
        let kind = if forwarded {
            FailureKind::Interrupted
        } else {
            FailureKind::Retryable
        };
        Self::new(kind, message)
    }

    pub fn unreachable(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Unreachable, message)
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, FailureKind::Retryable | FailureKind::Unreachable)
    }

    /// Whether this failure says something about the server (and so counts towards its
    /// circuit breaker). A bad request or bad structured output is the request's fault; a
    /// wrong key, an unknown model or an unknown path are the server's setup.
    pub fn blames_server(&self) -> bool {
        match self.kind {
            FailureKind::Unreachable
            | FailureKind::Retryable
            | FailureKind::Interrupted
            | FailureKind::ModelNotServed => true,
            FailureKind::Rejected { status } => matches!(status, 401 | 403 | 404),
            FailureKind::BadOutput => false,
        }
    }

    /// Whether the server should be taken out at once rather than after
    /// `failure_threshold` failures: it answers, but does not serve the configured model, so
    /// waiting for more failures would only fail more requests. (A refused key counts as an
    /// ordinary failure: some servers let `/models` through without one, and a probe that
    /// succeeds would put the server straight back.)
    pub fn is_definitive(&self) -> bool {
        self.kind == FailureKind::ModelNotServed
    }

    /// Replaces every occurrence of `key` in the message (defensive: servers and transport
    /// errors should never echo it, but a misconfigured proxy might).
    pub fn scrubbed(mut self, key: Option<&str>) -> Self {
        self.message = scrub(&self.message, key);
        self
    }

    /// The engine error a caller sees when this failure ends the request.
    pub fn into_llm_error(self) -> LlmError {
        match self.kind {
            FailureKind::Unreachable | FailureKind::Retryable => {
                LlmError::Unavailable(self.message)
            }
            FailureKind::Rejected { .. } | FailureKind::ModelNotServed => {
                LlmError::Generation(self.message)
            }
            FailureKind::Interrupted => LlmError::Interrupted,
            FailureKind::BadOutput => LlmError::BadStructuredOutput(self.message),
        }
    }
}

/// `text` with every occurrence of `key` replaced by `[redacted]`.
pub(crate) fn scrub(text: &str, key: Option<&str>) -> String {
    match key.filter(|k| !k.is_empty()) {
        Some(key) => text.replace(key, "[redacted]"),
        None => text.to_string(),
    }
}

/// At most `limit` characters of `text` (on a character boundary), with "..." when cut.
pub(crate) fn truncate(text: &str, limit: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// The message inside an error body: OpenAI's `{"error":{"message"}}`, `{"error":"..."}`,
/// vLLM's `{"message"}`, or the body itself; at most 200 characters.
pub(crate) fn server_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let from_json = parsed.as_ref().and_then(|value| {
        let error = value.get("error");
        error
            .and_then(|e| e.get("message"))
            .or(error)
            .or_else(|| value.get("message"))
            .or_else(|| value.get("detail"))
            .map(|m| match m.as_str() {
                Some(text) => text.to_string(),
                None => m.to_string(),
            })
    });
    let message = from_json.unwrap_or_else(|| body.to_string());
    if message.trim().is_empty() {
        "(empty body)".to_string()
    } else {
        truncate(&message, 200)
    }
}

/// A transport error with its causes ("error sending request: ... connection refused").
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        // (kind, retryable, blames the server, definitive)
        let cases = [
            (FailureKind::Unreachable, true, true, false),
            (FailureKind::Retryable, true, true, false),
            (FailureKind::Rejected { status: 400 }, false, false, false),
            (FailureKind::Rejected { status: 401 }, false, true, false),
            (FailureKind::Rejected { status: 404 }, false, true, false),
            (FailureKind::ModelNotServed, false, true, true),
            (FailureKind::Interrupted, false, true, false),
            (FailureKind::BadOutput, false, false, false),
        ];
        for (kind, retryable, blames, definitive) in cases {
            let failure = Failure::new(kind, "x");
            assert_eq!(failure.is_retryable(), retryable, "{kind:?}");
            assert_eq!(failure.blames_server(), blames, "{kind:?}");
            assert_eq!(failure.is_definitive(), definitive, "{kind:?}");
        }
        assert!(Failure::broken(false, "x").is_retryable());
        assert_eq!(Failure::broken(true, "x").kind, FailureKind::Interrupted);
        assert!(matches!(
            Failure::broken(true, "x").into_llm_error(),
            LlmError::Interrupted
        ));
        assert!(matches!(
            Failure::retryable("x").into_llm_error(),
            LlmError::Unavailable(_)
        ));
    }

    #[test]
    fn messages_are_scrubbed_and_short() {
        let failure =
            Failure::retryable("gpu-1: echoed sk-secret back").scrubbed(Some("sk-secret"));
        assert_eq!(failure.message, "gpu-1: echoed [redacted] back");
        assert_eq!(scrub("nothing", Some("")), "nothing");
        assert_eq!(truncate("abcdef", 3), "abc...");
        assert_eq!(truncate("日本語のテキスト", 2), "日本...");
        assert_eq!(truncate("short", 200), "short");
    }

    #[test]
    fn server_messages_are_found_in_every_shape() {
        let cases = [
            (
                r#"{"error":{"message":"model x does not exist"}}"#,
                "model x does not exist",
            ),
            (r#"{"error":"bad key"}"#, "bad key"),
            (r#"{"object":"error","message":"too long"}"#, "too long"),
            ("upstream timed out", "upstream timed out"),
            ("", "(empty body)"),
        ];
        for (body, expected) in cases {
            assert_eq!(server_message(body), expected, "{body}");
        }
        assert_eq!(server_message(&"x".repeat(500)).chars().count(), 203);
    }
}
