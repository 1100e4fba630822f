//! Discord API v10 objects as the double sends them: every field serenity's model requires is
//! present, with the values Discord documents. Ids are snowflake strings.

use serde_json::{json, Map, Value};

/// The bot's user id; also the application id, as for every Discord bot.
pub const BOT: u64 = 42;
pub const GUILD: u64 = 100;
pub const OWNER: u64 = 1;
/// A text channel and the guild's system channel. Channel ids are snowflake-sized, as on
/// Discord: the mod log renders `#<snowflake>` as a channel mention, never a case's `#1`.
pub const GENERAL: u64 = 1_300_000_000_000_000_300;
pub const WELCOME: u64 = 1_300_000_000_000_000_301;
/// An active public thread in `GENERAL`.
pub const THREAD: u64 = 1_300_000_000_000_000_777;
/// A member without moderator permissions, and the moderators' role (Manage Messages).
pub const MEMBER: u64 = 500;
pub const MODS_ROLE: u64 = 200;
/// VIEW_CHANNEL | SEND_MESSAGES: what `@everyone` may do.
pub const EVERYONE_PERMISSIONS: u64 = 1024 | 2048;
pub const MANAGE_MESSAGES: u64 = 8192;
pub const KICK_MEMBERS: u64 = 1 << 1;
pub const BAN_MEMBERS: u64 = 1 << 2;
pub const MODERATE_MEMBERS: u64 = 1 << 40;
/// Kick, ban, time out and delete: what the enforcers' roles below grant.
pub const ENFORCER_PERMISSIONS: u64 =
    KICK_MEMBERS | BAN_MEMBERS | MODERATE_MEMBERS | MANAGE_MESSAGES;
/// The guild's role ladder, lowest first: moderators (Manage Messages, position 1), junior
/// enforcers (position 2), veterans (no permissions, position 3), senior enforcers (position 4),
/// then the bot's own role (position 5).
pub const JUNIORS_ROLE: u64 = 210;
pub const VETERANS_ROLE: u64 = 220;
pub const SENIORS_ROLE: u64 = 230;
/// The role Discord manages for the bot; members' mention pickers often insert it.
pub const BOT_ROLE: u64 = 4200;

const TIMESTAMP: &str = "2024-05-01T12:00:00.000000+00:00";

/// Joins objects: `json!` hits the recursion limit on payloads this large.
fn merge(parts: &[Value]) -> Value {
    let mut all = Map::new();
    for part in parts {
        all.extend(part.as_object().expect("an object").clone());
    }
    Value::Object(all)
}

pub fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "discriminator": "0",
           "global_name": null, "avatar": null, "bot": bot, "public_flags": 0})
}

pub fn bot_user() -> Value {
    merge(&[
        user(BOT, "steward", true),
        json!({"verified": true, "mfa_enabled": false, "flags": 0, "email": null,
               "locale": "en-US"}),
    ])
}

fn role(id: u64, name: &str, permissions: u64, position: u16) -> Value {
    json!({"id": id.to_string(), "name": name, "color": 0, "hoist": false, "icon": null,
           "unicode_emoji": null, "position": position, "permissions": permissions.to_string(),
           "managed": false, "mentionable": false, "flags": 0,
           "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null}})
}

/// The role Discord creates for the bot when it joins (tagged with the bot's id).
fn bot_role() -> Value {
    let mut role = role(BOT_ROLE, "Steward", 1_408_749_382_726, 5);
    role["managed"] = json!(true);
    role["tags"] = json!({"bot_id": BOT.to_string()});
    role
}

fn text_channel(id: u64, guild: u64, name: &str) -> Value {
    json!({"id": id.to_string(), "type": 0, "guild_id": guild.to_string(), "name": name,
           "position": 0, "parent_id": null, "permission_overwrites": [], "nsfw": false,
           "topic": null, "last_message_id": null, "rate_limit_per_user": 0})
}

/// A public thread channel (type 11) in `parent`.
pub fn thread(id: u64, guild: u64, parent: u64, name: &str) -> Value {
    json!({"id": id.to_string(), "type": 11, "guild_id": guild.to_string(), "name": name,
           "parent_id": parent.to_string(), "owner_id": MEMBER.to_string(),
           "message_count": 1, "member_count": 1, "rate_limit_per_user": 0, "flags": 0,
           "thread_metadata": {"archived": false, "auto_archive_duration": 1440,
                               "archive_timestamp": TIMESTAMP, "locked": false}})
}

/// The moderators' channel of `GUILD` (#mod-log).
pub const MOD_LOG: u64 = 1_300_000_000_000_000_302;

/// A GUILD_CREATE payload: the role ladder, #general, #mod-log, #welcome (the system channel,
/// if `system_channel` is given), and an active thread in #general.
pub fn guild(id: u64, name: &str, system_channel: Option<u64>) -> Value {
    let mut channels = vec![(GENERAL, "general"), (MOD_LOG, "mod-log")];
    channels.extend(system_channel.map(|channel| (channel, "welcome")));
    guild_with(id, name, system_channel, &channels, Some(THREAD))
}

/// A GUILD_CREATE payload with these text channels; `thread`: an active thread in the first.
pub fn guild_with(
    id: u64,
    name: &str,
    system_channel: Option<u64>,
    channels: &[(u64, &str)],
    thread: Option<u64>,
) -> Value {
    let parent = channels.first().map_or(GENERAL, |(channel, _)| *channel);
    let threads: Vec<Value> = thread
        .map(|thread_id| self::thread(thread_id, id, parent, "help"))
        .into_iter()
        .collect();
    let channels: Vec<Value> = channels
        .iter()
        .map(|(channel, name)| text_channel(*channel, id, name))
        .collect();
    merge(&[
        json!({"id": id.to_string(), "name": name, "icon": null, "icon_hash": null,
               "splash": null, "discovery_splash": null, "owner_id": OWNER.to_string(),
               "afk_channel_id": null, "afk_timeout": 300, "widget_enabled": false,
               "verification_level": 1, "default_message_notifications": 1,
               "explicit_content_filter": 2, "features": [], "mfa_level": 0}),
        json!({"application_id": null, "system_channel_id": system_channel.map(|c| c.to_string()),
               "system_channel_flags": 0, "rules_channel_id": null, "max_members": 500000,
               "vanity_url_code": null, "description": null, "banner": null,
               "premium_tier": 0, "premium_subscription_count": 0, "preferred_locale": "en-US",
               "public_updates_channel_id": null, "nsfw_level": 0,
               "premium_progress_bar_enabled": false, "safety_alerts_channel_id": null}),
        json!({"emojis": [], "stickers": [],
               "roles": [role(id, "@everyone", EVERYONE_PERMISSIONS, 0),
                         role(MODS_ROLE, "moderators", MANAGE_MESSAGES, 1),
                         role(JUNIORS_ROLE, "junior enforcers", ENFORCER_PERMISSIONS, 2),
                         role(VETERANS_ROLE, "veterans", 0, 3),
                         role(SENIORS_ROLE, "senior enforcers", ENFORCER_PERMISSIONS, 4),
                         bot_role()]}),
        // Discord always includes the bot's own member.
        json!({"joined_at": TIMESTAMP, "large": false, "unavailable": false,
               "member_count": 3, "voice_states": [],
               "members": [guild_member(BOT, &[BOT_ROLE])], "presences": [],
               "stage_instances": [], "guild_scheduled_events": []}),
        json!({"channels": channels, "threads": threads}),
    ])
}

/// A guild member object (`GET /guilds/{id}/members/{user}`) with these roles.
pub fn guild_member(user_id: u64, roles: &[u64]) -> Value {
    let roles: Vec<String> = roles.iter().map(u64::to_string).collect();
    json!({"user": user(user_id, "member", user_id == BOT), "roles": roles, "nick": null,
           "joined_at": TIMESTAMP, "deaf": false, "mute": false, "flags": 0,
           "pending": false, "communication_disabled_until": null})
}

/// Sets the roles of an interaction's or a message's member.
pub fn with_roles(mut payload: Value, roles: &[u64]) -> Value {
    let roles: Vec<String> = roles.iter().map(u64::to_string).collect();
    payload["member"]["roles"] = json!(roles);
    payload
}

/// An INTERACTION_CREATE for a click (type 3) on button `custom_id` of `message` in `channel`,
/// by `invoker` with `roles`.
pub fn button_click(
    id: u64,
    custom_id: &str,
    invoker: u64,
    roles: &[u64],
    channel: u64,
    message: Value,
) -> Value {
    let roles: Vec<String> = roles.iter().map(u64::to_string).collect();
    let member = json!({"user": user(invoker, "clicker", false), "roles": roles,
                        "nick": null, "joined_at": TIMESTAMP, "deaf": false, "mute": false,
                        "flags": 0, "permissions": EVERYONE_PERMISSIONS.to_string(),
                        "pending": false});
    let channel_object = json!({"id": channel.to_string(), "type": 0, "name": "mod-log",
                                "guild_id": GUILD.to_string(), "parent_id": null,
                                "permissions": EVERYONE_PERMISSIONS.to_string()});
    merge(&[
        json!({"id": id.to_string(), "application_id": BOT.to_string(), "type": 3,
               "token": format!("token-{id}"), "version": 1, "guild_id": GUILD.to_string(),
               "channel_id": channel.to_string(), "locale": "en-US", "guild_locale": "en-US",
               "app_permissions": "1408749382726", "entitlements": [],
               "authorizing_integration_owners": {"0": GUILD.to_string()}, "context": 0,
               "attachment_size_limit": 10485760}),
        json!({"channel": channel_object, "member": member, "message": message,
               "data": {"custom_id": custom_id, "component_type": 2}}),
    ])
}

/// One of the bot's messages carrying `components` (as it posted them), e.g. a case post.
pub fn bot_message(id: u64, channel: u64, content: &str, components: Value) -> Value {
    let mut posted = message(
        id,
        channel,
        Some(GUILD),
        user(BOT, "steward", true),
        content,
    );
    posted["components"] = components;
    posted
}

/// A message. `guild` is absent in REST responses for DMs; members' messages carry `member`.
pub fn message(id: u64, channel: u64, guild: Option<u64>, author: Value, content: &str) -> Value {
    let mut message = merge(&[
        json!({"id": id.to_string(), "channel_id": channel.to_string(), "author": author,
               "content": content, "timestamp": TIMESTAMP, "edited_timestamp": null,
               "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
               "attachments": [], "embeds": [], "pinned": false, "type": 0, "flags": 0}),
        json!({"components": [], "reactions": []}),
    ]);
    if let Some(guild) = guild {
        message["guild_id"] = json!(guild.to_string());
    }
    message
}

/// A member's MESSAGE_CREATE mentioning the bot (`<@42> text`).
pub fn mention(id: u64, channel: u64, author: u64, text: &str) -> Value {
    let mut message = message(
        id,
        channel,
        Some(GUILD),
        user(author, "ana", false),
        &format!("<@{BOT}> {text}"),
    );
    message["mentions"] = json!([user(BOT, "steward", true)]);
    with_member(&mut message);
    message
}

/// Adds the `member` object (no roles) a guild member's MESSAGE_CREATE carries.
pub fn with_member(message: &mut Value) {
    message["member"] = json!({"roles": [], "nick": null, "joined_at": TIMESTAMP,
                               "deaf": false, "mute": false, "flags": 0});
}

/// A member's MESSAGE_CREATE mentioning the bot's managed role (`<@&4200> text`).
pub fn role_mention(id: u64, channel: u64, author: u64, text: &str) -> Value {
    let mut message = mention(id, channel, author, "");
    message["content"] = json!(format!("<@&{BOT_ROLE}> {text}"));
    message["mentions"] = json!([]);
    message["mention_roles"] = json!([BOT_ROLE.to_string()]);
    message
}

/// An INTERACTION_CREATE for slash command `name` with string `options`, invoked in
/// #general by `invoker` with channel `permissions`.
pub fn slash_command(
    id: u64,
    name: &str,
    options: &[(&str, &str)],
    invoker: u64,
    permissions: u64,
) -> Value {
    let options: Vec<Value> = options
        .iter()
        .map(|(name, value)| json!({"name": name, "type": 3, "value": value}))
        .collect();
    slash_command_with(id, name, options, invoker, permissions)
}

/// [`slash_command`] with options as Discord sends them (`{"name", "type", "value"}`).
pub fn slash_command_with(
    id: u64,
    name: &str,
    options: Vec<Value>,
    invoker: u64,
    permissions: u64,
) -> Value {
    merge(&[
        json!({"id": id.to_string(), "application_id": BOT.to_string(), "type": 2,
               "token": format!("token-{id}"), "version": 1, "guild_id": GUILD.to_string(),
               "channel_id": GENERAL.to_string(), "locale": "en-US", "guild_locale": "en-US",
               "app_permissions": "1408749382726", "entitlements": [],
               "authorizing_integration_owners": {"0": GUILD.to_string()}, "context": 0,
               "attachment_size_limit": 10485760}),
        json!({"channel": {"id": GENERAL.to_string(), "type": 0, "name": "general",
                           "guild_id": GUILD.to_string(), "parent_id": null,
                           "permissions": permissions.to_string()},
               "member": {"user": user(invoker, "ana", false), "roles": [], "nick": null,
                          "joined_at": TIMESTAMP, "deaf": false, "mute": false, "flags": 0,
                          "permissions": permissions.to_string(), "pending": false},
               "data": {"id": "7001", "name": name, "type": 1, "options": options,
                        "guild_id": GUILD.to_string()}}),
    ])
}

/// Registered commands as Discord returns them from a bulk overwrite.
pub fn registered_commands(body: &Value, guild: &str, first_id: u64) -> Value {
    let commands = body.as_array().cloned().unwrap_or_default();
    let registered: Vec<Value> = commands
        .into_iter()
        .enumerate()
        .map(|(index, command)| {
            merge(&[
                json!({"type": 1, "default_member_permissions": null, "dm_permission": true,
                       "nsfw": false, "options": [], "description": ""}),
                command,
                json!({"id": (first_id + index as u64).to_string(),
                       "application_id": BOT.to_string(), "guild_id": guild,
                       "version": "1"}),
            ])
        })
        .collect();
    Value::Array(registered)
}

/// A guild member after an edit (a timeout).
pub fn member(user_id: u64, until: &Value) -> Value {
    json!({"user": user(user_id, "ana", false), "roles": [], "nick": null,
           "joined_at": TIMESTAMP, "deaf": false, "mute": false, "flags": 0,
           "communication_disabled_until": until})
}

/// A DM channel with `recipient`.
pub fn dm_channel(id: u64, recipient: u64) -> Value {
    json!({"id": id.to_string(), "type": 1, "last_message_id": null,
           "recipients": [user(recipient, "owner", false)]})
}

pub fn application() -> Value {
    json!({"id": BOT.to_string(), "name": "Steward", "icon": null, "description": "",
           "bot_public": true, "bot_require_code_grant": false, "verify_key": "00",
           "owner": user(OWNER, "owner", false), "team": null, "flags": 0})
}

/// A MESSAGE_REACTION_ADD by a guild member.
pub fn reaction_add(message: u64, channel: u64, user_id: u64, emoji: &str) -> Value {
    json!({"user_id": user_id.to_string(), "channel_id": channel.to_string(),
           "message_id": message.to_string(), "guild_id": GUILD.to_string(),
           "emoji": {"id": null, "name": emoji}, "burst": false, "type": 0,
           "member": {"user": user(user_id, "bob", false), "roles": [], "nick": null,
                      "joined_at": TIMESTAMP, "deaf": false, "mute": false, "flags": 0}})
}
