//! Catch-up after downtime: questions addressed to Steward while it was stopped (an upgrade, a
//! crash) are read back from each channel's recent history when a guild becomes available at
//! start, and handed to the router as `MissedMessage`s, oldest first. The router answers each
//! at most once (the store remembers answered questions) and only within
//! `[bot] catch_up_minutes`; this module keeps the work bounded (a few channels, one page of
//! history each) and off the event loop.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serenity::all::{
    ChannelId, ChannelType, Context, Guild, GuildChannel, GuildId, Message, Permissions, RoleId,
    UserId,
};

use super::actions::execute_all;
use super::conversion::{self, Me};
use super::Shared;
use crate::core::Role;

/// At most this many channels (and threads) of one guild are read.
const MAX_CHANNELS: usize = 50;
/// One page of history per channel: Discord's largest.
const PAGE: u8 = 50;

/// A channel or thread to read; a thread with its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Source {
    channel: ChannelId,
    parent: Option<ChannelId>,
}

/// Starts catching up on `guild` in the background, once per guild and process.
pub fn start(ctx: &Context, shared: &Arc<Shared>, guild: &Guild) {
    let minutes = shared.router.settings().catch_up_minutes;
    if minutes == 0 || !shared.first_catch_up(guild.id) {
        return;
    }
    let me = ctx.cache.current_user().id;
    let sources = readable_sources(guild, me);
    let bot_role = guild
        .roles
        .values()
        .find(|role| role.tags.bot_id == Some(me))
        .map(|role| role.id);
    let window = Duration::from_secs(u64::from(minutes) * 60);
    let (ctx, shared, guild) = (ctx.clone(), shared.clone(), guild.id);
    tokio::spawn(async move {
        let bot = Bot {
            id: me,
            role: bot_role,
        };
        run(&ctx, &shared, guild, sources, bot, window).await;
    });
}

/// Who Steward is in the guild being caught up on.
#[derive(Debug, Clone, Copy)]
struct Bot {
    id: UserId,
    role: Option<RoleId>,
}

/// The text channels Steward can read (all text channels when its own member is not cached:
/// Discord refuses the unreadable ones, which are skipped), then their active threads.
fn readable_sources(guild: &Guild, me: UserId) -> Vec<Source> {
    let member = guild.members.get(&me);
    let readable = |channel: &GuildChannel| match member {
        Some(member) => guild
            .user_permissions_in(channel, member)
            .contains(Permissions::VIEW_CHANNEL | Permissions::READ_MESSAGE_HISTORY),
        None => true,
    };
    let mut channels: Vec<&GuildChannel> = guild
        .channels
        .values()
        .filter(|channel| matches!(channel.kind, ChannelType::Text | ChannelType::News))
        .filter(|channel| readable(channel))
        .collect();
    channels.sort_by_key(|channel| (channel.position, channel.id));
    let mut sources: Vec<Source> = channels
        .iter()
        .map(|channel| Source {
            channel: channel.id,
            parent: None,
        })
        .collect();
    let threads = guild.threads.iter().filter_map(|thread| {
        let parent = thread.parent_id?;
        channels
            .iter()
            .any(|channel| channel.id == parent)
            .then_some(Source {
                channel: thread.id,
                parent: Some(parent),
            })
    });
    sources.extend(threads);
    sources.truncate(MAX_CHANNELS);
    sources
}

async fn run(
    ctx: &Context,
    shared: &Shared,
    guild: GuildId,
    sources: Vec<Source>,
    bot: Bot,
    window: Duration,
) {
    let now = SystemTime::now();
    let mut missed: Vec<(Message, Option<ChannelId>)> = Vec::new();
    for source in sources {
        match ctx
            .http
            .get_messages(source.channel, None, Some(PAGE))
            .await
        {
            Ok(messages) => missed.extend(
                messages
                    .into_iter()
                    .filter(|message| addressed_recently(message, bot, now, window))
                    .map(|message| (message, source.parent)),
            ),
            Err(error) => {
                tracing::debug!(%guild, channel = %source.channel, %error, "catch-up could not read a channel's history");
            }
        }
    }
    if missed.is_empty() {
        return;
    }
    tracing::info!(%guild, questions = missed.len(), "catching up on questions asked while Steward was stopped");
    missed.sort_by_key(|(message, _)| (message.timestamp.unix_timestamp(), message.id));
    let name = shared.router.settings().bot_name.clone();
    for (message, parent) in missed {
        let me = Me {
            id: bot.id,
            name: &name,
            role: bot.role,
        };
        // History carries no member roles; catch-up answers are never privileged anyway.
        let event = conversion::missed_message(&message, guild, me, Role::Member, parent);
        let actions = shared.router.handle(event).await;
        execute_all(&ctx.http, Some(&*ctx.cache), &shared.actions, actions).await;
    }
}

/// Whether a message from history is a member's question for Steward (a mention of it or its
/// managed role, or a reply to it) posted within `window` before `now`.
fn addressed_recently(message: &Message, bot: Bot, now: SystemTime, window: Duration) -> bool {
    if message.author.bot {
        return false;
    }
    let addressed = message.mentions.iter().any(|user| user.id == bot.id)
        || bot
            .role
            .is_some_and(|role| message.mention_roles.contains(&role))
        || message
            .referenced_message
            .as_ref()
            .is_some_and(|replied| replied.author.id == bot.id);
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let age = now.saturating_sub(message.timestamp.unix_timestamp());
    let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
    addressed && age <= window
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    const BOT: u64 = 42;

    fn history(content: &str, minutes_ago: u64, mentions: Value) -> Message {
        let at = SystemTime::now() - Duration::from_secs(minutes_ago * 60);
        let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        let timestamp = serenity::all::Timestamp::from_unix_timestamp(secs as i64).unwrap();
        serde_json::from_value(json!({
            "id": "9001", "channel_id": "300",
            "author": {"id": "500", "username": "ana", "discriminator": "0",
                       "global_name": null, "avatar": null},
            "content": content, "timestamp": timestamp.to_string(), "edited_timestamp": null,
            "tts": false, "mention_everyone": false, "mentions": mentions,
            "mention_roles": [], "attachments": [], "embeds": [], "pinned": false,
            "type": 0, "flags": 0
        }))
        .unwrap()
    }

    fn bot_user() -> Value {
        json!([{"id": BOT.to_string(), "username": "steward", "discriminator": "0",
                "global_name": null, "avatar": null, "bot": true}])
    }

    #[test]
    fn only_recent_questions_for_the_bot_are_caught_up() {
        let bot = Bot {
            id: UserId::new(BOT),
            role: None,
        };
        let window = Duration::from_secs(10 * 60);
        let now = SystemTime::now();
        let cases = [
            (history("<@42> still there?", 2, bot_user()), true),
            (history("<@42> hello?", 120, bot_user()), false),
            (history("just chatting", 2, json!([])), false),
        ];
        for (message, expected) in cases {
            assert_eq!(
                addressed_recently(&message, bot, now, window),
                expected,
                "{}",
                message.content
            );
        }
        let mut from_a_bot = history("<@42> beep", 1, bot_user());
        from_a_bot.author.bot = true;
        assert!(!addressed_recently(&from_a_bot, bot, now, window));
    }
}
