//! Policy: what Steward does by itself about a finding. A pure function of the finding, the
//! author's role and the configuration, so it can be read (and tested) as a table.
//!
//! The boundaries: rules may delete a message and time out a flooding member; the model may at
//! most delete a message (only with `model_may_delete`); nothing automatic ever kicks or bans,
//! and moderators' messages are never acted on automatically. Kicks and bans come only from a
//! moderator's `case` command.

use std::time::Duration;

use super::review::{Severity, Verdict};
use super::rules::RuleHit;
use crate::config::ModerationSettings;
use crate::core::{Automatic, CaseSource, Role};

/// Where a finding came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Rule(RuleHit),
    Model(Verdict),
    /// A member reported the message; `verdict` is the model's review, if it ran.
    Report {
        verdict: Option<Verdict>,
    },
}

impl Finding {
    /// Where it came from, stored as the case's source.
    pub fn source(&self) -> CaseSource {
        match self {
            Finding::Rule(_) => CaseSource::Rule,
            Finding::Model(_) => CaseSource::Model,
            Finding::Report { .. } => CaseSource::Report,
        }
    }
}

/// What to do automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decision {
    pub open_case: bool,
    pub delete: bool,
    pub timeout: Option<Duration>,
}

impl Decision {
    /// What was done, stored with the case.
    pub fn automatic(&self) -> Automatic {
        match (self.delete, self.timeout.is_some()) {
            (true, true) => Automatic::DeletedAndTimedOut,
            (true, false) => Automatic::Deleted,
            (false, true) => Automatic::TimedOut,
            (false, false) => Automatic::Nothing,
        }
    }
}

/// Decides what happens automatically about `finding` on a message by someone with `role`.
pub fn decide(finding: &Finding, role: Role, settings: &ModerationSettings) -> Decision {
    let case_only = Decision {
        open_case: true,
        ..Decision::default()
    };
    if role.can_moderate() {
        // A member may still report a moderator; other moderators decide.
        return match finding {
            Finding::Report { .. } => case_only,
            _ => Decision::default(),
        };
    }
    let model_decision = |verdict: &Verdict| {
        if !verdict.flags() || verdict.severity < Severity::Medium {
            return None;
        }
        Some(Decision {
            open_case: true,
            delete: settings.model_may_delete && verdict.severity == Severity::High,
            timeout: None,
        })
    };
    match finding {
        Finding::Rule(RuleHit::Flood { .. }) => Decision {
            open_case: true,
            delete: false,
            timeout: Some(settings.flood_timeout).filter(|t| !t.is_zero()),
        },
        Finding::Rule(_) => Decision {
            open_case: true,
            delete: true,
            timeout: None,
        },
        Finding::Model(verdict) => model_decision(verdict).unwrap_or_default(),
        // A report always reaches the moderators, whatever the model thinks.
        Finding::Report { verdict } => verdict
            .as_ref()
            .and_then(model_decision)
            .unwrap_or(case_only),
    }
}

#[cfg(test)]
mod tests {
    use super::super::review::Category;
    use super::*;

    fn verdict(category: Category, severity: Severity) -> Verdict {
        Verdict { category, severity }
    }

    #[test]
    fn decision_table() {
        let settings = ModerationSettings {
            flood_timeout: Duration::from_secs(300),
            ..Default::default()
        };
        let mut may_delete = settings.clone();
        may_delete.model_may_delete = true;

        let none = Decision::default();
        let case = Decision {
            open_case: true,
            ..none
        };
        let delete = Decision {
            delete: true,
            ..case
        };
        let timeout = Decision {
            timeout: Some(Duration::from_secs(300)),
            ..case
        };
        let blocked = Finding::Rule(RuleHit::Blocked {
            pattern: "x".into(),
        });
        let flood = Finding::Rule(RuleHit::Flood {
            messages: 8,
            window: Duration::from_secs(10),
        });
        let high_hate = verdict(Category::Hate, Severity::High);
        let low_spam = verdict(Category::Spam, Severity::Low);
        let fine = verdict(Category::None, Severity::High);

        let cases = [
            (&blocked, Role::Member, &settings, delete),
            (&blocked, Role::Moderator, &settings, none),
            (&flood, Role::Member, &settings, timeout),
            (&flood, Role::Owner, &settings, none),
            (&Finding::Model(high_hate), Role::Member, &settings, case),
            (
                &Finding::Model(high_hate),
                Role::Member,
                &may_delete,
                delete,
            ),
            (
                &Finding::Model(verdict(Category::Hate, Severity::Medium)),
                Role::Member,
                &may_delete,
                case,
            ),
            (&Finding::Model(low_spam), Role::Member, &may_delete, none),
            (&Finding::Model(fine), Role::Member, &may_delete, none),
            (
                &Finding::Model(high_hate),
                Role::Moderator,
                &may_delete,
                none,
            ),
            (
                &Finding::Report { verdict: None },
                Role::Member,
                &settings,
                case,
            ),
            (
                &Finding::Report {
                    verdict: Some(fine),
                },
                Role::Member,
                &settings,
                case,
            ),
            (
                &Finding::Report {
                    verdict: Some(high_hate),
                },
                Role::Member,
                &may_delete,
                delete,
            ),
            (
                &Finding::Report {
                    verdict: Some(high_hate),
                },
                Role::Moderator,
                &may_delete,
                case,
            ),
        ];
        for (finding, role, settings, expected) in cases {
            assert_eq!(
                decide(finding, role, settings),
                expected,
                "{finding:?} by {role:?}"
            );
        }
    }

    /// Whatever the model answers, automatic actions stay within deleting one message.
    #[test]
    fn the_model_never_times_out_kicks_or_bans() {
        let settings = ModerationSettings {
            model_may_delete: true,
            ..Default::default()
        };
        let categories = [
            Category::None,
            Category::Spam,
            Category::Scam,
            Category::Harassment,
            Category::Hate,
            Category::Sexual,
            Category::Violence,
            Category::SelfHarm,
            Category::Other,
        ];
        let severities = [
            Severity::None,
            Severity::Low,
            Severity::Medium,
            Severity::High,
        ];
        for category in categories {
            for severity in severities {
                let verdict = verdict(category, severity);
                for finding in [
                    Finding::Model(verdict),
                    Finding::Report {
                        verdict: Some(verdict),
                    },
                ] {
                    for role in [Role::Member, Role::Moderator, Role::Owner] {
                        let decision = decide(&finding, role, &settings);
                        assert_eq!(decision.timeout, None, "{finding:?}");
                    }
                }
            }
        }
    }
}
