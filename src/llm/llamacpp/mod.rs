//! The in-process llama.cpp backend (cargo feature `llamacpp`, chosen by `[model] engine`):
//! loads a local GGUF file through the `llama-cpp-2` bindings and runs one generation per
//! [`BackendJob`]. Queues, priorities and deadlines are the [`Scheduler`](super::Scheduler)'s.
//!
//! It exists for speed on the CPU: llama.cpp processes prompts 3-5x faster than mistral.rs on
//! the CPU (docs/perf.md), and prompt processing is what a member waits for before the first
//! word of a grounded answer. Constrained JSON goes through llguidance, as in mistral.rs, so
//! both engines accept the same schemas (the `x-guidance` options included).
//!
//! llama.cpp is C++: the file is checked with [`super::check_gguf`] before llama.cpp reads it,
//! and generation runs on a blocking thread that stops at the next token or prompt chunk once
//! the caller is gone (a dropped stream, a deadline, a preempted background job).

mod generation;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatTemplate, LlamaModel};
use llguidance::ParserFactory;
use tokio::sync::mpsc;

use super::stream::StreamEvent;
use super::{Backend, BackendJob, EngineInfo, LlmError};

/// How to load and run the model.
#[derive(Debug, Clone)]
pub struct LlamaCppSettings {
    /// A local GGUF file (it carries its own tokenizer and chat template).
    pub path: PathBuf,
    /// Threads for prompt processing and generation.
    pub threads: usize,
}

impl LlamaCppSettings {
    /// A local GGUF file with [`default_threads`](super::default_threads).
    pub fn local(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            threads: super::default_threads(),
        }
    }
}

/// llama.cpp's process-wide state: initialised once, with its own logging off (its load
/// messages would flood Steward's log at every start).
fn llama_backend() -> Result<&'static LlamaBackend, LlmError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(
                llama_cpp_2::LogOptions::default().with_logs_enabled(false),
            );
            LlamaBackend::init().map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|reason| LlmError::LoadFailed {
            path: "llama.cpp".to_string(),
            reason: reason.clone(),
        })
}

/// What every generation shares.
struct Loaded {
    backend: &'static LlamaBackend,
    model: LlamaModel,
    template: LlamaChatTemplate,
    threads: usize,
    /// llguidance's view of the vocabulary, built on the first constrained request (walking
    /// 49k tokens takes a moment; most processes never need it).
    grammars: OnceLock<Result<ParserFactory, String>>,
}

/// The llama.cpp model, loaded in process.
pub struct LlamaCppBackend {
    loaded: Arc<Loaded>,
    info: EngineInfo,
}

impl LlamaCppBackend {
    /// Loads the model. A missing file is [`LlmError::ModelMissing`]; a file that is not a
    /// sound GGUF, or one llama.cpp refuses, is [`LlmError::LoadFailed`].
    pub async fn load(settings: LlamaCppSettings) -> Result<Self, LlmError> {
        let path = settings.path.clone();
        let shown = path.display().to_string();
        if !path.is_file() {
            return Err(LlmError::ModelMissing { path: shown });
        }
        let load_failed = |reason: String| LlmError::LoadFailed {
            path: shown.clone(),
            reason,
        };
        super::check_gguf(&path).map_err(|problem| load_failed(problem.to_string()))?;
        let backend = llama_backend()?;
        let threads = settings.threads.max(1);
        let file = path.clone();
        let loaded = tokio::task::spawn_blocking(move || -> Result<Loaded, String> {
            let model = LlamaModel::load_from_file(backend, &file, &LlamaModelParams::default())
                .map_err(|error| error.to_string())?;
            let template = model
                .chat_template(None)
                .map_err(|error| format!("the file has no usable chat template: {error}"))?;
            Ok(Loaded {
                backend,
                model,
                template,
                threads,
                grammars: OnceLock::new(),
            })
        })
        .await
        .map_err(|error| load_failed(format!("loading stopped: {error}")))?
        .map_err(load_failed)?;
        let model_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| shown.clone());
        let context_tokens = Some(loaded.model.n_ctx_train() as usize);
        Ok(Self {
            loaded: Arc::new(loaded),
            info: EngineInfo {
                model: model_name,
                backend: "llama.cpp in process (cpu)".to_string(),
                context_tokens,
            },
        })
    }
}

/// Sets the flag when the generation's future is dropped (a deadline, a preempted job), so the
/// blocking thread stops at its next check.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[async_trait]
impl Backend for LlamaCppBackend {
    fn info(&self) -> EngineInfo {
        self.info.clone()
    }

    async fn generate(
        &self,
        job: BackendJob,
        sink: mpsc::Sender<StreamEvent>,
    ) -> Result<(), LlmError> {
        let stop = Arc::new(AtomicBool::new(false));
        let _stop_on_drop = StopOnDrop(stop.clone());
        let loaded = self.loaded.clone();
        tokio::task::spawn_blocking(move || generation::run(&loaded, job, &sink, &stop))
            .await
            .map_err(|error| LlmError::Generation(format!("llama.cpp stopped: {error}")))?
    }

    async fn count_tokens(&self, text: &str) -> Result<usize, LlmError> {
        if text.is_empty() {
            return Ok(0);
        }
        Ok(self
            .loaded
            .model
            .vocab()
            .tokenize(text.as_bytes(), false, false)
            .len())
    }
}
