//! Help channels through the router (Discord's capabilities: threads exist): only a moderator
//! makes a channel a help channel; there every new question or forum post is answered
//! without a mention (a top-level question in a new thread), but not in other channels, not
//! short remarks or replies to members, never a bot's or Steward's own message; a follow-up
//! in the answer's thread needs no mention; and the asker takes an answer back with 🙅.

use std::time::SystemTime;

use steward::core::{
    Action, Author, Body, ChannelId, Command, CommunityId, Event, EventKind, Location, Message,
    MessageId, Platform, Reaction, Role, ThreadId, UserId,
};
use steward::llm::ChatMessage;

use crate::dispatch::{fixture_config, reply_text, Fixture};

const STEWARD: &str = "steward-user";
const HELP: &str = "902";
const GENERAL: &str = "901";
const QUESTION: &str = "How do I rotate the relay keys?";

/// A router with the Discord adapter's capabilities and Steward's user registered. The
/// channels stay out of the knowledge base: a conversation indexed in the background while a
/// question is answered would turn the model's answer into a quoted one.
async fn fixture() -> Fixture {
    let f = fixture_config(Ok("Restart the relay."), |config| {
        config.knowledge.exclude_channels = vec![HELP.into(), GENERAL.into()];
    })
    .await;
    f.router
        .register_self(Platform::Discord, UserId::new(STEWARD));
    f
}

fn discord(channel: &str) -> Location {
    Location {
        platform: Platform::Discord,
        community: CommunityId::new("900"),
        channel: ChannelId::new(channel),
        thread: None,
    }
}

fn person(id: &str, role: Role, is_bot: bool) -> Author {
    Author {
        id: UserId::new(id),
        display_name: id.to_uppercase(),
        role,
        is_bot,
    }
}

fn member(id: &str) -> Author {
    person(id, Role::Member, false)
}

fn steward() -> Author {
    person(STEWARD, Role::Member, true)
}

fn said(at: &Location, id: &str, author: Author, text: &str, reply_to: Option<&str>) -> Event {
    Event::now(EventKind::MessagePosted(Message {
        id: MessageId::new(id),
        location: at.clone(),
        author,
        text: text.into(),
        created_at: SystemTime::now(),
        reply_to: reply_to.map(MessageId::new),
        mentions_bot: false,
        replies_to_bot: false,
    }))
}

fn setting(role: Role, value: Option<&str>) -> Event {
    Event::now(EventKind::CommandInvoked {
        location: discord(HELP),
        invoker: person(if role.can_moderate() { "mod" } else { "eve" }, role, false),
        command: Command::Setting {
            key: Some("answer_mode".into()),
            value: value.map(str::to_string),
        },
        message: None,
    })
}

fn reacted(at: &Location, message: &str, user: &str, emoji: &str) -> Event {
    Event::now(EventKind::ReactionAdded(Reaction {
        location: at.clone(),
        message: MessageId::new(message),
        user: UserId::new(user),
        emoji: emoji.into(),
    }))
}

async fn text_of(body: Body) -> String {
    match body {
        Body::Text(text) => text,
        Body::Streaming(stream) => stream.collect_text().await.0,
    }
}

/// The single answer in `actions`, which opens a thread: (message, thread name, text).
async fn in_new_thread(mut actions: Vec<Action>) -> (MessageId, String, String) {
    assert_eq!(actions.len(), 1, "{actions:?}");
    match actions.remove(0) {
        Action::ReplyInThread {
            location,
            message,
            thread_name,
            body,
        } => {
            assert_eq!(location, discord(HELP));
            (message, thread_name, text_of(body).await)
        }
        other => panic!("expected an answer in a new thread, got {other:?}"),
    }
}

async fn make_help_channel(f: &Fixture) {
    let done = reply_text(
        f.router
            .handle(setting(Role::Moderator, Some("help")))
            .await,
    )
    .await;
    assert!(
        done.starts_with("Done: this channel (902) is now a help channel."),
        "{done}"
    );
}

#[tokio::test]
async fn only_moderators_make_a_help_channel() {
    let f = fixture().await;
    let refused = reply_text(f.router.handle(setting(Role::Member, Some("help"))).await).await;
    assert_eq!(refused, "Sorry, only moderators can use that command.");
    // Nothing changed: a question there still needs a mention.
    let question = said(&discord(HELP), "1001", member("ana"), QUESTION, None);
    assert!(f.router.handle(question).await.is_empty());
    assert!(f.engine.seen.lock().unwrap().is_empty());

    make_help_channel(&f).await;
    let shown = reply_text(f.router.handle(setting(Role::Moderator, None)).await).await;
    assert_eq!(shown, "answer_mode = help (this channel)");
    let listed = reply_text(
        f.router
            .handle(Event::now(EventKind::CommandInvoked {
                location: discord(HELP),
                invoker: person("mod", Role::Moderator, false),
                command: Command::Setting {
                    key: None,
                    value: None,
                },
                message: None,
            }))
            .await,
    )
    .await;
    assert!(
        listed.contains("- answer_mode = help (mention | help)"),
        "{listed}"
    );

    // `mention` makes it an ordinary channel again.
    let back = reply_text(
        f.router
            .handle(setting(Role::Moderator, Some("mention")))
            .await,
    )
    .await;
    assert!(back.starts_with("Done: in this channel (902)"), "{back}");
    let question = said(&discord(HELP), "1002", member("ana"), QUESTION, None);
    assert!(f.router.handle(question).await.is_empty());
}

#[tokio::test]
async fn new_questions_in_a_help_channel_are_answered_in_a_thread_without_a_mention() {
    let f = fixture().await;
    make_help_channel(&f).await;
    let help = discord(HELP);

    let question = said(&help, "1001", member("ana"), QUESTION, None);
    let (message, name, text) = in_new_thread(f.router.handle(question).await).await;
    assert_eq!(message, MessageId::new("1001"));
    assert_eq!(name, QUESTION);
    assert_eq!(text, "Restart the relay.");
    assert_eq!(
        f.engine.seen.lock().unwrap()[0].messages,
        [ChatMessage::user(QUESTION)]
    );

    // A forum post is a thread already: answered in it, as a reply to the post.
    let forum_post = help.in_thread(ThreadId::new("1005"));
    let mut actions = f
        .router
        .handle(said(&forum_post, "1005", member("bo"), QUESTION, None))
        .await;
    assert_eq!(actions.len(), 1, "{actions:?}");
    match actions.remove(0) {
        Action::Reply(reply) => {
            assert_eq!(reply.location, forum_post);
            assert_eq!(reply.in_reply_to, Some(MessageId::new("1005")));
        }
        other => panic!("expected a reply in the forum post, got {other:?}"),
    }

    // Not answered: the same question elsewhere, a short remark, a reply to a member, a
    // message in someone's thread, another bot, Steward itself (even unflagged as a bot).
    let unanswered = [
        said(&discord(GENERAL), "1101", member("cy"), QUESTION, None),
        said(&help, "1102", member("cy"), "thanks everyone!", None),
        said(&help, "1103", member("cy"), QUESTION, Some("1001")),
        said(&forum_post, "1104", member("cy"), QUESTION, None),
        said(
            &help,
            "1105",
            person("otherbot", Role::Member, true),
            QUESTION,
            None,
        ),
        said(
            &help,
            "1106",
            person(STEWARD, Role::Member, false),
            QUESTION,
            None,
        ),
    ];
    for event in unanswered {
        let shown = format!("{event:?}");
        let actions = f.router.handle(event).await;
        assert!(actions.is_empty(), "{shown}: {actions:?}");
    }
    assert_eq!(f.engine.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_follow_up_in_the_answers_thread_needs_no_mention() {
    let f = fixture().await;
    make_help_channel(&f).await;
    let help = discord(HELP);
    in_new_thread(
        f.router
            .handle(said(&help, "1001", member("ana"), QUESTION, None))
            .await,
    )
    .await;
    // Discord echoes Steward's answer, posted in the thread opened on the question.
    let thread = help.in_thread(ThreadId::new("1001"));
    let answer = said(&thread, "2001", steward(), "Restart the relay.", None);
    assert!(f.router.handle(answer).await.is_empty());

    let follow_up = said(&thread, "1002", member("ana"), "and the mirror too?", None);
    let text = reply_text(f.router.handle(follow_up).await).await;
    assert_eq!(text, "Restart the relay.");
    let seen = f.engine.seen.lock().unwrap();
    assert_eq!(
        seen.last().unwrap().messages,
        [
            ChatMessage::user(QUESTION),
            ChatMessage::assistant("Restart the relay."),
            ChatMessage::user("and the mirror too?"),
        ]
    );
}

#[tokio::test]
async fn the_asker_takes_an_answer_back_with_a_reaction() {
    let f = fixture().await;
    make_help_channel(&f).await;
    let help = discord(HELP);
    in_new_thread(
        f.router
            .handle(said(&help, "1001", member("ana"), QUESTION, None))
            .await,
    )
    .await;
    let thread = help.in_thread(ThreadId::new("1001"));
    let answer = said(&thread, "2001", steward(), "Restart the relay.", None);
    assert!(f.router.handle(answer).await.is_empty());

    // Someone else's 🙅, Steward's own, and the asker's 👍 take nothing back.
    for (user, emoji) in [("bo", "🙅"), (STEWARD, "🙅"), ("ana", "👍")] {
        let actions = f.router.handle(reacted(&thread, "2001", user, emoji)).await;
        assert!(actions.is_empty(), "{user} {emoji}: {actions:?}");
    }
    // The asker's 🙅 (any variant) deletes the answer.
    let mut actions = f
        .router
        .handle(reacted(
            &thread,
            "2001",
            "ana",
            "🙅\u{200D}\u{2640}\u{FE0F}",
        ))
        .await;
    assert_eq!(actions.len(), 1, "{actions:?}");
    match actions.remove(0) {
        Action::DeleteMessage {
            location,
            message,
            decided_by,
            ..
        } => {
            assert_eq!(location, thread);
            assert_eq!(message, MessageId::new("2001"));
            assert_eq!(decided_by, None, "Steward deletes its own message");
        }
        other => panic!("expected the answer deleted, got {other:?}"),
    }

    // The same for an answer that replies to a mention elsewhere, with ❌.
    let general = discord(GENERAL);
    let mention = said(
        &general,
        "1201",
        member("cy"),
        "@steward how do I pin a crate?",
        None,
    );
    assert_eq!(f.router.handle(mention).await.len(), 1);
    let reply = said(
        &general,
        "2002",
        steward(),
        "Pin it in Cargo.toml.",
        Some("1201"),
    );
    assert!(f.router.handle(reply).await.is_empty());
    let actions = f.router.handle(reacted(&general, "2002", "cy", "❌")).await;
    assert!(
        matches!(&actions[..], [Action::DeleteMessage { message, .. }] if message.as_str() == "2002"),
        "{actions:?}"
    );
}

/// The message ids of the deletions in `actions`, and whether there was anything else.
fn deleted(actions: &[Action]) -> (Vec<&str>, bool) {
    let ids = actions
        .iter()
        .filter_map(|action| match action {
            Action::DeleteMessage {
                message,
                decided_by: None,
                ..
            } => Some(message.as_str()),
            _ => None,
        })
        .collect();
    let other = actions
        .iter()
        .any(|action| !matches!(action, Action::DeleteMessage { .. }));
    (ids, other)
}

#[tokio::test]
async fn the_asker_opts_their_own_post_out_before_or_after_the_answer() {
    let f = fixture().await;
    make_help_channel(&f).await;
    let help = discord(HELP);
    in_new_thread(
        f.router
            .handle(said(&help, "1001", member("ana"), QUESTION, None))
            .await,
    )
    .await;
    let thread = help.in_thread(ThreadId::new("1001"));
    let answer = said(&thread, "2001", steward(), "Restart the relay.", None);
    assert!(f.router.handle(answer).await.is_empty());

    // Steward's answer to someone else's follow-up in the thread is not the asker's to take
    // back.
    f.router
        .handle(said(&thread, "1005", member("bo"), "and the mirror?", None))
        .await;
    let to_bo = said(&thread, "2005", steward(), "Restart it too.", Some("1005"));
    assert!(f.router.handle(to_bo).await.is_empty());

    // Someone else's 🙅 on the post, or the asker's 👍, takes nothing back.
    for (user, emoji) in [("bo", "🙅"), ("ana", "👍")] {
        let actions = f.router.handle(reacted(&help, "1001", user, emoji)).await;
        assert!(actions.is_empty(), "{user} {emoji}: {actions:?}");
    }
    // The asker's 🙅 on their own post deletes Steward's answer in its thread.
    let actions = f.router.handle(reacted(&help, "1001", "ana", "🙅")).await;
    assert_eq!(deleted(&actions), (vec!["2001"], false), "{actions:?}");

    // A post withdrawn while its answer is being written: nothing is posted yet to delete,
    // and the answer goes as soon as Steward sees it posted.
    let question = "Why does the relay drop idle peers?";
    in_new_thread(
        f.router
            .handle(said(&help, "1002", member("cy"), question, None))
            .await,
    )
    .await;
    let actions = f.router.handle(reacted(&help, "1002", "cy", "❌")).await;
    assert!(actions.is_empty(), "{actions:?}");
    let thread = help.in_thread(ThreadId::new("1002"));
    let late = said(&thread, "2002", steward(), "Restart the relay.", None);
    let actions = f.router.handle(late).await;
    assert_eq!(deleted(&actions), (vec!["2002"], false), "{actions:?}");
    // Steward's answers to posts nobody withdrew stay.
    let other = help.in_thread(ThreadId::new("1003"));
    let kept = said(&other, "2003", steward(), "Restart the relay.", None);
    assert!(f.router.handle(kept).await.is_empty());
}
