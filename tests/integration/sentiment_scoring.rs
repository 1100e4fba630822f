//! Background sentiment scoring (`insights::scoring::score_pending`) on a real SQLite store:
//! every member's message with words is scored once, with the lexical stage's labels for clear
//! English and Chinese messages; bots' messages, empty ones and messages deleted before the
//! round never are; a second round finds nothing; the model's labels replace the lexical ones
//! (one background request per batch), and a failing model leaves the lexical results after
//! one request.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use steward::config::SentimentModel;
use steward::core::{
    Author, ChannelId, CommunityId, Location, Message, MessageId, Platform, Role, UserId,
};
use steward::insights::scoring::{score_pending, ScoringRound};
use steward::llm::{Engine, LlmError, Priority};
use steward::prompts::Prompts;
use steward::sentiment::ModelClassifier;
use steward::store::{Store, WindowMessage};

use crate::scripted::Scripted;

/// Clear messages and the label the lexical stage gives each.
const CLEAR: [(&str, &str, &str); 6] = [
    ("en-pos", "Thanks so much, this is amazing!", "positive"),
    (
        "en-neg",
        "this build system is terrible and I hate it",
        "negative",
    ),
    (
        "en-neu",
        "How do I set the worker count in tokio?",
        "neutral",
    ),
    ("zh-pos", "太棒了，感谢！", "positive"),
    ("zh-neg", "垃圾，又崩溃了", "negative"),
    ("zh-neu", "怎么设置连接池大小？", "neutral"),
];

fn community() -> CommunityId {
    CommunityId::new("scoring")
}

/// A message of the test community, `age_secs` old.
fn message(id: &str, text: &str, is_bot: bool, age_secs: u64) -> Message {
    Message {
        id: MessageId::new(id),
        location: Location {
            platform: Platform::Console,
            community: community(),
            channel: ChannelId::new("general"),
            thread: None,
        },
        author: Author {
            id: UserId::new(if is_bot { "steward" } else { "member" }),
            display_name: "someone".into(),
            role: Role::Member,
            is_bot,
        },
        text: text.into(),
        created_at: SystemTime::now() - Duration::from_secs(age_secs),
        reply_to: None,
        mentions_bot: false,
        replies_to_bot: false,
    }
}

/// A SQLite file in `dir` holding the clear messages, a bot's message, an empty message and
/// one deleted before any round.
async fn history(dir: &tempfile::TempDir) -> Store {
    let url = format!("sqlite://{}/steward.db", dir.path().display());
    let store = Store::open(&url).await.unwrap();
    for (age, (id, text, _)) in CLEAR.iter().enumerate() {
        let recorded = message(id, text, false, 100 - age as u64);
        assert!(store.record_message(&recorded).await.unwrap());
    }
    let others = [
        message("bot", "Great question! Glad to help, thanks!", true, 50),
        message("empty", "", false, 40),
        message(
            "gone",
            "I love this community, you are all amazing",
            false,
            30,
        ),
    ];
    for other in &others {
        assert!(store.record_message(other).await.unwrap());
    }
    let gone = MessageId::new("gone");
    let deleted = store.delete_message(Platform::Console, &gone, SystemTime::now());
    assert!(deleted.await.unwrap());
    store
}

/// Every message of the last hour.
async fn window(store: &Store) -> Vec<WindowMessage> {
    let now = SystemTime::now();
    let from = now - Duration::from_secs(3600);
    let until = now + Duration::from_secs(60);
    let community = community();
    let window = store.window_messages(Platform::Console, &community, None, from, until);
    window.await.unwrap()
}

fn find<'a>(messages: &'a [WindowMessage], id: &str) -> &'a WindowMessage {
    messages
        .iter()
        .find(|m| m.message.as_str() == id)
        .unwrap_or_else(|| panic!("{id} is in the window"))
}

fn classifier(engine: Arc<dyn Engine>) -> ModelClassifier {
    ModelClassifier::new(
        engine,
        Arc::new(Prompts::builtin()),
        Duration::from_secs(30),
    )
}

#[tokio::test]
async fn every_members_message_is_scored_once_by_the_lexical_stage() {
    let dir = tempfile::tempdir().unwrap();
    let store = history(&dir).await;
    assert_eq!(store.count_unscored(None).await.unwrap(), 6);

    let round = score_pending(&store, None, SentimentModel::Unsure, 16, 100)
        .await
        .unwrap();
    assert_eq!(
        round,
        ScoringRound {
            scored: 6,
            by_model: 0,
            skipped: 0
        }
    );
    let messages = window(&store).await;
    for (id, _, label) in CLEAR {
        let (got, score) = find(&messages, id).sentiment.clone().expect(id);
        assert_eq!(got, label, "{id}");
        assert!((-1.0..=1.0).contains(&score), "{id}: {score}");
        match label {
            "positive" => assert!(score > 0.0, "{id}: {score}"),
            "negative" => assert!(score < 0.0, "{id}: {score}"),
            _ => assert!(score.abs() < 0.05, "{id}: {score}"),
        }
    }
    let bot = find(&messages, "bot");
    assert!(bot.author_is_bot);
    assert_eq!(bot.sentiment, None, "bots are never scored");
    assert_eq!(find(&messages, "empty").sentiment, None);
    let gone = find(&messages, "gone");
    assert!(gone.deleted);
    assert_eq!(gone.sentiment, None, "deleted before the round");

    // Nothing is left: the next round reads nothing and writes nothing.
    let again = score_pending(&store, None, SentimentModel::Unsure, 16, 100);
    assert_eq!(again.await.unwrap(), ScoringRound::default());
    assert_eq!(store.count_unscored(None).await.unwrap(), 0);

    // A message recorded later is scored by the next round, within its limit.
    for (n, text) in ["great work!", "太糟糕了", "see the README"]
        .iter()
        .enumerate()
    {
        let late = message(&format!("late-{n}"), text, false, 5);
        store.record_message(&late).await.unwrap();
    }
    let first = score_pending(&store, None, SentimentModel::Off, 16, 2);
    assert_eq!(first.await.unwrap().scored, 2, "at most the limit");
    let rest = score_pending(&store, None, SentimentModel::Off, 16, 2);
    assert_eq!(rest.await.unwrap().scored, 1);
    let messages = window(&store).await;
    let label = |id: &str| find(&messages, id).sentiment.clone().map(|s| s.0);
    assert_eq!(label("late-0").as_deref(), Some("positive"));
    assert_eq!(label("late-1").as_deref(), Some("negative"));
    assert_eq!(label("late-2").as_deref(), Some("neutral"));
    store.close().await;
}

#[tokio::test]
async fn the_models_labels_replace_the_lexical_ones_in_one_background_request() {
    let dir = tempfile::tempdir().unwrap();
    let store = history(&dir).await;
    // Every message negative, even the praise: the answer shows which stage decided.
    let engine = Arc::new(Scripted::new(Ok(r#"{"labels":"------"}"#)));
    let model = classifier(engine.clone());
    let round = score_pending(&store, Some(&model), SentimentModel::All, 16, 100)
        .await
        .unwrap();
    assert_eq!((round.scored, round.by_model), (6, 6));
    {
        let seen = engine.seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "one batch");
        assert_eq!(seen[0].priority, Priority::Background);
    }
    let messages = window(&store).await;
    for (id, _, _) in CLEAR {
        let (label, score) = find(&messages, id).sentiment.clone().expect(id);
        assert_eq!(label, "negative", "{id}");
        // A model label's score: 0.3 to 0.8 on its side (sentiment::model::model_score).
        assert!((-0.81..=-0.29).contains(&score), "{id}: {score}");
    }
    assert_eq!(find(&messages, "bot").sentiment, None);
    store.close().await;
}

#[tokio::test]
async fn a_failing_model_leaves_the_lexical_results_after_one_request() {
    let dir = tempfile::tempdir().unwrap();
    let store = history(&dir).await;
    let overloaded: fn() -> LlmError = || LlmError::Overloaded {
        queued: 16,
        capacity: 16,
    };
    let engine = Arc::new(Scripted::new(Err(overloaded)));
    let model = classifier(engine.clone());
    // Three batches of two; the first fails and the round stops asking.
    let round = score_pending(&store, Some(&model), SentimentModel::All, 2, 100)
        .await
        .unwrap();
    assert_eq!((round.scored, round.by_model), (6, 0));
    assert_eq!(engine.seen.lock().unwrap().len(), 1);
    let messages = window(&store).await;
    for (id, _, label) in CLEAR {
        let (got, _) = find(&messages, id).sentiment.clone().expect(id);
        assert_eq!(got, label, "{id}");
    }
    // Scored is scored: the next round does not retry them.
    let again = score_pending(&store, Some(&model), SentimentModel::All, 2, 100);
    assert_eq!(again.await.unwrap(), ScoringRound::default());
    assert_eq!(engine.seen.lock().unwrap().len(), 1);
    store.close().await;
}
