//! `steward run`: the bot on every configured platform in one process, sharing one engine,
//! store and router, until Ctrl-C or SIGTERM.
//!
//! Shutdown: a signal cancels one shared token; each adapter finishes the work in hand and
//! returns; every adapter's end is reported (clean stop or error).

use std::sync::Arc;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{load_embedder, load_engine, open_store, router_serving, AppError};
use crate::config::Config;
use crate::core::Platform;
use crate::metrics::Metrics;
use crate::platform;

/// Runs the configured adapters. Returns an error if no platform is configured or if an
/// adapter stopped with an error.
pub async fn run_bots(config: &Config) -> Result<(), AppError> {
    if config.matrix.is_none() && config.discord.is_none() {
        return Err(AppError::NothingToRun);
    }
    // Bound first: a bad or busy address stops the start before anything connects.
    let metrics_listener = match config.metrics.listen {
        Some(address) => Some(crate::metrics::bind(address).await?),
        None => None,
    };
    let metrics = Metrics::new();
    let store = Arc::new(open_store(config).await?);
    let engine = load_engine(config, true, metrics.clone()).await?;
    // Only the served platforms' background jobs are claimed here (processes may share a
    // database: a Matrix process and Discord shard processes).
    let mut platforms = Vec::new();
    if config.matrix.is_some() {
        platforms.push(Platform::Matrix);
    }
    if config.discord.is_some() {
        platforms.push(Platform::Discord);
    }
    let embedder = load_embedder(config, metrics.clone()).await?;
    let scoring_model = super::scoring::classifier(config, &engine);
    let router = router_serving(
        config,
        store.clone(),
        engine,
        metrics.clone(),
        &platforms,
        embedder.clone(),
    );
    let router = Arc::new(router);
    let shutdown = CancellationToken::new();
    let mut workers = router.start_background(&shutdown);
    if let Some(embedder) = embedder {
        workers.push(super::indexing::spawn(
            store.clone(),
            embedder,
            shutdown.clone(),
        ));
    }
    workers.push(super::retention::spawn(
        router.privacy().clone(),
        shutdown.clone(),
    ));
    workers.push(super::insights::spawn(
        router.clone(),
        platforms.clone(),
        shutdown.clone(),
    ));
    workers.push(super::scoring::spawn(
        store.as_ref().clone(),
        scoring_model,
        config.insights.clone(),
        shutdown.clone(),
    ));
    if let Some(listener) = metrics_listener {
        tracing::info!(address = ?listener.local_addr().ok(), "serving metrics");
        tokio::spawn(crate::metrics::serve(metrics, listener, shutdown.clone()));
    }
    let mut adapters = JoinSet::new();
    if let Some(settings) = config.matrix.clone() {
        let (router, shutdown) = (router.clone(), shutdown.clone());
        adapters.spawn(async move {
            let result = platform::matrix::run(&settings, router, shutdown).await;
            ("matrix", result.map_err(|e| e.to_string()))
        });
    }
    if let Some(settings) = config.discord.clone() {
        let (router, shutdown) = (router.clone(), shutdown.clone());
        adapters.spawn(async move {
            let result = platform::discord::run(&settings, router, shutdown).await;
            ("discord", result.map_err(|e| e.to_string()))
        });
    }
    tracing::info!(adapters = adapters.len(), "steward is running");

    let mut failures = Vec::new();
    let signal = shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal, if !shutdown.is_cancelled() => {
                tracing::info!("shutting down: finishing the work in hand");
                shutdown.cancel();
            }
            ended = adapters.join_next() => match ended {
                None => break,
                Some(Ok((name, Ok(())))) => tracing::info!(adapter = name, "adapter stopped"),
                Some(Ok((name, Err(error)))) => {
                    // The other platforms keep running: one broken login should not take the
                    // whole community bot down.
                    tracing::error!(adapter = name, %error, "adapter stopped with an error");
                    failures.push(format!("{name}: {error}"));
                }
                Some(Err(join_error)) => {
                    tracing::error!(%join_error, "adapter task panicked");
                    failures.push(format!("adapter task: {join_error}"));
                }
            },
        }
    }
    shutdown.cancel();
    for worker in workers {
        if let Err(join_error) = worker.await {
            tracing::error!(%join_error, "a background worker panicked");
        }
    }
    store.close().await;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(AppError::AdaptersFailed(failures.join("; ")))
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
