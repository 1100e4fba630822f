//! Alerts for moderators: a channel suddenly much more negative than usual, or questions
//! piling up without answers, posted to the community's moderators' log.
//!
//! Each channel active in the last `alert_window` is compared with its own baseline, the
//! `alert_baseline` before that window:
//!
//! - **negative spike**: at least `alert_min_messages` scored messages in the window, a
//!   negative share of at least `alert_negative_share_min`, and at least `alert_ratio` times
//!   the baseline's share. A baseline with nothing negative (or nothing scored: a new channel)
//!   counts as [`NEGATIVE_SHARE_FLOOR`], so one bad day in a calm channel can alert but a
//!   steadily grumpy channel never does.
//! - **unanswered rise**: at least `alert_unanswered_min` questions of the window without any
//!   answer, and at least `alert_ratio` times the baseline's average per window (at least
//!   [`UNANSWERED_FLOOR`]). To compare like with like, a question counts as unanswered in
//!   every window the same way: asked before the window's end minus a grace
//!   ([`grace`]: half the alert window, at most `unanswered_after`) and answered by no one
//!   before the window's end.
//!
//! The window is the trailing one, `[now - alert_window, now)`, so a spike is seen within one
//! round of the loop. "Once per window" is per slot of the UTC-aligned grid
//! (`floor(now / alert_window) * alert_window`, [`slot_start`]): [`Store::claim_alert`]
//! records (channel, kind, slot) across processes, so moderators hear of a spike once, and of
//! one that lasts at most once per window. The absolute thresholds are checked first: the
//! baseline (the expensive read) is read only for a channel that could alert at all.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::InsightsSettings;
use crate::core::{Action, ChannelId, UserId};
use crate::features::report::{channel_label, item_line, window_label, Scope};
use crate::insights::health::{compute, HealthMetrics, Inputs, Window};
use crate::store::{AlertKind, Store, StoreError, WindowMessage};

/// The baseline's negative share is at least this (5 %).
pub const NEGATIVE_SHARE_FLOOR: f64 = 0.05;
/// The baseline's unanswered questions per window are at least this.
pub const UNANSWERED_FLOOR: f64 = 1.0;
/// An alert links to at most this many messages.
const EXAMPLES: usize = 3;

/// What one window of a channel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figures {
    pub scored: u64,
    pub negative: u64,
    /// Questions without any answer (see the module doc for when one counts).
    pub unanswered: u64,
}

/// What a channel usually shows: its baseline.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Baseline {
    pub scored: u64,
    pub negative: u64,
    /// Unanswered questions per alert window, over the windows since the channel's first
    /// message in the baseline.
    pub unanswered_per_window: f64,
}

fn negative_share(negative: u64, scored: u64) -> Option<f64> {
    (scored > 0).then(|| negative as f64 / scored as f64)
}

/// Whether `window` passes the absolute thresholds (without them no baseline can alert).
pub fn could_alert(window: &Figures, settings: &InsightsSettings) -> bool {
    let negative = negative_share(window.negative, window.scored).is_some_and(|share| {
        window.scored >= settings.alert_min_messages && share >= settings.alert_negative_share_min
    });
    negative || window.unanswered >= settings.alert_unanswered_min
}

/// The alerts `window` raises against `baseline`.
pub fn decide(
    window: &Figures,
    baseline: &Baseline,
    settings: &InsightsSettings,
) -> Vec<AlertKind> {
    let mut kinds = Vec::new();
    if let Some(share) = negative_share(window.negative, window.scored) {
        let usual = negative_share(baseline.negative, baseline.scored)
            .unwrap_or(0.0)
            .max(NEGATIVE_SHARE_FLOOR);
        if window.scored >= settings.alert_min_messages
            && share >= settings.alert_negative_share_min
            && share >= settings.alert_ratio * usual
        {
            kinds.push(AlertKind::NegativeSpike);
        }
    }
    let usual = baseline.unanswered_per_window.max(UNANSWERED_FLOOR);
    if window.unanswered >= settings.alert_unanswered_min
        && window.unanswered as f64 >= settings.alert_ratio * usual
    {
        kinds.push(AlertKind::UnansweredRise);
    }
    kinds
}

/// The start of the UTC-aligned slot of length `window` that holds `now`.
pub fn slot_start(now: SystemTime, window: Duration) -> SystemTime {
    let length = window.as_secs().max(1);
    let seconds = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    UNIX_EPOCH + Duration::from_secs(seconds / length * length)
}

/// How old an unanswered question must be to count: half the alert window, at most
/// `unanswered_after` (a fresh question has had no chance to be answered).
pub fn grace(settings: &InsightsSettings) -> Duration {
    (settings.alert_window / 2).min(settings.unanswered_after)
}

/// Checks every channel of `scope.community` active in the last alert window (`scope.channel`
/// is not used) and returns one post to the moderators' log (`mod_log`: the community's own
/// channel, else the adapter's) per new alert.
pub async fn check(
    store: &Store,
    scope: &Scope<'_>,
    mod_log: Option<ChannelId>,
    settings: &InsightsSettings,
    steward: Option<&UserId>,
    now: SystemTime,
) -> Result<Vec<Action>, StoreError> {
    let length = settings.alert_window;
    if !settings.alerts || length.is_zero() {
        return Ok(Vec::new());
    }
    let (platform, community) = (scope.platform, scope.community);
    let since = now.checked_sub(length).unwrap_or(UNIX_EPOCH);
    let slot = slot_start(now, length);
    let grace = grace(settings);
    let mut actions = Vec::new();
    for channel in store.active_channels(platform, community, since).await? {
        let recent = store
            .window_messages(platform, community, Some(&channel), since, now)
            .await?;
        let current = measure(&recent, since, now, steward, grace);
        let figures = figures_of(&current);
        if !could_alert(&figures, settings) {
            continue;
        }
        let usual = baseline(store, scope, &channel, steward, settings, since).await?;
        let kinds = decide(&figures, &usual, settings);
        if kinds.is_empty() {
            continue;
        }
        let name = channel_label(store, platform, &channel).await?;
        for kind in kinds {
            if !store
                .claim_alert(platform, community, &channel, kind, slot, now)
                .await?
            {
                continue;
            }
            let text = alert_text(scope, kind, &name, settings, &usual, &current);
            actions.push(Action::PostToModLog {
                platform,
                community: community.clone(),
                channel: mod_log.clone(),
                case: None,
                text,
            });
        }
    }
    Ok(actions)
}

/// The metrics of the messages created in `[from, to)`, as they stood at `to`.
fn measure(
    messages: &[WindowMessage],
    from: SystemTime,
    to: SystemTime,
    steward: Option<&UserId>,
    grace: Duration,
) -> HealthMetrics {
    // Oldest first: the window is a slice, and nothing after `to` can count as an answer.
    let start = messages.partition_point(|message| message.created_at < from);
    let end = messages
        .partition_point(|message| message.created_at < to)
        .max(start);
    let inputs = Inputs {
        messages: &messages[start..end],
        first_time_posters: &[],
        steward,
        votes_up: 0,
        votes_down: 0,
        now: to,
        unanswered_after: grace,
    };
    compute(Window { from, to }, &inputs)
}

fn figures_of(metrics: &HealthMetrics) -> Figures {
    Figures {
        scored: metrics.scored,
        negative: metrics.negative,
        unanswered: metrics.unanswered_old_total,
    }
}

/// The channel's baseline: the `alert_baseline` before `until`, window by window.
async fn baseline(
    store: &Store,
    scope: &Scope<'_>,
    channel: &ChannelId,
    steward: Option<&UserId>,
    settings: &InsightsSettings,
    until: SystemTime,
) -> Result<Baseline, StoreError> {
    let from = until
        .checked_sub(settings.alert_baseline)
        .unwrap_or(UNIX_EPOCH);
    let messages = store
        .window_messages(scope.platform, scope.community, Some(channel), from, until)
        .await?;
    let Some(first) = messages.first().map(|message| message.created_at) else {
        return Ok(Baseline::default());
    };
    let grace = grace(settings);
    let mut baseline = Baseline::default();
    let (mut windows, mut unanswered) = (0u64, 0u64);
    let mut end = until;
    // Back from `until`, one alert window at a time, down to the window of the first message:
    // a young channel's average is over the windows it existed.
    while end > from && end > first {
        let start = end
            .checked_sub(settings.alert_window)
            .unwrap_or(UNIX_EPOCH)
            .max(from);
        let metrics = measure(&messages, start, end, steward, grace);
        baseline.scored += metrics.scored;
        baseline.negative += metrics.negative;
        unanswered += metrics.unanswered_old_total;
        windows += 1;
        end = start;
    }
    if windows > 0 {
        baseline.unanswered_per_window = unanswered as f64 / windows as f64;
    }
    Ok(baseline)
}

/// The moderators' log post for one alert, with links to a few of the messages.
fn alert_text(
    scope: &Scope<'_>,
    kind: AlertKind,
    channel: &str,
    settings: &InsightsSettings,
    usual: &Baseline,
    current: &HealthMetrics,
) -> String {
    let strings = scope.strings;
    let window = window_label(settings.alert_window);
    let percent = |share: f64| strings.percent((share * 100.0).round() as i64);
    let (head, examples) = match kind {
        AlertKind::NegativeSpike => {
            let share = negative_share(current.negative, current.scored).unwrap_or(0.0);
            let usual = negative_share(usual.negative, usual.scored)
                .map_or_else(|| strings.no_data().to_string(), percent);
            let head = strings.alert_negative_spike(
                channel,
                &window,
                &percent(share),
                current.scored,
                &usual,
            );
            (head, &current.negative_examples)
        }
        AlertKind::UnansweredRise => {
            let usual = format!("{:.1}", usual.unanswered_per_window);
            let head = strings.alert_unanswered_rise(
                channel,
                &window,
                current.unanswered_old_total,
                &usual,
            );
            (head, &current.unanswered_old)
        }
    };
    let mut lines = vec![head];
    if !examples.is_empty() {
        lines.push(strings.alert_examples().to_string());
    }
    for (index, reference) in examples.iter().take(EXAMPLES).enumerate() {
        lines.push(item_line(index + 1, reference, scope.capabilities));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(scored: u64, negative: u64, unanswered: u64) -> Figures {
        Figures {
            scored,
            negative,
            unanswered,
        }
    }

    fn usual(scored: u64, negative: u64, unanswered_per_window: f64) -> Baseline {
        Baseline {
            scored,
            negative,
            unanswered_per_window,
        }
    }

    #[test]
    fn decisions_table() {
        let settings = InsightsSettings {
            alert_min_messages: 10,
            alert_negative_share_min: 0.3,
            alert_ratio: 2.0,
            alert_unanswered_min: 5,
            ..InsightsSettings::default()
        };
        let min = settings.alert_min_messages;
        let spike = vec![AlertKind::NegativeSpike];
        let rise = vec![AlertKind::UnansweredRise];
        let cases = [
            // A calm channel turns sour.
            (window(20, 12, 0), usual(500, 25, 0.0), spike.clone()),
            // As sour as ever: steady traffic never alerts.
            (window(20, 12, 0), usual(500, 300, 0.0), vec![]),
            // Too few scored messages to say.
            (window(min - 1, min - 1, 0), usual(500, 0, 0.0), vec![]),
            // Nothing scored before: the floor, and the absolute minimum, decide.
            (window(20, 12, 0), usual(0, 0, 0.0), spike.clone()),
            (window(20, 1, 0), usual(0, 0, 0.0), vec![]),
            // Questions pile up in a channel that answers them.
            (window(0, 0, 9), usual(0, 0, 0.5), rise.clone()),
            (window(0, 0, 9), usual(0, 0, 8.0), vec![]),
            (window(0, 0, 1), usual(0, 0, 0.0), vec![]),
            (
                window(20, 12, 9),
                usual(500, 25, 0.0),
                vec![AlertKind::NegativeSpike, AlertKind::UnansweredRise],
            ),
        ];
        for (current, baseline, expected) in cases {
            assert_eq!(
                decide(&current, &baseline, &settings),
                expected,
                "{current:?} {baseline:?}"
            );
            if !expected.is_empty() {
                assert!(could_alert(&current, &settings), "{current:?}");
            }
        }
    }

    #[test]
    fn slots_are_utc_aligned() {
        let six_hours = Duration::from_secs(6 * 3600);
        let at = |seconds: u64| UNIX_EPOCH + Duration::from_secs(seconds);
        assert_eq!(
            slot_start(at(86_400 + 7 * 3600), six_hours),
            at(86_400 + 6 * 3600)
        );
        assert_eq!(
            slot_start(at(86_400 + 6 * 3600), six_hours),
            at(86_400 + 6 * 3600)
        );
        assert_eq!(slot_start(at(5), Duration::ZERO), at(5));
    }
}
