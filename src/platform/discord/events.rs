//! Gateway events (serenity's event handler): guild joins, messages, pins (the notice a pin
//! posts), edits, deletions (one by one or in bulk), reactions, forum posts tagged solved and
//! member joins become core events; the router's actions are executed. Button clicks go to `components` (poise handles
//! only slash commands). A guild available at start is caught up on (`catch_up`).
//! Lookups the payloads lack (is this channel a thread? which roles grant what?) come from the
//! cache, copied out before any await.

use std::sync::Arc;

use serenity::all::{
    ChannelId, Context, EventHandler, Guild, GuildChannel, GuildId, Interaction, Member, Message,
    MessageId, MessageUpdateEvent, Reaction, Ready, RoleId, UserId,
};

use super::actions::execute_all;
use super::conversion::{self, is_thread, Me};
use super::roles::{role_of, GuildFacts};
use super::Shared;
use super::{catch_up, commands, components};
use crate::core::{Event, Role};

/// Serenity's event handler for Steward.
pub struct Events {
    pub shared: Arc<Shared>,
}

impl Events {
    async fn dispatch(&self, ctx: &Context, event: Event) {
        let actions = self.shared.router.handle(event).await;
        execute_all(&ctx.http, Some(&*ctx.cache), &self.shared.actions, actions).await;
    }
}

#[serenity::async_trait]
impl EventHandler for Events {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        // Steward's own messages (the gateway echoes them) are the answers members rate.
        let me = crate::core::UserId::new(ready.user.id.to_string());
        self.shared
            .router
            .register_self(crate::core::Platform::Discord, me);
        tracing::info!(
            user = %ready.user.name,
            guilds = ready.guilds.len(),
            shard = ?ready.shard.map(|s| (s.id.0, s.total)),
            "connected to the Discord gateway"
        );
    }

    /// Registers the guild's commands on every guild create (an idempotent overwrite, so a
    /// guild that added Steward while it was offline still gets them). Only a guild that was
    /// not in READY is new: it gets the setup notice and is recorded as a community. A guild
    /// Steward was already in is caught up on: questions asked while it was stopped.
    async fn guild_create(&self, ctx: Context, guild: Guild, is_new: Option<bool>) {
        if let Err(error) = guild
            .id
            .set_commands(&ctx.http, commands::definitions())
            .await
        {
            tracing::warn!(guild = %guild.id, %error, "registering slash commands failed");
        }
        if is_new == Some(true) {
            tracing::info!(guild = %guild.id, name = %guild.name, "joined a guild");
            self.dispatch(&ctx, conversion::guild_joined(&guild)).await;
        } else {
            catch_up::start(&ctx, &self.shared, &guild);
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        if let Interaction::Component(click) = interaction {
            components::clicked(&ctx, &self.shared, &click).await;
        }
    }

    async fn message(&self, ctx: Context, message: Message) {
        let Some(guild) = message.guild_id else {
            return;
        };
        let thread_parent = thread_parent(&ctx, guild, message.channel_id).await;
        let role = message_role(&ctx, guild, &message, &self.shared);
        if conversion::is_pin_notice(&message) {
            if let Some(event) = conversion::pinned(&message, role, thread_parent) {
                self.dispatch(&ctx, event).await;
            }
            return;
        }
        let id = ctx.cache.current_user().id;
        let me = Me {
            id,
            name: &self.shared.router.settings().bot_name,
            role: bot_role(&ctx, guild, id),
        };
        if let Some(event) = conversion::message_posted(&message, me, role, thread_parent) {
            self.dispatch(&ctx, event).await;
        }
    }

    async fn message_update(
        &self,
        ctx: Context,
        _old: Option<Message>,
        _new: Option<Message>,
        event: MessageUpdateEvent,
    ) {
        let Some(guild) = event.guild_id else { return };
        let thread_parent = thread_parent(&ctx, guild, event.channel_id).await;
        let id = ctx.cache.current_user().id;
        let me = Me {
            id,
            name: &self.shared.router.settings().bot_name,
            role: bot_role(&ctx, guild, id),
        };
        if let Some(event) = conversion::message_edited(&event, me, thread_parent) {
            self.dispatch(&ctx, event).await;
        }
    }

    async fn message_delete(
        &self,
        ctx: Context,
        channel: ChannelId,
        message: MessageId,
        guild: Option<GuildId>,
    ) {
        let Some(guild) = guild else { return };
        let thread_parent = thread_parent(&ctx, guild, channel).await;
        let event = conversion::message_deleted(guild, channel, message, thread_parent);
        self.dispatch(&ctx, event).await;
    }

    /// MESSAGE_DELETE_BULK (a moderator's purge, a member's messages removed with a ban): each
    /// message is deleted like a single deletion, so none of their text stays stored.
    async fn message_delete_bulk(
        &self,
        ctx: Context,
        channel: ChannelId,
        messages: Vec<MessageId>,
        guild: Option<GuildId>,
    ) {
        let Some(guild) = guild else { return };
        let thread_parent = thread_parent(&ctx, guild, channel).await;
        for message in messages {
            let event = conversion::message_deleted(guild, channel, message, thread_parent);
            self.dispatch(&ctx, event).await;
        }
    }

    async fn reaction_add(&self, ctx: Context, reaction: Reaction) {
        self.reaction(ctx, reaction, true).await;
    }

    async fn reaction_remove(&self, ctx: Context, reaction: Reaction) {
        self.reaction(ctx, reaction, false).await;
    }

    /// A forum post's tags changed: its "solved" tag marks the post's conversation solved.
    async fn thread_update(&self, ctx: Context, old: Option<GuildChannel>, new: GuildChannel) {
        let Some(parent) = new.parent_id else {
            return;
        };
        let forum_tags = ctx
            .cache
            .guild(new.guild_id)
            .and_then(|guild| {
                guild
                    .channels
                    .get(&parent)
                    .map(|forum| forum.available_tags.clone())
            })
            .unwrap_or_default();
        if forum_tags.is_empty() {
            return;
        }
        let before = old.as_ref().map(|old| old.applied_tags.as_slice());
        if let Some(event) = conversion::thread_solved(&new, before, &forum_tags) {
            self.dispatch(&ctx, event).await;
        }
    }

    async fn guild_member_addition(&self, ctx: Context, member: Member) {
        self.dispatch(&ctx, conversion::member_joined(&member))
            .await;
    }
}

impl Events {
    async fn reaction(&self, ctx: Context, reaction: Reaction, added: bool) {
        let Some(guild) = reaction.guild_id else {
            return;
        };
        // Bots (Steward included) neither report messages nor rate answers. Only an added
        // reaction names its member; a bot's removal finds nothing of theirs to remove.
        if reaction
            .member
            .as_ref()
            .is_some_and(|member| member.user.bot)
        {
            return;
        }
        let thread_parent = thread_parent(&ctx, guild, reaction.channel_id).await;
        if let Some(event) = conversion::reaction(&reaction, added, thread_parent) {
            self.dispatch(&ctx, event).await;
        }
    }
}

/// The parent channel if `channel` is a thread: from the cache (channels and active threads
/// arrive with the guild and thread events), else asked from the API.
async fn thread_parent(ctx: &Context, guild: GuildId, channel: ChannelId) -> Option<ChannelId> {
    let cached = ctx.cache.guild(guild).and_then(|guild| {
        if guild.channels.contains_key(&channel) {
            return Some(None);
        }
        guild
            .threads
            .iter()
            .find(|thread| thread.id == channel)
            .map(|thread| thread.parent_id)
    });
    if let Some(parent) = cached {
        return parent;
    }
    match channel.to_channel(ctx).await {
        Ok(serenity::all::Channel::Guild(found)) if is_thread(found.kind) => found.parent_id,
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(%channel, %error, "looking up a channel failed");
            None
        }
    }
}

/// The role Discord manages for the bot in `guild` (tagged with the bot's id).
fn bot_role(ctx: &Context, guild: GuildId, bot: UserId) -> Option<RoleId> {
    let guild = ctx.cache.guild(guild)?;
    let role = guild
        .roles
        .values()
        .find(|role| role.tags.bot_id == Some(bot))?;
    Some(role.id)
}

/// The author's role from their guild-level permissions (cached roles; MESSAGE_CREATE carries
/// the member's current roles) and the guild owner.
fn message_role(ctx: &Context, guild: GuildId, message: &Message, shared: &Shared) -> Role {
    let Some(member) = &message.member else {
        return Role::Member;
    };
    let facts = ctx
        .cache
        .guild(guild)
        .map(|guild| GuildFacts::from_guild(&guild))
        .unwrap_or_default();
    role_of(
        message.author.id,
        facts.permissions_of(&member.roles),
        &member.roles,
        facts.owner,
        shared.actions.moderator_role,
    )
}
