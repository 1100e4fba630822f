//! Stable labels of events and actions, for the metrics.

use crate::core::{Action, EventKind, Platform};

/// The platform and a stable label of an event, for metrics.
pub(super) fn event_label(kind: &EventKind) -> (Platform, &'static str) {
    match kind {
        EventKind::MessagePosted(m) => (m.location.platform, "message"),
        EventKind::MessageEdited { location, .. } => (location.platform, "edit"),
        EventKind::MessageDeleted { location, .. } => (location.platform, "delete"),
        EventKind::ReactionAdded(r) => (r.location.platform, "reaction"),
        EventKind::ReactionRemoved(r) => (r.location.platform, "reaction_removed"),
        EventKind::MemberJoined { platform, .. } => (*platform, "member_joined"),
        EventKind::CommandInvoked { location, .. } => (location.platform, "command"),
        EventKind::BotAdded { platform, .. } => (*platform, "bot_added"),
        EventKind::ThreadCreated { location, .. } => (location.platform, "thread"),
    }
}

/// The platform and a stable label of an action, for metrics.
pub(super) fn action_label(action: &Action) -> (Platform, &'static str) {
    match action {
        Action::Reply(r) => (r.location.platform, "reply"),
        Action::ReplyInThread { location, .. } => (location.platform, "reply_in_thread"),
        Action::EditOwn { location, .. } => (location.platform, "edit"),
        Action::React { location, .. } => (location.platform, "react"),
        Action::DeleteMessage { location, .. } => (location.platform, "delete"),
        Action::TimeoutMember { platform, .. } => (*platform, "timeout"),
        Action::RemoveMember { platform, .. } => (*platform, "remove_member"),
        Action::PostToModLog { platform, .. } => (*platform, "mod_log"),
        Action::PrivateNotice { platform, .. } => (*platform, "private_notice"),
    }
}
