//! Trust and safety on Discord, against the protocol double: authority is guild-level and
//! ranked (hole 2), a case never leaves its community (hole 8), nothing Steward sends or edits
//! can ping and generated links show their target (hole 9), the decision buttons on mod-log
//! posts, and catch-up after downtime.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};
use steward::core::{Action, ChannelId, CommunityId, Platform, UserId};
use steward::platform::discord;

use crate::discord::{settings, start, start_with, Bot};
use crate::discord_double::payloads::{
    self, BAN_MEMBERS, BOT, EVERYONE_PERMISSIONS, GENERAL, GUILD, JUNIORS_ROLE, MANAGE_MESSAGES,
    MEMBER, MODS_ROLE, MOD_LOG, OWNER, SENIORS_ROLE, VETERANS_ROLE,
};
use crate::discord_double::{DiscordDouble, DoubleOptions, Recorded, TOKEN};
use crate::scripted::scripted;

/// Members of `GUILD` in these tests, by what they may do on the server.
/// Manage Messages through the moderators' role (position 1).
const MODERATOR: u64 = 600;
/// No roles: Manage Messages and Ban Members only through one channel's overwrites.
const OVERWRITTEN: u64 = 601;
/// Junior enforcers (Ban Members, position 2).
const JUNIOR: u64 = 602;
/// Senior enforcers (Ban Members, position 4).
const SENIOR: u64 = 603;
/// Veterans: no permissions, but ranked above the juniors (position 3).
const VETERAN: u64 = 504;
/// Nobody in particular.
const BYSTANDER: u64 = 505;

/// The sixth `/case` decision choice.
const BAN: u64 = 5;

/// A second guild, with its own channels.
const OTHER_GUILD: u64 = 101;
const OTHER_GENERAL: u64 = 1300;
const OTHER_MOD_LOG: u64 = 1302;

fn trust_options() -> DoubleOptions {
    let mut options = DoubleOptions::default();
    options.members.extend([
        (GUILD, payloads::guild_member(MODERATOR, &[MODS_ROLE])),
        (GUILD, payloads::guild_member(OVERWRITTEN, &[])),
        (GUILD, payloads::guild_member(JUNIOR, &[JUNIORS_ROLE])),
        (GUILD, payloads::guild_member(SENIOR, &[SENIORS_ROLE])),
        (GUILD, payloads::guild_member(VETERAN, &[VETERANS_ROLE])),
        (GUILD, payloads::guild_member(BYSTANDER, &[])),
    ]);
    options
}

/// Turns moderation on for `GUILD` (acting, not a dry run).
pub async fn go_live(bot: &Bot) {
    let community = CommunityId::new(GUILD.to_string());
    bot.store
        .set_setting(Platform::Discord, &community, "moderation", "on")
        .await
        .unwrap();
}

/// A bot that deletes `free nitro`, logs to #mod-log and acts.
async fn moderated_bot(options: DoubleOptions) -> Bot {
    let review = scripted(r#"{"category": "spam", "severity": "medium"}"#);
    let bot = start_with(review, options, |config, discord| {
        config.moderation.blocked_patterns = vec![regex::RegexBuilder::new(r"free\s+nitro")
            .case_insensitive(true)
            .build()
            .unwrap()];
        discord.mod_log_channel = Some(MOD_LOG);
    })
    .await;
    go_live(&bot).await;
    bot.ready().await;
    bot
}

/// A member's message in #general that does not mention the bot.
fn plain(id: u64, author: u64, roles: &[u64], text: &str) -> Value {
    let mut message = payloads::mention(id, GENERAL, author, "");
    message["content"] = json!(text);
    message["mentions"] = json!([]);
    payloads::with_roles(message, roles)
}

/// `author` posts a blocked message: Steward deletes it and opens the next case about them.
async fn open_case(bot: &Bot, id: u64, author: u64, roles: &[u64]) {
    let message = plain(id, author, roles, "free nitro for everyone");
    bot.double.dispatch("MESSAGE_CREATE", message).await;
    let path = format!("/api/v10/channels/{GENERAL}/messages/{id}");
    bot.double.request("DELETE", &path).await;
}

/// `invoker` (with `roles`, and `permissions` in the channel) decides `case` with `/case`.
/// Returns the text they were answered.
async fn decide(
    bot: &Bot,
    interaction: u64,
    case: i64,
    invoker: u64,
    roles: &[u64],
    permissions: u64,
) -> String {
    let options = vec![
        json!({"name": "number", "type": 4, "value": case}),
        json!({"name": "decision", "type": 4, "value": BAN}),
    ];
    let command = payloads::slash_command_with(interaction, "case", options, invoker, permissions);
    bot.double
        .dispatch("INTERACTION_CREATE", payloads::with_roles(command, roles))
        .await;
    answered(bot, interaction).await.1
}

/// How interaction `id` was answered: the callback's type, and its text (from the callback,
/// or from the edit of a deferred response).
async fn answered(bot: &Bot, id: u64) -> (u64, String, Value) {
    let callback = format!("/api/v10/interactions/{id}/token-{id}/callback");
    let edited = format!("/api/v10/webhooks/{BOT}/token-{id}/messages/@original");
    bot.double
        .wait_for(&format!("the answer to interaction {id}"), |double| {
            let requests = double.requests();
            let first = requests.iter().find(|r| r.path == callback)?;
            let kind = first.body["type"].as_u64().unwrap_or(0);
            let data = match kind {
                4 | 7 => first.body["data"].clone(),
                _ => requests
                    .iter()
                    .find(|r| r.method == "PATCH" && r.path == edited)?
                    .body
                    .clone(),
            };
            let text = data["content"].as_str().unwrap_or_default().to_string();
            Some((kind, text, data))
        })
        .await
}

/// The first mod-log post containing `needle` (case-insensitive).
async fn logged(bot: &Bot, needle: &str) -> String {
    let lower = needle.to_lowercase();
    let mod_log = MOD_LOG.to_string();
    bot.double
        .wait_for(&format!("a mod-log post containing {needle:?}"), |double| {
            double
                .posted()
                .into_iter()
                .filter(|posted| posted.channel == mod_log)
                .map(|posted| posted.content().to_string())
                .find(|content| content.to_lowercase().contains(&lower))
        })
        .await
}

fn ban_path(user: u64) -> String {
    format!("/api/v10/guilds/{GUILD}/bans/{user}")
}

fn bans(requests: &[Recorded]) -> Vec<usize> {
    requests
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.method == "PUT"
                && r.path
                    .starts_with(&format!("/api/v10/guilds/{GUILD}/bans/"))
        })
        .map(|(index, _)| index)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole_2_manage_messages_cannot_ban() {
    let bot = moderated_bot(trust_options()).await;
    open_case(&bot, 9301, MEMBER, &[]).await;
    open_case(&bot, 9302, MEMBER, &[]).await;

    // Manage Messages and Ban Members from a channel's overwrites make no moderator.
    let overwrite = EVERYONE_PERMISSIONS | MANAGE_MESSAGES | BAN_MEMBERS;
    let text = decide(&bot, 6301, 1, OVERWRITTEN, &[], overwrite).await;
    assert!(text.contains("only moderators"), "{text}");

    // Manage Messages on the server (the moderators' role): a moderator, but not one who may
    // ban. Nothing is done, and the moderators are told why.
    let with_role = EVERYONE_PERMISSIONS | MANAGE_MESSAGES;
    decide(&bot, 6302, 1, MODERATOR, &[MODS_ROLE], with_role).await;
    let note = logged(&bot, "did not ban").await;
    assert!(
        note.contains(&format!("<@{MODERATOR}>")) && note.contains("Ban Members"),
        "{note}"
    );

    // The control: a senior enforcer's ban goes out.
    decide(&bot, 6303, 2, SENIOR, &[SENIORS_ROLE], EVERYONE_PERMISSIONS).await;
    bot.double.request("PUT", &ban_path(MEMBER)).await;
    assert_eq!(
        bans(&bot.double.requests()).len(),
        1,
        "only the senior's ban"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole_2_ban_members_below_the_target_cannot_ban() {
    let bot = moderated_bot(trust_options()).await;
    open_case(&bot, 9311, VETERAN, &[VETERANS_ROLE]).await;
    open_case(&bot, 9312, VETERAN, &[VETERANS_ROLE]).await;

    // Ban Members, but the veteran's top role is above the junior's.
    decide(&bot, 6311, 1, JUNIOR, &[JUNIORS_ROLE], EVERYONE_PERMISSIONS).await;
    let note = logged(&bot, "did not ban").await;
    assert!(note.contains("highest role is not above"), "{note}");

    decide(&bot, 6312, 2, SENIOR, &[SENIORS_ROLE], EVERYONE_PERMISSIONS).await;
    bot.double.request("PUT", &ban_path(VETERAN)).await;
    assert_eq!(
        bans(&bot.double.requests()).len(),
        1,
        "only the senior's ban"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole_2_refused_actions_do_nothing_and_are_noted() {
    let double = DiscordDouble::start(trust_options()).await;
    let mut settings = settings(&double, TOKEN);
    settings.mod_log_channel = Some(MOD_LOG);
    let executor = discord::RestExecutor::new(&settings).unwrap();
    let community = CommunityId::new(GUILD.to_string());
    let ban = |by: Option<u64>, target: u64| Action::RemoveMember {
        platform: Platform::Discord,
        community: community.clone(),
        user: UserId::new(target.to_string()),
        ban: true,
        reason: "test".into(),
        decided_by: by.map(|by| UserId::new(by.to_string())),
    };
    let timeout = |by: Option<u64>, target: u64| Action::TimeoutMember {
        platform: Platform::Discord,
        community: community.clone(),
        user: UserId::new(target.to_string()),
        duration: Duration::from_secs(600),
        reason: "test".into(),
        decided_by: by.map(|by| UserId::new(by.to_string())),
    };
    let refused = [
        ban(Some(MODERATOR), MEMBER),        // Manage Messages only
        ban(Some(JUNIOR), VETERAN),          // ranked below the target
        ban(Some(SENIOR), OWNER),            // nobody acts on the owner
        ban(Some(BYSTANDER + 1000), MEMBER), // not a member at all
        timeout(Some(MODERATOR), MEMBER),    // no Moderate Members
        timeout(None, OWNER),                // Steward's own policy, on the owner
    ];
    for action in refused {
        let shown = format!("{action:?}");
        let error = executor.execute(action).await.expect_err(&shown);
        assert_eq!(error.label(), "discord_refused", "{shown}: {error}");
    }
    // Through the adapter's path, a refusal is noted in the community's mod log.
    executor
        .execute_all(vec![ban(Some(MODERATOR), MEMBER)])
        .await;
    // Allowed: a senior enforcer's ban and Steward's own timeout of a member.
    executor.execute(ban(Some(SENIOR), VETERAN)).await.unwrap();
    executor.execute(timeout(None, MEMBER)).await.unwrap();

    let requests = double.requests();
    let writes: Vec<String> = requests
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        writes,
        [
            format!("POST /api/v10/channels/{MOD_LOG}/messages"),
            format!("PUT {}", ban_path(VETERAN)),
            format!("PATCH /api/v10/guilds/{GUILD}/members/{MEMBER}"),
        ],
        "only the note and the two allowed actions"
    );
    let note = requests
        .iter()
        .find(|r| r.method == "POST")
        .map(|r| r.body.clone())
        .unwrap();
    assert_eq!(
        note["content"],
        format!(
            "Steward did not ban <@{MEMBER}>: <@{MODERATOR}> lacks the Ban Members permission on this server."
        )
    );
    assert_eq!(
        note["allowed_mentions"]["parse"],
        json!([]),
        "the note pings nobody"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole_8_a_case_never_leaves_its_community() {
    let mut options = DoubleOptions::default();
    options.guilds.push(payloads::guild_with(
        OTHER_GUILD,
        "Crabs",
        None,
        &[(OTHER_GENERAL, "general"), (OTHER_MOD_LOG, "mod-log")],
        None,
    ));
    let double = DiscordDouble::start(options).await;
    let mut settings = settings(&double, TOKEN);
    // The configured channel is guild 1's.
    settings.mod_log_channel = Some(MOD_LOG);
    let executor = discord::RestExecutor::new(&settings).unwrap();
    let post = |guild: u64, channel: Option<u64>, case: i64, text: &str| Action::PostToModLog {
        platform: Platform::Discord,
        community: CommunityId::new(guild.to_string()),
        channel: channel.map(|c| ChannelId::new(c.to_string())),
        case: Some(case),
        text: text.to_string(),
    };
    let actions = [
        post(OTHER_GUILD, None, 1, "guild 2, no channel chosen"),
        post(OTHER_GUILD, Some(MOD_LOG), 1, "guild 2, guild 1's channel"),
        post(
            OTHER_GUILD,
            Some(OTHER_MOD_LOG),
            1,
            "guild 2, its own channel",
        ),
        post(GUILD, None, 3, "guild 1, the configured channel"),
    ];
    for action in actions {
        executor.execute(action).await.unwrap();
    }
    let requests = double.requests();
    let posts = |channel: u64| -> Vec<Value> {
        let path = format!("/api/v10/channels/{channel}/messages");
        requests
            .iter()
            .filter(|r| r.method == "POST" && r.path == path)
            .map(|r| r.body.clone())
            .collect()
    };
    let guild_1 = posts(MOD_LOG);
    let texts: Vec<&str> = guild_1
        .iter()
        .filter_map(|b| b["content"].as_str())
        .collect();
    assert_eq!(texts, ["guild 1, the configured channel"]);
    let guild_2 = posts(OTHER_MOD_LOG);
    let texts: Vec<&str> = guild_2
        .iter()
        .filter_map(|b| b["content"].as_str())
        .collect();
    assert_eq!(texts, ["guild 2, its own channel"]);

    // A case's post carries the decision buttons, and pings nobody.
    let buttons: Vec<&str> = guild_1[0]["components"][0]["components"]
        .as_array()
        .expect("an action row of buttons")
        .iter()
        .filter_map(|button| button["custom_id"].as_str())
        .collect();
    assert_eq!(
        buttons,
        [
            "steward:case:3:dismiss",
            "steward:case:3:delete",
            "steward:case:3:timeout",
            "steward:case:3:kick",
            "steward:case:3:ban"
        ]
    );
    assert_eq!(guild_1[0]["allowed_mentions"]["parse"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole_9_streamed_edits_never_ping_and_show_link_targets() {
    let answer = "Hello @everyone and @here, read [docs](https://evil.example) today.";
    let bot = start(scripted(answer), DoubleOptions::default()).await;
    bot.ready().await;
    let question = payloads::mention(9401, GENERAL, MEMBER, "What should I read?");
    bot.double.dispatch("MESSAGE_CREATE", question).await;
    let posted = bot
        .answer_in(&GENERAL.to_string(), "docs (https://evil.example)")
        .await;
    // The same through a slash command: a deferral, then follow-ups and their edits.
    let options = [("question", "What to read?")];
    let ask = payloads::slash_command(6401, "ask", &options, MEMBER, EVERYONE_PERMISSIONS);
    bot.double.dispatch("INTERACTION_CREATE", ask).await;
    bot.answer_in("webhook:token-6401", "docs (https://evil.example)")
        .await;

    let shown = posted.last().unwrap().content();
    assert!(
        shown.contains("@\u{200B}everyone") && shown.contains("@\u{200B}here"),
        "{shown}"
    );
    assert!(
        !shown.contains("@everyone") && !shown.contains("]("),
        "{shown}"
    );
    let requests = bot.double.requests();
    let sent: Vec<&Recorded> = requests
        .iter()
        .filter(|r| r.method == "POST" || r.method == "PATCH")
        .filter(|r| {
            r.path.starts_with("/api/v10/webhooks/")
                || (r.path.starts_with("/api/v10/channels/") && r.path.contains("/messages"))
        })
        .collect();
    let edits = sent.iter().filter(|r| r.method == "PATCH").count();
    assert!(
        edits >= 2,
        "both answers were edited as they streamed: {sent:#?}"
    );
    for request in &sent {
        assert_eq!(
            request.body["allowed_mentions"]["parse"],
            json!([]),
            "{} {} declares no mentions: {}",
            request.method,
            request.path,
            request.body
        );
        if request.method == "PATCH" {
            assert_ne!(
                request.body["allowed_mentions"]["replied_user"],
                json!(true)
            );
        }
    }
    let first = sent
        .iter()
        .find(|r| r.method == "POST" && r.path.starts_with("/api/v10/channels/"))
        .unwrap();
    assert_eq!(
        first.body["allowed_mentions"]["replied_user"],
        json!(true),
        "only the member answered is notified, by the reply itself"
    );
    bot.stop().await;
}

/// A mod-log post about `case` with its buttons, as Steward posted it.
fn case_post(case: i64) -> Value {
    let buttons: Vec<Value> = ["dismiss", "delete", "timeout", "kick", "ban"]
        .iter()
        .map(|word| {
            json!({"type": 2, "style": 1, "label": word, "disabled": false,
                   "custom_id": format!("steward:case:{case}:{word}")})
        })
        .collect();
    let content = format!("Case #{case}");
    let components = json!([{"type": 1, "components": buttons}]);
    payloads::bot_message(70_000 + case as u64, MOD_LOG, &content, components)
}

/// The private confirmation of a ban, as Steward answered the click.
fn confirmation(case: i64) -> Value {
    let components = json!([{"type": 1, "components": [
        {"type": 2, "style": 4, "label": "Yes, ban", "disabled": false,
         "custom_id": format!("steward:confirm:{case}:ban")},
        {"type": 2, "style": 2, "label": "Cancel", "disabled": false,
         "custom_id": format!("steward:cancel:{case}")}]}]);
    let mut message = payloads::bot_message(71_000, MOD_LOG, "Ban the member?", components);
    message["flags"] = json!(64);
    message
}

async fn wait_recorded(bot: &Bot, id: u64) {
    let id = steward::core::MessageId::new(id.to_string());
    let recorded = tokio::time::timeout(Duration::from_secs(60), async {
        while bot
            .store
            .message(Platform::Discord, &id)
            .await
            .unwrap()
            .is_none()
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    recorded.await.expect("the message is recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_buttons_decide_cases_for_moderators_only() {
    let bot = moderated_bot(trust_options()).await;
    // Two reported messages: cases 1 and 2, nothing done automatically.
    for (case, (id, reporter)) in [(9501, 501), (9502, 502)].into_iter().enumerate() {
        let message = plain(id, MEMBER, &[], "join my server for cheap stuff");
        bot.double.dispatch("MESSAGE_CREATE", message).await;
        wait_recorded(&bot, id).await;
        let report = payloads::reaction_add(id, GENERAL, reporter, "🚩");
        bot.double.dispatch("MESSAGE_REACTION_ADD", report).await;
        logged(&bot, &format!("case #{}", case + 1)).await;
    }
    let click = |id: u64, custom_id: &str, invoker: u64, roles: &[u64], message: Value| {
        payloads::button_click(id, custom_id, invoker, roles, MOD_LOG, message)
    };

    // A member's Ban click: refused by the router, privately.
    let by_member = click(6501, "steward:case:1:ban", BYSTANDER, &[], case_post(1));
    bot.double.dispatch("INTERACTION_CREATE", by_member).await;
    let (_, text, data) = answered(&bot, 6501).await;
    assert!(text.contains("only moderators"), "{text}");
    assert_eq!(data["flags"], 64, "only the clicker sees it");

    // A senior enforcer's Ban click: a private confirmation first.
    let by_senior = click(
        6502,
        "steward:case:1:ban",
        SENIOR,
        &[SENIORS_ROLE],
        case_post(1),
    );
    bot.double.dispatch("INTERACTION_CREATE", by_senior).await;
    let (kind, _, data) = answered(&bot, 6502).await;
    assert_eq!((kind, data["flags"].as_u64()), (4, Some(64)), "{data}");
    let choices: Vec<&str> = data["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|button| button["custom_id"].as_str())
        .collect();
    assert_eq!(choices, ["steward:confirm:1:ban", "steward:cancel:1"]);

    // Cancel replaces the confirmation; nothing is done.
    let cancel = click(
        6503,
        "steward:cancel:1",
        SENIOR,
        &[SENIORS_ROLE],
        confirmation(1),
    );
    bot.double.dispatch("INTERACTION_CREATE", cancel).await;
    let (kind, _, _) = answered(&bot, 6503).await;
    assert_eq!(kind, 7, "the confirmation is updated in place");

    // Confirm decides.
    let confirm = click(
        6504,
        "steward:confirm:1:ban",
        SENIOR,
        &[SENIORS_ROLE],
        confirmation(1),
    );
    bot.double.dispatch("INTERACTION_CREATE", confirm).await;
    let (kind, _, _) = answered(&bot, 6504).await;
    assert!(kind == 7 || kind == 6, "{kind}");
    bot.double.request("PUT", &ban_path(MEMBER)).await;

    // A moderator's Delete click deletes the reported message of case 2.
    let delete = click(
        6505,
        "steward:case:2:delete",
        MODERATOR,
        &[MODS_ROLE],
        case_post(2),
    );
    bot.double.dispatch("INTERACTION_CREATE", delete).await;
    bot.double
        .request(
            "DELETE",
            &format!("/api/v10/channels/{GENERAL}/messages/9502"),
        )
        .await;

    // Exactly one ban, and only after the Confirm.
    let requests = bot.double.requests();
    let banned = bans(&requests);
    let confirmed = requests
        .iter()
        .position(|r| r.path == "/api/v10/interactions/6504/token-6504/callback")
        .unwrap();
    assert_eq!(banned.len(), 1, "one ban");
    assert!(banned[0] > confirmed, "the ban followed the Confirm");
    bot.stop().await;
}

/// A question in #general's history, as REST returns it (no `guild_id`, no `member`), posted
/// `minutes` ago.
fn asked_before(id: u64, text: &str, minutes: u64) -> Value {
    let mut message = payloads::mention(id, GENERAL, MEMBER, text);
    let object = message.as_object_mut().unwrap();
    object.remove("guild_id");
    object.remove("member");
    let at = SystemTime::now() - Duration::from_secs(minutes * 60);
    let secs = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let timestamp = serenity::all::Timestamp::from_unix_timestamp(secs as i64).unwrap();
    message["timestamp"] = json!(timestamp.to_string());
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_catch_up_answers_a_recent_question_once() {
    let options = DoubleOptions {
        history: vec![
            (GENERAL, asked_before(8801, "Anyone there? (long ago)", 120)),
            (GENERAL, asked_before(8802, "Anyone there?", 2)),
        ],
        ..Default::default()
    };
    let bot = start(scripted("Caught up."), options).await;
    bot.ready().await;
    let posted = bot.answer_in(&GENERAL.to_string(), "caught up").await;
    assert_eq!(
        posted[0].versions[0]["message_reference"]["message_id"], "8802",
        "the recent question is answered"
    );
    // Give a second answer time to appear: there must be none.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let general = GENERAL.to_string();
    let answers = bot
        .double
        .posted()
        .iter()
        .filter(|posted| posted.channel == general)
        .count();
    assert_eq!(answers, 1, "the two-hour-old question is not answered");
    let read = bot
        .double
        .requests()
        .into_iter()
        .find(|r| r.method == "GET" && r.path == format!("/api/v10/channels/{GENERAL}/messages"))
        .expect("the history was read");
    assert!(read.query.contains("limit=50"), "{}", read.query);
    bot.stop().await;
}
