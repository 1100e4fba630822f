//! Members' data on Discord against the protocol double: a bulk deletion (MESSAGE_DELETE_BULK,
//! as a moderator's purge sends it) removes the text of every message it names from the store,
//! and `/privacy export` sends the member their data privately, as a JSON file in a direct
//! message (a multipart upload: `payload_json` and `files[0]`).

use std::time::Duration;

use serde_json::{json, Value};
use steward::core::{MessageId, Platform};
use steward::store::{Store, StoredMessage};

use crate::discord::start;
use crate::discord_double::payloads::{self, EVERYONE_PERMISSIONS, GENERAL, GUILD, MEMBER};
use crate::discord_double::DoubleOptions;
use crate::scripted::scripted;

/// A member's plain message (no mention) in #general, as MESSAGE_CREATE carries it.
fn member_message(id: u64, text: &str) -> Value {
    let author = payloads::user(MEMBER, "ana", false);
    let mut message = payloads::message(id, GENERAL, Some(GUILD), author, text);
    message["member"] = json!({"roles": [], "nick": null,
                               "joined_at": "2024-05-01T12:00:00.000000+00:00",
                               "deaf": false, "mute": false, "flags": 0});
    message
}

/// Waits until the stored message `id` exists and `check` accepts it; returns it.
async fn stored(
    store: &Store,
    id: &str,
    what: &str,
    check: impl Fn(&StoredMessage) -> bool,
) -> StoredMessage {
    let id = MessageId::new(id);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let message = store.message(Platform::Discord, &id).await.unwrap();
        match message {
            Some(message) if check(&message) => return message,
            other => assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_bulk_delete_removes_the_text_and_export_sends_a_file() {
    let bot = start(scripted("unused"), DoubleOptions::default()).await;
    bot.ready().await;
    let messages = [
        (9601, "secret one: my address is 1 Privacy Lane"),
        (9602, "secret two: my phone is 555-0100"),
        (9603, "the kept message about lifetimes"),
    ];
    for (id, text) in messages {
        bot.double
            .dispatch("MESSAGE_CREATE", member_message(id, text))
            .await;
    }
    // Handlers run concurrently: every message is recorded before the deletion is sent.
    for (id, text) in messages {
        let id = id.to_string();
        stored(&bot.store, &id, "the message is recorded", |m| {
            m.text == text
        })
        .await;
    }

    let bulk = json!({"ids": ["9601", "9602"], "channel_id": GENERAL.to_string(),
                      "guild_id": GUILD.to_string()});
    bot.double.dispatch("MESSAGE_DELETE_BULK", bulk).await;
    for id in ["9601", "9602"] {
        let deleted = stored(&bot.store, id, "the bulk-deleted text is gone", |m| {
            m.text.is_empty() && m.is_deleted()
        })
        .await;
        assert_eq!(deleted.author.as_str(), MEMBER.to_string(), "ids stay");
    }
    let kept = stored(&bot.store, "9603", "the third message", |_| true).await;
    assert_eq!(kept.text, messages[2].1, "a message not in the bulk stays");
    assert!(!kept.is_deleted());

    // `/privacy export` (the fourth choice): a direct message with the member's data as JSON.
    let options = vec![json!({"name": "action", "type": 4, "value": 3})];
    let export =
        payloads::slash_command_with(6601, "privacy", options, MEMBER, EVERYONE_PERMISSIONS);
    bot.double.dispatch("INTERACTION_CREATE", export).await;
    let dm = bot
        .double
        .request("POST", "/api/v10/users/@me/channels")
        .await;
    assert_eq!(dm.body["recipient_id"], MEMBER.to_string());
    let upload = bot
        .double
        .wait_for("a message with the export file", |double| {
            double
                .requests()
                .into_iter()
                .find(|r| r.method == "POST" && !r.files.is_empty())
        })
        .await;
    assert!(
        upload.path.starts_with("/api/v10/channels/")
            && upload.path.ends_with("/messages")
            && !upload.path.contains(&GENERAL.to_string()),
        "the file goes to the direct message channel: {}",
        upload.path
    );
    assert_eq!(
        upload.body["allowed_mentions"]["parse"],
        json!([]),
        "{}",
        upload.body
    );
    assert_eq!(upload.files.len(), 1, "{:?}", upload.files);
    let file = &upload.files[0];
    assert_eq!(file.field, "files[0]");
    let name = file.filename.as_deref().unwrap_or_default();
    assert!(name.ends_with(".json"), "{name}");
    let text = String::from_utf8(file.bytes.clone()).expect("UTF-8 JSON");
    let exported: Value = serde_json::from_str(&text).expect("the export is JSON");
    assert!(exported.is_object(), "{exported}");
    assert!(text.contains("the kept message about lifetimes"), "{text}");
    for (_, deleted) in &messages[..2] {
        assert!(
            !text.contains(deleted),
            "a deleted text is exported: {text}"
        );
    }
    // The command itself is answered privately.
    let callback = bot
        .double
        .request("POST", "/api/v10/interactions/6601/token-6601/callback")
        .await;
    assert_eq!(callback.body["data"]["flags"], 64, "{}", callback.body);
    bot.stop().await;
}
