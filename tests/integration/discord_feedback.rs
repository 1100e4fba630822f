//! Feedback on Discord against the protocol double: the gateway's echo of Steward's own message
//! is recorded as Steward's (the adapter registered its user at READY), a member's 👍 on it is
//! a vote, and a bot's reaction is dropped at the adapter.

use std::time::Duration;

use serde_json::json;
use steward::core::{MessageId, Platform, UserId};

use crate::discord::start;
use crate::discord_double::payloads::{self, GENERAL, MEMBER};
use crate::discord_double::DoubleOptions;
use crate::scripted::scripted;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_a_thumbs_up_on_stewards_echoed_answer_is_a_vote() {
    let bot = start(scripted("unused"), DoubleOptions::default()).await;
    bot.ready().await;
    let answer = "Lumen listens on port 8428 [1].\n\nSources: [1] `en/install.md`";
    let echo = payloads::bot_message(9401, GENERAL, answer, json!([]));
    bot.double.dispatch("MESSAGE_CREATE", echo).await;
    let (store, id) = (bot.store.clone(), MessageId::new("9401"));
    tokio::time::timeout(Duration::from_secs(10), async {
        while store
            .message(Platform::Discord, &id)
            .await
            .unwrap()
            .is_none()
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("Steward's own message is recorded");

    let mut by_bot = payloads::reaction_add(9401, GENERAL, 777, "👍");
    by_bot["member"]["user"]["bot"] = json!(true);
    bot.double.dispatch("MESSAGE_REACTION_ADD", by_bot).await;
    let thumbs_up = payloads::reaction_add(9401, GENERAL, MEMBER, "👍");
    bot.double.dispatch("MESSAGE_REACTION_ADD", thumbs_up).await;
    let member = UserId::new(MEMBER.to_string());
    tokio::time::timeout(Duration::from_secs(10), async {
        while store
            .vote(Platform::Discord, &id, &member)
            .await
            .unwrap()
            .is_none()
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the member's 👍 is recorded");
    assert_eq!(
        store.vote(Platform::Discord, &id, &member).await.unwrap(),
        Some(1)
    );
    let other_bot = UserId::new("777");
    assert_eq!(
        store
            .vote(Platform::Discord, &id, &other_bot)
            .await
            .unwrap(),
        None,
        "a bot's reaction never counts"
    );
    bot.stop().await;
}
