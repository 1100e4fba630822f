//! The in-process mistral.rs backend.
//!
//! One owner task holds the model and takes jobs from two bounded queues, interactive before
//! background; a full queue answers [`LlmError::Overloaded`] at once. Every generation is streamed internally, because dropping
//! a streaming request is what stops mistral.rs from generating (dropping a non-streaming
//! future does not), and every request carries a maximum token count.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use either::Either;
use mistralrs::{
    Constraint, GgufModelBuilder, Model, RequestBuilder, Response, SamplingParams, StopTokens,
    TextMessageRole, TokenSource,
};
use tokio::sync::{mpsc, Semaphore};

use super::stream::{GenerationStats, LlmStream, StreamEvent};
use super::{ChatRequest, ChatRole, Engine, EngineInfo, LlmError, Priority};

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
    /// Requests that may wait for the model; more are refused with `Overloaded`.
    pub queue_capacity: usize,
    /// Generations handed to mistral.rs at once. On CPU it runs them largely one after another,
    /// so a small number keeps latency predictable.
    pub max_concurrent: usize,
    /// Run on the CPU even when a GPU build finds a GPU.
    pub force_cpu: bool,
}

impl MistralSettings {
    pub fn local(path: impl Into<PathBuf>) -> Self {
        Self {
            location: ModelLocation::LocalGguf { path: path.into() },
            queue_capacity: 16,
            max_concurrent: 2,
            force_cpu: false,
        }
    }
}

/// A queued generation.
struct Job {
    request: ChatRequest,
    constraint: Option<serde_json::Value>,
    sink: mpsc::Sender<StreamEvent>,
    enqueued: Instant,
}

/// The mistral.rs engine. Cheap to share behind an `Arc`.
pub struct MistralEngine {
    interactive: mpsc::Sender<Job>,
    /// Its own queue, so background work never takes an interactive request's place.
    background: mpsc::Sender<Job>,
    capacity: usize,
    model: Arc<Model>,
    info: EngineInfo,
}

impl MistralEngine {
    /// Loads the model and starts the owner task. Load errors and panics inside mistral.rs
    /// come back as [`LlmError::LoadFailed`].
    pub async fn load(settings: MistralSettings) -> Result<Self, LlmError> {
        let described = settings.location.describe();
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
        let model = Arc::new(model);
        let context_tokens = model.max_sequence_length().ok().flatten();
        let model_name = match &settings.location {
            ModelLocation::LocalGguf { path } => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(described),
            ModelLocation::HubGguf { .. } => described,
        };
        let capacity = settings.queue_capacity.max(1);
        let (interactive, interactive_queue) = mpsc::channel(capacity);
        let (background, background_queue) = mpsc::channel(capacity);
        tokio::spawn(run_owner(
            model.clone(),
            Queues {
                interactive: interactive_queue,
                background: background_queue,
            },
            settings.max_concurrent.max(1),
        ));
        Ok(Self {
            interactive,
            background,
            capacity,
            model,
            info: EngineInfo {
                model: model_name,
                backend: device_description(settings.force_cpu),
                context_tokens,
            },
        })
    }

    fn enqueue(
        &self,
        request: ChatRequest,
        constraint: Option<serde_json::Value>,
    ) -> Result<LlmStream, LlmError> {
        request.validate()?;
        let (sink, stream) = LlmStream::channel();
        let job = Job {
            request,
            constraint,
            sink,
            enqueued: Instant::now(),
        };
        let queue = match job.request.priority {
            Priority::Interactive => &self.interactive,
            Priority::Background => &self.background,
        };
        match queue.try_send(job) {
            Ok(()) => Ok(stream),
            Err(mpsc::error::TrySendError::Full(_)) => Err(LlmError::Overloaded {
                queued: self.capacity,
                capacity: self.capacity,
            }),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(LlmError::ShutDown),
        }
    }
}

#[async_trait]
impl Engine for MistralEngine {
    fn info(&self) -> EngineInfo {
        self.info.clone()
    }

    async fn stream(&self, request: ChatRequest) -> Result<LlmStream, LlmError> {
        self.enqueue(request, None)
    }

    async fn generate_json(
        &self,
        request: ChatRequest,
        schema: serde_json::Value,
    ) -> Result<serde_json::Value, LlmError> {
        let generated = self.enqueue(request, Some(schema))?.collect().await?;
        serde_json::from_str(generated.text.trim()).map_err(|e| {
            LlmError::BadStructuredOutput(format!("{e}; the model wrote: {}", generated.text))
        })
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

/// The owner task's queues.
struct Queues {
    interactive: mpsc::Receiver<Job>,
    background: mpsc::Receiver<Job>,
}

impl Queues {
    /// The next job: an interactive one if any waits. `None` once the engine is dropped.
    async fn next(&mut self) -> Option<Job> {
        tokio::select! {
            biased;
            Some(job) = self.interactive.recv() => Some(job),
            Some(job) = self.background.recv() => Some(job),
            else => None,
        }
    }
}

/// The owner task: runs at most `max_concurrent` jobs at once. It waits for a free slot before
/// picking the next job, so the pick sees every job queued meanwhile and interactive ones win.
async fn run_owner(model: Arc<Model>, mut queues: Queues, max_concurrent: usize) {
    let permits = Arc::new(Semaphore::new(max_concurrent));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let Some(job) = queues.next().await else {
            break;
        };
        let model = model.clone();
        tokio::spawn(async move {
            run_job(&model, job).await;
            drop(permit);
        });
    }
    tracing::debug!("engine queue closed; owner task ends");
}

async fn run_job(model: &Model, job: Job) {
    if job.sink.is_closed() {
        return; // The caller gave up while waiting.
    }
    let queued = job.enqueued.elapsed();
    let sink = job.sink.clone();
    let Some(deadline) = job.request.deadline else {
        if let Err(error) = forward(model, job, queued).await {
            let _ = sink.send(StreamEvent::Error(error)).await;
        }
        return;
    };
    let remaining = deadline.saturating_sub(queued);
    let outcome = tokio::time::timeout(remaining, forward(model, job, queued)).await;
    let error = match outcome {
        Ok(Ok(())) => return,
        Ok(Err(error)) => error,
        Err(_elapsed) => LlmError::DeadlineExceeded(deadline),
    };
    let _ = sink.send(StreamEvent::Error(error)).await;
}

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

/// Streams one job's output into its sink. Returns early (dropping the mistral.rs stream, which
/// cancels generation) when the caller has dropped its end.
async fn forward(model: &Model, job: Job, queued: Duration) -> Result<(), LlmError> {
    let started = Instant::now();
    let request = build_request(&job.request, job.constraint);
    let mut stream = model
        .stream_chat_request(request)
        .await
        .map_err(|e| LlmError::Generation(e.to_string()))?;
    let mut stats = GenerationStats {
        queued,
        ..GenerationStats::default()
    };
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
                        if job.sink.send(StreamEvent::Delta(text)).await.is_err() {
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
    let _ = job.sink.send(StreamEvent::Done(stats)).await;
    Ok(())
}

fn apply_usage(stats: &mut GenerationStats, usage: &mistralrs::Usage) {
    stats.prompt_tokens = usage.prompt_tokens;
    stats.generated_tokens = usage.completion_tokens;
    stats.prompt_tokens_per_sec = f64::from(usage.avg_prompt_tok_per_sec);
    stats.generated_tokens_per_sec = f64::from(usage.avg_compl_tok_per_sec);
}
