//! An answer the token cap cut off ends at its last complete sentence with a mark, on every
//! platform: Discord (protocol double), Matrix (real Synapse) and the console (the real binary
//! and model).

use steward::config::ModerationSettings;
use steward::text::last_sentence_end;

use crate::discord::start;
use crate::discord_double::payloads::{self, GENERAL, MEMBER};
use crate::discord_double::DoubleOptions;
use crate::matrix_util::{
    bot_settings, homeserver, mention, router_on, Member, Seen, TestBot, BOT,
};
use crate::scripted::scripted_cut;
use crate::synapse::{Synapse, SERVER_NAME};

/// What the model would write without a cap: five-word sentences, so a cap of 24 or 48 words
/// stops it mid-sentence.
fn long_answer() -> String {
    (1..=20)
        .map(|n| format!("Point {n} is quite clear. "))
        .collect()
}

/// What members must see when the cap stopped the model after `cap` words: the whole
/// sentences, then the mark.
fn shown(cap: usize) -> String {
    let whole: Vec<String> = (1..=cap / 5)
        .map(|n| format!("Point {n} is quite clear."))
        .collect();
    format!("{} …", whole.join(" "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_a_cut_answer_ends_with_a_whole_sentence_and_the_mark() {
    // `start` caps answers at 48 tokens: 9 whole sentences and "Point 10 is".
    let bot = start(scripted_cut(&long_answer()), DoubleOptions::default()).await;
    bot.ready().await;
    let question = payloads::mention(9501, GENERAL, MEMBER, "what is Rust?");
    bot.double.dispatch("MESSAGE_CREATE", question).await;
    let posted = bot.answer_in(&GENERAL.to_string(), "…").await;
    assert_eq!(posted.last().unwrap().content(), shown(48));
    // No version the member saw ever showed the half sentence.
    for version in &posted.last().unwrap().versions {
        let seen = version["content"].as_str().unwrap_or_default();
        assert!(!seen.contains("Point 10"), "{seen}");
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_a_cut_answer_ends_with_a_whole_sentence_and_the_mark() {
    let dir = tempfile::tempdir().unwrap();
    let synapse = tokio::task::spawn_blocking(|| homeserver(&["ana"]));
    let (router, _store) = router_on(
        dir.path(),
        ModerationSettings::default(),
        scripted_cut(&long_answer()),
    )
    .await;
    let synapse = synapse.await.unwrap();
    let bot = TestBot::start(
        bot_settings(&synapse, &dir.path().join("bot"), &[SERVER_NAME]),
        router,
    )
    .await;
    let ana = Member::login(&synapse, "ana").await;
    let room = ana.room_with_bot(false).await;
    ana.send(&room, mention("what is Rust?")).await;
    // The router caps answers at 24 tokens: 4 whole sentences and "Point 5 is quite".
    let bot_user = Synapse::user_id(BOT);
    let final_body = ana
        .wait_for("the cut answer's last version", |seen| match seen {
            Seen::Message { room: r, event, .. }
                if r == room.room_id()
                    && event.sender.as_str() == bot_user
                    && event.content.body().ends_with('…') =>
            {
                Some(event.content.body().to_string())
            }
            _ => None,
        })
        .await;
    // An edit's fallback body starts with "* ".
    assert_eq!(final_body.trim_start_matches("* "), shown(24));
    assert!(
        ana.bot_bodies(room.room_id())
            .iter()
            .all(|body| !body.contains("Point 5")),
        "the half sentence was never shown"
    );
    bot.stop().await;
}

#[test]
fn console_a_cut_answer_ends_with_a_whole_sentence_and_the_mark() {
    let dir = tempfile::tempdir().unwrap();
    // 40 tokens cannot hold an explanation of ownership: the cap stops the model.
    let config = crate::console_util::console_config(dir.path(), 40, "");
    let output = crate::console_util::run_console(
        &config,
        &[],
        "/ask Explain in detail how ownership and borrowing work in Rust, with examples.\n",
    );
    assert_eq!(output.code, Some(0), "{}", output.stderr);
    let stdout = output.stdout;
    let answer = stdout.trim_end();
    let before_mark = answer
        .strip_suffix(" …")
        .unwrap_or_else(|| panic!("the cut answer ends with the mark: {answer:?}"));
    assert_eq!(
        last_sentence_end(before_mark, true),
        Some(before_mark.len()),
        "the answer ends with a whole sentence before the mark: {answer:?}"
    );
}
