//! The content of an OpenAI-compatible streaming response: one server-sent event's data
//! becomes a [`Chunk`], and [`Tally`] turns the chunks into text pieces and
//! [`GenerationStats`]. Pure functions, so they are tested from literal strings; the
//! transport (eventsource-stream over reqwest) is in `client`.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::super::GenerationStats;
use super::error::truncate;

/// What one event says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Chunk {
    /// `data: [DONE]`: the stream is complete.
    Done,
    /// A `chat.completion.chunk`.
    Data {
        /// `choices[0].delta.content`, when present and not empty.
        text: Option<String>,
        /// `choices[0].finish_reason` ("stop", "length"), when set.
        finish_reason: Option<String>,
        /// `usage`: (prompt tokens, generated tokens), when sent.
        usage: Option<(usize, usize)>,
    },
    /// The server reported an error inside the stream (`{"error": ...}` or `event: error`).
    ServerError(String),
}

/// Maps one event (its type and data) to a [`Chunk`]; `Err` says why the data is not an
/// OpenAI-compatible chunk.
pub(crate) fn parse_event(event: &str, data: &str) -> Result<Chunk, String> {
    let data = data.trim();
    if data == "[DONE]" {
        return Ok(Chunk::Done);
    }
    let value: Value = match serde_json::from_str(data) {
        Ok(value) => value,
        Err(_) if event == "error" => return Ok(Chunk::ServerError(truncate(data, 200))),
        Err(_) => return Err(format!("not a JSON chunk: {:?}", truncate(data, 80))),
    };
    if event == "error" || value.get("error").is_some_and(|e| !e.is_null()) {
        return Ok(Chunk::ServerError(super::error::server_message(data)));
    }
    let choices = value.get("choices").and_then(Value::as_array);
    let usage = value
        .get("usage")
        .filter(|u| u.is_object())
        .map(|u| (count(u, "prompt_tokens"), count(u, "completion_tokens")));
    if choices.is_none() && usage.is_none() {
        return Err(format!(
            "a JSON chunk without choices: {:?}",
            truncate(data, 80)
        ));
    }
    let first = choices.and_then(|c| c.first());
    let text = first
        .and_then(|c| c.pointer("/delta/content"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let finish_reason = first
        .and_then(|c| c.get("finish_reason"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Chunk::Data {
        text,
        finish_reason,
        usage,
    })
}

fn count(usage: &Value, key: &str) -> usize {
    usage.get(key).and_then(Value::as_u64).unwrap_or(0) as usize
}

/// Accumulates one generation's chunks into statistics.
#[derive(Debug)]
pub(crate) struct Tally {
    started: Instant,
    stats: GenerationStats,
    pieces: usize,
    usage_seen: bool,
}

impl Tally {
    pub fn new(started: Instant) -> Self {
        Self {
            started,
            stats: GenerationStats::default(),
            pieces: 0,
            usage_seen: false,
        }
    }

    /// Records one data chunk; returns its text, if any, for the caller.
    pub fn add(
        &mut self,
        text: Option<String>,
        finish_reason: Option<String>,
        usage: Option<(usize, usize)>,
    ) -> Option<String> {
        if let Some(reason) = finish_reason {
            self.stats.finish_reason = Some(reason);
        }
        if let Some((prompt, generated)) = usage {
            self.usage_seen = true;
            self.stats.prompt_tokens = prompt;
            self.stats.generated_tokens = generated;
        }
        let text = text?;
        self.pieces += 1;
        self.stats
            .first_text_after
            .get_or_insert_with(|| self.started.elapsed());
        Some(text)
    }

    /// Whether any text came yet (from then on a stall interrupts the answer).
    pub fn has_text(&self) -> bool {
        self.pieces > 0
    }

    /// Whether the server said why generation stopped.
    pub fn finished(&self) -> bool {
        self.stats.finish_reason.is_some()
    }

    /// The final statistics. Without `usage` from the server, each piece counts as a token
    /// (servers send one token per chunk), as the in-process backend does.
    pub fn finish(mut self) -> GenerationStats {
        if !self.usage_seen {
            self.stats.generated_tokens = self.pieces;
        }
        self.stats.total = self.started.elapsed();
        let generating = self
            .stats
            .total
            .saturating_sub(self.stats.first_text_after.unwrap_or(Duration::ZERO));
        if self.stats.generated_tokens > 0 && !generating.is_zero() {
            self.stats.generated_tokens_per_sec =
                self.stats.generated_tokens as f64 / generating.as_secs_f64();
        }
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(text: Option<&str>, finish: Option<&str>, usage: Option<(usize, usize)>) -> Chunk {
        Chunk::Data {
            text: text.map(str::to_string),
            finish_reason: finish.map(str::to_string),
            usage,
        }
    }

    #[test]
    fn events_map_to_chunks() {
        let cases: Vec<(&str, &str, Chunk)> = vec![
            ("message", "[DONE]", Chunk::Done),
            (
                "message",
                r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}"#,
                data(Some("Hel"), None, None),
            ),
            (
                "message",
                r#"{"choices":[{"index":0,"delta":{"content":""},"finish_reason":"length"}],"usage":null}"#,
                data(None, Some("length"), None),
            ),
            (
                "message",
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
                data(None, Some("stop"), None),
            ),
            (
                "message",
                r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}"#,
                data(None, None, Some((12, 5))),
            ),
            (
                "message",
                r#"{"error":{"message":"CUDA out of memory","code":500}}"#,
                Chunk::ServerError("CUDA out of memory".into()),
            ),
            (
                "error",
                "upstream died",
                Chunk::ServerError("upstream died".into()),
            ),
        ];
        for (event, text, expected) in cases {
            assert_eq!(parse_event(event, text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn garbage_is_an_error() {
        for garbage in [
            "<html>502 Bad Gateway</html>",
            "{\"object\":\"list\"}",
            "[1,2]",
            "",
        ] {
            assert!(parse_event("message", garbage).is_err(), "{garbage}");
        }
    }

    #[test]
    fn the_tally_counts_pieces_unless_usage_is_sent() {
        let mut tally = Tally::new(Instant::now());
        assert!(!tally.has_text());
        assert_eq!(tally.add(Some("a".into()), None, None), Some("a".into()));
        assert_eq!(tally.add(Some("b".into()), None, None), Some("b".into()));
        assert_eq!(tally.add(None, Some("stop".into()), None), None);
        assert!(tally.has_text() && tally.finished());
        let stats = tally.finish();
        assert_eq!(stats.generated_tokens, 2);
        assert_eq!(stats.finish_reason.as_deref(), Some("stop"));
        assert!(stats.first_text_after.is_some());

        let mut tally = Tally::new(Instant::now());
        tally.add(Some("a".into()), Some("length".into()), None);
        tally.add(None, None, Some((7, 9)));
        let stats = tally.finish();
        assert_eq!((stats.prompt_tokens, stats.generated_tokens), (7, 9));
        assert_eq!(stats.finish_reason.as_deref(), Some("length"));
    }
}
