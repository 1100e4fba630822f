//! The remote inference backend against real OpenAI-compatible servers (the default model
//! behind mistral.rs's router, `openai_server`): `/ask` through the console binary, streaming
//! and constrained JSON through the engine, and a pool of two servers where one is killed
//! mid-run. Failure modes against the fault double are in `remote_faults`; shared helpers in
//! `remote_util`.

use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use steward::llm::{ChatRequest, Engine};
use steward::metrics::Metrics;

use crate::openai_server::{OpenAiServer, Served, CHAT};
use crate::remote_util::{
    ask, load, pool_engine, run_steward, wait_until, whole_answers, write_config, End, Entry, Pool,
    Record, SYSTEM,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_ask_is_answered_by_the_remote_server() {
    let server = OpenAiServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        Pool::default(),
        &[Entry::chat("gpu-1", server.url(), &server.model)],
    );
    let question = "What is the capital of France?";
    let run = run_steward(
        &config,
        &["console", "--no-fetch"],
        &format!("/ask {question}\n"),
        &[],
    )
    .await;
    assert_eq!(
        run.code,
        Some(0),
        "stdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    let answer = run
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("Steward: "))
        .unwrap_or_else(|| panic!("no answer in {}", run.stdout))
        .trim();
    assert!(
        !answer.is_empty() && !answer.starts_with('['),
        "an answer, not an error: {answer}"
    );
    // No local model exists in this config: the server produced the answer.
    let served = server.served_for(question);
    assert_eq!(served.len(), 1, "{:#?}", server.served());
    assert!(served[0].finished, "{:?}", served[0]);
    assert_eq!(served[0].request["stream"], true, "answers are streamed");
    let first_word = answer.split_whitespace().next().unwrap();
    assert!(
        served[0].text.contains(first_word),
        "the console shows the server's text: {answer:?} vs {:?}",
        served[0].text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_stream_in_pieces_through_load_engine() {
    let server = OpenAiServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = load(&write_config(
        dir.path(),
        Pool::default(),
        &[Entry::chat("gpu-1", server.url(), &server.model)],
    ));
    let metrics = Metrics::new();
    let engine = steward::app::load_engine(&config, false, metrics.clone())
        .await
        .expect("the remote engine loads without a local model");
    let question = "Write a long story about a lighthouse keeper.";
    let record = ask(&*engine, question, 16).await;
    assert_eq!(record.ends, [End::Done], "{record:?}");
    assert!(record.deltas > 1, "text arrives in pieces: {record:?}");
    let served = server.served_for(question);
    assert_eq!(served.len(), 1, "{:#?}", server.served());
    assert_eq!(
        served[0].text, record.text,
        "the caller gets exactly what the server sent"
    );
    assert_eq!(metrics.inference_outcome_count("gpu-1", "ok"), 1);
    assert_eq!(metrics.inference_server_is_up("gpu-1"), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_output_goes_through_response_format() {
    let server = OpenAiServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = load(&write_config(
        dir.path(),
        Pool::default(),
        &[Entry::chat("gpu-1", server.url(), &server.model)],
    ));
    let engine = pool_engine(&config, Metrics::new());
    let schema = json!({
        "type": "object",
        "properties": {"label": {"type": "string", "enum": ["none", "spam"]}},
        "required": ["label"],
        "additionalProperties": false
    });
    let request = ChatRequest::new(
        "You label chat messages as spam or not. Answer in JSON.",
        "Label this message: \"Buy cheap watches now!!! Click here: http://watches.example\"",
    )
    .with_max_new_tokens(32);
    let value = engine
        .generate_json(request, schema.clone())
        .await
        .expect("the server answers JSON matching the schema");
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("an object: {value}"));
    assert_eq!(object.len(), 1, "{value}");
    let label = object["label"].as_str().unwrap_or_default();
    assert!(["none", "spam"].contains(&label), "{value}");
    // The constraint went to the server (decoding was constrained there), not only checked here.
    let chats: Vec<Served> = server
        .served()
        .into_iter()
        .filter(|s| s.path == CHAT)
        .collect();
    assert!(!chats.is_empty());
    for served in &chats {
        let format = &served.request["response_format"];
        assert_eq!(format["type"], "json_schema", "{:?}", served.request);
        assert_eq!(
            format["json_schema"]["schema"], schema,
            "{:?}",
            served.request
        );
    }
}

/// Starts one streamed request per index of `range`, each recording into `records`.
fn start_requests(
    engine: &Arc<dyn Engine>,
    records: &Arc<Mutex<Vec<Record>>>,
    range: Range<usize>,
) -> Vec<tokio::task::JoinHandle<()>> {
    range
        .map(|index| {
            let engine = engine.clone();
            let records = records.clone();
            let question = records.lock().unwrap()[index].question.clone();
            tokio::spawn(async move {
                let request = ChatRequest::new(SYSTEM, question).with_max_new_tokens(24);
                match engine.stream(request).await {
                    Ok(mut stream) => {
                        while let Some(event) = stream.next_event().await {
                            records.lock().unwrap()[index].event(event);
                        }
                    }
                    Err(error) => records.lock().unwrap()[index]
                        .ends
                        .push(End::Failed(format!("{}: {error}", error.label()))),
                }
            })
        })
        .collect()
}

async fn finish(handles: Vec<tokio::task::JoinHandle<()>>) {
    for handle in handles {
        handle.await.expect("a request task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_fails_over_and_nothing_is_answered_twice() {
    let mut a = OpenAiServer::start().await;
    let b = OpenAiServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let pool = Pool {
        first_token_secs: 30,
        failure_threshold: 2,
        health_secs: 1,
        probe_secs: 30,
    };
    let two = |entry: Entry| Entry {
        max_concurrent: 2,
        ..entry
    };
    let config = load(&write_config(
        dir.path(),
        pool,
        &[
            two(Entry::chat("a", a.url(), &a.model)),
            two(Entry::chat("b", b.url(), &b.model)),
        ],
    ));
    let metrics = Metrics::new();
    let engine: Arc<dyn Engine> = Arc::new(pool_engine(&config, metrics.clone()));
    // Distinct questions, so each server's log tells which request it served.
    let records: Vec<Record> = (0..12)
        .map(|i| Record {
            question: format!(
                "Story {i}: write a long story about a lighthouse keeper and the sea."
            ),
            ..Record::default()
        })
        .collect();
    let records = Arc::new(Mutex::new(records));

    // Before: four at once, two on each server.
    finish(start_requests(&engine, &records, 0..4)).await;
    assert!(
        metrics.inference_outcome_count("a", "ok") >= 1,
        "A answered before it was killed: {:#?}",
        records.lock().unwrap()
    );

    // During: four more; A dies while one of its answers is reaching its caller.
    let during = start_requests(&engine, &records, 4..8);
    let streaming_from_a = wait_until(Duration::from_secs(60), || {
        let records = records.lock().unwrap();
        (4..8).any(|i| {
            let record = &records[i];
            record.deltas > 0
                && record.ends.is_empty()
                && a.served_for(&record.question)
                    .iter()
                    .any(|s| !s.finished && !s.text.is_empty())
        })
    })
    .await;
    assert!(streaming_from_a, "A streams part of the second batch");
    a.kill().await;
    finish(during).await;

    // After: four more, all answered by B.
    finish(start_requests(&engine, &records, 8..12)).await;

    let records = records.lock().unwrap().clone();
    let (a_log, b_log) = (a.served(), b.served());
    for record in &records {
        assert_eq!(
            record.ends.len(),
            1,
            "each request ends exactly once: {record:?}"
        );
        assert_eq!(record.after_end, 0, "nothing after the end: {record:?}");
    }
    let answered: Vec<&Record> = records.iter().filter(|r| r.ends == [End::Done]).collect();
    let interrupted: Vec<&Record> = records
        .iter()
        .filter(|r| r.ends == [End::Interrupted])
        .collect();
    assert_eq!(
        answered.len() + interrupted.len(),
        records.len(),
        "every request was answered or interrupted, none lost or failed: {records:#?}"
    );
    assert!(
        !interrupted.is_empty(),
        "the kill cut an answer: {records:#?}"
    );
    for record in &answered {
        // A restart after text would show as A's beginning followed by B's whole answer.
        let q = &record.question;
        let whole = [whole_answers(&a_log, q), whole_answers(&b_log, q)].concat();
        assert!(
            whole.contains(&record.text),
            "{q}: the caller got one server's whole answer: {:?} vs {whole:?}",
            record.text
        );
    }
    for record in &interrupted {
        let q = &record.question;
        assert!(record.deltas > 0, "interrupted only after text: {record:?}");
        assert!(
            b.served_for(q).is_empty(),
            "{q}: an interrupted answer is not restarted on B"
        );
        assert!(
            a.served_for(q)
                .iter()
                .any(|s| s.text.starts_with(&record.text)),
            "{q}: the partial text came from A"
        );
    }
    for record in &records[8..12] {
        let q = &record.question;
        assert_eq!(record.ends, [End::Done], "{record:?}");
        assert!(a.served_for(q).is_empty(), "{q} reached the killed server");
        assert!(
            whole_answers(&b_log, q).contains(&record.text),
            "{q}: answered by B"
        );
    }
    let ok =
        metrics.inference_outcome_count("a", "ok") + metrics.inference_outcome_count("b", "ok");
    assert_eq!(ok, answered.len() as u64);
    assert_eq!(
        metrics.inference_outcome_count("a", "interrupted"),
        interrupted.len() as u64
    );
    assert_eq!(metrics.inference_outcome_count("b", "interrupted"), 0);
    // Interrupted streams, refused connections and the health probe take A out.
    let a_down = wait_until(Duration::from_secs(15), || {
        metrics.inference_server_is_up("a") == Some(false)
    })
    .await;
    assert!(a_down, "A is marked down");
    assert_eq!(metrics.inference_server_is_up("b"), Some(true));
}
