//! The store suite's case for community conversations as knowledge sources (run by
//! `store_suite::run_suite` on every backend): a conversation's messages gathered (replies,
//! threads, bots' messages flagged, deleted ones left out), a conversation document stored
//! with its source row, candidates carrying the source by full text and by id, vouches that
//! only add flags, and removal taking document and row together.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use steward::core::{
    Author, ChannelId, CommunityId, Location, Message, MessageId, Platform, Role, ThreadId, UserId,
};
use steward::knowledge::{MessageSource, NewDocument, NewPassage, Stored};
use steward::store::Store;

fn at(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + millis)
}

fn place(channel: &str, thread: Option<&str>) -> Location {
    Location {
        platform: Platform::Discord,
        community: CommunityId::new("conv-community"),
        channel: ChannelId::new(channel),
        thread: thread.map(ThreadId::new),
    }
}

/// Records message `id` by `author` (a bot when `is_bot`) at `location`.
async fn post(
    store: &Store,
    (id, location): (&str, &Location),
    (author, is_bot): (&str, bool),
    reply_to: Option<&str>,
    created_ms: u64,
) {
    let message = Message {
        id: MessageId::new(id),
        location: location.clone(),
        author: Author {
            id: UserId::new(author),
            display_name: author.to_uppercase(),
            role: Role::Member,
            is_bot,
        },
        text: format!("message {id}"),
        created_at: at(created_ms),
        reply_to: reply_to.map(MessageId::new),
        mentions_bot: false,
        replies_to_bot: false,
    };
    store.record_message(&message).await.unwrap();
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &MessageId) -> Vec<&str> {
    items.iter().map(|item| id(item).as_str()).collect()
}

fn document(path: &str, sha256: &str, heading: &str, terms: &[&str]) -> NewDocument {
    NewDocument {
        path: path.into(),
        scope: "discord:conv-community".into(),
        sha256: sha256.into(),
        passages: vec![NewPassage {
            ordinal: 0,
            heading: heading.into(),
            text: format!("ANA: {heading}?\n\nBO: like this."),
            terms: terms.iter().map(|term| term.to_string()).collect(),
        }],
    }
}

pub async fn kb_conversations(store: &Store) {
    let help = place("conv-help", None);
    let discord = Platform::Discord;
    let channel = ChannelId::new("conv-help");
    let q = MessageId::new("conv-q");

    // A question, an answer to it, Steward's reply, a reply to the answer (deleted later), a
    // reply from another channel, and a thread (its root never recorded).
    post(store, ("conv-q", &help), ("ana", false), None, 1).await;
    post(store, ("conv-a", &help), ("bo", false), Some("conv-q"), 2).await;
    post(
        store,
        ("conv-s", &help),
        ("steward", true),
        Some("conv-q"),
        3,
    )
    .await;
    post(store, ("conv-b", &help), ("cy", false), Some("conv-a"), 4).await;
    let other = place("conv-other", None);
    post(store, ("conv-x", &other), ("cy", false), Some("conv-q"), 5).await;
    let thread = place("conv-help", Some("conv-t"));
    post(store, ("conv-t1", &thread), ("ana", false), None, 6).await;
    post(
        store,
        ("conv-t2", &thread),
        ("bo", false),
        Some("conv-t1"),
        7,
    )
    .await;
    assert!(store
        .delete_message(discord, &MessageId::new("conv-b"), at(8))
        .await
        .unwrap());

    let found = store
        .conversation_messages(discord, &channel, &q, 10)
        .await
        .unwrap();
    assert_eq!(
        ids(&found, |m| &m.id),
        ["conv-q", "conv-a", "conv-s"],
        "a deleted message (its text gone) is left out"
    );
    assert_eq!(found[0].author_name, "ANA");
    assert_eq!(found[0].text, "message conv-q");
    assert_eq!(found[0].location, help);
    assert!(found[2].author_is_bot && !found[1].author_is_bot);
    assert!(found.iter().all(|m| !m.deleted));
    assert_eq!(found[1].reply_to.as_ref(), Some(&q));
    // Depth: 0 levels is the root alone, 1 level leaves out the reply to the reply.
    let root_only = store
        .conversation_messages(discord, &channel, &q, 0)
        .await
        .unwrap();
    assert_eq!(ids(&root_only, |m| &m.id), ["conv-q"]);
    let one_level = store
        .conversation_messages(discord, &channel, &q, 1)
        .await
        .unwrap();
    assert_eq!(ids(&one_level, |m| &m.id), ["conv-q", "conv-a", "conv-s"]);
    // A thread's messages, its root unrecorded.
    let in_thread = store
        .conversation_messages(discord, &channel, &MessageId::new("conv-t"), 10)
        .await
        .unwrap();
    assert_eq!(ids(&in_thread, |m| &m.id), ["conv-t1", "conv-t2"]);
    assert_eq!(in_thread[0].location, thread);

    // The reactions on a conversation's messages; not those of another conversation, nor of
    // the deleted message.
    for (id, emoji) in [
        ("conv-a", "👍"),
        ("conv-a", "👍"),
        ("conv-a", "🎉"),
        ("conv-q", "😂"),
        ("conv-x", "👍"),
        ("conv-b", "👍"),
        ("conv-t2", "❤️"),
    ] {
        store
            .count_reaction(discord, &MessageId::new(id), emoji, true)
            .await
            .unwrap();
    }
    let reactions = store
        .conversation_reactions(discord, &channel, &q, 10)
        .await
        .unwrap();
    let counts: Vec<(&str, &str, u32)> = reactions
        .iter()
        .map(|(id, emoji, count)| (id.as_str(), emoji.as_str(), *count))
        .collect();
    assert_eq!(
        counts,
        [
            ("conv-a", "🎉", 1),
            ("conv-a", "👍", 2),
            ("conv-q", "😂", 1)
        ]
    );
    let in_thread = store
        .conversation_reactions(discord, &channel, &MessageId::new("conv-t"), 10)
        .await
        .unwrap();
    assert_eq!(in_thread.len(), 1, "{in_thread:?}");

    // Every message's place, members' flagged.
    let community = CommunityId::new("conv-community");
    let links = store
        .message_links(Some((discord, &community)))
        .await
        .unwrap();
    assert_eq!(
        ids(&links, |link| &link.id),
        ["conv-q", "conv-a", "conv-s", "conv-b", "conv-x", "conv-t1", "conv-t2"]
    );
    let members: Vec<bool> = links.iter().map(|link| link.member).collect();
    assert_eq!(members, [true, true, false, false, true, true, true]);
    assert_eq!(links[4].location, other);
    let all = store.message_links(None).await.unwrap();
    assert!(all.len() >= links.len() && all.iter().any(|l| l.id.as_str() == "conv-t2"));

    // A conversation document and its source: candidates carry the source.
    let (scope, path) = (
        "discord:conv-community",
        "messages/discord/conv-help/conv-q",
    );
    let source = MessageSource {
        location: help.clone(),
        message: q.clone(),
        solved: false,
        marked: false,
        endorsed: false,
    };
    let first = document(path, "conv-1", "Zebra keys", &["zebrakey", "rotat"]);
    assert_eq!(
        store
            .kb_store_conversation(&first, &q, &source, at(10))
            .await
            .unwrap(),
        Stored::Added
    );
    // An owner's document in the same community: no source.
    let owner = NewDocument {
        path: "conv/owner.md".into(),
        ..document("", "conv-owner", "Zebra owner", &["zebrakey"])
    };
    store.kb_store_document(&owner, at(10)).await.unwrap();
    let candidates = store
        .kb_candidates(&["zebrakey".to_string()], scope, 10)
        .await
        .unwrap();
    assert_eq!(candidates.len(), 2, "{candidates:?}");
    let conversation = candidates.iter().find(|c| c.path == path).unwrap();
    assert_eq!(conversation.source.as_ref(), Some(&source));
    let from_file = candidates
        .iter()
        .find(|c| c.path == "conv/owner.md")
        .unwrap();
    assert_eq!(from_file.source, None);
    let by_id = store
        .kb_passages_by_id(&[conversation.id, from_file.id], scope)
        .await
        .unwrap();
    assert_eq!(by_id[0].source.as_ref(), Some(&source));
    assert_eq!(by_id[1].source, None);
    assert_eq!(
        store.kb_conversation_source(scope, path).await.unwrap(),
        Some(source.clone())
    );
    // Another community never sees it.
    assert!(store
        .kb_candidates(&["rotat".to_string()], "discord:conv-elsewhere", 10)
        .await
        .unwrap()
        .is_empty());

    // A vouch adds its flag and keeps the link; storing again moves the link and keeps the
    // flag (an unchanged text changes no passage).
    let answer = MessageId::new("conv-a");
    let solved = MessageSource {
        message: answer.clone(),
        solved: true,
        ..source.clone()
    };
    store
        .kb_vouch_conversation((scope, path), &q, &solved, at(11))
        .await
        .unwrap();
    let vouched = store.kb_conversation_source(scope, path).await.unwrap();
    assert_eq!(
        vouched,
        Some(MessageSource {
            solved: true,
            ..source.clone()
        })
    );
    let moved = MessageSource {
        message: answer.clone(),
        ..source.clone()
    };
    assert_eq!(
        store
            .kb_store_conversation(&first, &q, &moved, at(12))
            .await
            .unwrap(),
        Stored::Unchanged
    );
    let expected = MessageSource {
        message: answer.clone(),
        solved: true,
        ..source.clone()
    };
    let candidates = store
        .kb_candidates(&["rotat".to_string()], scope, 10)
        .await
        .unwrap();
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0].source.as_ref(), Some(&expected));
    assert!(candidates[0].source.as_ref().unwrap().vouched());

    // Indexing sets `endorsed` from the reactions as they stand, and clears it; a vouch
    // leaves it as it is.
    let endorsed = MessageSource {
        endorsed: true,
        ..moved.clone()
    };
    store
        .kb_store_conversation(&first, &q, &endorsed, at(12))
        .await
        .unwrap();
    store
        .kb_vouch_conversation((scope, path), &q, &solved, at(12))
        .await
        .unwrap();
    assert_eq!(
        store.kb_conversation_source(scope, path).await.unwrap(),
        Some(MessageSource {
            endorsed: true,
            ..expected.clone()
        })
    );
    store
        .kb_store_conversation(&first, &q, &moved, at(12))
        .await
        .unwrap();
    assert_eq!(
        store.kb_conversation_source(scope, path).await.unwrap(),
        Some(expected.clone())
    );

    // A changed text replaces the passages; the source row stays.
    let second = document(path, "conv-2", "Zebra keys", &["zebrakey", "renew"]);
    assert_eq!(
        store
            .kb_store_conversation(&second, &q, &moved, at(13))
            .await
            .unwrap(),
        Stored::Replaced
    );
    assert!(store
        .kb_candidates(&["rotat".to_string()], scope, 10)
        .await
        .unwrap()
        .is_empty());
    let renewed = store
        .kb_candidates(&["renew".to_string()], scope, 10)
        .await
        .unwrap();
    assert_eq!(renewed[0].source.as_ref(), Some(&expected));

    // Removal takes the document and its source row.
    assert!(store.kb_remove_conversation(scope, path).await.unwrap());
    assert!(!store.kb_remove_conversation(scope, path).await.unwrap());
    assert_eq!(
        store.kb_conversation_source(scope, path).await.unwrap(),
        None
    );
    let left = store
        .kb_candidates(&["zebrakey".to_string()], scope, 10)
        .await
        .unwrap();
    assert_eq!(
        left.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(),
        ["conv/owner.md"]
    );

    // A vouch before any indexing leaves a row alone, which removal clears too.
    let thread_path = "messages/discord/conv-help/conv-t";
    let marked = MessageSource {
        location: thread.clone(),
        message: MessageId::new("conv-t1"),
        solved: false,
        marked: true,
        endorsed: false,
    };
    store
        .kb_vouch_conversation(
            (scope, thread_path),
            &MessageId::new("conv-t"),
            &marked,
            at(14),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .kb_conversation_source(scope, thread_path)
            .await
            .unwrap(),
        Some(marked)
    );
    assert!(!store
        .kb_remove_conversation(scope, thread_path)
        .await
        .unwrap());
    assert_eq!(
        store
            .kb_conversation_source(scope, thread_path)
            .await
            .unwrap(),
        None
    );
    assert!(store
        .kb_remove_document(scope, "conv/owner.md")
        .await
        .unwrap());
}
