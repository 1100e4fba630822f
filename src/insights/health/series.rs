//! [`buckets`]: the figures of a window per hour, day or week, for the charts.

use std::time::{Duration, SystemTime};

use super::answers::{is_human, outcomes, sorted, Tone};
use super::{median, Bucket, Inputs, Window};
use crate::store::{from_millis, to_millis};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
const WEEK_MS: i64 = 7 * DAY_MS;
/// 1970-01-01 was a Thursday; weeks start on Monday, four days later.
const MONDAY_MS: i64 = 4 * DAY_MS;
/// Windows up to this long get hourly buckets...
const HOURLY_UP_TO: Duration = Duration::from_secs(2 * 24 * 3600);
/// ...up to this long daily ones, and weekly ones beyond.
const DAILY_UP_TO: Duration = Duration::from_secs(62 * 24 * 3600);
/// At most this many buckets (about 19 years of weeks): a window longer than that is cut at
/// the end rather than allocating without bound.
pub const MAX_BUCKETS: usize = 1000;

/// How long each bucket of `window` lasts: an hour, a day or a week.
pub fn bucket_length(window: Window) -> Duration {
    let length = window.length();
    let millis = if length <= HOURLY_UP_TO {
        HOUR_MS
    } else if length <= DAILY_UP_TO {
        DAY_MS
    } else {
        WEEK_MS
    };
    Duration::from_millis(millis.unsigned_abs())
}

/// The figures of `window` per bucket, oldest first; none when the window is empty (`to` not
/// after `from`). Buckets are UTC-aligned (weeks start on Monday), so the first may start
/// before `window.from`; each counts only what is inside the window.
pub fn buckets(window: Window, inputs: &Inputs) -> Vec<Bucket> {
    if window.to <= window.from {
        return Vec::new();
    }
    let unit = bucket_millis(window);
    let offset = if unit == WEEK_MS { MONDAY_MS } else { 0 };
    let from = to_millis(window.from);
    let to = to_millis(window.to);
    // Saturating: times at the far ends of `SystemTime` must not overflow.
    let first = from
        .saturating_sub(offset)
        .div_euclid(unit)
        .saturating_mul(unit)
        .saturating_add(offset);
    let wanted = to
        .saturating_sub(first)
        .saturating_add(unit - 1)
        .div_euclid(unit);
    let len = usize::try_from(wanted).unwrap_or(0).min(MAX_BUCKETS);
    let index = |time: SystemTime| -> Option<usize> {
        usize::try_from(to_millis(time).saturating_sub(first).div_euclid(unit))
            .ok()
            .filter(|&at| at < len)
    };

    let mut messages = vec![0u64; len];
    let mut tones = vec![Tone::default(); len];
    let mut questions = vec![0u64; len];
    let mut answered = vec![0u64; len];
    let mut delays: Vec<Vec<Duration>> = vec![Vec::new(); len];

    let sorted = sorted(inputs);
    for &message in &sorted {
        if !window.contains(message.created_at) || !is_human(message, inputs.steward) {
            continue;
        }
        if let Some(at) = index(message.created_at) {
            if let (Some(volume), Some(tone)) = (messages.get_mut(at), tones.get_mut(at)) {
                *volume += 1;
                tone.add(message);
            }
        }
    }
    for outcome in outcomes(window, inputs, &sorted) {
        let Some(at) = index(outcome.question.created_at) else {
            continue;
        };
        if let Some(asked) = questions.get_mut(at) {
            *asked += 1;
        }
        if outcome.answerer.is_some() {
            if let Some(done) = answered.get_mut(at) {
                *done += 1;
            }
        }
        if let (Some((_, delay)), Some(bucket)) = (outcome.first_human, delays.get_mut(at)) {
            bucket.push(delay);
        }
    }

    (0..len)
        .map(|at| {
            let tone = tones.get(at).copied().unwrap_or_default();
            Bucket {
                start: from_millis(
                    first.saturating_add(unit.saturating_mul(i64::try_from(at).unwrap_or(0))),
                ),
                messages: messages.get(at).copied().unwrap_or(0),
                positive: tone.positive,
                neutral: tone.neutral,
                negative: tone.negative,
                questions: questions.get(at).copied().unwrap_or(0),
                answered: answered.get(at).copied().unwrap_or(0),
                median_first_human_reply: median(delays.get(at).cloned().unwrap_or_default()),
            }
        })
        .collect()
}

/// [`bucket_length`] in milliseconds.
fn bucket_millis(window: Window) -> i64 {
    i64::try_from(bucket_length(window).as_millis()).unwrap_or(WEEK_MS)
}
