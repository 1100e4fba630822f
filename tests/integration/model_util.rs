//! Shared helpers: the real default model and engines built from it.

use std::path::PathBuf;

use steward::llm::{MistralEngine, MistralSettings};

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

/// Loads the default model with the given queue settings.
pub async fn engine(queue_capacity: usize, max_concurrent: usize) -> MistralEngine {
    let mut settings = MistralSettings::local(default_model());
    settings.queue_capacity = queue_capacity;
    settings.max_concurrent = max_concurrent;
    MistralEngine::load(settings)
        .await
        .expect("the default model loads")
}
