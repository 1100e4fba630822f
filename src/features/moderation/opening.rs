//! Opening a case: the one place that files a finding in the case log and turns the policy's
//! decision into actions and the moderators' notice. Used when a message is screened, when a
//! member reports one, and when the model's background review of a message flags it.

use std::time::SystemTime;

use super::log::CaseLog;
use super::policy::{Decision, Finding};
use super::review::Verdict;
use super::rules::RuleHit;
use crate::core::{Action, CaseCategory, Location, MessageId, UserId};
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

/// Opens the case (when the decision says so) and returns the automatic actions and the
/// moderators' notice, written with `strings` and the platform's command `prefix`. Returns
/// the case number too (`None`: no case, or the store failed and the actions go ahead).
pub(crate) async fn open_case(
    store: &dyn CaseLog,
    strings: Strings,
    prefix: &str,
    subject: &Subject<'_>,
    finding: &Finding,
    decision: Decision,
    reporter: Option<&UserId>,
) -> (Option<i64>, Vec<Action>) {
    if !decision.open_case {
        return (None, Vec::new());
    }
    let reason = reason(finding, reporter);
    let new_case = NewCase {
        location: subject.location.clone(),
        message: subject.message.cloned(),
        user: subject.author.clone(),
        excerpt: subject.text.chars().take(EXCERPT_CHARS).collect(),
        source: finding.source(),
        category: category(finding),
        reason: reason.clone(),
        automatic: decision.automatic(),
    };
    let id = match store.open_case(&new_case, SystemTime::now()).await {
        Ok(id) => Some(id),
        Err(error) => {
            // Act anyway: the message itself stays in the store as evidence.
            tracing::error!(label = error.label(), %error, "opening a moderation case failed");
            None
        }
    };
    tracing::info!(
        case = id,
        source = new_case.source.as_str(),
        category = new_case.category.as_str(),
        automatic = new_case.automatic.as_str(),
        "moderation case opened"
    );
    let location = subject.location;
    let mut actions = Vec::new();
    if let Some(message) = subject.message.filter(|_| decision.delete) {
        actions.push(Action::DeleteMessage {
            location: location.clone(),
            message: message.clone(),
            reason: reason.clone(),
        });
    }
    if let Some(duration) = decision.timeout {
        actions.push(Action::TimeoutMember {
            platform: location.platform,
            community: location.community.clone(),
            user: subject.author.clone(),
            duration,
            reason: reason.clone(),
        });
    }
    actions.push(Action::PostToModLog {
        platform: location.platform,
        community: location.community.clone(),
        text: strings.case_opened(id, &new_case, prefix),
    });
    (id, actions)
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
