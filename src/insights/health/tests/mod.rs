//! The health figures on a hand-made history, every value computed by hand (the comments say
//! how); `buckets`: the same history per hour, and the bucket boundaries of short, medium and
//! long windows.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::core::{ChannelId, CommunityId, Location, MessageId, Platform, Role, ThreadId, UserId};

mod buckets;

/// 2024-03-04 00:00 UTC, a Monday.
const T0_SECS: u64 = 1_709_510_400;
const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0_SECS)
}

/// `hours:minutes` after T0.
fn at(hours: u64, minutes: u64) -> SystemTime {
    t0() + HOUR * u32::try_from(hours).unwrap_or(0) + MINUTE * u32::try_from(minutes).unwrap_or(0)
}

fn location(thread: Option<&str>) -> Location {
    Location {
        platform: Platform::Discord,
        community: CommunityId::new("guild"),
        channel: ChannelId::new("general"),
        thread: thread.map(ThreadId::new),
    }
}

/// A member's message (no role seen, not a bot, no sentiment, no reactions).
fn msg(id: &str, author: &str, when: SystemTime, text: &str) -> WindowMessage {
    WindowMessage {
        message: MessageId::new(id),
        location: location(None),
        author: UserId::new(author),
        author_is_bot: false,
        author_role: Some(Role::Member),
        reply_to: None,
        created_at: when,
        text: text.to_string(),
        deleted: false,
        sentiment: None,
        reactions: 0,
    }
}

fn reply(mut message: WindowMessage, to: &str) -> WindowMessage {
    message.reply_to = Some(MessageId::new(to));
    message
}

fn in_thread(mut message: WindowMessage, thread: &str) -> WindowMessage {
    message.location = location(Some(thread));
    message
}

fn feeling(mut message: WindowMessage, label: &str, score: f32) -> WindowMessage {
    message.sentiment = Some((label.to_string(), score));
    message
}

fn reacted(mut message: WindowMessage, reactions: u64) -> WindowMessage {
    message.reactions = reactions;
    message
}

fn bot(mut message: WindowMessage) -> WindowMessage {
    message.author_is_bot = true;
    message.author_role = None;
    message
}

fn moderator(mut message: WindowMessage) -> WindowMessage {
    message.author_role = Some(Role::Moderator);
    message
}

/// Two days from T0; `now` is 50:00, questions count as old after 24 hours (before 26:00).
fn history() -> Vec<WindowMessage> {
    vec![
        // Q1, answered by bob (a member) after 30 minutes.
        reacted(
            feeling(
                msg("m1", "alice", at(0, 10), "How do I pin a crate version?"),
                "neutral",
                0.0,
            ),
            2,
        ),
        reacted(
            feeling(
                reply(
                    msg("m2", "bob", at(0, 40), "Use an equals sign in Cargo.toml"),
                    "m1",
                ),
                "positive",
                0.5,
            ),
            1,
        ),
        // Q2: another bot (does not answer), the asker (does not answer herself), Steward
        // (answers first), then a moderator (the first human reply, after 80 minutes).
        feeling(
            msg(
                "m3",
                "carol",
                at(1, 0),
                "Why does the build fail on Windows?",
            ),
            "negative",
            -0.6,
        ),
        feeling(
            bot(reply(
                msg(
                    "m4",
                    "otherbot",
                    at(1, 5),
                    "Beep. Did you try turning it off?",
                ),
                "m3",
            )),
            "negative",
            -0.7,
        ),
        feeling(
            reply(msg("m5", "carol", at(1, 10), "anyone?"), "m3"),
            "neutral",
            0.0,
        ),
        reacted(
            feeling(
                bot(reply(
                    msg("m6", "steward", at(1, 20), "Try the MSVC toolchain."),
                    "m3",
                )),
                "positive",
                0.6,
            ),
            4,
        ),
        feeling(
            moderator(reply(
                msg("m7", "mo", at(2, 20), "Install the build tools"),
                "m3",
            )),
            "positive",
            0.4,
        ),
        // Q3 starts a thread (thread id = its id); bob answers in it after 15 minutes.
        msg(
            "m8",
            "dave",
            at(3, 0),
            "Does anyone know where the logs are?",
        ),
        in_thread(
            msg("m9", "bob", at(3, 15), "They are in /var/log/steward"),
            "m8",
        ),
        // Q7 inside that thread, answered by dave in the same thread after 10 minutes.
        in_thread(
            msg("m16", "carol", at(3, 30), "which folder exactly?"),
            "m8",
        ),
        in_thread(
            msg("m17", "dave", at(3, 40), "the logs folder under var"),
            "m8",
        ),
        // Q4: never answered, asked before the 26:00 cutoff: unanswered and old.
        feeling(
            msg("m10", "alice", at(4, 0), "what is the release schedule?"),
            "neutral",
            0.0,
        ),
        // A deleted message: volume only (its stale negative label is not reported).
        WindowMessage {
            deleted: true,
            ..feeling(msg("m11", "bob", at(5, 0), ""), "negative", -0.9)
        },
        // Q5: never answered but asked after the cutoff: not old.
        feeling(
            msg("m12", "carol", at(30, 0), "Is there a dark mode?"),
            "neutral",
            0.0,
        ),
        reacted(
            feeling(
                msg("m13", "dave", at(40, 0), "I hate this update, it is awful"),
                "negative",
                -0.8,
            ),
            3,
        ),
        // Q6, answered by a moderator after the window ended (49:00), 8 hours later.
        msg("m14", "alice", at(41, 0), "Where can I find the changelog?"),
        reacted(
            moderator(reply(
                msg("m15", "mo", at(49, 0), "See CHANGELOG.md at the repo root"),
                "m14",
            )),
            5,
        ),
    ]
}

fn window() -> Window {
    Window {
        from: t0(),
        to: t0() + 2 * DAY,
    }
}

fn inputs<'a>(
    messages: &'a [WindowMessage],
    first: &'a [UserId],
    steward: &'a UserId,
) -> Inputs<'a> {
    Inputs {
        messages,
        first_time_posters: first,
        steward: Some(steward),
        votes_up: 3,
        votes_down: 1,
        now: at(50, 0),
        unanswered_after: DAY,
    }
}

fn ids(refs: &[MessageRef]) -> Vec<&str> {
    refs.iter().map(|r| r.message.as_str()).collect()
}

#[test]
fn every_figure_of_the_synthetic_history() {
    let messages = history();
    // erin's first message is elsewhere in the community: not active here, not counted.
    let first = [UserId::new("carol"), UserId::new("erin")];
    let steward = UserId::new("steward");
    let metrics = compute(window(), &inputs(&messages, &first, &steward));
    assert_eq!(metrics.window, window());
    // Human messages in the window: m1 m2 m3 m5 m7 m8 m9 m16 m17 m10 m11 m12 m13 m14 = 14
    // (m4 a bot, m6 Steward, m15 after the window).
    assert_eq!(metrics.messages, 14);
    // alice, bob, carol, mo, dave.
    assert_eq!(metrics.active_members, 5);
    // carol only (erin did not speak here).
    assert_eq!(metrics.new_members, 1);
    // Thread m8 only.
    assert_eq!(metrics.threads, 1);
    // Q1 m1, Q2 m3, Q3 m8, Q7 m16, Q4 m10, Q5 m12, Q6 m14 ("anyone?" is one word: not one).
    assert_eq!(metrics.questions, 7);
    // Q1 bob, Q3 bob, Q7 dave (members); Q6 mo (moderator); Q2 Steward.
    assert_eq!(metrics.answered, 5);
    assert_eq!(metrics.answered_by_members, 3);
    assert_eq!(metrics.answered_by_moderators, 1);
    assert_eq!(metrics.answered_by_steward, 1);
    // First human replies: 30 min, 80 min, 15 min, 10 min, 480 min -> median 30 min.
    assert_eq!(metrics.median_first_human_reply, Some(30 * MINUTE));
    // Q4 (04:00, before the 26:00 cutoff); Q5 (30:00) is not old yet.
    assert_eq!(ids(&metrics.unanswered_old), ["m10"]);
    assert_eq!(metrics.unanswered_old_total, 1);
    assert_eq!(
        metrics.unanswered_old[0].excerpt,
        "what is the release schedule?"
    );
    // m1 2 + m2 1 + m6 4 + m13 3 = 10 (m15's 5 are after the window).
    assert_eq!(metrics.reactions, 10);
    // Positive m2 m7; neutral m1 m5 m10 m12; negative m3 m13 (not the bot's m4, Steward's
    // m6 or the deleted m11).
    assert_eq!(metrics.positive, 2);
    assert_eq!(metrics.neutral, 4);
    assert_eq!(metrics.negative, 2);
    assert_eq!(metrics.scored, 8);
    // 2 / 8.
    assert_eq!(metrics.negative_share, Some(0.25));
    // 3 / (3 + 1).
    assert_eq!(metrics.satisfaction, Some(0.75));
    assert_eq!(metrics.votes, 4);
    // bob 2 (Q1, Q3), mo 2 (Q2, Q6) after bob by id, dave 1 (Q7).
    let helpers: Vec<(&str, u64)> = metrics
        .top_helpers
        .iter()
        .map(|helper| (helper.user.as_str(), helper.answers))
        .collect();
    assert_eq!(helpers, [("bob", 2), ("mo", 2), ("dave", 1)]);
    // m13 (-0.8) before m3 (-0.6).
    assert_eq!(ids(&metrics.negative_examples), ["m13", "m3"]);
}
