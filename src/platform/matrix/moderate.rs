//! Acting on messages and members: redactions, timeouts (Matrix has none: a kick, which lets
//! the member rejoin), kicks, bans, and undoing them on appeal (unban; a lifted timeout invites
//! the member back where Steward removed them).
//!
//! Every room an action touches is checked first (`authority`): the moderator whose decision it
//! is needs the room's power for it *there*, Steward too, and the member must rank below both
//! (hole 1: a moderator of one room banned members of a whole space). A room that fails is
//! skipped and logged with the check that failed; the moderator is told in a short notice (the
//! community's moderators' room, else a direct chat).

use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::{OwnedUserId, UserId};
use matrix_sdk::Room;

use super::authority::{check_room, Act, Refusal};
use super::{format, private, send, spaces, Adapter};
use crate::core::{CommunityId, Location, MessageId, UserId as CoreUserId};

/// Removes `user` from `room`; they may rejoin.
pub async fn kick(room: &Room, user: &UserId, reason: &str) -> Result<(), matrix_sdk::Error> {
    room.kick_user(user, Some(reason)).await
}

/// Bans `user` from `room`.
pub async fn ban(room: &Room, user: &UserId, reason: &str) -> Result<(), matrix_sdk::Error> {
    room.ban_user(user, Some(reason)).await
}

/// What a member action does in each room of the community.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemberAction {
    /// A timeout: Matrix has none, so the member is kicked (they may come back).
    Timeout,
    Kick,
    Ban,
    /// Lift a ban.
    Unban,
    /// Lift a timeout: invite the member back where Steward kicked them.
    InviteBack,
}

impl MemberAction {
    fn act(self) -> Act {
        match self {
            MemberAction::Timeout | MemberAction::Kick => Act::Kick,
            MemberAction::Ban => Act::Ban,
            MemberAction::Unban => Act::Unban,
            MemberAction::InviteBack => Act::Invite,
        }
    }

    fn label(self) -> &'static str {
        match self {
            MemberAction::Timeout => "timeout",
            MemberAction::Kick => "kick",
            MemberAction::Ban => "ban",
            MemberAction::Unban => "unban",
            MemberAction::InviteBack => "lift_timeout",
        }
    }
}

/// Redacts `message` in the location's room, if the moderator (or, for Steward's own policy,
/// Steward) may: the message's sender must rank below both.
pub(crate) async fn redact(
    adapter: &Adapter,
    location: &Location,
    message: &MessageId,
    reason: &str,
    decided_by: Option<&CoreUserId>,
) -> Result<(), matrix_sdk::Error> {
    let (Some(room), Some(id)) = (send::room_of(adapter, location), send::event_id(message)) else {
        return Ok(());
    };
    let actor = match parse_actor(decided_by) {
        Ok(actor) => actor,
        Err(refusal) => {
            tracing::warn!(room = %room.room_id(), action = "redact", label = refusal.label(), %refusal, "not acting");
            return Ok(());
        }
    };
    let sender = match room.load_or_fetch_event(&id, None).await {
        Ok(event) => event.sender(),
        Err(error) => {
            tracing::warn!(room = %room.room_id(), event = %id, %error, "cannot read the message to redact; not redacting");
            return Ok(());
        }
    };
    let Some(sender) = sender else {
        tracing::warn!(room = %room.room_id(), event = %id, "the message to redact has no sender; not redacting");
        return Ok(());
    };
    // Steward's own messages need no authority over anyone.
    if sender != adapter.bot_id {
        if let Err(refusal) = check_room(
            &room,
            &adapter.bot_id,
            Act::Redact,
            actor.as_deref(),
            Some(&*sender),
        )
        .await
        {
            tracing::warn!(room = %room.room_id(), action = "redact", label = refusal.label(), %refusal, "not acting in this room");
            if let Some(actor) = &actor {
                let refused = vec![(room.room_id().to_string(), refusal)];
                tell_moderator(
                    adapter,
                    location.community.as_str(),
                    actor,
                    "delete the message",
                    &refused,
                )
                .await;
            }
            return Ok(());
        }
    }
    room.redact(&id, Some(reason), None).await?;
    Ok(())
}

/// Does `action` to `user` in every joined room of `community` where the checks pass.
pub(crate) async fn member_action(
    adapter: &Adapter,
    action: MemberAction,
    community: &CommunityId,
    user: &CoreUserId,
    reason: &str,
    decided_by: Option<&CoreUserId>,
) -> Result<(), matrix_sdk::Error> {
    let Ok(user) = UserId::parse(user.as_str()) else {
        tracing::warn!(action = action.label(), user = %user, "not a Matrix user id; nothing done");
        return Ok(());
    };
    let actor = match parse_actor(decided_by) {
        Ok(actor) => actor,
        Err(refusal) => {
            tracing::warn!(action = action.label(), label = refusal.label(), %refusal, "not acting");
            return Ok(());
        }
    };
    let mut refused: Vec<(String, Refusal)> = Vec::new();
    let mut done = 0usize;
    for room in spaces::community_rooms(adapter, community.as_str()).await {
        if !applies(adapter, &room, action, &user).await {
            continue;
        }
        // Inviting back needs no rank over the member: nothing is done *to* them.
        let target = (action != MemberAction::InviteBack).then_some(&*user);
        if let Err(refusal) = check_room(
            &room,
            &adapter.bot_id,
            action.act(),
            actor.as_deref(),
            target,
        )
        .await
        {
            tracing::warn!(room = %room.room_id(), action = action.label(), label = refusal.label(), %refusal, "not acting in this room");
            refused.push((room.room_id().to_string(), refusal));
            continue;
        }
        // One room failing (a race with another moderator, a server hiccup) does not stop the
        // others.
        match perform(&room, action, &user, reason).await {
            Ok(()) => done += 1,
            Err(error) => {
                tracing::warn!(room = %room.room_id(), action = action.label(), %error, "matrix action failed in this room");
            }
        }
    }
    tracing::info!(community = %community, action = action.label(), rooms = done, refused = refused.len(), "member action done");
    if let (Some(actor), false) = (&actor, refused.is_empty()) {
        tell_moderator(
            adapter,
            community.as_str(),
            actor,
            describe(action),
            &refused,
        )
        .await;
    }
    Ok(())
}

/// Whether `action` has anything to do in `room`: kicks where the member is in the room (or
/// invited, or knocking), unbans where they are banned, invitations where Steward removed
/// them; bans everywhere, so they cannot join another room of the community.
async fn applies(adapter: &Adapter, room: &Room, action: MemberAction, user: &UserId) -> bool {
    let member = match room.get_member_no_sync(user).await {
        Ok(member) => member,
        Err(error) => {
            tracing::debug!(room = %room.room_id(), %error, "cannot read a membership");
            None
        }
    };
    let membership = member.as_ref().map(|member| member.membership().clone());
    match action {
        MemberAction::Ban => membership != Some(MembershipState::Ban),
        MemberAction::Timeout | MemberAction::Kick => matches!(
            membership,
            Some(MembershipState::Join | MembershipState::Invite | MembershipState::Knock)
        ),
        MemberAction::Unban => membership == Some(MembershipState::Ban),
        MemberAction::InviteBack => {
            membership == Some(MembershipState::Leave)
                && member.is_some_and(|member| member.event().sender() == &*adapter.bot_id)
        }
    }
}

async fn perform(
    room: &Room,
    action: MemberAction,
    user: &UserId,
    reason: &str,
) -> Result<(), matrix_sdk::Error> {
    match action {
        MemberAction::Timeout | MemberAction::Kick => kick(room, user, reason).await,
        MemberAction::Ban => ban(room, user, reason).await,
        MemberAction::Unban => room.unban_user(user, Some(reason)).await,
        MemberAction::InviteBack => room.invite_user_by_id(user).await,
    }
}

/// The moderator as a Matrix user id; a decision by someone who is not one is refused.
fn parse_actor(decided_by: Option<&CoreUserId>) -> Result<Option<OwnedUserId>, Refusal> {
    decided_by
        .map(|user| UserId::parse(user.as_str()).map_err(|_| Refusal::BadUserId(user.to_string())))
        .transpose()
}

fn describe(action: MemberAction) -> &'static str {
    match action {
        MemberAction::Timeout => "time the member out",
        MemberAction::Kick => "kick the member",
        MemberAction::Ban => "ban the member",
        MemberAction::Unban => "lift the ban",
        MemberAction::InviteBack => "invite the member back",
    }
}

/// Tells the moderator where their decision was not carried out, and why: in the community's
/// moderators' room if it has one, else in a direct chat.
async fn tell_moderator(
    adapter: &Adapter,
    community: &str,
    moderator: &UserId,
    what: &str,
    refused: &[(String, Refusal)],
) {
    let text = refusal_notice(moderator.as_str(), what, refused);
    let room = match private::moderators_room(adapter, community).await {
        Some(room) => Ok(room),
        None => private::direct_chat(adapter, moderator).await,
    };
    let result = match room {
        Ok(room) => room
            .send(format::message(&text, true, None).with_relation(None))
            .await
            .map(|_| ()),
        Err(error) => Err(error),
    };
    if let Err(error) = result {
        tracing::warn!(%error, "cannot tell the moderator about rooms where nothing was done");
    }
}

/// The notice's text: which rooms, and the check each failed.
pub fn refusal_notice(moderator: &str, what: &str, refused: &[(String, Refusal)]) -> String {
    let mut text = format!(
        "Not done for {moderator}: could not {what} in {} room(s):",
        refused.len()
    );
    for (room, refusal) in refused {
        text.push_str(&format!("\n- {room}: {refusal}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::matrix::authority::Power;

    #[test]
    fn the_notice_names_each_room_and_check() {
        let refused = vec![
            (
                "!b:example.org".to_string(),
                Refusal::ActorTooLow {
                    act: "ban",
                    actor: Power::Level(0),
                    required: 50,
                },
            ),
            (
                "!c:example.org".to_string(),
                Refusal::TargetNotBelowActor {
                    target: Power::Level(50),
                    actor: Power::Level(50),
                },
            ),
        ];
        let text = refusal_notice("@carl:example.org", "ban the member", &refused);
        assert_eq!(
            text,
            "Not done for @carl:example.org: could not ban the member in 2 room(s):\n\
             - !b:example.org: the moderator's power level (0) is below the 50 this room requires to ban\n\
             - !c:example.org: the member's power level (50) is not below the moderator's (50)"
        );
    }

    #[test]
    fn actions_check_the_matching_power() {
        assert_eq!(MemberAction::Timeout.act(), Act::Kick);
        assert_eq!(MemberAction::Ban.act(), Act::Ban);
        assert_eq!(MemberAction::Unban.act(), Act::Unban);
        assert_eq!(MemberAction::InviteBack.act(), Act::Invite);
        assert_eq!(
            parse_actor(Some(&CoreUserId::new("not a user"))).map_err(|e| e.label()),
            Err("bad_user_id")
        );
        assert_eq!(parse_actor(None), Ok(None));
    }
}
