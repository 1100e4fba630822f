//! Discord messages against the protocol double: mentions answered by the real model, long
//! answers split under the limit, answers kept in threads, and every action as REST calls.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use steward::core::{Action, Body, ChannelId, CommunityId, Location, MessageId, Platform, UserId};
use steward::platform::discord;

use crate::discord::{settings, start};
use crate::discord_double::payloads::{self, GENERAL, GUILD, MEMBER, MOD_LOG, OWNER, THREAD};
use crate::discord_double::{DiscordDouble, DoubleOptions, TOKEN};
use crate::dispatch::{eventually, eventually_indexed};
use crate::model_util;
use crate::scripted::scripted;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_mention_gets_a_reply_from_the_real_model() {
    let engine = Arc::new(model_util::engine(4, 1).await);
    let bot = start(engine, DoubleOptions::default()).await;
    bot.ready().await;
    let question = payloads::mention(9001, GENERAL, MEMBER, "What is the capital of France?");
    bot.double.dispatch("MESSAGE_CREATE", question).await;
    let posted = bot.answer_in(&GENERAL.to_string(), "paris").await;
    eprintln!(
        "the model answered: {:?} ({} versions)",
        posted[0].content(),
        posted[0].versions.len()
    );
    assert_eq!(posted.len(), 1, "a short answer is one message");
    let first = &posted[0].versions[0];
    assert_eq!(first["message_reference"]["message_id"], "9001");
    assert_eq!(
        first["allowed_mentions"]["parse"],
        json!([]),
        "the model never pings"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_long_answers_are_split_under_the_limit() {
    let paragraph = "Ownership means each value has a single owner. ".repeat(20);
    let answer = [paragraph.trim(); 6].join("\n\n");
    assert!(answer.chars().count() > 5000);
    let bot = start(scripted(&answer), DoubleOptions::default()).await;
    bot.ready().await;
    let question = payloads::mention(9002, GENERAL, MEMBER, "Explain ownership at length");
    bot.double.dispatch("MESSAGE_CREATE", question).await;
    let normalized = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let expected = normalized(&answer);
    let posted = bot
        .double
        .wait_for("the whole answer", |double| {
            let posted: Vec<_> = double
                .posted()
                .into_iter()
                .filter(|p| p.channel == GENERAL.to_string())
                .collect();
            let shown: Vec<&str> = posted.iter().map(|p| p.content()).collect();
            (normalized(&shown.join(" ")) == expected).then_some(posted)
        })
        .await;
    assert!(posted.len() >= 3, "{} messages", posted.len());
    assert!(
        posted[0].versions.len() >= 2,
        "posted early, then edited as it grew"
    );
    for (index, message) in posted.iter().enumerate() {
        for version in &message.versions {
            let length = version["content"].as_str().unwrap().chars().count();
            assert!(
                length > 0 && length <= 2000,
                "message {index}: {length} characters"
            );
        }
        let replies = message.versions[0]
            .get("message_reference")
            .is_some_and(|r| !r.is_null());
        assert_eq!(replies, index == 0, "only the first message is the reply");
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_questions_in_a_thread_are_answered_in_the_thread() {
    let bot = start(scripted("Use a thread."), DoubleOptions::default()).await;
    bot.ready().await;
    // Mentioned through the bot's managed role, as Discord's mention picker often does.
    let question = payloads::role_mention(9003, THREAD, MEMBER, "Where do answers go?");
    bot.double.dispatch("MESSAGE_CREATE", question).await;
    let posted = bot.answer_in(&THREAD.to_string(), "use a thread").await;
    // Channel lookups, not catch-up's history reads (`/channels/{id}/messages`).
    let lookups = bot
        .double
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/v10/channels/"))
        .filter(|r| !r.path.ends_with("/messages"))
        .count();
    assert_eq!(
        lookups, 0,
        "the thread is known from the guild's cached threads"
    );
    assert_eq!(
        posted[0].versions[0]["message_reference"]["message_id"],
        "9003"
    );
    let elsewhere = bot
        .double
        .posted()
        .iter()
        .filter(|p| p.channel == GENERAL.to_string())
        .count();
    assert_eq!(elsewhere, 0);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_actions_become_rest_calls() {
    let double = DiscordDouble::start(DoubleOptions::default()).await;
    let mut settings = settings(&double, TOKEN);
    settings.mod_log_channel = Some(MOD_LOG);
    let executor = discord::RestExecutor::new(&settings).unwrap();
    let location = Location {
        platform: Platform::Discord,
        community: CommunityId::new(GUILD.to_string()),
        channel: ChannelId::new(GENERAL.to_string()),
        thread: None,
    };
    let message = MessageId::new("9001");
    let community = CommunityId::new(GUILD.to_string());
    let actions = vec![
        Action::React {
            location: location.clone(),
            message: message.clone(),
            emoji: "👍".into(),
        },
        Action::EditOwn {
            location: location.clone(),
            message: message.clone(),
            text: "edited".into(),
        },
        Action::DeleteMessage {
            location: location.clone(),
            message: message.clone(),
            reason: "spam".into(),
            decided_by: None,
        },
        Action::TimeoutMember {
            platform: Platform::Discord,
            community: community.clone(),
            user: UserId::new(MEMBER.to_string()),
            duration: Duration::from_secs(600),
            reason: "flooding".into(),
            decided_by: None,
        },
        Action::PostToModLog {
            platform: Platform::Discord,
            community: community.clone(),
            channel: None,
            case: None,
            text: "ana was timed out for 10 minutes".into(),
        },
        Action::ReplyInThread {
            location,
            message,
            thread_name: "Long answer".into(),
            body: Body::Text("In a thread.".into()),
        },
        Action::PrivateNotice {
            platform: Platform::Discord,
            user: UserId::new(OWNER.to_string()),
            text: "Hello, owner.".into(),
            attachment: None,
        },
        Action::RemoveMember {
            platform: Platform::Discord,
            community: community.clone(),
            user: UserId::new(MEMBER.to_string()),
            ban: false,
            reason: "case #1 (spam), decided by the owner".into(),
            decided_by: Some(UserId::new(OWNER.to_string())),
        },
        Action::RemoveMember {
            platform: Platform::Discord,
            community: community.clone(),
            user: UserId::new(MEMBER.to_string()),
            ban: true,
            reason: "case #2 (scam), decided by the owner".into(),
            decided_by: Some(UserId::new(OWNER.to_string())),
        },
        Action::LiftTimeout {
            platform: Platform::Discord,
            community: community.clone(),
            user: UserId::new(MEMBER.to_string()),
            reason: "case #3 reversed on appeal".into(),
            decided_by: Some(UserId::new(OWNER.to_string())),
        },
        Action::LiftBan {
            platform: Platform::Discord,
            community,
            user: UserId::new(MEMBER.to_string()),
            reason: "case #2 reversed on appeal".into(),
            decided_by: Some(UserId::new(OWNER.to_string())),
        },
    ];
    for action in actions {
        let shown = format!("{action:?}");
        executor
            .execute(action)
            .await
            .unwrap_or_else(|e| panic!("{shown}: {e}"));
    }
    // Lookups (guild, members, channels) come first where needed; the writes, in order:
    let requests: Vec<_> = double
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    let calls: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let message_path = format!("/api/v10/channels/{GENERAL}/messages/9001");
    assert!(
        calls[0].starts_with(&format!("PUT {message_path}/reactions/"))
            && calls[0].ends_with("/@me"),
        "{calls:#?}"
    );
    assert_eq!(calls[1], format!("PATCH {message_path}"));
    assert_eq!(requests[1].body["content"], "edited");
    assert_eq!(calls[2], format!("DELETE {message_path}"));
    assert_eq!(
        calls[3],
        format!("PATCH /api/v10/guilds/{GUILD}/members/{MEMBER}")
    );
    let until = requests[3].body["communication_disabled_until"]
        .as_str()
        .unwrap();
    let until = serenity::all::Timestamp::parse(until)
        .unwrap()
        .unix_timestamp();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((until - now - 600).abs() <= 5, "timed out for 10 minutes");
    assert_eq!(
        calls[4],
        format!("POST /api/v10/channels/{MOD_LOG}/messages")
    );
    assert_eq!(calls[5], format!("POST {message_path}/threads"));
    assert_eq!(requests[5].body["name"], "Long answer");
    assert!(
        calls[6].starts_with("POST /api/v10/channels/")
            && requests[6].body["content"] == "In a thread."
    );
    assert_eq!(calls[7], "POST /api/v10/users/@me/channels");
    assert_eq!(requests[8].body["content"], "Hello, owner.");
    let member_path = format!("/api/v10/guilds/{GUILD}/members/{MEMBER}");
    assert_eq!(calls[9], format!("DELETE {member_path}"), "a kick");
    assert_eq!(
        calls[10],
        format!("PUT /api/v10/guilds/{GUILD}/bans/{MEMBER}"),
        "a ban"
    );
    assert_eq!(
        calls[11],
        format!("PATCH {member_path}"),
        "a lifted timeout"
    );
    assert_eq!(
        requests[11].body["communication_disabled_until"],
        serde_json::Value::Null
    );
    assert!(requests[11]
        .body
        .as_object()
        .unwrap()
        .contains_key("communication_disabled_until"));
    assert_eq!(
        calls[12],
        format!("DELETE /api/v10/guilds/{GUILD}/bans/{MEMBER}"),
        "a lifted ban"
    );
    assert_eq!(calls.len(), 13, "{calls:#?}");
    // Every message declares its mentions: none.
    for request in requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
    {
        assert_eq!(
            request.body["allowed_mentions"]["parse"],
            json!([]),
            "{}",
            request.path
        );
    }
    // The member actions were checked first: the member's, the owner's and Steward's ranks.
    let looked_up = double
        .requests()
        .iter()
        .any(|r| r.method == "GET" && r.path == member_path);
    assert!(looked_up, "the target's roles were read before acting");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_a_pin_vouches_for_the_pinned_messages_conversation() {
    let bot = start(scripted("unused"), DoubleOptions::default()).await;
    bot.ready().await;
    let mut tip = payloads::message(
        9501,
        GENERAL,
        Some(GUILD),
        payloads::user(MEMBER, "ana", false),
        "Zebra relay keys rotate with: relay keys rotate --zebra",
    );
    payloads::with_member(&mut tip);
    bot.double.dispatch("MESSAGE_CREATE", tip).await;
    let store = bot.store.clone();
    eventually(Duration::from_secs(10), "the tip is recorded", || {
        let store = store.clone();
        async move {
            let id = MessageId::new("9501");
            store
                .message(Platform::Discord, &id)
                .await
                .unwrap()
                .is_some()
        }
    })
    .await;

    // Discord's notice of the pin (type 6): by the owner, naming the pinned message.
    let mut notice = payloads::message(
        9502,
        GENERAL,
        Some(GUILD),
        payloads::user(OWNER, "owner", false),
        "",
    );
    notice["type"] = json!(6);
    notice["message_reference"] = json!({"message_id": "9501", "channel_id": GENERAL.to_string(),
                                         "guild_id": GUILD.to_string()});
    payloads::with_member(&mut notice);
    bot.double.dispatch("MESSAGE_CREATE", notice).await;
    let (scope, path) = (
        format!("discord:{GUILD}"),
        format!("messages/discord/{GENERAL}/9501"),
    );
    eventually_indexed(
        &store,
        (&scope, &path),
        Duration::from_secs(10),
        "the pinned tip is in the knowledge base, marked",
        |source| source.marked,
    )
    .await;
    // The notice is no member's message.
    let notice = MessageId::new("9502");
    assert!(store
        .message(Platform::Discord, &notice)
        .await
        .unwrap()
        .is_none());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_a_forum_posts_solved_tag_marks_it_solved() {
    const FORUM: u64 = 1_300_000_000_000_000_310;
    const POST: u64 = 1_300_000_000_000_000_800;
    // The guild has a forum with a "Solved" tag and one post in it, tagged "question".
    let mut options = DoubleOptions::default();
    let tag = |id: &str, name: &str| json!({"id": id, "name": name, "moderated": false, "emoji_id": null, "emoji_name": null});
    let forum = json!({"id": FORUM.to_string(), "type": 15, "guild_id": GUILD.to_string(),
        "name": "help-forum", "position": 1, "parent_id": null, "permission_overwrites": [],
        "nsfw": false, "topic": null, "last_message_id": null, "rate_limit_per_user": 0,
        "flags": 0, "available_tags": [tag("71", "✅ Solved"), tag("72", "question")]});
    let mut post = payloads::thread(POST, GUILD, FORUM, "relay keys?");
    post["applied_tags"] = json!(["72"]);
    let guild = &mut options.guilds[0];
    guild["channels"].as_array_mut().unwrap().push(forum);
    guild["threads"].as_array_mut().unwrap().push(post.clone());
    let bot = start(scripted("unused"), options).await;
    bot.ready().await;

    let mut first = payloads::message(
        POST,
        POST,
        Some(GUILD),
        payloads::user(MEMBER, "ana", false),
        "Zebra relay keys rotate with: relay keys rotate --zebra, right?",
    );
    payloads::with_member(&mut first);
    bot.double.dispatch("MESSAGE_CREATE", first).await;
    let store = bot.store.clone();
    eventually(Duration::from_secs(10), "the post is recorded", || {
        let store = store.clone();
        async move {
            let id = MessageId::new(POST.to_string());
            store
                .message(Platform::Discord, &id)
                .await
                .unwrap()
                .is_some()
        }
    })
    .await;

    // The author tags the post solved (THREAD_UPDATE with the new applied tags).
    post["applied_tags"] = json!(["72", "71"]);
    bot.double.dispatch("THREAD_UPDATE", post.clone()).await;
    let (scope, path) = (
        format!("discord:{GUILD}"),
        format!("messages/discord/{FORUM}/{POST}"),
    );
    eventually_indexed(
        &store,
        (&scope, &path),
        Duration::from_secs(10),
        "the solved post is in the knowledge base",
        |source| source.solved,
    )
    .await;

    // The tag removed: the one-member post leaves the knowledge base.
    post["applied_tags"] = json!(["72"]);
    bot.double.dispatch("THREAD_UPDATE", post).await;
    eventually(
        Duration::from_secs(10),
        "the post leaves the knowledge base",
        || {
            let (store, path) = (store.clone(), path.clone());
            async move {
                let documents = store.kb_documents().await.unwrap();
                !documents.iter().any(|document| document.path == path)
            }
        },
    )
    .await;
    bot.stop().await;
}
