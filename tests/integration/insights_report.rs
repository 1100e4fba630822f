//! Community reports, alerts and the weekly digest on a real SQLite store: `report` is for
//! moderators only, refuses windows out of range with its usage, posts figures, lists with
//! links, a reading whose citations name only shown messages and two 1000x500 PNG charts
//! (also through the real console binary), fits Discord's message length, says so when the
//! window is empty or the model is unavailable, and speaks Chinese in a Chinese community; an
//! alert fires once for a spike and never for steady traffic; after weeks of downtime exactly
//! one digest is posted.

use std::io::Cursor;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use steward::config::{InsightsSettings, Language};
use steward::core::settings::{DIGEST, DIGEST_DAY, DIGEST_HOUR, WEEKDAYS};
use steward::core::{
    Action, Attachment, Author, Capabilities, ChannelId, Command, CommunityId, Event, EventKind,
    Location, Message, MessageId, Platform, Role, UserId,
};
use steward::features::digest::{last_due, run_due, served_communities, Served};
use steward::features::insight_alerts::check;
use steward::features::report::{Reports, Scope};
use steward::llm::LlmError;
use steward::prompts::Prompts;
use steward::store::{MessageSentiment, Store};
use steward::strings::Strings;

use crate::dispatch::{fixture_config, location, reply_text, Fixture};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

fn person(id: &str) -> Author {
    Author {
        id: UserId::new(id),
        display_name: format!("{id} name"),
        role: Role::Member,
        is_bot: false,
    }
}

/// Records a message by `author` at `at`.
async fn say(
    store: &Store,
    place: &Location,
    (id, author, text): (&str, &str, &str),
    at: SystemTime,
    reply_to: Option<&str>,
) {
    let message = Message {
        id: MessageId::new(id),
        location: place.clone(),
        author: person(author),
        text: text.into(),
        created_at: at,
        reply_to: reply_to.map(MessageId::new),
        mentions_bot: false,
        replies_to_bot: false,
    };
    assert!(store.record_message(&message).await.unwrap(), "{id} is new");
}

/// Gives messages their sentiment, as the scoring loop would.
async fn feel(store: &Store, platform: Platform, rows: &[(&str, &'static str, f32)]) {
    let rows: Vec<MessageSentiment> = rows
        .iter()
        .map(|(id, label, score)| MessageSentiment {
            platform,
            message: MessageId::new(*id),
            label: *label,
            score: *score,
            stage: "lexical",
        })
        .collect();
    let saved = store
        .save_sentiments(&rows, SystemTime::now())
        .await
        .unwrap();
    assert_eq!(saved, rows.len() as u64, "every message is recorded");
}

/// A week of history at `place`: an unanswered question from two days ago, an answered one,
/// and two negative messages.
async fn week(store: &Store, place: &Location) {
    let now = SystemTime::now();
    let day_ago = |days: u32| now - DAY * days;
    say(
        store,
        place,
        ("q1", "ana", "How do I configure the proxy?"),
        day_ago(2),
        None,
    )
    .await;
    say(
        store,
        place,
        ("q2", "bob", "Why does the build fail on ARM?"),
        day_ago(3),
        None,
    )
    .await;
    say(
        store,
        place,
        ("a2", "cy", "You need the cross toolchain."),
        day_ago(3) + HOUR,
        Some("q2"),
    )
    .await;
    say(
        store,
        place,
        ("n1", "dee", "This release is terrible, nothing works"),
        day_ago(1),
        None,
    )
    .await;
    say(
        store,
        place,
        ("n2", "eve", "I am so frustrated with these crashes"),
        day_ago(1) + HOUR,
        None,
    )
    .await;
    say(
        store,
        place,
        ("p1", "ana", "Thanks, the new docs are great"),
        day_ago(4),
        None,
    )
    .await;
    // The week before, for what changed.
    say(
        store,
        place,
        ("old1", "ana", "hello from last week"),
        day_ago(9),
        None,
    )
    .await;
    feel(
        store,
        place.platform,
        &[
            ("n1", "negative", -0.8),
            ("n2", "negative", -0.6),
            ("p1", "positive", 0.7),
        ],
    )
    .await;
}

fn invoked(role: Role, place: Location, command: Command) -> Event {
    let mut invoker = person(if role.can_moderate() { "mod" } else { "bob" });
    invoker.role = role;
    Event::now(EventKind::CommandInvoked {
        location: place,
        invoker,
        command,
        message: Some(MessageId::new("m-cmd")),
    })
}

fn report(window: Option<&str>) -> Command {
    Command::parse("report", window.unwrap_or("")).expect("report is a command")
}

/// The one report among `actions`: where it goes, its text and files.
fn posted(mut actions: Vec<Action>) -> (Location, String, Vec<Attachment>) {
    assert_eq!(actions.len(), 1, "{actions:?}");
    match actions.remove(0) {
        Action::PostWithFiles {
            location,
            text,
            attachments,
        } => (location, text, attachments),
        other => panic!("expected a report with files, got {other:?}"),
    }
}

/// Width and height of a PNG file.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(Cursor::new(bytes))
        .read_info()
        .expect("a PNG");
    (reader.info().width, reader.info().height)
}

fn assert_charts(files: &[Attachment], window: &str) {
    let names: Vec<&str> = files.iter().map(|file| file.name.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("sentiment-{window}.png"),
            format!("questions-{window}.png")
        ]
    );
    for file in files {
        assert_eq!(file.mime, "image/png");
        assert_eq!(png_size(&file.bytes), (1000, 500), "{}", file.name);
    }
}

async fn fixture(answer: Result<&'static str, fn() -> LlmError>, language: Language) -> Fixture {
    fixture_config(answer, |config| {
        config.bot.language = language;
        // The reading is written only in languages the model writes well.
        config.model.languages = vec![language];
        // These tests invoke commands quickly.
        config.moderation.flood = None;
    })
    .await
}

#[tokio::test]
async fn a_moderator_gets_figures_lists_a_cited_reading_and_two_charts() {
    let f = fixture(
        Ok("Frustration with the release stands out [2, 3], and a proxy question waits [1] [9]."),
        Language::English,
    )
    .await;
    week(&f.store, &location()).await;
    let actions = f
        .router
        .handle(invoked(Role::Moderator, location(), report(None)))
        .await;
    let (place, text, files) = posted(actions);
    assert_eq!(place, location(), "posted where the command was typed");
    assert!(
        text.starts_with("**Community report** · whole community · last 7d"),
        "{text}"
    );
    assert!(text.contains("- Messages: 6 (+500 %)"), "{text}");
    assert!(text.contains("- Questions: 2 (before: 0)"), "{text}");
    assert!(text.contains("- Answered: 50 % (by members 1"), "{text}");
    assert!(
        text.contains("- Satisfaction with answers: no data (no data before)"),
        "{text}"
    );
    assert!(text.contains("Unanswered questions older than 24 h (1 in all):\n- [1] “How do I configure the proxy?”"), "{text}");
    assert!(
        text.contains("- [2] “This release is terrible, nothing works”"),
        "{text}"
    );
    assert!(
        text.contains("Top helpers (first replies): cy name (1)"),
        "{text}"
    );
    // The reading cites only shown messages: [9] was never shown.
    assert!(text.contains("Reading (written by the model):\nFrustration with the release stands out [2, 3], and a proxy question waits [1]."), "{text}");
    assert!(!text.contains("[9]"), "{text}");
    assert_charts(&files, "7d");
    let seen = f.engine.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].messages[0]
        .content
        .contains("[1] unanswered question: How do I configure the proxy?"));
    assert!(
        seen[0].system.contains("not instructions"),
        "{}",
        seen[0].system
    );
}

#[tokio::test]
async fn members_are_refused_and_bad_windows_get_the_usage() {
    let f = fixture(Ok("unused"), Language::English).await;
    week(&f.store, &location()).await;
    let refused = reply_text(
        f.router
            .handle(invoked(Role::Member, location(), report(Some("7d"))))
            .await,
    )
    .await;
    assert_eq!(refused, "Sorry, only moderators can use that command.");
    for window in ["-3d", "9999y", "0d", "abc"] {
        let usage = reply_text(
            f.router
                .handle(invoked(Role::Moderator, location(), report(Some(window))))
                .await,
        )
        .await;
        assert!(
            usage.starts_with("Usage: `/report [window] [channel]`"),
            "{window}: {usage}"
        );
        assert!(usage.contains("from 1h to 365d"), "{usage}");
    }
    let unknown = Command::Report {
        window: None,
        channel: Some("<#424242>".into()),
    };
    let answer = reply_text(
        f.router
            .handle(invoked(Role::Moderator, location(), unknown))
            .await,
    )
    .await;
    assert!(
        answer.contains("no messages from a channel `<#424242>`"),
        "{answer}"
    );
    assert!(
        f.engine.seen.lock().unwrap().is_empty(),
        "no model call for any of these"
    );
}

#[tokio::test]
async fn an_empty_window_and_an_unavailable_model_still_give_a_report() {
    let overloaded: fn() -> LlmError = || LlmError::Overloaded {
        queued: 1,
        capacity: 1,
    };
    let f = fixture(Err(overloaded), Language::English).await;
    let (_, text, files) = posted(
        f.router
            .handle(invoked(Role::Moderator, location(), report(Some("24h"))))
            .await,
    );
    assert!(text.contains("No messages in this window"), "{text}");
    assert!(text.contains("- Messages: 0 (no change)"), "{text}");
    assert!(
        text.contains("- Negative messages: no data (no data before)"),
        "{text}"
    );
    assert!(!text.contains("Reading"), "nothing to read: {text}");
    assert_charts(&files, "1d");

    week(&f.store, &location()).await;
    let (_, text, files) = posted(
        f.router
            .handle(invoked(Role::Moderator, location(), report(Some("7d"))))
            .await,
    );
    assert!(text.contains("- Messages: 6"), "{text}");
    assert!(
        text.ends_with(
            "(The model's reading is unavailable right now; the figures above are complete.)"
        ),
        "{text}"
    );
    assert_charts(&files, "7d");
}

#[tokio::test]
async fn a_report_on_discord_links_its_messages_and_fits_one_message() {
    let f = fixture(Ok("Many complaints [6]."), Language::English).await;
    let guild = Location {
        platform: Platform::Discord,
        community: CommunityId::new("g1"),
        channel: ChannelId::new("100"),
        thread: None,
    };
    let long = "so many words about the problem ".repeat(8);
    let then = SystemTime::now() - DAY * 2;
    let mut sentiments = Vec::new();
    for n in 0..8 {
        let question = format!("q{n}");
        let asked = format!("How do I fix this {long}?");
        say(
            &f.store,
            &guild,
            (question.as_str(), "ana", asked.as_str()),
            then,
            None,
        )
        .await;
        let complaint = format!("n{n}");
        let complained = format!("Terrible, {long}");
        say(
            &f.store,
            &guild,
            (complaint.as_str(), "bob", complained.as_str()),
            then,
            None,
        )
        .await;
        sentiments.push(complaint);
    }
    let rows: Vec<(&str, &'static str, f32)> = sentiments
        .iter()
        .map(|id| (id.as_str(), "negative", -0.9))
        .collect();
    feel(&f.store, Platform::Discord, &rows).await;
    let (_, text, files) = posted(
        f.router
            .handle(invoked(
                Role::Moderator,
                guild.clone(),
                report(Some("here")),
            ))
            .await,
    );
    assert!(
        text.chars().count() <= 2000,
        "{} chars: {text}",
        text.chars().count()
    );
    assert!(
        text.contains("/channels/g1/100/q"),
        "questions are linked: {text}"
    );
    assert!(text.contains("channel 100"), "{text}");
    assert!(
        text.contains("Many complaints [6]("),
        "the citation is a link: {text}"
    );
    assert_eq!(files.len(), 2);
}

#[tokio::test]
async fn a_chinese_community_gets_a_chinese_report() {
    let f = fixture(Ok("本周负面情绪上升 [2]。"), Language::Chinese).await;
    week(&f.store, &location()).await;
    let (_, text, files) = posted(
        f.router
            .handle(invoked(Role::Moderator, location(), report(Some("7d"))))
            .await,
    );
    assert!(
        text.starts_with("**社区报告** · 整个社区 · 最近 7d"),
        "{text}"
    );
    assert!(text.contains("- 消息：6（+500%）"), "{text}");
    assert!(
        text.contains("解读（由模型撰写）：\n本周负面情绪上升 [2]。"),
        "{text}"
    );
    assert_charts(&files, "7d");
    let seen = f.engine.seen.lock().unwrap();
    assert!(
        seen[0].system.ends_with("Write in Chinese."),
        "{}",
        seen[0].system
    );
}

/// The real console binary: a moderator's `/report 7d` prints the figures and two files.
#[tokio::test]
async fn console_report_prints_figures_and_two_png_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::console_util::console_config(dir.path(), 16, "[console]\nuser = \"ana\"\n");
    let url = format!("sqlite://{}/steward.db", dir.path().display());
    let store = Store::open(&url).await.unwrap();
    let console = Location {
        platform: Platform::Console,
        community: CommunityId::new("console"),
        channel: ChannelId::new("general"),
        thread: None,
    };
    week(&store, &console).await;
    store.close().await;
    let output = crate::console_util::run_console(&config, &["--as", "moderator"], "/report 7d\n");
    assert_eq!(output.code, Some(0), "stderr: {}", output.stderr);
    let stdout = output.stdout;
    assert!(
        stdout.contains("**Community report** · whole community · last 7d"),
        "{stdout}"
    );
    assert!(stdout.contains("- Messages: 6"), "{stdout}");
    let files: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("(file: ")?.strip_suffix(')'))
        .collect();
    assert_eq!(files.len(), 2, "{stdout}");
    for path in files {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(png_size(&bytes), (1000, 500), "{path}");
    }
}

fn alert_settings() -> InsightsSettings {
    InsightsSettings {
        alerts: true,
        alert_window: HOUR * 6,
        alert_baseline: DAY * 14,
        alert_min_messages: 10,
        alert_negative_share_min: 0.3,
        alert_ratio: 2.0,
        alert_unanswered_min: 5,
        ..InsightsSettings::default()
    }
}

async fn open_store(dir: &tempfile::TempDir) -> Store {
    Store::open(&format!("sqlite://{}/t.db", dir.path().display()))
        .await
        .unwrap()
}

#[tokio::test]
async fn an_alert_fires_once_for_a_spike_and_never_for_steady_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir).await;
    let now = SystemTime::now();
    let community = CommunityId::new("c");
    let channel = |id: &str| Location {
        platform: Platform::Console,
        community: community.clone(),
        channel: ChannelId::new(id),
        thread: None,
    };
    let mut rows: Vec<(String, &'static str, f32)> = Vec::new();
    let mut post = |place: &Location, id: String, negative: bool, at: SystemTime| {
        rows.push((
            id.clone(),
            if negative { "negative" } else { "neutral" },
            if negative { -0.7 } else { 0.0 },
        ));
        (place.clone(), id, negative, at)
    };
    let mut history = Vec::new();
    // Two weeks of calm in #spiky (one complaint every fourth day), then a bad afternoon.
    for day in 1..=13u32 {
        let at = now - DAY * day - HOUR * 3;
        history.push(post(&channel("spiky"), format!("s{day}a"), false, at));
        history.push(post(
            &channel("spiky"),
            format!("s{day}b"),
            false,
            at + HOUR,
        ));
        if day % 4 == 0 {
            history.push(post(
                &channel("spiky"),
                format!("s{day}c"),
                true,
                at + HOUR * 2,
            ));
        }
        // #steady is half grumpy, always.
        for (n, negative) in [(0, false), (1, true), (2, false), (3, true)] {
            history.push(post(
                &channel("steady"),
                format!("t{day}-{n}"),
                negative,
                at + HOUR * n,
            ));
        }
    }
    for n in 0..12u32 {
        let at = now - HOUR * 3 + Duration::from_secs(60 * u64::from(n));
        history.push(post(&channel("spiky"), format!("w{n}"), n >= 2, at));
        history.push(post(&channel("steady"), format!("v{n}"), n % 2 == 1, at));
    }
    for (place, id, negative, at) in &history {
        let text = if *negative {
            "this is terrible, nothing works"
        } else {
            "deployed the new build"
        };
        say(&store, place, (id.as_str(), "bob", text), *at, None).await;
    }
    let rows: Vec<(&str, &'static str, f32)> = rows
        .iter()
        .map(|(id, label, score)| (id.as_str(), *label, *score))
        .collect();
    feel(&store, Platform::Console, &rows).await;

    let capabilities = Capabilities::console();
    let scope = Scope {
        platform: Platform::Console,
        community: &community,
        channel: None,
        strings: Strings::new(Language::English),
        capabilities: &capabilities,
        digest: false,
        quote_only_from: None,
    };
    let settings = alert_settings();
    let mods = Some(ChannelId::new("mods"));
    let first = check(&store, &scope, mods.clone(), &settings, None, now)
        .await
        .unwrap();
    assert_eq!(first.len(), 1, "{first:?}");
    match &first[0] {
        Action::PostToModLog {
            channel,
            case,
            text,
            ..
        } => {
            assert_eq!(channel.as_ref().map(ChannelId::as_str), Some("mods"));
            assert_eq!(*case, None);
            assert!(
                text.starts_with("⚠️ More negative messages than usual in spiky: 83 % of the 12"),
                "{text}"
            );
            assert!(text.contains("(usually 10 %)"), "{text}");
            assert!(
                text.contains("For example:\n- [1] “this is terrible, nothing works”"),
                "{text}"
            );
        }
        other => panic!("expected a moderators' log post, got {other:?}"),
    }
    // The same window again (the next round): already posted.
    let again = check(&store, &scope, mods, &settings, None, now)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
}

#[tokio::test]
async fn one_digest_after_weeks_of_downtime_and_none_for_an_old_first_due() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open_store(&dir).await);
    let now = SystemTime::now();
    let general = location();
    week(&store, &general).await;
    let community = general.community.clone();
    store
        .set_setting(Platform::Console, &community, DIGEST, "digests")
        .await
        .unwrap();
    let due = last_due(now, 0, 9);
    // Steward last posted a digest three weeks before the latest due time.
    assert!(store
        .claim_digest(
            Platform::Console,
            &community,
            due - DAY * 21,
            due - DAY * 21
        )
        .await
        .unwrap());

    // A community that turns the digest on long after its due time: recorded, not posted.
    let fresh = Location {
        community: CommunityId::new("fresh"),
        ..general.clone()
    };
    say(&store, &fresh, ("f1", "ana", "hi"), now - HOUR, None).await;
    let days = now.duration_since(UNIX_EPOCH).unwrap().as_secs() / 86_400;
    let two_days_ago = WEEKDAYS[((days - 2 + 3) % 7) as usize];
    for (key, value) in [
        (DIGEST, "here-channel"),
        (DIGEST_DAY, two_days_ago),
        (DIGEST_HOUR, "0"),
    ] {
        store
            .set_setting(Platform::Console, &fresh.community, key, value)
            .await
            .unwrap();
    }

    let reports = Reports::new(
        store.clone(),
        crate::scripted::scripted("A calm week."),
        Arc::new(Prompts::builtin()),
        InsightsSettings::default(),
        vec![Language::English],
        Duration::from_secs(10),
    );
    let served = [Served {
        platform: Platform::Console,
        capabilities: Arc::new(Capabilities::console()),
        steward: None,
    }];
    let communities = served_communities(&store, &served).await.unwrap();
    let (place, text, files) =
        posted(run_due(&reports, &communities, Language::English, now).await);
    assert_eq!(place.community, community);
    assert_eq!(place.channel.as_str(), "digests");
    assert!(
        text.starts_with("**Weekly digest** · whole community"),
        "{text}"
    );
    assert_charts(&files, "7d");
    assert_eq!(
        store
            .digest_last_due(Platform::Console, &community)
            .await
            .unwrap(),
        Some(due)
    );
    let recorded = store
        .digest_last_due(Platform::Console, &fresh.community)
        .await
        .unwrap();
    assert!(
        recorded.is_some_and(|at| now.duration_since(at).unwrap() >= DAY),
        "{recorded:?}"
    );

    // The next round, and a restart: nothing more.
    let communities = served_communities(&store, &served).await.unwrap();
    assert!(run_due(&reports, &communities, Language::English, now)
        .await
        .is_empty());
}
