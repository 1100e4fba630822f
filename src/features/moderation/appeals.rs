//! Appeals: `appeal <n> <why>` by the member a case is about, and a moderator's answer
//! (`case <n> uphold|reverse`).
//!
//! Only the case's own member may appeal, and the refusal for anyone else is worded like the
//! one for a case that does not exist, so it reveals nothing. A reversal marks the case
//! reversed and lifts what the platform can lift (a timeout, a ban); a deleted message cannot
//! come back, and a kicked member may simply rejoin. The member hears the answer privately.

use std::time::SystemTime;

use super::cases::{failed, mod_log};
use super::log::CaseLog;
use crate::core::{Action, Automatic, CaseStatus};
use crate::features::Context;
use crate::store::{AppealFiled, AppealOutcome, Case, StoreError};

/// The longest appeal, in characters (moderators read it in their channel).
pub const MAX_APPEAL_CHARS: usize = 1000;

/// Handles `appeal <number> <text>` by anyone: files it if the context's community has case
/// `number` and it is about the invoker. Returns the (private) reply to the invoker and the
/// moderators' notice.
pub async fn appeal(
    store: &dyn CaseLog,
    ctx: &Context,
    number: i64,
    text: &str,
) -> (String, Vec<Action>) {
    match file(store, ctx, number, text.trim()).await {
        Ok(result) => result,
        Err(error) => (failed(&error, ctx.strings), Vec::new()),
    }
}

async fn file(
    store: &dyn CaseLog,
    ctx: &Context,
    number: i64,
    text: &str,
) -> Result<(String, Vec<Action>), StoreError> {
    let strings = ctx.strings;
    let (platform, community, member) =
        (ctx.location.platform, &ctx.location.community, &ctx.actor);
    if text.is_empty() {
        return Ok((strings.usage("appeal", ctx.prefix()), Vec::new()));
    }
    let chars = text.chars().count();
    if chars > MAX_APPEAL_CHARS {
        return Ok((strings.appeal_too_long(chars, MAX_APPEAL_CHARS), Vec::new()));
    }
    match store.case(platform, community, number).await? {
        Some(case) if &case.user == member && case.status == CaseStatus::Reversed => {
            return Ok((strings.case_already_reversed(number), Vec::new()));
        }
        // Someone else's case, or none: the same answer.
        Some(case) if &case.user != member => {
            tracing::info!(
                case = number,
                "an appeal of someone else's case was refused"
            );
            return Ok((strings.appeal_not_yours(number), Vec::new()));
        }
        _ => {}
    }
    let filed = store
        .file_appeal(platform, community, number, member, text, SystemTime::now())
        .await?;
    Ok(match filed {
        AppealFiled::Filed => {
            let notice = strings.appeal_log(number, member, text, ctx.prefix());
            (
                strings.appeal_filed(number),
                vec![mod_log(ctx, number, notice)],
            )
        }
        AppealFiled::NoSuchCase | AppealFiled::NotTheirs => {
            (strings.appeal_not_yours(number), Vec::new())
        }
        AppealFiled::AlreadyOpen => (strings.appeal_already_open(number), Vec::new()),
    })
}

/// Answers the open appeal of `case` (the router has checked the invoker is a moderator):
/// upheld, the decision stands; reversed, the case is marked reversed and a timeout or ban is
/// lifted. Returns the reply to the moderator and the actions.
pub(crate) async fn answer(
    store: &dyn CaseLog,
    ctx: &Context,
    case: &Case,
    outcome: AppealOutcome,
) -> Result<(String, Vec<Action>), StoreError> {
    let (strings, moderator) = (ctx.strings, &ctx.actor);
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    let number = case.number;
    let appeals = store.appeals(platform, community, number).await?;
    if !appeals.iter().any(|appeal| appeal.is_open()) {
        return Ok((strings.no_open_appeal(number, ctx.prefix()), Vec::new()));
    }
    let now = SystemTime::now();
    let lifted = match outcome {
        AppealOutcome::Upheld => (false, false),
        AppealOutcome::Reversed => {
            if case.status == CaseStatus::Reversed {
                return Ok((strings.case_already_reversed(number), Vec::new()));
            }
            // The status moves only from what this moderator saw: a decision taken meanwhile
            // is not silently undone.
            let reversed = store
                .change_case_status(
                    platform,
                    community,
                    number,
                    case.status,
                    CaseStatus::Reversed,
                    moderator,
                    now,
                )
                .await?;
            if !reversed {
                let changed = store.case(platform, community, number).await?;
                let shown = changed.as_ref().unwrap_or(case);
                return Ok((strings.case_already_decided(shown), Vec::new()));
            }
            lifts(case)
        }
    };
    let answered = store
        .answer_appeal(platform, community, number, outcome, moderator, now)
        .await?;
    if !answered {
        // Another moderator answered it a moment ago (the case status, if reversed, stands).
        return Ok((strings.no_open_appeal(number, ctx.prefix()), Vec::new()));
    }
    tracing::info!(
        case = number,
        outcome = outcome.as_str(),
        "an appeal was answered"
    );
    let location = &case.location;
    let reason = format!("case #{number} reversed on appeal by {moderator}");
    let decided_by = Some(moderator.clone());
    let mut actions = Vec::new();
    if lifted.0 {
        actions.push(Action::LiftTimeout {
            platform: location.platform,
            community: location.community.clone(),
            user: case.user.clone(),
            reason: reason.clone(),
            decided_by: decided_by.clone(),
        });
    }
    if lifted.1 {
        actions.push(Action::LiftBan {
            platform: location.platform,
            community: location.community.clone(),
            user: case.user.clone(),
            reason,
            decided_by,
        });
    }
    actions.push(Action::PrivateNotice {
        platform,
        user: case.user.clone(),
        text: strings.appeal_answer_to_member(number, outcome, lifted),
        attachment: None,
    });
    let log = strings.appeal_answered(number, outcome, Some(moderator), lifted);
    actions.push(mod_log(ctx, number, log));
    Ok((
        strings.appeal_answered(number, outcome, None, lifted),
        actions,
    ))
}

/// What reversing `case` lifts, as (timeout, ban): a timeout a moderator decided or Steward
/// applied automatically, and a ban.
fn lifts(case: &Case) -> (bool, bool) {
    let timed_out = case.status == CaseStatus::TimedOut
        || matches!(
            case.automatic,
            Automatic::TimedOut | Automatic::DeletedAndTimedOut
        );
    (timed_out, case.status == CaseStatus::Banned)
}

#[cfg(test)]
mod tests {
    //! Appeals against an in-memory case log.

    use std::sync::Arc;

    use super::*;
    use crate::core::{
        Capabilities, CaseDecision, ChannelId, CommunityId, Language, Location, Platform, Role,
        UserId,
    };
    use crate::features::moderation::cases::case;
    use crate::features::moderation::memory::{an_open_case, Memory};
    use crate::features::CommunitySettings;
    use crate::strings::Strings;

    fn by(name: &str, role: Role) -> Context {
        Context {
            location: Location {
                platform: Platform::Discord,
                community: CommunityId::new("g1"),
                channel: ChannelId::new("general"),
                thread: None,
            },
            actor: UserId::new(name),
            role,
            language: Language::English,
            strings: Strings::new(Language::English),
            settings: CommunitySettings::default(),
            capabilities: Arc::new(Capabilities {
                platform: Platform::Discord,
                ..Capabilities::console()
            }),
            recorded: true,
        }
    }

    /// Case #1 of g1, about mallory, timed out by a moderator.
    fn timed_out() -> Memory {
        let mut decided = an_open_case(1, "g1", "mallory");
        decided.status = CaseStatus::TimedOut;
        decided.decided_by = Some(UserId::new("ana"));
        Memory::with(vec![decided])
    }

    fn mod_log_texts(actions: &[Action]) -> Vec<(Option<i64>, &str)> {
        actions
            .iter()
            .filter_map(|action| match action {
                Action::PostToModLog { case, text, .. } => Some((*case, text.as_str())),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn the_cases_member_appeals_and_the_moderators_hear_of_it() {
        let log = timed_out();
        let mallory = by("mallory", Role::Member);
        let (reply, actions) = appeal(&log, &mallory, 1, "  I was quoting the spammer ").await;
        assert!(
            reply.starts_with("Your appeal of case #1 was sent"),
            "{reply}"
        );
        let posts = mod_log_texts(&actions);
        assert_eq!(posts.len(), 1, "{actions:?}");
        assert_eq!(posts[0].0, Some(1));
        assert!(
            posts[0]
                .1
                .starts_with("Case #1: mallory appeals:\n> I was quoting the spammer"),
            "{}",
            posts[0].1
        );
        // One open appeal per case.
        let (again, none) = appeal(&log, &mallory, 1, "please").await;
        assert!(again.starts_with("You already appealed case #1"), "{again}");
        assert!(none.is_empty());
        // The case shows the appeal.
        let (details, _) = case(&log, &by("ana", Role::Moderator), 1, None).await;
        assert!(
            details.contains("Appeal by mallory (open):\n> I was quoting the spammer"),
            "{details}"
        );
    }

    #[tokio::test]
    async fn someone_else_cannot_appeal_and_learns_nothing() {
        let log = timed_out();
        let (not_theirs, actions) = appeal(&log, &by("bob", Role::Member), 1, "unfair").await;
        assert!(actions.is_empty());
        let (missing, _) = appeal(&log, &by("bob", Role::Member), 99, "unfair").await;
        // The same words whether the case exists or not, and nothing of its content.
        assert_eq!(
            not_theirs.replace("#1", "#N"),
            missing.replace("#99", "#N"),
            "{not_theirs}"
        );
        assert!(!not_theirs.contains("free nitro") && !not_theirs.contains("mallory"));
        assert!(log.appeals.lock().unwrap().is_empty());
        let long = "x".repeat(MAX_APPEAL_CHARS + 1);
        let (too_long, _) = appeal(&log, &by("mallory", Role::Member), 1, &long).await;
        assert!(too_long.contains("at most 1000"), "{too_long}");
    }

    #[tokio::test]
    async fn reversing_a_timeout_lifts_it_and_marks_the_case_reversed() {
        let log = timed_out();
        let ana = by("ana", Role::Moderator);
        // No appeal yet: refused, nothing lifted.
        let (refused, none) = case(&log, &ana, 1, Some(CaseDecision::Reverse)).await;
        assert!(
            refused.starts_with("Case #1 has no open appeal"),
            "{refused}"
        );
        assert!(none.is_empty());

        appeal(&log, &by("mallory", Role::Member), 1, "it was a joke").await;
        let (reply, actions) = case(&log, &ana, 1, Some(CaseDecision::Reverse)).await;
        assert_eq!(
            reply,
            "Case #1: reversed on appeal. The timeout was lifted."
        );
        assert!(
            matches!(&actions[0], Action::LiftTimeout { user, decided_by: Some(who), .. }
                if user.as_str() == "mallory" && who.as_str() == "ana"),
            "{actions:?}"
        );
        assert!(
            matches!(&actions[1], Action::PrivateNotice { user, text, .. }
                if user.as_str() == "mallory" && text.contains("accepted your appeal of case #1")),
            "{actions:?}"
        );
        assert_eq!(
            mod_log_texts(&actions),
            [(
                Some(1),
                "Case #1: reversed on appeal, decided by ana. The timeout was lifted."
            )]
        );
        assert!(!actions.iter().any(|a| matches!(a, Action::LiftBan { .. })));
        assert_eq!(log.get("g1", 1).status, CaseStatus::Reversed);
        // Answered: a second answer is refused.
        let (again, none) = case(&log, &ana, 1, Some(CaseDecision::Uphold)).await;
        assert!(again.starts_with("Case #1 has no open appeal"), "{again}");
        assert!(none.is_empty());
    }

    #[tokio::test]
    async fn upholding_tells_the_member_and_lifts_nothing() {
        let mut banned = an_open_case(1, "g1", "mallory");
        banned.status = CaseStatus::Banned;
        let log = Memory::with(vec![banned]);
        appeal(&log, &by("mallory", Role::Member), 1, "sorry").await;
        let ana = by("ana", Role::Moderator);
        let (reply, actions) = case(&log, &ana, 1, Some(CaseDecision::Uphold)).await;
        assert_eq!(reply, "Case #1: appeal upheld, the decision stands.");
        assert!(
            !actions
                .iter()
                .any(|a| matches!(a, Action::LiftBan { .. } | Action::LiftTimeout { .. })),
            "{actions:?}"
        );
        assert!(
            actions
                .iter()
                .any(|a| matches!(a, Action::PrivateNotice { user, text, .. }
                if user.as_str() == "mallory" && text.contains("the decision stands"))),
            "{actions:?}"
        );
        assert_eq!(log.get("g1", 1).status, CaseStatus::Banned);
        let appeals = log.appeals.lock().unwrap();
        assert_eq!(appeals[0].1.outcome, Some(AppealOutcome::Upheld));
        assert_eq!(appeals[0].1.decided_by, Some(UserId::new("ana")));
    }

    /// Reversing a ban lifts it; an automatic timeout counts as a timeout.
    #[test]
    fn lifts_table() {
        let cases = [
            (CaseStatus::Banned, Automatic::Nothing, (false, true)),
            (CaseStatus::TimedOut, Automatic::Nothing, (true, false)),
            (CaseStatus::Open, Automatic::TimedOut, (true, false)),
            (
                CaseStatus::Banned,
                Automatic::DeletedAndTimedOut,
                (true, true),
            ),
            (CaseStatus::Deleted, Automatic::Deleted, (false, false)),
            (CaseStatus::Kicked, Automatic::Nothing, (false, false)),
        ];
        for (status, automatic, expected) in cases {
            let mut case = an_open_case(1, "g1", "mallory");
            case.status = status;
            case.automatic = automatic;
            assert_eq!(lifts(&case), expected, "{status:?} {automatic:?}");
        }
    }
}
