//! Commands with typed arguments, and the one parser for platforms whose commands are text
//! (`/ask` on the console, `!steward ask` on Matrix). Discord's slash commands build
//! [`Command`] values from their options directly.

use super::case::CaseStatus;
use super::privacy::PrivacyCommand;
use super::report::{report_arguments, ReportWindow};

/// A command with typed arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Ask the model a question.
    Ask { question: String },
    /// List what Steward can do.
    Help,
    /// Summarize the last `messages` messages of the channel or thread, each point linking to
    /// its sources. `None`: [`SUMMARY_DEFAULT_MESSAGES`].
    Summarize { messages: Option<u32> },
    /// Show the community's settings (`key` None), one setting, or change one (`value` Some).
    /// Moderators only.
    Setting {
        key: Option<String>,
        value: Option<String>,
    },
    /// List the community's open moderation cases. Moderators only.
    Cases,
    /// Show one case (`decision` None) or decide it. Moderators only.
    Case {
        id: i64,
        decision: Option<CaseDecision>,
    },
    /// Show the community's rules (`text` None; anyone), or set them (moderators): plain
    /// language, one rule per line; the model's review names a rule by its number. An empty
    /// text clears them.
    Rules { text: Option<String> },
    /// A member appeals a case about them (`appeal 12 I was quoting the spammer`).
    Appeal { case: i64, text: String },
    /// The questions Steward could not answer in the last `days` days, grouped by similarity,
    /// most asked first (`kb gaps [days]`). `None`: [`KB_REPORT_DEFAULT_DAYS`]. Moderators only.
    KbGaps { days: Option<u32> },
    /// Members' 👍/👎 on Steward's answers in the last `days` days: satisfaction over time and
    /// the worst-rated answers (`kb feedback [days]`). `None`: [`KB_REPORT_DEFAULT_DAYS`].
    /// Moderators only.
    KbFeedback { days: Option<u32> },
    /// Adds the conversation of a message (a link to it, or its id) to the knowledge base,
    /// marked, so answers cite it and rank it higher (`kb mark <message link>`). Moderators
    /// only.
    KbMark { message: String },
    /// What Steward stores about members and what they (or moderators) can do about it:
    /// `privacy ...` and `forget-me [confirm]` ([`PrivacyCommand`]).
    Privacy(PrivacyCommand),
    /// The community's health over a window (`report [24h|7d|4w] [channel]`): figures
    /// against the window before, unanswered questions and negative themes with links, two
    /// charts and a short reading. `window` None: [`ReportWindow::DEFAULT`]; `channel` None:
    /// the whole community, else `here`, an id or a mention as typed (the feature resolves
    /// it). Moderators only.
    Report {
        window: Option<ReportWindow>,
        channel: Option<String>,
    },
    /// A known command with arguments that do not fit; the reply shows its usage.
    BadArguments { command: &'static str },
}

/// What a moderator decides about a moderation case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseDecision {
    /// Nothing was wrong: close the case.
    Dismiss,
    /// Handled (by hand or already): close the case.
    Resolve,
    /// Delete the message and close the case.
    Delete,
    /// Stop the member from talking for `minutes`, and close the case.
    Timeout { minutes: u32 },
    /// Remove the member (they may rejoin), and close the case.
    Kick,
    /// Remove the member for good, and close the case.
    Ban,
    /// Answer an appeal: the decision stands.
    Uphold,
    /// Answer an appeal: the decision is undone (a timeout or ban is lifted where the
    /// platform allows) and the case is marked reversed.
    Reverse,
}

/// How many recent messages `summarize` reads by default, and at most.
pub const SUMMARY_DEFAULT_MESSAGES: u32 = 30;
pub const SUMMARY_MAX_MESSAGES: u32 = 100;

/// How many days back `kb gaps` and `kb feedback` look by default, and at most.
pub const KB_REPORT_DEFAULT_DAYS: u32 = 30;
pub const KB_REPORT_MAX_DAYS: u32 = 365;

impl CaseDecision {
    /// Parses `dismiss`, `resolve`, `delete`, `timeout [minutes]`, `kick`, `ban`. Any positive
    /// number of minutes parses; the router checks it against the platform's longest timeout.
    pub fn parse(word: &str, minutes: Option<&str>) -> Option<Self> {
        let decision = match word.to_lowercase().as_str() {
            "dismiss" => Self::Dismiss,
            "resolve" | "done" => Self::Resolve,
            "delete" => Self::Delete,
            "timeout" | "mute" => {
                let minutes = match minutes {
                    None => 60,
                    Some(text) => text.parse().ok()?,
                };
                if minutes == 0 {
                    return None;
                }
                Self::Timeout { minutes }
            }
            "kick" => Self::Kick,
            "ban" => Self::Ban,
            "uphold" => Self::Uphold,
            "reverse" => Self::Reverse,
            _ => return None,
        };
        // Only a timeout takes a number.
        if minutes.is_some() && !matches!(decision, Self::Timeout { .. }) {
            return None;
        }
        Some(decision)
    }

    /// The status a case gets when a moderator decides this; `None`: the status stays (an
    /// upheld appeal).
    pub fn status(self) -> Option<CaseStatus> {
        Some(match self {
            Self::Dismiss => CaseStatus::Dismissed,
            Self::Resolve => CaseStatus::Resolved,
            Self::Delete => CaseStatus::Deleted,
            Self::Timeout { .. } => CaseStatus::TimedOut,
            Self::Kick => CaseStatus::Kicked,
            Self::Ban => CaseStatus::Banned,
            Self::Uphold => return None,
            Self::Reverse => CaseStatus::Reversed,
        })
    }
}

impl Command {
    /// The free text a member wrote into the command (a question, rules, an appeal): screened
    /// by the moderation rules like a message.
    pub fn text(&self) -> Option<&str> {
        match self {
            Command::Ask { question } => Some(question),
            Command::Rules { text } => text.as_deref(),
            Command::Appeal { text, .. } => Some(text),
            Command::Help
            | Command::Summarize { .. }
            | Command::Setting { .. }
            | Command::Cases
            | Command::Case { .. }
            | Command::KbGaps { .. }
            | Command::KbFeedback { .. }
            | Command::KbMark { .. }
            | Command::Report { .. }
            | Command::Privacy(_)
            | Command::BadArguments { .. } => None,
        }
    }

    /// Commands that only moderators may run.
    pub fn requires_moderator(&self) -> bool {
        match self {
            Command::Ask { .. }
            | Command::Help
            | Command::Summarize { .. }
            | Command::Appeal { .. }
            | Command::Rules { text: None }
            | Command::BadArguments { .. } => false,
            Command::Setting { .. }
            | Command::Cases
            | Command::Case { .. }
            | Command::KbGaps { .. }
            | Command::KbFeedback { .. }
            | Command::KbMark { .. }
            | Command::Report { .. }
            | Command::Rules { text: Some(_) } => true,
            Command::Privacy(privacy) => privacy.requires_moderator(),
        }
    }

    /// Parses a text command: `name` is the command word (any case), `argument` the rest of
    /// the line. `None`: no such command (each platform decides what that means).
    pub fn parse(name: &str, argument: &str) -> Option<Command> {
        let argument = argument.trim();
        let mut words = argument.split_whitespace();
        Some(match name.to_lowercase().as_str() {
            "ask" => Command::Ask {
                question: argument.to_string(),
            },
            "help" => Command::Help,
            "summarize" | "summary" => match (words.next().map(str::parse::<u32>), words.next()) {
                (None, _) => Command::Summarize { messages: None },
                (Some(Ok(n)), None) if (1..=SUMMARY_MAX_MESSAGES).contains(&n) => {
                    Command::Summarize { messages: Some(n) }
                }
                _ => Command::BadArguments {
                    command: "summarize",
                },
            },
            "setting" | "settings" => Command::Setting {
                key: words.next().map(str::to_string),
                value: words.next().map(str::to_string),
            },
            "cases" => match words.next() {
                None => Command::Cases,
                Some(_) => Command::BadArguments { command: "cases" },
            },
            "case" => {
                let id = words
                    .next()
                    .and_then(|w| w.trim_start_matches('#').parse().ok());
                let decision = words
                    .next()
                    .map(|word| CaseDecision::parse(word, words.next()));
                match (id, decision, words.next()) {
                    (Some(id), None, None) => Command::Case { id, decision: None },
                    (Some(id), Some(Some(decision)), None) => Command::Case {
                        id,
                        decision: Some(decision),
                    },
                    _ => Command::BadArguments { command: "case" },
                }
            }
            "rules" => match argument.split_once(char::is_whitespace) {
                None if argument.is_empty() => Command::Rules { text: None },
                None if argument.eq_ignore_ascii_case("clear") => Command::Rules {
                    text: Some(String::new()),
                },
                Some((word, text))
                    if word.eq_ignore_ascii_case("set") && !text.trim().is_empty() =>
                {
                    Command::Rules {
                        text: Some(text.trim().to_string()),
                    }
                }
                _ => Command::BadArguments { command: "rules" },
            },
            "appeal" => {
                let (number, text) = argument
                    .split_once(char::is_whitespace)
                    .unwrap_or((argument, ""));
                match number.trim_start_matches('#').parse() {
                    Ok(case) if !text.trim().is_empty() => Command::Appeal {
                        case,
                        text: text.trim().to_string(),
                    },
                    _ => Command::BadArguments { command: "appeal" },
                }
            }
            "kb" => {
                let report = words.next().map(str::to_lowercase);
                if report.as_deref() == Some("mark") {
                    return Some(match (words.next(), words.next()) {
                        (Some(message), None) => Command::KbMark {
                            message: message.to_string(),
                        },
                        _ => Command::BadArguments { command: "kb mark" },
                    });
                }
                let days = words.next().map(str::parse::<u32>);
                let days = match (days, words.next()) {
                    (None, _) => Ok(None),
                    (Some(Ok(n)), None) if (1..=KB_REPORT_MAX_DAYS).contains(&n) => Ok(Some(n)),
                    _ => Err(()),
                };
                match (report.as_deref(), days) {
                    (Some("gaps"), Ok(days)) => Command::KbGaps { days },
                    (Some("feedback"), Ok(days)) => Command::KbFeedback { days },
                    _ => Command::BadArguments { command: "kb" },
                }
            }
            "report" => {
                let words: Vec<&str> = words.collect();
                match report_arguments(&words) {
                    Some((window, channel)) => Command::Report { window, channel },
                    None => Command::BadArguments { command: "report" },
                }
            }
            "privacy" => match PrivacyCommand::parse(argument) {
                Some(privacy) => Command::Privacy(privacy),
                None => Command::BadArguments { command: "privacy" },
            },
            "forget-me" | "forgetme" => match PrivacyCommand::parse_forget_me(argument) {
                Some(privacy) => Command::Privacy(privacy),
                None => Command::BadArguments {
                    command: "forget-me",
                },
            },
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let case = |id, decision| Some(Command::Case { id, decision });
        let bad = |command| Some(Command::BadArguments { command });
        let privacy = |command| Some(Command::Privacy(command));
        let report = |hours: Option<u32>, channel: Option<&str>| {
            Some(Command::Report {
                window: hours.map(|hours| ReportWindow { hours }),
                channel: channel.map(str::to_string),
            })
        };
        let cases = [
            (
                "ask",
                "  what is Rust? ",
                Some(Command::Ask {
                    question: "what is Rust?".into(),
                }),
            ),
            ("HELP", "", Some(Command::Help)),
            (
                "settings",
                "language zh extra",
                Some(Command::Setting {
                    key: Some("language".into()),
                    value: Some("zh".into()),
                }),
            ),
            ("summarize", "", Some(Command::Summarize { messages: None })),
            (
                "summary",
                " 50 ",
                Some(Command::Summarize { messages: Some(50) }),
            ),
            ("summarize", "0", bad("summarize")),
            ("summarize", "101", bad("summarize")),
            ("summarize", "ten", bad("summarize")),
            ("summarize", "10 more", bad("summarize")),
            ("cases", "", Some(Command::Cases)),
            ("cases", "all", bad("cases")),
            ("case", "12", case(12, None)),
            ("case", "#12 dismiss", case(12, Some(CaseDecision::Dismiss))),
            ("case", "3 BAN", case(3, Some(CaseDecision::Ban))),
            (
                "case",
                "3 timeout",
                case(3, Some(CaseDecision::Timeout { minutes: 60 })),
            ),
            (
                "case",
                "3 timeout 10",
                case(3, Some(CaseDecision::Timeout { minutes: 10 })),
            ),
            ("case", "3 timeout 0", bad("case")),
            (
                "case",
                "3 timeout 99999999",
                case(3, Some(CaseDecision::Timeout { minutes: 99999999 })),
            ),
            ("case", "3 timeout 99999999999", bad("case")),
            ("case", "3 ban 10", bad("case")),
            ("case", "3 ban now please", bad("case")),
            ("case", "three", bad("case")),
            ("case", "", bad("case")),
            ("case", "3 obliterate", bad("case")),
            ("rules", "", Some(Command::Rules { text: None })),
            (
                "rules",
                "set 1. Be kind\n2. No spam",
                Some(Command::Rules {
                    text: Some("1. Be kind\n2. No spam".into()),
                }),
            ),
            (
                "rules",
                "clear",
                Some(Command::Rules {
                    text: Some(String::new()),
                }),
            ),
            ("rules", "set", bad("rules")),
            ("rules", "be kind", bad("rules")),
            (
                "appeal",
                "#4 I was quoting the spammer",
                Some(Command::Appeal {
                    case: 4,
                    text: "I was quoting the spammer".into(),
                }),
            ),
            ("appeal", "4", bad("appeal")),
            ("appeal", "four reasons", bad("appeal")),
            ("case", "4 reverse", case(4, Some(CaseDecision::Reverse))),
            ("kb", "gaps", Some(Command::KbGaps { days: None })),
            ("KB", "GAPS 7", Some(Command::KbGaps { days: Some(7) })),
            ("kb", "feedback", Some(Command::KbFeedback { days: None })),
            (
                "kb",
                " feedback 365 ",
                Some(Command::KbFeedback { days: Some(365) }),
            ),
            ("kb", "feedback 0", bad("kb")),
            ("kb", "feedback 366", bad("kb")),
            ("kb", "feedback week", bad("kb")),
            ("kb", "gaps 7 more", bad("kb")),
            ("kb", "", bad("kb")),
            ("kb", "add docs/", bad("kb")),
            (
                "kb",
                "mark https://discord.com/channels/1/2/3",
                Some(Command::KbMark {
                    message: "https://discord.com/channels/1/2/3".into(),
                }),
            ),
            (
                "kb",
                "MARK $ev:x",
                Some(Command::KbMark {
                    message: "$ev:x".into(),
                }),
            ),
            ("kb", "mark", bad("kb mark")),
            ("kb", "mark 1 2", bad("kb mark")),
            ("privacy", "", privacy(PrivacyCommand::Notice)),
            ("PRIVACY", " Opt-Out ", privacy(PrivacyCommand::OptOut)),
            ("privacy", "forget", bad("privacy")),
            ("privacy", "delete", bad("privacy")),
            (
                "forget-me",
                "",
                privacy(PrivacyCommand::ForgetMe { confirm: false }),
            ),
            (
                "forget-me",
                " CONFIRM ",
                privacy(PrivacyCommand::ForgetMe { confirm: true }),
            ),
            ("forget-me", "now", bad("forget-me")),
            ("report", "", report(None, None)),
            ("REPORT", " 24H ", report(Some(24), None)),
            ("report", "4w", report(Some(4 * 168), None)),
            ("report", "1h", report(Some(1), None)),
            ("report", "365d", report(Some(8760), None)),
            ("report", "7d here", report(Some(168), Some("here"))),
            (
                "report",
                "<#123456> 2d",
                report(Some(48), Some("<#123456>")),
            ),
            (
                "report",
                "!room:example.org",
                report(None, Some("!room:example.org")),
            ),
            (
                "report",
                "7d https://matrix.to/#/!room:example.org",
                report(Some(168), Some("https://matrix.to/#/!room:example.org")),
            ),
            (
                "report",
                "30d 123456789012",
                report(Some(720), Some("123456789012")),
            ),
            ("report", "-3d", bad("report")),
            ("report", "0d", bad("report")),
            ("report", "9999y", bad("report")),
            ("report", "366d", bad("report")),
            ("report", "99999999999999999999w", bad("report")),
            ("report", "abc", bad("report")),
            ("report", "7", bad("report")),
            ("report", "7d 3d", bad("report")),
            ("report", "7d here more", bad("report")),
            ("quit", "", None),
        ];
        for (name, argument, expected) in cases {
            assert_eq!(
                Command::parse(name, argument),
                expected,
                "{name} {argument}"
            );
        }
    }

    #[test]
    fn moderation_commands_are_for_moderators() {
        assert!(Command::Cases.requires_moderator());
        assert!(Command::Case {
            id: 1,
            decision: None
        }
        .requires_moderator());
        assert!(Command::KbGaps { days: None }.requires_moderator());
        assert!(Command::KbFeedback { days: Some(7) }.requires_moderator());
        assert!(Command::KbMark {
            message: "1".into()
        }
        .requires_moderator());
        assert!(Command::Report {
            window: None,
            channel: None
        }
        .requires_moderator());
        for (command, moderators) in [
            (PrivacyCommand::Notice, false),
            (PrivacyCommand::OptOut, false),
            (PrivacyCommand::OptIn, false),
            (PrivacyCommand::Export, false),
            (PrivacyCommand::ForgetMe { confirm: true }, false),
            (PrivacyCommand::Channel { recorded: false }, true),
            (
                PrivacyCommand::Forget {
                    user: "1".into(),
                    confirm: false,
                },
                true,
            ),
        ] {
            let command = Command::Privacy(command);
            assert_eq!(command.requires_moderator(), moderators, "{command:?}");
            assert_eq!(command.text(), None, "{command:?}");
        }
        assert!(!Command::Help.requires_moderator());
        assert!(!Command::BadArguments { command: "case" }.requires_moderator());
    }
}
