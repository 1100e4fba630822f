//! The store suite's cases for community insights (run by `store_suite::run_suite` on every
//! backend): sentiment waits for messages with words and never lands on one deleted or
//! forgotten meanwhile; a window's messages carry roles, bot flags, threads, sentiment and
//! reaction counts of their own community only; reaction counts never go below 0; an alert and
//! a digest are claimed once; and deleting, forgetting and retention take a message's sentiment
//! and reaction counts along.
//!
//! Cases share one database per backend, so every id starts with `ins-` and counts are
//! compared before and after.

use std::time::Duration;

use steward::core::{Author, ChannelId, CommunityId, MessageId, Platform, Role, ThreadId};
use steward::store::{AlertKind, MessageSentiment, Store, WindowMessage};

use crate::store_privacy::{holding, record, said, D};
use crate::store_suite::{at, author, location};

/// A score for `message` on Discord.
fn scored(
    message: &MessageId,
    label: &'static str,
    score: f32,
    stage: &'static str,
) -> MessageSentiment {
    MessageSentiment {
        platform: D,
        message: message.clone(),
        label,
        score,
        stage,
    }
}

/// The ids of the unscored Discord messages whose id starts with `prefix`, oldest first.
async fn unscored(store: &Store, prefix: &str) -> Vec<MessageId> {
    let all = store.unscored_messages(Some(D), 100_000).await.unwrap();
    all.into_iter()
        .filter(|m| m.message.as_str().starts_with(prefix))
        .map(|m| m.message)
        .collect()
}

/// Every message of the community (any channel) in the first 10 s of the test clock.
async fn window(store: &Store, community: &CommunityId) -> Vec<WindowMessage> {
    let window = store.window_messages(D, community, None, at(0), at(10_000));
    window.await.unwrap()
}

/// The message `id` of `messages`.
fn find<'a>(messages: &'a [WindowMessage], id: &MessageId) -> &'a WindowMessage {
    messages
        .iter()
        .find(|m| &m.message == id)
        .unwrap_or_else(|| panic!("{id} is in the window"))
}

fn ids(messages: &[WindowMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.message.as_str()).collect()
}

fn no_rows() -> Vec<(String, String)> {
    Vec::new()
}

/// Members' messages with words wait for a score; a score lands only on a message that still
/// has its words (deleted or forgotten since it was read: skipped), and a later one replaces it.
pub async fn sentiment(store: &Store) {
    let place = location("ins-sen", "general");
    let community = &place.community;
    let (ana, cy) = (author("ins-sen-ana", "Ana"), author("ins-sen-cy", "Cy"));
    let bot = Author {
        is_bot: true,
        ..author("ins-sen-bot", "Bot")
    };
    let kept = record(store, said("ins-sen-1", &place, &ana, "this is great", 1)).await;
    let raced = record(store, said("ins-sen-2", &place, &ana, "this is awful", 2)).await;
    let forgotten = record(store, said("ins-sen-3", &place, &cy, "so-so", 3)).await;
    record(store, said("ins-sen-4", &place, &bot, "An answer.", 4)).await;
    // A message without words (an image alone) has nothing to score.
    record(store, said("ins-sen-5", &place, &ana, "", 5)).await;
    let old = record(store, said("ins-sen-6", &place, &ana, "deleted first", 6)).await;
    assert!(store.delete_message(D, &old, at(7)).await.unwrap());

    let before = store.count_unscored(Some(D)).await.unwrap();
    assert!(store.count_unscored(None).await.unwrap() >= before);
    assert_eq!(
        unscored(store, "ins-sen-").await,
        [kept.clone(), raced.clone(), forgotten.clone()]
    );
    let elsewhere = store.unscored_messages(Some(Platform::Matrix), 100_000);
    let elsewhere = elsewhere.await.unwrap();
    assert!(elsewhere
        .iter()
        .all(|m| !m.message.as_str().starts_with("ins-sen-")));
    let read = store.unscored_messages(Some(D), 100_000).await.unwrap();
    let first = read.iter().find(|m| m.message == kept).unwrap();
    assert_eq!((first.platform, first.text.as_str()), (D, "this is great"));

    // Scoring takes a while: meanwhile one message is deleted, its author forgets another's.
    assert!(store.delete_message(D, &raced, at(8)).await.unwrap());
    let forget = store.forget_member(D, community, &cy.id, &[], at(0), at(8));
    forget.await.unwrap();
    let scores = [
        scored(&kept, "positive", 0.62, "lexical"),
        scored(&raced, "negative", -0.5, "lexical"),
        scored(&forgotten, "neutral", 0.0, "lexical"),
    ];
    assert_eq!(store.save_sentiments(&scores, at(9)).await.unwrap(), 1);
    assert!(unscored(store, "ins-sen-").await.is_empty());
    assert_eq!(store.count_unscored(Some(D)).await.unwrap(), before - 3);
    assert_eq!(store.save_sentiments(&[], at(9)).await.unwrap(), 0);

    let messages = window(store, community).await;
    let sentiment = find(&messages, &kept).sentiment.clone();
    let (label, score) = sentiment.expect("scored");
    assert_eq!(label, "positive");
    assert!((score - 0.62).abs() < 1e-6, "{score}");
    assert_eq!(find(&messages, &raced).sentiment, None);

    // The model's reading replaces the lexical one.
    let again = [scored(&kept, "negative", -0.6, "model")];
    assert_eq!(store.save_sentiments(&again, at(10)).await.unwrap(), 1);
    let messages = window(store, community).await;
    let (label, score) = find(&messages, &kept).sentiment.clone().unwrap();
    assert_eq!(label, "negative");
    assert!((score + 0.6).abs() < 1e-6, "{score}");
}

/// A window holds the community's messages in [from, until), with their authors' roles and
/// bot flags, their threads under their channel, sentiment and reaction counts.
pub async fn window_messages(store: &Store) {
    let general = location("ins-win", "general");
    let community = &general.community;
    let thread = general.in_thread(ThreadId::new("ins-win-thread"));
    let random = location("ins-win", "random");
    let away = location("ins-win2", "general");
    let (ana, bo) = (author("ins-win-ana", "Ana"), author("ins-win-bo", "Bo"));
    let (cy, dee) = (author("ins-win-cy", "Cy"), author("ins-win-dee", "Dee"));
    let bot = Author {
        is_bot: true,
        ..author("ins-win-bot", "Bot")
    };
    let role = store.record_member_role(D, community, &ana.id, Role::Moderator, at(1));
    role.await.unwrap();

    record(
        store,
        said("ins-win-0", &general, &ana, "before the window", 5),
    )
    .await;
    let w1 = record(
        store,
        said("ins-win-1", &general, &ana, "how do I start?", 10),
    )
    .await;
    let mut reply = said("ins-win-2", &thread, &bo, "like this", 20);
    reply.reply_to = Some(w1.clone());
    let w2 = record(store, reply).await;
    record(store, said("ins-win-x", &away, &ana, "another guild", 25)).await;
    let w3 = record(store, said("ins-win-3", &general, &bot, "An answer.", 30)).await;
    let w4 = record(store, said("ins-win-4", &random, &bo, "elsewhere", 40)).await;
    record(store, said("ins-win-7", &general, &dee, "hello all", 50)).await;
    record(
        store,
        said("ins-win-6", &general, &cy, "just too late", 100),
    )
    .await;
    assert!(store.delete_message(D, &w4, at(60)).await.unwrap());

    let scores = [scored(&w1, "negative", -0.5, "lexical")];
    assert_eq!(store.save_sentiments(&scores, at(70)).await.unwrap(), 1);
    for emoji in ["👍", "👍", "🎉"] {
        store.count_reaction(D, &w1, emoji, true).await.unwrap();
    }

    let read = |channel: Option<&'static str>| async move {
        let channel = channel.map(ChannelId::new);
        let window = store.window_messages(D, community, channel.as_ref(), at(10), at(100));
        window.await.unwrap()
    };
    let all = read(None).await;
    assert_eq!(
        ids(&all),
        [
            "ins-win-1",
            "ins-win-2",
            "ins-win-3",
            "ins-win-4",
            "ins-win-7"
        ]
    );
    let first = &all[0];
    assert_eq!(first.location, general);
    assert_eq!(first.author, ana.id);
    assert!(!first.author_is_bot);
    assert_eq!(first.author_role, Some(Role::Moderator));
    assert_eq!((first.reply_to.clone(), first.created_at), (None, at(10)));
    assert_eq!(
        (first.text.as_str(), first.deleted),
        ("how do I start?", false)
    );
    let (label, score) = first.sentiment.clone().unwrap();
    assert_eq!(label, "negative");
    assert!((score + 0.5).abs() < 1e-6, "{score}");
    assert_eq!(first.reactions, 3);
    let second = find(&all, &w2);
    assert_eq!(second.location, thread);
    assert_eq!(
        (second.author_role, second.reply_to.clone()),
        (None, Some(w1.clone()))
    );
    assert_eq!((second.sentiment.clone(), second.reactions), (None, 0));
    assert!(find(&all, &w3).author_is_bot);
    let deleted = find(&all, &w4);
    assert!(deleted.deleted && deleted.text.is_empty());

    // A channel with its threads; another channel.
    let in_general = read(Some("ins-win-general")).await;
    assert_eq!(
        ids(&in_general),
        ["ins-win-1", "ins-win-2", "ins-win-3", "ins-win-7"]
    );
    assert_eq!(ids(&read(Some("ins-win-random")).await), ["ins-win-4"]);
    assert!(read(Some("ins-win-nowhere")).await.is_empty());

    let channels = store.active_channels(D, community, at(10)).await.unwrap();
    let (g, r) = (general.channel.clone(), random.channel.clone());
    assert_eq!(channels, [g.clone(), r]);
    let recent = store.active_channels(D, community, at(45)).await.unwrap();
    assert_eq!(recent, [g]);

    // Ana posted before the window, Cy at its end, the bot does not count.
    let new = store.first_time_posters(D, community, at(10), at(100));
    assert_eq!(new.await.unwrap(), [bo.id.clone(), dee.id.clone()]);
    let later = store.first_time_posters(D, community, at(100), at(200));
    assert_eq!(later.await.unwrap(), [cy.id.clone()]);
}

/// Reaction counts go up and down per emoji, never below 0, and only on recorded messages
/// that are not deleted.
pub async fn reaction_counts(store: &Store) {
    let place = location("ins-rx", "general");
    let community = &place.community;
    let ana = author("ins-rx-ana", "Ana");
    let m = record(store, said("ins-rx-1", &place, &ana, "look at this", 1)).await;
    let count = |emoji: &'static str, added: bool| {
        let m = m.clone();
        async move { store.count_reaction(D, &m, emoji, added).await.unwrap() }
    };
    let reactions = || async move { window(store, community).await[0].reactions };

    count("🦩", true).await;
    count("🦩", true).await;
    count("🦭", true).await;
    assert_eq!(reactions().await, 3);
    for _ in 0..3 {
        count("🦩", false).await;
    }
    assert_eq!(reactions().await, 1, "never below 0");
    // A count back at 0 leaves no row.
    assert_eq!(holding(store, "🦩").await, no_rows());
    count("🦩", true).await;
    assert_eq!(reactions().await, 2);
    let rows = vec![("message_reactions".to_string(), "emoji".to_string())];
    assert_eq!(holding(store, "🦩").await, rows);

    // Messages the store did not record, or that were deleted, are not counted.
    let unknown = MessageId::new("ins-rx-unknown");
    store.count_reaction(D, &unknown, "🦜", true).await.unwrap();
    store
        .count_reaction(D, &unknown, "🦜", false)
        .await
        .unwrap();
    let gone = record(store, said("ins-rx-2", &place, &ana, "oops", 2)).await;
    assert!(store.delete_message(D, &gone, at(3)).await.unwrap());
    store.count_reaction(D, &gone, "🦚", true).await.unwrap();
    assert_eq!(holding(store, "🦜").await, no_rows());
    assert_eq!(holding(store, "🦚").await, no_rows());
}

/// An alert is claimed once per (channel, kind, window); a digest once per due time, never one
/// due before the last claimed.
pub async fn alerts_and_digests(store: &Store) {
    let community = CommunityId::new("ins-bk-community");
    let (general, random) = (
        ChannelId::new("ins-bk-general"),
        ChannelId::new("ins-bk-random"),
    );
    let (spike, unanswered) = (AlertKind::NegativeSpike, AlertKind::UnansweredRise);
    let claim = |platform: Platform, channel: &ChannelId, kind: AlertKind, start: u64| {
        let (community, channel) = (community.clone(), channel.clone());
        async move {
            let claimed =
                store.claim_alert(platform, &community, &channel, kind, at(start), at(5000));
            claimed.await.unwrap()
        }
    };
    assert!(claim(D, &general, spike, 1000).await);
    assert!(!claim(D, &general, spike, 1000).await, "once per window");
    assert!(claim(D, &general, unanswered, 1000).await);
    assert!(claim(D, &general, spike, 2000).await);
    assert!(claim(D, &random, spike, 1000).await);
    assert!(claim(Platform::Matrix, &general, spike, 1000).await);

    let week = 7 * 24 * 3_600_000;
    let due = at(week);
    assert_eq!(store.digest_last_due(D, &community).await.unwrap(), None);
    assert!(store
        .claim_digest(D, &community, due, at(week + 5))
        .await
        .unwrap());
    assert_eq!(
        store.digest_last_due(D, &community).await.unwrap(),
        Some(due)
    );
    assert!(
        !store
            .claim_digest(D, &community, due, at(week + 9))
            .await
            .unwrap(),
        "once"
    );
    let earlier = at(week - 1);
    assert!(!store
        .claim_digest(D, &community, earlier, at(week + 9))
        .await
        .unwrap());
    assert_eq!(
        store.digest_last_due(D, &community).await.unwrap(),
        Some(due)
    );
    let next = due + Duration::from_millis(week);
    assert!(store
        .claim_digest(D, &community, next, at(2 * week))
        .await
        .unwrap());
    assert_eq!(
        store.digest_last_due(D, &community).await.unwrap(),
        Some(next)
    );
    let other = CommunityId::new("ins-bk-other");
    assert_eq!(store.digest_last_due(D, &other).await.unwrap(), None);
    assert!(store.claim_digest(D, &other, due, at(week)).await.unwrap());
}

/// Deleting a message, forgetting its author and retention take its sentiment and reaction
/// counts along; what else is there stays. A member's export shows their messages' labels.
pub async fn privacy(store: &Store) {
    let place = location("ins-prv", "general");
    let community = &place.community;
    let (ana, bo) = (author("ins-prv-ana", "Ana"), author("ins-prv-bo", "Bo"));
    let old = record(store, said("ins-prv-old", &place, &ana, "old words", 999)).await;
    let new = record(store, said("ins-prv-new", &place, &ana, "new words", 1000)).await;
    let deleted = record(
        store,
        said("ins-prv-del", &place, &ana, "regret this", 1500),
    )
    .await;
    let bos = record(store, said("ins-prv-bo1", &place, &bo, "bo was here", 1600)).await;
    let stays = record(
        store,
        said("ins-prv-ana2", &place, &ana, "still here", 1700),
    )
    .await;
    let fresh = record(store, said("ins-prv-ana3", &place, &ana, "not yet", 1800)).await;
    let scores: Vec<MessageSentiment> = [&old, &new, &deleted, &bos, &stays]
        .into_iter()
        .map(|m| scored(m, "negative", -0.4, "lexical"))
        .collect();
    assert_eq!(store.save_sentiments(&scores, at(1900)).await.unwrap(), 5);
    for (message, emoji) in [
        (&old, "🐙"),
        (&new, "🦞"),
        (&deleted, "🪼"),
        (&bos, "🦑"),
        (&stays, "🦑"),
    ] {
        store.count_reaction(D, message, emoji, true).await.unwrap();
    }

    let export = store.export_member(D, community, &ana.id).await.unwrap();
    let labels: Vec<(&str, Option<&str>)> = export
        .messages
        .iter()
        .map(|m| (m.id.as_str(), m.sentiment.as_deref()))
        .collect();
    let negative = Some("negative");
    assert_eq!(
        labels,
        [
            (old.as_str(), negative),
            (new.as_str(), negative),
            (deleted.as_str(), negative),
            (stays.as_str(), negative),
            (fresh.as_str(), None)
        ]
    );

    assert!(store.delete_message(D, &deleted, at(2000)).await.unwrap());
    let messages = window(store, community).await;
    let gone = find(&messages, &deleted);
    assert_eq!((gone.sentiment.clone(), gone.reactions), (None, 0));
    assert_eq!(holding(store, "🪼").await, no_rows());

    let forget = store.forget_member(D, community, &bo.id, &[], at(0), at(2100));
    forget.await.unwrap();
    assert_eq!(holding(store, bos.as_str()).await, no_rows());
    let messages = window(store, community).await;
    let kept = find(&messages, &stays);
    assert!(
        kept.sentiment.is_some(),
        "another member's message keeps its sentiment"
    );
    assert_eq!(kept.reactions, 1);

    let purge = store.purge_before(D, community, at(1000), at(0));
    purge.await.unwrap();
    let messages = window(store, community).await;
    let purged = find(&messages, &old);
    assert_eq!((purged.sentiment.clone(), purged.reactions), (None, 0));
    let recent = find(&messages, &new);
    assert!(recent.sentiment.is_some());
    assert_eq!(recent.reactions, 1);
    assert_eq!(holding(store, "🐙").await, no_rows());
    let rows = vec![("message_reactions".to_string(), "emoji".to_string())];
    assert_eq!(holding(store, "🦞").await, rows);
    // A purged message has no words left to score.
    assert_eq!(unscored(store, "ins-prv-").await, [fresh]);
}
