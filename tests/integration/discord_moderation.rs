//! Moderation on Discord against the protocol double: a blocked message is deleted and logged
//! in the mod-log channel without an answer, a 🚩 reaction opens a case reviewed by the
//! (scripted) model, and a moderator's `/case` decision bans the member.

use serde_json::json;
use steward::core::{CommunityId, Platform};

use crate::discord::start_with;
use crate::discord_double::payloads::{
    self, EVERYONE_PERMISSIONS, GENERAL, GUILD, MANAGE_MESSAGES, MEMBER, MOD_LOG, OWNER,
};
use crate::discord_double::DoubleOptions;
use crate::scripted::scripted;

/// A member's message without a mention of the bot.
fn plain_message(id: u64, text: &str) -> serde_json::Value {
    let mut message = payloads::mention(id, GENERAL, MEMBER, "");
    message["content"] = json!(text);
    message["mentions"] = json!([]);
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_moderation_deletes_logs_reports_and_bans_on_decision() {
    let review = scripted(r#"{"category": "spam", "severity": "medium"}"#);
    let bot = start_with(review, DoubleOptions::default(), |config, discord| {
        config.moderation.blocked_patterns = vec![regex::RegexBuilder::new(r"free\s+nitro")
            .case_insensitive(true)
            .build()
            .unwrap()];
        // Acting, not the dry run new communities start in.
        config.moderation.new_communities = steward::core::settings::ModerationMode::On;
        discord.mod_log_channel = Some(MOD_LOG);
    })
    .await;
    crate::discord_trust::go_live(&bot).await;
    bot.ready().await;
    let mod_log = MOD_LOG.to_string();

    // A blocked pattern, even addressed to the bot: deleted, logged, not answered.
    let blocked = payloads::mention(9101, GENERAL, MEMBER, "FREE nitro at scam.example");
    bot.double.dispatch("MESSAGE_CREATE", blocked).await;
    bot.double
        .request(
            "DELETE",
            &format!("/api/v10/channels/{GENERAL}/messages/9101"),
        )
        .await;
    let logged = bot.answer_in(&mod_log, "case #1").await;
    let case = logged[0].content();
    assert!(
        case.starts_with(&format!(
            "Case #1: blocked_pattern (rule) by <@{MEMBER}> in <#{GENERAL}>"
        )),
        "people and channels are mentions: {case}"
    );
    // ... which ping nobody.
    let declared = &logged[0].versions[0]["allowed_mentions"];
    assert_eq!(declared["parse"], serde_json::json!([]), "{declared}");
    assert!(
        declared
            .get("users")
            .is_none_or(|users| users == &serde_json::json!([])),
        "{declared}"
    );
    assert!(case.contains("`/case 1 dismiss|"), "{case}");

    // A report: one case at once, the model's label from the background, nothing done
    // automatically.
    bot.double
        .dispatch(
            "MESSAGE_CREATE",
            plain_message(9102, "join my server for cheap stuff"),
        )
        .await;
    // Serenity handles events concurrently: wait until the message is recorded, as it would
    // be long before a person reacts to it.
    let recorded = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        let id = steward::core::MessageId::new("9102");
        while bot
            .store
            .message(Platform::Discord, &id)
            .await
            .unwrap()
            .is_none()
        {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    recorded.await.expect("the message is recorded");
    let reporter = MEMBER + 1;
    let report = payloads::reaction_add(9102, GENERAL, reporter, "🚩");
    bot.double.dispatch("MESSAGE_REACTION_ADD", report).await;
    // The review's follow-up comes last (it may follow the opening within milliseconds).
    let logged = bot
        .answer_in(&mod_log, "labelled the reported message spam (medium)")
        .await;
    assert!(logged.last().unwrap().content().starts_with("Case #2: "));
    let opened: Vec<&str> = logged
        .iter()
        .map(|posted| posted.content())
        .filter(|text| text.starts_with("Case #2: reported (report)"))
        .collect();
    assert_eq!(opened.len(), 1, "{logged:?}");
    assert!(
        opened[0].contains(&format!("reported by {reporter}")),
        "{}",
        opened[0]
    );
    let general = GENERAL.to_string();
    assert!(
        bot.double.posted().iter().all(|p| p.channel != general),
        "nothing was answered in #general"
    );

    // A moderator decides case 2: ban (the sixth choice).
    let options = vec![
        json!({"name": "number", "type": 4, "value": 2}),
        json!({"name": "decision", "type": 4, "value": 5}),
    ];
    let decide = payloads::slash_command_with(
        6101,
        "case",
        options,
        OWNER,
        EVERYONE_PERMISSIONS | MANAGE_MESSAGES,
    );
    bot.double.dispatch("INTERACTION_CREATE", decide).await;
    bot.double
        .request("PUT", &format!("/api/v10/guilds/{GUILD}/bans/{MEMBER}"))
        .await;
    let callback = bot
        .double
        .request("POST", "/api/v10/interactions/6101/token-6101/callback")
        .await;
    assert_eq!(
        callback.body["data"]["content"], "Case #2 closed: member banned.",
        "{}",
        callback.body
    );
    assert_eq!(
        callback.body["data"]["flags"], 64,
        "only the moderator sees it"
    );
    bot.answer_in(&mod_log, "decided by").await;
    let stored = bot
        .store
        .case(Platform::Discord, &CommunityId::new(GUILD.to_string()), 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status.as_str(), "banned");
    assert_eq!(stored.decided_by.unwrap().as_str(), OWNER.to_string());
    bot.stop().await;
}
