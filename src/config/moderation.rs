//! The `[moderation]` section: rules applied to every message, when the model reviews
//! messages, and what may happen automatically.

use std::time::Duration;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;

use super::ConfigError;
use crate::core::settings::ModerationMode;

/// `[moderation]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModeration {
    pub enabled: Option<bool>,
    pub blocked_patterns: Option<Vec<String>>,
    pub max_mentions: Option<i64>,
    pub max_links: Option<i64>,
    pub block_invites: Option<bool>,
    pub flood_messages: Option<i64>,
    pub flood_window_secs: Option<i64>,
    pub flood_timeout_secs: Option<i64>,
    pub model_review: Option<String>,
    pub model_may_delete: Option<bool>,
    pub report_emoji: Option<Vec<String>>,
    pub new_communities: Option<String>,
}

/// Which messages the model reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelReview {
    /// Never: rules and members' reports only.
    Off,
    /// Messages members report (with a report reaction).
    Reported,
    /// Every message by a member (costs one model call per message).
    All,
}

/// Too many messages too fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodLimit {
    pub messages: u32,
    pub window: Duration,
}

/// Validated `[moderation]` settings.
#[derive(Debug, Clone)]
pub struct ModerationSettings {
    /// Off: no rule, no review, no reports (the case commands still work).
    pub enabled: bool,
    /// A message matching one (case-insensitive) is deleted and a case opened.
    pub blocked_patterns: Vec<Regex>,
    /// More mentions than this in one message is spam; 0 turns the rule off.
    pub max_mentions: usize,
    /// More links than this in one message is spam; 0 turns the rule off.
    pub max_links: usize,
    /// The built-in invite rule: invitations to other servers and rooms (discord.gg, Discord
    /// invite URLs, matrix.to room links, Telegram and WhatsApp group links) are spam.
    pub block_invites: bool,
    /// `None`: no flood rule.
    pub flood: Option<FloodLimit>,
    /// How long a flooding member is timed out.
    pub flood_timeout: Duration,
    pub model_review: ModelReview,
    /// The model's "high" findings delete the message. Never more than that: the model can
    /// not time out, kick or ban anyone.
    pub model_may_delete: bool,
    /// Reactions that report a message to the moderators.
    pub report_emoji: Vec<String>,
    /// How moderation runs in a community whose moderators have not chosen (`setting
    /// moderation on|off|dry-run`): [`ModerationMode::DryRun`] (the default) or
    /// [`ModerationMode::On`].
    pub new_communities: ModerationMode,
}

impl ModerationSettings {
    /// The mode of a community without its own `moderation` setting: off when moderation is
    /// disabled in the config, else `new_communities`.
    pub fn default_mode(&self) -> ModerationMode {
        if self.enabled {
            self.new_communities
        } else {
            ModerationMode::Off
        }
    }
}

impl Default for ModerationSettings {
    fn default() -> Self {
        validate(RawModeration::default(), &|key, message| {
            ConfigError::Invalid {
                path: String::new(),
                line: String::new(),
                key: key.to_string(),
                message,
            }
        })
        .expect("moderation defaults are valid")
    }
}

/// Patterns are matched on every message: bound their compiled size.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// Checks `[moderation]`; `invalid(key, message)` builds the error naming file and key.
pub fn validate(
    raw: RawModeration,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<ModerationSettings, ConfigError> {
    let count = |key: &str, value: Option<i64>, default: i64, max: i64| {
        super::validate::in_range(invalid, key, value, default, 0, max)
    };
    let mut blocked_patterns = Vec::new();
    for (index, pattern) in raw.blocked_patterns.unwrap_or_default().iter().enumerate() {
        let key = format!("moderation.blocked_patterns[{index}]");
        if pattern.trim().is_empty() {
            return Err(invalid(
                &key,
                "an empty pattern would match everything".into(),
            ));
        }
        let compiled = RegexBuilder::new(pattern)
            .case_insensitive(true)
            .size_limit(PATTERN_SIZE_LIMIT)
            .build()
            .map_err(|e| invalid(&key, format!("not a valid regular expression: {e}")))?;
        blocked_patterns.push(compiled);
    }
    let flood_messages = count("moderation.flood_messages", raw.flood_messages, 8, 1000)?;
    let flood_window = count(
        "moderation.flood_window_secs",
        raw.flood_window_secs,
        10,
        3600,
    )?;
    let flood = match (flood_messages, flood_window) {
        (0, _) | (_, 0) => None,
        (messages, secs) => Some(FloodLimit {
            messages: messages as u32,
            window: Duration::from_secs(secs as u64),
        }),
    };
    let flood_timeout = count(
        "moderation.flood_timeout_secs",
        raw.flood_timeout_secs,
        300,
        28 * 24 * 3600,
    )?;
    let model_review = match raw.model_review.as_deref().unwrap_or("reported") {
        "off" => ModelReview::Off,
        "reported" => ModelReview::Reported,
        "all" => ModelReview::All,
        other => {
            return Err(invalid(
                "moderation.model_review",
                format!("unknown value {other:?}; use \"off\", \"reported\" or \"all\""),
            ))
        }
    };
    let report_emoji = raw.report_emoji.unwrap_or_else(|| vec!["🚩".to_string()]);
    if report_emoji.iter().any(|emoji| emoji.trim().is_empty()) {
        return Err(invalid(
            "moderation.report_emoji",
            "must not contain an empty string".into(),
        ));
    }
    // "off" is `enabled = false`; a config naming both would contradict itself.
    let new_communities = match raw.new_communities.as_deref().unwrap_or("dry-run") {
        "dry-run" => ModerationMode::DryRun,
        "on" => ModerationMode::On,
        other => {
            return Err(invalid(
                "moderation.new_communities",
                format!(
                    "unknown value {other:?}; use \"dry-run\" (decisions are only logged until a \
                     moderator types `setting moderation on`) or \"on\""
                ),
            ))
        }
    };
    Ok(ModerationSettings {
        enabled: raw.enabled.unwrap_or(true),
        blocked_patterns,
        max_mentions: count("moderation.max_mentions", raw.max_mentions, 10, 1000)? as usize,
        max_links: count("moderation.max_links", raw.max_links, 8, 1000)? as usize,
        block_invites: raw.block_invites.unwrap_or(false),
        flood,
        flood_timeout: Duration::from_secs(flood_timeout as u64),
        model_review,
        model_may_delete: raw.model_may_delete.unwrap_or(false),
        report_emoji,
        new_communities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: RawModeration) -> Result<ModerationSettings, String> {
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
        let settings = ModerationSettings::default();
        assert!(settings.enabled);
        assert!(settings.blocked_patterns.is_empty());
        assert_eq!(settings.model_review, ModelReview::Reported);
        assert!(!settings.model_may_delete);
        assert_eq!(
            settings.flood,
            Some(FloodLimit {
                messages: 8,
                window: Duration::from_secs(10)
            })
        );
        assert_eq!(settings.report_emoji, ["🚩"]);
        // New communities start in dry-run until a moderator turns moderation on.
        assert_eq!(settings.new_communities, ModerationMode::DryRun);
        assert_eq!(settings.default_mode(), ModerationMode::DryRun);
        let off = ModerationSettings {
            enabled: false,
            new_communities: ModerationMode::On,
            ..ModerationSettings::default()
        };
        assert_eq!(off.default_mode(), ModerationMode::Off);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (
                RawModeration {
                    blocked_patterns: Some(vec!["ok".into(), "(unclosed".into()]),
                    ..Default::default()
                },
                "key `moderation.blocked_patterns[1]`: not a valid regular expression",
            ),
            (
                RawModeration {
                    blocked_patterns: Some(vec![" ".into()]),
                    ..Default::default()
                },
                "key `moderation.blocked_patterns[0]`: an empty pattern",
            ),
            (
                RawModeration {
                    model_review: Some("sometimes".into()),
                    ..Default::default()
                },
                "key `moderation.model_review`: unknown value \"sometimes\"",
            ),
            (
                RawModeration {
                    max_links: Some(-1),
                    ..Default::default()
                },
                "key `moderation.max_links`: -1 is out of range",
            ),
            (
                RawModeration {
                    new_communities: Some("off".into()),
                    ..Default::default()
                },
                "key `moderation.new_communities`: unknown value \"off\"",
            ),
        ];
        for (raw, expected) in cases {
            let error = check(raw).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn patterns_ignore_case_and_zero_turns_flood_off() {
        let settings = check(RawModeration {
            blocked_patterns: Some(vec![r"free\s+nitro".into()]),
            flood_messages: Some(0),
            ..Default::default()
        })
        .unwrap();
        assert!(settings.blocked_patterns[0].is_match("FREE  Nitro here"));
        assert_eq!(settings.flood, None);
    }
}
