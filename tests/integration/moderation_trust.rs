//! Moderation that communities can trust, through the router: case numbers and moderators'
//! channels per community (hole 8), the dry run new communities start in, the community's own
//! rules in the model's review, and appeals answered by moderators. A scripted engine plays
//! the model.

use std::time::SystemTime;

use regex::RegexBuilder;
use steward::config::{FloodLimit, Language, ModerationSettings};
use steward::core::settings::ModerationMode;
use steward::core::{
    Action, Body, CaseDecision, ChannelId, Command, CommunityId, Event, EventKind, Location,
    Message, MessageId, Platform, Reaction, Role, UserId,
};

use crate::dispatch::{author, fixture_with, Fixture};

/// `free nitro` is blocked; `mode` is what communities without their own setting get.
fn blocking(mode: ModerationMode) -> ModerationSettings {
    ModerationSettings {
        blocked_patterns: vec![RegexBuilder::new(r"free\s+nitro")
            .case_insensitive(true)
            .build()
            .unwrap()],
        new_communities: mode,
        ..Default::default()
    }
}

async fn moderated(answer: &'static str, settings: ModerationSettings) -> Fixture {
    fixture_with(Ok(answer), Language::English, settings).await
}

fn at(community: &str, channel: &str) -> Location {
    Location {
        platform: Platform::Console,
        community: CommunityId::new(community),
        channel: ChannelId::new(channel),
        thread: None,
    }
}

fn posted_in(place: Location, id: &str, user: &str, text: &str) -> Event {
    let mut author = author(Role::Member, false);
    author.id = UserId::new(user);
    Event::now(EventKind::MessagePosted(Message {
        id: MessageId::new(id),
        location: place,
        author,
        text: text.into(),
        created_at: SystemTime::now(),
        reply_to: None,
        mentions_bot: false,
        replies_to_bot: false,
    }))
}

fn posted(id: &str, user: &str, text: &str) -> Event {
    posted_in(at("c", "general"), id, user, text)
}

fn command_in(place: Location, user: &str, role: Role, command: Command) -> Event {
    let mut invoker = author(role, false);
    invoker.id = UserId::new(user);
    Event::now(EventKind::CommandInvoked {
        location: place,
        invoker,
        command,
        message: Some(MessageId::new(format!("cmd-{user}"))),
    })
}

fn command(user: &str, role: Role, command: Command) -> Event {
    command_in(at("c", "general"), user, role, command)
}

fn report(id: &str, by: &str) -> Event {
    Event::now(EventKind::ReactionAdded(Reaction {
        location: at("c", "general"),
        message: MessageId::new(id),
        user: UserId::new(by),
        emoji: "🚩".into(),
    }))
}

fn setting(key: &str, value: Option<&str>) -> Command {
    Command::Setting {
        key: Some(key.into()),
        value: value.map(str::to_string),
    }
}

/// The text the invoker gets back: a reply, or a private notice where replies are public.
fn reply_to(user: &str, actions: &[Action]) -> String {
    actions
        .iter()
        .find_map(|action| match action {
            Action::Reply(reply) => match &reply.body {
                Body::Text(text) => Some(text.clone()),
                Body::Streaming(_) => None,
            },
            Action::PrivateNotice { user: to, text, .. } if to.as_str() == user => {
                Some(text.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no reply to {user}: {actions:?}"))
}

/// The moderators' posts: (community, channel, case, text).
fn mod_log(actions: &[Action]) -> Vec<(String, Option<ChannelId>, Option<i64>, &str)> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::PostToModLog {
                community,
                channel,
                case,
                text,
                ..
            } => Some((community.to_string(), channel.clone(), *case, text.as_str())),
            _ => None,
        })
        .collect()
}

fn punitive(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|action| {
            matches!(
                action,
                Action::DeleteMessage { .. }
                    | Action::TimeoutMember { .. }
                    | Action::RemoveMember { .. }
            )
        })
        .count()
}

fn notices_to(user: &str, actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::PrivateNotice { user: to, text, .. } if to.as_str() == user => {
                Some(text.clone())
            }
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Hole 8: per community

/// Community A chooses its moderators' channel; a case in community B never carries it, and
/// both communities number their cases from 1.
#[tokio::test]
async fn hole_8_mod_log_channel_and_case_numbers_are_per_community() {
    let f = moderated("unused", blocking(ModerationMode::On)).await;
    let chosen = f
        .router
        .handle(command_in(
            at("a", "a-mods"),
            "ana",
            Role::Moderator,
            setting("mod-log", Some("here")),
        ))
        .await;
    let reply = reply_to("ana", &chosen);
    assert!(reply.starts_with("Done: this channel (a-mods)"), "{reply}");

    let in_a = f
        .router
        .handle(posted_in(at("a", "general"), "a1", "mallory", "free nitro"))
        .await;
    let in_b = f
        .router
        .handle(posted_in(at("b", "general"), "b1", "eve", "free nitro"))
        .await;
    let (a_posts, b_posts) = (mod_log(&in_a), mod_log(&in_b));
    assert_eq!(a_posts.len(), 1, "{in_a:?}");
    assert_eq!(b_posts.len(), 1, "{in_b:?}");
    assert_eq!(
        (&a_posts[0].0, &a_posts[0].1, a_posts[0].2),
        (&"a".to_string(), &Some(ChannelId::new("a-mods")), Some(1))
    );
    assert_eq!(
        (&b_posts[0].0, &b_posts[0].1, b_posts[0].2),
        (&"b".to_string(), &None, Some(1)),
        "B's case is not posted to A's channel"
    );
    assert!(a_posts[0].3.starts_with("Case #1:"), "{}", a_posts[0].3);
    assert!(b_posts[0].3.starts_with("Case #1:"), "{}", b_posts[0].3);

    // B's moderator reading "case 1" sees B's case, and deciding it leaves A's open.
    let shown = f
        .router
        .handle(command_in(
            at("b", "general"),
            "bob",
            Role::Moderator,
            Command::Case {
                id: 1,
                decision: Some(CaseDecision::Ban),
            },
        ))
        .await;
    assert!(
        shown
            .iter()
            .any(|a| matches!(a, Action::RemoveMember { user, community, .. }
            if user.as_str() == "eve" && community.as_str() == "b")),
        "{shown:?}"
    );
    let a_case = f
        .store
        .case(Platform::Console, &CommunityId::new("a"), 1)
        .await
        .unwrap()
        .unwrap();
    assert!(a_case.is_open());
    assert_eq!(a_case.user.as_str(), "mallory");

    // `setting mod-log off`: A's posts go back to the adapter's channel (None).
    f.router
        .handle(command_in(
            at("a", "a-mods"),
            "ana",
            Role::Moderator,
            setting("mod-log", Some("off")),
        ))
        .await;
    let later = f
        .router
        .handle(posted_in(at("a", "general"), "a2", "mallory", "free nitro"))
        .await;
    let posts = mod_log(&later);
    assert_eq!((posts[0].1.clone(), posts[0].2), (None, Some(2)));
    // Only moderators choose it.
    let refused = f
        .router
        .handle(command_in(
            at("a", "general"),
            "mallory",
            Role::Member,
            setting("mod-log", Some("here")),
        ))
        .await;
    assert!(reply_to("mallory", &refused).contains("only moderators"));
}

// ---------------------------------------------------------------------------------------------
// Dry run

/// A new community starts in a dry run: the decision is made, logged and posted as "would
/// have", and nothing is deleted or timed out; after `setting moderation on` it acts.
#[tokio::test]
async fn dry_run_posts_would_have_and_does_nothing_until_moderation_is_on() {
    let mut settings = blocking(ModerationMode::DryRun);
    settings.flood = Some(FloodLimit {
        messages: 2,
        window: std::time::Duration::from_secs(60),
    });
    settings.flood_timeout = std::time::Duration::from_secs(600);
    let f = moderated("unused", settings).await;

    let actions = f.router.handle(posted("d1", "mallory", "free nitro")).await;
    assert_eq!(punitive(&actions), 0, "{actions:?}");
    assert!(notices_to("mallory", &actions).is_empty(), "{actions:?}");
    let posts = mod_log(&actions);
    assert_eq!(posts.len(), 1, "{actions:?}");
    assert!(
        posts[0]
            .3
            .contains("Dry run: would have deleted the message."),
        "{}",
        posts[0].3
    );
    assert!(
        posts[0]
            .3
            .contains("a moderator's own `case` decision still acts"),
        "{}",
        posts[0].3
    );
    let case = f
        .store
        .case(Platform::Console, &CommunityId::new("c"), 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.automatic.as_str(), "none", "nothing was done");
    assert!(case.reason.contains("dry run"), "{}", case.reason);

    // Flooding: would have timed out, did not.
    let mut all = Vec::new();
    for n in 0..3 {
        all.extend(
            f.router
                .handle(posted(&format!("fl{n}"), "trent", "buy now"))
                .await,
        );
    }
    assert_eq!(punitive(&all), 0, "{all:?}");
    assert!(
        mod_log(&all).iter().any(|post| post
            .3
            .contains("Dry run: would have timed out @trent for 10 min.")),
        "{all:?}"
    );

    // A moderator's own decision still acts in a dry run.
    let decided = f
        .router
        .handle(command(
            "ana",
            Role::Moderator,
            Command::Case {
                id: 1,
                decision: Some(CaseDecision::Delete),
            },
        ))
        .await;
    assert!(
        decided.iter().any(
            |a| matches!(a, Action::DeleteMessage { message, decided_by: Some(by), .. }
            if message.as_str() == "d1" && by.as_str() == "ana")
        ),
        "{decided:?}"
    );

    // Turned on: the same message is deleted.
    let on = f
        .router
        .handle(command(
            "ana",
            Role::Moderator,
            setting("moderation", Some("on")),
        ))
        .await;
    assert!(
        reply_to("ana", &on).starts_with("Done: moderation is now on"),
        "{on:?}"
    );
    let actions = f.router.handle(posted("d2", "mallory", "free nitro")).await;
    assert!(
        actions.iter().any(
            |a| matches!(a, Action::DeleteMessage { message, decided_by: None, .. }
            if message.as_str() == "d2")
        ),
        "{actions:?}"
    );
    assert!(!mod_log(&actions)[0].3.contains("Dry run"));

    // And back to a dry run.
    f.router
        .handle(command(
            "ana",
            Role::Moderator,
            setting("moderation", Some("dry-run")),
        ))
        .await;
    let actions = f.router.handle(posted("d3", "mallory", "free nitro")).await;
    assert_eq!(punitive(&actions), 0, "{actions:?}");
}

// ---------------------------------------------------------------------------------------------
// The community's own rules

/// Moderators write the rules in plain language; anyone can read them; the model's review
/// receives them numbered and its answer names a rule by number; the case cites it.
#[tokio::test]
async fn the_review_sees_the_communitys_rules_and_the_case_cites_one() {
    let review = r#"{"category": "spam", "severity": "medium", "rule": 2}"#;
    let mut f = moderated(review, blocking(ModerationMode::On)).await;
    let set = Command::Rules {
        text: Some("1. Be kind\n2. No advertising\n3. English only".into()),
    };
    let saved = f.router.handle(command("ana", Role::Moderator, set)).await;
    let reply = reply_to("ana", &saved);
    assert!(reply.starts_with("Saved 3 rules."), "{reply}");
    assert!(
        reply.ends_with("1. Be kind\n2. No advertising\n3. English only"),
        "{reply}"
    );

    // Anyone can read them; members cannot change them.
    let shown = f
        .router
        .handle(command("bob", Role::Member, Command::Rules { text: None }))
        .await;
    assert_eq!(
        reply_to("bob", &shown),
        "The community's rules:\n1. Be kind\n2. No advertising\n3. English only"
    );
    let refused = f
        .router
        .handle(command(
            "bob",
            Role::Member,
            Command::Rules {
                text: Some("1. Bob is always right".into()),
            },
        ))
        .await;
    assert!(reply_to("bob", &refused).contains("only moderators"));

    f.router
        .handle(posted("ad1", "mallory", "join my server, cheap followers"))
        .await;
    f.router.handle(report("ad1", "bob")).await;
    let reviewed = f.next_background().await;
    let posts = mod_log(std::slice::from_ref(&reviewed));
    assert!(
        posts[0]
            .3
            .contains("The model says it breaks rule 2: No advertising"),
        "{}",
        posts[0].3
    );
    {
        let seen = f.engine.seen.lock().unwrap();
        let system = &seen.last().unwrap().system;
        assert!(
            system.contains("1. Be kind\n2. No advertising\n3. English only"),
            "{system}"
        );
    }
    let case = f
        .store
        .case(Platform::Console, &CommunityId::new("c"), 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.rule_index, Some(2));
    let details = f
        .router
        .handle(command(
            "ana",
            Role::Moderator,
            Command::Case {
                id: 1,
                decision: None,
            },
        ))
        .await;
    let details = reply_to("ana", &details);
    assert!(
        details.contains("The model says it breaks rule 2: No advertising"),
        "{details}"
    );
    // The rule is only a number: the policy decides from the labels as before.
    assert_eq!(punitive(std::slice::from_ref(&reviewed)), 0);
}

/// A rule number outside the list (rule 9 of 3) is no rule.
#[tokio::test]
async fn a_rule_outside_the_list_is_ignored() {
    let review = r#"{"category": "spam", "severity": "medium", "rule": 9}"#;
    let mut f = moderated(review, blocking(ModerationMode::On)).await;
    let set = Command::Rules {
        text: Some("1. Be kind\n2. No advertising\n3. English only".into()),
    };
    f.router.handle(command("ana", Role::Moderator, set)).await;
    f.router
        .handle(posted("ad9", "mallory", "cheap followers here"))
        .await;
    f.router.handle(report("ad9", "bob")).await;
    let reviewed = f.next_background().await;
    let posts = mod_log(std::slice::from_ref(&reviewed));
    assert!(
        posts[0]
            .3
            .starts_with("Case #1: the model labelled the reported message spam (medium)."),
        "{}",
        posts[0].3
    );
    assert!(!posts[0].3.contains("rule"), "{}", posts[0].3);
    let case = f
        .store
        .case(Platform::Console, &CommunityId::new("c"), 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.rule_index, None);
}

// ---------------------------------------------------------------------------------------------
// Appeals

/// The member whose message was removed is told the case number; their appeal reaches the
/// moderators as part of the case; someone else's appeal is refused without revealing it.
#[tokio::test]
async fn a_members_appeal_reaches_the_moderators_and_others_cannot_appeal() {
    let f = moderated("unused", blocking(ModerationMode::On)).await;
    let actions = f.router.handle(posted("p1", "mallory", "free nitro")).await;
    let told = notices_to("mallory", &actions);
    assert_eq!(told.len(), 1, "{actions:?}");
    assert!(
        told[0].starts_with("Moderation case #1: your message was removed."),
        "{}",
        told[0]
    );
    assert!(told[0].contains("`/appeal 1 <why>`"), "{}", told[0]);

    let appeal = |user: &str, text: &str| {
        command(
            user,
            Role::Member,
            Command::Appeal {
                case: 1,
                text: text.into(),
            },
        )
    };
    let filed = f
        .router
        .handle(appeal("mallory", "I was warning people about that scam"))
        .await;
    assert!(
        reply_to("mallory", &filed).starts_with("Your appeal of case #1 was sent"),
        "{filed:?}"
    );
    let posts = mod_log(&filed);
    assert_eq!(posts.len(), 1, "{filed:?}");
    assert_eq!(posts[0].2, Some(1));
    assert!(
        posts[0]
            .3
            .starts_with("Case #1: mallory appeals:\n> I was warning people about that scam"),
        "{}",
        posts[0].3
    );

    let refused = f.router.handle(appeal("bob", "this is unfair")).await;
    let refusal = reply_to("bob", &refused);
    assert!(
        refusal.starts_with("There is no case #1 about you"),
        "{refusal}"
    );
    assert!(!refusal.contains("nitro") && !refusal.contains("mallory"));
    assert!(mod_log(&refused).is_empty(), "{refused:?}");

    let details = f
        .router
        .handle(command(
            "ana",
            Role::Moderator,
            Command::Case {
                id: 1,
                decision: None,
            },
        ))
        .await;
    let details = reply_to("ana", &details);
    assert!(
        details.contains("Appeal by mallory (open):\n> I was warning people about that scam"),
        "{details}"
    );
    let stored = f
        .store
        .appeals(Platform::Console, &CommunityId::new("c"), 1)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
}

/// Reversing a timed-out case lifts the timeout and marks the case reversed; upholding a ban
/// tells the member and lifts nothing.
#[tokio::test]
async fn reversal_lifts_the_timeout_and_uphold_lifts_nothing() {
    let f = moderated("unused", blocking(ModerationMode::On)).await;
    let case = |id, decision| Command::Case {
        id,
        decision: Some(decision),
    };
    // Case #1: Mallory's message is deleted, and a moderator times her out for it.
    f.router.handle(posted("m1", "mallory", "free nitro")).await;
    let timed_out = f
        .router
        .handle(command(
            "ana",
            Role::Moderator,
            case(1, CaseDecision::Timeout { minutes: 30 }),
        ))
        .await;
    assert!(
        notices_to("mallory", &timed_out)
            .iter()
            .any(|text| text.contains("a moderator timed you out for 30 min")),
        "{timed_out:?}"
    );
    // Case #2: Eve's, and a moderator bans her.
    f.router.handle(posted("e1", "eve", "free nitro")).await;
    f.router
        .handle(command("ana", Role::Moderator, case(2, CaseDecision::Ban)))
        .await;

    // Answering without an appeal is refused.
    let early = f
        .router
        .handle(command(
            "ana",
            Role::Moderator,
            case(1, CaseDecision::Reverse),
        ))
        .await;
    assert!(
        reply_to("ana", &early).starts_with("Case #1 has no open appeal"),
        "{early:?}"
    );
    assert!(!early
        .iter()
        .any(|a| matches!(a, Action::LiftTimeout { .. })));

    let appeal = |user: &str, number: i64| {
        command(
            user,
            Role::Member,
            Command::Appeal {
                case: number,
                text: "I was pasting a log".into(),
            },
        )
    };
    f.router.handle(appeal("mallory", 1)).await;
    let reversed = f
        .router
        .handle(command(
            "ana",
            Role::Moderator,
            case(1, CaseDecision::Reverse),
        ))
        .await;
    assert!(
        reversed.iter().any(
            |a| matches!(a, Action::LiftTimeout { user, decided_by: Some(by), .. }
            if user.as_str() == "mallory" && by.as_str() == "ana")
        ),
        "{reversed:?}"
    );
    assert!(!reversed.iter().any(|a| matches!(a, Action::LiftBan { .. })));
    assert!(
        notices_to("mallory", &reversed)
            .iter()
            .any(|text| text.contains("accepted your appeal of case #1")),
        "{reversed:?}"
    );
    let one = f
        .store
        .case(Platform::Console, &CommunityId::new("c"), 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.status.as_str(), "reversed");

    f.router.handle(appeal("eve", 2)).await;
    let upheld = f
        .router
        .handle(command(
            "ana",
            Role::Moderator,
            case(2, CaseDecision::Uphold),
        ))
        .await;
    assert!(
        !upheld
            .iter()
            .any(|a| matches!(a, Action::LiftTimeout { .. } | Action::LiftBan { .. })),
        "{upheld:?}"
    );
    assert!(
        notices_to("eve", &upheld)
            .iter()
            .any(|text| text.contains("the decision stands")),
        "{upheld:?}"
    );
    let two = f
        .store
        .case(Platform::Console, &CommunityId::new("c"), 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(two.status.as_str(), "banned");
    let appeals = f
        .store
        .appeals(Platform::Console, &CommunityId::new("c"), 2)
        .await
        .unwrap();
    assert_eq!(
        appeals[0].outcome,
        Some(steward::store::AppealOutcome::Upheld)
    );
}
