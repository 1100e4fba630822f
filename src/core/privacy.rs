//! The privacy commands (`privacy ...`, `forget-me`): what members may ask about the data
//! Steward keeps about them, and what moderators may switch off for a channel or a member who
//! left. Parsed here from text; Discord's slash commands build the same values.

/// A privacy command with typed arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivacyCommand {
    /// What Steward stores in this community, for how long, and how to opt out, forget and
    /// export (`privacy`). Anyone.
    Notice,
    /// Stop recording my messages here (`privacy opt-out`). Anyone, for themselves.
    OptOut,
    /// Record my messages again (`privacy opt-in`); also ends a `forget-me` exclusion.
    OptIn,
    /// Send me my stored data in this community as a JSON file, privately (`privacy export`).
    Export,
    /// Stop (`off`, `recorded` false) or resume (`on`) recording the channel the command is
    /// typed in (`privacy channel off|on`). Moderators.
    Channel { recorded: bool },
    /// Delete everything stored about me in this community (`forget-me`); nothing happens
    /// until `forget-me confirm` within a few minutes. Anyone, for themselves.
    ForgetMe { confirm: bool },
    /// The same for another member, usually one who left (`privacy forget <user> [confirm]`):
    /// `user` is an id or a mention as typed. Moderators.
    Forget { user: String, confirm: bool },
}

impl PrivacyCommand {
    /// Commands that only moderators may run.
    pub fn requires_moderator(&self) -> bool {
        matches!(self, Self::Channel { .. } | Self::Forget { .. })
    }

    /// Parses the words after `privacy`; `None`: they do not fit (the reply shows the usage).
    pub fn parse(argument: &str) -> Option<Self> {
        let raw: Vec<&str> = argument.split_whitespace().collect();
        let lower: Vec<String> = raw.iter().map(|word| word.to_lowercase()).collect();
        let words: Vec<&str> = lower.iter().map(String::as_str).collect();
        Some(match words.as_slice() {
            [] => Self::Notice,
            ["opt-out" | "optout" | "opt_out"] => Self::OptOut,
            ["opt-in" | "optin" | "opt_in"] => Self::OptIn,
            ["export"] => Self::Export,
            ["channel", "off"] => Self::Channel { recorded: false },
            ["channel", "on"] => Self::Channel { recorded: true },
            // The user keeps its case: Matrix ids and Discord mentions are case-sensitive.
            ["forget", _] => Self::Forget {
                user: raw[1].to_string(),
                confirm: false,
            },
            ["forget", _, "confirm"] => Self::Forget {
                user: raw[1].to_string(),
                confirm: true,
            },
            _ => return None,
        })
    }

    /// Parses the words after `forget-me`: nothing, or `confirm`.
    pub fn parse_forget_me(argument: &str) -> Option<Self> {
        match argument.trim().to_lowercase().as_str() {
            "" => Some(Self::ForgetMe { confirm: false }),
            "confirm" => Some(Self::ForgetMe { confirm: true }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PrivacyCommand as P;

    #[test]
    fn parse_table() {
        let forget = |user: &str, confirm| {
            Some(P::Forget {
                user: user.into(),
                confirm,
            })
        };
        let cases = [
            ("", Some(P::Notice)),
            ("  ", Some(P::Notice)),
            ("opt-out", Some(P::OptOut)),
            ("OptOut", Some(P::OptOut)),
            ("opt-in", Some(P::OptIn)),
            ("export", Some(P::Export)),
            ("channel off", Some(P::Channel { recorded: false })),
            ("Channel ON", Some(P::Channel { recorded: true })),
            ("forget <@123456>", forget("<@123456>", false)),
            (
                "forget @Ana:example.org Confirm",
                forget("@Ana:example.org", true),
            ),
            ("forget", None),
            ("forget a b", None),
            ("forget a confirm now", None),
            ("channel", None),
            ("channel maybe", None),
            ("opt-out now", None),
            ("export everything", None),
            ("delete", None),
        ];
        for (argument, expected) in cases {
            assert_eq!(P::parse(argument), expected, "{argument:?}");
        }
        assert_eq!(P::parse_forget_me(""), Some(P::ForgetMe { confirm: false }));
        assert_eq!(
            P::parse_forget_me(" confirm "),
            Some(P::ForgetMe { confirm: true })
        );
        assert_eq!(P::parse_forget_me("yes"), None);
    }
}
