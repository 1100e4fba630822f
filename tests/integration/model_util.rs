//! Shared helpers: the real default model, as a backend and behind the engine scheduler.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use steward::llm::{
    Backend, LlamaCppBackend, LlamaCppSettings, LlmError, MistralBackend, MistralSettings,
    Scheduler, SchedulerSettings,
};
use steward::metrics::Metrics;

/// The default model file; the README's test command fetches it before the tests run.
pub fn default_model() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join("SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo run --release -- model fetch` (scripts/test.sh does)",
        path.display()
    );
    path
}

/// Loads the default model as a backend that runs up to `max_concurrent` sequences at once.
pub async fn backend(max_concurrent: usize) -> MistralBackend {
    crate::logs::capture();
    let mut settings = MistralSettings::local(default_model());
    settings.max_concurrent = max_concurrent;
    MistralBackend::load(settings)
        .await
        .expect("the default model loads")
}

/// The in-process engines.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    MistralRs,
    LlamaCpp,
}

/// Loads `path` on the given engine with its default settings, returning the engine's own
/// error (for the cases of a missing or broken file).
pub async fn load_on(kind: Kind, path: &Path) -> Result<Arc<dyn Backend>, LlmError> {
    let backend: Arc<dyn Backend> = match kind {
        Kind::MistralRs => Arc::new(MistralBackend::load(MistralSettings::local(path)).await?),
        Kind::LlamaCpp => Arc::new(LlamaCppBackend::load(LlamaCppSettings::local(path)).await?),
    };
    Ok(backend)
}

/// The default model behind a scheduler with the given queue settings (its own metrics), on
/// mistral.rs.
pub async fn engine(queue_capacity: usize, max_concurrent: usize) -> Scheduler {
    engine_on(Kind::MistralRs, queue_capacity, max_concurrent).await
}

/// The default model on the given engine behind a scheduler with the given queue settings.
pub async fn engine_on(kind: Kind, queue_capacity: usize, max_concurrent: usize) -> Scheduler {
    let settings = SchedulerSettings {
        queue_capacity,
        max_concurrent,
        preempt_background: false,
    };
    let backend: Arc<dyn Backend> = match kind {
        Kind::MistralRs => Arc::new(backend(max_concurrent).await),
        Kind::LlamaCpp => {
            crate::logs::capture();
            Arc::new(
                LlamaCppBackend::load(LlamaCppSettings::local(default_model()))
                    .await
                    .expect("the default model loads on llama.cpp"),
            )
        }
    };
    Scheduler::new(backend, settings, Metrics::new())
}
