//! Per-community settings moderators may change, and the languages Steward speaks. Plain data:
//! the router reads a community's settings once per event and features get them parsed.

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
/// Automatic moderation on or off in the community.
pub const MODERATION: &str = "moderation";
/// Per-community quota budgets (units per quota window), overriding `[quotas]`.
pub const QUOTA_MEMBER: &str = "quota.member";
pub const QUOTA_CHANNEL: &str = "quota.channel";
pub const QUOTA_COMMUNITY: &str = "quota.community";
pub const QUOTA_REPORTS: &str = "quota.reports";

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
        values: Values::OneOf(&["on", "off"]),
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
];

/// The known setting named `key`.
pub fn known(key: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| k.key == key)
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
            (QUOTA_MEMBER, "20", true),
            (QUOTA_MEMBER, "0", false),
            (QUOTA_MEMBER, "-3", false),
            (QUOTA_MEMBER, "99999999999", false),
            (QUOTA_MEMBER, "lots", false),
        ];
        for (key, value, allowed) in cases {
            assert_eq!(
                known(key).unwrap().values.allows(value),
                allowed,
                "{key} {value}"
            );
        }
        assert!(known("colour").is_none());
    }
}
