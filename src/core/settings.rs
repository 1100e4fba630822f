//! Per-community settings moderators may change, and the languages Steward speaks. Plain data:
//! the router reads a community's settings once per event and features get them parsed.
//!
//! Two settings are per channel: `answer_mode` and `solved_pointers` are stored under
//! `<setting>:<channel id>` ([`channel_key`]) among the community's settings, so the one read
//! per event still holds them for every channel.

use super::ids::ChannelId;

/// Language of Steward's own messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Chinese,
}

impl Language {
    /// The code used in config files, settings and prompts: `en` or `zh`.
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh",
        }
    }

    /// The language with `code`, if Steward speaks it.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "en" => Some(Language::English),
            "zh" => Some(Language::Chinese),
            _ => None,
        }
    }
}

/// The values a setting accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A whole number in this range.
    Number { min: u32, max: u32 },
}

impl Values {
    /// Whether `value` is allowed.
    pub fn allows(&self, value: &str) -> bool {
        match self {
            Values::OneOf(words) => words.contains(&value),
            Values::Number { min, max } => value
                .parse::<u32>()
                .is_ok_and(|n| (*min..=*max).contains(&n)),
        }
    }
}

/// A setting moderators may change, with its allowed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub key: &'static str,
    pub values: Values,
}

/// The community's language.
pub const LANGUAGE: &str = "language";
/// Automatic moderation in the community: `on`, `off` or `dry-run` ([`ModerationMode`]).
pub const MODERATION: &str = "moderation";
/// The channel of the community's own moderators' log (its id). Moderators type
/// `setting mod-log here` in that channel, so it is always a channel of their own community;
/// `setting mod-log off` removes it.
pub const MOD_LOG: &str = "mod-log";
/// The community's own rules in plain language, one per line (stored by the `rules` command,
/// not by `setting`: its value is text, not a word).
pub const RULES: &str = "rules";
/// Per-community quota budgets (units per quota window), overriding `[quotas]`.
pub const QUOTA_MEMBER: &str = "quota.member";
pub const QUOTA_CHANNEL: &str = "quota.channel";
pub const QUOTA_COMMUNITY: &str = "quota.community";
pub const QUOTA_REPORTS: &str = "quota.reports";
/// How Steward answers in one channel: `mention` (the default: when mentioned or replied to)
/// or `help` (every new question, in a thread) ([`AnswerMode`]). Per channel: stored under
/// [`channel_key`], for the channel the command was typed in.
pub const ANSWER_MODE: &str = "answer_mode";
/// Whether Steward points a new question that closely matches a solved conversation at that
/// conversation instead of answering it: `off` (the default) or `on`. Per channel, like
/// [`ANSWER_MODE`]: stored under [`channel_key`].
pub const SOLVED_POINTERS: &str = "solved_pointers";
/// How many days the community's message text is kept (`default` removes it). Only shorter
/// than `[privacy] retain_messages_days`: `setting` refuses a longer one.
pub const RETAIN_MESSAGES_DAYS: &str = "retain_messages_days";

/// The channel of the community's weekly digest (its id): moderators type `setting digest
/// here` in that channel, like [`MOD_LOG`]; `setting digest off` stops the digest.
pub const DIGEST: &str = "digest";
/// The weekday of the digest, `mon` to `sun` (UTC); default: `[insights] digest_day`.
pub const DIGEST_DAY: &str = "digest_day";
/// The hour of the digest, 0 to 23 (UTC); default: `[insights] digest_hour_utc`.
pub const DIGEST_HOUR: &str = "digest_hour";
/// The weekdays [`DIGEST_DAY`] accepts, Monday first (their index is the weekday number).
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const BUDGET: Values = Values::Number {
    min: 1,
    max: 10_000,
};

/// Every setting moderators may change.
pub const KNOWN: &[Known] = &[
    Known {
        key: LANGUAGE,
        values: Values::OneOf(&["en", "zh"]),
    },
    Known {
        key: MODERATION,
        values: Values::OneOf(&["on", "off", "dry-run"]),
    },
    Known {
        key: MOD_LOG,
        values: Values::OneOf(&["here", "off"]),
    },
    Known {
        key: QUOTA_MEMBER,
        values: BUDGET,
    },
    Known {
        key: QUOTA_CHANNEL,
        values: BUDGET,
    },
    Known {
        key: QUOTA_COMMUNITY,
        values: BUDGET,
    },
    Known {
        key: QUOTA_REPORTS,
        values: BUDGET,
    },
    Known {
        key: ANSWER_MODE,
        values: Values::OneOf(&["mention", "help"]),
    },
    Known {
        key: SOLVED_POINTERS,
        values: Values::OneOf(&["on", "off"]),
    },
    Known {
        key: DIGEST,
        values: Values::OneOf(&["here", "off"]),
    },
    Known {
        key: DIGEST_DAY,
        values: Values::OneOf(&WEEKDAYS),
    },
    Known {
        key: DIGEST_HOUR,
        values: Values::Number { min: 0, max: 23 },
    },
    Known {
        key: RETAIN_MESSAGES_DAYS,
        values: Values::Number {
            min: 1,
            max: 36_500,
        },
    },
];

/// The known setting named `key`.
pub fn known(key: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| k.key == key)
}

/// The stored key of a per-channel `setting` ([`ANSWER_MODE`], [`SOLVED_POINTERS`]) for
/// `channel`: `<setting>:<channel id>` (a thread's channel is its parent: a Discord forum's
/// posts share the forum's value).
pub fn channel_key(setting: &str, channel: &ChannelId) -> String {
    format!("{setting}:{}", channel.as_str())
}

/// How Steward answers in a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnswerMode {
    /// Only when mentioned, replied to, or followed up in its thread.
    #[default]
    Mention,
    /// A help channel (or a Discord forum): every new question or post is answered without a
    /// mention, in a thread where the platform has threads.
    Help,
}

impl AnswerMode {
    /// The word used in settings.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerMode::Mention => "mention",
            AnswerMode::Help => "help",
        }
    }

    /// The mode named `word`, if any.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "mention" => Some(AnswerMode::Mention),
            "help" => Some(AnswerMode::Help),
            _ => None,
        }
    }
}

/// How automatic moderation runs in a community.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModerationMode {
    /// No rules, no reviews, no reports (moderators' case commands still work).
    Off,
    /// Every decision is made, logged and posted to the moderators as "would have ...", and
    /// nothing is done automatically. New communities start here until a moderator turns
    /// moderation on.
    DryRun,
    /// Decisions act: messages are deleted, flooding members timed out.
    On,
}

impl ModerationMode {
    /// The word used in settings and the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            ModerationMode::Off => "off",
            ModerationMode::DryRun => "dry-run",
            ModerationMode::On => "on",
        }
    }

    /// The mode named `word`, if any.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "off" => Some(ModerationMode::Off),
            "dry-run" => Some(ModerationMode::DryRun),
            "on" => Some(ModerationMode::On),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_table() {
        let cases = [
            (LANGUAGE, "zh", true),
            (LANGUAGE, "fr", false),
            (MODERATION, "off", true),
            (MODERATION, "dry-run", true),
            (MODERATION, "dryrun", false),
            (MOD_LOG, "here", true),
            (MOD_LOG, "123", false),
            (QUOTA_MEMBER, "20", true),
            (QUOTA_MEMBER, "0", false),
            (QUOTA_MEMBER, "-3", false),
            (QUOTA_MEMBER, "99999999999", false),
            (QUOTA_MEMBER, "lots", false),
            (ANSWER_MODE, "help", true),
            (ANSWER_MODE, "mention", true),
            (ANSWER_MODE, "forum", false),
            (RETAIN_MESSAGES_DAYS, "30", true),
            (RETAIN_MESSAGES_DAYS, "0", false),
            (RETAIN_MESSAGES_DAYS, "-7", false),
            (RETAIN_MESSAGES_DAYS, "36501", false),
            (DIGEST, "here", true),
            (DIGEST, "123", false),
            (DIGEST_DAY, "mon", true),
            (DIGEST_DAY, "sun", true),
            (DIGEST_DAY, "monday", false),
            (DIGEST_HOUR, "0", true),
            (DIGEST_HOUR, "23", true),
            (DIGEST_HOUR, "24", false),
            (DIGEST_HOUR, "-1", false),
        ];
        for (key, value, allowed) in cases {
            assert_eq!(
                known(key).unwrap().values.allows(value),
                allowed,
                "{key} {value}"
            );
        }
        assert!(known("colour").is_none());
        // The rules are text, set by their own command.
        assert!(known(RULES).is_none());
    }

    #[test]
    fn moderation_modes_read_back() {
        for mode in [
            ModerationMode::Off,
            ModerationMode::DryRun,
            ModerationMode::On,
        ] {
            assert_eq!(ModerationMode::parse(mode.as_str()), Some(mode));
            assert!(known(MODERATION).unwrap().values.allows(mode.as_str()));
        }
        assert_eq!(ModerationMode::parse("ON"), None);
    }

    #[test]
    fn answer_modes_read_back_and_are_stored_per_channel() {
        for mode in [AnswerMode::Mention, AnswerMode::Help] {
            assert_eq!(AnswerMode::parse(mode.as_str()), Some(mode));
            assert!(known(ANSWER_MODE).unwrap().values.allows(mode.as_str()));
        }
        assert_eq!(AnswerMode::default(), AnswerMode::Mention);
        assert_eq!(
            channel_key(ANSWER_MODE, &ChannelId::new("1234")),
            "answer_mode:1234"
        );
        // The per-channel key is not itself a setting moderators type.
        assert!(known("answer_mode:1234").is_none());
    }

    #[test]
    fn solved_pointers_are_stored_per_channel() {
        let setting = known(SOLVED_POINTERS).unwrap();
        assert!(setting.values.allows("on") && setting.values.allows("off"));
        assert!(!setting.values.allows("yes"));
        assert_eq!(
            channel_key(SOLVED_POINTERS, &ChannelId::new("77")),
            "solved_pointers:77"
        );
        assert!(known("solved_pointers:77").is_none());
    }
}
