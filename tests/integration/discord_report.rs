//! Community reports on Discord against the protocol double: a post with files is one channel
//! message carrying every file as a multipart upload (long text split first, the files with the
//! last part, nobody pinged), and `/report 7d` from a moderator posts the report with its two
//! PNG charts in the channel (the private "thinking…" removed), while a member's `/report` is
//! refused privately and posts nothing.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};
use steward::core::{Action, Attachment, ChannelId, CommunityId, Location, MessageId, Platform};
use steward::platform::discord;
use steward::store::Store;

use crate::discord::{settings, start};
use crate::discord_double::payloads::{
    self, BOT, EVERYONE_PERMISSIONS, GENERAL, GUILD, MANAGE_MESSAGES, MEMBER, MODS_ROLE, THREAD,
};
use crate::discord_double::{DiscordDouble, DoubleOptions, Recorded, TOKEN};
use crate::scripted::scripted;

/// The eight bytes every PNG file starts with.
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A moderator (the moderators' role: Manage Messages on the server).
const MODERATOR: u64 = 600;

/// A stand-in chart: a PNG signature and a few bytes.
fn chart(name: &str) -> Attachment {
    let mut bytes = PNG_SIGNATURE.to_vec();
    bytes.extend_from_slice(b"\0\0\0\rIHDR chart data");
    Attachment {
        name: name.to_string(),
        mime: "image/png".to_string(),
        bytes,
    }
}

/// Message POSTs to `channel` (files or not), in order.
fn posts_to(requests: &[Recorded], channel: u64) -> Vec<Recorded> {
    let path = format!("/api/v10/channels/{channel}/messages");
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_post_with_files_is_one_multipart_message_per_part() {
    let double = DiscordDouble::start(DoubleOptions::default()).await;
    let executor = discord::RestExecutor::new(&settings(&double, TOKEN)).unwrap();
    let location = Location {
        platform: Platform::Discord,
        community: CommunityId::new(GUILD.to_string()),
        channel: ChannelId::new(GENERAL.to_string()),
        thread: None,
    };

    // A short report: one message with both charts.
    let short = Action::PostWithFiles {
        location: location.clone(),
        text: "Report: 12 messages, 3 questions, all answered. @everyone".into(),
        attachments: vec![chart("sentiment.png"), chart("questions.png")],
    };
    executor.execute(short).await.expect("the report is posted");
    let posts = posts_to(&double.requests(), GENERAL);
    assert_eq!(posts.len(), 1, "{posts:#?}");
    let post = &posts[0];
    assert!(post.body["content"]
        .as_str()
        .unwrap()
        .starts_with("Report: 12 messages"));
    assert_eq!(
        post.body["allowed_mentions"]["parse"],
        json!([]),
        "{}",
        post.body
    );
    let names: Vec<&str> = post
        .files
        .iter()
        .map(|f| f.filename.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(names, ["sentiment.png", "questions.png"]);
    let mut fields: Vec<&str> = post.files.iter().map(|f| f.field.as_str()).collect();
    fields.dedup();
    assert_eq!(fields.len(), 2, "one form field per file: {fields:?}");
    for file in &post.files {
        assert!(file.field.starts_with("files["), "{}", file.field);
        assert_eq!(file.content_type.as_deref(), Some("image/png"));
        assert_eq!(
            file.bytes,
            chart("x.png").bytes,
            "the bytes arrive unchanged"
        );
    }

    // A report longer than a message, in a thread: the text split, the files with the last part.
    let long_text = format!(
        "{}\n\n{}\n\nThe end.",
        "figures ".repeat(220),
        "themes ".repeat(250)
    );
    let long = Action::PostWithFiles {
        location: location.in_thread(steward::core::ThreadId::new(THREAD.to_string())),
        text: long_text.clone(),
        attachments: vec![chart("sentiment.png"), chart("questions.png")],
    };
    executor
        .execute(long)
        .await
        .expect("the long report is posted");
    let posts = posts_to(&double.requests(), THREAD);
    assert!(posts.len() >= 2, "split: {posts:#?}");
    let (last, earlier) = posts.split_last().unwrap();
    assert_eq!(last.files.len(), 2, "the charts go with the last part");
    assert!(earlier.iter().all(|post| post.files.is_empty()));
    let mut words = 0;
    for post in &posts {
        let content = post.body["content"].as_str().unwrap_or_default();
        assert!(content.chars().count() <= discord::MESSAGE_LIMIT);
        assert_eq!(post.body["allowed_mentions"]["parse"], json!([]));
        words += content.split_whitespace().count();
    }
    assert_eq!(
        words,
        long_text.split_whitespace().count(),
        "no text is lost"
    );
    assert!(last.body["content"].as_str().unwrap().ends_with("The end."));
}

/// A member's message in #general, as MESSAGE_CREATE carries it, sent `minutes` ago.
fn recent_message(id: u64, author: u64, text: &str, minutes: u64) -> Value {
    let user = payloads::user(author, "ana", false);
    let mut message = payloads::message(id, GENERAL, Some(GUILD), user, text);
    let at = SystemTime::now() - Duration::from_secs(minutes * 60);
    let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let timestamp = serenity::all::Timestamp::from_unix_timestamp(secs as i64).unwrap();
    message["timestamp"] = json!(timestamp.to_string());
    message["member"] = json!({"roles": [], "nick": null,
                               "joined_at": "2024-05-01T12:00:00.000000+00:00",
                               "deaf": false, "mute": false, "flags": 0});
    message
}

/// Waits until the store has every message in `ids`.
async fn recorded(store: &Store, ids: &[u64]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for id in ids {
        let id = MessageId::new(id.to_string());
        while store
            .message(Platform::Discord, &id)
            .await
            .unwrap()
            .is_none()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "message {id:?} was not recorded"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_report_posts_two_charts_for_moderators_only() {
    let mut options = DoubleOptions::default();
    options
        .members
        .push((GUILD, payloads::guild_member(MODERATOR, &[MODS_ROLE])));
    let bot = start(scripted("Activity was steady [1]."), options).await;
    bot.ready().await;
    let history = [
        (9701, MEMBER, "How do I configure the build cache?", 90),
        (
            9702,
            MODERATOR,
            "Set CARGO_TARGET_DIR to a shared path.",
            80,
        ),
        (9703, MEMBER, "Thanks, that worked great!", 70),
        (9704, MEMBER, "Why does the linker fail on musl?", 60),
        (9705, MEMBER, "This release is broken and awful.", 50),
    ];
    for (id, author, text, minutes) in history {
        let message = recent_message(id, author, text, minutes);
        bot.double.dispatch("MESSAGE_CREATE", message).await;
    }
    recorded(&bot.store, &history.map(|(id, ..)| id)).await;

    // A member may not: refused privately, nothing posted in the channel.
    let window = [("window", "7d")];
    let member = payloads::slash_command(7101, "report", &window, MEMBER, EVERYONE_PERMISSIONS);
    bot.double.dispatch("INTERACTION_CREATE", member).await;
    let refusal = bot.answer_in("webhook:token-7101", "only moderators").await;
    assert_eq!(refusal.len(), 1);
    let callback = bot
        .double
        .request("POST", "/api/v10/interactions/7101/token-7101/callback")
        .await;
    assert_eq!(callback.body["type"], 5, "deferred: {}", callback.body);
    assert_eq!(
        callback.body["data"]["flags"], 64,
        "privately: {}",
        callback.body
    );
    assert!(
        posts_to(&bot.double.requests(), GENERAL).is_empty(),
        "a member's /report posts nothing"
    );

    // A moderator: the report and both charts in #general, for everyone there.
    let moderator = payloads::slash_command(
        7102,
        "report",
        &window,
        MODERATOR,
        EVERYONE_PERMISSIONS | MANAGE_MESSAGES,
    );
    let moderator = payloads::with_roles(moderator, &[MODS_ROLE]);
    bot.double.dispatch("INTERACTION_CREATE", moderator).await;
    let upload = bot
        .double
        .wait_for("the report with its charts", |double| {
            posts_to(&double.requests(), GENERAL)
                .into_iter()
                .find(|post| !post.files.is_empty())
        })
        .await;
    assert_eq!(upload.files.len(), 2, "two charts: {:?}", upload.files);
    for file in &upload.files {
        let name = file.filename.as_deref().unwrap_or_default();
        assert!(name.ends_with(".png"), "{name}");
        assert!(
            file.bytes.len() > 1000 && file.bytes.starts_with(PNG_SIGNATURE),
            "{name} is a PNG with content ({} bytes)",
            file.bytes.len()
        );
    }
    assert_eq!(
        upload.body["allowed_mentions"]["parse"],
        json!([]),
        "{}",
        upload.body
    );
    let text: String = posts_to(&bot.double.requests(), GENERAL)
        .iter()
        .map(|post| post.body["content"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    eprintln!("the report:\n{text}");
    assert!(!text.trim().is_empty(), "the report has text");
    assert!(
        text.chars().any(|c| c.is_ascii_digit()),
        "the report gives figures: {text}"
    );
    // The deferred private "thinking…" goes once the report is posted: the post is the answer.
    let callback = bot
        .double
        .request("POST", "/api/v10/interactions/7102/token-7102/callback")
        .await;
    assert_eq!(
        callback.body["type"], 5,
        "deferred at once: {}",
        callback.body
    );
    let original = format!("/api/v10/webhooks/{BOT}/token-7102/messages/@original");
    bot.double.request("DELETE", &original).await;
    bot.stop().await;
}
