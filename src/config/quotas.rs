//! The `[quotas]` section: how much model time one member, one channel and one community may
//! use per window, and what each feature costs. The limiter itself is `community::quotas`.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

/// `[quotas]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuotas {
    pub enabled: Option<bool>,
    pub window_secs: Option<i64>,
    pub member_budget: Option<i64>,
    pub channel_budget: Option<i64>,
    pub community_budget: Option<i64>,
    pub report_budget: Option<i64>,
    pub ask_cost: Option<i64>,
    pub summarize_cost: Option<i64>,
    pub moderators_exempt: Option<bool>,
}

/// Validated `[quotas]` settings. Budgets are units per `window`; a full budget may be spent
/// at once (burst) and refills evenly over the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaSettings {
    /// Off: no request is ever refused for quota.
    pub enabled: bool,
    /// The window every budget refers to; also how long a refused member waits between two
    /// notices.
    pub window: Duration,
    /// Units one member may spend in one community per window.
    pub member_budget: u32,
    /// Units all members together may spend in one channel per window.
    pub channel_budget: u32,
    /// Units all members together may spend in one community per window.
    pub community_budget: u32,
    /// 🚩 reports one member may file in one community per window (one unit each, a budget of
    /// its own: reporting never uses up a member's questions, nor the other way round).
    pub report_budget: u32,
    /// Units one `ask` costs.
    pub ask_cost: u32,
    /// Units one `summarize` costs (it reads many messages, so it costs more than an answer).
    pub summarize_cost: u32,
    /// Moderators and owners are never refused for quota.
    pub moderators_exempt: bool,
}

impl Default for QuotaSettings {
    fn default() -> Self {
        validate(RawQuotas::default(), &|key, message| ConfigError::Invalid {
            path: String::new(),
            line: String::new(),
            key: key.to_string(),
            message,
        })
        .expect("quota defaults are valid")
    }
}

/// The largest budget: more units per window than any model could serve.
const MAX_BUDGET: i64 = 100_000;
/// The longest window: one day.
const MAX_WINDOW_SECS: i64 = 86_400;

/// Checks `[quotas]`; `invalid(key, message)` builds the error naming file and key.
pub fn validate(
    raw: RawQuotas,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<QuotaSettings, ConfigError> {
    let in_range = |key: &str, value: Option<i64>, default: i64, min: i64, max: i64| {
        super::validate::in_range(invalid, key, value, default, min, max)
    };
    let window = in_range(
        "quotas.window_secs",
        raw.window_secs,
        600,
        1,
        MAX_WINDOW_SECS,
    )?;
    let member = in_range("quotas.member_budget", raw.member_budget, 10, 1, MAX_BUDGET)?;
    let channel = in_range(
        "quotas.channel_budget",
        raw.channel_budget,
        30,
        1,
        MAX_BUDGET,
    )?;
    let community = in_range(
        "quotas.community_budget",
        raw.community_budget,
        120,
        1,
        MAX_BUDGET,
    )?;
    let report = in_range("quotas.report_budget", raw.report_budget, 5, 1, MAX_BUDGET)?;
    // A cost above a budget it is counted against could never be paid: every such request
    // would be refused. Every ask and summary is counted against all three budgets.
    let smallest = member.min(channel).min(community);
    let ask_cost = in_range("quotas.ask_cost", raw.ask_cost, 1, 1, smallest)?;
    let summarize_cost = in_range("quotas.summarize_cost", raw.summarize_cost, 3, 1, smallest)?;
    Ok(QuotaSettings {
        enabled: raw.enabled.unwrap_or(true),
        window: Duration::from_secs(window as u64),
        member_budget: member as u32,
        channel_budget: channel as u32,
        community_budget: community as u32,
        report_budget: report as u32,
        ask_cost: ask_cost as u32,
        summarize_cost: summarize_cost as u32,
        moderators_exempt: raw.moderators_exempt.unwrap_or(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: RawQuotas) -> Result<QuotaSettings, String> {
        validate(raw, &|key, message| ConfigError::Invalid {
            path: "steward.toml".into(),
            line: String::new(),
            key: key.into(),
            message,
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let settings = QuotaSettings::default();
        assert!(settings.enabled);
        assert_eq!(settings.window, Duration::from_secs(600));
        assert_eq!(
            (
                settings.member_budget,
                settings.channel_budget,
                settings.community_budget,
                settings.report_budget
            ),
            (10, 30, 120, 5)
        );
        assert_eq!((settings.ask_cost, settings.summarize_cost), (1, 3));
        assert!(settings.summarize_cost > settings.ask_cost);
        assert!(settings.moderators_exempt);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (
                RawQuotas {
                    member_budget: Some(-1),
                    ..Default::default()
                },
                "key `quotas.member_budget`: -1 is out of range; use 1 to 100000",
            ),
            (
                RawQuotas {
                    channel_budget: Some(0),
                    ..Default::default()
                },
                "key `quotas.channel_budget`: 0 is out of range",
            ),
            (
                RawQuotas {
                    community_budget: Some(100_001),
                    ..Default::default()
                },
                "key `quotas.community_budget`: 100001 is out of range",
            ),
            (
                RawQuotas {
                    report_budget: Some(0),
                    ..Default::default()
                },
                "key `quotas.report_budget`: 0 is out of range",
            ),
            (
                RawQuotas {
                    window_secs: Some(0),
                    ..Default::default()
                },
                "key `quotas.window_secs`: 0 is out of range; use 1 to 86400",
            ),
            (
                RawQuotas {
                    window_secs: Some(i64::MAX),
                    ..Default::default()
                },
                "key `quotas.window_secs`",
            ),
            (
                RawQuotas {
                    ask_cost: Some(0),
                    ..Default::default()
                },
                "key `quotas.ask_cost`: 0 is out of range",
            ),
            (
                // The default member budget is 10: a summary may not cost more.
                RawQuotas {
                    summarize_cost: Some(11),
                    ..Default::default()
                },
                "key `quotas.summarize_cost`: 11 is out of range; use 1 to 10",
            ),
            (
                // The smallest of the three budgets bounds the costs.
                RawQuotas {
                    channel_budget: Some(2),
                    ..Default::default()
                },
                "key `quotas.summarize_cost`: 3 is out of range; use 1 to 2",
            ),
        ];
        for (raw, expected) in cases {
            let error = check(raw).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn values_are_taken() {
        let settings = check(RawQuotas {
            enabled: Some(false),
            window_secs: Some(60),
            member_budget: Some(20),
            ask_cost: Some(2),
            summarize_cost: Some(20),
            moderators_exempt: Some(false),
            ..Default::default()
        })
        .unwrap();
        assert!(!settings.enabled);
        assert!(!settings.moderators_exempt);
        assert_eq!(settings.window, Duration::from_secs(60));
        assert_eq!(
            (
                settings.member_budget,
                settings.ask_cost,
                settings.summarize_cost
            ),
            (20, 2, 20)
        );
    }
}
