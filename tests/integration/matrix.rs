//! The Matrix adapter end to end: a real Synapse (see `synapse.rs`), the real default model,
//! Steward's own `platform::matrix::run`, and members acting through matrix-sdk clients.
//!
//! Each test starts its own homeserver (~2 s) and bot so that each asserts only its own
//! behaviour; Synapse and the model load in parallel.

use std::sync::Arc;
use std::time::Instant;

use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::events::room::message::{MessageType, Relation, RoomMessageEventContent};
use steward::community::Router;
use steward::core::{CommunityId, Platform};
use steward::store::Store;

use crate::dispatch::{eventually, eventually_indexed};
use crate::matrix_util::{
    add_to_space, answers_to, bot_devices, bot_reply_to, bot_settings, homeserver, in_thread,
    mention, router, router_with, Member, Seen, TestBot, BOT,
};
use crate::synapse::{Synapse, SERVER_NAME};

/// A homeserver with the bot and `members`, and the router (real model) with its store.
async fn setup(
    members: &'static [&'static str],
    dir: &std::path::Path,
) -> (Synapse, Arc<Router>, Arc<Store>) {
    let synapse = tokio::task::spawn_blocking(move || homeserver(members));
    let (router, store) = router(dir).await;
    (synapse.await.unwrap(), router, store)
}

fn bot_id() -> String {
    Synapse::user_id(BOT)
}

/// Asks by mention in `room` and returns the bot's reply (event, was it encrypted).
async fn ask_and_wait(
    member: &Member,
    room: &matrix_sdk::Room,
    question: &str,
) -> (
    matrix_sdk::ruma::events::room::message::OriginalSyncRoomMessageEvent,
    bool,
) {
    let asked = member.send(room, mention(question)).await;
    member
        .wait_for("the bot's reply", |seen| {
            bot_reply_to(seen, room.room_id(), &asked)
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_mention_in_unencrypted_room_gets_a_reply() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, _store) = setup(&["ana"], dir.path()).await;
    let bot = TestBot::start(
        bot_settings(&synapse, &dir.path().join("bot"), &[SERVER_NAME]),
        router,
    )
    .await;
    let ana = Member::login(&synapse, "ana").await;
    let room = ana.room_with_bot(false).await;

    let (reply, encrypted) = ask_and_wait(&ana, &room, "What is the capital of France?").await;
    assert!(!encrypted);
    assert!(
        matches!(reply.content.relates_to, Some(Relation::Reply(_))),
        "a plain reply with m.in_reply_to: {reply:?}"
    );
    assert!(!reply.content.body().trim().is_empty(), "{reply:?}");
    let mentions = reply
        .content
        .mentions
        .as_ref()
        .expect("the reply mentions the asker");
    assert!(mentions.user_ids.contains(&ana.user_id));

    // On joining, the bot posted its setup notice, Markdown rendered to HTML.
    let notice = ana
        .messages_from(room.room_id(), &bot_id())
        .into_iter()
        .find_map(|event| match event.content.msgtype {
            MessageType::Notice(notice) => Some(notice),
            _ => None,
        })
        .expect("a setup notice");
    let html = notice
        .formatted
        .expect("Markdown becomes formatted_body")
        .body;
    assert!(
        html.contains("<code>!steward setting language zh</code>"),
        "{html}"
    );
    assert!(
        notice.body.contains("`!steward setting language zh`"),
        "plain body: {}",
        notice.body
    );

    bot.stop().await;
    eprintln!("matrix unencrypted mention: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_mention_in_encrypted_room_gets_an_encrypted_reply() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, _store) = setup(&["ana"], dir.path()).await;
    let bot = TestBot::start(
        bot_settings(&synapse, &dir.path().join("bot"), &["@ana:localhost"]),
        router,
    )
    .await;
    let ana = Member::login(&synapse, "ana").await;
    let room = ana.room_with_bot(true).await;

    let (reply, encrypted) = ask_and_wait(&ana, &room, "What is the capital of France?").await;
    assert!(
        encrypted,
        "the bot's reply was encrypted and the member decrypted it"
    );
    assert!(
        matches!(reply.content.relates_to, Some(Relation::Reply(_))),
        "{reply:?}"
    );
    assert!(!reply.content.body().trim().is_empty(), "{reply:?}");

    bot.stop().await;
    eprintln!("matrix encrypted mention: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_thread_follow_up_without_mention_is_answered_in_the_thread() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, _store) = setup(&["ana"], dir.path()).await;
    let bot = TestBot::start(
        bot_settings(&synapse, &dir.path().join("bot"), &[SERVER_NAME]),
        router,
    )
    .await;
    let ana = Member::login(&synapse, "ana").await;
    let room = ana.room_with_bot(false).await;

    let root = ana
        .send(
            &room,
            RoomMessageEventContent::text_plain("Let's talk about Rust."),
        )
        .await;
    let first = ana
        .send(&room, in_thread(mention("What is Rust?"), &root, &root))
        .await;
    let (answer, _) = ana
        .wait_for("the answer in the thread", |seen| {
            bot_reply_to(seen, room.room_id(), &first)
        })
        .await;
    let in_thread_root =
        |event: &matrix_sdk::ruma::events::room::message::OriginalSyncRoomMessageEvent| match &event
            .content
            .relates_to
        {
            Some(Relation::Thread(thread)) => Some(thread.event_id.clone()),
            _ => None,
        };
    assert_eq!(
        in_thread_root(&answer),
        Some(root.clone()),
        "answered inside the thread: {answer:?}"
    );

    let follow_up = RoomMessageEventContent::text_plain("Who created it?");
    let follow_up = ana
        .send(&room, in_thread(follow_up, &root, &answer.event_id))
        .await;
    let (second, _) = ana
        .wait_for("the answer to the follow-up", |seen| {
            bot_reply_to(seen, room.room_id(), &follow_up)
        })
        .await;
    assert_eq!(in_thread_root(&second), Some(root.clone()), "{second:?}");
    assert!(!second.content.body().trim().is_empty());

    // A message outside the thread without a mention gets no answer (checked once a later
    // mention has been answered: recording a message takes milliseconds, an answer seconds).
    let unrelated = ana
        .send(&room, RoomMessageEventContent::text_plain("Lunch, anyone?"))
        .await;
    let probe = ana.send(&room, mention("Say hi.")).await;
    ana.wait_for("the answer to the probe", |seen| {
        bot_reply_to(seen, room.room_id(), &probe)
    })
    .await;
    assert_eq!(
        answers_to(&ana, room.room_id(), &unrelated),
        0,
        "no mention, no thread: no answer"
    );

    bot.stop().await;
    eprintln!("matrix thread follow-up: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_moderator_command_from_a_member_is_refused() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, store) = setup(&["ana", "bob"], dir.path()).await;
    let bot = TestBot::start(
        bot_settings(&synapse, &dir.path().join("bot"), &[SERVER_NAME]),
        router,
    )
    .await;
    let ana = Member::login(&synapse, "ana").await;
    let bob = Member::login(&synapse, "bob").await;
    let room = ana
        .create_room(&[&bot_id(), bob.user_id.as_str()], false)
        .await;
    ana.wait_for_membership(room.room_id(), &bot_id(), MembershipState::Join)
        .await;
    bob.client
        .join_room_by_id(room.room_id())
        .await
        .expect("bob joins");
    let bob_room = bob.client.get_room(room.room_id()).unwrap();
    ana.wait_for_membership(room.room_id(), bob.user_id.as_str(), MembershipState::Join)
        .await;

    // Bob has power level 0: refused, politely, and nothing changes. Replies meant for the
    // invoker alone come in a direct chat, never in the shared room.
    let command = RoomMessageEventContent::text_plain("!steward setting language zh");
    let asked = bob.send(&bob_room, command).await;
    let refusal = bob
        .wait_private("the refusal", |body| body.contains("only moderators"))
        .await;
    assert!(refusal.contains("only moderators"), "{refusal:?}");
    assert_eq!(
        answers_to(&bob, room.room_id(), &asked),
        0,
        "not in the room"
    );
    let community = CommunityId::new(room.room_id().as_str());
    assert_eq!(
        store
            .setting(Platform::Matrix, &community, "language")
            .await
            .unwrap(),
        None
    );

    // Ana created the room (owner): the same command works for her.
    ana.send(
        &room,
        RoomMessageEventContent::text_plain("!steward setting language en"),
    )
    .await;
    let done = ana
        .wait_private("the change", |body| body.starts_with("Done"))
        .await;
    assert!(done.starts_with("Done"), "{done:?}");
    assert_eq!(
        store
            .setting(Platform::Matrix, &community, "language")
            .await
            .unwrap()
            .as_deref(),
        Some("en")
    );

    bot.stop().await;
    eprintln!("matrix moderator command: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_invite_from_outside_the_allowlist_is_declined() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    // No model needed: build the router anyway, as `steward run` would.
    let (synapse, router, _store) = setup(&["ana", "eve"], dir.path()).await;
    let bot = TestBot::start(
        bot_settings(&synapse, &dir.path().join("bot"), &["@ana:localhost"]),
        router,
    )
    .await;
    let eve = Member::login(&synapse, "eve").await;
    let room = eve.create_room(&[&bot_id()], false).await;
    eve.wait_for_membership(room.room_id(), &bot_id(), MembershipState::Leave)
        .await;
    assert!(
        eve.messages_from(room.room_id(), &bot_id()).is_empty(),
        "the bot said nothing in a room it declined"
    );

    // Ana is on the allowlist: her invite is accepted.
    let ana = Member::login(&synapse, "ana").await;
    ana.room_with_bot(false).await;

    bot.stop().await;
    eprintln!("matrix invite allowlist: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_restart_does_not_answer_earlier_messages_again() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, _store) = setup(&["ana"], dir.path()).await;
    let settings = bot_settings(&synapse, &dir.path().join("bot"), &[SERVER_NAME]);
    let bot = TestBot::start(settings.clone(), router.clone()).await;
    let ana = Member::login(&synapse, "ana").await;
    let room = ana.room_with_bot(false).await;

    let first = ana
        .send(&room, mention("What is the capital of France?"))
        .await;
    ana.wait_for("the first answer", |seen| {
        bot_reply_to(seen, room.room_id(), &first)
    })
    .await;
    bot.stop().await;
    let devices_before = bot_devices(&synapse, &settings.store_dir).await;

    // Sent while the bot is down: answered once when it is back (catch-up).
    let while_down = ana.send(&room, mention("Are you there?")).await;

    // Same store_dir, no password: the saved session is restored (same device).
    let mut restarted = settings.clone();
    restarted.auth = steward::config::MatrixAuth::SavedSessionOnly;
    let bot = TestBot::start(restarted, router).await;
    ana.wait_for("the answer to the question asked while down", |seen| {
        bot_reply_to(seen, room.room_id(), &while_down)
    })
    .await;
    let second = ana
        .send(&room, mention("What is the capital of Italy?"))
        .await;
    ana.wait_for("the answer after the restart", |seen| {
        bot_reply_to(seen, room.room_id(), &second)
    })
    .await;

    let room_id = room.room_id();
    assert_eq!(
        answers_to(&ana, room_id, &first),
        1,
        "the first question was answered exactly once"
    );
    assert_eq!(
        answers_to(&ana, room_id, &while_down),
        1,
        "a question asked while the bot was down is answered once"
    );
    assert_eq!(answers_to(&ana, room_id, &second), 1);
    // (Shared-secret registration logs in once too, so the account has one more device.)
    let devices_after = bot_devices(&synapse, &settings.store_dir).await;
    assert_eq!(
        devices_before, devices_after,
        "the restart reused the bot's device"
    );
    assert!(
        devices_after.1.contains(&devices_after.0),
        "{devices_after:?}"
    );

    bot.stop().await;
    eprintln!("matrix restart: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_blocked_message_is_redacted_reported_and_the_moderator_bans() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let synapse = tokio::task::spawn_blocking(|| homeserver(&["ana", "bob"]));
    let moderation = steward::config::ModerationSettings {
        blocked_patterns: vec![regex::RegexBuilder::new(r"free\s+nitro")
            .case_insensitive(true)
            .build()
            .unwrap()],
        new_communities: steward::core::settings::ModerationMode::On,
        ..Default::default()
    };
    let (router, store) = router_with(dir.path(), moderation).await;
    let synapse = synapse.await.unwrap();
    let ana = Member::login(&synapse, "ana").await;
    let bot_user = matrix_sdk::ruma::UserId::parse(bot_id()).unwrap();

    // Ana's space lists her moderators' room and the room where Bob talks: one community, so
    // the configured moderators' room may see its cases. Everything exists before the bot
    // starts, so its settings can name the moderators' room and it joins the space first.
    let space = ana.create_space(&[&bot_id()]).await;
    let mods = ana.create_room(&[], false).await;
    let room = ana.create_room(&[], false).await;
    add_to_space(&space, &mods).await;
    add_to_space(&space, &room).await;
    let mut settings = bot_settings(&synapse, &dir.path().join("bot"), &[SERVER_NAME]);
    settings.moderators_room = Some(mods.room_id().to_string());
    let bot = TestBot::start(settings, router).await;
    ana.wait_for_membership(space.room_id(), &bot_id(), MembershipState::Join)
        .await;
    for joined in [&mods, &room] {
        joined.invite_user_by_id(&bot_user).await.unwrap();
        ana.wait_for_membership(joined.room_id(), &bot_id(), MembershipState::Join)
            .await;
    }

    // Ana's room, where the bot may redact and ban (power level 50), and Bob is a member.
    room.update_power_levels(vec![(&bot_user, 50.into())])
        .await
        .expect("Ana raises the bot's power level");
    let bob = Member::login(&synapse, "bob").await;
    room.invite_user_by_id(&bob.user_id).await.unwrap();
    let bob_room = bob.join(room.room_id()).await;
    let spam = bob
        .send(
            &bob_room,
            RoomMessageEventContent::text_plain("get FREE nitro at scam.example"),
        )
        .await;

    let case = ana
        .wait_for("the case in the moderators' room", |seen| match seen {
            // (The bot's setup notice comes first.)
            Seen::Message { room: r, event, .. }
                if r == mods.room_id()
                    && event.sender.as_str() == bot_id()
                    && event.content.body().starts_with("Case #") =>
            {
                Some(event.content.body().to_string())
            }
            _ => None,
        })
        .await;
    assert!(
        case.starts_with("Case #1: blocked_pattern (rule) by @bob:localhost"),
        "{case}"
    );
    assert!(case.contains("!steward case 1 dismiss|"), "{case}");
    ana.wait_for_redaction(&room, &spam).await;
    let community = CommunityId::new(space.room_id().as_str());
    let cases = store
        .open_cases(Platform::Matrix, &community, 10)
        .await
        .unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].automatic.as_str(), "deleted");

    // Ana (the room's owner) decides the case: Bob is banned.
    ana.send(
        &room,
        RoomMessageEventContent::text_plain("!steward case 1 ban"),
    )
    .await;
    ana.wait_for_membership(room.room_id(), bob.user_id.as_str(), MembershipState::Ban)
        .await;
    let closed = store.case(Platform::Matrix, &community, 1).await.unwrap();
    assert_eq!(closed.map(|c| c.status.as_str()), Some("banned"));

    bot.stop().await;
    eprintln!("matrix moderation: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_a_pinned_message_is_vouched_for_in_the_knowledge_base() {
    use matrix_sdk::ruma::events::room::pinned_events::RoomPinnedEventsEventContent;

    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, store) = setup(&["ana"], dir.path()).await;
    let bot = TestBot::start(
        bot_settings(&synapse, &dir.path().join("bot"), &[SERVER_NAME]),
        router,
    )
    .await;
    let ana = Member::login(&synapse, "ana").await;
    let room = ana.room_with_bot(false).await;
    let text = "Zebra relay keys rotate with: relay keys rotate --zebra";
    let tip = ana
        .send(&room, RoomMessageEventContent::text_plain(text))
        .await;
    let id = steward::core::MessageId::new(tip.as_str());
    eventually(
        std::time::Duration::from_secs(20),
        "the tip is recorded",
        || {
            let (store, id) = (store.clone(), id.clone());
            async move {
                let stored = store.message(Platform::Matrix, &id).await.unwrap();
                stored.is_some()
            }
        },
    )
    .await;

    // Ana created the room: her power level lets her pin.
    room.send_state_event(RoomPinnedEventsEventContent::new(vec![tip.clone()]))
        .await
        .expect("the pin is sent");
    let scope = steward::knowledge::community_scope(
        Platform::Matrix,
        &CommunityId::new(room.room_id().as_str()),
    );
    let path = format!("messages/matrix/{}/{}", room.room_id(), tip);
    eventually_indexed(
        &store,
        (&scope, &path),
        std::time::Duration::from_secs(20),
        "the pinned tip is in the knowledge base, marked",
        |source| source.marked,
    )
    .await;
    bot.stop().await;
}
