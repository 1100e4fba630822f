//! [`gather`]: reads a window's messages, first-time posters and votes from the store, then
//! computes the figures and the buckets.

use std::time::{Duration, SystemTime};

use super::{buckets, compute, Bucket, HealthMetrics, Inputs, Window};
use crate::core::{ChannelId, CommunityId, Platform, UserId};
use crate::store::{to_millis, Store, StoreError};

/// Milliseconds in a UTC day, as `Store::votes_per_day` numbers them.
const DAY_MS: i64 = 86_400_000;

/// The figures and buckets of `window` for a community (or one `channel` and its threads).
///
/// Messages are read from `window.from` until `now` (nothing before the window: a question
/// asked earlier and answered inside it is not this window's), so replies after `window.to`
/// still answer the window's questions. Votes are the community's, on the UTC days the window
/// touches from `window.from` on (the store counts them per day).
#[allow(clippy::too_many_arguments)]
pub async fn gather(
    store: &Store,
    platform: Platform,
    community: &CommunityId,
    channel: Option<&ChannelId>,
    window: Window,
    steward: Option<&UserId>,
    unanswered_after: Duration,
    now: SystemTime,
) -> Result<(HealthMetrics, Vec<Bucket>), StoreError> {
    let messages = if now > window.from {
        store
            .window_messages(platform, community, channel, window.from, now)
            .await?
    } else {
        Vec::new()
    };
    let first_time_posters = store
        .first_time_posters(platform, community, window.from, window.to)
        .await?;
    let end = to_millis(window.to);
    let (votes_up, votes_down) = store
        .votes_per_day(platform, community, window.from)
        .await?
        .iter()
        .filter(|day| day.day.saturating_mul(DAY_MS) < end)
        .fold((0u64, 0u64), |(up, down), day| {
            (up.saturating_add(day.up), down.saturating_add(day.down))
        });
    let inputs = Inputs {
        messages: &messages,
        first_time_posters: &first_time_posters,
        steward,
        votes_up,
        votes_down,
        now,
        unanswered_after,
    };
    Ok((compute(window, &inputs), buckets(window, &inputs)))
}
