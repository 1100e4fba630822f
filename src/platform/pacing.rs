//! Bounded streaming for chat platforms: an answer is posted early and then edited as the
//! model generates, at most once per interval and at most a fixed number of times, so a long
//! answer never floods a homeserver or hits Discord's rate limits. Platform-agnostic: adapters
//! pass closures that post and edit. A closure that cannot deliver (the first post failed)
//! stops the stream: dropping it cancels the generation, so no model time is spent on an answer
//! nobody will see.

use std::ops::ControlFlow;
use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;

use crate::core::{TextStream, TextStreamItem};

/// How often an answer in progress may be edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditPolicy {
    /// Minimum time between two updates.
    pub min_interval: Duration,
    /// Maximum number of in-progress updates (the first post included); the final text is
    /// always delivered on top of these.
    pub max_updates: usize,
}

impl Default for EditPolicy {
    fn default() -> Self {
        Self {
            min_interval: Duration::from_millis(1500),
            max_updates: 20,
        }
    }
}

/// The outcome of a streamed answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Streamed {
    /// The whole text, with a failure note appended if generation failed.
    pub text: String,
    /// The user-facing failure message, if generation failed.
    pub failure: Option<String>,
    /// Generated tokens reported by the engine.
    pub tokens: usize,
    /// How many in-progress updates were delivered.
    pub updates: usize,
    /// The update closure stopped the stream; the generation was cancelled and `text` is
    /// what had arrived until then.
    pub stopped: bool,
}

/// Reads `stream` to its end, calling `update` with the text so far at most
/// `policy.max_updates` times and at most once per `policy.min_interval`. The caller delivers
/// the final [`Streamed::text`] itself (it may equal the last update). When `update` returns
/// [`ControlFlow::Break`], reading stops at once and the stream is dropped (the generation is
/// cancelled); [`Streamed::stopped`] says so.
pub async fn pace<F, Fut>(stream: TextStream, policy: EditPolicy, mut update: F) -> Streamed
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = ControlFlow<()>>,
{
    let mut stream = stream.0;
    let mut result = Streamed::default();
    let mut last_update: Option<Instant> = None;
    let mut last_sent_len = 0;
    while let Some(item) = stream.next().await {
        match item {
            TextStreamItem::Delta(delta) => result.text.push_str(&delta),
            TextStreamItem::Finished { tokens } => result.tokens = tokens,
            TextStreamItem::Failed(message) => result.failure = Some(message),
        }
        let due = last_update.is_none_or(|at| at.elapsed() >= policy.min_interval);
        let changed = result.text.trim().len() > last_sent_len;
        if due && changed && result.updates < policy.max_updates {
            if update(result.text.trim().to_string()).await.is_break() {
                result.stopped = true;
                result.text = result.text.trim().to_string();
                return result;
            }
            result.updates += 1;
            last_sent_len = result.text.trim().len();
            last_update = Some(Instant::now());
        }
    }
    result.text = result.text.trim().to_string();
    if let Some(failure) = &result.failure {
        if result.text.is_empty() {
            result.text = failure.clone();
        } else {
            result.text = format!("{} [{failure}]", result.text);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn stream_of(items: Vec<(u64, TextStreamItem)>) -> TextStream {
        TextStream::new(
            futures::stream::iter(items).then(|(delay_ms, item)| async move {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                item
            }),
        )
    }

    #[tokio::test]
    async fn updates_are_bounded_in_rate_and_number() {
        // 100 words, one every 5 ms: about half a second of generation.
        let mut items: Vec<(u64, TextStreamItem)> = (0..100)
            .map(|i| (5, TextStreamItem::Delta(format!("w{i} "))))
            .collect();
        items.push((0, TextStreamItem::Finished { tokens: 100 }));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let policy = EditPolicy {
            min_interval: Duration::from_millis(60),
            max_updates: 4,
        };
        let recorded = seen.clone();
        let result = pace(stream_of(items), policy, move |text| {
            recorded.lock().unwrap().push((Instant::now(), text));
            async { ControlFlow::Continue(()) }
        })
        .await;
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 4, "at most max_updates");
        assert_eq!(result.updates, 4);
        for pair in seen.windows(2) {
            assert!(pair[1].0 - pair[0].0 >= policy.min_interval, "rate bounded");
            assert!(pair[1].1.len() > pair[0].1.len(), "each update grows");
        }
        assert_eq!(seen[0].1, "w0", "the first text is posted at once");
        assert!(result.text.ends_with("w99"));
        assert_eq!(result.tokens, 100);
        assert!(result.failure.is_none());
    }

    #[tokio::test]
    async fn failures_are_appended_to_the_text() {
        let items = vec![
            (10, TextStreamItem::Delta("Partial answer".into())),
            (10, TextStreamItem::Failed("too slow".into())),
        ];
        let go_on = |_| async { ControlFlow::Continue(()) };
        let result = pace(stream_of(items), EditPolicy::default(), go_on).await;
        assert_eq!(result.text, "Partial answer [too slow]");
        let only_failure = pace(
            stream_of(vec![(0, TextStreamItem::Failed("busy".into()))]),
            EditPolicy::default(),
            go_on,
        )
        .await;
        assert_eq!(only_failure.text, "busy");
        assert_eq!(only_failure.updates, 0);
    }

    #[tokio::test]
    async fn a_failed_first_update_stops_reading_and_drops_the_stream() {
        let (sender, receiver) = tokio::sync::mpsc::channel::<TextStreamItem>(1);
        let stream = TextStream::new(tokio_stream_of(receiver));
        let feeder = tokio::spawn(async move {
            let mut sent = 0;
            while sender
                .send(TextStreamItem::Delta("w ".into()))
                .await
                .is_ok()
            {
                sent += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            sent
        });
        let result = pace(stream, EditPolicy::default(), |_| async {
            ControlFlow::Break(())
        })
        .await;
        assert!(result.stopped);
        assert_eq!(result.updates, 0);
        // The stream was dropped, so the producer sees a closed channel and stops.
        let sent = tokio::time::timeout(Duration::from_secs(2), feeder)
            .await
            .expect("the producer stops once the stream is dropped")
            .unwrap();
        assert!(sent < 5, "{sent} pieces were produced after the stop");
    }

    fn tokio_stream_of(
        mut receiver: tokio::sync::mpsc::Receiver<TextStreamItem>,
    ) -> impl futures::Stream<Item = TextStreamItem> {
        futures::stream::poll_fn(move |cx| receiver.poll_recv(cx))
    }
}
