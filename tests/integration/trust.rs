//! Trust and safety holes closed in the router and the store (the platform-specific ones are
//! in the Matrix and Discord suites): forged edits, bypasses of the rules, reports about a
//! moderator's message, a Unicode panic, a leaked database password, and catching up on
//! questions asked while Steward was stopped. Each test is named after the hole it closes.

use std::process::Command as Process;
use std::time::{Duration, SystemTime};

use regex::RegexBuilder;
use steward::config::{Language, ModerationSettings};
use steward::core::settings::ModerationMode;
use steward::core::{
    Action, Command, Event, EventKind, Message, MessageId, Reaction, Role, UserId,
};

use crate::dispatch::{author, fixture_config, location, Fixture};

fn blocking_nitro() -> ModerationSettings {
    ModerationSettings {
        blocked_patterns: vec![RegexBuilder::new(r"free\s+nitro")
            .case_insensitive(true)
            .build()
            .unwrap()],
        ..acting()
    }
}

/// Moderation that acts (new communities start in dry-run by default).
fn acting() -> ModerationSettings {
    ModerationSettings {
        new_communities: ModerationMode::On,
        ..Default::default()
    }
}

async fn fixture(moderation: ModerationSettings) -> Fixture {
    fixture_config(Ok("an answer"), |config| {
        config.bot.language = Language::English;
        config.moderation = moderation;
    })
    .await
}

fn message_by(id: &str, user: &str, role: Role, text: &str, at: SystemTime) -> Message {
    let mut author = author(role, false);
    author.id = UserId::new(user);
    Message {
        id: MessageId::new(id),
        location: location(),
        author,
        text: text.into(),
        created_at: at,
        reply_to: None,
        mentions_bot: false,
        replies_to_bot: false,
    }
}

fn posted(id: &str, user: &str, role: Role, text: &str) -> Event {
    Event::now(EventKind::MessagePosted(message_by(
        id,
        user,
        role,
        text,
        SystemTime::now(),
    )))
}

fn edited(id: &str, editor: &str, text: &str) -> Event {
    Event::now(EventKind::MessageEdited {
        location: location(),
        message: MessageId::new(id),
        editor: UserId::new(editor),
        new_text: text.into(),
    })
}

fn report(id: &str, by: &str) -> Event {
    Event::now(EventKind::ReactionAdded(Reaction {
        location: location(),
        message: MessageId::new(id),
        user: UserId::new(by),
        emoji: "🚩".into(),
    }))
}

/// Background actions (a review's verdict) until none arrives for a second.
async fn background_until_quiet(f: &mut Fixture) -> Vec<Action> {
    let mut actions = vec![f.next_background().await];
    while let Ok(Some(action)) =
        tokio::time::timeout(Duration::from_secs(1), f.background.recv()).await
    {
        actions.push(action);
    }
    actions
}

fn deletes(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::DeleteMessage { .. }))
        .count()
}

fn answers(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::Reply(reply) if reply.body.as_text().is_none()))
        .count()
}

#[tokio::test]
async fn hole_3_only_the_author_can_edit_a_stored_message() {
    let f = fixture(acting()).await;
    f.router
        .handle(posted("m1", "ana", Role::Member, "the fix is in 1.2"))
        .await;
    // Mallory forges an edit of Ana's message.
    f.router
        .handle(edited("m1", "mallory", "I will hurt you all"))
        .await;
    let stored = f
        .store
        .message(location().platform, &MessageId::new("m1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.text, "the fix is in 1.2");
    // Ana's own edit is applied and the previous text kept for cases.
    f.router
        .handle(edited("m1", "ana", "the fix is in 1.3"))
        .await;
    let stored = f
        .store
        .message(location().platform, &MessageId::new("m1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.text, "the fix is in 1.3");
    let history = f
        .store
        .message_edits(location().platform, &MessageId::new("m1"))
        .await
        .unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].0, "the fix is in 1.2");
}

#[tokio::test]
async fn hole_4_commands_are_screened_by_the_rules() {
    let f = fixture(blocking_nitro()).await;
    let mut invoker = author(Role::Member, false);
    invoker.id = UserId::new("mallory");
    let actions = f
        .router
        .handle(Event::now(EventKind::CommandInvoked {
            location: location(),
            invoker,
            command: Command::Ask {
                question: "free nitro here".into(),
            },
            message: Some(MessageId::new("m-cmd")),
        }))
        .await;
    assert_eq!(answers(&actions), 0, "{actions:?}");
    assert!(
        actions.iter().any(
            |a| matches!(a, Action::PostToModLog { text, .. } if text.contains("blocked_pattern"))
        ),
        "{actions:?}"
    );
    assert!(f.engine.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn hole_4_edits_are_screened_again() {
    let f = fixture(blocking_nitro()).await;
    let actions = f
        .router
        .handle(posted("m1", "mallory", Role::Member, "hello there"))
        .await;
    assert_eq!(deletes(&actions), 0, "{actions:?}");
    let actions = f
        .router
        .handle(edited(
            "m1",
            "mallory",
            "hello there, FREE nitro at scam.example",
        ))
        .await;
    assert_eq!(deletes(&actions), 1, "{actions:?}");
}

#[tokio::test]
async fn hole_4_invite_rule_is_one_setting() {
    let invites = ModerationSettings {
        block_invites: true,
        ..acting()
    };
    let f = fixture(invites).await;
    let actions = f
        .router
        .handle(posted(
            "m1",
            "mallory",
            Role::Member,
            "join discord.gg/freestuff",
        ))
        .await;
    assert_eq!(deletes(&actions), 1, "{actions:?}");
    let f = fixture(acting()).await;
    let actions = f
        .router
        .handle(posted(
            "m1",
            "mallory",
            Role::Member,
            "join discord.gg/freestuff",
        ))
        .await;
    assert_eq!(deletes(&actions), 0, "off by default: {actions:?}");
}

#[tokio::test]
async fn hole_5_a_report_never_removes_a_moderators_message_automatically() {
    // The model is fully convinced and may delete: a member's reported message goes; a
    // moderator's stays (the case is for people to decide).
    let settings = ModerationSettings {
        model_may_delete: true,
        ..acting()
    };
    let mut f = fixture_config(
        Ok(r#"{"category": "harassment", "severity": "high"}"#),
        |c| {
            c.moderation = settings;
        },
    )
    .await;
    f.router
        .handle(posted(
            "m-mod",
            "mod",
            Role::Moderator,
            "please stop, last warning",
        ))
        .await;
    f.router
        .handle(posted(
            "m-member",
            "mallory",
            Role::Member,
            "please stop, last warning",
        ))
        .await;
    assert_eq!(
        f.store
            .member_role(
                location().platform,
                &location().community,
                &UserId::new("mod")
            )
            .await
            .unwrap(),
        Some(Role::Moderator)
    );

    let about_member = f.router.handle(report("m-member", "troll")).await;
    assert_eq!(deletes(&about_member), 0, "{about_member:?}");
    let verdict = background_until_quiet(&mut f).await;
    assert_eq!(
        deletes(&verdict),
        1,
        "the member's message goes: {verdict:?}"
    );

    let about_moderator = f.router.handle(report("m-mod", "troll")).await;
    assert_eq!(deletes(&about_moderator), 0, "{about_moderator:?}");
    let verdict = background_until_quiet(&mut f).await;
    assert!(
        verdict
            .iter()
            .any(|a| matches!(a, Action::PostToModLog { .. })),
        "the moderators hear of it: {verdict:?}"
    );
    assert_eq!(deletes(&verdict), 0, "nothing is removed: {verdict:?}");
    let case = f
        .store
        .open_case_for_message(
            location().platform,
            &location().community,
            &MessageId::new("m-mod"),
        )
        .await
        .unwrap();
    assert!(
        case.is_some(),
        "the report still opens a case for people to decide"
    );
}

#[tokio::test]
async fn hole_6_unicode_around_a_mention_does_not_panic() {
    let f = fixture(acting()).await;
    for (i, text) in [
        "İ@stewardẞ",
        "ẞ@STEWARD İ what?",
        "@stewardİ",
        "İİİ@steward",
    ]
    .into_iter()
    .enumerate()
    {
        let actions = f
            .router
            .handle(posted(&format!("u{i}"), "ana", Role::Member, text))
            .await;
        assert!(answers(&actions) <= 1, "{text}: {actions:?}");
    }
}

#[test]
fn hole_6_console_survives_unicode_around_a_mention() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::console_util::console_config(dir.path(), 8, "");
    let output = crate::console_util::run_console(&config, &[], "İ@stewardẞ\n");
    let stderr = output.stderr;
    assert_eq!(output.code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn hole_10_doctor_never_prints_a_database_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("steward.toml");
    std::fs::write(
        &config,
        format!("[model]\nmodels_dir = \"{}/empty\"\n", dir.path().display()),
    )
    .unwrap();
    for url in [
        "postgres://u:se/cret@localhost:1/db",
        "postgres://u:se@cret@localhost:1/db",
        "postgres://localhost:1/db?password=se/cret",
    ] {
        let output = Process::new(env!("CARGO_BIN_EXE_steward"))
            .args(["--config", config.to_str().unwrap(), "doctor"])
            .env("STEWARD_DATABASE_URL", url)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!all.contains("cret"), "{url} leaked: {all}");
        assert!(all.contains("database"), "{all}");
    }
}

fn missed(id: &str, text: &str, age: Duration) -> Event {
    let mut message = message_by(id, "ana", Role::Member, text, SystemTime::now() - age);
    message.mentions_bot = true;
    Event::now(EventKind::MissedMessage(message))
}

#[tokio::test]
async fn catch_up_answers_a_missed_question_once() {
    let f = fixture(acting()).await;
    let recent = missed(
        "q1",
        "@steward how do I pin a crate?",
        Duration::from_secs(120),
    );
    let actions = f.router.handle(recent.clone()).await;
    assert_eq!(answers(&actions), 1, "{actions:?}");
    // Delivered again (a second restart, or another process): never answered twice.
    let actions = f.router.handle(recent).await;
    assert_eq!(answers(&actions), 0, "{actions:?}");
    // Older than `[bot] catch_up_minutes` (10): recorded, not answered.
    let old = missed("q2", "@steward and this?", Duration::from_secs(2 * 3600));
    let actions = f.router.handle(old).await;
    assert_eq!(answers(&actions), 0, "{actions:?}");
    assert!(f
        .store
        .message(location().platform, &MessageId::new("q2"))
        .await
        .unwrap()
        .is_some());
    // A message that was not addressed to the bot is not answered.
    let mut plain = message_by("q3", "ana", Role::Member, "hello", SystemTime::now());
    plain.mentions_bot = false;
    let actions = f
        .router
        .handle(Event::now(EventKind::MissedMessage(plain)))
        .await;
    assert_eq!(answers(&actions), 0, "{actions:?}");
    // A live question already answered during catch-up is not answered again.
    let live = posted("q1", "ana", Role::Member, "@steward how do I pin a crate?");
    let actions = f.router.handle(live).await;
    assert_eq!(answers(&actions), 0, "{actions:?}");
}
