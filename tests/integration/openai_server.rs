//! A real OpenAI-compatible server for the remote backend's tests and benchmark: the default
//! model (SmolLM2-135M GGUF) behind mistralrs-server-core's router — the router
//! `mistralrs serve` runs — on 127.0.0.1, port 0.
//!
//! The model is loaded once per test binary and shared by every server started from it
//! (a load costs about a second and ~400 MB; each server is its own listener, router and set
//! of connections, so killing one leaves the others serving). Clients reach a server through
//! a small TCP relay the server owns, so [`OpenAiServer::kill`] (or dropping it) closes the
//! listener and every open connection at once, in-flight streams included: from outside it
//! looks like a server process that died. Every request is logged with its JSON body and the
//! text the server sent back ([`Served`]), so tests can tell which server produced what.
#![allow(dead_code)] // benches/remote.rs includes this file and uses part of it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use futures::StreamExt;
use mistralrs::core::{AutoDeviceMapParams, ModelDType, ModelSelected, TokenSource};
use mistralrs_server_core::mistralrs_for_server_builder::MistralRsForServerBuilder;
use mistralrs_server_core::mistralrs_server_router_builder::MistralRsServerRouterBuilder;
use mistralrs_server_core::types::SharedMistralRsState;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::model_util::default_model;

pub const CHAT: &str = "/v1/chat/completions";

static MODEL: tokio::sync::OnceCell<SharedMistralRsState> = tokio::sync::OnceCell::const_new();

/// The default model in mistral.rs, loaded on first use and shared by every server of this
/// process. Needs a multi-threaded runtime (mistral.rs blocks in place while loading).
pub async fn shared_model() -> SharedMistralRsState {
    MODEL.get_or_init(load_model).await.clone()
}

/// Loads the default model the way `mistralrs serve gguf -m <dir> -f <file>` does, from the
/// local file only (no hub, no token).
pub async fn load_model() -> SharedMistralRsState {
    let path = default_model();
    let dir = path.parent().unwrap().to_string_lossy().into_owned();
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let model = ModelSelected::GGUF {
        tok_model_id: None,
        quantized_model_id: dir,
        quantized_filename: file,
        dtype: ModelDType::Auto,
        topology: None,
        max_seq_len: AutoDeviceMapParams::DEFAULT_MAX_SEQ_LEN,
        max_batch_size: AutoDeviceMapParams::DEFAULT_MAX_BATCH_SIZE,
    };
    MistralRsForServerBuilder::new()
        .with_model(model)
        .with_token_source(TokenSource::None)
        .with_max_seqs(8)
        .build()
        .await
        .expect("mistral.rs loads the default model")
}

/// One request a server received, and what it sent back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Served {
    pub path: String,
    /// The JSON request body (`Null` when there was none or it was not JSON).
    pub request: Value,
    /// The answer's text as far as the server sent it (streamed deltas, or the whole message).
    pub text: String,
    /// The server sent the whole answer (`data: [DONE]`, or a complete JSON body).
    pub finished: bool,
}

impl Served {
    /// The content of the request's last user message.
    pub fn question(&self) -> Option<&str> {
        self.request["messages"]
            .as_array()?
            .iter()
            .rev()
            .find(|message| message["role"] == "user")?["content"]
            .as_str()
    }
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Served>>>);

impl Log {
    fn push(&self, served: Served) -> usize {
        let mut entries = self.0.lock().unwrap();
        entries.push(served);
        entries.len() - 1
    }

    fn update(&self, index: usize, change: impl FnOnce(&mut Served)) {
        if let Some(entry) = self.0.lock().unwrap().get_mut(index) {
            change(entry);
        }
    }
}

/// A running server. Dropping it kills it.
pub struct OpenAiServer {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// The model id `/v1/models` lists and requests name.
    pub model: String,
    log: Log,
    relay: JoinHandle<()>,
    serve: JoinHandle<()>,
    killed: bool,
}

impl OpenAiServer {
    /// A server over the shared model.
    pub async fn start() -> OpenAiServer {
        // Before mistral.rs sets up logging of its own: the tests' capture must be the
        // process's subscriber.
        crate::logs::capture();
        Self::serve(shared_model().await).await
    }

    /// A server over `mistralrs`.
    pub async fn serve(mistralrs: SharedMistralRsState) -> OpenAiServer {
        let model = mistralrs
            .get_default_model_id()
            .ok()
            .flatten()
            .unwrap_or_else(|| "default".to_string());
        let router = MistralRsServerRouterBuilder::new()
            .with_mistralrs(mistralrs)
            .build()
            .await
            .expect("the mistral.rs router builds");
        let log = Log::default();
        let app = router.layer(middleware::from_fn_with_state(log.clone(), record));
        let inner = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let inner_addr = inner.local_addr().unwrap();
        let serve = tokio::spawn(async move {
            let _ = axum::serve(inner, app).await;
        });
        let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = front.local_addr().unwrap();
        let relay = tokio::spawn(relay(front, inner_addr));
        OpenAiServer {
            addr,
            model,
            log,
            relay,
            serve,
            killed: false,
        }
    }

    /// The base URL a config names (`http://127.0.0.1:PORT/v1`).
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn served(&self) -> Vec<Served> {
        self.log.0.lock().unwrap().clone()
    }

    /// The chat completions whose last user message is `question`.
    pub fn served_for(&self, question: &str) -> Vec<Served> {
        self.served()
            .into_iter()
            .filter(|s| s.path == CHAT && s.question() == Some(question))
            .collect()
    }

    /// How many chat completions were requested.
    pub fn chat_requests(&self) -> usize {
        self.served().iter().filter(|s| s.path == CHAT).count()
    }

    /// Stops accepting and closes every open connection, streams included; returns when the
    /// listener is closed.
    pub async fn kill(&mut self) {
        if self.killed {
            return;
        }
        self.killed = true;
        self.relay.abort();
        let _ = (&mut self.relay).await;
        self.serve.abort();
        let _ = (&mut self.serve).await;
    }
}

impl Drop for OpenAiServer {
    fn drop(&mut self) {
        self.relay.abort();
        self.serve.abort();
    }
}

/// Relays each client connection to the router; the connections live in a set this task owns,
/// so aborting the task closes all of them.
async fn relay(front: TcpListener, inner: SocketAddr) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = front.accept() => {
                let Ok((mut client, _)) = accepted else { continue };
                connections.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(inner).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Logs the request body and the text of the response as it streams out.
async fn record(State(log): State<Log>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let index = log.push(Served {
        path,
        request: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ..Served::default()
    });
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let streaming = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"));
    let (parts, body) = response.into_parts();
    let mut reader = Reader {
        log,
        index,
        streaming,
        pending: Vec::new(),
    };
    let body = body.into_data_stream().map(move |frame| {
        if let Ok(bytes) = &frame {
            reader.feed(bytes);
        }
        frame
    });
    Response::from_parts(parts, Body::from_stream(body))
}

/// Reads the text out of a response body as it passes.
struct Reader {
    log: Log,
    index: usize,
    streaming: bool,
    pending: Vec<u8>,
}

impl Reader {
    fn feed(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        if self.streaming {
            while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                self.event_line(String::from_utf8_lossy(&line).trim_end());
            }
        } else if let Ok(value) = serde_json::from_slice::<Value>(&self.pending) {
            let text = value
                .pointer("/choices/0/message/content")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            self.log.update(self.index, |served| {
                served.text = text;
                served.finished = true;
            });
        }
    }

    fn event_line(&self, line: &str) {
        let Some(data) = line.strip_prefix("data:") else {
            return;
        };
        let data = data.trim();
        if data == "[DONE]" {
            self.log.update(self.index, |served| served.finished = true);
            return;
        }
        let Ok(value) = serde_json::from_str::<Value>(data) else {
            return;
        };
        if let Some(text) = value
            .pointer("/choices/0/delta/content")
            .and_then(Value::as_str)
        {
            self.log
                .update(self.index, |served| served.text.push_str(text));
        }
    }
}
