//! `cases` and `case <n> [decision]`: moderators list open cases, read one (with its appeals),
//! and decide it. Case numbers count per community. A decision closes the case first (so two
//! moderators deciding at once act only once) and then turns into platform actions, each
//! carrying the moderator who decided it; the member it acts on is told privately how to
//! appeal, and every decision is announced in the community's moderators' log. `uphold` and
//! `reverse` answer an appeal (see [`super::appeals`]).

use std::time::{Duration, SystemTime};

use super::appeals;
use super::log::CaseLog;
use crate::core::{Action, CaseDecision, CaseStatus, UserId};
use crate::features::Context;
use crate::store::{AppealOutcome, Case, StoreError};
use crate::strings::Strings;

/// How many open cases `cases` lists.
const LIST_LIMIT: u32 = 10;

/// Handles `cases`; the router has checked the invoker is a moderator.
pub async fn list(store: &dyn CaseLog, ctx: &Context) -> String {
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    match store.open_cases(platform, community, LIST_LIMIT).await {
        Ok(cases) => ctx.strings.open_cases(&cases),
        Err(error) => failed(&error, ctx.strings),
    }
}

/// Handles `case <number> [decision]`; the router has checked the invoker is a moderator.
/// `number` is the case's number in the context's community. Returns the reply to the
/// moderator and the actions the decision asks for.
pub async fn case(
    store: &dyn CaseLog,
    ctx: &Context,
    number: i64,
    decision: Option<CaseDecision>,
) -> (String, Vec<Action>) {
    if let (Some(CaseDecision::Timeout { minutes }), Some(limit)) =
        (decision, ctx.capabilities.longest_timeout_minutes())
    {
        if minutes > limit {
            return (ctx.strings.timeout_too_long(minutes, limit), Vec::new());
        }
    }
    match run(store, ctx, number, decision).await {
        Ok(result) => result,
        Err(error) => (failed(&error, ctx.strings), Vec::new()),
    }
}

async fn run(
    store: &dyn CaseLog,
    ctx: &Context,
    number: i64,
    decision: Option<CaseDecision>,
) -> Result<(String, Vec<Action>), StoreError> {
    let (strings, moderator) = (ctx.strings, &ctx.actor);
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    let Some(case) = store.case(platform, community, number).await? else {
        return Ok((strings.no_such_case(number), Vec::new()));
    };
    let Some(decision) = decision else {
        let appeals = store.appeals(platform, community, number).await?;
        let details = strings.case_details(&case, &appeals, &ctx.settings.rules());
        return Ok((details, Vec::new()));
    };
    let outcome = match decision {
        CaseDecision::Uphold => Some(AppealOutcome::Upheld),
        CaseDecision::Reverse => Some(AppealOutcome::Reversed),
        _ => None,
    };
    if let Some(outcome) = outcome {
        return appeals::answer(store, ctx, &case, outcome).await;
    }
    let Some(status) = decision.status() else {
        // Only answers to appeals keep the status, and they were handled above.
        return Ok((strings.no_open_appeal(number, ctx.prefix()), Vec::new()));
    };
    if !case.is_open() {
        return Ok((strings.case_already_decided(&case), Vec::new()));
    }
    let closed = store
        .change_case_status(
            platform,
            community,
            number,
            CaseStatus::Open,
            status,
            moderator,
            SystemTime::now(),
        )
        .await?;
    if !closed {
        // Another moderator decided it a moment ago.
        let case = store
            .case(platform, community, number)
            .await?
            .unwrap_or(case);
        return Ok((strings.case_already_decided(&case), Vec::new()));
    }
    let mut actions = decision_actions(&case, decision, moderator);
    if !actions.is_empty() {
        // The member hears what was done and how to appeal.
        actions.push(Action::PrivateNotice {
            platform,
            user: case.user.clone(),
            text: strings.member_notice_decision(number, decision, ctx.prefix()),
            attachment: None,
        });
    }
    let log = strings.case_decided_log(number, decision, moderator);
    actions.push(mod_log(ctx, number, log));
    Ok((strings.case_decided(number, decision), actions))
}

/// A post about case `number` to the community's moderators' log: the channel its moderators
/// chose, else the adapter's own (only if it belongs to this community).
pub(crate) fn mod_log(ctx: &Context, number: i64, text: String) -> Action {
    Action::PostToModLog {
        platform: ctx.location.platform,
        community: ctx.location.community.clone(),
        channel: ctx.settings.mod_log(),
        case: Some(number),
        text,
    }
}

/// The platform actions a moderator's decision asks for, each naming the moderator whose
/// decision it is (adapters check that this person may do it there).
fn decision_actions(case: &Case, decision: CaseDecision, moderator: &UserId) -> Vec<Action> {
    let reason = format!(
        "case #{} ({}), decided by {moderator}",
        case.number, case.category
    );
    let location = &case.location;
    let decided_by = Some(moderator.clone());
    match decision {
        CaseDecision::Dismiss
        | CaseDecision::Resolve
        | CaseDecision::Uphold
        | CaseDecision::Reverse => Vec::new(),
        CaseDecision::Delete => case
            .message
            .clone()
            .filter(|_| !case.automatic.deleted())
            .map(|message| Action::DeleteMessage {
                location: location.clone(),
                message,
                reason,
                decided_by,
            })
            .into_iter()
            .collect(),
        CaseDecision::Timeout { minutes } => vec![Action::TimeoutMember {
            platform: location.platform,
            community: location.community.clone(),
            user: case.user.clone(),
            duration: Duration::from_secs(u64::from(minutes) * 60),
            reason,
            decided_by,
        }],
        CaseDecision::Kick | CaseDecision::Ban => vec![Action::RemoveMember {
            platform: location.platform,
            community: location.community.clone(),
            user: case.user.clone(),
            ban: decision == CaseDecision::Ban,
            reason,
            decided_by,
        }],
    }
}

pub(crate) fn failed(error: &StoreError, strings: Strings) -> String {
    tracing::error!(label = error.label(), %error, "a case command failed");
    strings.failed().to_string()
}

#[cfg(test)]
mod tests {
    //! The case commands against an in-memory case log (no database).

    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::core::settings::MOD_LOG;
    use crate::core::{Capabilities, ChannelId, CommunityId, Language, Location, Platform, Role};
    use crate::features::moderation::memory::{an_open_case, Memory};
    use crate::features::CommunitySettings;

    fn moderator_in(community: &str, name: &str, longest_timeout: Option<Duration>) -> Context {
        Context {
            location: Location {
                platform: Platform::Discord,
                community: CommunityId::new(community),
                channel: ChannelId::new("mods"),
                thread: None,
            },
            actor: UserId::new(name),
            role: Role::Moderator,
            language: Language::English,
            strings: Strings::new(Language::English),
            settings: CommunitySettings::default(),
            capabilities: Arc::new(Capabilities {
                platform: Platform::Discord,
                longest_timeout,
                ..Capabilities::console()
            }),
            recorded: true,
        }
    }

    fn moderator(name: &str, longest_timeout: Option<Duration>) -> Context {
        moderator_in("g1", name, longest_timeout)
    }

    #[tokio::test]
    async fn decisions_table() {
        let day = Some(Duration::from_secs(24 * 3600));
        // (decision, the platform's longest timeout, reply starts with, actions, closed as)
        let cases: Vec<(CaseDecision, Option<Duration>, &str, usize, CaseStatus)> = vec![
            (
                CaseDecision::Ban,
                day,
                "Case #1 closed: member banned.",
                3,
                CaseStatus::Banned,
            ),
            (
                CaseDecision::Dismiss,
                day,
                "Case #1 closed: dismissed.",
                1,
                CaseStatus::Dismissed,
            ),
            (
                CaseDecision::Timeout { minutes: 60 },
                day,
                "Case #1 closed: member timed out for 60 min.",
                3,
                CaseStatus::TimedOut,
            ),
            // Longer than the platform allows: refused, the case stays open.
            (
                CaseDecision::Timeout {
                    minutes: 24 * 60 + 1,
                },
                day,
                "A timeout of 1441 minutes is longer than this platform allows (1440 minutes).",
                0,
                CaseStatus::Open,
            ),
            // No limit where the platform has none (Matrix removes the member instead).
            (
                CaseDecision::Timeout { minutes: 99_999 },
                None,
                "Case #1 closed: member timed out",
                3,
                CaseStatus::TimedOut,
            ),
            // Answering an appeal needs an appeal: refused, the case stays open.
            (
                CaseDecision::Reverse,
                day,
                "Case #1 has no open appeal to uphold or reverse.",
                0,
                CaseStatus::Open,
            ),
        ];
        for (decision, limit, reply, actions, status) in cases {
            let log = Memory::with(vec![an_open_case(1, "g1", "mallory")]);
            let (text, done) = case(&log, &moderator("mod", limit), 1, Some(decision)).await;
            assert!(text.starts_with(reply), "{decision:?}: {text}");
            assert_eq!(done.len(), actions, "{decision:?}: {done:?}");
            assert_eq!(log.get("g1", 1).status, status, "{decision:?}");
        }
    }

    /// Every action of a moderator's decision names the moderator; the member is told how to
    /// appeal; the moderators' post names the case by its number in the community.
    #[tokio::test]
    async fn a_decision_is_logged_with_who_took_it() {
        let log = Memory::with(vec![an_open_case(4, "g1", "mallory")]);
        let (_, actions) = case(&log, &moderator("ana", None), 4, Some(CaseDecision::Ban)).await;
        let ana = Some(UserId::new("ana"));
        assert!(
            matches!(&actions[0], Action::RemoveMember { ban: true, decided_by, reason, .. }
                if decided_by == &ana && reason.contains("case #4")),
            "{actions:?}"
        );
        assert!(
            matches!(&actions[1], Action::PrivateNotice { user, text, .. }
                if user.as_str() == "mallory" && text.contains("`/appeal 4 <why>`")),
            "{actions:?}"
        );
        assert!(
            matches!(&actions[2], Action::PostToModLog { case: Some(4), text, .. }
                if text == "Case #4: member banned, decided by ana."),
            "{actions:?}"
        );
    }

    #[tokio::test]
    async fn the_second_decision_is_told_the_first_and_other_communities_see_nothing() {
        // Both communities have a case #1.
        let log = Memory::with(vec![
            an_open_case(1, "g1", "mallory"),
            an_open_case(1, "g2", "eve"),
            an_open_case(2, "g2", "eve"),
        ]);
        let (_, first) = case(&log, &moderator("ana", None), 1, Some(CaseDecision::Ban)).await;
        assert_eq!(first.len(), 3);
        let (text, second) = case(
            &log,
            &moderator("bob", None),
            1,
            Some(CaseDecision::Dismiss),
        )
        .await;
        assert!(second.is_empty(), "{second:?}");
        assert_eq!(text, "Case #1 was already decided: member banned by ana.");
        // g2's case #1 is untouched, and its case #2 is invisible from g1.
        assert!(log.get("g2", 1).is_open());
        let (text, none) = case(&log, &moderator("ana", None), 2, Some(CaseDecision::Ban)).await;
        assert!(none.is_empty());
        assert_eq!(text, "There is no case #2 in this community.");
    }

    /// Hole 8: a community's decisions go to its own moderators' channel, never another's.
    #[tokio::test]
    async fn hole_8_decisions_go_to_the_communitys_own_mod_log() {
        let log = Memory::with(vec![
            an_open_case(1, "g1", "mallory"),
            an_open_case(1, "g2", "eve"),
        ]);
        let mut in_g1 = moderator_in("g1", "ana", None);
        in_g1.settings = CommunitySettings::new(vec![(MOD_LOG.into(), "g1-mods".into())]);
        let in_g2 = moderator_in("g2", "bob", None);
        let posted_to = |actions: &[Action]| {
            actions.iter().find_map(|action| match action {
                Action::PostToModLog {
                    channel, community, ..
                } => Some((community.to_string(), channel.clone())),
                _ => None,
            })
        };
        let (_, actions) = case(&log, &in_g1, 1, Some(CaseDecision::Dismiss)).await;
        assert_eq!(
            posted_to(&actions),
            Some(("g1".to_string(), Some(ChannelId::new("g1-mods"))))
        );
        let (_, actions) = case(&log, &in_g2, 1, Some(CaseDecision::Dismiss)).await;
        assert_eq!(posted_to(&actions), Some(("g2".to_string(), None)));
    }
}
