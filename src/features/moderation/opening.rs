//! Opening a case: the one place that files a finding in the case log and turns the policy's
//! decision into actions, the moderators' notice and the member's. Used when a message is
//! screened, when a member reports one, and when the model's background review flags one.
//!
//! The community decides how: in a dry run the decision is made and logged, and the notice
//! says what would have happened, but nothing is deleted or timed out; the moderators' notice
//! goes to the community's own log channel, if it chose one.

use std::time::SystemTime;

use super::community_rules;
use super::log::CaseLog;
use super::policy::{Decision, Finding};
use super::review::Verdict;
use super::rules::RuleHit;
use crate::core::settings::ModerationMode;
use crate::core::{Action, Automatic, CaseCategory, ChannelId, Location, MessageId, UserId};
use crate::features::{CommunitySettings, Context};
use crate::store::NewCase;
use crate::strings::Strings;

/// Characters of a message kept in its case (the message itself stays in the store).
const EXCERPT_CHARS: usize = 200;

/// What a finding is about: one message (or command) by one member.
pub(crate) struct Subject<'a> {
    pub location: &'a Location,
    pub message: Option<&'a MessageId>,
    pub author: &'a UserId,
    pub text: &'a str,
}

/// How cases open in one community: its language, the platform's command prefix, whether
/// automatic actions run, where the moderators read, and the community's own rules. Built
/// from an event's [`Context`], or from the stored settings for work without one (the
/// model's background review).
#[derive(Debug, Clone)]
pub(crate) struct Venue {
    pub strings: Strings,
    pub prefix: String,
    pub mode: ModerationMode,
    /// The community's own moderators' log channel (`setting mod-log here`), if chosen.
    pub mod_log: Option<ChannelId>,
    pub rules: Vec<String>,
}

impl Venue {
    /// The venue of an event's community; `default_mode` applies where the community chose no
    /// mode of its own.
    pub fn of(ctx: &Context, default_mode: ModerationMode) -> Self {
        Self::from_settings(ctx.strings, ctx.prefix(), &ctx.settings, default_mode)
    }

    /// The venue described by a community's stored settings.
    pub fn from_settings(
        strings: Strings,
        prefix: &str,
        settings: &CommunitySettings,
        default_mode: ModerationMode,
    ) -> Self {
        Self {
            strings,
            prefix: prefix.to_string(),
            mode: settings.moderation_mode(default_mode),
            mod_log: settings.mod_log(),
            rules: settings.rules(),
        }
    }

    /// A post to this community's moderators, about case `case` if any.
    pub fn mod_log_post(&self, location: &Location, case: Option<i64>, text: String) -> Action {
        Action::PostToModLog {
            platform: location.platform,
            community: location.community.clone(),
            channel: self.mod_log.clone(),
            case,
            text,
        }
    }
}

/// Opens the case (when the decision says so) and returns the automatic actions, the
/// moderators' notice and the member's. `rule` is the number of the community's rule the
/// model named (already checked against the list). Returns the case's number in its community
/// too (`None`: no case, or the store failed and the actions go ahead).
pub(crate) async fn open_case(
    store: &dyn CaseLog,
    venue: &Venue,
    subject: &Subject<'_>,
    finding: &Finding,
    decision: Decision,
    reporter: Option<&UserId>,
    rule: Option<u32>,
) -> (Option<i64>, Vec<Action>) {
    if !decision.open_case {
        return (None, Vec::new());
    }
    let strings = venue.strings;
    // What the decision does here: a command has no message to delete.
    let planned = Decision {
        delete: decision.delete && subject.message.is_some(),
        ..decision
    };
    // In a dry run the decision stands in the log, and nothing happens.
    let acts = venue.mode == ModerationMode::On;
    let done = if acts {
        planned
    } else {
        Decision {
            delete: false,
            timeout: None,
            ..planned
        }
    };
    let dry_run = (!acts && planned.automatic() != Automatic::Nothing)
        .then(|| strings.would_have(subject.author, planned.delete, planned.timeout));
    let mut reason = reason(finding, reporter);
    if dry_run.is_some() {
        reason.push_str("; dry run: nothing was done automatically");
    }
    let cited = rule.and_then(|number| community_rules::cited(number, &venue.rules));
    let automatic = done.automatic();
    let new_case = NewCase {
        location: subject.location.clone(),
        message: subject.message.cloned(),
        user: subject.author.clone(),
        excerpt: subject.text.chars().take(EXCERPT_CHARS).collect(),
        source: finding.source(),
        category: category(finding),
        reason: reason.clone(),
        automatic,
        rule_index: cited.map(|(number, _)| number),
    };
    let number = match store.open_case(&new_case, SystemTime::now()).await {
        Ok(number) => Some(number),
        Err(error) => {
            // Act anyway: the message itself stays in the store as evidence.
            tracing::error!(label = error.label(), %error, "opening a moderation case failed");
            None
        }
    };
    tracing::info!(
        case = number,
        source = new_case.source.as_str(),
        category = new_case.category.as_str(),
        automatic = new_case.automatic.as_str(),
        dry_run = dry_run.is_some(),
        "moderation case opened"
    );
    let location = subject.location;
    let mut actions = Vec::new();
    if let Some(message) = subject.message.filter(|_| done.delete) {
        actions.push(Action::DeleteMessage {
            location: location.clone(),
            message: message.clone(),
            reason: reason.clone(),
            decided_by: None,
        });
    }
    if let Some(duration) = done.timeout {
        actions.push(Action::TimeoutMember {
            platform: location.platform,
            community: location.community.clone(),
            user: subject.author.clone(),
            duration,
            reason: reason.clone(),
            decided_by: None,
        });
    }
    let text = strings.case_opened(number, &new_case, &venue.prefix, cited, dry_run.as_deref());
    actions.push(venue.mod_log_post(location, number, text));
    // The member hears what happened and how to appeal (only when something did happen).
    if let (Some(number), true) = (number, automatic != Automatic::Nothing) {
        actions.push(Action::PrivateNotice {
            platform: location.platform,
            user: subject.author.clone(),
            text: strings.member_notice_automatic(number, automatic, done.timeout, &venue.prefix),
            attachment: None,
        });
    }
    (number, actions)
}

/// The case's category: the rule's, or the model's label, or `reported`.
fn category(finding: &Finding) -> CaseCategory {
    match finding {
        Finding::Rule(hit) => hit.category(),
        Finding::Model(verdict) => verdict.category.case_category(),
        Finding::Report {
            verdict: Some(verdict),
        } if verdict.flags() => verdict.category.case_category(),
        Finding::Report { .. } => CaseCategory::Reported,
    }
}

/// Why, in words for the case log and the platform's audit log.
pub(crate) fn reason(finding: &Finding, reporter: Option<&UserId>) -> String {
    let model = model_reason;
    match finding {
        Finding::Rule(RuleHit::Blocked { pattern }) => {
            format!("matched the blocked pattern `{pattern}`")
        }
        Finding::Rule(RuleHit::Flood { messages, window }) => format!(
            "more than {messages} messages within {} s",
            window.as_secs()
        ),
        Finding::Rule(RuleHit::Mentions { count, max }) => {
            format!("{count} mentions in one message (limit {max})")
        }
        Finding::Rule(RuleHit::Links { count, max }) => {
            format!("{count} links in one message (limit {max})")
        }
        Finding::Rule(RuleHit::Invite { link }) => {
            format!("an invitation to another server or room ({link})")
        }
        Finding::Model(verdict) => model(verdict),
        Finding::Report { verdict } => {
            let by = reporter.map_or_else(|| "a member".to_string(), |user| user.to_string());
            match verdict {
                Some(verdict) => format!("reported by {by}; {}", model(verdict)),
                None => format!("reported by {by}"),
            }
        }
    }
}

/// The model's verdict in words, for the case log.
pub(crate) fn model_reason(verdict: &Verdict) -> String {
    format!(
        "the model labelled it {} ({})",
        verdict.category.as_str(),
        verdict.severity.as_str()
    )
}

#[cfg(test)]
mod tests {
    //! Opening cases against an in-memory case log.

    use std::time::Duration;

    use super::*;
    use crate::core::{CommunityId, Language, Platform};
    use crate::features::moderation::memory::Memory;

    fn venue(mode: ModerationMode, mod_log: Option<&str>) -> Venue {
        Venue {
            strings: Strings::new(Language::English),
            prefix: "/".into(),
            mode,
            mod_log: mod_log.map(ChannelId::new),
            rules: vec!["Be kind".into(), "No spam".into()],
        }
    }

    /// In a dry run the decision is made, logged and posted as "would have"; nothing is done
    /// and the member hears nothing. On, it acts and the member is told how to appeal. Either
    /// way the post goes to the community's own channel and names the case and the rule.
    #[tokio::test]
    async fn dry_run_logs_would_have_and_on_acts() {
        let place = Location {
            platform: Platform::Console,
            community: CommunityId::new("c"),
            channel: ChannelId::new("general"),
            thread: None,
        };
        let (message, author) = (MessageId::new("m1"), UserId::new("mallory"));
        let subject = Subject {
            location: &place,
            message: Some(&message),
            author: &author,
            text: "free nitro",
        };
        let finding = Finding::Rule(RuleHit::Blocked {
            pattern: "nitro".into(),
        });
        let decision = Decision {
            open_case: true,
            delete: true,
            timeout: Some(Duration::from_secs(600)),
        };
        // (mode, punitive actions, private notices, automatic as stored)
        let cases = [
            (ModerationMode::DryRun, 0, 0, Automatic::Nothing),
            (ModerationMode::On, 2, 1, Automatic::DeletedAndTimedOut),
        ];
        for (mode, punitive, notices, automatic) in cases {
            let log = Memory::default();
            let venue = venue(mode, Some("mods"));
            let (number, actions) =
                open_case(&log, &venue, &subject, &finding, decision, None, Some(2)).await;
            assert_eq!(number, Some(1), "{mode:?}");
            let count = |f: fn(&Action) -> bool| actions.iter().filter(|a| f(a)).count();
            let acting = count(|a| {
                matches!(
                    a,
                    Action::DeleteMessage {
                        decided_by: None,
                        ..
                    } | Action::TimeoutMember {
                        decided_by: None,
                        ..
                    }
                )
            });
            assert_eq!(acting, punitive, "{mode:?}: {actions:?}");
            assert_eq!(
                count(|a| matches!(a, Action::PrivateNotice { .. })),
                notices,
                "{mode:?}: {actions:?}"
            );
            let post = actions
                .iter()
                .find_map(|a| match a {
                    Action::PostToModLog {
                        channel,
                        case,
                        text,
                        ..
                    } => Some((channel.clone(), *case, text.clone())),
                    _ => None,
                })
                .expect("a post to the moderators");
            assert_eq!((post.0, post.1), (Some(ChannelId::new("mods")), Some(1)));
            assert!(
                post.2.contains("The model says it breaks rule 2: No spam"),
                "{}",
                post.2
            );
            let dry = "Dry run: would have deleted the message and timed out @mallory for 10 min.";
            assert_eq!(
                post.2.contains(dry),
                mode == ModerationMode::DryRun,
                "{}",
                post.2
            );
            let stored = log.get("c", 1);
            assert_eq!(stored.automatic, automatic, "{mode:?}");
            assert_eq!(stored.rule_index, Some(2));
        }
    }

    /// The model's rule is a number checked against the list: rule 9 of 2 is none.
    #[tokio::test]
    async fn a_rule_past_the_list_is_not_recorded() {
        let place = Location {
            platform: Platform::Console,
            community: CommunityId::new("c"),
            channel: ChannelId::new("general"),
            thread: None,
        };
        let author = UserId::new("mallory");
        let subject = Subject {
            location: &place,
            message: None,
            author: &author,
            text: "",
        };
        let finding = Finding::Report { verdict: None };
        let decision = Decision {
            open_case: true,
            ..Decision::default()
        };
        let log = Memory::default();
        let venue = venue(ModerationMode::On, None);
        let (_, actions) =
            open_case(&log, &venue, &subject, &finding, decision, None, Some(9)).await;
        assert_eq!(log.get("c", 1).rule_index, None);
        assert!(
            matches!(&actions[..], [Action::PostToModLog { channel: None, text, .. }]
                if !text.contains("rule")),
            "{actions:?}"
        );
    }
}
