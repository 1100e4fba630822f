//! Conversion tests: Discord API v10 JSON (as documented, with the fields Discord sends) is
//! deserialized into serenity's types, converted, and the core values checked.

use serde_json::{json, Value};
use serenity::all::{
    ChannelId, CommandInteraction, ComponentInteraction, Guild, Message, Reaction, UserId,
};

use super::*;

const BOT: u64 = 42;

fn me() -> Me<'static> {
    Me {
        id: UserId::new(BOT),
        name: "Steward",
        role: Some(serenity::all::RoleId::new(4200)),
    }
}

fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "discriminator": "0",
           "global_name": null, "avatar": null, "bot": bot})
}

fn message(content: &str, mentions: Vec<Value>) -> Value {
    json!({
        "id": "9001", "channel_id": "300", "guild_id": "100",
        "author": {"id": "500", "username": "ana", "discriminator": "0",
                   "global_name": "Ana", "avatar": null},
        "member": {"roles": ["200"], "nick": null, "joined_at": "2024-01-01T00:00:00.000000+00:00",
                   "deaf": false, "mute": false, "flags": 0},
        "content": content, "timestamp": "2024-05-01T12:00:00.000000+00:00",
        "edited_timestamp": null, "tts": false, "mention_everyone": false,
        "mentions": mentions, "mention_roles": [], "attachments": [], "embeds": [],
        "pinned": false, "type": 0, "flags": 0
    })
}

fn parse<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid Discord payload")
}

fn posted(event: Event) -> core::Message {
    match event.kind {
        EventKind::MessagePosted(message) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

#[test]
fn a_mention_becomes_a_readable_message_for_the_bot() {
    let raw = message(
        "<@42> what is <@!7>'s favourite crate?",
        vec![user(BOT, "steward-bot", true), user(7, "bo", false)],
    );
    let event = message_posted(&parse::<Message>(raw), me(), Role::Member, None).unwrap();
    assert_eq!(
        event.at,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_564_800)
    );
    let message = posted(event);
    assert_eq!(message.text, "@Steward what is @bo's favourite crate?");
    assert!(message.mentions_bot && !message.replies_to_bot);
    assert_eq!(message.id.as_str(), "9001");
    assert_eq!(message.author.display_name, "Ana");
    assert_eq!(message.author.id.as_str(), "500");
    assert!(!message.author.is_bot);
    assert_eq!(message.location.community.as_str(), "100");
    assert_eq!(message.location.channel.as_str(), "300");
    assert_eq!(message.location.thread, None);
    assert_eq!(message.reply_to, None);
}

#[test]
fn mentioning_the_bots_managed_role_counts_as_a_mention() {
    let mut raw = message("<@&4200> how do I borrow twice?", vec![]);
    raw["mention_roles"] = json!(["4200"]);
    let message = posted(message_posted(&parse(raw), me(), Role::Member, None).unwrap());
    assert_eq!(message.text, "@Steward how do I borrow twice?");
    assert!(message.mentions_bot);
    let mut other_role = message_json_with_role("<@&9> ping the mods", "9");
    other_role["mentions"] = json!([]);
    let message = posted(message_posted(&parse(other_role), me(), Role::Member, None).unwrap());
    assert!(!message.mentions_bot);
    assert_eq!(message.text, "<@&9> ping the mods");
}

fn message_json_with_role(content: &str, role: &str) -> Value {
    let mut raw = message(content, vec![]);
    raw["mention_roles"] = json!([role]);
    raw
}

#[test]
fn a_reply_to_the_bot_is_marked_and_keeps_its_reference() {
    let mut raw = message("and in Chinese?", vec![]);
    raw["type"] = json!(19);
    raw["message_reference"] = json!({"type": 0, "message_id": "8000", "channel_id": "300",
                                       "guild_id": "100"});
    let mut original = message("Rust is a language.", vec![]);
    original["id"] = json!("8000");
    original["author"] = user(BOT, "steward-bot", true);
    raw["referenced_message"] = original;
    let message = posted(message_posted(&parse(raw), me(), Role::Member, None).unwrap());
    assert!(message.replies_to_bot && !message.mentions_bot);
    assert_eq!(message.reply_to.unwrap().as_str(), "8000");
}

#[test]
fn thread_messages_keep_the_parent_channel_and_the_thread() {
    let mut raw = message("<@42> hi", vec![user(BOT, "steward-bot", true)]);
    raw["channel_id"] = json!("777");
    let message = posted(
        message_posted(
            &parse(raw),
            me(),
            Role::Moderator,
            Some(ChannelId::new(300)),
        )
        .unwrap(),
    );
    assert_eq!(message.location.channel.as_str(), "300");
    assert_eq!(message.location.thread.as_ref().unwrap().as_str(), "777");
    assert_eq!(message.author.role, Role::Moderator);
    assert_eq!(
        post_channel(&message.location).unwrap(),
        ChannelId::new(777)
    );
}

#[test]
fn direct_messages_and_bots_are_handled_as_such() {
    let mut raw = message("hello", vec![]);
    raw.as_object_mut().unwrap().remove("guild_id");
    raw.as_object_mut().unwrap().remove("member");
    assert!(message_posted(&parse(raw), me(), Role::Member, None).is_none());
    let mut raw = message("beep", vec![]);
    raw["author"] = user(9, "otherbot", true);
    let message = posted(message_posted(&parse(raw), me(), Role::Member, None).unwrap());
    assert!(message.author.is_bot);
}

/// A GUILD_CREATE payload (large enough that `json!` would exceed the recursion limit).
pub(super) fn guild_json() -> Value {
    serde_json::from_str(
        r#"{
        "id": "100", "name": "Rustaceans", "icon": null, "splash": null,
        "discovery_splash": null, "owner_id": "1", "afk_channel_id": null, "afk_timeout": 300,
        "verification_level": 1, "default_message_notifications": 1,
        "explicit_content_filter": 2, "features": [], "mfa_level": 0, "application_id": null,
        "system_channel_id": "301", "system_channel_flags": 0, "rules_channel_id": null,
        "vanity_url_code": null, "description": null, "banner": null, "premium_tier": 0,
        "preferred_locale": "en-US", "public_updates_channel_id": null, "nsfw_level": 0,
        "premium_progress_bar_enabled": false, "emojis": [], "stickers": [],
        "roles": [
            {"id": "100", "name": "@everyone", "color": 0, "hoist": false, "icon": null,
             "unicode_emoji": null, "position": 0, "permissions": "1024", "managed": false,
             "mentionable": false, "flags": 0,
             "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null}},
            {"id": "200", "name": "mods", "color": 0, "hoist": true, "icon": null,
             "unicode_emoji": null, "position": 1, "permissions": "8192", "managed": false,
             "mentionable": false, "flags": 0,
             "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null}}
        ],
        "joined_at": "2024-05-01T12:00:00.000000+00:00", "large": false, "unavailable": false,
        "member_count": 2, "voice_states": [], "members": [], "presences": [],
        "stage_instances": [], "guild_scheduled_events": [],
        "channels": [
            {"id": "300", "type": 0, "name": "general", "position": 0, "parent_id": null,
             "permission_overwrites": [], "nsfw": false, "topic": null},
            {"id": "301", "type": 0, "name": "welcome", "position": 1, "parent_id": null,
             "permission_overwrites": [], "nsfw": false, "topic": null}
        ],
        "threads": [
            {"id": "777", "type": 11, "name": "help thread", "parent_id": "300",
             "guild_id": "100", "owner_id": "500", "message_count": 1, "member_count": 1,
             "thread_metadata": {"archived": false, "auto_archive_duration": 1440,
                                 "archive_timestamp": "2024-05-01T12:00:00.000000+00:00",
                                 "locked": false}}
        ]
    }"#,
    )
    .unwrap()
}

#[test]
fn joining_a_guild_announces_in_the_system_channel() {
    let guild: Guild = parse(guild_json());
    match guild_joined(&guild).kind {
        EventKind::BotAdded {
            community,
            community_name,
            added_by,
            notice_location,
            platform,
        } => {
            assert_eq!(platform, Platform::Discord);
            assert_eq!(community.as_str(), "100");
            assert_eq!(community_name, "Rustaceans");
            assert_eq!(added_by.unwrap().as_str(), "1");
            assert_eq!(notice_location.unwrap().channel.as_str(), "301");
        }
        other => panic!("{other:?}"),
    }
    let facts = super::super::roles::GuildFacts::from_guild(&guild);
    let mods = [serenity::all::RoleId::new(200)];
    let role = super::super::roles::role_of(
        UserId::new(5),
        facts.permissions_of(&mods),
        &mods,
        facts.owner,
        None,
    );
    assert_eq!(role, Role::Moderator);
    assert!(is_thread(guild.threads[0].kind));
}

pub(super) fn interaction_json(name: &str, options: Value, channel_type: u8) -> Value {
    json!({
        "id": "6000", "application_id": "42", "type": 2, "token": "interaction-token",
        "version": 1, "guild_id": "100", "channel_id": "777", "locale": "en-US",
        "guild_locale": "en-US", "app_permissions": "1408749349952", "entitlements": [],
        "authorizing_integration_owners": {"0": "100"}, "context": 0,
        "attachment_size_limit": 10485760,
        "channel": {"id": "777", "type": channel_type, "name": "help thread",
                    "parent_id": "300", "guild_id": "100"},
        "member": {"user": {"id": "500", "username": "ana", "discriminator": "0",
                            "global_name": "Ana", "avatar": null},
                   "roles": [], "nick": null, "joined_at": "2024-01-01T00:00:00.000000+00:00",
                   "deaf": false, "mute": false, "flags": 0, "permissions": "1024"},
        "data": {"id": "7001", "name": name, "type": 1, "options": options}
    })
}

#[test]
fn slash_commands_are_located_in_their_thread() {
    let options = json!([{"name": "question", "type": 3, "value": "What is Rust?"}]);
    let interaction: CommandInteraction = parse(interaction_json("ask", options, 11));
    let location = interaction_location(&interaction).unwrap();
    assert_eq!(location.channel.as_str(), "300");
    assert_eq!(location.thread.as_ref().unwrap().as_str(), "777");
    assert_eq!(
        interaction.user.id,
        UserId::new(500),
        "the user comes from the member"
    );
    let plain: CommandInteraction = parse(interaction_json("help", json!([]), 0));
    let location = interaction_location(&plain).unwrap();
    assert_eq!((location.channel.as_str(), location.thread), ("777", None));
}

#[test]
fn reactions_edits_and_deletions() {
    let raw = json!({"user_id": "500", "channel_id": "300", "message_id": "9001",
                     "guild_id": "100", "emoji": {"id": null, "name": "👍"}, "burst": false,
                     "type": 0});
    let reaction: Reaction = parse(raw);
    match super::reaction(&reaction, true, None).unwrap().kind {
        EventKind::ReactionAdded(r) => {
            assert_eq!(
                (r.emoji.as_str(), r.user.as_str(), r.message.as_str()),
                ("👍", "500", "9001")
            )
        }
        other => panic!("{other:?}"),
    }
    let update: MessageUpdateEvent = parse(json!({"id": "9001", "channel_id": "300",
        "guild_id": "100", "content": "edited text <@42>",
        "author": user(500, "ana", false), "mentions": [user(BOT, "steward-bot", true)]}));
    match message_edited(&update, me(), None).unwrap().kind {
        EventKind::MessageEdited {
            new_text,
            message,
            editor,
            ..
        } => {
            assert_eq!(
                (new_text.as_str(), message.as_str(), editor.as_str()),
                ("edited text @Steward", "9001", "500")
            )
        }
        other => panic!("{other:?}"),
    }
    // Without an author the editor is unknown: the edit is not applied.
    let anonymous: MessageUpdateEvent = parse(json!({"id": "9001", "channel_id": "300",
        "guild_id": "100", "content": "edited text"}));
    assert!(message_edited(&anonymous, me(), None).is_none());
    let deleted = message_deleted(
        GuildId::new(100),
        ChannelId::new(777),
        serenity::all::MessageId::new(9001),
        Some(ChannelId::new(300)),
    );
    match deleted.kind {
        EventKind::MessageDeleted { location, .. } => {
            assert_eq!(location.thread.unwrap().as_str(), "777")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_ids_are_errors_not_panics() {
    let mut location = location(GuildId::new(1), ChannelId::new(2), None);
    location.channel = core::ChannelId::new("general");
    assert_eq!(
        post_channel(&location).unwrap_err().label(),
        "discord_bad_id"
    );
    location.channel = core::ChannelId::new("0");
    assert!(post_channel(&location).is_err());
}

#[test]
fn missed_messages_from_history_keep_their_time_and_get_their_guild() {
    // REST history messages carry neither `guild_id` nor `member`.
    let mut raw = message("<@42> are you back?", vec![user(BOT, "steward-bot", true)]);
    raw.as_object_mut().unwrap().remove("guild_id");
    raw.as_object_mut().unwrap().remove("member");
    let event = missed_message(&parse(raw), GuildId::new(100), me(), Role::Member, None);
    assert!(event.at > SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_564_800));
    match event.kind {
        EventKind::MissedMessage(message) => {
            assert_eq!(message.location.community.as_str(), "100");
            assert_eq!(message.text, "@Steward are you back?");
            assert!(message.mentions_bot);
            assert_eq!(
                message.created_at,
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_564_800)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn button_clicks_are_located_where_the_button_is() {
    let mut raw = interaction_json("unused", json!([]), 0);
    raw["type"] = json!(3);
    raw["channel_id"] = json!("302");
    raw["channel"] = json!({"id": "302", "type": 0, "name": "mod-log", "parent_id": null,
                            "guild_id": "100"});
    raw["data"] = json!({"custom_id": "steward:case:3:delete", "component_type": 2});
    let mut carrier = message("Case #3", vec![]);
    carrier["channel_id"] = json!("302");
    raw["message"] = carrier;
    let click: ComponentInteraction = parse(raw);
    assert_eq!(click.data.custom_id, "steward:case:3:delete");
    let location = component_location(&click).unwrap();
    assert_eq!(
        (location.community.as_str(), location.channel.as_str()),
        ("100", "302")
    );
    assert_eq!(location.thread, None);
}

#[test]
fn converting_arbitrary_text_never_panics() {
    use crate::platform::fuzz::{arbitrary_text, rng, CASES};
    let mut rng = rng(0x0064_6973_636f_7264);
    let mentions = vec![user(BOT, "steward-bot", true), user(7, "bo", false)];
    let mut base: Message = parse(message("", mentions.clone()));
    base.mention_roles = vec![serenity::all::RoleId::new(4200)];
    let update: MessageUpdateEvent = parse(json!({"id": "9001", "channel_id": "300",
        "guild_id": "100", "content": "", "author": user(500, "ana", false),
        "mentions": mentions}));
    for case in 0..CASES {
        let text = arbitrary_text(&mut rng);
        let name = arbitrary_text(&mut rng);
        let mut message = base.clone();
        message.content = text.clone();
        message.mentions[1].global_name = Some(name.clone());
        if let Some(member) = message.member.as_mut() {
            member.nick = Some(name.clone());
        }
        let me = Me {
            id: UserId::new(BOT),
            name: &name,
            role: Some(serenity::all::RoleId::new(4200)),
        };
        let posted = message_posted(&message, me, Role::Member, None);
        assert!(posted.is_some(), "case {case}: {text:?}");
        let _ = missed_message(&message, GuildId::new(100), me, Role::Member, None);
        let mut edit = update.clone();
        edit.content = Some(text.clone());
        let _ = message_edited(&edit, me, Some(ChannelId::new(300)));
        let _ = super::super::components::Click::parse(&text);
    }
}

#[test]
fn a_pin_notice_becomes_a_pin_of_the_referenced_message() {
    // Discord's CHANNEL_PINNED_MESSAGE (type 6): posted by who pinned, empty content, the
    // pinned message in `message_reference`.
    let mut raw = message("", vec![]);
    raw["type"] = json!(6);
    raw["message_reference"] =
        json!({"message_id": "8001", "channel_id": "300", "guild_id": "100"});
    let notice = parse::<Message>(raw);
    assert!(is_pin_notice(&notice));
    let thread_parent = Some(ChannelId::new(30));
    match pinned(&notice, Role::Moderator, thread_parent).map(|event| event.kind) {
        Some(EventKind::MessagePinned {
            location,
            message,
            by,
            role,
        }) => {
            assert_eq!(role, Role::Moderator);
            assert_eq!(message.as_str(), "8001");
            assert_eq!(by.as_str(), "500");
            assert_eq!(location.channel.as_str(), "30");
            assert_eq!(location.thread.as_ref().map(|t| t.as_str()), Some("300"));
        }
        other => panic!("expected a pin, got {other:?}"),
    }
    // A plain message, or a reply (which has a reference too), is no pin.
    let mut reply = message("see above", vec![]);
    reply["message_reference"] = json!({"message_id": "8001", "channel_id": "300"});
    let reply = parse::<Message>(reply);
    assert!(!is_pin_notice(&reply));
    assert!(pinned(&reply, Role::Moderator, None).is_none());
}

#[test]
fn a_forum_posts_solved_tag_marks_it_solved_and_its_removal_unmarks_it() {
    let tag = |id: &str, name: &str| json!({"id": id, "name": name, "moderated": false, "emoji_id": null, "emoji_name": null});
    let forum_tags: Vec<serenity::all::ForumTag> = vec![
        parse(tag("71", "✅ Solved")),
        parse(tag("72", "question")),
        parse(tag("73", "已解决")),
    ];
    let post = |applied: Value| -> serenity::all::GuildChannel {
        parse(
            json!({"id": "800", "type": 11, "guild_id": "100", "name": "relay keys?",
                     "parent_id": "310", "owner_id": "500", "message_count": 1,
                     "member_count": 1, "rate_limit_per_user": 0, "flags": 0,
                     "applied_tags": applied,
                     "thread_metadata": {"archived": false, "auto_archive_duration": 1440,
                                         "archive_timestamp": "2024-05-01T12:00:00.000000+00:00",
                                         "locked": false}}),
        )
    };
    let ids = |raw: &[&str]| -> Vec<serenity::all::ForumTagId> {
        raw.iter()
            .map(|id| serenity::all::ForumTagId::new(id.parse().unwrap()))
            .collect()
    };
    let solved = |event: Option<Event>| match event.map(|event| event.kind) {
        Some(EventKind::ThreadSolved { location, solved }) => {
            assert_eq!(location.channel.as_str(), "310");
            assert_eq!(location.thread.as_ref().map(|t| t.as_str()), Some("800"));
            Some(solved)
        }
        None => None,
        Some(other) => panic!("expected a solved thread, got {other:?}"),
    };
    let tagged = post(json!(["72", "71"]));
    assert_eq!(
        solved(thread_solved(&tagged, Some(&ids(&["72"])), &forum_tags)),
        Some(true)
    );
    assert_eq!(
        solved(thread_solved(&tagged, None, &forum_tags)),
        Some(true)
    );
    let chinese = post(json!(["73"]));
    assert_eq!(
        solved(thread_solved(&chinese, Some(&[]), &forum_tags)),
        Some(true)
    );
    // Unchanged, or another tag: nothing; the tag removed: no longer solved.
    assert_eq!(
        solved(thread_solved(&tagged, Some(&ids(&["71"])), &forum_tags)),
        None
    );
    let untagged = post(json!(["72"]));
    assert_eq!(
        solved(thread_solved(&untagged, Some(&[]), &forum_tags)),
        None
    );
    assert_eq!(solved(thread_solved(&untagged, None, &forum_tags)), None);
    assert_eq!(
        solved(thread_solved(&untagged, Some(&ids(&["71"])), &forum_tags)),
        Some(false)
    );
    assert!(is_solved_tag("RESOLVED") && !is_solved_tag("unsolved") && !is_solved_tag("bug"));
}
