//! Token counts from the server's own tokenizer: vLLM's and llama.cpp's `/tokenize` (at the
//! server's root, not under `/v1`) take different request shapes, so both are tried once and
//! the one that worked is remembered. A server with neither gets an estimate, said once in
//! the log.

use std::sync::atomic::Ordering;

use serde_json::{json, Value};

use super::client::ServerClient;
use super::error::Failure;

/// Which `/tokenize` request shape the server understood (remembered after the first count).
pub(super) const UNKNOWN: u8 = 0;
/// vLLM: `{"model", "prompt"}`, answers `{"count", "tokens"}`.
const VLLM: u8 = 1;
/// llama.cpp: `{"content"}`, answers `{"tokens"}`.
const LLAMA_CPP: u8 = 2;
/// No tokenize endpoint: counts are estimated.
const NONE: u8 = 3;

impl ServerClient {
    /// Counts tokens with the server's tokenizer (vLLM's or llama.cpp's `/tokenize`); when
    /// the server has neither, estimates and says so once in the log. `Err` only when the
    /// server cannot be reached (the caller may ask another).
    pub async fn count_tokens(&self, text: &str) -> Result<usize, Failure> {
        if text.is_empty() {
            return Ok(0);
        }
        let known = self.tokenizer.load(Ordering::Relaxed);
        let shapes: &[u8] = match known {
            NONE => &[],
            VLLM => &[VLLM],
            LLAMA_CPP => &[LLAMA_CPP],
            _ => &[VLLM, LLAMA_CPP],
        };
        for &shape in shapes {
            let counted = self
                .tokenize(shape, text)
                .await
                .map_err(|failure| failure.scrubbed(self.key()))?;
            // llama.cpp answers the vLLM shape with no tokens: try the next shape.
            if let Some(count) = counted.filter(|count| *count > 0) {
                self.tokenizer.store(shape, Ordering::Relaxed);
                return Ok(count);
            }
        }
        if known == UNKNOWN {
            self.tokenizer.store(NONE, Ordering::Relaxed);
        }
        if !self.estimate_logged.swap(true, Ordering::Relaxed) {
            tracing::info!(
                server = %self.name(),
                "the inference server has no /tokenize endpoint; token counts are estimates \
                 (4 characters per token)"
            );
        }
        Ok(estimate_tokens(text))
    }

    /// One `/tokenize` call; `Ok(None)` when the server does not understand it.
    async fn tokenize(&self, shape: u8, text: &str) -> Result<Option<usize>, Failure> {
        let body = if shape == VLLM {
            json!({ "model": self.settings.model, "prompt": text, "add_special_tokens": false })
        } else {
            json!({ "content": text })
        };
        let request = self
            .authorized(self.http.post(self.root_endpoint("tokenize")))
            .timeout(self.short_timeout())
            .json(&body);
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(self.check_status(response).await.err().unwrap_or_else(|| {
                Failure::retryable(format!("{}: /tokenize: HTTP {status}", self.name()))
            }));
        }
        if !status.is_success() {
            return Ok(None);
        }
        let bytes = response.bytes().await.map_err(|e| self.transport(e))?;
        Ok(parse_token_count(&bytes))
    }
}

/// Four characters per token, rounded up, at least one: close enough for budgets when the
/// server cannot count.
pub(crate) fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4).max(1)
}

fn parse_token_count(body: &[u8]) -> Option<usize> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value
        .get("count")
        .and_then(Value::as_u64)
        .map(|count| count as usize)
        .or_else(|| value.get("tokens").and_then(Value::as_array).map(Vec::len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_round_up_and_never_say_zero() {
        for (text, expected) in [("a", 1), ("abcd", 1), ("abcde", 2), ("日本語の文", 2)] {
            assert_eq!(estimate_tokens(text), expected, "{text}");
        }
    }

    #[test]
    fn both_answer_shapes_give_a_count() {
        assert_eq!(
            parse_token_count(br#"{"count":3,"tokens":[1,2,3],"max_model_len":8192}"#),
            Some(3)
        );
        assert_eq!(parse_token_count(br#"{"tokens":[5,6]}"#), Some(2));
        assert_eq!(parse_token_count(br#"{"detail":"Not Found"}"#), None);
        assert_eq!(parse_token_count(b"Not Found"), None);
    }
}
