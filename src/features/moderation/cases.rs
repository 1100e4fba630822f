//! `cases` and `case <n> [decision]`: moderators list open cases, read one, and decide it.
//! A decision closes the case first (so two moderators deciding at once act only once) and
//! then turns into platform actions; every decision is announced in the moderators' log.

use std::time::{Duration, SystemTime};

use super::log::CaseLog;
use crate::core::{Action, CaseDecision, UserId};
use crate::features::Context;
use crate::store::{Case, StoreError};
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

/// Handles `case <id> [decision]`; the router has checked the invoker is a moderator.
/// Returns the reply to the moderator and the actions the decision asks for.
pub async fn case(
    store: &dyn CaseLog,
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
    store: &dyn CaseLog,
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

#[cfg(test)]
mod tests {
    //! The case commands against an in-memory case log (no database).

    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use async_trait::async_trait;

    use super::*;
    use crate::core::{
        Automatic, Capabilities, CaseCategory, CaseSource, CaseStatus, ChannelId, CommunityId,
        Language, Location, MessageId, Platform, Role,
    };
    use crate::features::CommunitySettings;
    use crate::store::{CaseReview, NewCase, StoredMessage};

    /// Cases in memory; `close_case` behaves like the store's (the first decision wins).
    #[derive(Default)]
    struct Memory {
        cases: Mutex<Vec<Case>>,
    }

    #[async_trait]
    impl CaseLog for Memory {
        async fn message(
            &self,
            _: Platform,
            _: &MessageId,
        ) -> Result<Option<StoredMessage>, StoreError> {
            Ok(None)
        }
        async fn open_case(&self, _: &NewCase, _: SystemTime) -> Result<i64, StoreError> {
            unreachable!("the case commands never open cases")
        }
        async fn case(
            &self,
            _: Platform,
            community: &CommunityId,
            id: i64,
        ) -> Result<Option<Case>, StoreError> {
            let cases = self.cases.lock().unwrap();
            Ok(cases
                .iter()
                .find(|c| c.id == id && &c.location.community == community)
                .cloned())
        }
        async fn open_case_for_message(
            &self,
            _: Platform,
            _: &CommunityId,
            _: &MessageId,
        ) -> Result<Option<Case>, StoreError> {
            Ok(None)
        }
        async fn open_cases(
            &self,
            _: Platform,
            _: &CommunityId,
            _: u32,
        ) -> Result<Vec<Case>, StoreError> {
            Ok(self
                .cases
                .lock()
                .unwrap()
                .iter()
                .filter(|c| c.is_open())
                .cloned()
                .collect())
        }
        async fn close_case(
            &self,
            _: Platform,
            community: &CommunityId,
            id: i64,
            status: CaseStatus,
            decided_by: &UserId,
            at: SystemTime,
        ) -> Result<bool, StoreError> {
            let mut cases = self.cases.lock().unwrap();
            let Some(case) = cases
                .iter_mut()
                .find(|c| c.id == id && &c.location.community == community && c.is_open())
            else {
                return Ok(false);
            };
            case.status = status;
            case.decided_by = Some(decided_by.clone());
            case.decided_at = Some(at);
            Ok(true)
        }
        async fn record_case_review(
            &self,
            _: Platform,
            _: &CommunityId,
            _: i64,
            _: &CaseReview,
            _: SystemTime,
        ) -> Result<bool, StoreError> {
            Ok(false)
        }
    }

    fn place(community: &str) -> Location {
        Location {
            platform: Platform::Discord,
            community: CommunityId::new(community),
            channel: ChannelId::new("general"),
            thread: None,
        }
    }

    fn open(id: i64, community: &str) -> Case {
        Case {
            id,
            location: place(community),
            message: Some(MessageId::new("m1")),
            user: UserId::new("mallory"),
            excerpt: "free nitro".into(),
            source: CaseSource::Report,
            category: CaseCategory::Reported,
            reason: "reported by bob".into(),
            automatic: Automatic::Nothing,
            status: CaseStatus::Open,
            created_at: SystemTime::UNIX_EPOCH,
            decided_by: None,
            decided_at: None,
            reviewed_at: None,
            review_severity: None,
        }
    }

    fn moderator(name: &str, longest_timeout: Option<Duration>) -> Context {
        Context {
            location: place("g1"),
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
        }
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
                2,
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
                2,
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
                2,
                CaseStatus::TimedOut,
            ),
        ];
        for (decision, limit, reply, actions, status) in cases {
            let log = Memory::default();
            log.cases.lock().unwrap().push(open(1, "g1"));
            let (text, done) = case(&log, &moderator("mod", limit), 1, Some(decision)).await;
            assert!(text.starts_with(reply), "{decision:?}: {text}");
            assert_eq!(done.len(), actions, "{decision:?}: {done:?}");
            let stored = log.cases.lock().unwrap()[0].clone();
            assert_eq!(stored.status, status, "{decision:?}");
        }
    }

    #[tokio::test]
    async fn the_second_decision_is_told_the_first_and_other_communities_see_nothing() {
        let log = Memory::default();
        log.cases.lock().unwrap().push(open(1, "g1"));
        log.cases.lock().unwrap().push(open(2, "g2"));
        let (_, first) = case(&log, &moderator("ana", None), 1, Some(CaseDecision::Ban)).await;
        assert_eq!(first.len(), 2);
        let (text, second) = case(
            &log,
            &moderator("bob", None),
            1,
            Some(CaseDecision::Dismiss),
        )
        .await;
        assert!(second.is_empty(), "{second:?}");
        assert_eq!(text, "Case #1 was already decided: member banned by ana.");
        // Case 2 belongs to another community: invisible from g1.
        let (text, none) = case(&log, &moderator("ana", None), 2, Some(CaseDecision::Ban)).await;
        assert!(none.is_empty());
        assert_eq!(text, "There is no case #2 in this community.");
    }
}
