//! A fault double of an OpenAI-compatible server, for the remote backend's failure modes only
//! (the real answers come from `openai_server`, the real model behind mistral.rs's router).
//!
//! `POST /v1/chat/completions` fails the way its [`Chat`] mode says: a garbage body, a stall,
//! an HTTP 500, or a stream that breaks (or stalls) after a few chunks of text.
//! `POST /v1/embeddings` answers fixed vectors ([`vector_for`]) in reverse order, so callers
//! must sort by `index`, or fails with a 500. `GET /v1/models` lists the configured models.
//! With an expected key, every route answers 401 unless `Authorization: Bearer <key>`, and
//! the 401 body echoes the key it was given (as some proxies do), so a client that copies
//! server messages into its errors would leak it. Requests are counted per route.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures::StreamExt;
use serde_json::{json, Value};

/// The model the double lists unless told otherwise.
pub const DOUBLE_MODEL: &str = "double-model";

pub const CHAT: &str = "/v1/chat/completions";
pub const EMBEDDINGS: &str = "/v1/embeddings";
pub const MODELS: &str = "/v1/models";

/// How chat completions fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chat {
    /// 200 with an HTML page: neither JSON nor server-sent events.
    Garbage,
    /// Accepts the request and never answers.
    Stall,
    /// HTTP 500 with an OpenAI-style error body.
    Error500,
    /// Streams this many chunks of text (50 ms apart), then drops the connection.
    DropAfter(usize),
    /// Streams this many chunks of text, then sends nothing more and keeps the connection.
    StallAfter(usize),
}

/// How embeddings are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embeddings {
    /// [`vector_for`] each input, listed in reverse order, after `delay`.
    Vectors { delay: Duration },
    /// HTTP 500.
    Error500,
}

/// What a double does.
#[derive(Debug, Clone)]
pub struct DoubleSettings {
    pub chat: Chat,
    pub embeddings: Embeddings,
    /// `GET /v1/models` lists these.
    pub models: Vec<String>,
    /// When set, requests without `Authorization: Bearer <key>` get a 401.
    pub expected_key: Option<String>,
}

impl DoubleSettings {
    pub fn chat(chat: Chat) -> Self {
        Self {
            chat,
            embeddings: Embeddings::Error500,
            models: vec![DOUBLE_MODEL.to_string()],
            expected_key: None,
        }
    }
}

/// The text pieces a breaking stream sends before it breaks.
pub const PIECES: [&str; 4] = ["Hello", " there", ", member", " of"];

/// The vector the double gives `text`: its length in bytes and its first character.
pub fn vector_for(text: &str) -> Vec<f32> {
    let first = text.chars().next().map_or(0.0, |c| c as u32 as f32);
    vec![text.len() as f32, first, 0.5]
}

struct Shared {
    settings: DoubleSettings,
    counts: Mutex<HashMap<String, usize>>,
    authorizations: Mutex<Vec<String>>,
}

/// A running double on 127.0.0.1; dropping it stops the listener.
pub struct Double {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Double {
    /// A double whose chat completions fail as `chat` says.
    pub async fn start(chat: Chat) -> Double {
        Self::start_with(DoubleSettings::chat(chat)).await
    }

    pub async fn start_with(settings: DoubleSettings) -> Double {
        let shared = Arc::new(Shared {
            settings,
            counts: Mutex::new(HashMap::new()),
            authorizations: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route(MODELS, get(models))
            .route(CHAT, post(chat))
            .route(EMBEDDINGS, post(embeddings))
            .layer(middleware::from_fn_with_state(shared.clone(), gate))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Double { addr, shared, task }
    }

    /// The base URL a config names (`.../v1`).
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Requests seen on `route` (e.g. [`CHAT`]), whatever the answer.
    pub fn count(&self, route: &str) -> usize {
        let counts = self.shared.counts.lock().unwrap();
        counts.get(route).copied().unwrap_or(0)
    }

    /// Every `Authorization` header received, in order.
    pub fn authorizations(&self) -> Vec<String> {
        self.shared.authorizations.lock().unwrap().clone()
    }
}

impl Drop for Double {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Counts the request, records its `Authorization` header, and refuses a wrong key.
async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    *shared.counts.lock().unwrap().entry(path).or_insert(0) += 1;
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    if let Some(presented) = &presented {
        shared
            .authorizations
            .lock()
            .unwrap()
            .push(presented.clone());
    }
    if let Some(expected) = &shared.settings.expected_key {
        if presented.as_deref() != Some(format!("Bearer {expected}").as_str()) {
            // Like some proxies, the message repeats what it was given.
            let given = presented.unwrap_or_default();
            let body = json!({"error": {
                "message": format!("Incorrect API key provided: {given}"),
                "type": "invalid_request_error",
                "code": "invalid_api_key"
            }});
            return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
        }
    }
    next.run(request).await
}

async fn models(State(shared): State<Arc<Shared>>) -> Response {
    let data: Vec<Value> = shared
        .settings
        .models
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": "double"}))
        .collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

async fn chat(State(shared): State<Arc<Shared>>) -> Response {
    match shared.settings.chat {
        Chat::Garbage => (
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>\n",
        )
            .into_response(),
        Chat::Stall => std::future::pending::<Response>().await,
        Chat::Error500 => error_500(),
        Chat::DropAfter(pieces) => {
            let broken = futures::stream::once(async {
                // Give the last chunk time to leave before the connection is dropped (hyper
                // discards what it has not written yet when the body fails).
                tokio::time::sleep(Duration::from_millis(200)).await;
                Err::<String, _>(std::io::Error::other("the double drops the connection"))
            });
            sse(text_chunks(pieces).chain(broken))
        }
        Chat::StallAfter(pieces) => sse(text_chunks(pieces).chain(futures::stream::pending())),
    }
}

async fn embeddings(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let delay = match shared.settings.embeddings {
        Embeddings::Error500 => return error_500(),
        Embeddings::Vectors { delay } => delay,
    };
    tokio::time::sleep(delay).await;
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let inputs: Vec<String> = match &request["input"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect(),
        _ => return (StatusCode::BAD_REQUEST, "input must be a string or a list").into_response(),
    };
    // Reverse order: a client must place each vector by its `index`.
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .rev()
        .map(|(index, text)| {
            json!({"object": "embedding", "index": index, "embedding": vector_for(text)})
        })
        .collect();
    axum::Json(json!({
        "object": "list",
        "data": data,
        "model": request["model"],
        "usage": {"prompt_tokens": inputs.len(), "total_tokens": inputs.len()}
    }))
    .into_response()
}

fn error_500() -> Response {
    let body = json!({"error": {"message": "CUDA out of memory", "type": "server_error"}});
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

/// `pieces` chat-completion chunks carrying text from [`PIECES`], 50 ms apart.
fn text_chunks(
    pieces: usize,
) -> impl futures::Stream<Item = Result<String, std::io::Error>> + Send + 'static {
    let chunks: Vec<String> = PIECES
        .iter()
        .cycle()
        .take(pieces)
        .map(|text| {
            let chunk = json!({
                "id": "chatcmpl-double",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": DOUBLE_MODEL,
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": null}]
            });
            format!("data: {chunk}\n\n")
        })
        .collect();
    futures::stream::iter(chunks).then(|chunk| async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok::<String, std::io::Error>(chunk)
    })
}

fn sse<S>(stream: S) -> Response
where
    S: futures::Stream<Item = Result<String, std::io::Error>> + Send + 'static,
{
    axum::http::Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .unwrap()
}
