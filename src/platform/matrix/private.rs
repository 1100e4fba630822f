//! Where private and moderator-only output goes (hole 7: `!steward cases` answered with case
//! excerpts as notices in a public room, readable by every member there).
//!
//! A reply meant for the invoker alone is posted where only they (and the moderators) can read
//! it: in the community's moderators' room when the command was typed there, in a room the
//! invoker shares with Steward alone, or else in a direct chat with the invoker, created once
//! (`is_direct`, the invoker invited) and reused.
//!
//! The moderators' room of a community is the room its moderators chose (`setting mod-log
//! here`, seen here as `PostToModLog { channel }`, remembered in memory and so forgotten on
//! restart until the next post) or `[matrix] moderators_room` when that room belongs to the
//! community (hole 8: a case never leaves its community).
//!
//! A file sent privately (a member's data export) goes to the direct chat as an `m.file`
//! (`files`). Posts to a community's moderators' room ([`post_to_moderators`]) go only to a room
//! of that community.

use std::collections::HashMap;

use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId, RoomId, RoomOrAliasId, UserId};
use matrix_sdk::{Room, RoomMemberships, RoomState};

use super::send::{remember_own, send_text};
use super::{buttons, format, spaces, Adapter};
use crate::core::{ChannelId, CommunityId};

/// Communities' moderators' rooms and direct chats, as far as this run has learnt them.
#[derive(Default)]
pub(crate) struct PrivateRooms {
    /// Community id -> the room its moderators chose.
    moderators: std::sync::Mutex<HashMap<String, OwnedRoomId>>,
    /// User -> the direct chat with them. An async lock: two private replies at once must not
    /// open two chats.
    direct: tokio::sync::Mutex<HashMap<OwnedUserId, OwnedRoomId>>,
}

/// Communities remembered at most (one entry per community Steward is in).
const MODERATOR_ROOMS_REMEMBERED: usize = 10_000;
/// Direct chats remembered at most; a forgotten one is found again through `m.direct`.
const DIRECT_CHATS_REMEMBERED: usize = 10_000;

impl PrivateRooms {
    /// Remembers the room `community`'s moderators chose (a `PostToModLog` went there).
    pub fn remember_moderators_room(&self, community: &str, room: &RoomId) {
        let mut rooms = self.moderators.lock().expect("not poisoned");
        if rooms.len() >= MODERATOR_ROOMS_REMEMBERED && !rooms.contains_key(community) {
            rooms.clear();
        }
        rooms.insert(community.to_string(), room.to_owned());
    }

    fn chosen_moderators_room(&self, community: &str) -> Option<OwnedRoomId> {
        let rooms = self.moderators.lock().expect("not poisoned");
        rooms.get(community).cloned()
    }
}

/// The configured `[matrix] moderators_room`, if set, resolved (an alias) and joined.
pub(crate) async fn configured_moderators_room(adapter: &Adapter) -> Option<Room> {
    let configured = adapter.settings.moderators_room.as_ref()?;
    let Ok(target) = RoomOrAliasId::parse(configured) else {
        tracing::warn!(room = %configured, "[matrix] moderators_room is not a room id or alias");
        return None;
    };
    let room_id = match <&RoomId>::try_from(&*target) {
        Ok(id) => id.to_owned(),
        Err(alias) => match adapter.client.resolve_room_alias(alias).await {
            Ok(response) => response.room_id,
            Err(error) => {
                tracing::warn!(room = %configured, %error, "cannot resolve [matrix] moderators_room");
                return None;
            }
        },
    };
    let room = adapter.client.get_room(&room_id);
    if room
        .as_ref()
        .is_none_or(|room| room.state() != RoomState::Joined)
    {
        tracing::warn!(room = %configured, "Steward is not in the moderators' room; invite it there");
        return None;
    }
    room
}

/// The moderators' room of `community`: the one its moderators chose, else the configured one
/// if it belongs to the community. `None`: nowhere that may see the community's cases.
pub(crate) async fn moderators_room(adapter: &Adapter, community: &str) -> Option<Room> {
    if let Some(id) = adapter.private.chosen_moderators_room(community) {
        if let Some(room) = adapter.client.get_room(&id) {
            if room.state() == RoomState::Joined
                && spaces::belongs_to(adapter, &room, community).await
            {
                return Some(room);
            }
        }
    }
    let room = configured_moderators_room(adapter).await?;
    spaces::belongs_to(adapter, &room, community)
        .await
        .then_some(room)
}

/// Whether a reply for `invoker` alone may be posted in `room` (of `community`): the community's
/// moderators' room, or a room only `invoker` shares with Steward.
pub(crate) async fn is_private_for(
    adapter: &Adapter,
    room: &Room,
    community: &str,
    invoker: Option<&UserId>,
) -> bool {
    if let Some(moderators) = moderators_room(adapter, community).await {
        if moderators.room_id() == room.room_id() {
            return true;
        }
    }
    let Some(invoker) = invoker else {
        return false;
    };
    others_in(room, &adapter.bot_id)
        .await
        .is_some_and(|others| others.len() == 1 && others[0].as_str() == invoker.as_str())
}

/// Who besides Steward is in `room` or invited to it (an invitee can read what is posted once
/// they join). `None` when the member list cannot be read: then nothing is private.
async fn others_in(room: &Room, bot: &UserId) -> Option<Vec<OwnedUserId>> {
    // The room summary's counts are only sent with lazy-loaded members: ask for the members.
    match room.members(RoomMemberships::ACTIVE).await {
        Ok(members) => Some(
            members
                .iter()
                .map(|member| member.user_id().to_owned())
                .filter(|user| user.as_str() != bot.as_str())
                .collect(),
        ),
        Err(error) => {
            tracing::warn!(room = %room.room_id(), %error, "cannot read a room's members");
            None
        }
    }
}

/// The direct chat with `user`: remembered, else the `m.direct` one Steward is in and `user`
/// has not left, else a new one (`is_direct`, `user` invited). Only a room Steward shares with
/// `user` alone counts.
pub(crate) async fn direct_chat(
    adapter: &Adapter,
    user: &UserId,
) -> Result<Room, matrix_sdk::Error> {
    let mut chats = adapter.private.direct.lock().await;
    if let Some(id) = chats.get(user) {
        if let Some(room) = adapter.client.get_room(id) {
            if usable_direct_chat(adapter, &room, user).await {
                return Ok(room);
            }
        }
    }
    let existing = match adapter.client.get_dm_room(user) {
        Some(room) if usable_direct_chat(adapter, &room, user).await => Some(room),
        _ => None,
    };
    let room = match existing {
        Some(room) => room,
        None => {
            tracing::info!(%user, "opening a direct chat for private replies");
            adapter.client.create_dm(user).await?
        }
    };
    if chats.len() >= DIRECT_CHATS_REMEMBERED {
        chats.clear();
    }
    chats.insert(user.to_owned(), room.room_id().to_owned());
    Ok(room)
}

/// Steward is in it and `user` (joined or invited) is the only other person in it.
async fn usable_direct_chat(adapter: &Adapter, room: &Room, user: &UserId) -> bool {
    room.state() == RoomState::Joined
        && others_in(room, &adapter.bot_id)
            .await
            .is_some_and(|others| others.len() == 1 && others[0].as_str() == user.as_str())
}

/// Posts to the community's moderators' room: the one its moderators chose (`channel`), else
/// `[matrix] moderators_room`, each only if it belongs to the community (hole 8: a case never
/// leaves its community). A post about a case gets the decision legend (`buttons`).
pub(super) async fn post_to_moderators(
    adapter: &Adapter,
    community: &CommunityId,
    channel: Option<&ChannelId>,
    case: Option<i64>,
    text: &str,
) -> Result<(), matrix_sdk::Error> {
    let room = match channel {
        Some(channel) => {
            let joined = RoomId::parse(channel.as_str())
                .ok()
                .and_then(|id| adapter.client.get_room(&id))
                .filter(|room| room.state() == RoomState::Joined);
            let Some(room) = joined else {
                tracing::warn!(room = %channel, "Steward is not in the moderators' room the community chose; not posted");
                return Ok(());
            };
            if !spaces::belongs_to(adapter, &room, community.as_str()).await {
                tracing::warn!(room = %channel, community = %community, "the chosen moderators' room is no longer in the community; not posted");
                return Ok(());
            }
            adapter
                .private
                .remember_moderators_room(community.as_str(), room.room_id());
            room
        }
        None => match configured_moderators_room(adapter).await {
            Some(room) if spaces::belongs_to(adapter, &room, community.as_str()).await => room,
            Some(room) => {
                tracing::warn!(room = %room.room_id(), community = %community, "[matrix] moderators_room belongs to another community and a case never leaves its own: not posted (its moderators can choose a room with `setting mod-log here`)");
                return Ok(());
            }
            None => {
                tracing::info!(community = %community, "no moderators' room for this community; moderator report not posted");
                return Ok(());
            }
        },
    };
    let id = send_text(&room, format::message(text, true, None), None).await?;
    remember_own(adapter, &id);
    if let Some(case) = case {
        buttons::attach(adapter, &room, &id, community.as_str(), case).await;
    }
    Ok(())
}
