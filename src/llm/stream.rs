//! Streams of generated text.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{LlmError, Priority};

/// Measurements of one generation: the backend's figures, with the class and start time
/// stamped by the scheduler.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenerationStats {
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    /// Prompt processing speed reported by the backend.
    pub prompt_tokens_per_sec: f64,
    /// Generation speed reported by the backend.
    pub generated_tokens_per_sec: f64,
    /// Time spent waiting in the engine queue.
    pub queued: Duration,
    /// Time from leaving the queue to the first piece of text.
    pub first_text_after: Option<Duration>,
    /// Time from leaving the queue to the end of generation.
    pub total: Duration,
    /// Why generation stopped ("stop", "length", ...), as reported by the backend.
    pub finish_reason: Option<String>,
    /// The request's class.
    pub class: Priority,
    /// When the scheduler handed the request to the backend (lets tests order starts).
    pub started_at: Option<Instant>,
}

/// One item of an [`LlmStream`].
#[derive(Debug)]
pub enum StreamEvent {
    /// More text.
    Delta(String),
    /// Generation finished; always the last item of a successful stream.
    Done(GenerationStats),
    /// Generation failed; always the last item of a failed stream.
    Error(LlmError),
}

/// A whole generated answer.
#[derive(Debug, Clone)]
pub struct Generated {
    pub text: String,
    pub stats: GenerationStats,
}

/// Partial text as the engine generates it. Dropping the stream cancels the generation.
#[derive(Debug)]
pub struct LlmStream {
    receiver: mpsc::Receiver<StreamEvent>,
}

impl LlmStream {
    /// Creates a stream and the sender an engine feeds. The channel is small on purpose: a
    /// slow reader slows generation down instead of buffering it.
    pub fn channel() -> (mpsc::Sender<StreamEvent>, Self) {
        let (sender, receiver) = mpsc::channel(32);
        (sender, Self { receiver })
    }

    /// Waits for the next item.
    pub async fn next_event(&mut self) -> Option<StreamEvent> {
        self.receiver.recv().await
    }

    /// Reads the stream to its end.
    pub async fn collect(mut self) -> Result<Generated, LlmError> {
        let mut text = String::new();
        while let Some(event) = self.next_event().await {
            match event {
                StreamEvent::Delta(delta) => text.push_str(&delta),
                StreamEvent::Done(stats) => return Ok(Generated { text, stats }),
                StreamEvent::Error(error) => return Err(error),
            }
        }
        // The backend dropped its sender without a final item.
        Err(LlmError::ShutDown)
    }
}

impl futures::Stream for LlmStream {
    type Item = StreamEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        self.receiver.poll_recv(cx)
    }
}
