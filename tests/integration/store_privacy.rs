//! The store suite's cases for members' data (run by `store_suite::run_suite` on every
//! backend): a deleted message's words gone from every table, retention purging exactly what
//! is older than its cutoff; with the builders `store_privacy_members.rs` shares (forgetting,
//! exclusions, export).
//!
//! "Gone" is checked by scanning every text column of every table of the database
//! ([`Store::debug_text_columns_containing`]), so a table added later is covered too.

use std::sync::Arc;
use std::time::Duration;

use steward::core::{
    Author, Automatic, CaseCategory, CaseSource, CaseStatus, CommunityId, Location, Message,
    MessageId, Platform, UserId,
};
use steward::knowledge::conversations::{ConversationIndex, ConversationKey, Indexed};
use steward::store::{AppealOutcome, EditOutcome, NewCase, NewJob, Purged, Store};

use crate::store_suite::{at, author, kb_terms, location, message};

pub(crate) const D: Platform = Platform::Discord;

/// `message` by `who`.
pub(crate) fn said(id: &str, place: &Location, who: &Author, text: &str, ms: u64) -> Message {
    Message {
        author: who.clone(),
        ..message(id, place, text, ms)
    }
}

pub(crate) async fn record(store: &Store, message: Message) -> MessageId {
    assert!(store.record_message(&message).await.unwrap());
    message.id
}

/// The (table, column) pairs where some row still holds `needle`.
pub(crate) async fn holding(store: &Store, needle: &str) -> Vec<(String, String)> {
    store.debug_text_columns_containing(needle).await.unwrap()
}

/// A review job's payload as the moderation feature writes it.
pub(crate) fn review_payload(place: &Location, message: &str, author: &str, text: &str) -> String {
    serde_json::json!({
        "platform": place.platform.as_str(),
        "community": place.community.as_str(),
        "channel": place.channel.as_str(),
        "thread": null,
        "message": message,
        "author": author,
        "text": text,
        "case_number": null,
        "language": "en",
        "prefix": "!",
        "author_moderates": false,
    })
    .to_string()
}

/// A job of its own `kind` enqueued at `ms` and finished then (failed when `failed`).
pub(crate) async fn finished_job(
    store: &Store,
    kind: &str,
    payload: String,
    ms: u64,
    failed: bool,
) -> i64 {
    let id = store
        .enqueue_job(&NewJob::new(kind, payload), at(ms))
        .await
        .unwrap();
    let claimed = store
        .claim_job(kind, Duration::from_secs(60), at(ms))
        .await
        .unwrap();
    assert_eq!(claimed.map(|job| job.id), Some(id));
    let finished = if failed {
        store.fail_job(id, "gave up", at(ms)).await.unwrap()
    } else {
        store.complete_job(id, at(ms)).await.unwrap()
    };
    assert!(finished);
    id
}

/// Opens a case about `user` at `opened`, closed by a moderator at `closed` if given; its
/// number.
pub(crate) async fn case_about(
    store: &Store,
    place: &Location,
    user: &str,
    excerpt: &str,
    (opened, closed): (u64, Option<u64>),
) -> i64 {
    let case = NewCase {
        location: place.clone(),
        message: None,
        user: UserId::new(user),
        excerpt: excerpt.into(),
        source: CaseSource::Rule,
        category: CaseCategory::BlockedPattern,
        reason: "matched a rule".into(),
        automatic: Automatic::Nothing,
        rule_index: None,
    };
    let number = store.open_case(&case, at(opened)).await.unwrap();
    if let Some(closed) = closed {
        let moderator = UserId::new("prv-moderator");
        let (community, banned) = (&place.community, CaseStatus::Banned);
        let decided = store.close_case(D, community, number, banned, &moderator, at(closed));
        assert!(decided.await.unwrap());
    }
    number
}

/// Files `user`'s appeal of case `number` at `ms`, answered then when `answered`.
pub(crate) async fn appeal(
    store: &Store,
    place: &Location,
    (number, user): (i64, &str),
    text: &str,
    ms: u64,
    answered: bool,
) {
    let (community, user) = (&place.community, UserId::new(user));
    store
        .file_appeal(D, community, number, &user, text, at(ms))
        .await
        .unwrap();
    if answered {
        let (upheld, moderator) = (AppealOutcome::Upheld, UserId::new("prv-moderator"));
        let done = store.answer_appeal(D, community, number, upheld, &moderator, at(ms));
        assert!(done.await.unwrap());
    }
}

pub(crate) fn conversation(place: &Location, root: &MessageId) -> ConversationKey {
    ConversationKey {
        platform: place.platform,
        community: place.community.clone(),
        channel: place.channel.clone(),
        root: root.clone(),
    }
}

pub(crate) fn conversation_index(store: &Store) -> ConversationIndex {
    ConversationIndex::new(Arc::new(store.clone()), Vec::<String>::new())
}

pub(crate) async fn gap_questions(store: &Store, community: &CommunityId) -> Vec<String> {
    let gaps = store.kb_gaps(D, community, at(0)).await.unwrap();
    gaps.into_iter().map(|gap| gap.question).collect()
}

// ---------------------------------------------------------------------------------------------

/// A deleted message keeps its row, but its words leave every table: its text, its edit
/// history, its unanswered question, finished jobs naming it, its conversation's passages.
pub async fn delete_leaves_no_text(store: &Store) {
    const ORIGINAL: &str = "how do I calibrate the zorbquux flange?";
    const EDITED: &str = "how do I calibrate the zorbquux flange on a Tuesday?";
    const ANSWER: &str = "turn the left dial twice and wait a minute";
    let place = location("prv-del", "help");
    let community = &place.community;
    let (ana, bo) = (author("prv-del-ana", "Ana"), author("prv-del-bo", "Bo"));
    let q = record(store, said("prv-del-q", &place, &ana, ORIGINAL, 1)).await;
    let edited = store.edit_message(D, &q, &ana.id, EDITED, at(2)).await;
    assert_eq!(edited.unwrap(), EditOutcome::Applied);
    let mut answer = said("prv-del-a", &place, &bo, ANSWER, 3);
    answer.reply_to = Some(q.clone());
    let a = record(store, answer).await;

    // Its question unanswered (with its message; and as callers without the id record it),
    // and another member's.
    let terms = kb_terms(&["zorbquux", "flang"]);
    let gap = store.kb_record_gap(D, community, &ana.id, Some(&q), ORIGINAL, &terms, at(4));
    gap.await.unwrap();
    let quoted = "calibrate the zorbquux flange";
    let gap = store.kb_record_gap(D, community, &ana.id, None, quoted, &terms, at(5));
    gap.await.unwrap();
    let kept_gap = "where is the left dial kept?";
    let terms = kb_terms(&["dial"]);
    let gap = store.kb_record_gap(D, community, &bo.id, None, kept_gap, &terms, at(6));
    gap.await.unwrap();

    let review = |id: &str, who: &str, text: &str| review_payload(&place, id, who, text);
    let done = finished_job(
        store,
        "prv-del-1",
        review("prv-del-q", "prv-del-ana", ORIGINAL),
        7,
        false,
    )
    .await;
    let failed = finished_job(
        store,
        "prv-del-2",
        review("prv-del-q", "prv-del-ana", EDITED),
        7,
        true,
    )
    .await;
    let other = finished_job(
        store,
        "prv-del-3",
        review("prv-del-q2", "prv-del-bo", "other"),
        7,
        false,
    )
    .await;
    let pending = NewJob::new("prv-del-4", review("prv-del-a", "prv-del-bo", ANSWER));
    let pending = store.enqueue_job(&pending, at(7)).await.unwrap();

    // Its conversation, vouched for and indexed.
    let index = conversation_index(store);
    let key = conversation(&place, &q);
    let indexed = index.vouch(&key, (&place, &q), (false, true), at(8)).await;
    assert!(matches!(indexed, Ok(Indexed::Stored { .. })), "{indexed:?}");
    let before = holding(store, "zorbquux").await;
    assert!(
        before.iter().any(|(table, _)| table == "kb_passages"),
        "{before:?}"
    );

    assert!(store.delete_message(D, &q, at(10)).await.unwrap());
    // As the router does: the conversation is indexed again at once.
    index.index(&key, at(11)).await.unwrap();

    assert_eq!(
        holding(store, "zorbquux").await,
        Vec::<(String, String)>::new()
    );
    assert_eq!(
        holding(store, ORIGINAL).await,
        Vec::<(String, String)>::new()
    );
    let stored = store.message(D, &q).await.unwrap().unwrap();
    assert_eq!(
        (stored.text.as_str(), stored.deleted_at),
        ("", Some(at(10)))
    );
    assert!(store.message_edits(D, &q).await.unwrap().is_empty());
    assert_eq!(gap_questions(store, community).await, [kept_gap]);
    assert_eq!(store.job(done).await.unwrap(), None);
    assert_eq!(store.job(failed).await.unwrap(), None);
    assert!(
        store.job(other).await.unwrap().is_some(),
        "it names another message"
    );
    assert!(
        store.job(pending).await.unwrap().is_some(),
        "pending jobs finish first"
    );
    let answer = store.message(D, &a).await.unwrap().unwrap();
    assert_eq!(answer.text, ANSWER, "the reply keeps its text");
}

/// Retention purges exactly what is older than its cutoffs, and a second purge nothing.
pub async fn retention_purge(store: &Store) {
    const OLD: &str = "ancient glimmerwort notes";
    const NEW: &str = "fresh moonbrine notes";
    let place = location("prv-ret", "general");
    let community = &place.community;
    let ana = author("prv-ret-ana", "Ana");
    // The cutoff is at(1000): one message a millisecond before it, one at it.
    let old = record(store, said("prv-ret-old", &place, &ana, OLD, 999)).await;
    let new = record(store, said("prv-ret-new", &place, &ana, NEW, 1000)).await;
    for (id, text) in [
        (&old, "ancient glimmerwort, revised"),
        (&new, "fresh moonbrine, revised"),
    ] {
        let edited = store.edit_message(D, id, &ana.id, text, at(1500)).await;
        assert_eq!(edited.unwrap(), EditOutcome::Applied);
    }
    for (question, ms) in [("old question", 999), ("new question", 1000)] {
        let gap = store.kb_record_gap(D, community, &ana.id, None, question, &[], at(ms));
        gap.await.unwrap();
    }
    let review = |id: &str, text: &str| review_payload(&place, id, "prv-ret-ana", text);
    let old_job = finished_job(store, "prv-ret-1", review("prv-ret-old", OLD), 999, false).await;
    let new_job = finished_job(store, "prv-ret-2", review("prv-ret-new", NEW), 1000, false).await;
    let elsewhere = review_payload(&location("prv-ret2", "general"), "x", "y", "other");
    let elsewhere = finished_job(store, "prv-ret-3", elsewhere, 999, false).await;
    let pending = NewJob::new("prv-ret-4", review("prv-ret-new", "pending"));
    let pending = store.enqueue_job(&pending, at(500)).await.unwrap();

    // Cases: the cutoff is at(2000).
    let closed_old = case_about(
        store,
        &place,
        "prv-ret-ana",
        "ancient glimmerwort",
        (1, Some(1999)),
    )
    .await;
    appeal(
        store,
        &place,
        (closed_old, "prv-ret-ana"),
        "glimmerwort was a joke",
        1999,
        true,
    )
    .await;
    let closed_recent = case_about(
        store,
        &place,
        "prv-ret-ana",
        "recent excerpt",
        (2, Some(2000)),
    )
    .await;
    let open = case_about(store, &place, "prv-ret-ana", "open excerpt", (3, None)).await;
    let appealing = case_about(
        store,
        &place,
        "prv-ret-ana",
        "appealing excerpt",
        (4, Some(1500)),
    )
    .await;
    appeal(
        store,
        &place,
        (appealing, "prv-ret-ana"),
        "please look again",
        1600,
        false,
    )
    .await;

    let purged = store
        .purge_before(D, community, at(1000), at(2000))
        .await
        .unwrap();
    let expected = Purged {
        messages: 1,
        edits: 1,
        gaps: 1,
        jobs: 1,
        case_excerpts: 1,
    };
    assert_eq!(purged, expected);

    assert_eq!(
        holding(store, "glimmerwort").await,
        Vec::<(String, String)>::new()
    );
    let old = store.message(D, &old).await.unwrap().unwrap();
    assert_eq!(
        (old.text.as_str(), old.deleted_at),
        ("", None),
        "the row stays"
    );
    let new_text = store.message(D, &new).await.unwrap().unwrap().text;
    assert_eq!(new_text, "fresh moonbrine, revised");
    assert_eq!(store.message_edits(D, &new).await.unwrap().len(), 1);
    assert_eq!(gap_questions(store, community).await, ["new question"]);
    assert_eq!(store.job(old_job).await.unwrap(), None);
    for kept in [new_job, elsewhere, pending] {
        assert!(store.job(kept).await.unwrap().is_some(), "job {kept}");
    }
    let excerpt = |number| async move {
        let case = store.case(D, community, number).await.unwrap().unwrap();
        case.excerpt
    };
    assert_eq!(excerpt(closed_old).await, "");
    let appeals = store.appeals(D, community, closed_old).await.unwrap();
    assert_eq!(appeals[0].text, "");
    assert_eq!(excerpt(closed_recent).await, "recent excerpt");
    assert_eq!(excerpt(open).await, "open excerpt");
    assert_eq!(
        excerpt(appealing).await,
        "appealing excerpt",
        "an appeal is waiting"
    );

    let again = store
        .purge_before(D, community, at(1000), at(2000))
        .await
        .unwrap();
    assert_eq!(again, Purged::default());
}
