//! The in-process mistral.rs backend: loads a GGUF model and runs one generation per
//! [`BackendJob`]. Queues, priorities and deadlines are the [`Scheduler`](super::Scheduler)'s.
//!
//! Every generation is streamed internally, because dropping a streaming request is what stops
//! mistral.rs from generating (dropping a non-streaming future does not), and every request
//! carries a maximum token count.

use std::path::{Path, PathBuf};
use std::time::Instant;

use async_trait::async_trait;
use either::Either;
use mistralrs::{
    Constraint, GgufModelBuilder, Model, RequestBuilder, Response, SamplingParams, StopTokens,
    TextMessageRole, TokenSource,
};
use tokio::sync::mpsc;

use super::stream::{GenerationStats, StreamEvent};
use super::{Backend, BackendJob, ChatRequest, ChatRole, EngineInfo, LlmError};

/// Where the model weights come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelLocation {
    /// A GGUF file on disk (it carries its own tokenizer and chat template).
    LocalGguf { path: PathBuf },
    /// A GGUF file in a Hugging Face hub repository (needs network access).
    HubGguf { repo: String, file: String },
}

impl ModelLocation {
    /// A short description for logs and `doctor`.
    pub fn describe(&self) -> String {
        match self {
            ModelLocation::LocalGguf { path } => path.display().to_string(),
            ModelLocation::HubGguf { repo, file } => format!("hf://{repo}/{file}"),
        }
    }
}

/// How to load and run the model.
#[derive(Debug, Clone)]
pub struct MistralSettings {
    pub location: ModelLocation,
    /// Sequences mistral.rs runs at once (`with_max_num_seqs`); give it the scheduler's
    /// `max_concurrent`, so every job the scheduler starts is really running. On CPU mistral.rs
    /// runs them largely one after another, so a small number keeps latency predictable.
    pub max_concurrent: usize,
    /// Run on the CPU even when a GPU build finds a GPU.
    pub force_cpu: bool,
    /// Where copies of local GGUF files repacked for the CPU's fast kernels are kept
    /// ([`super::repack`]); `None`: load files as they are.
    pub cpu_repack_dir: Option<PathBuf>,
}

impl MistralSettings {
    /// A local GGUF file with the default concurrency (2) on the best device.
    pub fn local(path: impl Into<PathBuf>) -> Self {
        Self {
            location: ModelLocation::LocalGguf { path: path.into() },
            max_concurrent: 2,
            force_cpu: false,
            cpu_repack_dir: None,
        }
    }
}

/// The mistral.rs model, loaded in process. The [`Scheduler`](super::Scheduler) in front of it
/// decides what runs when; this type only turns one job into one streamed generation.
pub struct MistralBackend {
    model: Model,
    info: EngineInfo,
}

impl MistralBackend {
    /// Loads the model. A missing local file is [`LlmError::ModelMissing`] (checked here:
    /// mistral.rs would silently ask the Hugging Face hub); load errors and panics inside
    /// mistral.rs come back as [`LlmError::LoadFailed`].
    pub async fn load(settings: MistralSettings) -> Result<Self, LlmError> {
        let described = settings.location.describe();
        let original = settings.location.clone();
        let settings = repacked_for_cpu(settings).await?;
        let builder = builder_for(&settings)?;
        // mistral.rs may panic on malformed files; a spawned task turns that into a JoinError.
        let loaded = tokio::spawn(async move { builder.build().await }).await;
        let model = match loaded {
            Ok(Ok(model)) => model,
            Ok(Err(error)) => {
                return Err(LlmError::LoadFailed {
                    path: described,
                    reason: format!("{error:#}"),
                })
            }
            Err(join_error) => {
                let reason = if join_error.is_panic() {
                    panic_message(join_error.into_panic())
                } else {
                    "loading was cancelled".to_string()
                };
                return Err(LlmError::LoadFailed {
                    path: described,
                    reason,
                });
            }
        };
        let context_tokens = model.max_sequence_length().ok().flatten();
        let model_name = match &original {
            ModelLocation::LocalGguf { path } => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(described),
            ModelLocation::HubGguf { .. } => described,
        };
        Ok(Self {
            model,
            info: EngineInfo {
                model: model_name,
                backend: device_description(settings.force_cpu),
                context_tokens,
            },
        })
    }
}

#[async_trait]
impl Backend for MistralBackend {
    fn info(&self) -> EngineInfo {
        self.info.clone()
    }

    async fn generate(
        &self,
        job: BackendJob,
        sink: mpsc::Sender<StreamEvent>,
    ) -> Result<(), LlmError> {
        forward(&self.model, job, sink).await
    }

    async fn count_tokens(&self, text: &str) -> Result<usize, LlmError> {
        let tokens = self
            .model
            .tokenize(Either::Right(text.to_string()), None, false, false, None)
            .await
            .map_err(|e| LlmError::Generation(format!("tokenizer: {e}")))?;
        Ok(tokens.len())
    }
}

/// `settings` with a local GGUF file replaced by its copy repacked for the CPU's fast kernels,
/// when the model runs on the CPU and a repack directory is set. The model keeps its name.
async fn repacked_for_cpu(settings: MistralSettings) -> Result<MistralSettings, LlmError> {
    let (ModelLocation::LocalGguf { path }, Some(dir)) =
        (&settings.location, &settings.cpu_repack_dir)
    else {
        return Ok(settings);
    };
    let on_cpu = !matches!(mistralrs::best_device(settings.force_cpu), Ok(device) if device.is_cuda() || device.is_metal());
    if !on_cpu || !path.is_file() {
        return Ok(settings);
    }
    // A file that is not GGUF at all gets the header check's clear error first.
    super::check_gguf(path).map_err(|problem| LlmError::LoadFailed {
        path: path.display().to_string(),
        reason: problem.to_string(),
    })?;
    let (source, dir) = (path.clone(), dir.clone());
    let repacked = tokio::task::spawn_blocking(move || super::repack::for_cpu(&source, &dir))
        .await
        .map_err(|error| LlmError::LoadFailed {
            path: path.display().to_string(),
            reason: format!("repacking stopped: {error}"),
        })?
        .map_err(|error| LlmError::LoadFailed {
            path: path.display().to_string(),
            reason: error.to_string(),
        })?;
    Ok(MistralSettings {
        location: ModelLocation::LocalGguf { path: repacked },
        ..settings
    })
}

fn builder_for(settings: &MistralSettings) -> Result<GgufModelBuilder, LlmError> {
    let builder = match &settings.location {
        ModelLocation::LocalGguf { path } => {
            // With a path that does not exist mistral.rs silently asks the Hugging Face hub.
            if !path.is_file() {
                return Err(LlmError::ModelMissing {
                    path: path.display().to_string(),
                });
            }
            // candle aborts the process on some corrupt files; check the header first.
            super::check_gguf(path).map_err(|problem| LlmError::LoadFailed {
                path: path.display().to_string(),
                reason: problem.to_string(),
            })?;
            let (dir, file) = split_path(path)?;
            GgufModelBuilder::new(dir, vec![file]).with_token_source(TokenSource::None)
        }
        ModelLocation::HubGguf { repo, file } => GgufModelBuilder::new(repo, vec![file.clone()])
            .with_token_source(TokenSource::CacheToken),
    };
    let builder = builder.with_max_num_seqs(settings.max_concurrent.max(1));
    Ok(if settings.force_cpu {
        builder.with_force_cpu()
    } else {
        builder
    })
}

fn split_path(path: &Path) -> Result<(String, String), LlmError> {
    let absolute = std::path::absolute(path).map_err(|e| LlmError::LoadFailed {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let dir = absolute.parent().unwrap_or(Path::new("."));
    let file = absolute.file_name().ok_or_else(|| LlmError::ModelMissing {
        path: path.display().to_string(),
    })?;
    Ok((
        dir.to_string_lossy().into_owned(),
        file.to_string_lossy().into_owned(),
    ))
}

fn device_description(force_cpu: bool) -> String {
    let device = match mistralrs::best_device(force_cpu) {
        Ok(device) if device.is_cuda() => "cuda",
        Ok(device) if device.is_metal() => "metal",
        _ => "cpu",
    };
    format!("mistral.rs in process ({device})")
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        format!("mistral.rs panicked: {text}")
    } else if let Some(text) = payload.downcast_ref::<String>() {
        format!("mistral.rs panicked: {text}")
    } else {
        "mistral.rs panicked".to_string()
    }
}

/// Translates a validated request into mistral.rs terms: Steward's system prompt always first,
/// greedy decoding unless a temperature is set, and always a maximum token count.
fn build_request(request: &ChatRequest, constraint: Option<serde_json::Value>) -> RequestBuilder {
    let mut builder = RequestBuilder::new().add_message(TextMessageRole::System, &request.system);
    for message in &request.messages {
        let role = match message.role {
            ChatRole::User => TextMessageRole::User,
            ChatRole::Assistant => TextMessageRole::Assistant,
        };
        builder = builder.add_message(role, &message.content);
    }
    let mut sampling = SamplingParams::deterministic();
    if let Some(temperature) = request.temperature.filter(|t| *t > 0.0) {
        sampling.top_k = None;
        sampling.temperature = Some(temperature);
    }
    sampling.max_len = Some(request.max_new_tokens);
    if !request.stop.is_empty() {
        sampling.stop_toks = Some(StopTokens::Seqs(request.stop.clone()));
    }
    builder = builder.set_sampling(sampling);
    if let Some(schema) = constraint {
        builder = builder.set_constraint(Constraint::JsonSchema(schema));
    }
    builder
}

/// Streams one job's output into `sink`. Returns early (dropping the mistral.rs stream, which
/// cancels generation; dropping a non-streaming request would not) when `sink` is closed.
async fn forward(
    model: &Model,
    job: BackendJob,
    sink: mpsc::Sender<StreamEvent>,
) -> Result<(), LlmError> {
    let started = Instant::now();
    let request = build_request(&job.request, job.json_schema);
    let mut stream = model
        .stream_chat_request(request)
        .await
        .map_err(|e| LlmError::Generation(e.to_string()))?;
    // The scheduler stamps the queue time, class and start on the way to the caller.
    let mut stats = GenerationStats::default();
    let mut pieces = 0usize;
    while let Some(response) = stream.next().await {
        match response {
            Response::Chunk(chunk) => {
                for choice in chunk.choices {
                    if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                        pieces += 1;
                        stats
                            .first_text_after
                            .get_or_insert_with(|| started.elapsed());
                        if sink.send(StreamEvent::Delta(text)).await.is_err() {
                            return Ok(()); // Cancelled by the caller.
                        }
                    }
                    if choice.finish_reason.is_some() {
                        stats.finish_reason = choice.finish_reason;
                    }
                }
                if let Some(usage) = chunk.usage {
                    apply_usage(&mut stats, &usage);
                }
            }
            Response::Done(done) => {
                apply_usage(&mut stats, &done.usage);
                break;
            }
            Response::ModelError(message, _) => return Err(LlmError::Generation(message)),
            Response::InternalError(error) | Response::ValidationError(error) => {
                return Err(LlmError::Generation(error.to_string()))
            }
            _ => {}
        }
    }
    if stats.generated_tokens == 0 {
        stats.generated_tokens = pieces;
    }
    stats.total = started.elapsed();
    // A closed sink here means the caller left after the last piece: nothing to report.
    let _ = sink.send(StreamEvent::Done(stats)).await;
    Ok(())
}

fn apply_usage(stats: &mut GenerationStats, usage: &mistralrs::Usage) {
    stats.prompt_tokens = usage.prompt_tokens;
    stats.generated_tokens = usage.completion_tokens;
    stats.prompt_tokens_per_sec = f64::from(usage.avg_prompt_tok_per_sec);
    stats.generated_tokens_per_sec = f64::from(usage.avg_compl_tok_per_sec);
}
