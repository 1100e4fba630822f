//! `cases` and `case <n> [decision]`: moderators list open cases, read one, and decide it.
//! A decision closes the case first (so two moderators deciding at once act only once) and
//! then turns into platform actions; every decision is announced in the moderators' log.

use std::time::{Duration, SystemTime};

use crate::core::{Action, Body, CaseDecision, Location, MessageId, Reply, UserId};
use crate::store::{Case, Store, StoreError};
use crate::strings::Strings;

/// How many open cases `cases` lists.
const LIST_LIMIT: u32 = 10;

/// Handles `cases`; the caller has checked the invoker is a moderator.
pub async fn list(
    store: &Store,
    strings: Strings,
    location: &Location,
    in_reply_to: Option<MessageId>,
) -> Vec<Action> {
    let text = match store
        .open_cases(location.platform, &location.community, LIST_LIMIT)
        .await
    {
        Ok(cases) => strings.open_cases(&cases),
        Err(error) => failed(&error, strings),
    };
    vec![private_reply(location, in_reply_to, text)]
}

/// Handles `case <id> [decision]`; the caller has checked the invoker is a moderator.
pub async fn case(
    store: &Store,
    strings: Strings,
    location: &Location,
    in_reply_to: Option<MessageId>,
    moderator: &UserId,
    id: i64,
    decision: Option<CaseDecision>,
) -> Vec<Action> {
    match run(store, strings, location, moderator, id, decision).await {
        Ok((text, mut actions)) => {
            actions.insert(0, private_reply(location, in_reply_to, text));
            actions
        }
        Err(error) => vec![private_reply(
            location,
            in_reply_to,
            failed(&error, strings),
        )],
    }
}

async fn run(
    store: &Store,
    strings: Strings,
    location: &Location,
    moderator: &UserId,
    id: i64,
    decision: Option<CaseDecision>,
) -> Result<(String, Vec<Action>), StoreError> {
    let (platform, community) = (location.platform, &location.community);
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
            decision.as_str(),
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
            .filter(|_| !case.automatic.starts_with("deleted"))
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

fn private_reply(location: &Location, in_reply_to: Option<MessageId>, text: String) -> Action {
    Action::Reply(Reply {
        location: location.clone(),
        in_reply_to,
        body: Body::Text(text),
        only_invoker: true,
    })
}
