//! Unit tests of grouping messages into conversations and of which conversations qualify.

use super::*;
use crate::core::ThreadId;
use std::time::{Duration, UNIX_EPOCH};

fn location(channel: &str, thread: Option<&str>) -> Location {
    Location {
        platform: Platform::Discord,
        community: CommunityId::new("g"),
        channel: ChannelId::new(channel),
        thread: thread.map(ThreadId::new),
    }
}

fn link(id: &str, channel: &str, thread: Option<&str>, reply_to: Option<&str>) -> MessageLink {
    MessageLink {
        id: MessageId::new(id),
        location: location(channel, thread),
        reply_to: reply_to.map(MessageId::new),
        member: true,
    }
}

fn roots(links: &[MessageLink]) -> Vec<String> {
    conversations(links)
        .into_iter()
        .map(|key| format!("{}/{}", key.channel, key.root))
        .collect()
}

#[test]
fn messages_gather_into_threads_and_reply_chains() {
    let links = [
        // A question and two levels of replies.
        link("q", "help", None, None),
        link("a", "help", None, Some("q")),
        link("b", "help", None, Some("a")),
        // A thread started from message t: the starter and its thread's messages.
        link("t", "help", None, None),
        link("t1", "help", Some("t"), None),
        link("t2", "help", Some("t"), Some("t1")),
        // Replies to a message Steward never recorded.
        link("r1", "help", None, Some("old")),
        link("r2", "help", None, Some("old")),
        // A lone message, and a reply across channels (starts its own conversation).
        link("lone", "help", None, None),
        link("x", "other", None, Some("q")),
    ];
    assert_eq!(roots(&links), ["help/q", "help/t", "help/old"]);
    let path = conversations(&links)[0].path();
    assert_eq!(path, "messages/discord/help/q");
}

#[test]
fn bots_and_deleted_messages_count_for_the_walk_only() {
    let mut answer = link("a", "help", None, Some("q"));
    answer.member = false;
    let links = [
        link("q", "help", None, None),
        answer,
        link("b", "help", None, Some("a")),
    ];
    // q and b are both members' messages of q's conversation, through a's chain.
    assert_eq!(roots(&links), ["help/q"]);
}

fn message(id: &str, author: &str, text: &str, minute: u64) -> ConversationMessage {
    ConversationMessage {
        id: MessageId::new(id),
        location: location("help", None),
        author: UserId::new(author),
        author_name: author.to_uppercase(),
        author_is_bot: false,
        text: text.into(),
        reply_to: None,
        created_at: UNIX_EPOCH + Duration::from_secs(60 * minute),
        deleted: false,
    }
}

#[test]
fn a_conversation_needs_two_members_or_a_vouch() {
    let none = |_: &Location| false;
    let question = message("q", "ana", "How do I pin a crate?\nI tried.", 1);
    let answer = message("a", "bo", "Use `=1.2.3` in Cargo.toml.", 2);
    let alone = [question.clone(), message("q2", "ana", "Anyone?", 2)];
    assert_eq!(prepare(&alone, (false, false), &[], none), None);
    let solved = prepare(&alone, (true, false), &[], none).expect("a solved one qualifies");
    assert!(solved.source.solved);

    let both = [question.clone(), answer.clone()];
    let prepared = prepare(&both, (false, false), &[], none).expect("two members");
    assert_eq!(prepared.section.heading, ["How do I pin a crate?"]);
    assert_eq!(
        prepared.section.text,
        "ANA: How do I pin a crate?\nI tried.\n\nBO: Use `=1.2.3` in Cargo.toml."
    );
    assert_eq!(prepared.source.message.as_str(), "q");
    assert_eq!(prepared.asker.as_str(), "ana");
    assert_eq!(prepared.messages, 2);

    // A deleted, a bot's or an excluded message does not count, and the link moves on.
    let mut deleted = question.clone();
    deleted.deleted = true;
    let mut bot = message("s", "steward", "I don't know.", 3);
    bot.author_is_bot = true;
    let third = message("c", "cy", "Or a lock file.", 4);
    let rest = [deleted, answer.clone(), bot, third.clone()];
    // Without its question, two members' remarks are not worth citing unless vouched for.
    assert_eq!(prepare(&rest, (false, false), &[], none), None);
    let prepared = prepare(&rest, (false, true), &[], none).expect("marked");
    assert_eq!(prepared.source.message.as_str(), "a");
    assert!(!prepared.section.text.contains("pin a crate"));
    assert!(!prepared.section.text.contains("I don't know"));

    // Chatter, a "+1" and an unanswered question are not indexed.
    let chatter = [
        message("f", "ivo", "happy friday folks 🎉", 1),
        message("g", "jun", "deploying on a friday, what could go wrong", 2),
    ];
    assert_eq!(prepare(&chatter, (false, false), &[], none), None);
    let plus_one = [
        message("h", "eli", "does it have shell completions?", 1),
        message("i", "mo", "+1", 2),
        message("j", "eli", "bump, anyone?", 3),
    ];
    assert_eq!(prepare(&plus_one, (false, false), &[], none), None);
    let chinese = [
        message("k", "lin", "qnctl 有没有自动补全", 1),
        message("l", "wei", "有的，运行 qnctl completion bash 就行", 2),
    ];
    assert!(prepare(&chinese, (false, false), &[], none).is_some());
    let excluded = |l: &Location| l.channel.as_str() == "help";
    assert_eq!(prepare(&both, (false, true), &[], excluded), None);

    // The same positive emoji twice on another member's answer endorses it (two members
    // put it there); on the asker's own message, one reaction, or two different emoji (the
    // answer's author may have put both) do not.
    let remark = [
        message("m", "ana", "Tip: cargo update -p foo pins one crate", 1),
        message("n", "bo", "nice", 2),
    ];
    assert_eq!(prepare(&remark, (false, false), &[], none), None);
    let on = |id: &str, emoji: &str, count: u32| (MessageId::new(id), emoji.to_string(), count);
    let asker_liked = [on("m", "👍", 5)];
    assert_eq!(prepare(&remark, (false, false), &asker_liked, none), None);
    let one = [on("n", "👍", 1), on("n", "😂", 3)];
    assert_eq!(prepare(&remark, (false, false), &one, none), None);
    let different = [on("n", "👍🏽", 1), on("n", "❤\u{fe0f}", 1)];
    assert_eq!(prepare(&remark, (false, false), &different, none), None);
    let two = [on("n", "❤\u{fe0f}", 2)];
    let endorsed = prepare(&remark, (false, false), &two, none).expect("endorsed");
    assert!(endorsed.source.endorsed && endorsed.source.vouched());
    assert!(
        !prepare(&both, (false, false), &[], none)
            .unwrap()
            .source
            .endorsed
    );

    // The hash follows the text.
    let edited = [question, message("a", "bo", "Use a lock file.", 2)];
    let other = prepare(&edited, (false, false), &[], none).unwrap();
    assert_ne!(
        other.sha256,
        prepare(&both, (false, false), &[], none).unwrap().sha256
    );
}
