//! Axes shared by both charts: the x axis is the bucket index (bucket `i` spans `i..i + 1`),
//! labelled with its start as `MM-DD` (or `MM-DD HH:00` for hourly buckets, UTC); the count axis
//! shows whole numbers only, shortened (`12k`, `3.4M`); value ranges never collapse to nothing.

use std::time::Duration;

use crate::insights::health::Bucket;
use crate::store::to_millis;
use crate::text::civil_date;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Space left above the highest value (the legend sits there).
const HEADROOM: f64 = 1.35;
/// The count axis goes at least this high, so a handful of messages still gets whole-number
/// ticks.
const MIN_COUNT_TOP: f64 = 4.0;
/// Tick labels on a value axis.
pub(super) const VALUE_LABELS: usize = 6;

/// Whether the buckets are hours (then labels show the hour).
pub(super) fn is_hourly(buckets: &[Bucket]) -> bool {
    match buckets {
        [first, second, ..] => second
            .start
            .duration_since(first.start)
            .is_ok_and(|step| step < Duration::from_secs(24 * 3600)),
        [only] => to_millis(only.start).rem_euclid(DAY_MS) != 0,
        [] => false,
    }
}

/// How many time labels fit: hour labels are wider.
pub(super) fn time_label_count(buckets: usize, hourly: bool) -> usize {
    buckets.saturating_add(1).min(if hourly { 7 } else { 9 })
}

/// The label of x position `x`: the start of the bucket there, or nothing between buckets and
/// past the last one.
pub(super) fn time_label(buckets: &[Bucket], hourly: bool, x: f64) -> String {
    let nearest = x.round();
    if (x - nearest).abs() > 1e-6 || nearest < 0.0 {
        return String::new();
    }
    // A float to index cast saturates; `get` refuses what is past the end.
    let Some(bucket) = buckets.get(nearest as usize) else {
        return String::new();
    };
    let millis = to_millis(bucket.start);
    let (_, month, day) = civil_date(millis.div_euclid(DAY_MS));
    if hourly {
        let hour = millis.rem_euclid(DAY_MS) / HOUR_MS;
        format!("{month:02}-{day:02} {hour:02}:00")
    } else {
        format!("{month:02}-{day:02}")
    }
}

/// The top of a count axis whose highest value is `highest`.
pub(super) fn count_top(highest: u64) -> f64 {
    (highest as f64 * HEADROOM).ceil().max(MIN_COUNT_TOP)
}

/// The top of the hours axis whose highest value is `highest` (at least one hour).
pub(super) fn hours_top(highest: f64) -> f64 {
    if highest.is_finite() {
        (highest * HEADROOM).max(1.0)
    } else {
        1.0
    }
}

/// A count tick: whole numbers only, shortened past a thousand.
pub(super) fn count_label(value: f64) -> String {
    if (value - value.round()).abs() > 1e-6 {
        return String::new();
    }
    const UNITS: [&str; 6] = ["k", "M", "G", "T", "P", "E"];
    let mut scaled = value;
    let mut unit = "";
    for next in UNITS {
        if scaled.abs() < 1000.0 {
            break;
        }
        scaled /= 1000.0;
        unit = next;
    }
    if unit.is_empty() || scaled.abs() >= 10.0 {
        format!("{scaled:.0}{unit}")
    } else {
        format!("{scaled:.1}{unit}")
    }
}

/// An hours tick: a decimal below ten, shortened past a thousand.
pub(super) fn hours_label(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.1}")
    } else if value < 1000.0 {
        format!("{value:.0}")
    } else {
        count_label(value.round())
    }
}

/// The step outline of `value` per bucket: bucket `i` is flat from `i` to `i + 1`.
pub(super) fn steps(buckets: &[Bucket], value: fn(&Bucket) -> u64) -> Vec<(f64, f64)> {
    buckets
        .iter()
        .enumerate()
        .flat_map(|(index, bucket)| {
            let x = index as f64;
            let y = value(bucket) as f64;
            [(x, y), (x + 1.0, y)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn bucket(secs: u64) -> Bucket {
        Bucket {
            start: UNIX_EPOCH + Duration::from_secs(secs),
            messages: 0,
            positive: 0,
            neutral: 0,
            negative: 0,
            questions: 0,
            answered: 0,
            median_first_human_reply: None,
        }
    }

    #[test]
    fn time_labels_name_bucket_starts_in_utc() {
        // 2024-03-04 00:00 and 01:00 UTC.
        let hours = [bucket(1_709_510_400), bucket(1_709_514_000)];
        assert!(is_hourly(&hours));
        assert_eq!(time_label(&hours, true, 1.0), "03-04 01:00");
        assert_eq!(time_label(&hours, true, 0.5), "");
        assert_eq!(time_label(&hours, true, 2.0), "");
        assert_eq!(time_label(&hours, true, -1.0), "");
        let days = [bucket(1_709_510_400), bucket(1_709_596_800)];
        assert!(!is_hourly(&days));
        assert_eq!(time_label(&days, false, 1.0), "03-05");
        assert!(!is_hourly(&days[..1]));
        assert!(is_hourly(&hours[1..]));
    }

    #[test]
    fn counts_are_whole_and_short() {
        assert_eq!(count_label(0.0), "0");
        assert_eq!(count_label(7.0), "7");
        assert_eq!(count_label(0.5), "");
        assert_eq!(count_label(12_000.0), "12k");
        assert_eq!(count_label(3_400_000.0), "3.4M");
        assert_eq!(count_label(1.8e19), "18E");
        assert_eq!(count_top(0), 4.0);
        assert_eq!(count_top(3), 5.0);
        assert!(count_top(100) >= 135.0);
        assert_eq!(hours_label(2.5), "2.5");
        assert_eq!(hours_label(36.0), "36");
        assert_eq!(hours_label(5.0e15), "5.0P");
        assert_eq!(hours_top(0.0), 1.0);
        assert_eq!(hours_top(f64::NAN), 1.0);
    }
}
