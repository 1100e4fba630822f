//! Catching up after downtime: the first sync of a restart continues from the saved sync token,
//! so its timelines hold what was posted while Steward was stopped (an upgrade, a crash). The
//! messages among them from the last `[bot] catch_up_minutes` are handed to the router as
//! [`EventKind::MissedMessage`](crate::core::EventKind::MissedMessage), oldest first; the router
//! answers those addressed to the bot and remembers it did, so none is answered twice.
//!
//! Redactions from then are applied whatever their age (deletion is deletion): those in the
//! first sync, and, where a room's timeline was cut short (more happened than one sync returns),
//! those in the gap, paged back from the homeserver to the saved token.
//!
//! A first start (no saved token) syncs recent history instead: its messages are never caught
//! up on (its redactions are applied; deleting what was never stored changes nothing).

use std::time::{Duration, SystemTime};

use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::api::client::filter::RoomEventFilter;
use matrix_sdk::ruma::events::room::message::OriginalSyncRoomMessageEvent;
use matrix_sdk::ruma::events::room::redaction::OriginalSyncRoomRedactionEvent;
use matrix_sdk::ruma::events::AnySyncTimelineEvent;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedRoomId, UInt, UserId};
use matrix_sdk::store::StateStoreDataKey;
use matrix_sdk::sync::SyncResponse;
use matrix_sdk::{Client, Room};

/// The sync token from an earlier run, if any (then the next sync brings only what happened
/// since).
pub(crate) async fn saved_token(client: &Client) -> Option<String> {
    match client
        .state_store()
        .get_kv_data(StateStoreDataKey::SyncToken)
        .await
    {
        Ok(value) => value.and_then(|value| value.into_sync_token()),
        Err(error) => {
            tracing::warn!(%error, "cannot read the saved sync token; not catching up");
            None
        }
    }
}

/// The messages (by others than `bot`) in the joined rooms' timelines of `response` that were
/// sent within `minutes` of `now`, oldest first.
pub(crate) fn missed_messages(
    response: &SyncResponse,
    bot: &UserId,
    minutes: u32,
    now: SystemTime,
) -> Vec<(OwnedRoomId, OriginalSyncRoomMessageEvent)> {
    let mut missed = Vec::new();
    for (room, update) in &response.rooms.joined {
        for event in &update.timeline.events {
            let raw = event.raw();
            // Decrypted events come back as what they contain; undecryptable ones stay
            // `m.room.encrypted` and are skipped.
            let kind = raw.get_field::<String>("type").ok().flatten();
            if kind.as_deref() != Some("m.room.message") {
                continue;
            }
            match raw.deserialize_as_unchecked::<OriginalSyncRoomMessageEvent>() {
                Ok(message) => {
                    let sent = message
                        .origin_server_ts
                        .to_system_time()
                        .unwrap_or(SystemTime::UNIX_EPOCH);
                    if message.sender.as_str() != bot.as_str() && within(sent, now, minutes) {
                        missed.push((room.clone(), message));
                    }
                }
                // Redacted messages have no content left to answer.
                Err(error) => {
                    tracing::debug!(room = %room, %error, "skipping an unreadable missed message")
                }
            }
        }
    }
    missed.sort_by_key(|(_, message)| message.origin_server_ts);
    missed
}

/// Pages read back at most per room, of [`PAGE`] redactions each: a very long downtime in a
/// busy room is not replayed without bound.
const MAX_PAGES: usize = 20;
const PAGE: u32 = 100;

/// The redactions of one joined room in the first sync.
pub(crate) struct RoomRedactions {
    room: OwnedRoomId,
    events: Vec<OriginalSyncRoomRedactionEvent>,
    /// Where the room's timeline starts when it was cut short (`limited`: more happened than
    /// one sync returns): the gap before it is read back.
    gap_before: Option<String>,
}

/// The redactions in the joined rooms' timelines of `response` (the first sync).
pub(crate) fn redactions_in(response: &SyncResponse) -> Vec<RoomRedactions> {
    response
        .rooms
        .joined
        .iter()
        .map(|(room, update)| {
            let timeline = &update.timeline;
            RoomRedactions {
                room: room.clone(),
                events: timeline
                    .events
                    .iter()
                    .filter_map(|event| redaction(event.raw()))
                    .collect(),
                gap_before: timeline.prev_batch.clone().filter(|_| timeline.limited),
            }
        })
        .filter(|found| !found.events.is_empty() || found.gap_before.is_some())
        .collect()
}

/// Every redaction Steward has not seen: `found` in the first sync, and those in the gaps
/// before cut-short timelines back to `since` (the token that sync continued from; without
/// one, a first start, there is nothing to read back).
pub(crate) async fn missed_redactions(
    client: &Client,
    found: Vec<RoomRedactions>,
    since: Option<&str>,
) -> Vec<(Room, OriginalSyncRoomRedactionEvent)> {
    let mut missed = Vec::new();
    for RoomRedactions {
        room,
        mut events,
        gap_before,
    } in found
    {
        let Some(room) = client.get_room(&room) else {
            continue;
        };
        if let (Some(start), Some(since)) = (gap_before, since) {
            events.extend(redactions_in_gap(&room, &start, since).await);
        }
        missed.extend(events.into_iter().map(|event| (room.clone(), event)));
    }
    missed
}

/// `raw` if it is a redaction.
fn redaction(raw: &Raw<AnySyncTimelineEvent>) -> Option<OriginalSyncRoomRedactionEvent> {
    let kind = raw.get_field::<String>("type").ok().flatten();
    if kind.as_deref() != Some("m.room.redaction") {
        return None;
    }
    raw.deserialize_as_unchecked().ok()
}

/// The redactions in `room` from `from` back to `to`, asked from the homeserver a page at a
/// time (`/messages`, redactions only).
async fn redactions_in_gap(
    room: &Room,
    from: &str,
    to: &str,
) -> Vec<OriginalSyncRoomRedactionEvent> {
    let mut found = Vec::new();
    let mut from = from.to_owned();
    for _ in 0..MAX_PAGES {
        let mut filter = RoomEventFilter::default();
        filter.types = Some(vec!["m.room.redaction".to_owned()]);
        let mut options = MessagesOptions::backward().from(from.as_str());
        options.to = Some(to.to_owned());
        options.limit = UInt::from(PAGE);
        options.filter = filter;
        let page = match room.messages(options).await {
            Ok(page) => page,
            Err(error) => {
                tracing::warn!(room = %room.room_id(), %error, "cannot read back what happened while Steward was stopped; deletions from then may be missed");
                return found;
            }
        };
        found.extend(page.chunk.iter().filter_map(|event| redaction(event.raw())));
        match page.end {
            Some(end) if end != from => from = end,
            _ => return found,
        }
    }
    tracing::warn!(room = %room.room_id(), pages = MAX_PAGES, "more happened while Steward was stopped than it reads back; older deletions in this room may be missed");
    found
}

/// Whether a message sent at `sent` is recent enough at `now` to be caught up on. A clock
/// slightly behind the server's still counts.
pub fn within(sent: SystemTime, now: SystemTime, minutes: u32) -> bool {
    if minutes == 0 {
        return false;
    }
    let window = Duration::from_secs(u64::from(minutes) * 60);
    now.duration_since(sent).map_or(true, |age| age <= window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_recent_messages_are_caught_up() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let minutes = |m: u64| Duration::from_secs(m * 60);
        let cases = [
            (now - minutes(1), 10, true),
            (now - minutes(10), 10, true),
            (now - minutes(11), 10, false),
            (now + Duration::from_secs(5), 10, true),
            (now - minutes(1), 0, false),
        ];
        for (sent, window, expected) in cases {
            assert_eq!(within(sent, now, window), expected, "{sent:?} {window}");
        }
    }
}
