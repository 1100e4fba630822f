//! Loading the engines a command needs: the chat engine (the in-process model on the engine
//! `[model] engine` resolves to, or the `[inference]` servers with the local model as their
//! fallback, always behind the [`Scheduler`]) and the embedder `[knowledge] embeddings` asks
//! for.

use std::sync::Arc;

#[cfg(feature = "llamacpp")]
use crate::config::EngineChoice;
use crate::config::{Config, Embeddings, ModelSource};
use crate::llm::bert::LocalEmbedder;
use crate::llm::remote::{Capability, RemoteEmbedder, RemotePool};
use crate::llm::{
    Backend, Embedder, Engine, MistralBackend, MistralSettings, ModelLocation, Scheduler,
    SchedulerSettings,
};
use crate::metrics::Metrics;

use super::{cache_dir, default_model_path, fetch_default_model, AppError};

/// Where the configured model lives, as the engine needs it.
pub fn model_location(config: &Config) -> ModelLocation {
    match &config.model.source {
        ModelSource::Default => ModelLocation::LocalGguf {
            path: default_model_path(config),
        },
        ModelSource::LocalGguf(path) => ModelLocation::LocalGguf { path: path.clone() },
        ModelSource::Hub { repo, file } => ModelLocation::HubGguf {
            repo: repo.clone(),
            file: file.clone(),
        },
    }
}

/// Builds the engine and puts the scheduler in front of it, counting into `metrics`.
///
/// With chat servers in `[inference]` answers come from the remote pool (the in-process model
/// is loaded only as its fallback, with `fallback_to_local`); otherwise the model is loaded
/// in process. With `fetch_if_missing`, the default model is fetched first when it is needed
/// and absent.
pub async fn load_engine(
    config: &Config,
    fetch_if_missing: bool,
    metrics: Arc<Metrics>,
) -> Result<Arc<dyn Engine>, AppError> {
    let inference = &config.inference;
    let remote = inference.has_chat_servers();
    let local_needed = !remote || inference.fallback_to_local;
    if fetch_if_missing
        && local_needed
        && config.model.source == ModelSource::Default
        && !default_model_path(config).is_file()
    {
        let config = config.clone();
        tokio::task::spawn_blocking(move || fetch_default_model(&config))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
    }
    let local = if local_needed {
        Some(load_local_backend(config).await?)
    } else {
        None
    };
    let (backend, max_concurrent): (Arc<dyn Backend>, usize) = match local {
        Some(local) if !remote => (local, config.model.max_concurrent),
        local => {
            let pool = RemotePool::new(inference, metrics.clone())?;
            // The scheduler bounds the total: every server's share, plus the local model's
            // while it stands in for them.
            let mut slots: usize = inference
                .servers_for(Capability::Chat)
                .map(|server| server.max_concurrent)
                .sum();
            let pool = match local {
                Some(local) => {
                    slots += config.model.max_concurrent;
                    pool.with_fallback(local)
                }
                None => pool,
            };
            let pool: Arc<dyn Backend> = Arc::new(pool);
            (pool, slots)
        }
    };
    // On the CPU an in-process background generation (sentiment batches, summaries of
    // digests) shares the cores with members' questions: it gives way to them. Remote servers
    // and GPUs run generations side by side. With a single slot a waiting background job would
    // hold the slot the question needs, so preemption needs two.
    let preempt_background =
        !remote && backend.info().backend.ends_with("(cpu)") && max_concurrent >= 2;
    let settings = SchedulerSettings {
        queue_capacity: config.model.queue_capacity,
        max_concurrent,
        preempt_background,
    };
    Ok(Arc::new(Scheduler::new(backend, settings, metrics)))
}

/// The in-process model on the engine `[model] engine` resolves to.
async fn load_local_backend(config: &Config) -> Result<Arc<dyn Backend>, AppError> {
    #[cfg(feature = "llamacpp")]
    if config.model.engine.resolve(&config.model.source) == EngineChoice::LlamaCpp {
        if let ModelLocation::LocalGguf { path } = model_location(config) {
            let backend =
                crate::llm::LlamaCppBackend::load(crate::llm::LlamaCppSettings::local(path))
                    .await?;
            return Ok(Arc::new(backend));
        }
    }
    let backend = MistralBackend::load(MistralSettings {
        location: model_location(config),
        // As many sequences as the scheduler starts, so none waits inside mistral.rs.
        max_concurrent: config.model.max_concurrent,
        force_cpu: config.model.force_cpu,
        // Q4_1 weights (the default model's) run 1.5-2x faster on the CPU as Q8_0.
        cpu_repack_dir: Some(cache_dir().join("repacked")),
    })
    .await?;
    Ok(Arc::new(backend))
}

/// The embedder `[knowledge] embeddings` asks for: the `[inference]` servers that serve
/// embeddings ("remote"; "auto" with such servers), the in-process all-MiniLM-L6-v2 ("local";
/// "auto" without), or none ("off").
///
/// A local model that is missing or broken is not an error: it logs one warning and returns
/// `None`, and retrieval stays lexical (`steward doctor` says how to fix it).
pub async fn load_embedder(
    config: &Config,
    metrics: Arc<Metrics>,
) -> Result<Option<Arc<dyn Embedder>>, AppError> {
    let servers = config.inference.has_embedding_servers();
    match config.knowledge.embeddings.resolve(servers) {
        Embeddings::Off => Ok(None),
        Embeddings::Remote => {
            let embedder = RemoteEmbedder::new(&config.inference, metrics)?;
            Ok(Some(Arc::new(embedder) as Arc<dyn Embedder>))
        }
        Embeddings::Local | Embeddings::Auto => {
            let models_dir = config.model.models_dir.clone();
            let loaded = tokio::task::spawn_blocking(move || LocalEmbedder::load(&models_dir))
                .await
                .map_err(|e| {
                    format!("loading the embedding model failed ({e}); see `steward doctor`")
                })
                .and_then(|loaded| loaded.map_err(|e| e.to_string()));
            match loaded {
                Ok(embedder) => Ok(Some(Arc::new(embedder) as Arc<dyn Embedder>)),
                Err(reason) => {
                    tracing::warn!(
                        "semantic retrieval off, answers use lexical retrieval only: {reason}"
                    );
                    Ok(None)
                }
            }
        }
    }
}

/// What `load_engine` will load, in words: the in-process model's location, or the remote
/// chat servers (and the local fallback).
pub(super) fn engine_description(config: &Config) -> String {
    let inference = &config.inference;
    if !inference.has_chat_servers() {
        return model_location(config).describe();
    }
    let servers: Vec<String> = inference
        .servers_for(Capability::Chat)
        .map(|server| format!("{} ({} at {})", server.name, server.model, server.url))
        .collect();
    let mut text = format!("the inference servers {}", servers.join(", "));
    if inference.fallback_to_local {
        text.push_str(&format!(
            ", with {} as the fallback",
            model_location(config).describe()
        ));
    }
    text
}
