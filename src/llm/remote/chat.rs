//! Chat completions on one server: the request body, the streamed answer (server-sent events
//! read with eventsource-stream), stall detection, and structured output checked against its
//! JSON schema on our side.
//!
//! Failures before any text reached the caller are retryable (the pool tries another server);
//! after, the answer is interrupted: it cannot be restarted without repeating what the member
//! already read. Returning early drops the HTTP response, which closes the connection, and
//! OpenAI-compatible servers stop generating when their client goes away.

use std::pin::pin;
use std::time::Instant;

use eventsource_stream::{EventStreamError, Eventsource as _};
use futures::StreamExt as _;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::super::{BackendJob, ChatRequest, ChatRole, GenerationStats, StreamEvent};
use super::client::ServerClient;
use super::error::{error_chain, truncate, Failure, FailureKind};
use super::sse::{parse_event, Chunk, Tally};

/// How a chat call ended without failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The answer was sent, then `Done`.
    Done,
    /// The caller went away (its stream was dropped); nothing more was sent.
    Cancelled,
}

/// A whole streamed answer.
struct Streamed {
    /// The text, when it was collected rather than forwarded.
    text: String,
    stats: GenerationStats,
}

impl ServerClient {
    /// Runs one job: text streams into `sink` as it comes, then `Done`. With a JSON schema
    /// (and its `validator`) the answer is collected, checked, asked for once more if it is
    /// not valid, and sent whole.
    pub async fn chat(
        &self,
        job: &BackendJob,
        validator: Option<&jsonschema::Validator>,
        sink: &mpsc::Sender<StreamEvent>,
    ) -> Result<Ended, Failure> {
        let result = match (&job.json_schema, validator) {
            (Some(schema), Some(validator)) => {
                self.chat_json(&job.request, schema, validator, sink).await
            }
            _ => self.chat_text(&job.request, sink).await,
        };
        result.map_err(|failure| failure.scrubbed(self.key()))
    }

    /// A one-token completion (for `steward doctor`): the server can really generate.
    pub async fn complete_one(&self) -> Result<(), Failure> {
        let request = ChatRequest::new("You are a health check.", "Say OK.").with_max_new_tokens(1);
        let body = self.chat_body(&request, None);
        // Kept open so the call is not taken for a caller that went away.
        let (sink, _open) = mpsc::channel(1);
        self.stream_chat(&body, &sink, false)
            .await
            .map(|_| ())
            .map_err(|failure| failure.scrubbed(self.key()))
    }

    async fn chat_text(
        &self,
        request: &ChatRequest,
        sink: &mpsc::Sender<StreamEvent>,
    ) -> Result<Ended, Failure> {
        let body = self.chat_body(request, None);
        match self.stream_chat(&body, sink, true).await? {
            None => Ok(Ended::Cancelled),
            Some(streamed) => {
                // A closed sink here means the caller left after the last piece.
                let _ = sink.send(StreamEvent::Done(streamed.stats)).await;
                Ok(Ended::Done)
            }
        }
    }

    async fn chat_json(
        &self,
        request: &ChatRequest,
        schema: &Value,
        validator: &jsonschema::Validator,
        sink: &mpsc::Sender<StreamEvent>,
    ) -> Result<Ended, Failure> {
        let body = self.chat_body(request, Some(schema));
        let mut problem = String::new();
        // Servers constrain decoding to the schema, but not all honour every keyword: one
        // more try, then the caller hears what came back.
        for attempt in 1..=2 {
            let Some(streamed) = self.stream_chat(&body, sink, false).await? else {
                return Ok(Ended::Cancelled);
            };
            match check_json(&streamed.text, validator) {
                Ok(text) => {
                    if sink.send(StreamEvent::Delta(text)).await.is_err() {
                        return Ok(Ended::Cancelled);
                    }
                    let _ = sink.send(StreamEvent::Done(streamed.stats)).await;
                    return Ok(Ended::Done);
                }
                Err(why) => {
                    tracing::info!(server = %self.name(), attempt, %why, "structured output rejected");
                    problem = why;
                }
            }
        }
        Err(Failure::new(
            FailureKind::BadOutput,
            format!("{}: {problem}", self.name()),
        ))
    }

    /// The OpenAI request: Steward's system prompt first, greedy unless a temperature is
    /// set, always a token limit, and usage in the last chunk.
    fn chat_body(&self, request: &ChatRequest, schema: Option<&Value>) -> Value {
        let mut messages = vec![json!({ "role": "system", "content": request.system })];
        for message in &request.messages {
            let role = match message.role {
                ChatRole::User => "user",
                ChatRole::Assistant => "assistant",
            };
            messages.push(json!({ "role": role, "content": message.content }));
        }
        let mut body = json!({
            "model": self.settings.model,
            "messages": messages,
            "max_tokens": request.max_new_tokens,
            "temperature": request.temperature.unwrap_or(0.0),
            "stream": true,
            "stream_options": { "include_usage": true },
        });
        if !request.stop.is_empty() {
            body["stop"] = json!(request.stop);
        }
        if let Some(schema) = schema {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": { "name": "steward", "schema": schema, "strict": true },
            });
        }
        body
    }

    /// Streams one completion. With `forward`, each piece of text goes to `sink` at once;
    /// without, the text is collected and returned. `None`: the caller went away.
    async fn stream_chat(
        &self,
        body: &Value,
        sink: &mpsc::Sender<StreamEvent>,
        forward: bool,
    ) -> Result<Option<Streamed>, Failure> {
        let name = self.name();
        let started = Instant::now();
        // The first token must come within the timeout, connecting and prompt included.
        let first_deadline = tokio::time::Instant::now() + self.first_token_timeout;
        let request = self
            .authorized(self.http.post(self.endpoint("chat/completions")))
            .json(body);
        let sent = tokio::select! {
            biased;
            () = sink.closed() => return Ok(None),
            sent = tokio::time::timeout_at(first_deadline, request.send()) => sent,
        };
        let response = match sent {
            Err(_elapsed) => return Err(self.no_first_token()),
            Ok(Err(error)) => return Err(self.transport(error)),
            Ok(Ok(response)) => self.check_status(response).await?,
        };
        let mut events = pin!(response.bytes_stream().eventsource());
        let mut tally = Tally::new(started);
        let mut text = String::new();
        let mut forwarded = false;
        let mut events_seen = 0usize;
        let mut done = false;
        loop {
            // Once text flows, each next chunk gets the same time again.
            let wait = if tally.has_text() {
                tokio::time::Instant::now() + self.first_token_timeout
            } else {
                first_deadline
            };
            let next = tokio::select! {
                biased;
                () = sink.closed() => return Ok(None),
                next = tokio::time::timeout_at(wait, events.next()) => next,
            };
            let event = match next {
                Err(_elapsed) if tally.has_text() => {
                    return Err(Failure::broken(
                        forwarded,
                        format!("{name}: no new text for {:?}", self.first_token_timeout),
                    ))
                }
                Err(_elapsed) => return Err(self.no_first_token()),
                Ok(None) => break,
                Ok(Some(Err(error))) => {
                    let detail = match error {
                        EventStreamError::Transport(error) => error_chain(&error),
                        other => other.to_string(),
                    };
                    return Err(Failure::broken(
                        forwarded,
                        format!("{name}: the stream broke: {detail}"),
                    ));
                }
                Ok(Some(Ok(event))) => event,
            };
            events_seen += 1;
            match parse_event(&event.event, &event.data) {
                Ok(Chunk::Done) => {
                    done = true;
                    break;
                }
                Ok(Chunk::Data {
                    text: piece,
                    finish_reason,
                    usage,
                }) => {
                    let Some(piece) = tally.add(piece, finish_reason, usage) else {
                        continue;
                    };
                    if !forward {
                        text.push_str(&piece);
                    } else if sink.send(StreamEvent::Delta(piece)).await.is_err() {
                        return Ok(None);
                    } else {
                        forwarded = true;
                    }
                }
                Ok(Chunk::ServerError(message)) => {
                    return Err(Failure::broken(
                        forwarded,
                        format!("{name}: the server reported an error mid-stream: {message}"),
                    ))
                }
                Err(garbage) => {
                    return Err(Failure::broken(forwarded, format!("{name}: {garbage}")))
                }
            }
        }
        if !done && !tally.finished() {
            let why = if events_seen == 0 {
                "the answer is not an OpenAI-compatible event stream"
            } else {
                "the stream ended before the answer was finished"
            };
            return Err(Failure::broken(forwarded, format!("{name}: {why}")));
        }
        Ok(Some(Streamed {
            text,
            stats: tally.finish(),
        }))
    }

    fn no_first_token(&self) -> Failure {
        Failure::retryable(format!(
            "{}: no first token within {:?}",
            self.name(),
            self.first_token_timeout
        ))
    }
}

/// The answer, trimmed, if it is JSON matching the schema; else why not (with the text).
pub(crate) fn check_json(text: &str, validator: &jsonschema::Validator) -> Result<String, String> {
    let trimmed = text.trim();
    let value: Value = serde_json::from_str(trimmed).map_err(|error| {
        format!(
            "the answer is not JSON ({error}): {:?}",
            truncate(trimmed, 200)
        )
    })?;
    if let Err(error) = validator.validate(&value) {
        return Err(format!(
            "the answer does not match the schema ({error}): {:?}",
            truncate(trimmed, 200)
        ));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_answers_are_parsed_and_validated() {
        let schema = json!({
            "type": "object",
            "properties": { "label": { "type": "string", "enum": ["ok", "harmful"] } },
            "required": ["label"],
            "additionalProperties": false
        });
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert_eq!(
            check_json(" {\"label\":\"ok\"}\n", &validator).unwrap(),
            "{\"label\":\"ok\"}"
        );
        let not_json = check_json("{\"label\": \"ok\"", &validator).unwrap_err();
        assert!(not_json.contains("not JSON"), "{not_json}");
        let mismatch = check_json("{\"label\":\"maybe\"}", &validator).unwrap_err();
        assert!(mismatch.contains("does not match"), "{mismatch}");
        let extra = check_json("{\"label\":\"ok\",\"why\":1}", &validator).unwrap_err();
        assert!(extra.contains("does not match"), "{extra}");
    }
}
