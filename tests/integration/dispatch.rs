//! The router with a scripted engine: which events get answers, and what they say.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use steward::community::Router;
use steward::config::{Config, Language, ModerationSettings};
use steward::core::{
    Action, Author, Body, ChannelId, Command, CommunityId, Event, EventKind, Location, Message,
    MessageId, Platform, Role, UserId,
};
use steward::llm::LlmError;
use steward::metrics::Metrics;
use steward::store::Store;
use tokio::sync::mpsc;

use crate::scripted::Scripted;

pub struct Fixture {
    pub router: Router,
    pub engine: Arc<Scripted>,
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    /// Background actions for the console (verdicts of queued reviews).
    pub background: mpsc::Receiver<Action>,
    _workers: tokio_util::sync::DropGuard,
    _dir: tempfile::TempDir,
}

impl Fixture {
    /// The next background action, waiting up to 10 s.
    pub async fn next_background(&mut self) -> Action {
        tokio::time::timeout(Duration::from_secs(10), self.background.recv())
            .await
            .expect("a background action within 10 s")
            .expect("the outbox is open")
    }
}

async fn fixture(answer: Result<&'static str, fn() -> LlmError>, language: Language) -> Fixture {
    fixture_with(answer, language, ModerationSettings::default()).await
}

/// A router wired as `steward run` wires it, on a fresh SQLite store with a scripted engine,
/// its background workers running.
pub async fn fixture_with(
    answer: Result<&'static str, fn() -> LlmError>,
    language: Language,
    moderation: ModerationSettings,
) -> Fixture {
    fixture_config(answer, |config| {
        config.bot.language = language;
        config.moderation = moderation;
    })
    .await
}

/// Like [`fixture_with`], with any change to the default config.
pub async fn fixture_config(
    answer: Result<&'static str, fn() -> LlmError>,
    change: impl FnOnce(&mut Config),
) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        Store::open(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap(),
    );
    let engine = Arc::new(Scripted::new(answer));
    let mut config = Config::defaults();
    config.model.max_new_tokens = 64;
    config.model.request_timeout = Duration::from_secs(10);
    // Tests expect moderation to act; new communities would otherwise start in a dry run
    // (a test that replaces `config.moderation` chooses for itself).
    config.moderation.new_communities = steward::core::settings::ModerationMode::On;
    change(&mut config);
    let metrics = Metrics::new();
    let router = steward::app::router(&config, store.clone(), engine.clone(), metrics.clone());
    // Some scenarios happen on Discord: its adapter would register these when it starts.
    router.register(steward::platform::discord::capabilities(&discord_settings()));
    let background = router.subscribe(Platform::Console);
    let shutdown = tokio_util::sync::CancellationToken::new();
    router.start_background(&shutdown);
    Fixture {
        router,
        engine,
        store,
        metrics,
        background,
        _workers: shutdown.drop_guard(),
        _dir: dir,
    }
}

/// Waits up to `limit` until the conversation at `path` in `scope` is in the knowledge base
/// with a source that `vouched` accepts (marked, solved), naming `what` if it never is.
pub async fn eventually_indexed(
    store: &Arc<Store>,
    (scope, path): (&str, &str),
    limit: Duration,
    what: &str,
    vouched: fn(&steward::knowledge::MessageSource) -> bool,
) {
    eventually(limit, what, || async move {
        let source = store.kb_conversation_source(scope, path).await.unwrap();
        let documents = store.kb_documents().await.unwrap();
        source.as_ref().is_some_and(vouched)
            && documents.iter().any(|document| document.path == path)
    })
    .await
}

/// Polls `check` every 50 ms until it holds; panics after `limit`, naming `what`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    tokio::time::timeout(limit, async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} within {limit:?}"));
}

/// Default `[discord]` settings (no token: nothing connects).
fn discord_settings() -> steward::config::DiscordSettings {
    steward::config::DiscordSettings {
        application_id: None,
        shard_first: 0,
        shard_last: 0,
        shard_total: 1,
        api_base_url: None,
        gateway_url: None,
        moderator_role: None,
        mod_log_channel: None,
        members_intent: false,
        request_timeout: std::time::Duration::from_secs(15),
        token: None,
    }
}

pub fn location() -> Location {
    Location {
        platform: Platform::Console,
        community: CommunityId::new("c"),
        channel: ChannelId::new("general"),
        thread: None,
    }
}

pub fn author(role: Role, is_bot: bool) -> Author {
    Author {
        id: UserId::new("u1"),
        display_name: "Ana".into(),
        role,
        is_bot,
    }
}

fn message(text: &str, is_bot: bool) -> Event {
    Event::now(EventKind::MessagePosted(Message {
        id: MessageId::new(format!("m-{text}")),
        location: location(),
        author: author(Role::Member, is_bot),
        text: text.into(),
        created_at: SystemTime::now(),
        reply_to: None,
        mentions_bot: false,
        replies_to_bot: false,
    }))
}

fn command(command: Command) -> Event {
    Event::now(EventKind::CommandInvoked {
        location: location(),
        invoker: author(Role::Member, false),
        command,
        message: Some(MessageId::new("m-cmd")),
    })
}

/// The text of the single reply in `actions`.
pub async fn reply_text(mut actions: Vec<Action>) -> String {
    assert_eq!(actions.len(), 1, "{actions:?}");
    match actions.remove(0) {
        Action::Reply(reply) => match reply.body {
            Body::Text(text) => text,
            Body::Streaming(stream) => {
                let (text, failure) = stream.collect_text().await;
                failure.map(|f| format!("{text}[{f}]")).unwrap_or(text)
            }
        },
        other => panic!("expected a reply, got {other:?}"),
    }
}

#[tokio::test]
async fn which_messages_get_answers() {
    let f = fixture(Ok("Paris is the capital."), Language::English).await;
    // (event, expected number of actions)
    let cases = [
        (message("hello everyone", false), 0),
        (message("@steward what is the capital of France?", false), 1),
        (message("@Steward: what is the capital of France?", true), 0),
        (message("@stewardship matters", false), 0),
    ];
    for (event, expected) in cases {
        let shown = format!("{event:?}");
        assert_eq!(f.router.handle(event).await.len(), expected, "{shown}");
    }
    let seen = f.engine.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].messages[0].content,
        "what is the capital of France?"
    );
    assert!(
        seen[0].system.starts_with("You are Steward"),
        "{}",
        seen[0].system
    );
}

#[tokio::test]
async fn ask_streams_the_engine_answer_as_a_reply_to_the_command() {
    let f = fixture(Ok("Paris is the capital."), Language::English).await;
    let mut actions = f
        .router
        .handle(command(Command::Ask {
            question: "Capital of France?".into(),
        }))
        .await;
    match &actions[0] {
        Action::Reply(reply) => {
            assert_eq!(reply.in_reply_to, Some(MessageId::new("m-cmd")));
            assert!(matches!(reply.body, Body::Streaming(_)));
            assert!(!reply.only_invoker);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        reply_text(std::mem::take(&mut actions)).await,
        "Paris is the capital."
    );
}

#[tokio::test]
async fn help_and_empty_questions() {
    let f = fixture(Ok("unused"), Language::English).await;
    let help = reply_text(f.router.handle(command(Command::Help)).await).await;
    assert!(help.contains("/ask <question>"), "{help}");
    let empty = reply_text(
        f.router
            .handle(command(Command::Ask {
                question: " ".into(),
            }))
            .await,
    )
    .await;
    assert!(empty.contains("What would you like to ask"), "{empty}");
    assert!(
        f.engine.seen.lock().unwrap().is_empty(),
        "no model call for an empty question"
    );
}

#[tokio::test]
async fn busy_engine_gets_a_polite_answer() {
    let f = fixture(
        Err(|| LlmError::Overloaded {
            queued: 16,
            capacity: 16,
        }),
        Language::English,
    )
    .await;
    let text = reply_text(f.router.handle(message("@steward hi there?", false)).await).await;
    assert!(text.contains("busy"), "{text}");
}

#[tokio::test]
async fn chinese_community_gets_chinese_strings_and_prompt() {
    let f = fixture(Ok("巴黎。"), Language::Chinese).await;
    let help = reply_text(f.router.handle(command(Command::Help)).await).await;
    assert!(help.contains("命令"), "{help}");
    let answer = reply_text(
        f.router
            .handle(message("@steward法国的首都是哪里？", false))
            .await,
    )
    .await;
    assert_eq!(answer, "巴黎。");
    let seen = f.engine.seen.lock().unwrap();
    assert_eq!(seen[0].messages[0].content, "法国的首都是哪里？");
    assert!(seen[0].system.contains("Answer in Chinese"));
}

fn moderator_command(command: Command, role: Role) -> Event {
    Event::now(EventKind::CommandInvoked {
        location: location(),
        invoker: author(role, false),
        command,
        message: Some(MessageId::new("m-mod")),
    })
}

#[tokio::test]
async fn settings_are_for_moderators_and_switch_the_language() {
    let f = fixture(Ok("Paris."), Language::English).await;
    let set_zh = Command::Setting {
        key: Some("language".into()),
        value: Some("zh".into()),
    };
    // A member is refused, only they see it, and nothing changes.
    let mut actions = f
        .router
        .handle(moderator_command(set_zh.clone(), Role::Member))
        .await;
    match &actions[0] {
        Action::Reply(reply) => assert!(reply.only_invoker),
        other => panic!("{other:?}"),
    }
    let refusal = reply_text(std::mem::take(&mut actions)).await;
    assert!(refusal.contains("only moderators"), "{refusal}");
    let help = reply_text(f.router.handle(command(Command::Help)).await).await;
    assert!(help.contains("Commands:"), "still English: {help}");

    // Bad values and unknown keys are explained.
    let bad = Command::Setting {
        key: Some("language".into()),
        value: Some("fr".into()),
    };
    let text = reply_text(
        f.router
            .handle(moderator_command(bad, Role::Moderator))
            .await,
    )
    .await;
    assert!(
        text.contains("not a valid language") && text.contains("en, zh"),
        "{text}"
    );
    let unknown = Command::Setting {
        key: Some("colour".into()),
        value: None,
    };
    let text = reply_text(
        f.router
            .handle(moderator_command(unknown, Role::Owner))
            .await,
    )
    .await;
    assert!(text.contains("no setting `colour`"), "{text}");

    // A moderator switches the community to Chinese.
    let text = reply_text(
        f.router
            .handle(moderator_command(set_zh, Role::Moderator))
            .await,
    )
    .await;
    assert!(text.contains("language is now zh"), "{text}");
    let help = reply_text(f.router.handle(command(Command::Help)).await).await;
    assert!(help.contains("命令"), "{help}");
    let list = Command::Setting {
        key: None,
        value: None,
    };
    let text = reply_text(
        f.router
            .handle(moderator_command(list, Role::Moderator))
            .await,
    )
    .await;
    assert!(text.contains("language = zh"), "{text}");
    f.router.handle(message("@steward 你好？", false)).await;
    let seen = f.engine.seen.lock().unwrap();
    assert!(seen.last().unwrap().system.contains("Answer in Chinese"));
}

#[tokio::test]
async fn joining_a_community_posts_a_setup_notice() {
    let f = fixture(Ok("unused"), Language::English).await;
    let joined = |notice_location: Option<Location>| {
        Event::now(EventKind::BotAdded {
            platform: Platform::Console,
            community: CommunityId::new("c"),
            community_name: "Rustaceans".into(),
            added_by: Some(UserId::new("owner")),
            notice_location,
        })
    };
    let text = reply_text(f.router.handle(joined(Some(location()))).await).await;
    assert!(
        text.contains("Hello! I'm Steward") && text.contains("/setting"),
        "{text}"
    );
    let actions = f.router.handle(joined(None)).await;
    assert!(
        matches!(&actions[..], [Action::PrivateNotice { user, .. }] if user.as_str() == "owner"),
        "{actions:?}"
    );
}
