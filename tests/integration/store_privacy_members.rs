//! The store suite's cases for members' data, continued (run by `store_suite::run_suite` on
//! every backend): forgetting a member leaves no row with their id, name or words (open and
//! recent cases kept and counted), opted-out members and excluded channels are not recorded
//! and a member's id is never stored, and a member's export holds exactly their data.

use steward::core::{Author, Location, Role, ThreadId, UserId};
use steward::knowledge::conversations::Indexed;
use steward::store::{
    member_hash, rfc3339_utc, EditOutcome, ExclusionReason, ExportedEdit, Forgotten, Store,
    Subject, Vote,
};

use crate::store_privacy::{
    appeal, case_about, conversation, conversation_index, finished_job, holding, record,
    review_payload, said, D,
};
use crate::store_suite::{at, author, location};

/// Forgetting a member leaves no row with their id, name or words; another member's messages
/// stay; forgetting again deletes nothing.
pub async fn forget_member(store: &Store) {
    const ZED: &str = "prv-fgt-zed-7q";
    let place = location("prv-fgt", "general");
    let community = &place.community;
    let zed = author(ZED, "Zedrick Quill");
    let yan = author("prv-fgt-yan", "Yan");
    let steward = Author {
        is_bot: true,
        ..author("prv-fgt-steward", "Steward")
    };
    let m1 = record(
        store,
        said("prv-fgt-m1", &place, &zed, "is the snorkelberry ripe?", 1),
    )
    .await;
    let edited = store.edit_message(D, &m1, &zed.id, "is the snorkelberry ripe yet?", at(2));
    assert_eq!(edited.await.unwrap(), EditOutcome::Applied);
    let mut reply = said(
        "prv-fgt-m2",
        &place,
        &yan,
        "yes since last week, pick early",
        3,
    );
    reply.reply_to = Some(m1.clone());
    let m2 = record(store, reply).await;
    let mut thanks = said("prv-fgt-m3", &place, &zed, "thanks, plumquist forever", 4);
    thanks.reply_to = Some(m2.clone());
    let m3 = record(store, thanks).await;
    let answer = record(
        store,
        said("prv-fgt-s1", &place, &steward, "An answer [1].", 5),
    )
    .await;
    assert!(store.mark_answered(D, &m1, at(5)).await.unwrap());

    let gap = store.kb_record_gap(
        D,
        community,
        &zed.id,
        Some(&m1),
        "is the snorkelberry ripe?",
        &[],
        at(6),
    );
    gap.await.unwrap();
    let gap = store.kb_record_gap(
        D,
        community,
        &zed.id,
        None,
        "where is plumquist?",
        &[],
        at(6),
    );
    gap.await.unwrap();
    for (who, value) in [(&zed, 1), (&yan, -1)] {
        let vote = Vote {
            location: place.clone(),
            message: answer.clone(),
            user: who.id.clone(),
            value,
            at: at(7),
        };
        store.record_vote(&vote).await.unwrap();
    }
    let role = store.record_member_role(D, community, &zed.id, Role::Member, at(7));
    role.await.unwrap();
    let payload = review_payload(&place, "prv-fgt-m1", ZED, "is the snorkelberry ripe?");
    let job = finished_job(store, "prv-fgt-1", payload, 8, false).await;
    let closed = case_about(store, &place, ZED, "snorkelberry", (8, Some(10))).await;
    appeal(
        store,
        &place,
        (closed, ZED),
        "snorkelberry was a joke",
        11,
        true,
    )
    .await;

    // Their conversation, vouched for and indexed; the caller finds it before forgetting.
    let index = conversation_index(store);
    let key = conversation(&place, &m1);
    let indexed = index
        .vouch(&key, (&place, &m1), (false, true), at(12))
        .await;
    assert!(matches!(indexed, Ok(Indexed::Stored { .. })), "{indexed:?}");
    let roots = store.kb_conversation_roots(D, community).await.unwrap();
    assert_eq!(roots, [(place.channel.clone(), m1.clone())]);
    let theirs = store
        .member_message_ids(D, community, &zed.id)
        .await
        .unwrap();
    assert_eq!(theirs, [m1.clone(), m3.clone()]);

    let documents = vec![(key.scope(), key.path())];
    let forgotten = store
        .forget_member(D, community, &zed.id, &documents, at(100), at(200))
        .await
        .unwrap();
    let expected = Forgotten {
        messages: 2,
        gaps: 2,
        votes: 1,
        cases_deleted: 1,
        cases_kept: 0,
        documents: 1,
    };
    assert_eq!(forgotten, expected);
    // As the feature does: their conversations are indexed again without them.
    index.index(&key, at(201)).await.unwrap();

    for needle in [ZED, "Zedrick", "snorkelberry", "plumquist"] {
        let left = holding(store, needle).await;
        assert_eq!(left, Vec::<(String, String)>::new(), "{needle}");
    }
    assert_eq!(store.user_display_name(D, &zed.id).await.unwrap(), None);
    assert_eq!(
        store.member_role(D, community, &zed.id).await.unwrap(),
        None
    );
    assert_eq!(store.message(D, &m1).await.unwrap(), None);
    assert_eq!(store.job(job).await.unwrap(), None);
    assert_eq!(store.case(D, community, closed).await.unwrap(), None);
    // Another member's message and vote stay.
    let kept = store.message(D, &m2).await.unwrap().unwrap();
    assert_eq!(kept.text, "yes since last week, pick early");
    assert_eq!(store.vote(D, &answer, &yan.id).await.unwrap(), Some(-1));
    // Not recorded from now on, and forgetting again deletes nothing.
    let excluded = store.member_exclusion(D, community, &zed.id).await.unwrap();
    assert_eq!(excluded, Some(ExclusionReason::Forgotten));
    assert!(!store.is_recorded(&place, &zed.id).await.unwrap());
    let again = store
        .forget_member(D, community, &zed.id, &documents, at(100), at(300))
        .await
        .unwrap();
    assert_eq!(again, Forgotten::default());
    assert!(store
        .member_message_ids(D, community, &zed.id)
        .await
        .unwrap()
        .is_empty());
}

/// Cases about a forgotten member stay while open or recently closed, and are counted.
pub async fn forget_keeps_open_cases(store: &Store) {
    const WREN: &str = "prv-keep-wren";
    let place = location("prv-keep", "general");
    let community = &place.community;
    let open = case_about(store, &place, WREN, "open", (1, None)).await;
    let recent = case_about(store, &place, WREN, "recent", (2, Some(150))).await;
    let old = case_about(store, &place, WREN, "old", (3, Some(50))).await;
    let other = case_about(
        store,
        &place,
        "prv-keep-xia",
        "someone else's",
        (4, Some(50)),
    )
    .await;

    let wren = UserId::new(WREN);
    let forgotten = store
        .forget_member(D, community, &wren, &[], at(100), at(200))
        .await
        .unwrap();
    let expected = Forgotten {
        cases_deleted: 1,
        cases_kept: 2,
        ..Forgotten::default()
    };
    assert_eq!(forgotten, expected);
    for (number, exists) in [(open, true), (recent, true), (old, false), (other, true)] {
        let case = store.case(D, community, number).await.unwrap();
        assert_eq!(case.is_some(), exists, "case {number}");
    }
}

/// Opted-out members and excluded channels are not recorded; the member's id is never stored.
pub async fn exclusions(store: &Store) {
    const OPAL: &str = "prv-excl-opal";
    let place = location("prv-excl", "general");
    let community = &place.community;
    let thread = place.in_thread(ThreadId::new("prv-excl-thread"));
    let elsewhere = location("prv-excl", "random");
    let (opal, other) = (UserId::new(OPAL), UserId::new("prv-excl-pim"));
    let recorded = |place: &Location, user: &UserId| {
        let (place, user) = (place.clone(), user.clone());
        async move { store.is_recorded(&place, &user).await.unwrap() }
    };
    assert!(recorded(&place, &opal).await);
    assert_eq!(
        store.member_exclusion(D, community, &opal).await.unwrap(),
        None
    );

    let member = Subject::Member(opal.clone());
    let opt_out = ExclusionReason::OptOut;
    assert!(store
        .exclude(D, community, &member, opt_out, at(1))
        .await
        .unwrap());
    assert!(!store
        .exclude(D, community, &member, opt_out, at(2))
        .await
        .unwrap());
    let reason = store.member_exclusion(D, community, &opal).await.unwrap();
    assert_eq!(reason, Some(ExclusionReason::OptOut));
    assert!(!recorded(&place, &opal).await);
    assert!(
        !recorded(&elsewhere, &opal).await,
        "anywhere in the community"
    );
    assert!(recorded(&place, &other).await);
    assert!(
        recorded(&location("prv-excl2", "general"), &opal).await,
        "another community"
    );
    // The member's id is stored as its hash only.
    assert_eq!(holding(store, OPAL).await, Vec::<(String, String)>::new());
    let hash = member_hash(D, community, &opal);
    let stored = vec![("privacy_exclusions".to_string(), "subject".to_string())];
    assert_eq!(holding(store, &hash).await, stored);

    // A channel, with its threads.
    let channel = Subject::Channel(place.channel.clone());
    let moderator = ExclusionReason::Moderator;
    assert!(store
        .exclude(D, community, &channel, moderator, at(3))
        .await
        .unwrap());
    assert!(!recorded(&place, &other).await);
    assert!(!recorded(&thread, &other).await);
    assert!(recorded(&elsewhere, &other).await);
    assert!(store.include(D, community, &channel).await.unwrap());
    assert!(recorded(&thread, &other).await);

    // Opting in restores, whatever the reason (forgotten included).
    assert!(store.include(D, community, &member).await.unwrap());
    assert!(!store.include(D, community, &member).await.unwrap());
    assert!(recorded(&place, &opal).await);
    let forgotten = ExclusionReason::Forgotten;
    assert!(store
        .exclude(D, community, &member, forgotten, at(4))
        .await
        .unwrap());
    // A later exclusion takes the new reason.
    assert!(!store
        .exclude(D, community, &member, opt_out, at(5))
        .await
        .unwrap());
    let reason = store.member_exclusion(D, community, &opal).await.unwrap();
    assert_eq!(reason, Some(ExclusionReason::OptOut));
    assert!(store.include(D, community, &member).await.unwrap());
    assert_eq!(
        store.member_exclusion(D, community, &opal).await.unwrap(),
        None
    );
}

/// A member's export holds exactly their data in the community.
pub async fn export(store: &Store) {
    let place = location("prv-exp", "general");
    let community = &place.community;
    let thread = place.in_thread(ThreadId::new("prv-exp-thread"));
    let uma = author("prv-exp-uma", "Uma");
    let vic = author("prv-exp-vic", "Vic");
    let steward = Author {
        is_bot: true,
        ..author("prv-exp-steward", "Steward")
    };
    let e1 = record(store, said("prv-exp-e1", &place, &uma, "first words", 1)).await;
    let edited = store.edit_message(D, &e1, &uma.id, "first words, fixed", at(2));
    assert_eq!(edited.await.unwrap(), EditOutcome::Applied);
    let mut second = said("prv-exp-e2", &thread, &uma, "second words", 3);
    second.reply_to = Some(e1.clone());
    let e2 = record(store, second).await;
    let e3 = record(store, said("prv-exp-e3", &place, &uma, "third words", 4)).await;
    assert!(store.delete_message(D, &e3, at(5)).await.unwrap());
    record(store, said("prv-exp-v1", &place, &vic, "not hers", 5)).await;
    let answer = record(store, said("prv-exp-s1", &place, &steward, "An answer.", 6)).await;
    let away = location("prv-exp2", "general");
    record(store, said("prv-exp2-u1", &away, &uma, "another guild", 6)).await;

    let gap = store.kb_record_gap(D, community, &uma.id, Some(&e1), "first words?", &[], at(7));
    gap.await.unwrap();
    let wes = UserId::new("prv-exp-wes");
    let gap = store.kb_record_gap(D, community, &wes, None, "not hers?", &[], at(7));
    gap.await.unwrap();
    for (who, value) in [(&uma.id, 1), (&vic.id, -1)] {
        let vote = Vote {
            location: place.clone(),
            message: answer.clone(),
            user: who.clone(),
            value,
            at: at(8),
        };
        store.record_vote(&vote).await.unwrap();
    }
    let role = store.record_member_role(D, community, &uma.id, Role::Moderator, at(8));
    role.await.unwrap();
    let number = case_about(store, &place, "prv-exp-uma", "first words", (9, None)).await;
    appeal(
        store,
        &place,
        (number, "prv-exp-uma"),
        "I meant it kindly",
        10,
        false,
    )
    .await;

    let export = store.export_member(D, community, &uma.id).await.unwrap();
    assert_eq!(
        (
            export.platform.as_str(),
            export.community.as_str(),
            export.user.as_str()
        ),
        ("discord", "prv-exp-community", "prv-exp-uma")
    );
    assert_eq!(export.display_name.as_deref(), Some("Uma"));
    assert_eq!(export.role.as_deref(), Some("moderator"));
    assert!(!export.excluded);
    let ids: Vec<&str> = export.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, [e1.as_str(), e2.as_str(), e3.as_str()]);
    let first = &export.messages[0];
    assert_eq!(first.text, "first words, fixed");
    assert_eq!(first.created_at, "2023-11-14T22:13:20.001Z");
    assert_eq!(first.edited_at, Some(rfc3339_utc(at(2))));
    let earlier = ExportedEdit {
        text: "first words".into(),
        edited_at: rfc3339_utc(at(2)),
    };
    assert_eq!(first.edits, [earlier]);
    let second = &export.messages[1];
    assert_eq!(second.thread.as_deref(), Some("prv-exp-thread"));
    assert_eq!(second.reply_to.as_deref(), Some(e1.as_str()));
    assert!(second.edits.is_empty() && !second.deleted);
    let third = &export.messages[2];
    assert!(third.deleted && third.text.is_empty());
    assert_eq!(export.questions_unanswered.len(), 1);
    let asked = &export.questions_unanswered[0];
    assert_eq!(asked.question, "first words?");
    assert_eq!(asked.message.as_deref(), Some(e1.as_str()));
    assert_eq!(export.votes.len(), 1);
    assert_eq!(export.votes[0].answer, answer.as_str());
    assert_eq!(export.votes[0].vote, "up");
    assert_eq!(export.cases.len(), 1);
    assert_eq!(export.cases[0].number, number);
    assert_eq!(export.cases[0].excerpt, "first words");
    assert_eq!(export.cases[0].status, "open");
    assert_eq!(export.appeals.len(), 1);
    assert_eq!(export.appeals[0].case, number);
    assert_eq!(export.appeals[0].text, "I meant it kindly");
    let json = serde_json::to_string_pretty(&export).unwrap();
    assert!(json.contains("\"questions_unanswered\""), "{json}");

    // Someone nothing is stored about: empty lists.
    let nobody = UserId::new("prv-exp-nobody");
    let empty = store.export_member(D, community, &nobody).await.unwrap();
    assert_eq!(
        (empty.display_name, empty.role, empty.excluded),
        (None, None, false)
    );
    assert!(empty.messages.is_empty() && empty.questions_unanswered.is_empty());
    assert!(empty.votes.is_empty() && empty.cases.is_empty() && empty.appeals.is_empty());

    // Whom an owner's export of the community covers, and the communities known.
    let members = store.community_members(D, community).await.unwrap();
    let members: Vec<&str> = members.iter().map(UserId::as_str).collect();
    assert_eq!(
        members,
        [
            "prv-exp-steward",
            "prv-exp-uma",
            "prv-exp-vic",
            "prv-exp-wes"
        ]
    );
    let communities = store.communities().await.unwrap();
    assert!(communities.contains(&(D, community.clone())));
    assert!(communities.contains(&(D, away.community.clone())));
}
