//! Room lifecycle: invites (accepted only from the allowlist), being kicked or banned, members
//! joining, what conversion needs to know about a room (its community comes from `spaces`),
//! members' roles, and which events are history from before the bot joined.

use std::time::Duration;

use matrix_sdk::ruma::events::room::member::{MembershipState, OriginalSyncRoomMemberEvent};
use matrix_sdk::ruma::{MilliSecondsSinceUnixEpoch, OwnedUserId, UserId};
use matrix_sdk::Room;

use super::conversion::RoomContext;
use super::handlers::dispatch;
use super::rules::{invite_allowed, role_for_power_level, BotIdentity};
use super::spaces::community_of;
use super::Adapter;
use crate::core::{Author, CommunityId, Event, EventKind, Platform, Role};

/// What conversion needs to know about `room`.
pub(crate) async fn room_context(adapter: &Adapter, room: &Room) -> RoomContext {
    let display_name = match room.get_member_no_sync(&adapter.bot_id).await {
        Ok(Some(member)) => member.name().to_string(),
        _ => adapter.bot_id.localpart().to_string(),
    };
    RoomContext {
        room_id: room.room_id().to_string(),
        community: community_of(adapter, room).await.id,
        bot: BotIdentity {
            user_id: adapter.bot_id.to_string(),
            display_name,
            core_name: adapter.router.settings().bot_name.clone(),
        },
        command_prefix: adapter.settings.command_prefix.clone(),
    }
}

/// The member's role from the room's power levels. Unreadable power levels make nobody a
/// moderator: fail closed.
pub(crate) async fn role_of(adapter: &Adapter, room: &Room, user: &UserId) -> Role {
    use matrix_sdk::ruma::events::room::power_levels::UserPowerLevel;
    let level = match room.get_user_power_level(user).await {
        Ok(UserPowerLevel::Int(level)) => Some(i64::from(level)),
        Ok(_) => None, // "infinite": a room creator from room version 12 on.
        Err(error) => {
            tracing::warn!(room = %room.room_id(), %error, "cannot read power levels");
            Some(0)
        }
    };
    role_for_power_level(level, adapter.settings.moderator_power_level)
}

/// True for events older than the bot's membership in the room: the history a homeserver sends
/// along with a join must not be answered.
pub(crate) async fn is_backlog(
    adapter: &Adapter,
    room: &Room,
    at: MilliSecondsSinceUnixEpoch,
) -> bool {
    match room.get_member_no_sync(&adapter.bot_id).await {
        Ok(Some(member)) => member
            .event()
            .origin_server_ts()
            .is_some_and(|joined| at < joined),
        _ => false,
    }
}

/// Joins when the inviter is on the allowlist, else declines (leaves) and says why.
pub(crate) async fn on_invite(adapter: &Adapter, room: Room, inviter: OwnedUserId) {
    let room_id = room.room_id().to_owned();
    if !invite_allowed(inviter.as_str(), &adapter.settings.invite_allowlist) {
        tracing::warn!(room = %room_id, %inviter, "declining the invite: the inviter is not on [matrix] invite_allowlist");
        if let Err(error) = room.leave().await {
            tracing::warn!(room = %room_id, %error, "declining the invite failed");
        }
        return;
    }
    if !join_with_retries(&room).await {
        return;
    }
    tracing::info!(room = %room_id, %inviter, "joined a room");
    let community = community_of(adapter, &room).await;
    let context = room_context(adapter, &room).await;
    let event = Event::now(EventKind::BotAdded {
        platform: Platform::Matrix,
        community: CommunityId::new(&community.id),
        community_name: community.name,
        added_by: Some(crate::core::UserId::new(inviter.as_str())),
        notice_location: Some(context.location(None)),
    });
    dispatch(adapter, event, None).await;
}

/// Synapse sometimes rejects a join that follows an invite very closely; matrix-rust-sdk's
/// autojoin example retries with a growing pause, as here.
async fn join_with_retries(room: &Room) -> bool {
    let mut delay = Duration::from_millis(500);
    for attempt in 1..=6 {
        match room.join().await {
            Ok(()) => return true,
            Err(error) if attempt < 6 => {
                tracing::debug!(room = %room.room_id(), %error, attempt, "join failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(error) => {
                tracing::error!(room = %room.room_id(), %error, "cannot join the room");
            }
        }
    }
    false
}

/// Membership changes: the bot kicked or banned (forget the room), or a member joining.
pub(crate) async fn on_membership(
    adapter: &Adapter,
    room: Room,
    event: OriginalSyncRoomMemberEvent,
) {
    let membership = &event.content.membership;
    if event.state_key == adapter.bot_id {
        let removed = matches!(membership, MembershipState::Leave | MembershipState::Ban);
        if removed && event.sender != adapter.bot_id {
            let how = if *membership == MembershipState::Ban {
                "banned"
            } else {
                "kicked"
            };
            tracing::warn!(
                room = %room.room_id(),
                by = %event.sender,
                reason = event.content.reason.as_deref().unwrap_or(""),
                "Steward was {how} from a room; forgetting it"
            );
            // Forgetting drops the room from the local store too; a later invite starts fresh.
            if let Err(error) = room.forget().await {
                tracing::debug!(room = %room.room_id(), %error, "forgetting the room failed");
            }
        }
        return;
    }
    let was_member = event
        .unsigned
        .prev_content
        .as_ref()
        .is_some_and(|previous| previous.membership == MembershipState::Join);
    if *membership != MembershipState::Join
        || was_member
        || is_backlog(adapter, &room, event.origin_server_ts).await
    {
        return;
    }
    let member = Author {
        id: crate::core::UserId::new(event.state_key.as_str()),
        display_name: event
            .content
            .displayname
            .clone()
            .unwrap_or_else(|| event.state_key.localpart().to_string()),
        role: role_of(adapter, &room, &event.state_key).await,
        is_bot: adapter
            .settings
            .ignore_users
            .iter()
            .any(|user| user == event.state_key.as_str()),
    };
    let community = community_of(adapter, &room).await;
    let joined = Event {
        at: event
            .origin_server_ts
            .to_system_time()
            .unwrap_or_else(std::time::SystemTime::now),
        kind: EventKind::MemberJoined {
            platform: Platform::Matrix,
            community: CommunityId::new(&community.id),
            member,
        },
    };
    dispatch(adapter, joined, None).await;
}
