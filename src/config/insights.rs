//! The `[insights]` section: background sentiment scoring of stored messages, the unanswered
//! question threshold of reports, mod-log alerts and the weekly digest's default time. Every
//! key is optional; a value out of range is an error naming its key.
//!
//! `sentiment_model` decides whether the LLM checks the lexical stage. Its default depends on
//! the model: with the built-in default model (SmolLM2-135M, in process) it is `off`, because
//! that model's labels are worse than the lexical stage's (measured on 48 labelled messages:
//! accuracy 0.46 English / 0.29 Chinese against 0.875 / 0.79 for the lexical stage alone) and
//! it would spend CPU time members' answers need; with a configured model (`[model] gguf`,
//! `hf_repo`) or `[inference]` chat servers it is `unsure`: the model checks only the messages
//! the lexical stage is unsure about.

use std::time::Duration;

use serde::Deserialize;

use super::validate::in_range;
use super::ConfigError;
use crate::sentiment::{DEFAULT_BATCH, MAX_BATCH};

/// Weekday names `digest_day` accepts, Monday first (the index is the weekday number).
const WEEKDAYS: [(&str, &str); 7] = [
    ("mon", "monday"),
    ("tue", "tuesday"),
    ("wed", "wednesday"),
    ("thu", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
];

/// Which messages the model labels after the lexical stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentimentModel {
    /// None: the lexical stage decides alone.
    Off,
    /// The messages the lexical stage is unsure about.
    Unsure,
    /// Every message.
    All,
}

impl SentimentModel {
    /// The name the config uses: `off`, `unsure` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            SentimentModel::Off => "off",
            SentimentModel::Unsure => "unsure",
            SentimentModel::All => "all",
        }
    }

    /// The mode named `name` (as [`SentimentModel::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Self> {
        [
            SentimentModel::Off,
            SentimentModel::Unsure,
            SentimentModel::All,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == name)
    }
}

/// `[insights]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInsights {
    pub sentiment_model: Option<String>,
    pub sentiment_batch: Option<i64>,
    pub scoring_interval_secs: Option<i64>,
    pub unanswered_after_hours: Option<i64>,
    pub alerts: Option<bool>,
    pub alert_window_hours: Option<i64>,
    pub alert_baseline_days: Option<i64>,
    pub alert_min_messages: Option<i64>,
    pub alert_negative_share_min: Option<f64>,
    pub alert_ratio: Option<f64>,
    pub alert_unanswered_min: Option<i64>,
    pub digest_day: Option<String>,
    pub digest_hour_utc: Option<i64>,
}

/// Validated `[insights]` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct InsightsSettings {
    /// Which messages the model labels after the lexical stage (see the module doc for the
    /// default).
    pub sentiment_model: SentimentModel,
    /// Messages per model request, 1 to [`MAX_BATCH`].
    pub sentiment_batch: usize,
    /// How long the scoring loop sleeps once no message is left unscored.
    pub scoring_interval: Duration,
    /// A question without an answer for this long counts as unanswered in reports.
    pub unanswered_after: Duration,
    /// Post alerts to the mod-log.
    pub alerts: bool,
    /// The recent window an alert looks at.
    pub alert_window: Duration,
    /// The channel's own history the window is compared with (longer than the window).
    pub alert_baseline: Duration,
    /// A window with fewer scored messages never alerts.
    pub alert_min_messages: u64,
    /// The share of negative messages (0..1) below which a window never alerts.
    pub alert_negative_share_min: f64,
    /// How many times the baseline's share (or unanswered count) a window must reach (> 1).
    pub alert_ratio: f64,
    /// A window with fewer unanswered questions never alerts.
    pub alert_unanswered_min: u64,
    /// The digest's default weekday: 0 = Monday .. 6 = Sunday.
    pub digest_weekday: u8,
    /// The digest's default hour, UTC (0..23).
    pub digest_hour_utc: u8,
}

impl Default for InsightsSettings {
    /// The defaults with the built-in default model (`sentiment_model = "off"`).
    fn default() -> Self {
        Self {
            sentiment_model: SentimentModel::Off,
            sentiment_batch: DEFAULT_BATCH,
            scoring_interval: Duration::from_secs(30),
            unanswered_after: hours(24),
            alerts: true,
            alert_window: hours(6),
            alert_baseline: hours(14 * 24),
            alert_min_messages: 10,
            alert_negative_share_min: 0.3,
            alert_ratio: 2.0,
            alert_unanswered_min: 5,
            digest_weekday: 0,
            digest_hour_utc: 9,
        }
    }
}

fn hours(count: u64) -> Duration {
    Duration::from_secs(count * 60 * 60)
}

/// The weekday number (0 = Monday) of `name`: `mon`..`sun` or the full English name, any case.
pub fn parse_weekday(name: &str) -> Option<u8> {
    let name = name.trim().to_ascii_lowercase();
    WEEKDAYS
        .iter()
        .position(|(short, long)| name == *short || name == *long)
        .and_then(|index| u8::try_from(index).ok())
}

/// Checks `[insights]`; `capable_model` is true when answers come from a configured model or
/// remote servers rather than the built-in default model (it decides `sentiment_model`'s
/// default). `invalid(key, message)` builds the error naming file and key.
pub fn validate(
    raw: RawInsights,
    capable_model: bool,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<InsightsSettings, ConfigError> {
    let defaults = InsightsSettings::default();
    let range = |key: &str, value: Option<i64>, default: u64, min: i64, max: i64| {
        let default = i64::try_from(default).unwrap_or(i64::MAX);
        in_range(invalid, key, value, default, min, max).map(|value| value as u64)
    };
    let sentiment_model = match raw.sentiment_model.as_deref() {
        None if capable_model => SentimentModel::Unsure,
        None => SentimentModel::Off,
        Some(name) => SentimentModel::parse(name.trim()).ok_or_else(|| {
            invalid(
                "insights.sentiment_model",
                format!("unknown mode {name:?}; use \"off\", \"unsure\" or \"all\""),
            )
        })?,
    };
    let sentiment_batch = range(
        "insights.sentiment_batch",
        raw.sentiment_batch,
        DEFAULT_BATCH as u64,
        1,
        MAX_BATCH as i64,
    )?;
    let scoring_interval_secs = range(
        "insights.scoring_interval_secs",
        raw.scoring_interval_secs,
        defaults.scoring_interval.as_secs(),
        1,
        24 * 60 * 60,
    )?;
    let unanswered_after_hours = range(
        "insights.unanswered_after_hours",
        raw.unanswered_after_hours,
        24,
        1,
        365 * 24,
    )?;
    let alert_window_hours = range(
        "insights.alert_window_hours",
        raw.alert_window_hours,
        6,
        1,
        7 * 24,
    )?;
    let alert_baseline_days = range(
        "insights.alert_baseline_days",
        raw.alert_baseline_days,
        14,
        1,
        365,
    )?;
    if alert_baseline_days * 24 <= alert_window_hours {
        // A baseline no longer than the window compares the window with itself.
        return Err(invalid(
            "insights.alert_baseline_days",
            format!(
                "{alert_baseline_days} days is not longer than alert_window_hours \
                 ({alert_window_hours} hours); the baseline must be longer than the window"
            ),
        ));
    }
    let alert_min_messages = range(
        "insights.alert_min_messages",
        raw.alert_min_messages,
        defaults.alert_min_messages,
        1,
        1_000_000,
    )?;
    let alert_unanswered_min = range(
        "insights.alert_unanswered_min",
        raw.alert_unanswered_min,
        defaults.alert_unanswered_min,
        1,
        1_000_000,
    )?;
    let alert_negative_share_min = raw
        .alert_negative_share_min
        .unwrap_or(defaults.alert_negative_share_min);
    // `contains` is false for NaN too.
    if !(0.0..=1.0).contains(&alert_negative_share_min) {
        return Err(invalid(
            "insights.alert_negative_share_min",
            format!("{alert_negative_share_min} is out of range; use a share from 0 to 1"),
        ));
    }
    let alert_ratio = raw.alert_ratio.unwrap_or(defaults.alert_ratio);
    let ratio_ok = alert_ratio > 1.0 && alert_ratio <= 100.0;
    if !ratio_ok {
        // 1 or less would alert on steady traffic.
        return Err(invalid(
            "insights.alert_ratio",
            format!("{alert_ratio} is out of range; use more than 1 (e.g. 2: twice the baseline) up to 100"),
        ));
    }
    let digest_weekday = match raw.digest_day.as_deref() {
        None => defaults.digest_weekday,
        Some(name) => parse_weekday(name).ok_or_else(|| {
            invalid(
                "insights.digest_day",
                format!("{name:?} is not a weekday; use mon, tue, wed, thu, fri, sat or sun"),
            )
        })?,
    };
    let digest_hour_utc = range(
        "insights.digest_hour_utc",
        raw.digest_hour_utc,
        u64::from(defaults.digest_hour_utc),
        0,
        23,
    )?;
    Ok(InsightsSettings {
        sentiment_model,
        sentiment_batch: sentiment_batch as usize,
        scoring_interval: Duration::from_secs(scoring_interval_secs),
        unanswered_after: hours(unanswered_after_hours),
        alerts: raw.alerts.unwrap_or(defaults.alerts),
        alert_window: hours(alert_window_hours),
        alert_baseline: hours(alert_baseline_days * 24),
        alert_min_messages,
        alert_negative_share_min,
        alert_ratio,
        alert_unanswered_min,
        digest_weekday,
        digest_hour_utc: digest_hour_utc as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: RawInsights, capable: bool) -> Result<InsightsSettings, String> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: "steward.toml".into(),
            line: String::new(),
            key: key.into(),
            message,
        };
        validate(raw, capable, &invalid).map_err(|error| error.to_string())
    }

    #[test]
    fn absent_keys_take_the_defaults_and_the_model_decides_sentiment_model() {
        let settings = check(RawInsights::default(), false).unwrap();
        assert_eq!(settings, InsightsSettings::default());
        assert_eq!(settings.sentiment_model, SentimentModel::Off);
        assert_eq!(settings.sentiment_batch, DEFAULT_BATCH);
        assert_eq!(settings.scoring_interval, Duration::from_secs(30));
        assert_eq!(settings.unanswered_after, Duration::from_secs(24 * 3600));
        assert_eq!(settings.alert_window, Duration::from_secs(6 * 3600));
        assert_eq!(settings.alert_baseline, Duration::from_secs(14 * 24 * 3600));
        assert_eq!(
            (settings.alert_min_messages, settings.alert_unanswered_min),
            (10, 5)
        );
        assert_eq!(
            (settings.alert_negative_share_min, settings.alert_ratio),
            (0.3, 2.0)
        );
        assert_eq!((settings.digest_weekday, settings.digest_hour_utc), (0, 9));
        assert!(settings.alerts);
        let capable = check(RawInsights::default(), true).unwrap();
        assert_eq!(capable.sentiment_model, SentimentModel::Unsure);
        // An explicit choice wins either way.
        let raw = || RawInsights {
            sentiment_model: Some("all".into()),
            ..RawInsights::default()
        };
        assert_eq!(
            check(raw(), false).unwrap().sentiment_model,
            SentimentModel::All
        );
        assert_eq!(
            check(raw(), true).unwrap().sentiment_model,
            SentimentModel::All
        );
    }

    /// `config/steward.example.toml` documents every key with its default value.
    #[test]
    fn the_example_config_shows_the_defaults() {
        let text = include_str!("../../config/steward.example.toml");
        let raw = super::super::RawConfig::parse(text, "steward.example.toml").unwrap();
        assert!(raw.insights.sentiment_batch.is_some() && raw.insights.digest_day.is_some());
        assert_eq!(
            check(raw.insights, false).unwrap(),
            InsightsSettings::default()
        );
    }

    #[test]
    fn every_key_is_read() {
        let raw = RawInsights {
            sentiment_model: Some("unsure".into()),
            sentiment_batch: Some(MAX_BATCH as i64),
            scoring_interval_secs: Some(5),
            unanswered_after_hours: Some(48),
            alerts: Some(false),
            alert_window_hours: Some(12),
            alert_baseline_days: Some(30),
            alert_min_messages: Some(20),
            alert_negative_share_min: Some(0.0),
            alert_ratio: Some(1.5),
            alert_unanswered_min: Some(1),
            digest_day: Some("Friday".into()),
            digest_hour_utc: Some(23),
        };
        let settings = check(raw, false).unwrap();
        assert_eq!(settings.sentiment_model, SentimentModel::Unsure);
        assert_eq!(settings.sentiment_batch, MAX_BATCH);
        assert_eq!(settings.scoring_interval, Duration::from_secs(5));
        assert_eq!(settings.unanswered_after, Duration::from_secs(48 * 3600));
        assert!(!settings.alerts);
        assert_eq!(settings.alert_window, Duration::from_secs(12 * 3600));
        assert_eq!(settings.alert_baseline, Duration::from_secs(30 * 24 * 3600));
        assert_eq!(settings.alert_min_messages, 20);
        assert_eq!(settings.alert_negative_share_min, 0.0);
        assert_eq!(settings.alert_ratio, 1.5);
        assert_eq!(settings.alert_unanswered_min, 1);
        assert_eq!((settings.digest_weekday, settings.digest_hour_utc), (4, 23));
    }

    #[test]
    fn weekdays_by_short_or_full_name() {
        let cases = [
            ("mon", Some(0)),
            ("SUN", Some(6)),
            (" wednesday ", Some(2)),
            ("thurs", None),
            ("", None),
            ("7", None),
        ];
        for (name, expected) in cases {
            assert_eq!(parse_weekday(name), expected, "{name:?}");
        }
    }

    /// Each bad value is an error naming its key.
    #[test]
    fn out_of_range_values_name_the_key() {
        type Set = fn(&mut RawInsights);
        let cases: [(&str, Set); 16] = [
            ("sentiment_model", |r| {
                r.sentiment_model = Some("some".into())
            }),
            ("sentiment_batch", |r| r.sentiment_batch = Some(0)),
            ("sentiment_batch", |r| {
                r.sentiment_batch = Some(MAX_BATCH as i64 + 1)
            }),
            ("scoring_interval_secs", |r| {
                r.scoring_interval_secs = Some(0)
            }),
            ("unanswered_after_hours", |r| {
                r.unanswered_after_hours = Some(0)
            }),
            ("alert_window_hours", |r| r.alert_window_hours = Some(0)),
            ("alert_baseline_days", |r| r.alert_baseline_days = Some(0)),
            ("alert_baseline_days", |r| {
                r.alert_window_hours = Some(48);
                r.alert_baseline_days = Some(2);
            }),
            ("alert_min_messages", |r| r.alert_min_messages = Some(-1)),
            ("alert_negative_share_min", |r| {
                r.alert_negative_share_min = Some(1.5)
            }),
            ("alert_negative_share_min", |r| {
                r.alert_negative_share_min = Some(f64::NAN)
            }),
            ("alert_ratio", |r| r.alert_ratio = Some(1.0)),
            ("alert_ratio", |r| r.alert_ratio = Some(0.5)),
            ("alert_unanswered_min", |r| r.alert_unanswered_min = Some(0)),
            ("digest_day", |r| r.digest_day = Some("someday".into())),
            ("digest_hour_utc", |r| r.digest_hour_utc = Some(24)),
        ];
        for (key, set) in cases {
            let mut raw = RawInsights::default();
            set(&mut raw);
            let error = check(raw, true).expect_err(key);
            assert!(
                error.contains(&format!("key `insights.{key}`")),
                "{key}: {error}"
            );
        }
    }
}
