//! Unit tests for `conversion`: Matrix event JSON (as a homeserver sends it in `/sync`) ->
//! ruma types -> core events.

use serde_json::{json, Value};

use super::*;
use crate::core::Command;

const BOT: &str = "@steward:example.org";
const ROOM: &str = "!room:example.org";

fn room() -> RoomContext {
    RoomContext {
        room_id: ROOM.into(),
        community: "!space:example.org".into(),
        bot: BotIdentity {
            user_id: BOT.into(),
            display_name: "Steward".into(),
            core_name: "Steward".into(),
        },
        command_prefix: "!steward".into(),
    }
}

fn member(role: Role) -> SenderContext {
    SenderContext {
        display_name: "Ana".into(),
        role,
        ignored: false,
    }
}

/// A sync timeline `m.room.message` event with `content`.
fn message(sender: &str, content: Value) -> OriginalSyncRoomMessageEvent {
    serde_json::from_value(json!({
        "type": "m.room.message",
        "event_id": "$msg:example.org",
        "sender": sender,
        "origin_server_ts": 1_700_000_000_000u64,
        "content": content,
    }))
    .expect("valid m.room.message event")
}

fn convert(event: &OriginalSyncRoomMessageEvent, facts: RelationFacts) -> Option<EventKind> {
    message_event(event, &room(), &member(Role::Member), facts).map(|event| event.kind)
}

fn posted(kind: Option<EventKind>) -> Message {
    match kind {
        Some(EventKind::MessagePosted(message)) => message,
        other => panic!("expected a posted message, got {other:?}"),
    }
}

#[test]
fn pill_mention_is_normalized_and_flagged() {
    let event = message(
        "@ana:example.org",
        json!({
            "msgtype": "m.text",
            "body": "Steward: what is Rust?",
            "format": "org.matrix.custom.html",
            "formatted_body": "<a href=\"https://matrix.to/#/@steward:example.org\">Steward</a>: what is Rust?",
            "m.mentions": { "user_ids": [BOT] },
        }),
    );
    let message = posted(convert(&event, RelationFacts::default()));
    assert!(message.mentions_bot);
    assert!(!message.replies_to_bot);
    // The router strips the `@name` form, as for every platform.
    assert_eq!(message.text, "@Steward: what is Rust?");
    assert_eq!(message.id.as_str(), "$msg:example.org");
    assert_eq!(message.location.channel.as_str(), ROOM);
    assert_eq!(message.location.community.as_str(), "!space:example.org");
    assert_eq!(message.location.thread, None);
    assert_eq!(message.author.display_name, "Ana");
    assert!(!message.author.is_bot);
    assert_eq!(
        message.created_at,
        SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_000)
    );
}

#[test]
fn plain_message_is_recorded_without_trigger() {
    let event = message(
        "@ana:example.org",
        json!({"msgtype": "m.text", "body": "hello all"}),
    );
    let message = posted(convert(&event, RelationFacts::default()));
    assert!(!message.mentions_bot && !message.replies_to_bot);
    assert_eq!(message.text, "hello all");
}

#[test]
fn own_messages_and_images_are_skipped() {
    let own = message(BOT, json!({"msgtype": "m.text", "body": "Steward: hi"}));
    assert_eq!(convert(&own, RelationFacts::default()), None);
    let image = message(
        "@ana:example.org",
        json!({"msgtype": "m.image", "body": "cat.png", "url": "mxc://example.org/abc"}),
    );
    assert_eq!(convert(&image, RelationFacts::default()), None);
}

#[test]
fn reply_strips_fallback_and_keeps_target() {
    let event = message(
        "@ana:example.org",
        json!({
            "msgtype": "m.text",
            "body": "> <@steward:example.org> Paris.\n\nand Germany?",
            "m.relates_to": { "m.in_reply_to": { "event_id": "$answer:example.org" } },
        }),
    );
    let facts = RelationFacts {
        replies_to_bot: true,
        thread_followed: false,
    };
    let message = posted(convert(&event, facts));
    assert_eq!(message.text, "and Germany?");
    assert_eq!(
        message.reply_to.as_ref().map(|m| m.as_str()),
        Some("$answer:example.org")
    );
    assert!(message.replies_to_bot);
    assert_eq!(
        reply_target(&event.content).map(|e| e.as_str()),
        Some("$answer:example.org")
    );
}

#[test]
fn thread_messages_carry_the_thread_and_follow_without_mention() {
    let event = message(
        "@ana:example.org",
        json!({
            "msgtype": "m.text",
            "body": "and why?",
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": "$root:example.org",
                "is_falling_back": true,
                "m.in_reply_to": { "event_id": "$latest:example.org" },
            },
        }),
    );
    assert_eq!(
        thread_root(&event.content).map(|e| e.as_str()),
        Some("$root:example.org")
    );
    assert_eq!(
        reply_target(&event.content),
        None,
        "a thread fallback is not a reply"
    );
    let unfollowed = posted(convert(&event, RelationFacts::default()));
    assert!(!unfollowed.mentions_bot);
    let followed = posted(convert(
        &event,
        RelationFacts {
            replies_to_bot: false,
            thread_followed: true,
        },
    ));
    assert!(followed.mentions_bot);
    assert_eq!(
        followed.location.thread.as_ref().map(|t| t.as_str()),
        Some("$root:example.org")
    );
}

#[test]
fn commands_become_command_events() {
    let event = message(
        "@ana:example.org",
        json!({"msgtype": "m.text", "body": "!steward setting language zh"}),
    );
    let kind = message_event(
        &event,
        &room(),
        &member(Role::Moderator),
        RelationFacts::default(),
    );
    match kind.map(|e| e.kind) {
        Some(EventKind::CommandInvoked {
            invoker,
            command,
            message,
            location,
        }) => {
            assert_eq!(invoker.role, Role::Moderator);
            assert_eq!(
                command,
                Command::Setting {
                    key: Some("language".into()),
                    value: Some("zh".into())
                }
            );
            assert_eq!(message.map(|m| m.0), Some("$msg:example.org".to_string()));
            assert_eq!(location.channel.as_str(), ROOM);
        }
        other => panic!("expected a command, got {other:?}"),
    }
}

#[test]
fn ignored_users_are_bots() {
    let text = message_event(
        &self::message(
            "@otherbot:example.org",
            json!({"msgtype": "m.text", "body": "Steward: hi"}),
        ),
        &room(),
        &SenderContext {
            display_name: "bot".into(),
            role: Role::Member,
            ignored: true,
        },
        RelationFacts::default(),
    );
    match text.map(|e| e.kind) {
        Some(EventKind::MessagePosted(message)) => assert!(message.author.is_bot),
        other => panic!("expected a posted message, got {other:?}"),
    }
}

#[test]
fn hole_4_a_members_notice_is_screened_but_never_answered() {
    // Before: any m.notice was taken for a bot's, so the rules never saw it.
    let notice = message(
        "@ana:example.org",
        json!({"msgtype": "m.notice", "body": "free nitro at scam.example"}),
    );
    let message = posted(convert(&notice, RelationFacts::default()));
    assert!(!message.author.is_bot, "a member's notice is screened");
    assert_eq!(message.text, "free nitro at scam.example");

    // ... and never answered: no command, no mention, no reply to the bot.
    let command = self::message(
        "@otherbot:example.org",
        json!({"msgtype": "m.notice", "body": "!steward ask loop?"}),
    );
    let message = posted(convert(&command, RelationFacts::default()));
    assert!(!message.mentions_bot && !message.replies_to_bot);
    let addressed = self::message(
        "@otherbot:example.org",
        json!({
            "msgtype": "m.notice",
            "body": "Steward: hi @Steward",
            "format": "org.matrix.custom.html",
            "formatted_body": "<a href=\"https://matrix.to/#/@steward:example.org\">Steward</a>: hi @Steward",
            "m.mentions": { "user_ids": [BOT] },
        }),
    );
    let facts = RelationFacts {
        replies_to_bot: true,
        thread_followed: true,
    };
    let message = posted(convert(&addressed, facts));
    assert!(!message.mentions_bot && !message.replies_to_bot);
    let (found, _) = crate::community::mention::strip_mention(&message.text, "Steward");
    assert!(!found, "the router finds no mention in {:?}", message.text);
}

#[test]
fn hole_4_pills_and_m_mentions_count_as_mentions() {
    // Element writes pills as display names in the plain body; the rule counts `@` words.
    let pills: String = ["ana", "bob", "carl", "dan"]
        .iter()
        .map(|user| format!("<a href=\"https://matrix.to/#/@{user}:example.org\">{user}</a> "))
        .collect();
    let event = message(
        "@eve:example.org",
        json!({
            "msgtype": "m.text",
            "body": "ana bob carl dan look",
            "format": "org.matrix.custom.html",
            "formatted_body": format!("{pills}look"),
            "m.mentions": { "user_ids": [
                "@ana:example.org", "@bob:example.org", "@carl:example.org",
                "@dan:example.org", "@fay:example.org"
            ] },
        }),
    );
    let message = posted(convert(&event, RelationFacts::default()));
    assert_eq!(message.text, "@ana @bob @carl @dan look @fay:example.org");
    let words = message
        .text
        .split_whitespace()
        .filter(|w| w.starts_with('@'));
    assert_eq!(words.count(), 5);
    assert!(!message.mentions_bot);

    let room_ping = message_with_room_mention();
    assert_eq!(
        posted(convert(&room_ping, RelationFacts::default())).text,
        "look @room"
    );
}

fn message_with_room_mention() -> OriginalSyncRoomMessageEvent {
    message(
        "@eve:example.org",
        json!({"msgtype": "m.text", "body": "look", "m.mentions": { "room": true }}),
    )
}

#[test]
fn edits_become_message_edited() {
    let event = message(
        "@ana:example.org",
        json!({
            "msgtype": "m.text",
            "body": " * fixed text",
            "m.new_content": { "msgtype": "m.text", "body": "fixed text" },
            "m.relates_to": { "rel_type": "m.replace", "event_id": "$orig:example.org" },
        }),
    );
    match convert(&event, RelationFacts::default()) {
        Some(EventKind::MessageEdited {
            message,
            new_text,
            editor,
            ..
        }) => {
            assert_eq!(message.as_str(), "$orig:example.org");
            assert_eq!(new_text, "fixed text");
            assert_eq!(editor.as_str(), "@ana:example.org");
        }
        other => panic!("expected an edit, got {other:?}"),
    }
}

#[test]
fn hole_3_an_edit_names_who_sent_it() {
    // Bob "edits" Ana's message: the core learns the edit is Bob's, and the store ignores it.
    let forged = message(
        "@bob:example.org",
        json!({
            "msgtype": "m.text",
            "body": " * I will hurt you",
            "m.new_content": { "msgtype": "m.text", "body": "I will hurt you" },
            "m.relates_to": { "rel_type": "m.replace", "event_id": "$ana:example.org" },
        }),
    );
    match convert(&forged, RelationFacts::default()) {
        Some(EventKind::MessageEdited {
            message, editor, ..
        }) => {
            assert_eq!(message.as_str(), "$ana:example.org");
            assert_eq!(editor.as_str(), "@bob:example.org");
        }
        other => panic!("expected an edit, got {other:?}"),
    }
}

#[test]
fn redactions_and_reactions() {
    let redaction: OriginalSyncRoomRedactionEvent = serde_json::from_value(json!({
        "type": "m.room.redaction",
        "event_id": "$red:example.org",
        "sender": "@mod:example.org",
        "origin_server_ts": 1_700_000_000_000u64,
        "redacts": "$spam:example.org",
        "content": { "reason": "spam" },
    }))
    .unwrap();
    match redaction_event(&redaction, &room()).map(|e| e.kind) {
        Some(EventKind::MessageDeleted { message, .. }) => {
            assert_eq!(message.as_str(), "$spam:example.org")
        }
        other => panic!("expected a deletion, got {other:?}"),
    }

    let reaction = |sender: &str| -> OriginalSyncReactionEvent {
        serde_json::from_value(json!({
            "type": "m.reaction",
            "event_id": "$re:example.org",
            "sender": sender,
            "origin_server_ts": 1_700_000_000_000u64,
            "content": { "m.relates_to": {
                "rel_type": "m.annotation", "event_id": "$msg:example.org", "key": "👍"
            } },
        }))
        .unwrap()
    };
    match reaction_event(&reaction("@ana:example.org"), &room()).map(|e| e.kind) {
        Some(EventKind::ReactionAdded(r)) => {
            assert_eq!(
                (r.message.as_str(), r.user.as_str(), r.emoji.as_str()),
                ("$msg:example.org", "@ana:example.org", "👍")
            );
        }
        other => panic!("expected a reaction, got {other:?}"),
    }
    assert_eq!(reaction_event(&reaction(BOT), &room()), None);
}

#[test]
fn converting_arbitrary_text_never_panics() {
    use crate::platform::fuzz::{arbitrary_text, rng, CASES};
    let mut rng = rng(0x6d61_7472_6978);
    for case in 0..CASES {
        let body = arbitrary_text(&mut rng);
        let html = arbitrary_text(&mut rng);
        let content = match case % 4 {
            0 => json!({"msgtype": "m.text", "body": body}),
            1 => json!({
                "msgtype": "m.notice",
                "body": body,
                "format": "org.matrix.custom.html",
                "formatted_body": html,
                "m.mentions": { "user_ids": [BOT, "@ana:example.org"], "room": true },
            }),
            2 => json!({
                "msgtype": "m.text",
                "body": body,
                "format": "org.matrix.custom.html",
                "formatted_body": format!("<a href=\"https://matrix.to/#/@x:y\">{html}</a>{body}"),
            }),
            _ => json!({
                "msgtype": "m.text",
                "body": format!(" * {body}"),
                "m.new_content": {
                    "msgtype": "m.text",
                    "body": body,
                    "format": "org.matrix.custom.html",
                    "formatted_body": html,
                },
                "m.relates_to": { "rel_type": "m.replace", "event_id": "$orig:example.org" },
            }),
        };
        let event = message("@ana:example.org", content);
        let _ = convert(&event, RelationFacts::default());
        let _ = mentions::pills(&html);
        let _ = mentions::pills(&body);
    }
}

#[test]
fn own_messages_are_recorded_as_the_bots_and_never_addressed() {
    // Even text that reads like a command is only recorded.
    let answer = message(
        BOT,
        json!({
            "msgtype": "m.text",
            "body": "!steward ask Use port 8428 [1].\n\nSources: [1] `en/install.md`",
            "m.relates_to": { "m.in_reply_to": { "event_id": "$question:example.org" } },
        }),
    );
    let Some(Event {
        kind: EventKind::MessagePosted(recorded),
        ..
    }) = own_message_event(&answer, &room())
    else {
        panic!("expected Steward's message to be recorded");
    };
    assert!(recorded.author.is_bot);
    assert_eq!(recorded.author.id.as_str(), BOT);
    assert!(!recorded.mentions_bot && !recorded.replies_to_bot);
    assert!(recorded.text.ends_with("Sources: [1] `en/install.md`"));
    assert_eq!(
        recorded.reply_to.as_ref().map(|id| id.as_str()),
        Some("$question:example.org")
    );

    let edit = message(
        BOT,
        json!({
            "msgtype": "m.text",
            "body": " * Use port 8428 [1].",
            "m.new_content": { "msgtype": "m.text", "body": "Use port 8428 [1]." },
            "m.relates_to": { "rel_type": "m.replace", "event_id": "$answer:example.org" },
        }),
    );
    match own_message_event(&edit, &room()).map(|event| event.kind) {
        Some(EventKind::MessageEdited {
            message,
            editor,
            new_text,
            ..
        }) => {
            assert_eq!(message.as_str(), "$answer:example.org");
            assert_eq!(editor.as_str(), BOT);
            assert_eq!(new_text, "Use port 8428 [1].");
        }
        other => panic!("expected Steward's edit, got {other:?}"),
    }

    // Only Steward's own.
    let member = message(
        "@ana:example.org",
        json!({"msgtype": "m.text", "body": "hi"}),
    );
    assert_eq!(own_message_event(&member, &room()), None);
}

#[test]
fn pins_added_to_the_rooms_pinned_events_are_pins() {
    let pins = |pinned: Value, previous: Option<Value>| -> OriginalSyncRoomPinnedEventsEvent {
        let mut event = json!({
            "type": "m.room.pinned_events",
            "event_id": "$pins:example.org",
            "sender": "@mod:example.org",
            "state_key": "",
            "origin_server_ts": 1_700_000_000_000u64,
            "content": { "pinned": pinned },
        });
        if let Some(previous) = previous {
            event["unsigned"] = json!({ "prev_content": { "pinned": previous } });
        }
        serde_json::from_value(event).unwrap()
    };
    let pinned_ids = |event: &OriginalSyncRoomPinnedEventsEvent| -> Vec<String> {
        pinned_events(event, &room(), Role::Moderator)
            .into_iter()
            .map(|event| match event.kind {
                EventKind::MessagePinned {
                    location,
                    message,
                    by,
                    role,
                } => {
                    assert_eq!(role, Role::Moderator);
                    assert_eq!(location.channel.as_str(), ROOM);
                    assert_eq!(by.as_str(), "@mod:example.org");
                    message.as_str().to_string()
                }
                other => panic!("expected a pin, got {other:?}"),
            })
            .collect()
    };
    // A room's first pins are all new; later, only the ids the previous content lacked.
    let first = pins(json!(["$a:example.org", "$b:example.org"]), None);
    assert_eq!(pinned_ids(&first), ["$a:example.org", "$b:example.org"]);
    let added = pins(
        json!(["$a:example.org", "$c:example.org"]),
        Some(json!(["$a:example.org", "$b:example.org"])),
    );
    assert_eq!(pinned_ids(&added), ["$c:example.org"]);
    // Unpinning pins nothing.
    let removed = pins(json!(["$a:example.org"]), Some(json!(["$a:example.org"])));
    assert!(pinned_ids(&removed).is_empty());
}
