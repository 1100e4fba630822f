//! Catching up after downtime: the first sync of a restart continues from the saved sync token,
//! so its timelines hold what was posted while Steward was stopped (an upgrade, a crash). The
//! messages among them from the last `[bot] catch_up_minutes` are handed to the router as
//! [`EventKind::MissedMessage`](crate::core::EventKind::MissedMessage), oldest first; the router
//! answers those addressed to the bot and remembers it did, so none is answered twice.
//!
//! A first start (no saved token) syncs recent history instead: that is never caught up on.

use std::time::{Duration, SystemTime};

use matrix_sdk::ruma::events::room::message::OriginalSyncRoomMessageEvent;
use matrix_sdk::ruma::{OwnedRoomId, UserId};
use matrix_sdk::store::StateStoreDataKey;
use matrix_sdk::sync::SyncResponse;
use matrix_sdk::Client;

/// Whether the client has a sync token from an earlier run (so the next sync brings only what
/// happened since).
pub(crate) async fn has_saved_token(client: &Client) -> bool {
    match client
        .state_store()
        .get_kv_data(StateStoreDataKey::SyncToken)
        .await
    {
        Ok(value) => value.and_then(|value| value.into_sync_token()).is_some(),
        Err(error) => {
            tracing::warn!(%error, "cannot read the saved sync token; not catching up");
            false
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
