//! The remote backend's failure modes, against the fault double (`openai_double`): a garbage
//! body, a stall, HTTP 500, a stream that breaks or stalls after text. Each fails clearly
//! (naming the server) when it is the only server, and is taken out while a real server in the
//! same pool answers. Also: the console when the only server fails, the API key kept out of
//! every output of `steward doctor` and the console, and embeddings (order, failover).

use std::time::Duration;

use steward::core::Language;
use steward::llm::Embedder;
use steward::metrics::Metrics;
use steward::strings::Strings;

use crate::openai_double::{
    vector_for, Chat, Double, DoubleSettings, Embeddings, CHAT, DOUBLE_MODEL, EMBEDDINGS, MODELS,
    PIECES,
};
use crate::openai_server::OpenAiServer;
use crate::remote_util::{
    ask, load, pool_engine, run_steward, wait_until, whole_answers, write_config, End, Entry, Pool,
};

/// How a request on the faulty server ends when no other server can take it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Nothing was sent yet: `LlmError::Unavailable`, naming the server.
    Unavailable,
    /// Text was sent: `LlmError::Interrupted`, the text stays.
    Interrupted,
}

/// The fault alone fails clearly; next to a real server it is tried once, taken out, and the
/// real server answers everything else (nothing is restarted after text).
async fn fault_then_healthy(chat: Chat, expect: Expect, words: &str) {
    let double = Double::start(chat).await;
    let dir = tempfile::tempdir().unwrap();
    let alone = Pool {
        first_token_secs: 2,
        ..Pool::default()
    };
    let only_faulty = [Entry::chat("faulty", double.url(), DOUBLE_MODEL)];
    let config = load(&write_config(dir.path(), alone, &only_faulty));
    let metrics = Metrics::new();
    let engine = pool_engine(&config, metrics.clone());
    let record = ask(&engine, "Are you there?", 16).await;
    match expect {
        Expect::Unavailable => {
            let [End::Failed(error)] = record.ends.as_slice() else {
                panic!("{record:?}");
            };
            assert!(error.starts_with("unavailable: "), "{error}");
            assert!(
                error.contains("faulty"),
                "the error names the server: {error}"
            );
            assert!(error.contains(words), "{error}");
            assert!(record.text.is_empty(), "{record:?}");
            assert_eq!(metrics.inference_outcome_count("faulty", "error"), 1);
        }
        Expect::Interrupted => {
            assert_eq!(record.ends, [End::Interrupted], "{record:?}");
            assert_eq!(record.text, PIECES[..2].concat(), "the text sent stays");
            assert_eq!(metrics.inference_outcome_count("faulty", "interrupted"), 1);
        }
    }
    assert_eq!(double.count(CHAT), 1, "one attempt: {record:?}");

    // Next to a real server.
    let double = Double::start(chat).await;
    let server = OpenAiServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    // One failure takes a server out; no probe brings it back during the test.
    let mixed = Pool {
        first_token_secs: 15,
        failure_threshold: 1,
        health_secs: 600,
        probe_secs: 600,
    };
    let both = [
        Entry::chat("faulty", double.url(), DOUBLE_MODEL),
        Entry::chat("real", server.url(), &server.model),
    ];
    let config = load(&write_config(dir.path(), mixed, &both));
    let metrics = Metrics::new();
    let engine = pool_engine(&config, metrics.clone());
    // The pool probes every server when it starts; a probe that succeeded after the failure
    // would put the faulty server back, so the requests wait for it.
    assert!(wait_until(Duration::from_secs(10), || double.count(MODELS) >= 1).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Two at once: the least-loaded choice gives one of them to the faulty server.
    let (first, second) = tokio::join!(
        ask(&engine, "Name a colour.", 16),
        ask(&engine, "Name a fruit.", 16)
    );
    assert_eq!(
        double.count(CHAT),
        1,
        "tried once, then out: {first:?} {second:?}"
    );
    assert_eq!(metrics.inference_server_is_up("faulty"), Some(false));
    let third = ask(&engine, "Name an animal.", 16).await;
    assert_eq!(double.count(CHAT), 1, "an out server gets no requests");
    let log = server.served();
    let records = [&first, &second, &third];
    let cut: Vec<_> = records
        .iter()
        .filter(|r| r.ends == [End::Interrupted])
        .collect();
    match expect {
        Expect::Unavailable => {
            assert!(cut.is_empty(), "{records:?}");
            assert_eq!(metrics.inference_outcome_count("faulty", "failed_over"), 1);
        }
        Expect::Interrupted => {
            assert_eq!(cut.len(), 1, "{records:?}");
            assert_eq!(cut[0].text, PIECES[..2].concat());
            assert!(
                server.served_for(&cut[0].question).is_empty(),
                "an interrupted answer is not restarted on the real server"
            );
            assert_eq!(metrics.inference_outcome_count("faulty", "interrupted"), 1);
        }
    }
    for record in records.iter().filter(|r| r.ends != [End::Interrupted]) {
        assert_eq!(record.ends, [End::Done], "{record:?}");
        assert!(
            whole_answers(&log, &record.question).contains(&record.text),
            "answered by the real server: {record:?}"
        );
    }
    assert_eq!(third.ends, [End::Done], "{third:?}");
    let answered = records.len() - cut.len();
    assert_eq!(
        metrics.inference_outcome_count("real", "ok"),
        answered as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_body_fails_over() {
    fault_then_healthy(Chat::Garbage, Expect::Unavailable, "faulty").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_fails_over_after_the_first_token_timeout() {
    fault_then_healthy(Chat::Stall, Expect::Unavailable, "faulty").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_500_fails_over() {
    fault_then_healthy(Chat::Error500, Expect::Unavailable, "500").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_mid_answer_interrupts_it() {
    fault_then_healthy(Chat::DropAfter(2), Expect::Interrupted, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_stalls_mid_answer_interrupts_it() {
    fault_then_healthy(Chat::StallAfter(2), Expect::Interrupted, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_says_when_the_only_server_fails() {
    let interrupted = Strings::new(Language::English).interrupted();
    let garbage = Double::start(Chat::Garbage).await;
    let broken = Double::start(Chat::DropAfter(2)).await;
    for (double, cut) in [(&garbage, false), (&broken, true)] {
        let dir = tempfile::tempdir().unwrap();
        let pool = Pool {
            first_token_secs: 2,
            ..Pool::default()
        };
        let config = write_config(
            dir.path(),
            pool,
            &[Entry::chat("faulty", double.url(), DOUBLE_MODEL)],
        );
        let run = run_steward(
            &config,
            &["console", "--no-fetch"],
            "/ask Is anyone there?\n",
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
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert_eq!(double.count(CHAT), 1, "{}", run.stderr);
        let reply = run
            .stdout
            .lines()
            .find(|line| line.starts_with("Steward: "))
            .unwrap_or_else(|| panic!("no reply in {}", run.stdout));
        if cut {
            // The text already shown stays, with a note that the answer was cut off.
            let expected = format!("Steward: {} [{interrupted}]", PIECES[..2].concat());
            assert_eq!(reply, expected);
        } else {
            // A failure note in brackets, nothing from the garbage.
            let note = reply
                .strip_prefix("Steward: [")
                .and_then(|r| r.strip_suffix(']'));
            assert!(note.is_some_and(|n| n.len() > 10), "{reply}");
            assert!(!reply.contains("Bad Gateway"), "{reply}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_key_never_shows_in_doctor_or_console_output() {
    const KEY: &str = "sk-steward-test-SECRET-1234";
    const VAR: &str = "STEWARD_TEST_GPU_KEY";
    // Refuses the key and echoes it back in its error message, as some proxies do.
    let refuses = Double::start_with(DoubleSettings {
        expected_key: Some("sk-the-right-key".to_string()),
        ..DoubleSettings::chat(Chat::Error500)
    })
    .await;
    let fails = Double::start(Chat::Error500).await;
    let mut refused_report = String::new();
    for (double, refusing) in [(&refuses, true), (&fails, false)] {
        let dir = tempfile::tempdir().unwrap();
        let entry = Entry {
            api_key_env: Some(VAR.to_string()),
            ..Entry::chat("gpu-1", double.url(), DOUBLE_MODEL)
        };
        let config = write_config(dir.path(), Pool::default(), &[entry]);
        let env = [(VAR, KEY), ("STEWARD_LOG", "debug")];
        let doctor = run_steward(&config, &["doctor"], "", &env).await;
        let console = run_steward(&config, &["console", "--no-fetch"], "/ask Hello?\n", &env).await;
        for (what, run) in [("doctor", &doctor), ("console", &console)] {
            for output in [&run.stdout, &run.stderr] {
                for fragment in [KEY, "SECRET-1234", "sk-steward-test"] {
                    assert!(
                        !output.contains(fragment),
                        "{what} printed the key: {output}"
                    );
                }
            }
        }
        // The key was sent, so it could have leaked.
        let sent = format!("Bearer {KEY}");
        assert!(
            double.authorizations().contains(&sent),
            "{:?}",
            double.authorizations()
        );
        assert_eq!(console.code, Some(0), "{}", console.stderr);
        assert!(
            console.stdout.lines().any(|l| l.starts_with("Steward: [")),
            "a failure note: {}",
            console.stdout
        );
        assert_eq!(doctor.code, Some(1), "{}", doctor.stdout);
        assert!(
            doctor.stdout.lines().any(|l| l.starts_with("[FAIL] gpu-1")),
            "the server's check fails: {}",
            doctor.stdout
        );
        if refusing {
            refused_report = doctor.stdout;
        }
    }
    // The doctor names the variable and says to fix the key.
    let fix = refused_report
        .lines()
        .find(|l| l.trim_start().starts_with("fix:") && l.contains(VAR))
        .unwrap_or_else(|| panic!("no fix naming {VAR}: {refused_report}"));
    assert!(fix.to_lowercase().contains("key"), "{fix}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embeddings_keep_input_order_and_fail_over() {
    // The real server cannot serve embeddings: the default model is a chat model and no
    // embedding model is available offline here. Both servers are doubles.
    let texts: Vec<String> = ["alpha", "be", "gamma ray", "δέλτα"]
        .map(String::from)
        .to_vec();
    let expected: Vec<Vec<f32>> = texts.iter().map(|t| vector_for(t)).collect();
    let vectors = |delay_ms: u64| DoubleSettings {
        embeddings: Embeddings::Vectors {
            delay: Duration::from_millis(delay_ms),
        },
        ..DoubleSettings::chat(Chat::Error500)
    };
    let broken = || DoubleSettings {
        embeddings: Embeddings::Error500,
        ..DoubleSettings::chat(Chat::Error500)
    };
    let dir = tempfile::tempdir().unwrap();

    // No server serves embeddings: no embedder.
    let chat_only = Double::start(Chat::Error500).await;
    let config = load(&write_config(
        dir.path(),
        Pool::default(),
        &[Entry::chat("chat", chat_only.url(), DOUBLE_MODEL)],
    ));
    let none = steward::app::load_embedder(&config, Metrics::new()).await;
    assert!(
        matches!(none, Ok(None)),
        "no embedder without embedding servers"
    );

    // One server, answering in reverse order: the vectors come back in input order.
    let good = Double::start_with(vectors(0)).await;
    let config = load(&write_config(
        dir.path(),
        Pool::default(),
        &[Entry::embeddings("emb-good", good.url(), DOUBLE_MODEL)],
    ));
    let embedder = steward::app::load_embedder(&config, Metrics::new())
        .await
        .expect("the embedder loads")
        .expect("an embedding server is configured");
    let got = Embedder::embed(&*embedder, &texts).await.unwrap();
    assert_eq!(got, expected);

    // Only a failing server: a clear error naming it.
    let failing = Double::start_with(broken()).await;
    let config = load(&write_config(
        dir.path(),
        Pool::default(),
        &[Entry::embeddings("emb-broken", failing.url(), DOUBLE_MODEL)],
    ));
    let embedder = steward::app::load_embedder(&config, Metrics::new())
        .await
        .unwrap()
        .unwrap();
    let error = Embedder::embed(&*embedder, &texts)
        .await
        .expect_err("the only server fails");
    assert_eq!(error.label(), "unavailable", "{error}");
    assert!(error.to_string().contains("emb-broken"), "{error}");

    // Both: two calls at once, so the failing server takes one and it moves to the good one.
    let failing = Double::start_with(broken()).await;
    let slow_good = Double::start_with(vectors(300)).await;
    let config = load(&write_config(
        dir.path(),
        Pool::default(),
        &[
            Entry::embeddings("emb-broken", failing.url(), DOUBLE_MODEL),
            Entry::embeddings("emb-good", slow_good.url(), DOUBLE_MODEL),
        ],
    ));
    let metrics = Metrics::new();
    let embedder = steward::app::load_embedder(&config, metrics.clone())
        .await
        .unwrap()
        .unwrap();
    let (one, two) = tokio::join!(
        Embedder::embed(&*embedder, &texts),
        Embedder::embed(&*embedder, &texts)
    );
    assert_eq!(one.unwrap(), expected);
    assert_eq!(two.unwrap(), expected);
    // The failing server takes the first call; the second goes to it too when the first has
    // already failed over by the time it picks (the failing server is then the less loaded):
    // either way every failure moved on, and the good server answered both.
    let failed = failing.count(EMBEDDINGS);
    assert!(
        (1..=2).contains(&failed),
        "{failed} calls reached the failing server"
    );
    assert_eq!(slow_good.count(EMBEDDINGS), 2);
    assert_eq!(
        metrics.inference_outcome_count("emb-broken", "failed_over"),
        failed as u64
    );
    assert_eq!(metrics.inference_outcome_count("emb-good", "ok"), 2);
}
