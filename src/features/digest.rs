//! The weekly digest: the community report of the last 7 days, with its charts, posted in
//! the channel moderators chose (`setting digest here`), on their weekday and hour
//! (`setting digest_day mon..sun`, `setting digest_hour 0..23`, UTC; else `[insights]
//! digest_day` and `digest_hour_utc`).
//!
//! A loop ([`run_due`], every few minutes) computes the latest due time at or before now
//! ([`last_due`]) and posts the digest of the 7 days before it unless one due at or after it
//! was posted: [`Store::claim_digest`] makes that atomic across processes and restarts. After
//! a downtime of several weeks exactly one digest goes out, the latest due, never one per
//! missed week. The report is built before it is claimed, so a failed build is tried again
//! next round instead of losing the week.
//!
//! The first digest after `setting digest here`: a due time less than a day old
//! ([`FIRST_DIGEST_WITHIN`]) is posted (the setting was made just after the hour); an older
//! one is only recorded, so turning the digest on mid-week posts nothing until the next due
//! time rather than last week's digest days late.
//!
//! [`Store::claim_digest`]: crate::store::Store::claim_digest

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::core::settings::{DIGEST, DIGEST_DAY, DIGEST_HOUR, WEEKDAYS};
use crate::core::{
    Action, Capabilities, ChannelId, CommunityId, Language, Location, Platform, UserId,
};
use crate::features::report::{build, window_ending, ReportError, Reports, Scope};
use crate::features::CommunitySettings;
use crate::llm::Priority;
use crate::store::{Store, StoreError};
use crate::strings::Strings;

const DAY_SECONDS: u64 = 86_400;
/// What a digest covers.
pub const DIGEST_WINDOW: Duration = Duration::from_secs(7 * DAY_SECONDS);
/// A community's first digest is posted only if its due time is younger than this.
pub const FIRST_DIGEST_WITHIN: Duration = Duration::from_secs(DAY_SECONDS);

/// The latest `weekday` (0 = Monday) at `hour`:00 UTC at or before `now`.
pub fn last_due(now: SystemTime, weekday: u8, hour: u8) -> SystemTime {
    let seconds = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let day = seconds / DAY_SECONDS;
    // 1970-01-01 was a Thursday: weekday 3 with Monday as 0.
    let today = (day + 3) % 7;
    let days_back = (today + 7 - u64::from(weekday % 7)) % 7;
    let mut due = day.saturating_sub(days_back) * DAY_SECONDS + u64::from(hour.min(23)) * 3600;
    if due > seconds {
        due = due.saturating_sub(7 * DAY_SECONDS);
    }
    UNIX_EPOCH + Duration::from_secs(due)
}

/// What to do about the digest due at `due`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Build it, claim it, post it.
    Post,
    /// Never posted before and due long ago: record it without posting.
    Record,
    /// Already posted (or a later one was).
    Done,
}

/// Decides about the digest due at `due`, given the due time last posted (`None`: never).
pub fn due_decision(last: Option<SystemTime>, due: SystemTime, now: SystemTime) -> Due {
    match last {
        Some(last) if last >= due => Due::Done,
        Some(_) => Due::Post,
        None if now.duration_since(due).unwrap_or_default() < FIRST_DIGEST_WITHIN => Due::Post,
        None => Due::Record,
    }
}

/// The digest settings, read the one way every feature reads them.
impl CommunitySettings {
    /// The digest's channel (`setting digest here`); `None`: no digest.
    pub fn digest_channel(&self) -> Option<ChannelId> {
        self.get(DIGEST)
            .filter(|channel| !channel.trim().is_empty())
            .map(ChannelId::new)
    }

    /// The digest's weekday (0 = Monday): `setting digest_day`, else `default`.
    pub fn digest_weekday(&self, default: u8) -> u8 {
        self.get(DIGEST_DAY)
            .and_then(|day| WEEKDAYS.iter().position(|known| *known == day))
            .and_then(|index| u8::try_from(index).ok())
            .unwrap_or(default)
    }

    /// The digest's hour (UTC): `setting digest_hour`, else `default`.
    pub fn digest_hour(&self, default: u8) -> u8 {
        self.number(DIGEST_HOUR)
            .and_then(|hour| u8::try_from(hour).ok())
            .filter(|hour| *hour < 24)
            .unwrap_or(default)
    }
}

/// A platform this process serves, with what its adapter registered.
#[derive(Debug, Clone)]
pub struct Served {
    pub platform: Platform,
    pub capabilities: Arc<Capabilities>,
    /// Steward's own user there (its answers count as Steward's), once known.
    pub steward: Option<UserId>,
}

/// A community of a platform this process serves, with its settings as read for this round.
#[derive(Debug, Clone)]
pub struct ServedCommunity<'a> {
    pub place: &'a Served,
    pub community: CommunityId,
    pub settings: CommunitySettings,
}

/// Every community of the `served` platforms with its settings, read once for a whole round
/// (alerts and digests share it). A community whose settings cannot be read is logged and
/// left out of this round; only listing the communities fails it.
pub async fn served_communities<'a>(
    store: &Store,
    served: &'a [Served],
) -> Result<Vec<ServedCommunity<'a>>, StoreError> {
    let communities = store.communities().await?;
    let mut found = Vec::new();
    for place in served {
        let here = communities
            .iter()
            .filter(|(platform, _)| *platform == place.platform);
        for (_, community) in here {
            match store.settings(place.platform, community).await {
                Ok(values) => found.push(ServedCommunity {
                    place,
                    community: community.clone(),
                    settings: CommunitySettings::new(values),
                }),
                Err(error) => {
                    tracing::warn!(label = error.label(), %error, %community, "reading a community's settings for alerts and digests failed; trying again next round");
                }
            }
        }
    }
    Ok(found)
}

/// The digests due now in those of `communities` that asked for one. A community whose digest
/// fails is logged and tried again next round.
pub async fn run_due(
    reports: &Reports,
    communities: &[ServedCommunity<'_>],
    default_language: Language,
    now: SystemTime,
) -> Vec<Action> {
    let mut actions = Vec::new();
    for served in communities {
        let Some(channel) = served.settings.digest_channel() else {
            continue;
        };
        let target = Target {
            place: served.place,
            community: &served.community,
            settings: &served.settings,
            channel,
        };
        match digest(reports, &target, default_language, now).await {
            Ok(Some(action)) => actions.push(action),
            Ok(None) => {}
            Err(error) => {
                let community = &served.community;
                tracing::error!(label = error.label(), %error, %community, "the weekly digest failed; trying again next round");
            }
        }
    }
    actions
}

/// One community's digest, where it goes.
struct Target<'a> {
    place: &'a Served,
    community: &'a CommunityId,
    settings: &'a CommunitySettings,
    channel: ChannelId,
}

/// The digest of one community if one is due and not yet posted.
async fn digest(
    reports: &Reports,
    target: &Target<'_>,
    default_language: Language,
    now: SystemTime,
) -> Result<Option<Action>, ReportError> {
    let (platform, community) = (target.place.platform, target.community);
    let insights = reports.settings();
    let weekday = target.settings.digest_weekday(insights.digest_weekday);
    let hour = target.settings.digest_hour(insights.digest_hour_utc);
    let due = last_due(now, weekday, hour);
    let store = reports.store();
    match due_decision(store.digest_last_due(platform, community).await?, due, now) {
        Due::Done => return Ok(None),
        Due::Record => {
            store.claim_digest(platform, community, due, now).await?;
            tracing::info!(%community, "the digest was just turned on; the first one is posted at the next due time");
            return Ok(None);
        }
        Due::Post => {}
    }
    let scope = Scope {
        platform,
        community,
        channel: None,
        strings: Strings::new(target.settings.language(default_language)),
        capabilities: target.place.capabilities.as_ref(),
        digest: true,
        // The digest's channel may be public: quote only its own messages, unless it is the
        // moderators' channel.
        quote_only_from: (target.settings.mod_log().as_ref() != Some(&target.channel))
            .then_some(&target.channel),
    };
    // Nobody is waiting: the reading queues behind members' questions.
    let reading = reports.reading(Priority::Background);
    let window = window_ending(due, DIGEST_WINDOW);
    let steward = target.place.steward.as_ref();
    let report = build(
        store,
        Some(&reading),
        &scope,
        window,
        steward,
        insights,
        now,
    )
    .await?;
    if !store.claim_digest(platform, community, due, now).await? {
        // Another process posted it meanwhile.
        return Ok(None);
    }
    let location = Location {
        platform,
        community: community.clone(),
        channel: target.channel.clone(),
        thread: None,
    };
    Ok(Some(report.post_at(location)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u64, hour: u64, minute: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(day * DAY_SECONDS + hour * 3600 + minute * 60)
    }

    #[test]
    fn last_due_is_the_latest_weekday_and_hour_at_or_before_now() {
        // Day 19_723 is Monday 2024-01-01.
        let monday = 19_723;
        let cases = [
            // (now, weekday, hour, due)
            (at(monday, 9, 0), 0, 9, at(monday, 9, 0)),
            (at(monday, 8, 59), 0, 9, at(monday - 7, 9, 0)),
            (at(monday + 3, 12, 0), 0, 9, at(monday, 9, 0)),
            (at(monday + 3, 12, 0), 3, 12, at(monday + 3, 12, 0)),
            (at(monday + 3, 11, 0), 3, 12, at(monday - 4, 12, 0)),
            (at(monday + 1, 0, 0), 6, 23, at(monday - 1, 23, 0)),
        ];
        for (now, weekday, hour, due) in cases {
            assert_eq!(last_due(now, weekday, hour), due, "{weekday} {hour}");
        }
    }

    #[test]
    fn one_digest_per_due_time_and_none_for_an_old_first_one() {
        let due = at(19_723, 9, 0);
        let now = at(19_723, 10, 0);
        assert_eq!(due_decision(None, due, now), Due::Post);
        assert_eq!(due_decision(None, due, at(19_725, 9, 0)), Due::Record);
        assert_eq!(due_decision(Some(due), due, now), Due::Done);
        assert_eq!(due_decision(Some(at(19_702, 9, 0)), due, now), Due::Post);
    }

    #[test]
    fn digest_settings_read_back() {
        let settings = CommunitySettings::new(vec![
            (DIGEST.into(), "digests".into()),
            (DIGEST_DAY.into(), "fri".into()),
            (DIGEST_HOUR.into(), "0".into()),
        ]);
        assert_eq!(settings.digest_channel(), Some(ChannelId::new("digests")));
        assert_eq!(settings.digest_weekday(0), 4);
        assert_eq!(settings.digest_hour(9), 0);
        let none = CommunitySettings::default();
        assert_eq!(none.digest_channel(), None);
        assert_eq!((none.digest_weekday(2), none.digest_hour(9)), (2, 9));
    }
}
