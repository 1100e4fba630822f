//! Decisions by reaction, Matrix's stand-in for Discord's buttons: a case notice posted in a
//! community's moderators' room gets Steward's own reactions as a legend (✅ dismiss, 🗑️ delete,
//! ⏳ time out for 60 minutes, 👢 kick, 🔨 ban); a reaction with one of them on the notice
//! becomes `case N <decision>` by the person who reacted, with their role in *that* room. The
//! router checks the role as for the typed command, and the adapter's power checks apply to
//! the resulting actions.
//!
//! Which notice is about which case lives in memory only (bounded): after a restart, reactions
//! on older notices do nothing, and `!steward case N ...` still works.

use std::collections::{HashMap, VecDeque};

use matrix_sdk::ruma::events::reaction::{OriginalSyncReactionEvent, ReactionEventContent};
use matrix_sdk::ruma::events::relation::Annotation;
use matrix_sdk::ruma::EventId;
use matrix_sdk::Room;

use super::{rooms, Adapter};
use crate::core::{Author, CaseDecision, Command, Event, EventKind, UserId};

/// The legend, in the order Steward adds it.
pub const LEGEND: &[(&str, CaseDecision)] = &[
    ("✅", CaseDecision::Dismiss),
    ("🗑️", CaseDecision::Delete),
    ("⏳", CaseDecision::Timeout { minutes: 60 }),
    ("👢", CaseDecision::Kick),
    ("🔨", CaseDecision::Ban),
];

/// The decision a reaction stands for. Clients differ on the emoji variation selector
/// (U+FE0F), so it is ignored.
pub fn decision_for(key: &str) -> Option<CaseDecision> {
    let bare = |text: &str| {
        text.chars()
            .filter(|c| *c != '\u{FE0F}')
            .collect::<String>()
    };
    let key = bare(key);
    LEGEND
        .iter()
        .find(|(emoji, _)| bare(emoji) == key)
        .map(|(_, decision)| *decision)
}

/// Case notices Steward posted: notice event id -> (community, case number). Forgets the oldest
/// first, so memory stays flat.
pub(crate) struct CaseNotices {
    order: VecDeque<String>,
    cases: HashMap<String, (String, i64)>,
    capacity: usize,
}

/// Case notices remembered.
pub(crate) const CASE_NOTICES_REMEMBERED: usize = 2048;

impl CaseNotices {
    pub fn new(capacity: usize) -> Self {
        Self {
            order: VecDeque::new(),
            cases: HashMap::new(),
            capacity,
        }
    }

    pub fn insert(&mut self, notice: &str, community: &str, case: i64) {
        let previous = self
            .cases
            .insert(notice.to_string(), (community.to_string(), case));
        if previous.is_none() {
            self.order.push_back(notice.to_string());
            if self.order.len() > self.capacity {
                if let Some(oldest) = self.order.pop_front() {
                    self.cases.remove(&oldest);
                }
            }
        }
    }

    pub fn get(&self, notice: &str) -> Option<(String, i64)> {
        self.cases.get(notice).cloned()
    }
}

/// Remembers `notice` (in `room`) as the notice of `case` and adds the legend.
pub(crate) async fn attach(
    adapter: &Adapter,
    room: &Room,
    notice: &EventId,
    community: &str,
    case: i64,
) {
    adapter
        .case_notices
        .lock()
        .expect("not poisoned")
        .insert(notice.as_str(), community, case);
    for (emoji, _) in LEGEND {
        let reaction =
            ReactionEventContent::new(Annotation::new(notice.to_owned(), emoji.to_string()));
        if let Err(error) = room.send(reaction).await {
            tracing::warn!(room = %room.room_id(), %error, "cannot add the decision legend to a case notice");
            return;
        }
    }
}

/// The decision a reaction on a remembered case notice stands for, as the command it replaces.
/// `None`: not a decision (the reaction goes the usual way, e.g. a 🚩 report).
pub(crate) async fn decision_event(
    adapter: &Adapter,
    room: &Room,
    reaction: &OriginalSyncReactionEvent,
) -> Option<Event> {
    if reaction.sender == adapter.bot_id {
        return None;
    }
    let annotation = &reaction.content.relates_to;
    let decision = decision_for(&annotation.key)?;
    let (community, case) = adapter
        .case_notices
        .lock()
        .expect("not poisoned")
        .get(annotation.event_id.as_str())?;
    let context = rooms::room_context(adapter, room).await;
    let location = context.location(None);
    if location.community.as_str() != community {
        // The room left the community since: its people no longer decide the community's cases.
        tracing::warn!(room = %room.room_id(), community, case, "a decision reaction from a room outside the case's community was ignored");
        return None;
    }
    let display_name = match room.get_member_no_sync(&reaction.sender).await {
        Ok(Some(member)) => member.name().to_string(),
        _ => reaction.sender.localpart().to_string(),
    };
    let invoker = Author {
        id: UserId::new(reaction.sender.as_str()),
        display_name,
        role: rooms::role_of(adapter, room, &reaction.sender).await,
        is_bot: adapter
            .settings
            .ignore_users
            .iter()
            .any(|user| user == reaction.sender.as_str()),
    };
    tracing::info!(room = %room.room_id(), user = %reaction.sender, case, ?decision, "a case decided by reaction");
    Some(Event {
        at: reaction
            .origin_server_ts
            .to_system_time()
            .unwrap_or_else(std::time::SystemTime::now),
        kind: EventKind::CommandInvoked {
            location,
            invoker,
            command: Command::Case {
                id: case,
                decision: Some(decision),
            },
            message: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legend_reactions_are_decisions() {
        let cases = [
            ("✅", Some(CaseDecision::Dismiss)),
            ("🗑️", Some(CaseDecision::Delete)),
            ("🗑", Some(CaseDecision::Delete)),
            ("⏳", Some(CaseDecision::Timeout { minutes: 60 })),
            ("👢", Some(CaseDecision::Kick)),
            ("🔨", Some(CaseDecision::Ban)),
            ("🚩", None),
            ("👍", None),
            ("", None),
            ("\u{FE0F}", None),
        ];
        for (key, expected) in cases {
            assert_eq!(decision_for(key), expected, "{key:?}");
        }
    }

    #[test]
    fn case_notices_are_bounded() {
        let mut notices = CaseNotices::new(2);
        notices.insert("$a", "!space:x", 1);
        notices.insert("$b", "!space:x", 2);
        notices.insert("$a", "!space:x", 1);
        assert_eq!(notices.get("$a"), Some(("!space:x".to_string(), 1)));
        notices.insert("$c", "!other:x", 1);
        assert_eq!(notices.get("$a"), None, "the oldest is forgotten");
        assert_eq!(notices.get("$b"), Some(("!space:x".to_string(), 2)));
        assert_eq!(notices.get("$c"), Some(("!other:x".to_string(), 1)));
    }
}
