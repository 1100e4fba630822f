//! The labels of a moderation case as closed sets: where a finding came from, what it is,
//! what Steward did automatically, and its status. Stored as text; [`parse`](CaseSource::parse)
//! turns stored text back and names an unknown value instead of guessing.

use std::fmt;

/// Defines a closed set of labels with a stable text form.
macro_rules! labels {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text form, as stored.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value stored as `text`; `None` for text this version does not know.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

labels!(
    /// Where a finding came from.
    CaseSource {
        Rule = "rule",
        Model = "model",
        Report = "report",
    }
);

labels!(
    /// What a case is about: a rule's category, the model's label, or a plain report.
    CaseCategory {
        BlockedPattern = "blocked_pattern",
        Flood = "flood",
        MentionSpam = "mention_spam",
        LinkSpam = "link_spam",
        /// A member's report the model did not (or could not) label.
        Reported = "reported",
        None = "none",
        Spam = "spam",
        Scam = "scam",
        Harassment = "harassment",
        Hate = "hate",
        Sexual = "sexual",
        Violence = "violence",
        SelfHarm = "self_harm",
        /// Text aimed at the bot's instructions ("ignore all previous instructions").
        PromptInjection = "prompt_injection",
        Other = "other",
    }
);

labels!(
    /// What Steward did by itself when the case opened.
    Automatic {
        Nothing = "none",
        Deleted = "deleted",
        TimedOut = "timed_out",
        DeletedAndTimedOut = "deleted_and_timed_out",
    }
);

impl Automatic {
    /// Whether the message is already gone.
    pub fn deleted(self) -> bool {
        matches!(self, Automatic::Deleted | Automatic::DeletedAndTimedOut)
    }
}

labels!(
    /// A case's status: open, or the moderator's decision that closed it.
    CaseStatus {
        Open = "open",
        Dismissed = "dismissed",
        Resolved = "resolved",
        Deleted = "deleted",
        TimedOut = "timed_out",
        Kicked = "kicked",
        Banned = "banned",
        /// A moderator undid the decision on appeal.
        Reversed = "reversed",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_reads_back() {
        for value in CaseSource::ALL {
            assert_eq!(CaseSource::parse(value.as_str()), Some(*value));
        }
        for value in CaseCategory::ALL {
            assert_eq!(CaseCategory::parse(value.as_str()), Some(*value));
        }
        for value in Automatic::ALL {
            assert_eq!(Automatic::parse(value.as_str()), Some(*value));
        }
        for value in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(value.as_str()), Some(*value));
        }
        assert_eq!(CaseStatus::parse("deleted_by_aliens"), None);
        assert!(Automatic::DeletedAndTimedOut.deleted());
        assert!(!Automatic::TimedOut.deleted());
    }
}
