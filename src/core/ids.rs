//! Plain identifiers and roles shared by every platform.
//!
//! Ids are opaque strings: a Discord snowflake, a Matrix event id or room id, or a console
//! counter all fit. They are only meaningful together with their [`Platform`].

use std::fmt;

/// Which platform an event came from. Plain data: no platform crate type is involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Console,
    Discord,
    Matrix,
}

impl Platform {
    /// Every platform Steward has an adapter for.
    pub const ALL: [Platform; 3] = [Platform::Console, Platform::Discord, Platform::Matrix];

    /// Stable lowercase label, used as a key in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Console => "console",
            Platform::Discord => "discord",
            Platform::Matrix => "matrix",
        }
    }

    /// The platform with the label `text` (as [`Platform::as_str`] writes it).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "console" => Some(Platform::Console),
            "discord" => Some(Platform::Discord),
            "matrix" => Some(Platform::Matrix),
            _ => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A community: a Discord guild, a Matrix space (or a lone room), the console session.
    CommunityId
);
string_id!(
    /// A channel: a Discord text channel, a Matrix room, the console.
    ChannelId
);
string_id!(
    /// A thread inside a channel (a Discord thread channel, a Matrix `m.thread` root event).
    ThreadId
);
string_id!(
    /// A message (a Discord message id, a Matrix event id).
    MessageId
);
string_id!(
    /// A user (a Discord user id, a Matrix user id).
    UserId
);

/// Where something is said: a channel of a community, optionally inside a thread.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    pub platform: Platform,
    pub community: CommunityId,
    pub channel: ChannelId,
    pub thread: Option<ThreadId>,
}

impl Location {
    /// The same place, inside `thread`.
    pub fn in_thread(&self, thread: ThreadId) -> Self {
        Self {
            thread: Some(thread),
            ..self.clone()
        }
    }
}

/// What a user may do in a community. Ordered: an owner is also a moderator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Member,
    Moderator,
    Owner,
}

impl Role {
    /// True for moderators and owners.
    pub fn can_moderate(self) -> bool {
        self >= Role::Moderator
    }
}
