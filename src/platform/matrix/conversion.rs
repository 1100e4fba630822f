//! Matrix events -> core events, as pure functions of the event and what the adapter already
//! looked up (the sender's role, whether a reply targets the bot, ...). Nothing here touches the
//! network or the SDK's stores, so every case is a unit test built from event JSON.

use std::time::SystemTime;

use matrix_sdk::ruma::events::reaction::OriginalSyncReactionEvent;
use matrix_sdk::ruma::events::room::message::sanitize::remove_plain_reply_fallback;
use matrix_sdk::ruma::events::room::message::{
    MessageType, OriginalSyncRoomMessageEvent, Relation, RoomMessageEventContent,
};
use matrix_sdk::ruma::events::room::pinned_events::OriginalSyncRoomPinnedEventsEvent;
use matrix_sdk::ruma::events::room::redaction::OriginalSyncRoomRedactionEvent;
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::{EventId, MilliSecondsSinceUnixEpoch};

use super::mentions;
use super::rules::{mentions_bot, normalize_bot_mention, parse_command, BotIdentity};
use crate::community::mention::find_at_name;
use crate::core::{
    Author, ChannelId, CommunityId, Event, EventKind, Location, Message, MessageId, Platform,
    Reaction, Role, ThreadId, UserId,
};

/// The room an event happened in, as the core sees it.
#[derive(Debug, Clone)]
pub struct RoomContext {
    pub room_id: String,
    /// The room's community: the space that lists it (see `spaces`), or the room itself.
    pub community: String,
    pub bot: BotIdentity,
    pub command_prefix: String,
}

impl RoomContext {
    /// The room's location, inside `thread` if given.
    pub fn location(&self, thread: Option<&EventId>) -> Location {
        Location {
            platform: Platform::Matrix,
            community: CommunityId::new(&self.community),
            channel: ChannelId::new(&self.room_id),
            thread: thread.map(|root| ThreadId::new(root.as_str())),
        }
    }
}

/// What the adapter knows about the sender.
#[derive(Debug, Clone)]
pub struct SenderContext {
    pub display_name: String,
    pub role: Role,
    /// Listed in `ignore_users` (another bot): recorded, never answered.
    pub ignored: bool,
}

/// What the adapter looked up about the message's relations.
#[derive(Debug, Clone, Copy, Default)]
pub struct RelationFacts {
    /// The message replies (not just a thread fallback) to one of the bot's messages.
    pub replies_to_bot: bool,
    /// The message is in a thread the bot has answered in: no mention needed.
    pub thread_followed: bool,
}

/// The event a message really replies to. Thread messages carry a "falling back" reply to the
/// thread's latest event for old clients; that is not a reply by the member.
pub fn reply_target(content: &RoomMessageEventContent) -> Option<&EventId> {
    match content.relates_to.as_ref()? {
        Relation::Reply(reply) => Some(&reply.in_reply_to.event_id),
        Relation::Thread(thread) if !thread.is_falling_back => {
            thread.in_reply_to.as_ref().map(|reply| &*reply.event_id)
        }
        _ => None,
    }
}

/// The root of the thread a message is in, if any.
pub fn thread_root(content: &RoomMessageEventContent) -> Option<&EventId> {
    match content.relates_to.as_ref()? {
        Relation::Thread(thread) => Some(&thread.event_id),
        _ => None,
    }
}

/// Converts a room message. `None` for the bot's own messages and for message types Steward
/// does not read (images, files, ...).
///
/// An edit (`m.replace`) carries who sent it: Matrix lets anyone send one for any event, and
/// the store applies only the author's own (hole 3). A notice is screened like any message but
/// never answered: bots post notices by convention, and answering them would start bot-to-bot
/// loops; only `ignore_users` are treated as bots outright (hole 4).
pub fn message_event(
    event: &OriginalSyncRoomMessageEvent,
    room: &RoomContext,
    sender: &SenderContext,
    facts: RelationFacts,
) -> Option<Event> {
    if event.sender.as_str() == room.bot.user_id {
        return None;
    }
    let at = timestamp(event.origin_server_ts);
    let (body, formatted, is_notice) = text_of(&event.content.msgtype)?;
    let location = room.location(thread_root(&event.content));

    if let Some(Relation::Replacement(replacement)) = &event.content.relates_to {
        let new_content = &replacement.new_content;
        let (new_body, new_formatted, _) = text_of(&new_content.msgtype)?;
        let new_text = with_mentions(
            new_body,
            new_formatted,
            new_content.mentions.as_ref(),
            &room.bot.user_id,
        );
        return Some(Event {
            at,
            kind: EventKind::MessageEdited {
                location,
                message: MessageId::new(replacement.event_id.as_str()),
                editor: UserId::new(event.sender.as_str()),
                new_text,
            },
        });
    }

    let author = Author {
        id: UserId::new(event.sender.as_str()),
        display_name: sender.display_name.clone(),
        role: sender.role,
        is_bot: sender.ignored,
    };
    let id = MessageId::new(event.event_id.as_str());
    let body = remove_plain_reply_fallback(body).trim();

    if !author.is_bot && !is_notice {
        if let Some(command) = parse_command(body, &room.command_prefix) {
            return Some(Event {
                at,
                kind: EventKind::CommandInvoked {
                    location,
                    invoker: author,
                    command,
                    message: Some(id),
                },
            });
        }
    }

    let intentional: Vec<String> = event
        .content
        .mentions
        .iter()
        .flat_map(|mentions| mentions.user_ids.iter().map(|user| user.to_string()))
        .collect();
    let text = with_mentions(
        body,
        formatted,
        event.content.mentions.as_ref(),
        &room.bot.user_id,
    );
    let mentioned = !is_notice && mentions_bot(body, formatted, &intentional, &room.bot);
    // The router strips `@name` from the question, for every platform alike; a notice's is
    // defused so that it cannot address the bot.
    let text = if mentioned {
        normalize_bot_mention(&text, &room.bot)
    } else if is_notice {
        defuse_bot_mention(&text, &room.bot.core_name)
    } else {
        text
    };
    Some(Event {
        at,
        kind: EventKind::MessagePosted(Message {
            id,
            location,
            author,
            text,
            created_at: at,
            reply_to: reply_target(&event.content).map(|target| MessageId::new(target.as_str())),
            mentions_bot: !is_notice && (mentioned || facts.thread_followed),
            replies_to_bot: !is_notice && facts.replies_to_bot,
        }),
    })
}

/// Steward's own message as the sync returns it, for the router to record: a message by a bot
/// (never a command, never addressed to anyone), or, for an `m.replace`, Steward's edit of its
/// message (a streamed answer growing). The text is the plain body Steward wrote, so an
/// answer's sources line is kept as written. `None` for anyone else's message and for message
/// types Steward does not send.
pub fn own_message_event(
    event: &OriginalSyncRoomMessageEvent,
    room: &RoomContext,
) -> Option<Event> {
    if event.sender.as_str() != room.bot.user_id {
        return None;
    }
    let at = timestamp(event.origin_server_ts);
    let (body, _, _) = text_of(&event.content.msgtype)?;
    let location = room.location(thread_root(&event.content));
    let me = UserId::new(event.sender.as_str());
    if let Some(Relation::Replacement(replacement)) = &event.content.relates_to {
        let (new_body, _, _) = text_of(&replacement.new_content.msgtype)?;
        return Some(Event {
            at,
            kind: EventKind::MessageEdited {
                location,
                message: MessageId::new(replacement.event_id.as_str()),
                editor: me,
                new_text: new_body.to_string(),
            },
        });
    }
    Some(Event {
        at,
        kind: EventKind::MessagePosted(Message {
            id: MessageId::new(event.event_id.as_str()),
            location,
            author: Author {
                id: me,
                display_name: room.bot.display_name.clone(),
                role: Role::Member,
                is_bot: true,
            },
            text: remove_plain_reply_fallback(body).trim().to_string(),
            created_at: at,
            reply_to: reply_target(&event.content).map(|target| MessageId::new(target.as_str())),
            mentions_bot: false,
            replies_to_bot: false,
        }),
    })
}

/// The text the core sees: `body` with other people's pills and intentional mentions written
/// as `@` words (the mention-spam rule counts those).
fn with_mentions(
    body: &str,
    formatted: Option<&str>,
    declared: Option<&Mentions>,
    bot: &str,
) -> String {
    let pills = formatted.map(mentions::pills).unwrap_or_default();
    let intentional: Vec<String> = declared
        .iter()
        .flat_map(|declared| declared.user_ids.iter().map(|user| user.to_string()))
        .collect();
    let room = declared.is_some_and(|declared| declared.room);
    mentions::with_mentions(body, &pills, &intentional, room, bot)
}

/// `@name` with a word joiner after the `@`: it reads the same and no longer addresses the bot.
fn defuse_bot_mention(text: &str, name: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    // The router's own test for a mention (`community::mention::strip_mention`).
    while let Some((at, _)) = find_at_name(rest, name, |c| !c.is_ascii_alphanumeric() && c != '_') {
        out.push_str(&rest[..=at]);
        out.push('\u{2060}');
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    out
}

/// A redaction of a message: the core forgets the message's text.
pub fn redaction_event(
    event: &OriginalSyncRoomRedactionEvent,
    room: &RoomContext,
) -> Option<Event> {
    let redacted = event
        .redacts
        .as_deref()
        .or(event.content.redacts.as_deref())?;
    Some(Event {
        at: timestamp(event.origin_server_ts),
        kind: EventKind::MessageDeleted {
            location: room.location(None),
            message: MessageId::new(redacted.as_str()),
        },
    })
}

/// The pins an `m.room.pinned_events` change adds: the event ids in its content that its
/// previous content (`unsigned.prev_content`, absent for a room's first pins) did not have,
/// each as a pin by the event's sender, whose role is `role` (the router lets only a
/// moderator's pin count; sending the event takes its power level, 50 by default). A state
/// event without previous content (a fresh sync) pins all its ids again, which changes
/// nothing already marked. Unpinning adds nothing.
pub fn pinned_events(
    event: &OriginalSyncRoomPinnedEventsEvent,
    room: &RoomContext,
    role: Role,
) -> Vec<Event> {
    // Read as JSON: the previous content is the "possibly redacted" variant of the type.
    let before: Vec<String> = event
        .unsigned
        .prev_content
        .as_ref()
        .and_then(|previous| serde_json::to_value(previous).ok())
        .and_then(|previous| {
            let ids = previous.get("pinned")?.as_array()?.clone();
            Some(
                ids.iter()
                    .filter_map(|id| id.as_str().map(str::to_string))
                    .collect(),
            )
        })
        .unwrap_or_default();
    event
        .content
        .pinned
        .iter()
        .filter(|id| !before.iter().any(|old| old == id.as_str()))
        .map(|id| Event {
            at: timestamp(event.origin_server_ts),
            kind: EventKind::MessagePinned {
                location: room.location(None),
                message: MessageId::new(id.as_str()),
                by: UserId::new(event.sender.as_str()),
                role,
            },
        })
        .collect()
}

/// A reaction (annotation) on a message. The bot's own reactions are skipped.
pub fn reaction_event(event: &OriginalSyncReactionEvent, room: &RoomContext) -> Option<Event> {
    if event.sender.as_str() == room.bot.user_id {
        return None;
    }
    let annotation = &event.content.relates_to;
    Some(Event {
        at: timestamp(event.origin_server_ts),
        kind: EventKind::ReactionAdded(Reaction {
            location: room.location(None),
            message: MessageId::new(annotation.event_id.as_str()),
            user: UserId::new(event.sender.as_str()),
            emoji: annotation.key.clone(),
        }),
    })
}

/// The body, HTML body and whether it is a notice, for the text-like message types.
fn text_of(msgtype: &MessageType) -> Option<(&str, Option<&str>, bool)> {
    match msgtype {
        MessageType::Text(text) => Some((
            &text.body,
            text.formatted.as_ref().map(|f| f.body.as_str()),
            false,
        )),
        MessageType::Notice(notice) => Some((
            &notice.body,
            notice.formatted.as_ref().map(|f| f.body.as_str()),
            true,
        )),
        MessageType::Emote(emote) => Some((
            &emote.body,
            emote.formatted.as_ref().map(|f| f.body.as_str()),
            false,
        )),
        _ => None,
    }
}

fn timestamp(ts: MilliSecondsSinceUnixEpoch) -> SystemTime {
    ts.to_system_time().unwrap_or_else(SystemTime::now)
}

#[cfg(test)]
#[path = "conversion_tests.rs"]
mod tests;
