//! Both in-process backends (mistral.rs and llama.cpp) with the real default model, behind the
//! engine scheduler: every case runs on each engine.

use std::path::Path;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use steward::llm::{generate_structured, ChatRequest, Engine, LlmError, Priority, StreamEvent};

use crate::model_util::{engine_on, load_on, Kind};

/// Runs each case on both in-process engines.
macro_rules! on_both_engines {
    ($($case:ident),* $(,)?) => {
        mod mistralrs_engine {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Kind::MistralRs).await
                }
            )*
        }
        mod llamacpp_engine {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Kind::LlamaCpp).await
                }
            )*
        }
    };
}

on_both_engines!(
    generates_text_from_the_real_model,
    streams_partial_text_and_respects_max_tokens,
    constrained_output_parses_into_a_rust_enum,
    full_queue_answers_overloaded_and_dropping_a_stream_cancels_it,
    interactive_requests_are_served_before_moderation_and_background_ones,
    deadline_stops_generation,
    counts_tokens_with_the_model_tokenizer,
    invalid_requests_are_rejected_before_the_model,
    missing_model_file_is_a_clear_error_without_network,
    corrupt_model_file_is_an_error_not_a_crash,
);

const SYSTEM: &str = "You are a helpful assistant. Answer briefly and accurately.";

async fn generates_text_from_the_real_model(kind: Kind) {
    let engine = engine_on(kind, 4, 1).await;
    let info = engine.info();
    assert_eq!(info.model, "SmolLM2-135M-Instruct.Q4_1.gguf");
    let request =
        ChatRequest::new(SYSTEM, "What is the capital of France?").with_max_new_tokens(48);
    let first = engine
        .generate(request.clone())
        .await
        .expect("generation succeeds");
    assert!(
        first.text.to_lowercase().contains("paris"),
        "answer: {:?}",
        first.text
    );
    assert!(
        first.stats.generated_tokens > 0 && first.stats.generated_tokens <= 48,
        "{:?}",
        first.stats
    );
    assert!(first.stats.prompt_tokens > 10, "{:?}", first.stats);
    // Greedy decoding is reproducible.
    let second = engine.generate(request).await.unwrap();
    assert_eq!(first.text, second.text);
}

async fn streams_partial_text_and_respects_max_tokens(kind: Kind) {
    let engine = engine_on(kind, 4, 1).await;
    let request = ChatRequest::new(SYSTEM, "Write a long story about a lighthouse keeper.")
        .with_max_new_tokens(20);
    let mut stream = engine.stream(request).await.unwrap();
    let mut deltas = 0;
    let mut stats = None;
    while let Some(event) = stream.next_event().await {
        match event {
            StreamEvent::Delta(_) => deltas += 1,
            StreamEvent::Done(done) => stats = Some(done),
            StreamEvent::Error(error) => panic!("generation failed: {error}"),
        }
    }
    let stats = stats.expect("a stream ends with Done");
    assert!(deltas > 1, "text arrives in pieces, got {deltas}");
    assert_eq!(stats.generated_tokens, 20, "{stats:?}");
    assert_eq!(stats.finish_reason.as_deref(), Some("length"));
    // The scheduler stamps the class and the start.
    assert_eq!(stats.class, Priority::Interactive);
    assert!(stats.started_at.is_some(), "{stats:?}");
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Sentiment {
    Positive,
    Negative,
    Neutral,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Label {
    sentiment: Sentiment,
}

async fn constrained_output_parses_into_a_rust_enum(kind: Kind) {
    let engine = engine_on(kind, 4, 1).await;
    for line in [
        "I love this library, it works great!",
        "This crashes all the time, I hate it.",
    ] {
        let request = ChatRequest::new(
            "Classify the sentiment of the message. Answer in JSON.",
            line,
        )
        .with_max_new_tokens(32);
        let label: Label = generate_structured(&engine, request)
            .await
            .unwrap_or_else(|e| panic!("constrained output for {line:?} did not parse: {e}"));
        // The 135M model's labels are weak (see NOTES.md); the contract is that they parse.
        assert!(matches!(
            label.sentiment,
            Sentiment::Positive | Sentiment::Negative | Sentiment::Neutral
        ));
    }
}

async fn full_queue_answers_overloaded_and_dropping_a_stream_cancels_it(kind: Kind) {
    let engine = engine_on(kind, 1, 1).await;
    let long = ChatRequest::new(
        SYSTEM,
        "Write a very long story about the sea, with many chapters.",
    )
    .with_max_new_tokens(2000);
    let mut running = engine.stream(long.clone()).await.unwrap();
    // Wait until it is generating, so it has left the queue.
    assert!(matches!(
        running.next_event().await,
        Some(StreamEvent::Delta(_))
    ));
    let mut waiting = Vec::new();
    let mut overloaded = None;
    for _ in 0..4 {
        match engine.stream(long.clone()).await {
            Ok(stream) => waiting.push(stream),
            Err(error) => {
                overloaded = Some(error);
                break;
            }
        }
    }
    match overloaded {
        Some(LlmError::Overloaded { capacity, .. }) => assert_eq!(capacity, 1),
        other => panic!(
            "expected Overloaded after {} queued, got {other:?}",
            waiting.len()
        ),
    }
    assert!(
        waiting.len() <= 2,
        "the queue is bounded: {} accepted",
        waiting.len()
    );
    // Dropping every stream cancels those generations; a new request is then served well
    // before the 2000-token generations could have finished.
    drop(running);
    drop(waiting);
    let quick = ChatRequest::new(SYSTEM, "Say hello.")
        .with_max_new_tokens(8)
        .with_deadline(Duration::from_secs(30));
    let mut answer = None;
    for _ in 0..50 {
        match engine.generate(quick.clone()).await {
            Ok(generated) => {
                answer = Some(generated);
                break;
            }
            // The cancelled jobs may still be leaving the queue.
            Err(LlmError::Overloaded { .. }) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(error) => panic!("after cancelling, a new request failed: {error}"),
        }
    }
    let answer = answer.expect("the engine accepts work again after cancellation");
    assert!(answer.stats.generated_tokens > 0);
}

async fn interactive_requests_are_served_before_moderation_and_background_ones(kind: Kind) {
    let engine = engine_on(kind, 8, 1).await;
    let long = ChatRequest::new(SYSTEM, "Write a story about the sea.").with_max_new_tokens(40);
    let mut running = engine.stream(long).await.unwrap();
    // It is generating: it holds the only slot while the others queue.
    assert!(matches!(
        running.next_event().await,
        Some(StreamEvent::Delta(_))
    ));
    let short = |priority| {
        ChatRequest::new(SYSTEM, "Say hello.")
            .with_max_new_tokens(4)
            .with_priority(priority)
    };
    // Queued least urgent first; one slot, so they run one after another.
    let background = engine.stream(short(Priority::Background)).await.unwrap();
    let moderation = engine.stream(short(Priority::Moderation)).await.unwrap();
    let interactive = engine.stream(short(Priority::Interactive)).await.unwrap();
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let finish = |stream: steward::llm::LlmStream, label: &'static str| {
        let order = order.clone();
        tokio::spawn(async move {
            stream.collect().await.expect("generation succeeds");
            order.lock().unwrap().push(label);
        })
    };
    let tasks = [
        finish(background, "background"),
        finish(moderation, "moderation"),
        finish(interactive, "interactive"),
    ];
    running.collect().await.unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        *order.lock().unwrap(),
        ["interactive", "moderation", "background"]
    );
}

async fn deadline_stops_generation(kind: Kind) {
    let engine = engine_on(kind, 4, 1).await;
    let request = ChatRequest::new(SYSTEM, "Write a very long story about the sea.")
        .with_max_new_tokens(4000)
        .with_deadline(Duration::from_millis(300));
    match engine.generate(request).await {
        Err(LlmError::DeadlineExceeded(deadline)) => {
            assert_eq!(deadline, Duration::from_millis(300))
        }
        other => panic!("expected DeadlineExceeded, got {other:?}"),
    }
}

async fn counts_tokens_with_the_model_tokenizer(kind: Kind) {
    let engine = engine_on(kind, 4, 1).await;
    let english = engine
        .count_tokens("The quick brown fox jumps over the lazy dog.")
        .await
        .unwrap();
    assert!((8..=14).contains(&english), "{english} tokens");
    let chinese = engine.count_tokens("今天天气很好").await.unwrap();
    assert!(chinese > 0, "{chinese} tokens");
    assert_eq!(engine.count_tokens("").await.unwrap(), 0);
}

async fn invalid_requests_are_rejected_before_the_model(kind: Kind) {
    let engine = engine_on(kind, 4, 1).await;
    let error = engine
        .stream(ChatRequest::new(SYSTEM, "   "))
        .await
        .unwrap_err();
    assert_eq!(error.label(), "invalid_request");
}

/// A missing file is `ModelMissing` at once: mistral.rs would otherwise look the path up on the
/// Hugging Face hub and wait on network timeouts.
async fn missing_model_file_is_a_clear_error_without_network(kind: Kind) {
    let started = std::time::Instant::now();
    match load_on(kind, Path::new("/nonexistent/steward/model.gguf")).await {
        Err(LlmError::ModelMissing { path }) => {
            assert!(path.contains("/nonexistent/steward/model.gguf"), "{path}")
        }
        Err(other) => panic!("expected ModelMissing, got {other}"),
        Ok(_) => panic!("a missing file must not load"),
    }
    assert!(started.elapsed() < Duration::from_secs(5), "no hub lookup");
    let message = LlmError::ModelMissing { path: "x".into() }.to_string();
    assert!(message.contains("steward model fetch"), "{message}");
}

/// A file that starts like a GGUF but is not one is an error, not a crash: it is checked before
/// the engine reads it (candle aborts the process on a corrupt GGUF; llama.cpp is C++).
async fn corrupt_model_file_is_an_error_not_a_crash(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.gguf");
    std::fs::write(&path, b"GGUF\x03\x00\x00\x00this is not a real model").unwrap();
    match load_on(kind, &path).await {
        Err(LlmError::LoadFailed {
            path: shown,
            reason,
        }) => {
            assert!(shown.contains("broken.gguf"), "{shown}");
            assert!(!reason.is_empty());
        }
        Err(other) => panic!("expected LoadFailed, got {other}"),
        Ok(_) => panic!("a corrupt file must not load"),
    }
}

/// A Chinese answer arrives as whole characters (a character often spans two tokens) and a
/// stop string ends the answer without being sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llamacpp_streams_whole_characters_and_honours_stop_strings() {
    let engine = engine_on(Kind::LlamaCpp, 4, 1).await;
    let mut request = ChatRequest::new(SYSTEM, "用中文介绍一下北京。").with_max_new_tokens(40);
    let mut stream = engine.stream(request.clone()).await.unwrap();
    while let Some(event) = stream.next_event().await {
        match event {
            StreamEvent::Delta(piece) => assert!(!piece.contains('\u{FFFD}'), "{piece:?}"),
            StreamEvent::Done(_) => {}
            StreamEvent::Error(error) => panic!("generation failed: {error}"),
        }
    }
    request = ChatRequest::new(
        SYSTEM,
        "Count from one to ten in words, separated by commas.",
    )
    .with_max_new_tokens(60);
    let whole = engine.generate(request.clone()).await.unwrap().text;
    let cut_at = whole.find(',').expect("the answer has a comma");
    request.stop = vec![",".to_string()];
    let stopped = engine.generate(request).await.unwrap();
    assert_eq!(stopped.text, whole[..cut_at], "whole answer: {whole:?}");
    assert_eq!(stopped.stats.finish_reason.as_deref(), Some("stop"));
}
