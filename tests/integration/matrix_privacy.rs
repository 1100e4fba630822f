//! Members' data on Matrix with a real Synapse (see `synapse.rs`): a message redacted while
//! Steward was stopped loses its stored text when Steward starts again (the redaction comes
//! with the first sync after the restart), and `privacy export` sends the member an `m.file` in
//! a direct chat whose media downloads and parses as JSON. The bot's SDK stores are encrypted
//! with a passphrase throughout, and opening them without it, or with another one, is a clear
//! error.

use std::time::Duration;

use matrix_sdk::ruma::events::room::message::{
    FileMessageEventContent, MessageType, RoomMessageEventContent,
};
use steward::config::{MatrixAuth, ModerationSettings, Secret};
use steward::core::{MessageId, Platform};
use steward::platform::matrix;
use steward::store::{Store, StoredMessage};
use tokio_util::sync::CancellationToken;

use crate::matrix_util::{
    bot_settings, homeserver, router_on, Member, TestBot, ANSWER_TIMEOUT, BOT,
};
use crate::synapse::{Synapse, SERVER_NAME};

const PASSPHRASE: &str = "a long test passphrase for the store";

/// Waits until the stored message `id` exists and `check` accepts it.
async fn stored(store: &Store, id: &str, what: &str, check: impl Fn(&StoredMessage) -> bool) {
    let id = MessageId::new(id);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match store.message(Platform::Matrix, &id).await.unwrap() {
            Some(message) if check(&message) => return,
            other => assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The first file the bot sent the member in any room they share (a direct chat).
async fn file_from_bot(member: &Member) -> FileMessageEventContent {
    let bot = Synapse::user_id(BOT);
    let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
    loop {
        for room in member.client.joined_rooms() {
            let file = member
                .messages_from(room.room_id(), &bot)
                .into_iter()
                .find_map(|event| match event.content.msgtype {
                    MessageType::File(file) => Some(file),
                    _ => None,
                });
            if let Some(file) = file {
                return file;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no file from the bot reached {}",
            member.user_id
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_redaction_while_stopped_is_applied_and_export_is_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let synapse = tokio::task::spawn_blocking(|| homeserver(&["ana"]));
    let engine = crate::scripted::scripted("unused");
    let (router, store) = router_on(dir.path(), ModerationSettings::default(), engine).await;
    let synapse = synapse.await.unwrap();
    let mut settings = bot_settings(&synapse, &dir.path().join("bot"), &[SERVER_NAME]);
    settings.store_passphrase_env = Some("STEWARD_TEST_STORE_PASSPHRASE".into());
    settings.store_passphrase = Some(Secret::new(PASSPHRASE.into()));
    let bot = TestBot::start(settings.clone(), router.clone()).await;
    let ana = Member::login(&synapse, "ana").await;
    let room = ana.room_with_bot(false).await;

    let secret = "my address is 1 Privacy Lane";
    let sent = ana
        .send(&room, RoomMessageEventContent::text_plain(secret))
        .await;
    stored(&store, sent.as_str(), "the message is recorded", |m| {
        m.text == secret
    })
    .await;
    bot.stop().await;

    // Redacted while Steward is stopped.
    room.redact(&sent, Some("privacy"), None)
        .await
        .expect("ana redacts her message");
    ana.wait_for_redaction(&room, &sent).await;

    // Same store (same passphrase), saved session: the first sync brings the redaction.
    let mut restarted = settings.clone();
    restarted.auth = MatrixAuth::SavedSessionOnly;
    let bot = TestBot::start(restarted.clone(), router.clone()).await;
    stored(&store, sent.as_str(), "the redacted text is gone", |m| {
        m.text.is_empty() && m.is_deleted()
    })
    .await;

    // `privacy export`: a notice and an `m.file` in a direct chat.
    ana.send(
        &room,
        RoomMessageEventContent::text_plain("!steward privacy export"),
    )
    .await;
    ana.wait_private("the export file", |body| body.ends_with(".json"))
        .await;
    let file = file_from_bot(&ana).await;
    assert!(
        file.body.ends_with(".json") || file.filename.is_some(),
        "{file:?}"
    );
    let bytes = ana
        .client
        .media()
        .get_file(&file, false)
        .await
        .expect("the export downloads")
        .expect("the file has a source");
    let text = String::from_utf8(bytes).expect("UTF-8 JSON");
    let exported: serde_json::Value = serde_json::from_str(&text).expect("the export is JSON");
    assert!(exported.is_object(), "{exported}");
    assert!(text.contains(ana.user_id.as_str()), "{text}");
    assert!(
        !text.contains(secret),
        "the redacted text is exported: {text}"
    );
    bot.stop().await;

    // The encrypted store does not open without its passphrase, or with another one; the
    // errors say so and never show a passphrase.
    let mut plain = restarted.clone();
    plain.store_passphrase_env = None;
    plain.store_passphrase = None;
    let error = matrix::run(&plain, router.clone(), CancellationToken::new())
        .await
        .expect_err("an encrypted store needs its passphrase");
    assert_eq!(error.label(), "matrix_store_encrypted", "{error}");
    let mut wrong = restarted;
    wrong.store_passphrase = Some(Secret::new("not the passphrase".into()));
    let error = matrix::run(&wrong, router, CancellationToken::new())
        .await
        .expect_err("a wrong passphrase does not open the store");
    assert_eq!(error.label(), "matrix_store_passphrase", "{error}");
    let shown = format!("{error} {error:?}");
    assert!(
        shown.contains("STEWARD_TEST_STORE_PASSPHRASE") && !shown.contains("not the passphrase"),
        "{shown}"
    );
}
