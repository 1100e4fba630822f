//! Feedback on Steward's answers through the router, as an adapter drives it: Steward's own
//! message is delivered back (Discord's gateway and the Matrix sync both do) and recorded, a
//! member's 👍 on it is a vote that `kb feedback` reports, votes anywhere else are ignored,
//! Steward's own edits are recorded without being screened, and `kb gaps` / `kb feedback` are
//! for moderators only.

use std::time::SystemTime;

use regex::RegexBuilder;
use steward::config::{Language, ModerationSettings};
use steward::core::settings::ModerationMode;
use steward::core::{
    Action, Author, Command, CommunityId, Event, EventKind, Message, MessageId, Platform, Reaction,
    Role, UserId,
};

use crate::dispatch::{fixture_config, fixture_with, location, reply_text, Fixture};

const STEWARD: &str = "steward-user";

/// A fixture whose console adapter has registered Steward's user, as adapters do at start.
async fn fixture() -> Fixture {
    let f = fixture_config(Ok("unused"), |_| {}).await;
    f.router
        .register_self(Platform::Console, UserId::new(STEWARD));
    f
}

fn posted(id: &str, author: Author, text: &str) -> Event {
    Event::now(EventKind::MessagePosted(Message {
        id: MessageId::new(id),
        location: location(),
        author,
        text: text.into(),
        created_at: SystemTime::now(),
        reply_to: None,
        mentions_bot: false,
        replies_to_bot: false,
    }))
}

fn steward() -> Author {
    Author {
        id: UserId::new(STEWARD),
        display_name: "Steward".into(),
        role: Role::Member,
        is_bot: true,
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

fn reaction(message: &str, by: &str, emoji: &str, added: bool) -> Event {
    let reaction = Reaction {
        location: location(),
        message: MessageId::new(message),
        user: UserId::new(by),
        emoji: emoji.into(),
    };
    Event::now(if added {
        EventKind::ReactionAdded(reaction)
    } else {
        EventKind::ReactionRemoved(reaction)
    })
}

fn invoked(role: Role, command: Command) -> Event {
    let mut invoker = member(if role.can_moderate() { "mod" } else { "bob" });
    invoker.role = role;
    Event::now(EventKind::CommandInvoked {
        location: location(),
        invoker,
        command,
        message: Some(MessageId::new("m-cmd")),
    })
}

async fn vote(f: &Fixture, message: &str, user: &str) -> Option<i64> {
    f.store
        .vote(
            Platform::Console,
            &MessageId::new(message),
            &UserId::new(user),
        )
        .await
        .unwrap()
}

const ANSWER: &str = "Lumen listens on port 8428 [1].\n\nSources: [1] `en/install.md › Ports`";

#[tokio::test]
async fn a_thumbs_up_on_stewards_answer_is_recorded_and_reported() {
    let f = fixture().await;
    // The adapter delivers Steward's own post: recorded, never answered.
    let actions = f.router.handle(posted("answer-1", steward(), ANSWER)).await;
    assert!(actions.is_empty(), "{actions:?}");
    f.router
        .handle(posted("m-ana", member("ana"), "thanks all"))
        .await;

    assert!(f
        .router
        .handle(reaction("answer-1", "ana", "👍", true))
        .await
        .is_empty());
    assert_eq!(vote(&f, "answer-1", "ana").await, Some(1));
    f.router
        .handle(reaction("answer-1", "cy", "👎\u{FE0F}", true))
        .await;
    assert_eq!(vote(&f, "answer-1", "cy").await, Some(-1));

    // Not votes: on a member's message, and Steward's own reaction.
    f.router.handle(reaction("m-ana", "cy", "👍", true)).await;
    f.router
        .handle(reaction("answer-1", STEWARD, "👎", true))
        .await;
    assert_eq!(vote(&f, "m-ana", "cy").await, None);
    assert_eq!(vote(&f, "answer-1", STEWARD).await, None);

    let report = reply_text(
        f.router
            .handle(invoked(Role::Moderator, Command::KbFeedback { days: None }))
            .await,
    )
    .await;
    assert!(
        report.starts_with("Feedback on answers, last 30 days: 50 % 👍 (1 👍, 1 👎)."),
        "{report}"
    );
    assert!(report.contains("Per day (UTC):"), "{report}");
    assert!(
        report.contains("Worst-rated answers:\n1. 1 👎, 1 👍 · answer-1"),
        "{report}"
    );
    assert!(
        report.contains("   > Lumen listens on port 8428 [1]."),
        "{report}"
    );
    assert!(
        report.contains("   > Sources: [1] `en/install.md › Ports`"),
        "{report}"
    );

    // `steward kb feedback` prints the same report.
    let printed = steward::app::kb::feedback_report(
        &steward::config::Config::defaults(),
        &f.store,
        Platform::Console,
        &CommunityId::new("c"),
        30,
    )
    .await
    .unwrap();
    assert_eq!(printed, report);

    // Taking the 👎 back removes the vote.
    f.router
        .handle(reaction("answer-1", "cy", "👎\u{FE0F}", false))
        .await;
    assert_eq!(vote(&f, "answer-1", "cy").await, None);
    let report = reply_text(
        f.router
            .handle(invoked(
                Role::Moderator,
                Command::KbFeedback { days: Some(7) },
            ))
            .await,
    )
    .await;
    assert!(
        report.starts_with("Feedback on answers, last 7 days: 100 % 👍 (1 👍, 0 👎)."),
        "{report}"
    );
    assert!(report.contains("No answer got a 👎."), "{report}");
}

#[tokio::test]
async fn moderators_get_kb_gaps_in_chat() {
    let f = fixture().await;
    let community = CommunityId::new("c");
    let terms = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    for (question, words) in [
        ("How do I install on BSD?", &["instal", "bsd"][..]),
        ("who won the cup?", &["won", "cup"][..]),
        ("installing on BSD", &["instal", "bsd"][..]),
    ] {
        f.store
            .kb_record_gap(
                Platform::Console,
                &community,
                &UserId::new("ana"),
                None,
                question,
                &terms(words),
                SystemTime::now(),
            )
            .await
            .unwrap();
    }
    let report = reply_text(
        f.router
            .handle(invoked(Role::Moderator, Command::KbGaps { days: None }))
            .await,
    )
    .await;
    assert!(
        report.starts_with("Unanswered questions, last 30 days (most asked first):\n"),
        "{report}"
    );
    assert!(report.contains("   2 × installing on BSD\n"), "{report}");
    assert!(
        report.contains("also: How do I install on BSD?"),
        "{report}"
    );
    assert!(report.contains("   1 × who won the cup?"), "{report}");
}

#[tokio::test]
async fn members_cannot_run_kb_gaps_or_kb_feedback() {
    let f = fixture().await;
    f.store
        .kb_record_gap(
            Platform::Console,
            &CommunityId::new("c"),
            &UserId::new("ana"),
            None,
            "how do I frobnicate?",
            &["frobnic".to_string()],
            SystemTime::now(),
        )
        .await
        .unwrap();
    f.router.handle(posted("answer-1", steward(), ANSWER)).await;
    f.router
        .handle(reaction("answer-1", "ana", "👎", true))
        .await;
    for command in [
        Command::KbGaps { days: None },
        Command::KbFeedback { days: None },
        Command::KbFeedback { days: Some(7) },
    ] {
        let shown = format!("{command:?}");
        let actions = f.router.handle(invoked(Role::Member, command)).await;
        assert!(
            matches!(&actions[..], [Action::Reply(reply)] if reply.only_invoker),
            "{shown}: {actions:?}"
        );
        let refused = reply_text(actions).await;
        assert!(refused.contains("only moderators"), "{shown}: {refused}");
        assert!(
            !refused.contains("frobnicate") && !refused.contains("8428"),
            "{shown}: {refused}"
        );
    }
    // The same commands by a moderator do report.
    let gaps = reply_text(
        f.router
            .handle(invoked(Role::Moderator, Command::KbGaps { days: None }))
            .await,
    )
    .await;
    assert!(gaps.contains("frobnicate"), "{gaps}");
}

#[tokio::test]
async fn stewards_own_edits_are_recorded_not_screened() {
    let moderation = ModerationSettings {
        blocked_patterns: vec![RegexBuilder::new(r"free\s+nitro")
            .case_insensitive(true)
            .build()
            .unwrap()],
        new_communities: ModerationMode::On,
        ..Default::default()
    };
    let f = fixture_with(Ok("unused"), Language::English, moderation).await;
    f.router
        .register_self(Platform::Console, UserId::new(STEWARD));
    f.router
        .handle(posted("answer-2", steward(), "Beware of"))
        .await;
    // A streamed answer grows by edits; one quoting a scam must not open a case on Steward.
    let edit = Event::now(EventKind::MessageEdited {
        location: location(),
        message: MessageId::new("answer-2"),
        editor: UserId::new(STEWARD),
        new_text: "Beware of free nitro links [1].".into(),
    });
    let actions = f.router.handle(edit).await;
    assert!(actions.is_empty(), "{actions:?}");
    let stored = f
        .store
        .message(Platform::Console, &MessageId::new("answer-2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.text, "Beware of free nitro links [1].");
}
