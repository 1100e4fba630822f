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
    /// Stable lowercase label, used as a key in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Console => "console",
            Platform::Discord => "discord",
            Platform::Matrix => "matrix",
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
    /// A link that opens `message` in this location, where the platform has one.
    pub fn message_link(&self, message: &MessageId) -> Option<String> {
        match self.platform {
            // A thread is a channel of its own on Discord.
            Platform::Discord => Some(format!(
                "https://discord.com/channels/{}/{}/{}",
                self.community,
                self.thread
                    .as_ref()
                    .map_or(self.channel.as_str(), |t| t.as_str()),
                message
            )),
            // matrix.to links open in any client; room and event ids need no escaping there.
            Platform::Matrix => Some(format!("https://matrix.to/#/{}/{}", self.channel, message)),
            Platform::Console => None,
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_links() {
        let at = |platform, thread: Option<&str>| Location {
            platform,
            community: CommunityId::new("100"),
            channel: ChannelId::new("300"),
            thread: thread.map(ThreadId::new),
        };
        let message = MessageId::new("9001");
        assert_eq!(
            at(Platform::Discord, None)
                .message_link(&message)
                .as_deref(),
            Some("https://discord.com/channels/100/300/9001")
        );
        assert_eq!(
            at(Platform::Discord, Some("777"))
                .message_link(&message)
                .as_deref(),
            Some("https://discord.com/channels/100/777/9001")
        );
        let room = Location {
            platform: Platform::Matrix,
            community: CommunityId::new("!room:example.org"),
            channel: ChannelId::new("!room:example.org"),
            thread: Some(ThreadId::new("$root")),
        };
        assert_eq!(
            room.message_link(&MessageId::new("$event")).as_deref(),
            Some("https://matrix.to/#/!room:example.org/$event")
        );
        assert_eq!(at(Platform::Console, None).message_link(&message), None);
    }
}
