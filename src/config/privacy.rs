//! The `[privacy]` section: how long members' message text and closed moderation cases are
//! kept. Absent `retain_messages_days` keeps message text until its author deletes it or asks
//! to be forgotten; communities may choose a shorter time (`setting retain_messages_days`).

use serde::Deserialize;

use super::ConfigError;

/// The longest retention that can be written: a hundred years.
pub const MAX_RETAIN_DAYS: u32 = 36_500;

/// How long closed cases keep their excerpt by default.
pub const DEFAULT_RETAIN_CASES_DAYS: u32 = 180;

/// `[privacy]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrivacy {
    pub retain_messages_days: Option<i64>,
    pub retain_cases_days: Option<i64>,
}

/// Validated `[privacy]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivacySettings {
    /// Message text older than this many days is purged (the row keeps ids and times for the
    /// metrics); `None`: kept.
    pub retain_messages_days: Option<u32>,
    /// A closed case keeps its excerpt (and its appeals their text) this many days after its
    /// decision; open cases keep theirs.
    pub retain_cases_days: u32,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        Self {
            retain_messages_days: None,
            retain_cases_days: DEFAULT_RETAIN_CASES_DAYS,
        }
    }
}

/// Checks `[privacy]`; `invalid(key, message)` builds the error naming file and key.
pub fn validate(
    raw: RawPrivacy,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<PrivacySettings, ConfigError> {
    let days = |key: &str, value: i64, hint: &str| -> Result<u32, ConfigError> {
        match u32::try_from(value) {
            Ok(days) if (1..=MAX_RETAIN_DAYS).contains(&days) => Ok(days),
            // 0 would purge every message at once: a typo, not a policy.
            _ => Err(invalid(
                key,
                format!(
                    "{value} is out of range; use a number of days from 1 to {MAX_RETAIN_DAYS}{hint}"
                ),
            )),
        }
    };
    let retain_messages_days = raw
        .retain_messages_days
        .map(|value| {
            let hint = " (leave the key out to keep message text)";
            days("privacy.retain_messages_days", value, hint)
        })
        .transpose()?;
    let retain_cases_days = days(
        "privacy.retain_cases_days",
        raw.retain_cases_days
            .unwrap_or(i64::from(DEFAULT_RETAIN_CASES_DAYS)),
        "",
    )?;
    Ok(PrivacySettings {
        retain_messages_days,
        retain_cases_days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(messages: Option<i64>, cases: Option<i64>) -> Result<PrivacySettings, String> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: "steward.toml".into(),
            line: String::new(),
            key: key.into(),
            message,
        };
        let raw = RawPrivacy {
            retain_messages_days: messages,
            retain_cases_days: cases,
        };
        validate(raw, &invalid).map_err(|error| error.to_string())
    }

    #[test]
    fn absent_keeps_messages_and_cases_default_to_180_days() {
        assert_eq!(check(None, None).unwrap(), PrivacySettings::default());
        assert_eq!(PrivacySettings::default().retain_cases_days, 180);
        let set = check(Some(30), Some(1)).unwrap();
        assert_eq!(set.retain_messages_days, Some(30));
        assert_eq!(set.retain_cases_days, 1);
        assert_eq!(
            check(Some(36_500), None).unwrap().retain_messages_days,
            Some(36_500)
        );
    }

    #[test]
    fn zero_negative_and_huge_values_name_the_key() {
        for bad in [0, -1, -30, 36_501, i64::MAX, i64::MIN] {
            let error = check(Some(bad), None).expect_err("messages");
            assert!(
                error.contains("key `privacy.retain_messages_days`"),
                "{error}"
            );
            assert!(error.contains("1 to 36500"), "{error}");
            let error = check(None, Some(bad)).expect_err("cases");
            assert!(error.contains("key `privacy.retain_cases_days`"), "{error}");
        }
    }
}
