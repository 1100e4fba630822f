//! The scrape endpoint: `GET /metrics` over plain HTTP/1.1, until the shutdown token is
//! cancelled.
//!
//! Binding is separate from serving so `steward run` can bind first and exit with a clear error
//! on a bad or busy address before any adapter connects, then serve once everything is up.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::Metrics;

/// How long open connections may finish their current response after shutdown.
const GRACE: Duration = Duration::from_secs(2);

/// The metrics endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot serve metrics on {addr} ([metrics] listen): {reason}")]
    Bind { addr: SocketAddr, reason: String },
}

impl MetricsError {
    /// A short stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            MetricsError::Bind { .. } => "metrics_bind",
        }
    }
}

/// Binds the endpoint's address. Call it before anything else starts so that a bad or busy
/// address fails the start; pass the listener to [`serve()`] later.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, MetricsError> {
    TcpListener::bind(addr)
        .await
        .map_err(|error| MetricsError::Bind {
            addr,
            reason: error.to_string(),
        })
}

/// Serves `GET /metrics` (the text exposition of `metrics`) on `listener`; every other request
/// gets 404. Returns once `shutdown` is cancelled and open connections have finished (or
/// [`GRACE`] has passed).
pub async fn serve(metrics: Arc<Metrics>, listener: TcpListener, shutdown: CancellationToken) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                // Typically out of file descriptors: wait instead of spinning on the error.
                tracing::warn!(%error, "metrics: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        connections.spawn(connection(metrics.clone(), stream, shutdown.clone()));
        // Reap finished connections so the set does not grow with every scrape.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(GRACE, drained).await.is_err() {
        tracing::debug!("metrics: connections still open after shutdown; dropping them");
    }
}

/// One client connection (keep-alive: a scraper reuses it), until it closes or shutdown.
async fn connection(metrics: Arc<Metrics>, stream: TcpStream, shutdown: CancellationToken) {
    let service = service_fn(move |request: Request<Incoming>| {
        std::future::ready(Ok::<_, Infallible>(respond(&metrics, &request)))
    });
    let mut builder = http1::Builder::new();
    // The timer enables hyper's header read timeout, so an idle half-open client cannot pin a
    // task forever.
    builder.timer(TokioTimer::new());
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let finished = tokio::select! {
        result = connection.as_mut() => Some(result),
        () = shutdown.cancelled() => None,
    };
    match finished {
        Some(Ok(())) => {}
        Some(Err(error)) => tracing::debug!(%error, "metrics: connection ended with an error"),
        None => {
            connection.as_mut().graceful_shutdown();
            // `serve` bounds the wait for all connections together.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "metrics: connection ended with an error");
            }
        }
    }
}

/// The response to one request: the exposition for `GET /metrics`, 404 for anything else.
fn respond(metrics: &Metrics, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let scrape = request.method() == Method::GET && request.uri().path() == "/metrics";
    let (status, content_type, body) = if scrape {
        (StatusCode::OK, super::CONTENT_TYPE, metrics.encode())
    } else {
        (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: the metrics are at GET /metrics\n".to_string(),
        )
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A metrics endpoint running in its own task: bound, serving, and stoppable.
#[derive(Debug)]
pub struct MetricsServer {
    /// Where it listens (the real port when `:0` was asked for).
    pub local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// Binds `addr` and serves `metrics` in a new task until `shutdown` is cancelled.
    pub async fn start(
        metrics: Arc<Metrics>,
        addr: SocketAddr,
        shutdown: CancellationToken,
    ) -> Result<Self, MetricsError> {
        let listener = bind(addr).await?;
        let local_addr = listener.local_addr().map_err(|error| MetricsError::Bind {
            addr,
            reason: error.to_string(),
        })?;
        let task = tokio::spawn(serve(metrics, listener, shutdown));
        Ok(MetricsServer { local_addr, task })
    }

    /// Waits until the server has stopped (cancel its shutdown token first).
    pub async fn stopped(self) {
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "metrics: the server task failed");
        }
    }
}
