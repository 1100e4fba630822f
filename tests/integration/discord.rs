//! The Discord adapter end to end against the local protocol double (`discord_double`): the
//! real adapter, a real router and SQLite store, and either the real default model or a
//! scripted engine. Discord itself is never contacted.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use steward::config::{Config, DiscordSettings, Secret};
use steward::core::{CommunityId, Platform};
use steward::llm::Engine;
use steward::platform::discord::{self, DiscordError};
use steward::store::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::discord_double::payloads::{self, BOT, GUILD, OWNER, WELCOME};
use crate::discord_double::{DiscordDouble, DoubleOptions, TOKEN};
use crate::scripted::scripted;

/// A running adapter connected to a double.
pub struct Bot {
    pub double: DiscordDouble,
    pub store: Arc<Store>,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), DiscordError>>,
    _dir: tempfile::TempDir,
}

pub fn settings(double: &DiscordDouble, token: &str) -> DiscordSettings {
    DiscordSettings {
        application_id: Some(BOT),
        shard_first: 0,
        shard_last: 0,
        shard_total: 1,
        api_base_url: Some(double.api_base.clone()),
        gateway_url: Some(double.gateway_url.clone()),
        moderator_role: None,
        mod_log_channel: None,
        members_intent: false,
        request_timeout: std::time::Duration::from_secs(15),
        token: Some(Secret::new(token.to_string())),
    }
}

pub async fn start(engine: Arc<dyn Engine>, options: DoubleOptions) -> Bot {
    start_with(engine, options, |_, _| {}).await
}

/// [`start`], after `adjust` has changed the config and the `[discord]` settings.
pub async fn start_with(
    engine: Arc<dyn Engine>,
    options: DoubleOptions,
    adjust: impl FnOnce(&mut Config, &mut DiscordSettings),
) -> Bot {
    let double = DiscordDouble::start(options).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults();
    config.model.max_new_tokens = 48;
    let mut settings = settings(&double, TOKEN);
    adjust(&mut config, &mut settings);
    let url = format!("sqlite://{}/steward.db", dir.path().display());
    let store = Arc::new(Store::open(&url).await.unwrap());
    let router = Arc::new(steward::app::router(
        &config,
        store.clone(),
        engine,
        steward::metrics::Metrics::new(),
    ));
    let shutdown = CancellationToken::new();
    router.start_background(&shutdown);
    let stop = shutdown.clone();
    let task = tokio::spawn(async move { discord::run(&settings, router, stop).await });
    Bot {
        double,
        store,
        shutdown,
        task,
        _dir: dir,
    }
}

impl Bot {
    /// Waits until the guild's commands are registered: the bot is connected and has the guild.
    pub async fn ready(&self) {
        let path = format!("/api/v10/applications/{BOT}/guilds/{GUILD}/commands");
        self.double.request("PUT", &path).await;
    }

    /// Cancels the adapter and checks it stopped cleanly.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let result = tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("the adapter stops after cancellation")
            .unwrap();
        assert!(result.is_ok(), "{result:?}");
    }

    /// Messages posted in `channel`, once the last one contains `needle` (case-insensitive).
    pub async fn answer_in(
        &self,
        channel: &str,
        needle: &str,
    ) -> Vec<crate::discord_double::Posted> {
        let what = format!("an answer containing {needle:?} in {channel}");
        let needle = needle.to_lowercase();
        self.double
            .wait_for(&what, |double| {
                let posted: Vec<_> = double
                    .posted()
                    .into_iter()
                    .filter(|p| p.channel == channel)
                    .collect();
                let last = posted.last()?;
                last.content()
                    .to_lowercase()
                    .contains(&needle)
                    .then_some(posted)
            })
            .await
    }
}

fn intents_of(identify: &Value) -> u64 {
    identify["d"]["intents"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_connects_and_sees_its_guild() {
    let bot = start(scripted("unused"), DoubleOptions::default()).await;
    bot.ready().await;
    let identify = bot
        .double
        .wait_for("IDENTIFY", |d| {
            d.bot_sent().into_iter().find(|p| p["op"] == 2)
        })
        .await;
    assert_eq!(
        identify["d"]["token"]
            .as_str()
            .unwrap()
            .trim_start_matches("Bot "),
        TOKEN
    );
    assert_eq!(identify["d"]["shard"], json!([0, 1]));
    let intents = intents_of(&identify);
    // GUILDS, GUILD_MESSAGES, GUILD_MESSAGE_REACTIONS, MESSAGE_CONTENT; not GUILD_MEMBERS.
    assert_eq!(
        intents & (1 | 1 << 9 | 1 << 10 | 1 << 15),
        1 | 1 << 9 | 1 << 10 | 1 << 15
    );
    assert_eq!(intents & (1 << 1), 0, "members intent is opt-in");

    // The slash commands, as registered for the guild.
    let put = bot
        .double
        .request(
            "PUT",
            &format!("/api/v10/applications/{BOT}/guilds/{GUILD}/commands"),
        )
        .await;
    let names: Vec<&str> = put
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ask",
            "summarize",
            "help",
            "setting",
            "cases",
            "case",
            "rules",
            "appeal",
            "kb",
            "Add to knowledge base",
            "privacy",
            "forget-me",
            "report"
        ]
    );
    // The last is a message context-menu command (type 3): no description, no options.
    assert_eq!(put.body[9]["type"], 3, "{}", put.body[9]);
    let case = &put.body[5];
    assert_eq!(
        case["options"][0]["type"], 4,
        "the case number is an integer"
    );
    assert_eq!(
        case["options"][1]["choices"].as_array().map(Vec::len),
        Some(8),
        "dismiss, resolve, delete, timeout, kick, ban, uphold, reverse"
    );
    let appeal = &put.body[7];
    assert_eq!(appeal["options"][0]["name"], "case");
    assert_eq!(appeal["options"][0]["type"], 4);
    assert_eq!(appeal["options"][1]["name"], "text");
    let ask = &put.body[0];
    assert_eq!(ask["options"][0]["name"], "question");
    assert_eq!(ask["options"][0]["required"], true);

    // Heartbeats are ACKed: two on the same session, and no second IDENTIFY.
    bot.double
        .wait_for("two heartbeats", |d| {
            (d.bot_sent().iter().filter(|p| p["op"] == 1).count() >= 2).then_some(())
        })
        .await;
    let identifies = bot
        .double
        .bot_sent()
        .iter()
        .filter(|p| p["op"] == 2)
        .count();
    assert_eq!(identifies, 1, "no reconnect");

    // A guild listed in READY is not new: no setup notice.
    let requests = bot.double.requests();
    assert!(
        requests.iter().all(|r| r.authorized),
        "every request carries the token"
    );
    assert!(requests.iter().any(|r| r.path == "/api/v10/users/@me"));
    // (Catch-up reads channel history with GETs; nothing is posted.)
    let notices = requests
        .iter()
        .filter(|r| r.method != "GET" && r.path.starts_with("/api/v10/channels/"))
        .count();
    assert_eq!(notices, 0, "{requests:#?}");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_guild_join_registers_commands_and_posts_the_setup_notice() {
    let options = DoubleOptions {
        ready_guilds: vec![],
        guilds: vec![],
        ..DoubleOptions::default()
    };
    let bot = start(scripted("unused"), options).await;
    bot.double
        .wait_for("READY", |d| d.bot_sent().into_iter().find(|p| p["op"] == 2))
        .await;
    bot.double
        .dispatch(
            "GUILD_CREATE",
            payloads::guild(GUILD, "Rustaceans", Some(WELCOME)),
        )
        .await;
    bot.ready().await;
    let notice = bot
        .double
        .request("POST", &format!("/api/v10/channels/{WELCOME}/messages"))
        .await;
    let text = notice.body["content"].as_str().unwrap();
    assert!(
        text.contains("Hello! I'm Steward") && text.contains("/setting"),
        "{text}"
    );
    assert!(notice
        .body
        .get("message_reference")
        .is_none_or(Value::is_null));
    let community = CommunityId::new(GUILD.to_string());
    let name = bot
        .store
        .community_name(Platform::Discord, &community)
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("Rustaceans"));

    // Without a system channel, the owner gets the notice privately.
    bot.double
        .dispatch("GUILD_CREATE", payloads::guild(101, "Quiet", None))
        .await;
    let dm = bot
        .double
        .request("POST", "/api/v10/users/@me/channels")
        .await;
    assert_eq!(dm.body["recipient_id"], OWNER.to_string());
    let private = bot
        .double
        .wait_for("the private notice", |double| {
            double
                .requests()
                .into_iter()
                .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
                .find(|r| !r.path.contains(&WELCOME.to_string()))
        })
        .await;
    assert!(private.body["content"]
        .as_str()
        .unwrap()
        .contains("Hello! I'm Steward"));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_token_problems_are_clear_errors_without_the_token() {
    let double = DiscordDouble::start(DoubleOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/steward.db", dir.path().display());
    let store = Arc::new(Store::open(&url).await.unwrap());
    let router = Arc::new(steward::app::router(
        &Config::defaults(),
        store,
        scripted("x"),
        steward::metrics::Metrics::new(),
    ));
    let cases: [(Option<&str>, &str); 3] = [
        (Some("Wrong.secret.token"), "discord_invalid_token"),
        (Some("not-a-token"), "discord_malformed_token"),
        (None, "discord_missing_token"),
    ];
    for (token, label) in cases {
        let mut settings = settings(&double, token.unwrap_or_default());
        if token.is_none() {
            settings.token = None;
        }
        let error = discord::run(&settings, router.clone(), CancellationToken::new())
            .await
            .expect_err("a token problem is fatal");
        assert_eq!(error.label(), label, "{error}");
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("not-a-token"),
            "{shown}"
        );
        assert!(shown.contains("STEWARD_DISCORD_TOKEN"), "{shown}");
    }
    assert!(
        double.bot_sent().is_empty(),
        "no gateway connection with a bad token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_refused_message_content_intent_is_a_clear_error() {
    let options = DoubleOptions {
        refuse_message_content: true,
        ..DoubleOptions::default()
    };
    let bot = start(scripted("unused"), options).await;
    let result = tokio::time::timeout(Duration::from_secs(30), bot.task)
        .await
        .expect("a refused intent stops the adapter")
        .unwrap();
    let error = result.expect_err("refused intents are fatal");
    assert_eq!(error.label(), "discord_disallowed_intents");
    assert!(
        error.to_string().contains("Message Content intent"),
        "{error}"
    );
}
