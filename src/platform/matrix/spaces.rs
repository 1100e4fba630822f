//! Which community a room belongs to.
//!
//! A room is part of a space only when the *space* says so: an `m.space.child` state event in
//! the space, with the room's id as state key and a non-empty `via` (the spec's test for a
//! valid child), which Steward can read only from inside the space; or when the owner mapped
//! it in `[matrix] communities`. A room's own `m.space.parent` is a claim anyone with power in
//! that room can make about any space, so it never counts on its own (hole 1: a member who
//! created a room "in" someone's space decided that space's cases and banned its members).
//! Every other room is a community of its own.

use matrix_sdk::deserialized_responses::SyncOrStrippedState;
use matrix_sdk::ruma::events::space::child::SpaceChildEventContent;
use matrix_sdk::ruma::events::SyncStateEvent;
use matrix_sdk::ruma::RoomId;
use matrix_sdk::Room;

use super::Adapter;

/// A community as Matrix sees it: a space, or a lone room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Community {
    pub id: String,
    pub name: String,
}

/// The community `room` belongs to: the space the config maps it to, else a joined space that
/// lists it as a child (the smallest id among several, so the answer is stable), else itself.
pub(crate) async fn community_of(adapter: &Adapter, room: &Room) -> Community {
    let room_id = room.room_id();
    if let Some(space) = adapter.settings.configured_space(room_id.as_str()) {
        let joined = RoomId::parse(space)
            .ok()
            .and_then(|id| adapter.client.get_room(&id));
        let name = match joined {
            Some(joined) => display_name(&joined).await,
            None => space.to_string(),
        };
        return Community {
            id: space.to_string(),
            name,
        };
    }
    let mut confirming: Vec<Room> = Vec::new();
    for space in adapter.client.joined_rooms() {
        if space.room_id() != room_id && space.is_space() && lists_child(&space, room_id).await {
            confirming.push(space);
        }
    }
    confirming.sort_by(|a, b| a.room_id().cmp(b.room_id()));
    match confirming.into_iter().next() {
        Some(space) => Community {
            id: space.room_id().to_string(),
            name: display_name(&space).await,
        },
        None => Community {
            id: room_id.to_string(),
            name: display_name(room).await,
        },
    }
}

/// Whether `room` belongs to `community` (its space, or the room itself).
pub(crate) async fn belongs_to(adapter: &Adapter, room: &Room, community: &str) -> bool {
    community_of(adapter, room).await.id == community
}

/// The joined rooms of `community`: what an action on a member of the community touches.
pub(crate) async fn community_rooms(adapter: &Adapter, community: &str) -> Vec<Room> {
    let mut rooms = Vec::new();
    for room in adapter.client.joined_rooms() {
        if belongs_to(adapter, &room, community).await {
            rooms.push(room);
        }
    }
    rooms
}

/// Whether `space` lists `child` with a valid `m.space.child` (present, not redacted, with at
/// least one server to join through).
async fn lists_child(space: &Room, child: &RoomId) -> bool {
    let event = match space
        .get_state_event_static_for_key::<SpaceChildEventContent, _>(child)
        .await
    {
        Ok(Some(event)) => event,
        Ok(None) => return false,
        Err(error) => {
            tracing::debug!(space = %space.room_id(), %error, "cannot read a space's children");
            return false;
        }
    };
    match event.deserialize() {
        Ok(SyncOrStrippedState::Sync(SyncStateEvent::Original(event))) => {
            !event.content.via.is_empty()
        }
        // Redacted (no `via`), or seen only from an invite.
        Ok(_) => false,
        Err(error) => {
            tracing::debug!(space = %space.room_id(), %error, "unreadable m.space.child");
            false
        }
    }
}

async fn display_name(room: &Room) -> String {
    match room.display_name().await {
        Ok(name) => name.to_string(),
        Err(_) => room.room_id().to_string(),
    }
}
