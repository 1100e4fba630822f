//! Community reports on Matrix with a real Synapse (see `synapse.rs`): a moderator's
//! `!steward report 7d` posts the report's text, then each chart as an `m.image` whose media
//! downloads (decrypted, in an encrypted room) and is the PNG its `info` describes: media type,
//! size, width and height.

use std::time::Duration;

use matrix_sdk::ruma::events::room::message::{
    ImageMessageEventContent, MessageType, RoomMessageEventContent,
};
use matrix_sdk::ruma::events::room::MediaSource;
use matrix_sdk::Room;
use steward::config::ModerationSettings;
use steward::core::{MessageId, Platform};
use steward::store::Store;

use crate::matrix_util::{bot_settings, homeserver, router_on, Member, Seen, TestBot, BOT};
use crate::synapse::{Synapse, SERVER_NAME};

/// The eight bytes every PNG file starts with.
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A PNG's width and height from its IHDR header (bytes 16..24).
fn png_size(bytes: &[u8]) -> (u64, u64) {
    let number = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (u64::from(number(16)), u64::from(number(20)))
}

/// Waits until the store has the message `id`.
async fn recorded(store: &Store, id: &str) {
    let id = MessageId::new(id);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while store
        .message(Platform::Matrix, &id)
        .await
        .unwrap()
        .is_none()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id:?} was not recorded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The bot's images in `room` once there are `count` of them, and whether the first arrived
/// encrypted.
async fn images_from_bot(
    member: &Member,
    room: &Room,
    count: usize,
) -> (Vec<ImageMessageEventContent>, bool) {
    let bot = Synapse::user_id(BOT);
    let encrypted = member
        .wait_for("an image from the bot", |seen| match seen {
            Seen::Message {
                room: seen_in,
                event,
                encrypted,
            } if seen_in == room.room_id() && event.sender.as_str() == bot => {
                matches!(event.content.msgtype, MessageType::Image(_)).then_some(*encrypted)
            }
            _ => None,
        })
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let images: Vec<ImageMessageEventContent> = member
            .messages_from(room.room_id(), &bot)
            .into_iter()
            .filter_map(|event| match event.content.msgtype {
                MessageType::Image(image) => Some(image),
                _ => None,
            })
            .collect();
        if images.len() >= count {
            return (images, encrypted);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} images from the bot",
            images.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Posts a few messages in `room`, asks for the report, and checks its text and charts.
async fn report_in(ana: &Member, store: &Store, room: &Room, encrypted: bool) {
    let history = [
        "How do I configure the build cache?",
        "Set CARGO_TARGET_DIR to a shared path.",
        "Thanks, that worked great!",
        "Why does the linker fail on musl?",
    ];
    for text in history {
        let sent = ana
            .send(room, RoomMessageEventContent::text_plain(text))
            .await;
        recorded(store, sent.as_str()).await;
    }
    let bot = Synapse::user_id(BOT);
    let before = ana.messages_from(room.room_id(), &bot).len();
    ana.send(
        room,
        RoomMessageEventContent::text_plain("!steward report 7d"),
    )
    .await;

    let (images, first_encrypted) = images_from_bot(ana, room, 2).await;
    assert_eq!(images.len(), 2, "two charts: {images:#?}");
    assert_eq!(first_encrypted, encrypted, "the media event's encryption");
    for image in &images {
        match (&image.source, encrypted) {
            (MediaSource::Plain(_), false) | (MediaSource::Encrypted(_), true) => {}
            (source, _) => panic!("encrypted room {encrypted}, media source {source:?}"),
        }
        let bytes = ana
            .client
            .media()
            .get_file(image, false)
            .await
            .expect("the chart downloads")
            .expect("the image has a source");
        assert!(
            bytes.len() > 1000 && bytes.starts_with(PNG_SIGNATURE),
            "{} is a PNG with content ({} bytes)",
            image.body,
            bytes.len()
        );
        let info = image.info.as_deref().expect("the image has its info");
        assert_eq!(info.mimetype.as_deref(), Some("image/png"));
        assert_eq!(info.size.map(u64::from), Some(bytes.len() as u64));
        let (width, height) = png_size(&bytes);
        assert_eq!(info.width.map(u64::from), Some(width), "{info:?}");
        assert_eq!(info.height.map(u64::from), Some(height), "{info:?}");
    }

    // The report's text came first: a message from the bot after the command, with figures.
    let texts: Vec<String> = ana.messages_from(room.room_id(), &bot)[before..]
        .iter()
        .filter_map(|event| match &event.content.msgtype {
            MessageType::Text(text) => Some(text.body.clone()),
            MessageType::Notice(notice) => Some(notice.body.clone()),
            _ => None,
        })
        .collect();
    let report = texts.join("\n");
    eprintln!("the report (encrypted room {encrypted}):\n{report}");
    assert!(!report.trim().is_empty(), "the report's text was posted");
    assert!(
        report.chars().any(|c| c.is_ascii_digit()),
        "the report gives figures: {report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_report_posts_its_charts_as_images() {
    let dir = tempfile::tempdir().unwrap();
    let synapse = tokio::task::spawn_blocking(|| homeserver(&["ana"]));
    let engine = crate::scripted::scripted("Activity was steady [1].");
    let (router, store) = router_on(dir.path(), ModerationSettings::default(), engine).await;
    let synapse = synapse.await.unwrap();
    let settings = bot_settings(&synapse, &dir.path().join("bot"), &[SERVER_NAME]);
    let bot = TestBot::start(settings, router).await;
    let ana = Member::login(&synapse, "ana").await;
    // Ana created the rooms: power level 100, a moderator there.
    for encrypted in [false, true] {
        let room = ana.room_with_bot(encrypted).await;
        report_in(&ana, &store, &room, encrypted).await;
    }
    bot.stop().await;
}
