//! Buckets: the synthetic history per hour, UTC-aligned boundaries of 2-day (hours), 7-day
//! (days) and 90-day (weeks) windows, and an empty window.

use std::time::{Duration, SystemTime};

use super::*;
use crate::core::UserId;
use crate::insights::health::{
    bucket_length, buckets, compute, excerpt, Bucket, HealthMetrics, Inputs, Window, EXCERPT_CHARS,
};

#[test]
fn the_history_per_hour() {
    let messages = history();
    let steward = UserId::new("steward");
    let buckets = buckets(window(), &inputs(&messages, &[], &steward));
    assert_eq!(buckets.len(), 48);
    assert_eq!(buckets[0].start, t0());
    assert_eq!(buckets[47].start, at(47, 0));
    // 00:00: m1 (Q1, answered, 30 min) and m2.
    assert_eq!(
        buckets[0],
        Bucket {
            start: t0(),
            messages: 2,
            positive: 1,
            neutral: 1,
            negative: 0,
            questions: 1,
            answered: 1,
            median_first_human_reply: Some(30 * MINUTE),
        }
    );
    // 01:00: m3 and m5 (the bot's and Steward's messages are not volume); Q2 after 80 min.
    assert_eq!(
        (buckets[1].messages, buckets[1].negative, buckets[1].neutral),
        (2, 1, 1)
    );
    assert_eq!(buckets[1].median_first_human_reply, Some(80 * MINUTE));
    // 03:00: m8 m9 m16 m17; Q3 (15 min) and Q7 (10 min): median 12 min 30 s.
    assert_eq!(
        (
            buckets[3].messages,
            buckets[3].questions,
            buckets[3].answered
        ),
        (4, 2, 2)
    );
    assert_eq!(
        buckets[3].median_first_human_reply,
        Some(12 * MINUTE + 30 * Duration::from_secs(1))
    );
    // 04:00: Q4, unanswered.
    assert_eq!((buckets[4].questions, buckets[4].answered), (1, 0));
    assert_eq!(buckets[4].median_first_human_reply, None);
    // 41:00: Q6, answered after the window by mo.
    assert_eq!((buckets[41].questions, buckets[41].answered), (1, 1));
    assert_eq!(buckets[41].median_first_human_reply, Some(8 * HOUR));
    // The buckets add up to the window's figures.
    assert_eq!(buckets.iter().map(|b| b.messages).sum::<u64>(), 14);
    assert_eq!(buckets.iter().map(|b| b.questions).sum::<u64>(), 7);
    assert_eq!(buckets.iter().map(|b| b.answered).sum::<u64>(), 5);
}

/// Bucket starts of an empty history over `window`.
fn starts(window: Window) -> Vec<SystemTime> {
    let steward = UserId::new("steward");
    buckets(window, &inputs(&[], &[], &steward))
        .iter()
        .map(|bucket| bucket.start)
        .collect()
}

#[test]
fn hours_for_two_days_aligned_to_the_hour() {
    // 01:30 to 01:30 the next day: hours 01:00 .. 01:00 next day, 25 buckets.
    let window = Window {
        from: at(1, 30),
        to: at(25, 30),
    };
    assert_eq!(bucket_length(window), HOUR);
    let starts = starts(window);
    assert_eq!(starts.len(), 25);
    assert_eq!(starts.first(), Some(&at(1, 0)));
    assert_eq!(starts.last(), Some(&at(25, 0)));
    // Exactly two days is still hourly.
    assert_eq!(
        bucket_length(Window {
            from: t0(),
            to: t0() + 2 * DAY
        }),
        HOUR
    );
}

#[test]
fn days_for_a_week_aligned_to_midnight_utc() {
    // Monday 05:00 to the next Monday 05:00: 8 days from Monday midnight.
    let window = Window {
        from: at(5, 0),
        to: at(5, 0) + 7 * DAY,
    };
    assert_eq!(bucket_length(window), DAY);
    let starts = starts(window);
    assert_eq!(starts.len(), 8);
    for (i, start) in starts.iter().enumerate() {
        assert_eq!(*start, t0() + DAY * u32::try_from(i).unwrap_or(0));
    }
    assert_eq!(
        bucket_length(Window {
            from: t0(),
            to: t0() + 2 * DAY + HOUR
        }),
        DAY
    );
    assert_eq!(
        bucket_length(Window {
            from: t0(),
            to: t0() + 62 * DAY
        }),
        DAY
    );
}

#[test]
fn weeks_for_ninety_days_starting_on_monday() {
    // Wednesday 03:00 plus 90 days: weeks from Monday T0, ceil(92.125 / 7) = 14.
    let from = t0() + 2 * DAY + 3 * HOUR;
    let window = Window {
        from,
        to: from + 90 * DAY,
    };
    assert_eq!(bucket_length(window), 7 * DAY);
    let starts = starts(window);
    assert_eq!(starts.len(), 14);
    for (i, start) in starts.iter().enumerate() {
        assert_eq!(*start, t0() + 7 * DAY * u32::try_from(i).unwrap_or(0));
    }
    assert_eq!(
        bucket_length(Window {
            from: t0(),
            to: t0() + 63 * DAY
        }),
        7 * DAY
    );
}

#[test]
fn an_empty_window_gives_zeros_and_none() {
    let steward = UserId::new("steward");
    let quiet = Inputs {
        votes_up: 0,
        votes_down: 0,
        ..inputs(&[], &[], &steward)
    };
    let metrics = compute(window(), &quiet);
    assert_eq!(
        metrics,
        HealthMetrics {
            window: window(),
            active_members: 0,
            new_members: 0,
            messages: 0,
            threads: 0,
            questions: 0,
            answered: 0,
            answered_by_members: 0,
            answered_by_moderators: 0,
            answered_by_steward: 0,
            median_first_human_reply: None,
            unanswered_old: Vec::new(),
            unanswered_old_total: 0,
            reactions: 0,
            scored: 0,
            positive: 0,
            neutral: 0,
            negative: 0,
            negative_share: None,
            satisfaction: None,
            votes: 0,
            top_helpers: Vec::new(),
            negative_examples: Vec::new(),
        }
    );
    let buckets = buckets(window(), &quiet);
    assert_eq!(buckets.len(), 48);
    assert!(buckets.iter().all(|bucket| bucket.messages == 0
        && bucket.positive + bucket.neutral + bucket.negative == 0
        && bucket.questions == 0
        && bucket.answered == 0
        && bucket.median_first_human_reply.is_none()));
    // A window that ends where it starts has no buckets at all.
    let nothing = Window {
        from: t0(),
        to: t0(),
    };
    assert!(crate::insights::health::buckets(nothing, &quiet).is_empty());
}

#[test]
fn excerpts_are_one_short_line() {
    assert_eq!(excerpt("  two\nlines  "), "two lines");
    let long = "词".repeat(300);
    let short = excerpt(&long);
    assert_eq!(short.chars().count(), EXCERPT_CHARS);
    assert!(short.ends_with('…'));
}
