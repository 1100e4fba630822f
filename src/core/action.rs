//! Actions: what the core asks an adapter to do.
//!
//! Actions are decided by features and executed by adapters. An answer that is still being
//! generated travels as a [`Body::Streaming`] text stream; each adapter renders it its own way
//! (the console prints deltas; chat platforms edit a message at a bounded rate).

use std::fmt;
use std::pin::Pin;
use std::time::Duration;

use futures::Stream;

use super::ids::{ChannelId, CommunityId, Location, MessageId, Platform, UserId};

/// One item of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum TextStreamItem {
    /// More text to append.
    Delta(String),
    /// Generation finished normally; `tokens` is the number of generated tokens.
    Finished { tokens: usize },
    /// Generation stopped with an error; the text is safe to show to users.
    Failed(String),
}

/// A stream of answer text. Dropping it cancels the generation behind it.
pub struct TextStream(pub Pin<Box<dyn Stream<Item = TextStreamItem> + Send>>);

impl TextStream {
    pub fn new(stream: impl Stream<Item = TextStreamItem> + Send + 'static) -> Self {
        Self(Box::pin(stream))
    }

    /// Collects the whole text (used by adapters that cannot stream, and by tests).
    /// Returns the text and, if generation failed, the failure message.
    pub async fn collect_text(self) -> (String, Option<String>) {
        use futures::StreamExt;
        let mut text = String::new();
        let mut failure = None;
        let mut stream = self.0;
        while let Some(item) = stream.next().await {
            match item {
                TextStreamItem::Delta(delta) => text.push_str(&delta),
                TextStreamItem::Finished { .. } => {}
                TextStreamItem::Failed(message) => failure = Some(message),
            }
        }
        (text, failure)
    }
}

impl fmt::Debug for TextStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TextStream(..)")
    }
}

/// The content of a message Steward sends.
#[derive(Debug)]
pub enum Body {
    /// Complete text (Markdown).
    Text(String),
    /// Text still being generated.
    Streaming(TextStream),
}

impl Body {
    /// The text of a complete body; `None` while streaming.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Body::Text(text) => Some(text),
            Body::Streaming(_) => None,
        }
    }
}

/// A file sent with a message (a member's data export, a report's chart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file's name as the member sees it (`steward-export-<community>.json`).
    pub name: String,
    /// Its media type (`application/json`).
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// A message Steward sends into a channel or thread.
#[derive(Debug)]
pub struct Reply {
    /// Where to post. A location with a thread posts inside the thread.
    pub location: Location,
    /// The message being answered, shown as a reply where the platform supports it.
    pub in_reply_to: Option<MessageId>,
    pub body: Body,
    /// Only the person who invoked a command sees it (Discord ephemeral responses; other
    /// platforms send it as a normal reply or a private notice).
    pub only_invoker: bool,
}

/// Something the core asks an adapter to do.
#[derive(Debug)]
pub enum Action {
    /// Post a message (optionally as a reply, optionally in a thread).
    Reply(Reply),
    /// Open a thread on `message` and post `body` inside it.
    ReplyInThread {
        location: Location,
        message: MessageId,
        thread_name: String,
        body: Body,
    },
    /// Replace the text of one of Steward's own messages.
    EditOwn {
        location: Location,
        message: MessageId,
        text: String,
    },
    /// Add a reaction to a message.
    React {
        location: Location,
        message: MessageId,
        emoji: String,
    },
    /// Delete (redact) a message.
    DeleteMessage {
        location: Location,
        message: MessageId,
        reason: String,
        /// The moderator whose decision this is; `None`: Steward's own policy. Adapters check
        /// that this person may do it *there* (and that the bot may) before acting.
        decided_by: Option<UserId>,
    },
    /// Stop a member from talking for a while.
    TimeoutMember {
        platform: Platform,
        community: CommunityId,
        user: UserId,
        duration: Duration,
        reason: String,
        /// See [`Action::DeleteMessage`].
        decided_by: Option<UserId>,
    },
    /// Remove a member from the community: a kick (they may rejoin) or a ban. Only ever
    /// decided by a moderator's command, never by the model.
    RemoveMember {
        platform: Platform,
        community: CommunityId,
        user: UserId,
        ban: bool,
        reason: String,
        /// See [`Action::DeleteMessage`].
        decided_by: Option<UserId>,
    },
    /// End a member's timeout early (a moderator reversed the case on appeal).
    LiftTimeout {
        platform: Platform,
        community: CommunityId,
        user: UserId,
        reason: String,
        decided_by: Option<UserId>,
    },
    /// Lift a member's ban (a reversed appeal); they may join again.
    LiftBan {
        platform: Platform,
        community: CommunityId,
        user: UserId,
        reason: String,
        decided_by: Option<UserId>,
    },
    /// Post to the community's moderators' log channel.
    PostToModLog {
        platform: Platform,
        community: CommunityId,
        /// The channel the community's moderators chose (`setting mod-log here`); `None`: the
        /// adapter's configured channel, used only if it belongs to this community.
        channel: Option<ChannelId>,
        /// The community's number of the case this post is about, if any: adapters attach
        /// decision buttons (Discord) or accept reactions (Matrix) for it.
        case: Option<i64>,
        text: String,
    },
    /// Post a message with files into a channel or thread: a community report with its charts
    /// (PNG images). Discord sends one message with the files attached; Matrix sends the text,
    /// then each image as an `m.image` event (media uploaded first); the console writes the
    /// files and prints their paths.
    PostWithFiles {
        location: Location,
        text: String,
        attachments: Vec<Attachment>,
    },
    /// A private message to one user, optionally with a file (a data export).
    PrivateNotice {
        platform: Platform,
        user: UserId,
        text: String,
        attachment: Option<Attachment>,
    },
}
