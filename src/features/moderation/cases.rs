//! `cases` and `case <n> [decision]`: moderators list open cases, read one, and decide it.
//! A decision closes the case first (so two moderators deciding at once act only once) and
//! then turns into platform actions; every decision is announced in the moderators' log.

use std::time::{Duration, SystemTime};

use crate::core::{Action, CaseDecision, UserId};
use crate::features::Context;
use crate::store::{Case, Store, StoreError};
use crate::strings::Strings;

/// How many open cases `cases` lists.
const LIST_LIMIT: u32 = 10;

/// Handles `cases`; the router has checked the invoker is a moderator.
pub async fn list(store: &Store, ctx: &Context) -> String {
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    match store.open_cases(platform, community, LIST_LIMIT).await {
        Ok(cases) => ctx.strings.open_cases(&cases),
        Err(error) => failed(&error, ctx.strings),
    }
}

/// Handles `case <id> [decision]`; the router has checked the invoker is a moderator.
/// Returns the reply to the moderator and the actions the decision asks for.
pub async fn case(
    store: &Store,
    ctx: &Context,
    id: i64,
    decision: Option<CaseDecision>,
) -> (String, Vec<Action>) {
    if let (Some(CaseDecision::Timeout { minutes }), Some(limit)) =
        (decision, ctx.capabilities.longest_timeout_minutes())
    {
        if minutes > limit {
            return (ctx.strings.timeout_too_long(minutes, limit), Vec::new());
        }
    }
    match run(store, ctx, id, decision).await {
        Ok(result) => result,
        Err(error) => (failed(&error, ctx.strings), Vec::new()),
    }
}

async fn run(
    store: &Store,
    ctx: &Context,
    id: i64,
    decision: Option<CaseDecision>,
) -> Result<(String, Vec<Action>), StoreError> {
    let (strings, moderator) = (ctx.strings, &ctx.actor);
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    let Some(case) = store.case(platform, community, id).await? else {
        return Ok((strings.no_such_case(id), Vec::new()));
    };
    let Some(decision) = decision else {
        return Ok((strings.case_details(&case), Vec::new()));
    };
    if !case.is_open() {
        return Ok((strings.case_already_decided(&case), Vec::new()));
    }
    let closed = store
        .close_case(
            platform,
            community,
            id,
            decision.status(),
            moderator,
            SystemTime::now(),
        )
        .await?;
    if !closed {
        // Another moderator decided it a moment ago.
        let case = store.case(platform, community, id).await?.unwrap_or(case);
        return Ok((strings.case_already_decided(&case), Vec::new()));
    }
    let mut actions = decision_actions(&case, decision, moderator);
    actions.push(Action::PostToModLog {
        platform,
        community: community.clone(),
        text: strings.case_decided_log(id, decision, moderator),
    });
    Ok((strings.case_decided(id, decision), actions))
}

/// The platform actions a moderator's decision asks for.
fn decision_actions(case: &Case, decision: CaseDecision, moderator: &UserId) -> Vec<Action> {
    let reason = format!(
        "case #{} ({}), decided by {moderator}",
        case.id, case.category
    );
    let location = &case.location;
    match decision {
        CaseDecision::Dismiss | CaseDecision::Resolve => Vec::new(),
        CaseDecision::Delete => case
            .message
            .clone()
            .filter(|_| !case.automatic.deleted())
            .map(|message| Action::DeleteMessage {
                location: location.clone(),
                message,
                reason,
            })
            .into_iter()
            .collect(),
        CaseDecision::Timeout { minutes } => vec![Action::TimeoutMember {
            platform: location.platform,
            community: location.community.clone(),
            user: case.user.clone(),
            duration: Duration::from_secs(u64::from(minutes) * 60),
            reason,
        }],
        CaseDecision::Kick | CaseDecision::Ban => vec![Action::RemoveMember {
            platform: location.platform,
            community: location.community.clone(),
            user: case.user.clone(),
            ban: decision == CaseDecision::Ban,
            reason,
        }],
    }
}

fn failed(error: &StoreError, strings: Strings) -> String {
    tracing::error!(label = error.label(), %error, "a case command failed");
    strings.failed().to_string()
}
