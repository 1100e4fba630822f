//! What a run against a real Discord-compatible server showed (issue 15), each finding replayed
//! on the protocol double: failures logged with route, status and Discord's error code; no
//! request waits forever; a broken first post cancels the generation and leaves no stub; the
//! invite URL follows the configured server; odd payloads never stop the bot.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use steward::llm::{Scheduler, SchedulerSettings};
use steward::metrics::Metrics;

use crate::discord::{start, start_with};
use crate::discord_double::payloads::{self, BOT, EVERYONE_PERMISSIONS, GENERAL, MEMBER};
use crate::discord_double::{DoubleOptions, Fault, FaultReply};
use crate::logs;
use crate::scheduler::Fake;
use crate::scripted::scripted;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_follow_up_is_logged_with_its_status_and_discord_code() {
    logs::capture();
    let bot = start(scripted("Paris is the capital."), DoubleOptions::default()).await;
    bot.ready().await;
    bot.double.inject(Fault {
        method: "POST",
        path_suffix: format!("/webhooks/{BOT}/token-6201"),
        times: 10,
        reply: FaultReply::Status(404, json!({"message": "Unknown Webhook", "code": 10015})),
    });
    let ask = payloads::slash_command(
        6201,
        "ask",
        &[("question", "What is the capital of France?")],
        MEMBER,
        EVERYONE_PERMISSIONS,
    );
    bot.double.dispatch("INTERACTION_CREATE", ask).await;
    let line = logs::wait_for_line(
        &["Discord command failed", "404", "10015", "Unknown Webhook"],
        Duration::from_secs(30),
    )
    .await
    .expect("the failure is logged with its HTTP status and Discord error code");
    assert!(line.contains("command=ask"), "names the command: {line}");
    assert!(
        line.contains(&format!("/webhooks/{BOT}/[token]")),
        "names the route: {line}"
    );
    assert!(
        !line.contains("token-6201"),
        "the interaction token is redacted: {line}"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_callback_ends_in_a_warning_within_the_deadline() {
    logs::capture();
    let bot = start_with(
        scripted("unused"),
        DoubleOptions::default(),
        |_, discord| {
            discord.request_timeout = Duration::from_secs(2);
        },
    )
    .await;
    bot.ready().await;
    // The deferral and the private apology's response are both swallowed by the server.
    bot.double.inject(Fault {
        method: "POST",
        path_suffix: "/interactions/6202/token-6202/callback".into(),
        times: 2,
        reply: FaultReply::Stall,
    });
    let ask = payloads::slash_command(
        6202,
        "ask",
        &[("question", "Anyone there?")],
        MEMBER,
        EVERYONE_PERMISSIONS,
    );
    let sent = Instant::now();
    bot.double.dispatch("INTERACTION_CREATE", ask).await;
    let line = logs::wait_for_line(
        &["interactions/6202/[token]/callback", "timed out"],
        Duration::from_secs(10),
    )
    .await
    .expect("a request the server never answers ends in a logged timeout");
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "logged within the 2 s deadline (plus slack): {:?}",
        sent.elapsed()
    );
    assert!(line.contains("WARN") || line.contains("ERROR"), "{line}");
    // The apology is tried again as a follow-up once its response timed out too.
    bot.double
        .request("POST", &format!("/api/v10/webhooks/{BOT}/token-6202"))
        .await;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_first_post_cancels_the_answer_and_leaves_no_message() {
    logs::capture();
    let metrics = Metrics::new();
    // 190 words at 40 ms each: about 7.6 s of generation if nothing stopped it.
    let engine = Scheduler::new(
        Arc::new(Fake {
            pause: Duration::from_millis(40),
        }),
        SchedulerSettings::default(),
        metrics.clone(),
    );
    let bot = start_with(Arc::new(engine), DoubleOptions::default(), |config, _| {
        config.model.max_new_tokens = 190;
    })
    .await;
    bot.ready().await;
    let messages = format!("/channels/{GENERAL}/messages");
    bot.double.inject(Fault {
        method: "POST",
        path_suffix: messages.clone(),
        times: 1,
        reply: FaultReply::Garbage,
    });
    let question = payloads::mention(9301, GENERAL, MEMBER, "tell me a long story");
    bot.double.dispatch("MESSAGE_CREATE", question).await;
    let path = format!("/api/v10{messages}");
    bot.double.request("POST", &path).await;
    let posted_at = Instant::now();
    let cancelled = loop {
        if metrics.engine_outcome_count("interactive", "cancelled") == 1 {
            break posted_at.elapsed();
        }
        assert!(
            posted_at.elapsed() < Duration::from_secs(10),
            "the generation was not cancelled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        cancelled < Duration::from_secs(2),
        "cancelled after {cancelled:?}"
    );
    assert_eq!(metrics.engine_outcome_count("interactive", "ok"), 0);
    // The message the server created (but answered with garbage) is found and deleted.
    let stub = bot
        .double
        .posted()
        .into_iter()
        .find(|p| p.channel == GENERAL.to_string())
        .expect("the server stored the first post");
    bot.double
        .request("DELETE", &format!("{path}/{}", stub.id))
        .await;
    let later_posts = bot
        .double
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with(&path) && matches!(r.method.as_str(), "POST" | "PATCH"))
        .count();
    assert_eq!(later_posts, 1, "nothing else was posted or edited");
    logs::wait_for_line(
        &["first post of a streamed answer failed"],
        Duration::from_secs(5),
    )
    .await
    .expect("the failure is logged");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_odd_payload_does_not_stop_the_bot() {
    logs::capture();
    let bot = start(scripted("Still here."), DoubleOptions::default()).await;
    bot.ready().await;
    // A compatible server's MESSAGE_CREATE whose author id is not a snowflake (and whose
    // `public_flags` is a string, as Spacebar sent): serenity cannot decode it.
    let mut odd = payloads::mention(9401, GENERAL, MEMBER, "odd payload 9401");
    odd["author"]["public_flags"] = json!("0");
    odd["author"]["id"] = json!({"not": "a snowflake"});
    bot.double.dispatch("MESSAGE_CREATE", odd).await;
    // serenity logs the undecodable payload itself (at warn, with the text, which names the
    // event); that line is not asserted here: it did not reach the test's capture reliably.
    // The connection stays up: the next question is answered.
    let question = payloads::mention(9402, GENERAL, MEMBER, "are you there?");
    bot.double.dispatch("MESSAGE_CREATE", question).await;
    bot.answer_in(&GENERAL.to_string(), "still here").await;
    bot.stop().await;
}

#[test]
fn the_invite_url_uses_the_configured_api_base() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("steward.toml");
    std::fs::write(
        &config,
        "[discord]\napplication_id = 77\napi_base_url = \"http://127.0.0.1:3001\"\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "discord",
            "invite-url",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.starts_with("http://127.0.0.1:3001/oauth2/authorize?client_id=77&"),
        "{stdout}"
    );
}
