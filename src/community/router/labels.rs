//! Stable labels of events and actions, for the metrics.

use crate::core::{Action, EventKind, Platform};
use crate::outbox::platform_of;

/// The platform and a stable label of an event, for metrics.
pub(super) fn event_label(kind: &EventKind) -> (Platform, &'static str) {
    match kind {
        EventKind::MessagePosted(m) => (m.location.platform, "message"),
        EventKind::MissedMessage(m) => (m.location.platform, "missed_message"),
        EventKind::MessageEdited { location, .. } => (location.platform, "edit"),
        EventKind::MessageDeleted { location, .. } => (location.platform, "delete"),
        EventKind::ReactionAdded(r) => (r.location.platform, "reaction"),
        EventKind::ReactionRemoved(r) => (r.location.platform, "reaction_removed"),
        EventKind::MemberJoined { platform, .. } => (*platform, "member_joined"),
        EventKind::CommandInvoked { location, .. } => (location.platform, "command"),
        EventKind::BotAdded { platform, .. } => (*platform, "bot_added"),
        EventKind::ThreadCreated { location, .. } => (location.platform, "thread"),
        EventKind::MessagePinned { location, .. } => (location.platform, "pin"),
        EventKind::ThreadSolved { location, .. } => (location.platform, "thread_solved"),
    }
}

/// The platform and a stable label of an action, for metrics.
pub(super) fn action_label(action: &Action) -> (Platform, &'static str) {
    let kind = match action {
        Action::Reply(_) => "reply",
        Action::ReplyInThread { .. } => "reply_in_thread",
        Action::EditOwn { .. } => "edit",
        Action::React { .. } => "react",
        Action::DeleteMessage { .. } => "delete",
        Action::TimeoutMember { .. } => "timeout",
        Action::RemoveMember { .. } => "remove_member",
        Action::LiftTimeout { .. } => "lift_timeout",
        Action::LiftBan { .. } => "lift_ban",
        Action::PostToModLog { .. } => "mod_log",
        Action::PostWithFiles { .. } => "post_with_files",
        Action::PrivateNotice { .. } => "private_notice",
    };
    (platform_of(action), kind)
}
