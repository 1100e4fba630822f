//! Follow-ups through the router with the scripted engine: a member's reply to Steward's answer
//! (no mention) is answered with the earlier question and answer as prior turns (the answer's
//! sources line left out), a message in a thread Steward answered in needs no mention, a thread
//! without Steward is not followed, and the token budget keeps the newest turns (the oldest
//! dropped, the one that no longer fits whole cut).

use std::time::{Duration, SystemTime};

use steward::core::{
    Author, Event, EventKind, Location, Message, MessageId, Platform, Role, ThreadId, UserId,
};
use steward::llm::{ChatMessage, ChatRole};

use crate::dispatch::{fixture_config, location, reply_text, Fixture};

const STEWARD: &str = "steward-user";

/// A fixture whose console adapter has registered Steward's user, as adapters do at start.
/// The channel stays out of the knowledge base: a conversation indexed in the background
/// while a question is answered would turn the model's answer into a quoted one.
async fn fixture() -> Fixture {
    let f = fixture_config(Ok("Use the installer."), |config| {
        config.knowledge.exclude_channels = vec!["general".into()];
    })
    .await;
    f.router
        .register_self(Platform::Console, UserId::new(STEWARD));
    f
}

fn steward() -> Author {
    Author {
        id: UserId::new(STEWARD),
        display_name: "Steward".into(),
        role: Role::Member,
        is_bot: true,
    }
}

fn member(id: &str) -> Author {
    Author {
        id: UserId::new(id),
        display_name: id.to_uppercase(),
        role: Role::Member,
        is_bot: false,
    }
}

/// A message said `seconds` after a minute ago (so the order of a thread is certain).
fn said(
    at: &Location,
    id: &str,
    author: Author,
    text: &str,
    reply_to: Option<&str>,
    seconds: u64,
) -> Message {
    Message {
        id: MessageId::new(id),
        location: at.clone(),
        author,
        text: text.into(),
        created_at: SystemTime::now() - Duration::from_secs(60) + Duration::from_secs(seconds),
        reply_to: reply_to.map(MessageId::new),
        mentions_bot: false,
        replies_to_bot: false,
    }
}

fn posted(message: Message) -> Event {
    Event::now(EventKind::MessagePosted(message))
}

/// The messages of the last request the scripted model received.
fn last_request(f: &Fixture) -> Vec<ChatMessage> {
    let seen = f.engine.seen.lock().unwrap();
    seen.last().expect("a request").messages.clone()
}

#[tokio::test]
async fn a_reply_to_stewards_answer_carries_the_earlier_turns() {
    let f = fixture().await;
    let here = location();
    let question = said(
        &here,
        "q1",
        member("ana"),
        "@steward how do I install Lumen on Linux?",
        None,
        1,
    );
    assert_eq!(f.router.handle(posted(question)).await.len(), 1);
    assert_eq!(
        last_request(&f),
        [ChatMessage::user("how do I install Lumen on Linux?")],
        "a new question has no earlier turns"
    );
    // The adapter delivers Steward's answer back: recorded, never answered.
    let answer = said(
        &here,
        "a1",
        steward(),
        "Use the package manager [1].\n\nSources: [1] `en/install.md › Linux`",
        Some("q1"),
        2,
    );
    assert!(f.router.handle(posted(answer)).await.is_empty());

    // The member replies to the answer without mentioning Steward.
    let mut follow_up = said(&here, "q2", member("ana"), "and on Windows?", Some("a1"), 3);
    follow_up.replies_to_bot = true;
    let text = reply_text(f.router.handle(posted(follow_up)).await).await;
    assert_eq!(text, "Use the installer.");
    assert_eq!(
        last_request(&f),
        [
            ChatMessage::user("how do I install Lumen on Linux?"),
            ChatMessage::assistant("Use the package manager [1]."),
            ChatMessage::user("and on Windows?"),
        ]
    );
    assert_eq!(f.engine.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_message_in_a_thread_steward_answered_in_needs_no_mention() {
    let f = fixture().await;
    let channel = location();
    let thread = channel.in_thread(ThreadId::new("q1"));
    let root = said(
        &channel,
        "q1",
        member("ana"),
        "@steward why does the relay drop connections?",
        None,
        1,
    );
    assert_eq!(f.router.handle(posted(root)).await.len(), 1);
    let answer = said(
        &thread,
        "a1",
        steward(),
        "Its idle timeout is 60 s.",
        None,
        2,
    );
    assert!(f.router.handle(posted(answer)).await.is_empty());
    // Another member's remark in the thread (recorded directly: not routed, so not answered).
    f.store
        .record_message(&said(
            &thread,
            "b1",
            member("bo"),
            "Same here since the upgrade.",
            None,
            3,
        ))
        .await
        .unwrap();

    let follow_up = said(&thread, "q2", member("ana"), "can I raise it?", None, 4);
    let text = reply_text(f.router.handle(posted(follow_up)).await).await;
    assert_eq!(text, "Use the installer.");
    // The thread's root first, then the thread; a member's turn just before the question is
    // joined to it (roles alternate), named since someone else wrote it.
    assert_eq!(
        last_request(&f),
        [
            ChatMessage::user("why does the relay drop connections?"),
            ChatMessage::assistant("Its idle timeout is 60 s."),
            ChatMessage::user("BO: Same here since the upgrade.\n\ncan I raise it?"),
        ]
    );

    // A thread Steward never wrote in is not followed.
    let elsewhere = channel.in_thread(ThreadId::new("other"));
    let chatter = said(&elsewhere, "c1", member("cy"), "can I raise it?", None, 5);
    assert!(f.router.handle(posted(chatter)).await.is_empty());
    assert_eq!(f.engine.seen.lock().unwrap().len(), 2);

    // Once members have talked among themselves for a while, the thread is theirs again: six
    // messages after Steward's last one, a message without a mention is not answered.
    for (i, id) in ["d1", "d2", "d3", "d4", "d5", "d6"].into_iter().enumerate() {
        f.store
            .record_message(&said(
                &thread,
                id,
                member("bo"),
                "still chatting about timeouts",
                None,
                10 + i as u64,
            ))
            .await
            .unwrap();
    }
    let late = said(&thread, "q3", member("cy"), "anyone tried 120 s?", None, 20);
    assert!(f.router.handle(posted(late)).await.is_empty());
    assert_eq!(f.engine.seen.lock().unwrap().len(), 2);
}

/// `n` words starting with `first`.
fn words(first: &str, n: usize) -> String {
    std::iter::once(first.to_string())
        .chain((1..n).map(|i| format!("w{i}")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn the_token_budget_drops_the_oldest_turns_first() {
    let f = fixture().await;
    let here = location();
    // A long reply chain, recorded: 650 words before the follow-up, over the 512-token budget
    // (the scripted engine counts words as tokens).
    let chain = [
        ("q0", member("ana"), words("ZEROQ", 50), None),
        ("a0", steward(), words("ZEROA", 50), Some("q0")),
        ("q1", member("ana"), words("FIRSTQ", 150), Some("a0")),
        ("a1", steward(), words("FIRSTA", 100), Some("q1")),
        ("q2", member("ana"), words("SECONDQ", 100), Some("a1")),
        ("a2", steward(), words("SECONDA", 200), Some("q2")),
    ];
    for (i, (id, author, text, reply_to)) in chain.into_iter().enumerate() {
        let message = said(&here, id, author, &text, reply_to, i as u64);
        f.store.record_message(&message).await.unwrap();
    }
    let mut follow_up = said(
        &here,
        "q3",
        member("ana"),
        "and on Windows?",
        Some("a2"),
        10,
    );
    follow_up.replies_to_bot = true;
    assert_eq!(f.router.handle(posted(follow_up)).await.len(), 1);

    let messages = last_request(&f);
    let firsts: Vec<&str> = messages
        .iter()
        .map(|m| m.content.split(' ').next().unwrap())
        .collect();
    // Newest first: a2 (200) and q2 (100) and a1 (100) fit whole, q1 (150) is cut to the 112
    // tokens left, and the oldest exchange is dropped.
    assert_eq!(firsts, ["FIRSTQ", "FIRSTA", "SECONDQ", "SECONDA", "and"]);
    let cut = &messages[0].content;
    assert!(cut.ends_with('…'), "{cut}");
    let kept = cut.split_whitespace().count();
    assert!((16..=112).contains(&kept), "{kept} words: {cut}");
    let roles: Vec<ChatRole> = messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            ChatRole::User,
            ChatRole::Assistant,
            ChatRole::User,
            ChatRole::Assistant,
            ChatRole::User
        ]
    );
    assert!(messages.iter().all(|m| !m.content.contains("ZERO")));
    assert_eq!(messages[4].content, "and on Windows?");
}
