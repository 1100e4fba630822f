//! Limits every LLM feature shares, through the router as `steward run` wires it: question
//! length, per-member quotas with one notice per window, commands counting toward the flood
//! rule, and report quotas.

use std::time::{Duration, Instant};

use steward::core::{
    Action, Author, Body, ChannelId, Command, CommunityId, Event, EventKind, Location, MessageId,
    Platform, Reaction, Role, UserId,
};

use crate::dispatch::fixture_config;

fn at(channel: &str) -> Location {
    Location {
        platform: Platform::Console,
        community: CommunityId::new("c"),
        channel: ChannelId::new(channel),
        thread: None,
    }
}

fn member(id: &str) -> Author {
    Author {
        id: UserId::new(id),
        display_name: id.into(),
        role: Role::Member,
        is_bot: false,
    }
}

fn ask(user: &str, n: usize, question: String) -> Event {
    Event::now(EventKind::CommandInvoked {
        location: at("general"),
        invoker: member(user),
        command: Command::Ask { question },
        message: Some(MessageId::new(format!("{user}-{n}"))),
    })
}

/// What came back: (streamed answers, text replies).
async fn outcome(actions: Vec<Action>) -> (usize, Vec<String>) {
    let mut answers = 0;
    let mut texts = Vec::new();
    for action in actions {
        match action {
            Action::Reply(reply) => match reply.body {
                Body::Streaming(stream) => {
                    let (_, failure) = stream.collect_text().await;
                    assert!(failure.is_none(), "{failure:?}");
                    answers += 1;
                }
                Body::Text(text) => texts.push(text),
            },
            other => panic!("unexpected action {other:?}"),
        }
    }
    (answers, texts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_member_gets_exactly_the_quota_and_one_notice_while_others_are_answered() {
    let f = fixture_config(Ok("An answer."), |config| {
        // The flood rule has its own test below; here only the quota speaks.
        config.moderation.flood = None;
    })
    .await;
    let budget = steward::config::Config::defaults().quotas.member_budget as usize;
    let started = Instant::now();
    let (mut answered, mut notices) = (0, Vec::new());
    for n in 0..100 {
        let (answers, texts) = outcome(f.router.handle(ask("ana", n, "Why?".into())).await).await;
        answered += answers;
        notices.extend(texts);
        if n == 50 {
            // Another member asking meanwhile is answered.
            let (answers, texts) =
                outcome(f.router.handle(ask("bob", n, "And why not?".into())).await).await;
            assert_eq!((answers, texts.len()), (1, 0), "{texts:?}");
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the burst took {:?}",
        started.elapsed()
    );
    assert_eq!(answered, budget, "exactly the member's quota is answered");
    assert_eq!(notices.len(), 1, "one retry notice per window: {notices:?}");
    assert!(notices[0].contains("try again in"), "{}", notices[0]);
    assert_eq!(
        f.metrics.quota_refusal_count("ask", "member"),
        (100 - budget) as u64
    );
    assert_eq!(f.engine.seen.lock().unwrap().len(), budget + 1);
}

#[tokio::test]
async fn sixty_kilobyte_questions_are_refused_before_the_engine() {
    let f = fixture_config(Ok("unused"), |_| {}).await;
    let question = "why does my borrow checker complain ".repeat(1700);
    assert!(question.len() > 60_000);
    for n in 0..20 {
        let (answers, texts) = outcome(
            f.router
                .handle(ask(&format!("m{n}"), n, question.clone()))
                .await,
        )
        .await;
        assert_eq!(answers, 0);
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(
            texts[0].contains("at most 4000"),
            "the length message: {}",
            texts[0]
        );
    }
    assert!(
        f.engine.seen.lock().unwrap().is_empty(),
        "the engine received none"
    );
    assert_eq!(f.metrics.feature_count("ask", "too_long"), 20);
}

#[tokio::test]
async fn commands_count_toward_the_flood_rule() {
    let f = fixture_config(Ok("An answer."), |_| {}).await;
    let mut timed_out = 0;
    let mut answered = 0;
    for n in 0..9 {
        for action in f.router.handle(ask("eve", n, "Hm?".into())).await {
            match action {
                Action::TimeoutMember { user, .. } => {
                    assert_eq!(user.as_str(), "eve");
                    timed_out += 1;
                }
                Action::Reply(_) => answered += 1,
                Action::PostToModLog { text, .. } => assert!(text.contains("flood"), "{text}"),
                // The member is told privately why, and how to appeal.
                Action::PrivateNotice { user, .. } => assert_eq!(user.as_str(), "eve"),
                other => panic!("{other:?}"),
            }
        }
    }
    // The default flood rule: more than 8 messages within 10 s.
    assert_eq!((answered, timed_out), (8, 1));
}

#[tokio::test]
async fn reports_per_member_are_limited() {
    let mut f = fixture_config(Ok(r#"{"category": "spam", "severity": "low"}"#), |_| {}).await;
    let budget = steward::config::Config::defaults().quotas.report_budget as usize;
    // Messages to report, by another member.
    for n in 0..(budget + 3) {
        let message = steward::core::Message {
            id: MessageId::new(format!("spam-{n}")),
            location: at("general"),
            author: member("spammer"),
            text: format!("buy followers {n}"),
            created_at: std::time::SystemTime::now(),
            reply_to: None,
            mentions_bot: false,
            replies_to_bot: false,
        };
        f.router
            .handle(Event::now(EventKind::MessagePosted(message)))
            .await;
    }
    let mut opened = 0;
    for n in 0..(budget + 3) {
        let report = Reaction {
            location: at("general"),
            message: MessageId::new(format!("spam-{n}")),
            user: UserId::new("reporter"),
            emoji: "🚩".into(),
        };
        let actions = f
            .router
            .handle(Event::now(EventKind::ReactionAdded(report)))
            .await;
        opened += actions
            .iter()
            .filter(|a| matches!(a, Action::PostToModLog { .. }))
            .count();
    }
    assert_eq!(opened, budget, "reports beyond the budget open no case");
    assert_eq!(f.metrics.quota_refusal_count("report", "member"), 3);
    // The accepted reports are reviewed in the background.
    for _ in 0..budget {
        match f.next_background().await {
            Action::PostToModLog { text, .. } => assert!(text.contains("spam"), "{text}"),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_full_queue_is_said_once_per_member_per_window() {
    let f = fixture_config(
        Err(|| steward::llm::LlmError::Overloaded {
            queued: 16,
            capacity: 16,
        }),
        |_| {},
    )
    .await;
    let mut said = Vec::new();
    for n in 0..3 {
        let (answers, texts) = outcome(f.router.handle(ask("ana", n, "Why?".into())).await).await;
        assert_eq!(answers, 0);
        said.push(texts);
    }
    assert_eq!(said[0].len(), 1, "{said:?}");
    assert!(said[0][0].contains("busy"), "{said:?}");
    assert!(
        said[1].is_empty() && said[2].is_empty(),
        "then silence: {said:?}"
    );
    // Another member hears it once too.
    let (_, texts) = outcome(f.router.handle(ask("bob", 9, "How?".into())).await).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(f.metrics.feature_count("ask", "busy"), 4);
}
