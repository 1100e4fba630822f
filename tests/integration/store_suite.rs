//! The store suite: behaviours every backend must have, as async functions over a `&Store`.
//! `run_suite` runs them all; `tests/store.rs` calls it once per backend.
//!
//! Cases share one database per backend, so each case uses ids of its own.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use steward::core::{
    Author, ChannelId, CommunityId, Location, Message, MessageId, Platform, Role, ThreadId, UserId,
};
use steward::store::{NewCase, Store, StoredMessage};

// ---------------------------------------------------------------------------------------------
// Builders

fn at(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + millis)
}

fn location(case: &str, channel: &str) -> Location {
    Location {
        platform: Platform::Discord,
        community: CommunityId::new(format!("{case}-community")),
        channel: ChannelId::new(format!("{case}-{channel}")),
        thread: None,
    }
}

fn author(id: &str, name: &str) -> Author {
    Author {
        id: UserId::new(id),
        display_name: name.into(),
        role: Role::Member,
        is_bot: false,
    }
}

fn message(id: &str, location: &Location, text: &str, created_ms: u64) -> Message {
    Message {
        id: MessageId::new(id),
        location: location.clone(),
        author: author("alice", "Alice"),
        text: text.into(),
        created_at: at(created_ms),
        reply_to: None,
        mentions_bot: false,
        replies_to_bot: false,
    }
}

fn texts(messages: &[StoredMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.text.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// The suite

pub async fn run_suite(store: &Store) {
    async fn case<F: Future<Output = ()>>(name: &str, body: F) {
        let started = Instant::now();
        body.await;
        eprintln!("  ok {name} ({:?})", started.elapsed());
    }
    case("migrations_applied", migrations_applied(store)).await;
    case("record_and_read_back", record_and_read_back(store)).await;
    case("record_is_idempotent", record_is_idempotent(store)).await;
    case("edit", edit(store)).await;
    case("soft_delete", soft_delete(store)).await;
    case("recent_messages", recent_messages(store)).await;
    case("settings", settings(store)).await;
    case("users_and_names", users_and_names(store)).await;
    case("moderation_cases", moderation_cases(store)).await;
}

async fn migrations_applied(store: &Store) {
    assert_eq!(store.applied_migrations().await.unwrap(), vec![1, 2]);
}

async fn record_and_read_back(store: &Store) {
    let place = location("read", "general").in_thread(ThreadId::new("read-thread"));
    let mut posted = message("read-1", &place, "hello **world**", 5);
    posted.created_at += Duration::from_micros(250); // below the stored precision
    posted.reply_to = Some(MessageId::new("read-0"));

    assert!(store.record_message(&posted).await.unwrap());
    let stored = store
        .message(Platform::Discord, &posted.id)
        .await
        .unwrap()
        .expect("the recorded message is stored");
    assert_eq!(stored.id, posted.id);
    assert_eq!(stored.location, place);
    assert_eq!(stored.author, UserId::new("alice"));
    assert_eq!(stored.author_name, "Alice");
    assert_eq!(stored.text, "hello **world**");
    assert_eq!(stored.reply_to, Some(MessageId::new("read-0")));
    assert_eq!(stored.created_at, at(5));
    assert_eq!((stored.edited_at, stored.deleted_at), (None, None));

    // Same id on another platform: a different message.
    assert_eq!(
        store.message(Platform::Matrix, &posted.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .message(Platform::Discord, &MessageId::new("read-x"))
            .await
            .unwrap(),
        None
    );
}

async fn record_is_idempotent(store: &Store) {
    let place = location("idem", "general");
    let first = message("idem-1", &place, "first", 1);
    assert!(store.record_message(&first).await.unwrap());
    let again = message("idem-1", &place, "replayed", 2);
    assert!(!store.record_message(&again).await.unwrap());

    let stored = store
        .message(Platform::Discord, &first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.text.as_str(), stored.created_at), ("first", at(1)));
    assert_eq!(
        texts(&store.recent_messages(&place, 10).await.unwrap()),
        ["first"]
    );
}

async fn edit(store: &Store) {
    let place = location("edit", "general");
    store
        .record_message(&message("edit-1", &place, "typo", 1))
        .await
        .unwrap();
    let id = MessageId::new("edit-1");

    assert!(store
        .edit_message(Platform::Discord, &id, "fixed", at(60))
        .await
        .unwrap());
    let stored = store
        .message(Platform::Discord, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.text, "fixed");
    assert_eq!(stored.edited_at, Some(at(60)));
    assert_eq!(stored.created_at, at(1));

    let unknown = MessageId::new("edit-unknown");
    assert!(!store
        .edit_message(Platform::Discord, &unknown, "x", at(61))
        .await
        .unwrap());
}

async fn soft_delete(store: &Store) {
    let place = location("delete", "general");
    for (id, text, ms) in [("delete-1", "kept", 1), ("delete-2", "gone", 2)] {
        store
            .record_message(&message(id, &place, text, ms))
            .await
            .unwrap();
    }
    let id = MessageId::new("delete-2");

    assert!(store
        .delete_message(Platform::Discord, &id, at(100))
        .await
        .unwrap());
    assert_eq!(
        texts(&store.recent_messages(&place, 10).await.unwrap()),
        ["kept"]
    );

    let stored = store
        .message(Platform::Discord, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.text, "gone", "a deleted message keeps its text");
    assert_eq!(stored.deleted_at, Some(at(100)));
    assert!(stored.is_deleted());

    // Deleting again keeps the first time; unknown messages report false.
    assert!(store
        .delete_message(Platform::Discord, &id, at(200))
        .await
        .unwrap());
    let stored = store
        .message(Platform::Discord, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.deleted_at, Some(at(100)));
    let unknown = MessageId::new("delete-unknown");
    assert!(!store
        .delete_message(Platform::Discord, &unknown, at(1))
        .await
        .unwrap());
}

async fn recent_messages(store: &Store) {
    let channel = location("recent", "general");
    let thread = channel.in_thread(ThreadId::new("recent-thread"));
    let other_thread = channel.in_thread(ThreadId::new("recent-other-thread"));
    let other_channel = location("recent", "random");

    // Recorded out of order: ordering comes from created_at.
    for (id, place, ms) in [
        ("recent-c3", &channel, 30),
        ("recent-c1", &channel, 10),
        ("recent-t1", &thread, 15),
        ("recent-c5", &channel, 50),
        ("recent-c2", &channel, 20),
        ("recent-t2", &thread, 25),
        ("recent-o1", &other_thread, 35),
        ("recent-c4", &channel, 40),
        ("recent-r1", &other_channel, 45),
    ] {
        store
            .record_message(&message(id, place, id, ms))
            .await
            .unwrap();
    }

    let last3 = store.recent_messages(&channel, 3).await.unwrap();
    assert_eq!(texts(&last3), ["recent-o1", "recent-c4", "recent-c5"]);
    let all = store.recent_messages(&channel, 100).await.unwrap();
    assert_eq!(
        texts(&all),
        [
            "recent-c1",
            "recent-t1",
            "recent-c2",
            "recent-t2",
            "recent-c3",
            "recent-o1",
            "recent-c4",
            "recent-c5"
        ]
    );
    assert!(all.windows(2).all(|w| w[0].created_at <= w[1].created_at));

    let in_thread = store.recent_messages(&thread, 100).await.unwrap();
    assert_eq!(texts(&in_thread), ["recent-t1", "recent-t2"]);
    assert!(in_thread.iter().all(|m| m.location == thread));
    assert_eq!(
        texts(&store.recent_messages(&thread, 1).await.unwrap()),
        ["recent-t2"]
    );

    assert_eq!(
        texts(&store.recent_messages(&other_channel, 100).await.unwrap()),
        ["recent-r1"]
    );
    assert!(store.recent_messages(&channel, 0).await.unwrap().is_empty());
    let empty = location("recent", "empty");
    assert!(store.recent_messages(&empty, 10).await.unwrap().is_empty());
}

async fn settings(store: &Store) {
    let (p, a, b) = (
        Platform::Discord,
        CommunityId::new("settings-a"),
        CommunityId::new("settings-b"),
    );
    assert_eq!(store.setting(p, &a, "language").await.unwrap(), None);
    assert!(store.settings(p, &a).await.unwrap().is_empty());

    store.set_setting(p, &a, "language", "en").await.unwrap();
    store
        .set_setting(p, &a, "answer_channel", "42")
        .await
        .unwrap();
    store.set_setting(p, &a, "language", "de").await.unwrap(); // overwrite
    store.set_setting(p, &b, "language", "fr").await.unwrap();
    store
        .set_setting(Platform::Matrix, &a, "language", "nl")
        .await
        .unwrap();

    assert_eq!(
        store.setting(p, &a, "language").await.unwrap().as_deref(),
        Some("de")
    );
    assert_eq!(
        store.setting(p, &b, "language").await.unwrap().as_deref(),
        Some("fr")
    );
    let matrix = store
        .setting(Platform::Matrix, &a, "language")
        .await
        .unwrap();
    assert_eq!(matrix.as_deref(), Some("nl"));
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(
        store.settings(p, &a).await.unwrap(),
        [pair("answer_channel", "42"), pair("language", "de")]
    );

    assert!(store.delete_setting(p, &a, "language").await.unwrap());
    assert!(!store.delete_setting(p, &a, "language").await.unwrap());
    assert_eq!(store.setting(p, &a, "language").await.unwrap(), None);
    assert_eq!(
        store.settings(p, &a).await.unwrap(),
        [pair("answer_channel", "42")]
    );
    assert_eq!(
        store.setting(p, &b, "language").await.unwrap().as_deref(),
        Some("fr")
    );
}

async fn users_and_names(store: &Store) {
    let p = Platform::Discord;
    let place = location("names", "general");
    let mut posted = message("names-1", &place, "hi", 1);
    posted.author = author("names-bob", "Bob");
    store.record_message(&posted).await.unwrap();

    let bob = UserId::new("names-bob");
    assert_eq!(
        store.user_display_name(p, &bob).await.unwrap().as_deref(),
        Some("Bob")
    );
    // Rows created for a message have no names yet.
    assert_eq!(
        store
            .community_name(p, &place.community)
            .await
            .unwrap()
            .as_deref(),
        Some("")
    );
    assert_eq!(
        store
            .channel_name(p, &place.channel)
            .await
            .unwrap()
            .as_deref(),
        Some("")
    );

    store
        .upsert_user(p, &author("names-bob", "Robert"))
        .await
        .unwrap();
    assert_eq!(
        store.user_display_name(p, &bob).await.unwrap().as_deref(),
        Some("Robert")
    );
    let stored = store.message(p, &posted.id).await.unwrap().unwrap();
    assert_eq!(stored.author_name, "Robert");

    // Recording a message updates the author's name too.
    let mut later = message("names-2", &place, "hi again", 2);
    later.author = author("names-bob", "Bobby");
    store.record_message(&later).await.unwrap();
    assert_eq!(
        store.user_display_name(p, &bob).await.unwrap().as_deref(),
        Some("Bobby")
    );

    store
        .upsert_community(p, &place.community, "Rustaceans")
        .await
        .unwrap();
    store.upsert_channel(&place, "general").await.unwrap();
    assert_eq!(
        store
            .community_name(p, &place.community)
            .await
            .unwrap()
            .as_deref(),
        Some("Rustaceans")
    );
    assert_eq!(
        store
            .channel_name(p, &place.channel)
            .await
            .unwrap()
            .as_deref(),
        Some("general")
    );
    // A channel in a community the store has not seen yet.
    let fresh = location("names-fresh", "news");
    store.upsert_channel(&fresh, "news").await.unwrap();
    assert_eq!(
        store
            .community_name(p, &fresh.community)
            .await
            .unwrap()
            .as_deref(),
        Some("")
    );
    assert_eq!(
        store
            .user_display_name(p, &UserId::new("nobody"))
            .await
            .unwrap(),
        None
    );
}

async fn moderation_cases(store: &Store) {
    let place = location("cases", "general").in_thread(ThreadId::new("cases-thread"));
    let other = location("cases-other", "general");
    let new_case = |place: &Location, user: &str, excerpt: &str| NewCase {
        location: place.clone(),
        message: Some(MessageId::new(format!("{user}-message"))),
        user: UserId::new(user),
        excerpt: excerpt.into(),
        source: "rule".into(),
        category: "blocked_pattern".into(),
        reason: "matched `free nitro`".into(),
        automatic: "deleted".into(),
    };
    let first = store
        .open_case(&new_case(&place, "mallory", "free nitro"), at(1))
        .await
        .unwrap();
    let mut without_message = new_case(&place, "trent", "spam, spam");
    without_message.message = None;
    let second = store.open_case(&without_message, at(2)).await.unwrap();
    let foreign = store
        .open_case(&new_case(&other, "eve", "elsewhere"), at(3))
        .await
        .unwrap();
    assert!(
        first < second && second < foreign,
        "{first} {second} {foreign}"
    );

    let (p, community) = (place.platform, place.community.clone());
    let read = store.case(p, &community, first).await.unwrap().unwrap();
    assert_eq!(read.location, place);
    assert_eq!(read.message, Some(MessageId::new("mallory-message")));
    assert_eq!(
        (
            read.excerpt.as_str(),
            read.category.as_str(),
            read.automatic.as_str()
        ),
        ("free nitro", "blocked_pattern", "deleted")
    );
    assert!(read.is_open());
    assert_eq!(read.created_at, at(1));
    assert_eq!(
        store
            .case(p, &community, second)
            .await
            .unwrap()
            .unwrap()
            .message,
        None
    );
    // A community never sees another community's case.
    assert_eq!(store.case(p, &community, foreign).await.unwrap(), None);

    let open_ids = || async {
        let open = store.open_cases(p, &community, 10).await.unwrap();
        open.iter().map(|c| c.id).collect::<Vec<i64>>()
    };
    assert_eq!(
        open_ids().await,
        [second, first],
        "newest first, this community only"
    );
    assert_eq!(store.open_cases(p, &community, 1).await.unwrap().len(), 1);

    let of_message = store
        .open_case_for_message(p, &community, &MessageId::new("mallory-message"))
        .await
        .unwrap();
    assert_eq!(of_message.map(|c| c.id), Some(first));

    let moderator = UserId::new("mod");
    assert!(store
        .close_case(p, &community, first, "banned", &moderator, at(10))
        .await
        .unwrap());
    // Deciding twice: the first decision stands.
    assert!(!store
        .close_case(p, &community, first, "dismissed", &moderator, at(11))
        .await
        .unwrap());
    // Another community's moderator cannot close it.
    assert!(!store
        .close_case(p, &other.community, second, "dismissed", &moderator, at(12))
        .await
        .unwrap());
    let closed = store.case(p, &community, first).await.unwrap().unwrap();
    assert_eq!(closed.status, "banned");
    assert_eq!(closed.decided_by, Some(moderator));
    assert_eq!(closed.decided_at, Some(at(10)));
    assert_eq!(open_ids().await, [second]);
    let of_message = store
        .open_case_for_message(p, &community, &MessageId::new("mallory-message"))
        .await
        .unwrap();
    assert_eq!(of_message, None, "closed cases do not count");
}
