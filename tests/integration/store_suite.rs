//! The store suite: behaviours every backend must have, as async functions over a `&Store`.
//! `run_suite` runs them all; `tests/store.rs` calls it once per backend.
//!
//! Cases share one database per backend, so each case uses ids of its own.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use steward::core::{
    Author, Automatic, CaseCategory, CaseSource, CaseStatus, ChannelId, CommunityId, Location,
    Message, MessageId, Platform, Role, ThreadId, UserId,
};
use steward::knowledge::{
    Candidate, Gap, KbDocument, NewDocument, NewPassage, Stored, TermStats, ALL_COMMUNITIES,
};
use steward::store::{
    AppealFiled, AppealOutcome, CaseReview, EditOutcome, NewCase, Store, StoredMessage,
};
use steward::store::{Job, JobCounts, JobState, NewJob};

// ---------------------------------------------------------------------------------------------
// Builders (shared with the other store-suite files)

pub(crate) fn at(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + millis)
}

pub(crate) fn location(case: &str, channel: &str) -> Location {
    Location {
        platform: Platform::Discord,
        community: CommunityId::new(format!("{case}-community")),
        channel: ChannelId::new(format!("{case}-{channel}")),
        thread: None,
    }
}

pub(crate) fn author(id: &str, name: &str) -> Author {
    Author {
        id: UserId::new(id),
        display_name: name.into(),
        role: Role::Member,
        is_bot: false,
    }
}

pub(crate) fn message(id: &str, location: &Location, text: &str, created_ms: u64) -> Message {
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
    case(
        "hole_8_case_never_leaves_its_community",
        hole_8_case_never_leaves_its_community(store),
    )
    .await;
    case("case_appeals", case_appeals(store)).await;
    case("jobs_claim_order", jobs_claim_order(store)).await;
    case("jobs_lease_expiry", jobs_lease_expiry(store)).await;
    case("jobs_retry", jobs_retry(store)).await;
    case("jobs_dedup", jobs_dedup(store)).await;
    case("jobs_fail_counts_prune", jobs_fail_counts_prune(store)).await;
    case(
        "kb_documents_add_replace_unchanged_remove",
        kb_documents_add_replace_unchanged_remove(store),
    )
    .await;
    case("kb_candidates_and_stats", kb_candidates_and_stats(store)).await;
    case("kb_gaps_round_trip", kb_gaps_round_trip(store)).await;
    case(
        "answer_feedback",
        crate::store_feedback::answer_feedback(store),
    )
    .await;
    case("kb_vectors_round_trip", kb_vectors_round_trip(store)).await;
    case(
        "kb_conversations",
        crate::store_conversations::kb_conversations(store),
    )
    .await;
    case(
        "privacy_delete_leaves_no_text",
        crate::store_privacy::delete_leaves_no_text(store),
    )
    .await;
    case(
        "privacy_retention_purge",
        crate::store_privacy::retention_purge(store),
    )
    .await;
    case(
        "privacy_forget_member",
        crate::store_privacy_members::forget_member(store),
    )
    .await;
    case(
        "privacy_forget_keeps_open_cases",
        crate::store_privacy_members::forget_keeps_open_cases(store),
    )
    .await;
    case(
        "privacy_exclusions",
        crate::store_privacy_members::exclusions(store),
    )
    .await;
    case(
        "privacy_export",
        crate::store_privacy_members::export(store),
    )
    .await;
    case(
        "insights_sentiment",
        crate::store_insights::sentiment(store),
    )
    .await;
    case(
        "insights_window_messages",
        crate::store_insights::window_messages(store),
    )
    .await;
    case(
        "insights_reaction_counts",
        crate::store_insights::reaction_counts(store),
    )
    .await;
    case(
        "insights_alerts_and_digests",
        crate::store_insights::alerts_and_digests(store),
    )
    .await;
    case("insights_privacy", crate::store_insights::privacy(store)).await;
}

/// The versions of `backend`'s migration files ("sqlite", "postgres"), in order: what a
/// migrated database has applied. Read from the directory, so that migrations added at the
/// same time by different changes need no edit here.
pub fn migration_versions(backend: &str) -> Vec<i64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut versions: Vec<i64> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().ok()?;
            name.strip_suffix(".sql")?.split('_').next()?.parse().ok()
        })
        .collect();
    versions.sort_unstable();
    let numbered = i64::try_from(versions.len()).unwrap();
    assert_eq!(
        versions,
        (1..=numbered).collect::<Vec<i64>>(),
        "{backend} migrations are numbered 1, 2, 3, ... without gaps"
    );
    versions
}

async fn migrations_applied(store: &Store) {
    let expected = migration_versions(store.backend().as_str());
    assert!(expected.contains(&9), "answer feedback: {expected:?}");
    assert_eq!(store.applied_migrations().await.unwrap(), expected);
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

    let alice = UserId::new("alice");
    // Hole 3: only the author's own edit is applied (Matrix lets anyone send an m.replace).
    let forged = store
        .edit_message(
            Platform::Discord,
            &id,
            &UserId::new("mallory"),
            "forged",
            at(30),
        )
        .await
        .unwrap();
    assert_eq!(forged, EditOutcome::NotTheAuthor);
    assert_eq!(
        store
            .edit_message(Platform::Discord, &id, &alice, "fixed", at(60))
            .await
            .unwrap(),
        EditOutcome::Applied
    );
    assert_eq!(
        store
            .edit_message(Platform::Discord, &id, &alice, "fixed", at(61))
            .await
            .unwrap(),
        EditOutcome::Unchanged
    );
    let stored = store
        .message(Platform::Discord, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.text, "fixed");
    assert_eq!(stored.edited_at, Some(at(60)));
    assert_eq!(stored.created_at, at(1));
    // The text it replaced is kept for cases.
    assert_eq!(
        store.message_edits(Platform::Discord, &id).await.unwrap(),
        [("typo".to_string(), at(60))]
    );

    let unknown = MessageId::new("edit-unknown");
    assert_eq!(
        store
            .edit_message(Platform::Discord, &unknown, &alice, "x", at(61))
            .await
            .unwrap(),
        EditOutcome::Unknown
    );
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
    assert_eq!(
        stored.text, "",
        "a deleted message keeps its row, not its text"
    );
    assert_eq!(stored.deleted_at, Some(at(100)));
    assert!(stored.is_deleted());
    // An edit arriving after the deletion does not bring the text back.
    let alice = UserId::new("alice");
    let late = store.edit_message(Platform::Discord, &id, &alice, "back", at(150));
    assert_eq!(late.await.unwrap(), EditOutcome::Unchanged);

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
        source: CaseSource::Rule,
        category: CaseCategory::BlockedPattern,
        reason: "matched `free nitro`".into(),
        automatic: Automatic::Deleted,
        rule_index: None,
    };
    let first = store
        .open_case(&new_case(&place, "mallory", "free nitro"), at(1))
        .await
        .unwrap();
    let mut without_message = new_case(&place, "trent", "spam, spam");
    without_message.message = None;
    without_message.rule_index = Some(2);
    let second = store.open_case(&without_message, at(2)).await.unwrap();
    let foreign = store
        .open_case(&new_case(&other, "eve", "elsewhere"), at(3))
        .await
        .unwrap();
    // Numbers count per community.
    assert_eq!((first, second, foreign), (1, 2, 1));

    let (p, community) = (place.platform, place.community.clone());
    let read = store.case(p, &community, first).await.unwrap().unwrap();
    assert_eq!(read.number, 1);
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
    assert_eq!(read.rule_index, None);
    let read_second = store.case(p, &community, second).await.unwrap().unwrap();
    assert_eq!(read_second.message, None);
    assert_eq!(read_second.rule_index, Some(2));
    // A number this community has not reached does not exist here.
    assert_eq!(store.case(p, &community, 3).await.unwrap(), None);

    let open_numbers = || async {
        let open = store.open_cases(p, &community, 10).await.unwrap();
        open.iter().map(|c| c.number).collect::<Vec<i64>>()
    };
    assert_eq!(
        open_numbers().await,
        [second, first],
        "newest first, this community only"
    );
    assert_eq!(store.open_cases(p, &community, 1).await.unwrap().len(), 1);

    let of_message = store
        .open_case_for_message(p, &community, &MessageId::new("mallory-message"))
        .await
        .unwrap();
    assert_eq!(of_message.map(|c| c.number), Some(first));

    // The model's review names a rule of the community's list.
    let review = CaseReview {
        category: Some(CaseCategory::Spam),
        severity: "medium".into(),
        reason: "the model labelled it spam (medium)".into(),
        automatic: None,
        rule_index: Some(3),
    };
    assert!(store
        .record_case_review(p, &community, first, &review, at(5))
        .await
        .unwrap());
    assert!(!store
        .record_case_review(p, &community, first, &review, at(6))
        .await
        .unwrap());
    let reviewed = store.case(p, &community, first).await.unwrap().unwrap();
    assert_eq!(reviewed.rule_index, Some(3));
    assert_eq!(reviewed.category, CaseCategory::Spam);

    let moderator = UserId::new("mod");
    assert!(store
        .close_case(p, &community, first, CaseStatus::Banned, &moderator, at(10))
        .await
        .unwrap());
    // Deciding twice: the first decision stands.
    assert!(!store
        .close_case(
            p,
            &community,
            first,
            CaseStatus::Dismissed,
            &moderator,
            at(11)
        )
        .await
        .unwrap());
    // Another community's moderator cannot close it.
    assert!(!store
        .close_case(
            p,
            &other.community,
            second,
            CaseStatus::Dismissed,
            &moderator,
            at(12)
        )
        .await
        .unwrap());
    let closed = store.case(p, &community, first).await.unwrap().unwrap();
    assert_eq!(closed.status, CaseStatus::Banned);
    assert_eq!(closed.decided_by, Some(moderator));
    assert_eq!(closed.decided_at, Some(at(10)));
    assert_eq!(open_numbers().await, [second]);
    let of_message = store
        .open_case_for_message(p, &community, &MessageId::new("mallory-message"))
        .await
        .unwrap();
    assert_eq!(of_message, None, "closed cases do not count");
}

/// Hole 8: two communities both have a case #1, and `case 1` in one never reads, decides or
/// takes appeals for the other's.
async fn hole_8_case_never_leaves_its_community(store: &Store) {
    let a = location("hole8-a", "general");
    let b = location("hole8-b", "general");
    let case_in = |place: &Location, user: &str| NewCase {
        location: place.clone(),
        message: Some(MessageId::new(format!("{}-{user}", place.community))),
        user: UserId::new(user),
        excerpt: format!("{user} wrote this"),
        source: CaseSource::Report,
        category: CaseCategory::Reported,
        reason: "reported".into(),
        automatic: Automatic::Nothing,
        rule_index: None,
    };
    let in_a = store
        .open_case(&case_in(&a, "mallory"), at(1))
        .await
        .unwrap();
    let in_b = store.open_case(&case_in(&b, "eve"), at(2)).await.unwrap();
    assert_eq!((in_a, in_b), (1, 1), "both communities get case #1");

    let p = a.platform;
    let read_b = store.case(p, &b.community, 1).await.unwrap().unwrap();
    assert_eq!(read_b.user, UserId::new("eve"));
    assert_eq!(read_b.location.community, b.community);
    assert_ne!(
        read_b.id,
        store.case(p, &a.community, 1).await.unwrap().unwrap().id
    );

    // Deciding case 1 in B leaves A's case 1 open.
    let moderator_b = UserId::new("mod-b");
    assert!(store
        .close_case(p, &b.community, 1, CaseStatus::Banned, &moderator_b, at(3))
        .await
        .unwrap());
    let read_a = store.case(p, &a.community, 1).await.unwrap().unwrap();
    assert!(read_a.is_open());
    assert_eq!(read_a.user, UserId::new("mallory"));
    assert_eq!(read_a.excerpt, "mallory wrote this");

    // Mallory's appeal of "case 1" typed in B is not about her case in A.
    let mallory = UserId::new("mallory");
    let appeal_in_b = store
        .file_appeal(p, &b.community, 1, &mallory, "not me", at(4))
        .await
        .unwrap();
    assert_eq!(appeal_in_b, AppealFiled::NotTheirs);
    assert!(store.appeals(p, &a.community, 1).await.unwrap().is_empty());
    assert!(store.appeals(p, &b.community, 1).await.unwrap().is_empty());

    // Numbers go on per community, also when cases open at the same moment (on PostgreSQL
    // two at once may pick the same number: the store tries the next one).
    let opens = (0..4u64).map(|n| {
        let case = case_in(&a, &format!("member{n}"));
        async move { store.open_case(&case, at(10 + n)).await.unwrap() }
    });
    let mut numbers = futures::future::join_all(opens).await;
    numbers.sort_unstable();
    assert_eq!(numbers, [2, 3, 4, 5]);
    assert_eq!(
        store.open_case(&case_in(&b, "eve"), at(20)).await.unwrap(),
        2
    );
}

/// Appeals: only the case's member, one open at a time, answered once.
async fn case_appeals(store: &Store) {
    let place = location("appeals", "general");
    let (p, community) = (place.platform, place.community.clone());
    let number = store
        .open_case(
            &NewCase {
                location: place.clone(),
                message: Some(MessageId::new("appeals-m1")),
                user: UserId::new("mallory"),
                excerpt: "free nitro".into(),
                source: CaseSource::Rule,
                category: CaseCategory::BlockedPattern,
                reason: "matched".into(),
                automatic: Automatic::DeletedAndTimedOut,
                rule_index: None,
            },
            at(1),
        )
        .await
        .unwrap();
    let mallory = UserId::new("mallory");
    let file = |user: &UserId, number: i64, text: &str, ms: u64| {
        let (user, text, community) = (user.clone(), text.to_string(), community.clone());
        async move {
            store
                .file_appeal(p, &community, number, &user, &text, at(ms))
                .await
                .unwrap()
        }
    };
    let bob = UserId::new("bob");
    assert_eq!(
        file(&bob, number, "unfair", 2).await,
        AppealFiled::NotTheirs
    );
    assert_eq!(file(&mallory, 99, "x", 2).await, AppealFiled::NoSuchCase);
    assert_eq!(
        file(&mallory, number, "I was quoting", 3).await,
        AppealFiled::Filed
    );
    assert_eq!(
        file(&mallory, number, "again", 4).await,
        AppealFiled::AlreadyOpen
    );
    let appeals = store.appeals(p, &community, number).await.unwrap();
    assert_eq!(appeals.len(), 1);
    assert_eq!(
        (appeals[0].user.as_str(), appeals[0].text.as_str()),
        ("mallory", "I was quoting")
    );
    assert!(appeals[0].is_open());
    assert_eq!(appeals[0].created_at, at(3));

    let moderator = UserId::new("mod");
    assert!(store
        .answer_appeal(
            p,
            &community,
            number,
            AppealOutcome::Reversed,
            &moderator,
            at(5)
        )
        .await
        .unwrap());
    assert!(!store
        .answer_appeal(
            p,
            &community,
            number,
            AppealOutcome::Upheld,
            &moderator,
            at(6)
        )
        .await
        .unwrap());
    let answered = &store.appeals(p, &community, number).await.unwrap()[0];
    assert_eq!(answered.outcome, Some(AppealOutcome::Reversed));
    assert_eq!(answered.decided_by, Some(moderator.clone()));
    assert_eq!(answered.decided_at, Some(at(5)));

    // The reversal moves the case's status once, from what the moderator saw.
    let open = CaseStatus::Open;
    assert!(store
        .change_case_status(
            p,
            &community,
            number,
            open,
            CaseStatus::Reversed,
            &moderator,
            at(5)
        )
        .await
        .unwrap());
    assert!(!store
        .change_case_status(
            p,
            &community,
            number,
            open,
            CaseStatus::Banned,
            &moderator,
            at(6)
        )
        .await
        .unwrap());
    let reversed = store.case(p, &community, number).await.unwrap().unwrap();
    assert_eq!(reversed.status, CaseStatus::Reversed);
    // Answered, the member may appeal again.
    assert_eq!(
        file(&mallory, number, "one more thing", 7).await,
        AppealFiled::Filed
    );
}

// ---------------------------------------------------------------------------------------------
// Jobs (each case uses job kinds of its own; counts are compared as differences)

const JOB_LEASE: Duration = Duration::from_secs(60);

async fn enqueue(store: &Store, kind: &str, payload: &str, ms: u64) -> i64 {
    store
        .enqueue_job(&NewJob::new(kind, payload), at(ms))
        .await
        .unwrap()
}

async fn claim(store: &Store, kind: &str, ms: u64) -> Option<Job> {
    store.claim_job(kind, JOB_LEASE, at(ms)).await.unwrap()
}

async fn jobs_claim_order(store: &Store) {
    let kind = "suite-order";
    let a = enqueue(store, kind, "a", 1).await;
    let b = enqueue(store, kind, "b", 2).await;
    let c = enqueue(store, kind, "c", 3).await;
    let other = enqueue(store, "suite-order-other", "x", 0).await;
    assert!(a < b && b < c, "{a} {b} {c}");

    assert_eq!(
        claim(store, kind, 0).await,
        None,
        "not before it was enqueued"
    );
    let first = claim(store, kind, 10)
        .await
        .expect("the oldest pending job");
    assert_eq!(
        (first.id, first.kind.as_str(), first.payload.as_str()),
        (a, kind, "a")
    );
    assert_eq!((first.attempts, first.created_at), (1, at(1)));
    let second = claim(store, kind, 10).await.unwrap();
    let third = claim(store, kind, 10).await.unwrap();
    assert_eq!([second.id, third.id], [b, c]);
    assert_eq!(
        claim(store, kind, 10).await,
        None,
        "a claimed job is not claimed twice"
    );

    let running = store.job(a).await.unwrap().unwrap();
    assert_eq!(running.state, JobState::Running);
    assert_eq!(running.locked_until, Some(at(10) + JOB_LEASE));

    for id in [a, b, c] {
        assert!(store.complete_job(id, at(20)).await.unwrap());
    }
    assert!(
        !store.complete_job(a, at(21)).await.unwrap(),
        "already done"
    );
    let done = store.job(a).await.unwrap().unwrap();
    assert_eq!(
        (done.state, done.locked_until, done.updated_at),
        (JobState::Done, None, at(20))
    );
    assert_eq!(
        claim(store, kind, 10_000_000).await,
        None,
        "done jobs stay done"
    );

    // Another kind is claimed only by its own workers.
    let claimed = claim(store, "suite-order-other", 10).await.unwrap();
    assert_eq!((claimed.id, claimed.payload.as_str()), (other, "x"));
    assert!(store.complete_job(other, at(11)).await.unwrap());
}

/// A worker that died (or a process restarted) without finishing: its job comes back when the
/// lease expires.
async fn jobs_lease_expiry(store: &Store) {
    let kind = "suite-lease";
    let id = enqueue(store, kind, "p", 1).await;
    let first = claim(store, kind, 10).await.unwrap();
    assert_eq!((first.id, first.attempts), (id, 1));

    assert_eq!(
        claim(store, kind, 60_009).await,
        None,
        "the lease still holds"
    );
    let again = claim(store, kind, 60_010)
        .await
        .expect("claimable after the lease");
    assert_eq!((again.id, again.attempts), (id, 2));

    // A heartbeat extends the lease.
    assert!(store
        .extend_job_lease(id, at(200_000), at(60_020))
        .await
        .unwrap());
    assert_eq!(claim(store, kind, 199_999).await, None);
    assert!(store.complete_job(id, at(60_030)).await.unwrap());
    assert!(
        !store
            .extend_job_lease(id, at(300_000), at(60_040))
            .await
            .unwrap(),
        "a finished job has no lease"
    );
}

async fn jobs_retry(store: &Store) {
    let kind = "suite-retry";
    let id = enqueue(store, kind, "r", 1).await;
    claim(store, kind, 10).await.unwrap();
    assert!(store
        .retry_job(id, "the model is busy", at(5_000), at(20))
        .await
        .unwrap());

    let waiting = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        (
            waiting.state,
            waiting.attempts,
            waiting.run_after,
            waiting.locked_until
        ),
        (JobState::Pending, 1, at(5_000), None)
    );
    assert_eq!(waiting.last_error.as_deref(), Some("the model is busy"));

    assert_eq!(
        claim(store, kind, 4_999).await,
        None,
        "not before run_after"
    );
    let again = claim(store, kind, 5_000).await.unwrap();
    assert_eq!((again.id, again.attempts), (id, 2));
    assert!(store.complete_job(id, at(5_001)).await.unwrap());
    assert!(
        !store
            .retry_job(id, "late", at(6_000), at(5_002))
            .await
            .unwrap(),
        "only a running job can be retried"
    );
}

async fn jobs_dedup(store: &Store) {
    let kind = "suite-dedup";
    let job = NewJob::new(kind, "first").with_dedup_key("message-1");
    let first = store.enqueue_job(&job, at(1)).await.unwrap();
    let same_key = NewJob::new(kind, "second").with_dedup_key("message-1");
    assert_eq!(
        store.enqueue_job(&same_key, at(2)).await.unwrap(),
        first,
        "a pending job with the key is kept"
    );
    let other_key = NewJob::new(kind, "other").with_dedup_key("message-2");
    assert_ne!(store.enqueue_job(&other_key, at(3)).await.unwrap(), first);
    let other_kind = NewJob::new("suite-dedup-other", "x").with_dedup_key("message-1");
    assert_ne!(store.enqueue_job(&other_kind, at(3)).await.unwrap(), first);

    let claimed = claim(store, kind, 10).await.unwrap();
    assert_eq!((claimed.id, claimed.payload.as_str()), (first, "first"));
    assert_eq!(
        store.enqueue_job(&job, at(11)).await.unwrap(),
        first,
        "a running job with the key is kept"
    );
    assert!(store.complete_job(first, at(12)).await.unwrap());
    let fresh = store.enqueue_job(&job, at(13)).await.unwrap();
    assert!(fresh > first, "a finished job does not block a new one");

    // Without a key nothing is deduplicated.
    let plain = enqueue(store, kind, "plain", 20).await;
    assert_ne!(enqueue(store, kind, "plain", 20).await, plain);

    // A job that asks for it runs once more when a duplicate arrives while it runs (its
    // input changed after it read it); a duplicate while it is pending changes nothing.
    let kind = "suite-rerun";
    let indexing = NewJob::new(kind, "conversation")
        .with_dedup_key("conversation-1")
        .rerun_if_running();
    let pending = store.enqueue_job(&indexing, at(28)).await.unwrap();
    assert_eq!(store.enqueue_job(&indexing, at(28)).await.unwrap(), pending);
    assert_eq!(
        claim(store, kind, 29).await.map(|job| job.id),
        Some(pending)
    );
    assert!(store.complete_job(pending, at(29)).await.unwrap());
    assert_eq!(
        store.job(pending).await.unwrap().unwrap().state,
        JobState::Done,
        "a duplicate while pending asks for no second run"
    );
    let id = store.enqueue_job(&indexing, at(30)).await.unwrap();
    assert_eq!(store.enqueue_job(&indexing, at(31)).await.unwrap(), id);
    assert_eq!(claim(store, kind, 32).await.map(|job| job.id), Some(id));
    assert_eq!(store.enqueue_job(&indexing, at(33)).await.unwrap(), id);
    assert!(store.complete_job(id, at(34)).await.unwrap());
    let again = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        again.state,
        JobState::Pending,
        "asked to run again: {again:?}"
    );
    let rerun = claim(store, kind, 34).await.expect("claimed again at once");
    assert_eq!((rerun.id, rerun.attempts), (id, 1));
    assert!(store.complete_job(id, at(35)).await.unwrap());
    assert_eq!(
        store.job(id).await.unwrap().unwrap().state,
        JobState::Done,
        "no duplicate arrived during the second run"
    );
    assert!(claim(store, kind, 36).await.is_none());

    // A job that fails while a duplicate asked for another run gets that run (its input
    // changed); failing again without one, it stays failed.
    let id = store.enqueue_job(&indexing, at(40)).await.unwrap();
    assert_eq!(claim(store, kind, 41).await.map(|job| job.id), Some(id));
    assert_eq!(store.enqueue_job(&indexing, at(42)).await.unwrap(), id);
    assert!(store.fail_job(id, "store down", at(43)).await.unwrap());
    assert_eq!(
        store.job(id).await.unwrap().unwrap().state,
        JobState::Pending
    );
    assert_eq!(claim(store, kind, 43).await.map(|job| job.id), Some(id));
    assert!(store.fail_job(id, "store down", at(44)).await.unwrap());
    assert_eq!(
        store.job(id).await.unwrap().unwrap().state,
        JobState::Failed
    );
}

async fn jobs_fail_counts_prune(store: &Store) {
    let kind = "suite-fail";
    let before = store.job_counts().await.unwrap();
    let failing = enqueue(store, kind, "bad", 1).await;
    let finishing = enqueue(store, kind, "good", 2).await;
    let running = enqueue(store, kind, "slow", 3).await;
    let pending = enqueue(store, kind, "later", 4).await;
    for id in [failing, finishing, running] {
        assert_eq!(claim(store, kind, 10).await.map(|job| job.id), Some(id));
    }

    assert!(
        !store.fail_job(pending, "no", at(10)).await.unwrap(),
        "only a running job can fail"
    );
    assert!(store
        .fail_job(failing, "bad payload: expected JSON", at(11))
        .await
        .unwrap());
    assert!(store.complete_job(finishing, at(11)).await.unwrap());
    let failed = store.job(failing).await.unwrap().unwrap();
    assert_eq!(
        (failed.state, failed.locked_until),
        (JobState::Failed, None)
    );
    assert_eq!(
        failed.last_error.as_deref(),
        Some("bad payload: expected JSON")
    );

    assert_eq!(
        store.job_counts().await.unwrap(),
        JobCounts {
            pending: before.pending + 1,
            running: before.running + 1,
            done: before.done + 1,
            failed: before.failed + 1,
        }
    );

    // Pruning deletes finished jobs of the kind that finished before the cutoff.
    assert_eq!(store.prune_jobs(kind, at(11)).await.unwrap(), 0);
    assert_eq!(store.prune_jobs(kind, at(12)).await.unwrap(), 2);
    assert_eq!(store.job(failing).await.unwrap(), None);
    assert_eq!(store.job(finishing).await.unwrap(), None);
    let after = store.job_counts().await.unwrap();
    assert_eq!((after.done, after.failed), (before.done, before.failed));
    assert_eq!(after.unfinished(), before.unfinished() + 2);

    // Failed and pruned jobs are never claimed again; the expired running one and the
    // pending one are.
    let mut rest = Vec::new();
    while let Some(job) = claim(store, kind, 10_000_000).await {
        rest.push(job.id);
    }
    assert_eq!(rest, [running, pending]);
    for id in rest {
        assert!(store.complete_job(id, at(10_000_001)).await.unwrap());
    }
}

// ---------------------------------------------------------------------------------------------
// Knowledge

pub(crate) fn kb_terms(terms: &[&str]) -> Vec<String> {
    terms.iter().map(|term| term.to_string()).collect()
}

fn kb_passage(ordinal: u32, heading: &str, text: &str, terms: Vec<String>) -> NewPassage {
    NewPassage {
        ordinal,
        heading: heading.into(),
        text: text.into(),
        terms,
    }
}

fn kb_document(scope: &str, path: &str, sha256: &str, passages: Vec<NewPassage>) -> NewDocument {
    NewDocument {
        path: path.into(),
        scope: scope.into(),
        sha256: sha256.into(),
        passages,
    }
}

/// The document frequency of `term` (0 when absent).
fn df(stats: &TermStats, term: &str) -> u64 {
    stats.document_frequency.get(term).copied().unwrap_or(0)
}

/// The documents stored in `scope`.
async fn kb_documents_in(store: &Store, scope: &str) -> Vec<KbDocument> {
    store
        .kb_documents()
        .await
        .unwrap()
        .into_iter()
        .filter(|document| document.scope == scope)
        .collect()
}

/// The candidates for `terms` in `scope` among `kb_candidates_and_stats`'s documents (paths
/// under `cands/`), in the store's order.
async fn kb_ask(store: &Store, terms: &[&str], scope: &str, limit: usize) -> Vec<Candidate> {
    store
        .kb_candidates(&kb_terms(terms), scope, limit)
        .await
        .unwrap()
        .into_iter()
        .filter(|candidate| candidate.path.starts_with("cands/"))
        .collect()
}

fn headings(candidates: &[Candidate]) -> Vec<String> {
    candidates
        .iter()
        .map(|candidate| candidate.heading.clone())
        .collect()
}

async fn kb_documents_add_replace_unchanged_remove(store: &Store) {
    let scope = "discord:kb-life";
    let path = "life/install.md";
    let watched = kb_terms(&["instal", "tokio", "runtim", "upgrad"]);
    let before = store.kb_term_stats(&watched).await.unwrap();

    let first = kb_document(
        scope,
        path,
        "sha-1",
        vec![
            kb_passage(
                0,
                "Install",
                "Install it with `cargo install`, then tokio.",
                vec!["instal".into(), "instal".into(), "tokio".into()],
            ),
            kb_passage(
                1,
                "Install › Runtime",
                "The runtime starts with the bot.",
                vec!["instal".into(), "runtim".into()],
            ),
        ],
    );
    assert_eq!(
        store.kb_store_document(&first, at(1)).await.unwrap(),
        Stored::Added
    );
    assert_eq!(
        kb_documents_in(store, scope).await,
        vec![KbDocument {
            path: path.into(),
            scope: scope.into(),
            sha256: "sha-1".into(),
            passages: 2,
            added_at: at(1),
        }]
    );
    let stats = store.kb_term_stats(&watched).await.unwrap();
    assert_eq!(stats.passages, before.passages + 2);
    assert_eq!(
        df(&stats, "instal"),
        df(&before, "instal") + 2,
        "a term counts once per passage"
    );
    assert_eq!(df(&stats, "tokio"), df(&before, "tokio") + 1);
    assert_eq!(df(&stats, "runtim"), df(&before, "runtim") + 1);
    assert_eq!(df(&stats, "upgrad"), df(&before, "upgrad"));

    let tokio = kb_terms(&["tokio"]);
    let all = store.kb_candidates(&tokio, scope, 50).await.unwrap();
    let found: Vec<&Candidate> = all.iter().filter(|c| c.path == path).collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].heading, "Install");
    assert_eq!(
        found[0].text,
        "Install it with `cargo install`, then tokio."
    );
    assert_eq!(found[0].terms, kb_terms(&["instal", "instal", "tokio"]));
    let first_id = found[0].id;

    // The same content again: nothing changes, not the time, not the passages.
    assert_eq!(
        store.kb_store_document(&first, at(2)).await.unwrap(),
        Stored::Unchanged
    );
    let listed = kb_documents_in(store, scope).await;
    assert_eq!(
        listed
            .iter()
            .map(|d| (d.sha256.as_str(), d.passages, d.added_at))
            .collect::<Vec<_>>(),
        [("sha-1", 2, at(1))]
    );
    let again = store.kb_candidates(&tokio, scope, 50).await.unwrap();
    assert!(again.iter().any(|c| c.id == first_id), "{again:?}");
    assert_eq!(store.kb_term_stats(&watched).await.unwrap(), stats);

    // The same path in another scope is another document.
    let elsewhere = kb_document(
        "matrix:kb-life",
        path,
        "sha-1",
        vec![kb_passage(
            0,
            "Elsewhere",
            "Another community's copy.",
            kb_terms(&["elsewher"]),
        )],
    );
    assert_eq!(
        store.kb_store_document(&elsewhere, at(2)).await.unwrap(),
        Stored::Added
    );
    assert!(store
        .kb_remove_document("matrix:kb-life", path)
        .await
        .unwrap());

    // New content: the passages are replaced, and their counts with them.
    let second = kb_document(
        scope,
        path,
        "sha-2",
        vec![kb_passage(
            0,
            "Upgrade",
            "Upgrade with the new installer.",
            kb_terms(&["upgrad", "instal"]),
        )],
    );
    assert_eq!(
        store.kb_store_document(&second, at(3)).await.unwrap(),
        Stored::Replaced
    );
    assert_eq!(
        kb_documents_in(store, scope).await,
        vec![KbDocument {
            path: path.into(),
            scope: scope.into(),
            sha256: "sha-2".into(),
            passages: 1,
            added_at: at(3),
        }]
    );
    let all = store.kb_candidates(&tokio, scope, 50).await.unwrap();
    assert!(
        all.iter().all(|c| c.path != path),
        "the old passages are gone: {all:?}"
    );
    let all = store
        .kb_candidates(&kb_terms(&["upgrad"]), scope, 50)
        .await
        .unwrap();
    let upgraded: Vec<(&str, Vec<String>)> = all
        .iter()
        .filter(|c| c.path == path)
        .map(|c| (c.heading.as_str(), c.terms.clone()))
        .collect();
    assert_eq!(upgraded, [("Upgrade", kb_terms(&["upgrad", "instal"]))]);
    let stats = store.kb_term_stats(&watched).await.unwrap();
    assert_eq!(stats.passages, before.passages + 1);
    assert_eq!(df(&stats, "instal"), df(&before, "instal") + 1);
    assert_eq!(df(&stats, "tokio"), df(&before, "tokio"));
    assert_eq!(df(&stats, "runtim"), df(&before, "runtim"));
    assert_eq!(df(&stats, "upgrad"), df(&before, "upgrad") + 1);

    // Removal drops the document, its passages and their counts.
    assert!(store.kb_remove_document(scope, path).await.unwrap());
    assert!(
        !store.kb_remove_document(scope, path).await.unwrap(),
        "already removed"
    );
    assert!(!store
        .kb_remove_document(scope, "life/never-added.md")
        .await
        .unwrap());
    assert!(kb_documents_in(store, scope).await.is_empty());
    let all = store
        .kb_candidates(&kb_terms(&["upgrad", "instal", "tokio"]), scope, 50)
        .await
        .unwrap();
    assert!(all.iter().all(|c| c.path != path), "{all:?}");
    assert_eq!(store.kb_term_stats(&watched).await.unwrap(), before);
}

async fn kb_candidates_and_stats(store: &Store) {
    let watched = kb_terms(&[
        "instal",
        "tokio",
        "runtim",
        "matrix",
        "安装",
        "装教",
        "教程",
        "问题",
        "tiebreak",
        "neverstored",
    ]);
    let before = store.kb_term_stats(&watched).await.unwrap();

    let discord = kb_document(
        "discord:1",
        "cands/discord.md",
        "sha-d",
        vec![
            kb_passage(
                0,
                "Install",
                "Install tokio first.",
                kb_terms(&["instal", "tokio"]),
            ),
            kb_passage(1, "安装", "安装教程", kb_terms(&["安装", "装教", "教程"])),
            kb_passage(2, "Tie A", "A tie.", kb_terms(&["tiebreak"])),
        ],
    );
    let shared = kb_document(
        ALL_COMMUNITIES,
        "cands/shared.md",
        "sha-s",
        vec![
            kb_passage(
                0,
                "Runtime",
                "The tokio runtime.",
                kb_terms(&["tokio", "runtim"]),
            ),
            kb_passage(
                1,
                "问题",
                "安装的问题和问题",
                kb_terms(&["安装", "问题", "问题"]),
            ),
            kb_passage(2, "Tie B", "B tie.", kb_terms(&["tiebreak"])),
            kb_passage(3, "Empty", "", Vec::new()),
        ],
    );
    let matrix = kb_document(
        "matrix:2",
        "cands/matrix.md",
        "sha-m",
        vec![kb_passage(
            0,
            "Matrix",
            "Install on Matrix.",
            kb_terms(&["instal", "matrix"]),
        )],
    );
    for document in [&discord, &shared, &matrix] {
        assert_eq!(
            store.kb_store_document(document, at(1)).await.unwrap(),
            Stored::Added
        );
    }

    // Document frequencies count each term once per passage.
    let stats = store.kb_term_stats(&watched).await.unwrap();
    assert_eq!(stats.passages, before.passages + 8);
    let grown: Vec<(&str, u64)> = watched
        .iter()
        .map(|term| (term.as_str(), df(&stats, term) - df(&before, term)))
        .collect();
    assert_eq!(
        grown,
        [
            ("instal", 2),
            ("tokio", 2),
            ("runtim", 1),
            ("matrix", 1),
            ("安装", 2),
            ("装教", 1),
            ("教程", 1),
            ("问题", 1),
            ("tiebreak", 2),
            ("neverstored", 0),
        ]
    );
    assert!(!stats.document_frequency.contains_key("neverstored"));
    // 14 terms, repeats included, over the 8 new passages (the empty one too).
    let total = |stats: &TermStats| stats.average_terms * stats.passages as f64;
    assert!(
        (total(&stats) - total(&before) - 14.0).abs() < 1e-6,
        "{before:?} -> {stats:?}"
    );

    // A passage matching more of the terms comes first; another community's never comes.
    let found = kb_ask(store, &["instal", "tokio"], "discord:1", 50).await;
    assert_eq!(headings(&found), ["Install", "Runtime"]);
    assert_eq!(found[0].path, "cands/discord.md");
    assert_eq!(found[0].text, "Install tokio first.");
    assert_eq!(found[0].terms, kb_terms(&["instal", "tokio"]));
    assert_eq!(found[1].path, "cands/shared.md");
    assert_eq!(
        kb_ask(store, &["instal", "tokio"], "discord:1", 50).await,
        found,
        "the same question, the same answer"
    );
    // In matrix:2, its own passage and the shared one (how these two rank depends on the
    // backend's scoring), never discord:1's.
    let mut seen = headings(&kb_ask(store, &["instal", "tokio"], "matrix:2", 50).await);
    seen.sort();
    assert_eq!(seen, ["Matrix", "Runtime"]);

    // Chinese bigrams; equal scores are ordered by passage id.
    assert_eq!(
        headings(&kb_ask(store, &["安装"], "discord:1", 50).await),
        ["安装", "问题"]
    );
    assert_eq!(
        headings(&kb_ask(store, &["安装"], "matrix:2", 50).await),
        ["问题"]
    );
    assert!(kb_ask(store, &["教程"], "matrix:2", 50).await.is_empty());

    // Ties by passage id; the limit applies to the passages visible in the scope.
    let tied = kb_ask(store, &["tiebreak"], "discord:1", 50).await;
    assert_eq!(headings(&tied), ["Tie A", "Tie B"]);
    assert!(tied[0].id < tied[1].id);
    assert_eq!(
        headings(&kb_ask(store, &["tiebreak"], "discord:1", 1).await),
        ["Tie A"]
    );
    assert_eq!(
        headings(&kb_ask(store, &["tiebreak"], "matrix:2", 1).await),
        ["Tie B"]
    );
    assert!(kb_ask(store, &["tiebreak"], "discord:1", 0)
        .await
        .is_empty());

    // Terms that are not letters and digits are skipped; with none left, nothing is found.
    assert!(kb_ask(
        store,
        &["tok\"io", "x OR y", "'; --", "run-tim", ""],
        "discord:1",
        50
    )
    .await
    .is_empty());
    assert!(store
        .kb_candidates(&[], "discord:1", 50)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        headings(
            &kb_ask(
                store,
                &["runtim", "run-tim", "run tim", "runtim"],
                "matrix:2",
                50
            )
            .await
        ),
        ["Runtime"]
    );

    // The passage without terms is stored (and counted) but never found.
    assert!(store
        .kb_documents()
        .await
        .unwrap()
        .iter()
        .any(|d| d.path == "cands/shared.md" && d.scope == ALL_COMMUNITIES && d.passages == 4));
}

async fn kb_gaps_round_trip(store: &Store) {
    let community = CommunityId::new("gaps-community");
    let asker = UserId::new("gaps-asker");
    let gap = |question: &str, terms: &[&str], asked: u64| Gap {
        question: question.into(),
        terms: kb_terms(terms),
        asked_at: at(asked),
    };
    let discord = Platform::Discord;
    store
        .kb_record_gap(
            discord,
            &community,
            &asker,
            None,
            "Too old",
            &kb_terms(&["old"]),
            at(1),
        )
        .await
        .unwrap();
    store
        .kb_record_gap(
            discord,
            &community,
            &asker,
            None,
            "How do I install on BSD?",
            &kb_terms(&["instal", "bsd"]),
            at(10),
        )
        .await
        .unwrap();
    store
        .kb_record_gap(
            discord,
            &community,
            &asker,
            None,
            "怎么安装?",
            &kb_terms(&["怎么", "么安", "安装"]),
            at(20),
        )
        .await
        .unwrap();
    store
        .kb_record_gap(discord, &community, &asker, None, "???", &[], at(20))
        .await
        .unwrap();
    store
        .kb_record_gap(
            Platform::Matrix,
            &community,
            &asker,
            None,
            "Another platform",
            &kb_terms(&["platform"]),
            at(15),
        )
        .await
        .unwrap();
    store
        .kb_record_gap(
            discord,
            &CommunityId::new("gaps-elsewhere"),
            &asker,
            None,
            "Another community",
            &kb_terms(&["communiti"]),
            at(15),
        )
        .await
        .unwrap();

    // Newest first (the later of two at the same time first), from `since` on.
    assert_eq!(
        store.kb_gaps(discord, &community, at(5)).await.unwrap(),
        vec![
            gap("???", &[], 20),
            gap("怎么安装?", &["怎么", "么安", "安装"], 20),
            gap("How do I install on BSD?", &["instal", "bsd"], 10),
        ]
    );
    assert_eq!(
        store
            .kb_gaps(discord, &community, at(1))
            .await
            .unwrap()
            .len(),
        4,
        "since is inclusive"
    );
    assert!(store
        .kb_gaps(discord, &community, at(21))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .kb_gaps(Platform::Matrix, &community, at(0))
            .await
            .unwrap(),
        vec![gap("Another platform", &["platform"], 15)]
    );
}

/// The id of the one passage visible in `scope` whose terms include `term`.
async fn kb_passage_id(store: &Store, term: &str, scope: &str) -> i64 {
    let found = store
        .kb_candidates(&kb_terms(&[term]), scope, 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{term}: {found:?}");
    found[0].id
}

async fn kb_vectors_round_trip(store: &Store) {
    let (mine, other) = ("discord:kb-vec", "discord:kb-vec-other");
    let model = "suite-vectors";
    let document = |sha: &str| {
        kb_document(
            mine,
            "vec/a.md",
            sha,
            vec![
                kb_passage(0, "Alpha", "first", vec!["vecalpha".into()]),
                kb_passage(1, "", "second", vec!["vecbeta".into()]),
            ],
        )
    };
    store
        .kb_store_document(&document("sha-1"), at(1))
        .await
        .unwrap();
    let elsewhere = kb_document(
        other,
        "vec/b.md",
        "sha-b",
        vec![kb_passage(0, "Gamma", "third", vec!["vecgamma".into()])],
    );
    store.kb_store_document(&elsewhere, at(1)).await.unwrap();
    let a1 = kb_passage_id(store, "vecalpha", mine).await;
    let a2 = kb_passage_id(store, "vecbeta", mine).await;
    let b1 = kb_passage_id(store, "vecgamma", other).await;

    // Every passage lacks a vector for a new model; the heading is embedded with the text.
    let missing = store
        .kb_passages_without_vector(model, 100_000)
        .await
        .unwrap();
    let text_of = |id: i64| missing.iter().find(|p| p.id == id).map(|p| p.text.clone());
    assert_eq!(text_of(a1).as_deref(), Some("Alpha\nfirst"));
    assert_eq!(text_of(a2).as_deref(), Some("second"));
    assert!(text_of(b1).is_some());

    let vectors = vec![
        (a1, vec![1.0, 0.0]),
        (a2, vec![0.0, 1.0]),
        (b1, vec![0.6, 0.8]),
        // A passage that does not exist: skipped, never an orphan vector.
        (i64::MAX - 7, vec![1.0, 1.0]),
    ];
    store.kb_store_vectors(model, &vectors).await.unwrap();
    assert_eq!(store.kb_vector_count(model).await.unwrap(), 3);
    let missing = store
        .kb_passages_without_vector(model, 100_000)
        .await
        .unwrap();
    assert!(!missing.iter().any(|p| [a1, a2, b1].contains(&p.id)));
    let mut expected = vectors[..3].to_vec();
    expected.sort_by_key(|(id, _)| *id);
    assert_eq!(
        store.kb_vectors_after(model, 0, 10).await.unwrap(),
        expected
    );
    assert_eq!(
        store
            .kb_vectors_after(model, expected[0].0, 1)
            .await
            .unwrap(),
        expected[1..2].to_vec()
    );

    // By id: only what the scope may cite, in the order asked.
    let found = store.kb_passages_by_id(&[b1, a2, a1], mine).await.unwrap();
    let ids: Vec<i64> = found.iter().map(|c| c.id).collect();
    assert_eq!(ids, [a2, a1]);
    assert_eq!(found[1].path, "vec/a.md");
    assert_eq!(found[1].heading, "Alpha");

    // A replaced document takes its passages' vectors with it.
    store
        .kb_store_document(&document("sha-2"), at(2))
        .await
        .unwrap();
    assert_eq!(store.kb_vector_count(model).await.unwrap(), 1);
    assert_eq!(
        store.kb_vectors_after(model, 0, 10).await.unwrap(),
        vec![(b1, vec![0.6, 0.8])]
    );
    // Another model's vector replaces the old one (one vector per passage).
    store
        .kb_store_vectors("suite-vectors-2", &[(b1, vec![0.0, 1.0])])
        .await
        .unwrap();
    assert_eq!(store.kb_vector_count(model).await.unwrap(), 0);
    assert_eq!(store.kb_vector_count("suite-vectors-2").await.unwrap(), 1);
    assert!(store.kb_remove_document(other, "vec/b.md").await.unwrap());
    assert_eq!(store.kb_vector_count("suite-vectors-2").await.unwrap(), 0);
}
