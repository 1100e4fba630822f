//! Events: what happened on a platform, as plain values.

use std::time::SystemTime;

use super::command::Command;
use super::ids::{CommunityId, Location, MessageId, Platform, Role, ThreadId, UserId};

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub id: UserId,
    pub display_name: String,
    pub role: Role,
    /// Bots (including Steward itself) never trigger answers.
    pub is_bot: bool,
}

/// A message as the core sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub location: Location,
    pub author: Author,
    pub text: String,
    pub created_at: SystemTime,
    /// The message this one replies to, if any.
    pub reply_to: Option<MessageId>,
    /// The adapter saw an explicit mention of the bot (a pill, `@name`, a user mention).
    pub mentions_bot: bool,
    /// The message replies to one of the bot's own messages.
    pub replies_to_bot: bool,
}

/// A reaction on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub location: Location,
    pub message: MessageId,
    pub user: UserId,
    pub emoji: String,
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at: SystemTime,
    pub kind: EventKind,
}

/// The kinds of events Steward understands.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    MessagePosted(Message),
    /// A message's text changed. Only an edit by the message's own author is applied
    /// (Matrix lets anyone send an `m.replace` for any event).
    MessageEdited {
        location: Location,
        message: MessageId,
        /// Who sent the edit.
        editor: UserId,
        new_text: String,
    },
    MessageDeleted {
        location: Location,
        message: MessageId,
    },
    ReactionAdded(Reaction),
    ReactionRemoved(Reaction),
    MemberJoined {
        platform: Platform,
        community: CommunityId,
        member: Author,
    },
    CommandInvoked {
        location: Location,
        invoker: Author,
        command: Command,
        /// The message that carried the command, where the platform has one.
        message: Option<MessageId>,
    },
    /// Steward was added to a community (a guild join, an accepted invite).
    BotAdded {
        platform: Platform,
        community: CommunityId,
        community_name: String,
        added_by: Option<UserId>,
        /// Where to post the setup notice (a system channel), if the platform has one.
        notice_location: Option<Location>,
    },
    /// A message posted while Steward was not running, delivered once when it starts (Discord:
    /// recent channel history; Matrix: the first sync). The router records it and answers it
    /// if it was addressed to the bot within `[bot] catch_up_minutes` and was never answered.
    MissedMessage(Message),
    /// A message was pinned (Discord: the notice a pin posts in the channel; Matrix: an event
    /// id new in the room's `m.room.pinned_events`). The router takes a moderator's pin as a
    /// `kb mark`; a pin by anyone else (a channel that lets members pin) changes nothing.
    MessagePinned {
        location: Location,
        message: MessageId,
        /// Who pinned it.
        by: UserId,
        /// Their role, as the adapter read it.
        role: Role,
    },
    /// A thread was marked solved, or no longer (Discord: a forum post's "solved" tag, which
    /// only the post's author or a moderator may add or remove).
    ThreadSolved {
        /// The thread (a forum post), with its parent channel.
        location: Location,
        solved: bool,
    },
    /// A thread was created in a channel (used to follow threads the bot started).
    ThreadCreated {
        location: Location,
        thread: ThreadId,
    },
}

impl Event {
    /// An event that happened now.
    pub fn now(kind: EventKind) -> Self {
        Self {
            at: SystemTime::now(),
            kind,
        }
    }
}
