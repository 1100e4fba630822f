//! Serenity values -> core events and back to Discord ids. Pure: the adapter looks up what the
//! payload lacks (is the channel a thread? what role has the author?) and passes it in, so every
//! conversion is tested from deserialized Discord JSON without a connection.

use std::num::NonZeroU64;
use std::time::{Duration, SystemTime};

use serenity::all::{
    ChannelId, ChannelType, CommandInteraction, ComponentInteraction, ForumTag, ForumTagId, Guild,
    GuildChannel, GuildId, Member, Message, MessageType, MessageUpdateEvent, PartialChannel,
    Reaction, RoleId, Timestamp, User, UserId,
};

use super::error::HandlerError;
use crate::core::{self, Author, Command, Event, EventKind, Location, Platform, Role};

/// Who the bot is: its Discord user id, the name the core knows it by (`[bot] name`), and the
/// guild's role managed for the bot, if known (Discord's mention picker often inserts that
/// role instead of the user, so `<@&role>` counts as a mention too).
#[derive(Debug, Clone, Copy)]
pub struct Me<'a> {
    pub id: UserId,
    pub name: &'a str,
    pub role: Option<RoleId>,
}

/// True for the three thread channel types.
pub fn is_thread(kind: ChannelType) -> bool {
    matches!(
        kind,
        ChannelType::PublicThread | ChannelType::PrivateThread | ChannelType::NewsThread
    )
}

/// Where something happened. Inside a thread, `channel` is the thread's parent and `thread` the
/// thread itself, so the core sees one channel with threads, as on Matrix.
pub fn location(guild: GuildId, channel: ChannelId, thread_parent: Option<ChannelId>) -> Location {
    let (channel, thread) = match thread_parent {
        Some(parent) => (parent, Some(core::ThreadId::new(channel.to_string()))),
        None => (channel, None),
    };
    Location {
        platform: Platform::Discord,
        community: core::CommunityId::new(guild.to_string()),
        channel: core::ChannelId::new(channel.to_string()),
        thread,
    }
}

/// The Discord channel to post in for `location`: the thread if there is one.
pub fn post_channel(location: &Location) -> Result<ChannelId, HandlerError> {
    let id = location
        .thread
        .as_ref()
        .map(|thread| thread.as_str())
        .unwrap_or(location.channel.as_str());
    parse_id(id).map(ChannelId::from)
}

/// Parses a snowflake kept in a core id.
pub fn parse_id(id: &str) -> Result<NonZeroU64, HandlerError> {
    id.parse::<NonZeroU64>()
        .map_err(|_| HandlerError::BadId(id.to_string()))
}

/// A core author from a Discord user; `nick` is the guild nickname, if any.
pub fn author(user: &User, nick: Option<&str>, role: Role) -> Author {
    Author {
        id: core::UserId::new(user.id.to_string()),
        display_name: nick.unwrap_or_else(|| user.display_name()).to_string(),
        role,
        is_bot: user.bot,
    }
}

/// Replaces user mentions (`<@id>`, `<@!id>`) with readable `@name`s: the bot becomes
/// `@{me.name}` (which the core strips from the question), others their display names; the
/// bot's managed role (`<@&id>`) counts as the bot. Returns the text and whether the bot was
/// mentioned.
pub fn readable_mentions(
    content: &str,
    mentions: &[User],
    mention_roles: &[RoleId],
    me: Me<'_>,
) -> (String, bool) {
    let mut text = content.to_string();
    let mut mentioned = false;
    for user in mentions {
        let name = if user.id == me.id {
            mentioned = true;
            me.name
        } else {
            user.display_name()
        };
        for token in [format!("<@{}>", user.id), format!("<@!{}>", user.id)] {
            text = text.replace(&token, &format!("@{name}"));
        }
    }
    if let Some(role) = me.role.filter(|role| mention_roles.contains(role)) {
        mentioned = true;
        text = text.replace(&format!("<@&{role}>"), &format!("@{}", me.name));
    }
    (text, mentioned)
}

/// A guild message as a core event; `None` outside guilds (direct messages are not handled).
/// `thread_parent` is the parent channel when the message was posted in a thread.
pub fn message_posted(
    message: &Message,
    me: Me<'_>,
    role: Role,
    thread_parent: Option<ChannelId>,
) -> Option<Event> {
    let guild = message.guild_id?;
    let message = core_message(message, guild, me, role, thread_parent);
    Some(Event {
        at: message.created_at,
        kind: EventKind::MessagePosted(message),
    })
}

/// Whether `message` is the notice Discord posts in a channel when a message there is pinned
/// (type 6, `CHANNEL_PINNED_MESSAGE`): no member's words, never recorded as a message.
pub fn is_pin_notice(message: &Message) -> bool {
    message.kind == MessageType::PinsAdd
}

/// The pin a notice ([`is_pin_notice`]) reports: its `message_reference` names the pinned
/// message and its author, whose role is `role`, pinned it. `None` for any other message, or
/// one outside a guild.
pub fn pinned(message: &Message, role: Role, thread_parent: Option<ChannelId>) -> Option<Event> {
    if !is_pin_notice(message) {
        return None;
    }
    let guild = message.guild_id?;
    let reference = message.message_reference.as_ref()?;
    let pinned = reference.message_id?;
    Some(Event {
        at: system_time(&message.timestamp),
        kind: EventKind::MessagePinned {
            // The notice is posted where the pinned message is.
            location: location(guild, message.channel_id, thread_parent),
            message: core::MessageId::new(pinned.to_string()),
            by: core::UserId::new(message.author.id.to_string()),
            role,
        },
    })
}

/// Names of forum tags that mark a post solved, compared by their letters and digits only, in
/// lower case ("✅ Solved" is "solved").
const SOLVED_TAGS: [&str; 8] = [
    "solved",
    "resolved",
    "answered",
    "fixed",
    "已解决",
    "已解答",
    "已回答",
    "已修复",
];

/// Whether a forum tag named `name` marks a post solved.
pub fn is_solved_tag(name: &str) -> bool {
    let bare: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    SOLVED_TAGS.contains(&bare.as_str())
}

/// A forum post's "solved" tag ([`is_solved_tag`]) added or removed by a THREAD_UPDATE:
/// `forum_tags` are its forum's available tags, `before` the tags applied before (`None` when
/// the thread was not cached: then only a solved post is news). `None` when nothing changed.
pub fn thread_solved(
    thread: &GuildChannel,
    before: Option<&[ForumTagId]>,
    forum_tags: &[ForumTag],
) -> Option<Event> {
    let parent = thread.parent_id?;
    let solved = |applied: &[ForumTagId]| {
        applied.iter().any(|id| {
            forum_tags
                .iter()
                .any(|tag| tag.id == *id && is_solved_tag(&tag.name))
        })
    };
    let now = solved(&thread.applied_tags);
    if before.map(solved).unwrap_or(false) == now {
        return None;
    }
    Some(Event::now(EventKind::ThreadSolved {
        location: location(thread.guild_id, thread.id, Some(parent)),
        solved: now,
    }))
}

/// A message of `guild` posted while Steward was not running, read back from the channel's
/// history at start (REST messages carry no `guild_id`, hence the explicit guild). The event
/// happens now; the message keeps its own time, so the router can tell how old it is.
pub fn missed_message(
    message: &Message,
    guild: GuildId,
    me: Me<'_>,
    role: Role,
    thread_parent: Option<ChannelId>,
) -> Event {
    let message = core_message(message, guild, me, role, thread_parent);
    Event::now(EventKind::MissedMessage(message))
}

fn core_message(
    message: &Message,
    guild: GuildId,
    me: Me<'_>,
    role: Role,
    thread_parent: Option<ChannelId>,
) -> core::Message {
    let (text, mentions_bot) = readable_mentions(
        &message.content,
        &message.mentions,
        &message.mention_roles,
        me,
    );
    let nick = message.member.as_ref().and_then(|m| m.nick.as_deref());
    let replies_to_bot = message
        .referenced_message
        .as_ref()
        .is_some_and(|replied| replied.author.id == me.id);
    let reply_to = message
        .message_reference
        .as_ref()
        .and_then(|reference| reference.message_id)
        .map(|id| core::MessageId::new(id.to_string()));
    core::Message {
        id: core::MessageId::new(message.id.to_string()),
        location: location(guild, message.channel_id, thread_parent),
        author: author(&message.author, nick, role),
        text,
        created_at: system_time(&message.timestamp),
        reply_to,
        mentions_bot,
        replies_to_bot,
    }
}

/// An edit with new text; `None` for edits without content (embeds resolving), outside guilds,
/// or without an author. On Discord only the author can edit a message, and MESSAGE_UPDATE
/// names them: they are the editor. Mentions are made readable as for new messages, so the
/// rules screen the edited text the same way.
pub fn message_edited(
    event: &MessageUpdateEvent,
    me: Me<'_>,
    thread_parent: Option<ChannelId>,
) -> Option<Event> {
    let guild = event.guild_id?;
    let editor = event.author.as_ref()?;
    let content = event.content.as_deref()?;
    let mentions = event.mentions.as_deref().unwrap_or_default();
    let mention_roles = event.mention_roles.as_deref().unwrap_or_default();
    let (new_text, _) = readable_mentions(content, mentions, mention_roles, me);
    Some(Event::now(EventKind::MessageEdited {
        location: location(guild, event.channel_id, thread_parent),
        message: core::MessageId::new(event.id.to_string()),
        editor: core::UserId::new(editor.id.to_string()),
        new_text,
    }))
}

/// A deleted guild message.
pub fn message_deleted(
    guild: GuildId,
    channel: ChannelId,
    message: serenity::all::MessageId,
    thread_parent: Option<ChannelId>,
) -> Event {
    Event::now(EventKind::MessageDeleted {
        location: location(guild, channel, thread_parent),
        message: core::MessageId::new(message.to_string()),
    })
}

/// A reaction added or removed in a guild; `None` without a guild or user.
pub fn reaction(
    reaction: &Reaction,
    added: bool,
    thread_parent: Option<ChannelId>,
) -> Option<Event> {
    let value = core::Reaction {
        location: location(reaction.guild_id?, reaction.channel_id, thread_parent),
        message: core::MessageId::new(reaction.message_id.to_string()),
        user: core::UserId::new(reaction.user_id?.to_string()),
        emoji: reaction.emoji.to_string(),
    };
    Some(Event::now(if added {
        EventKind::ReactionAdded(value)
    } else {
        EventKind::ReactionRemoved(value)
    }))
}

/// A member joined a guild (needs the members intent).
pub fn member_joined(member: &Member) -> Event {
    Event::now(EventKind::MemberJoined {
        platform: Platform::Discord,
        community: core::CommunityId::new(member.guild_id.to_string()),
        member: author(&member.user, member.nick.as_deref(), Role::Member),
    })
}

/// Steward joined `guild`: the setup notice goes to the system channel, else privately to the
/// owner.
pub fn guild_joined(guild: &Guild) -> Event {
    Event::now(EventKind::BotAdded {
        platform: Platform::Discord,
        community: core::CommunityId::new(guild.id.to_string()),
        community_name: guild.name.clone(),
        added_by: Some(core::UserId::new(guild.owner_id.to_string())),
        notice_location: guild
            .system_channel_id
            .map(|channel| location(guild.id, channel, None)),
    })
}

/// Where a slash command was invoked. Discord sends the channel with the interaction, so
/// threads are recognised without a lookup. `None` outside guilds.
pub fn interaction_location(interaction: &CommandInteraction) -> Option<Location> {
    let guild = interaction.guild_id?;
    let parent = thread_parent_of(interaction.channel.as_ref());
    Some(location(guild, interaction.channel_id, parent))
}

/// Where a button was clicked (the channel of the message that carries it). `None` outside
/// guilds.
pub fn component_location(interaction: &ComponentInteraction) -> Option<Location> {
    let guild = interaction.guild_id?;
    let parent = thread_parent_of(interaction.channel.as_ref());
    Some(location(guild, interaction.channel_id, parent))
}

fn thread_parent_of(channel: Option<&PartialChannel>) -> Option<ChannelId> {
    channel
        .filter(|channel| is_thread(channel.kind))
        .and_then(|channel| channel.parent_id)
}

/// A slash command invocation as a core event. Interactions carry no message.
pub fn command_invoked(location: Location, invoker: Author, command: Command) -> Event {
    Event::now(EventKind::CommandInvoked {
        location,
        invoker,
        command,
        message: None,
    })
}

fn system_time(timestamp: &Timestamp) -> SystemTime {
    let millis = u64::try_from(timestamp.timestamp_millis()).unwrap_or(0);
    SystemTime::UNIX_EPOCH + Duration::from_millis(millis)
}

#[cfg(test)]
#[path = "conversion_tests.rs"]
mod tests;
