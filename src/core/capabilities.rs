//! What a platform can do, as data the adapter hands to the router: how commands are written,
//! how a message is linked, how long a message may be, the longest timeout, whether private
//! replies and threads exist. Core and features read these facts; none of them is a constant
//! in core.

use std::time::Duration;

use super::ids::{Location, MessageId, Platform};

/// The facts of one platform (for one running adapter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    pub platform: Platform,
    /// How a command starts, including any space: "/" or "!steward ".
    pub command_prefix: String,
    /// A message link with `{community}`, `{channel}`, `{room}` and `{message}` placeholders;
    /// `{channel}` is the thread when the message is in one (a Discord thread is a channel),
    /// `{room}` is always the channel itself (a Matrix thread lives in its room). `None`: the
    /// platform has no links.
    pub permalink: Option<String>,
    /// The longest message the platform accepts, in characters.
    pub max_message_chars: usize,
    /// The longest timeout the platform allows; `None`: no timeouts (the adapter removes the
    /// member instead) and no limit to check.
    pub longest_timeout: Option<Duration>,
    /// Whether a reply can be shown to the invoker alone (Discord's ephemeral responses).
    pub private_replies: bool,
    /// Whether Steward can open a thread on a message ([`Action::ReplyInThread`]); without
    /// threads, answers that would open one are replies.
    ///
    /// [`Action::ReplyInThread`]: super::Action::ReplyInThread
    pub threads: bool,
}

impl Capabilities {
    /// The console: commands start with "/", no links, no private replies, no threads.
    pub fn console() -> Self {
        Self {
            platform: Platform::Console,
            command_prefix: "/".into(),
            permalink: None,
            max_message_chars: usize::MAX,
            longest_timeout: None,
            private_replies: false,
            threads: false,
        }
    }

    /// A link that opens `message` at `location`, where the platform has links.
    pub fn message_link(&self, location: &Location, message: &MessageId) -> Option<String> {
        let template = self.permalink.as_ref()?;
        let channel = location
            .thread
            .as_ref()
            .map_or(location.channel.as_str(), |thread| thread.as_str());
        Some(
            template
                .replace("{community}", location.community.as_str())
                .replace("{channel}", channel)
                .replace("{room}", location.channel.as_str())
                .replace("{message}", message.as_str()),
        )
    }

    /// The longest timeout in whole minutes, if the platform limits it.
    pub fn longest_timeout_minutes(&self) -> Option<u32> {
        self.longest_timeout
            .map(|limit| u32::try_from(limit.as_secs() / 60).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::super::ids::{ChannelId, CommunityId, ThreadId};
    use super::*;

    #[test]
    fn links_follow_the_template() {
        let capabilities = Capabilities {
            permalink: Some("https://chat.example/{community}/{channel}/{message}".into()),
            ..Capabilities::console()
        };
        let mut location = Location {
            platform: Platform::Console,
            community: CommunityId::new("100"),
            channel: ChannelId::new("300"),
            thread: None,
        };
        let message = MessageId::new("9001");
        assert_eq!(
            capabilities.message_link(&location, &message).as_deref(),
            Some("https://chat.example/100/300/9001")
        );
        location.thread = Some(ThreadId::new("777"));
        assert_eq!(
            capabilities.message_link(&location, &message).as_deref(),
            Some("https://chat.example/100/777/9001")
        );
        assert_eq!(
            Capabilities::console().message_link(&location, &message),
            None
        );
        // Matrix-style: the room, whether or not the message is in a thread.
        let rooms = Capabilities {
            permalink: Some("https://chat.example/#/{room}/{message}".into()),
            ..Capabilities::console()
        };
        assert_eq!(
            rooms.message_link(&location, &message).as_deref(),
            Some("https://chat.example/#/300/9001")
        );
    }
}
