//! Discord slash commands against the protocol double: `/ask` deferred and followed up with
//! the real model, moderator commands answered privately, unknown commands answered by the
//! error handler.

use std::sync::Arc;
use std::time::{Duration, Instant};

use steward::core::{CommunityId, Platform};

use crate::discord::start;
use crate::discord_double::payloads::{
    self, BOT, EVERYONE_PERMISSIONS, GUILD, MANAGE_MESSAGES, MEMBER, MODS_ROLE,
};
use crate::discord_double::DoubleOptions;
use crate::model_util;
use crate::scripted::scripted;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_ask_is_deferred_then_followed_up() {
    let engine = Arc::new(model_util::engine(4, 1).await);
    let bot = start(engine, DoubleOptions::default()).await;
    bot.ready().await;
    let ask = payloads::slash_command(
        6000,
        "ask",
        &[("question", "What is the capital of France?")],
        MEMBER,
        EVERYONE_PERMISSIONS,
    );
    let sent = Instant::now();
    bot.double.dispatch("INTERACTION_CREATE", ask).await;
    let callback = bot
        .double
        .request("POST", "/api/v10/interactions/6000/token-6000/callback")
        .await;
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "deferred within Discord's 3 s"
    );
    assert_eq!(callback.body["type"], 5, "a deferred response");
    let posted = bot.answer_in("webhook:token-6000", "paris").await;
    assert!(posted[0].id.parse::<u64>().is_ok(), "a follow-up message");
    let requests = bot.double.requests();
    let position = |path: &str| requests.iter().position(|r| r.path == path).unwrap();
    assert!(
        position("/api/v10/interactions/6000/token-6000/callback")
            < position(&format!("/api/v10/webhooks/{BOT}/token-6000"))
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_moderator_commands_answer_privately_and_refuse_members() {
    let bot = start(scripted("unused"), DoubleOptions::default()).await;
    bot.ready().await;
    let set_zh = [("key", "language"), ("value", "zh")];
    let no_roles: &[u64] = &[];
    let cases = [
        // (interaction id, command, options, channel permissions, member roles, expected text)
        (
            6001,
            "setting",
            &set_zh[..],
            EVERYONE_PERMISSIONS,
            no_roles,
            "only moderators",
        ),
        // Manage Messages from a channel overwrite only: not a moderator of the server.
        (
            6005,
            "setting",
            &set_zh[..],
            EVERYONE_PERMISSIONS | MANAGE_MESSAGES,
            no_roles,
            "only moderators",
        ),
        // The moderators' role grants Manage Messages on the server.
        (
            6002,
            "setting",
            &set_zh[..],
            EVERYONE_PERMISSIONS | MANAGE_MESSAGES,
            &[MODS_ROLE][..],
            "language is now zh",
        ),
        (
            6003,
            "help",
            &[][..],
            EVERYONE_PERMISSIONS,
            no_roles,
            "命令",
        ),
        // A command Steward does not know (stale registration): the error handler answers.
        (
            6004,
            "translate",
            &[][..],
            EVERYONE_PERMISSIONS,
            no_roles,
            "unknown or outdated",
        ),
    ];
    for (id, name, options, permissions, roles, expected) in cases {
        let command = payloads::slash_command(id, name, options, MEMBER, permissions);
        let command = payloads::with_roles(command, roles);
        bot.double.dispatch("INTERACTION_CREATE", command).await;
        let path = format!("/api/v10/interactions/{id}/token-{id}/callback");
        let callback = bot.double.request("POST", &path).await;
        assert_eq!(
            callback.body["type"], 4,
            "answered at once: {}",
            callback.body
        );
        assert_eq!(
            callback.body["data"]["flags"], 64,
            "ephemeral: {}",
            callback.body
        );
        let text = callback.body["data"]["content"].as_str().unwrap();
        assert!(text.contains(expected), "{name} {permissions}: {text}");
    }
    let community = CommunityId::new(GUILD.to_string());
    let language = bot
        .store
        .setting(Platform::Discord, &community, "language")
        .await
        .unwrap();
    assert_eq!(language.as_deref(), Some("zh"));
    bot.stop().await;
}
