//! Trust and safety on Matrix, end to end: a real Synapse (`synapse.rs`), Steward's own
//! `platform::matrix::run`, members acting through matrix-sdk clients, and the scripted engine
//! (no model: fast, and answers say exactly what a test needs). Each test is named after the
//! hole of the trust-and-safety issue it closes and fails on the code before the fix.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::ruma::events::reaction::ReactionEventContent;
use matrix_sdk::ruma::events::relation::Annotation;
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::events::room::message::{
    MessageType, OriginalSyncRoomMessageEvent, Relation, ReplacementMetadata,
    RoomMessageEventContent, RoomMessageEventContentWithoutRelation,
};
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedUserId, RoomId, UserId};
use matrix_sdk::Room;
use steward::community::Router;
use steward::config::{Config, MatrixAuth, MatrixSettings, ModelReview, ModerationSettings};
use steward::core::settings::ModerationMode;
use steward::core::{CommunityId, MessageId, Platform};
use steward::store::{Case, Store};

use crate::matrix_util::{
    add_to_space, answers_to, bot_reply_to, bot_settings, claim_space, homeserver, mention, Member,
    Seen, TestBot, ANSWER_TIMEOUT, BOT,
};
use crate::synapse::{Synapse, SERVER_NAME};

fn bot_id() -> String {
    Synapse::user_id(BOT)
}

fn bot_user() -> OwnedUserId {
    UserId::parse(bot_id()).unwrap()
}

fn text(body: &str) -> RoomMessageEventContent {
    RoomMessageEventContent::text_plain(body)
}

/// Rules that catch "free nitro", moderation acting from the start (not a dry run), no model
/// review (reports open cases at once).
fn moderation() -> ModerationSettings {
    ModerationSettings {
        blocked_patterns: vec![regex::RegexBuilder::new(r"free\s+nitro")
            .case_insensitive(true)
            .build()
            .unwrap()],
        new_communities: ModerationMode::On,
        model_review: ModelReview::Off,
        ..Default::default()
    }
}

/// A homeserver with the bot and `members`, and a router whose engine answers `answer`.
async fn setup(
    members: &'static [&'static str],
    dir: &Path,
    answer: &str,
) -> (Synapse, Arc<Router>, Arc<Store>) {
    let synapse = tokio::task::spawn_blocking(move || homeserver(members));
    let mut config = Config::defaults();
    config.moderation = moderation();
    let url = format!("sqlite://{}/steward.db", dir.display());
    let store = Arc::new(Store::open(&url).await.expect("the test store opens"));
    let router = steward::app::router(
        &config,
        store.clone(),
        crate::scripted::scripted(answer),
        steward::metrics::Metrics::new(),
    );
    router.start_background(&tokio_util::sync::CancellationToken::new());
    (synapse.await.unwrap(), Arc::new(router), store)
}

fn settings(synapse: &Synapse, dir: &Path) -> MatrixSettings {
    bot_settings(synapse, &dir.join("bot"), &[SERVER_NAME])
}

/// The room's owner (whose client `room` is) invites the bot and waits until it joined.
async fn bring_bot(owner: &Member, room: &Room) {
    room.invite_user_by_id(&bot_user())
        .await
        .expect("the bot is invited");
    owner
        .wait_for_membership(room.room_id(), &bot_id(), MembershipState::Join)
        .await;
}

/// The room's owner invites `member`, who joins; returns the member's view of the room.
async fn admit(owner: &Member, room: &Room, member: &Member) -> Room {
    room.invite_user_by_id(&member.user_id)
        .await
        .expect("the member is invited");
    let joined = member.join(room.room_id()).await;
    owner
        .wait_for_membership(
            room.room_id(),
            member.user_id.as_str(),
            MembershipState::Join,
        )
        .await;
    joined
}

/// Sets power levels in `room` (the owner's client).
async fn set_power(room: &Room, levels: &[(&OwnedUserId, i32)]) {
    let updates = levels
        .iter()
        .map(|(user, level)| (&***user, (*level).into()))
        .collect();
    room.update_power_levels(updates)
        .await
        .expect("the owner sets power levels");
}

fn report(target: &EventId, key: &str) -> ReactionEventContent {
    ReactionEventContent::new(Annotation::new(target.to_owned(), key.to_string()))
}

/// `user`'s membership in `room` as the homeserver has it now ("join", "ban", ...).
async fn membership(synapse: &Synapse, asking: &Member, room: &RoomId, user: &str) -> String {
    let encode = |id: &str| {
        id.replace('!', "%21")
            .replace('@', "%40")
            .replace(':', "%3A")
    };
    let url = format!(
        "{}/_matrix/client/v3/rooms/{}/state/m.room.member/{}",
        synapse.url,
        encode(room.as_str()),
        encode(user)
    );
    let token = asking.client.access_token().expect("logged in");
    let body = matrix_sdk::reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("GET the member's state")
        .text()
        .await
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    value["membership"].as_str().unwrap_or("none").to_string()
}

/// Case `number` of `community`, waiting (a while) for `ready` to hold.
async fn wait_case(
    store: &Store,
    community: &RoomId,
    number: i64,
    what: &str,
    ready: impl Fn(&Case) -> bool,
) -> Case {
    let community = CommunityId::new(community.as_str());
    let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
    loop {
        let case = store
            .case(Platform::Matrix, &community, number)
            .await
            .unwrap();
        if let Some(case) = case.filter(|case| ready(case)) {
            return case;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The bot's messages in `room` that start with `prefix`, as `member` saw them.
fn bot_posts_starting(member: &Member, room: &RoomId, prefix: &str) -> Vec<String> {
    member
        .bot_bodies(room)
        .into_iter()
        .filter(|body| body.starts_with(prefix))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole_1_a_room_that_claims_a_space_does_not_decide_its_cases() {
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, store) = setup(&["ana", "bob", "eve"], dir.path(), "ok").await;
    let bot = TestBot::start(settings(&synapse, dir.path()), router).await;
    let ana = Member::login(&synapse, "ana").await;
    let bob = Member::login(&synapse, "bob").await;
    let eve = Member::login(&synapse, "eve").await;

    // Ana's space lists her room; Steward is in the room, not in the space.
    let space = ana.create_space(&[]).await;
    let room = ana.create_room(&[], false).await;
    add_to_space(&space, &room).await;
    bring_bot(&ana, &room).await;
    set_power(&room, &[(&bot_user(), 50)]).await;
    let bob_room = admit(&ana, &room, &bob).await;
    let spam = bob.send(&bob_room, text("free nitro for everyone")).await;
    ana.wait_for_redaction(&room, &spam).await;

    // Eve makes her own room claim Ana's space (she is its owner, so she may) and invites
    // Steward; there she is a moderator, and she decides case #1.
    let eve_room = eve.create_room(&[], false).await;
    claim_space(&eve_room, space.room_id()).await;
    bring_bot(&eve, &eve_room).await;
    let asked = eve.send(&eve_room, text("!steward case 1 ban")).await;
    eve.wait_for("Steward's answer to Eve", |seen| {
        bot_reply_to(seen, eve_room.room_id(), &asked)
    })
    .await;

    // Her room is its own community: no case #1 there, nothing decided, nobody banned.
    for community in [space.room_id(), room.room_id()] {
        let case = store
            .case(Platform::Matrix, &CommunityId::new(community.as_str()), 1)
            .await
            .unwrap();
        if let Some(case) = case {
            assert!(case.is_open(), "decided from Eve's room: {case:?}");
        }
    }
    let open = store
        .case(
            Platform::Matrix,
            &CommunityId::new(room.room_id().as_str()),
            1,
        )
        .await
        .unwrap();
    assert!(
        open.is_some_and(|case| case.is_open()),
        "the case belongs to Ana's room: Steward cannot see her space's child list"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        membership(&synapse, &ana, room.room_id(), bob.user_id.as_str()).await,
        "join"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole_1_a_moderator_of_one_room_bans_only_where_they_moderate() {
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, store) = setup(&["ana", "bob", "carl"], dir.path(), "ok").await;
    let bot = TestBot::start(settings(&synapse, dir.path()), router).await;
    let ana = Member::login(&synapse, "ana").await;
    let bob = Member::login(&synapse, "bob").await;
    let carl = Member::login(&synapse, "carl").await;

    // The space lists rooms A and B; Steward is in all three and may ban in A and B. Carl
    // moderates A (power 50) and is a plain member of B.
    let space = ana.create_space(&[&bot_id()]).await;
    ana.wait_for_membership(space.room_id(), &bot_id(), MembershipState::Join)
        .await;
    let a = ana.create_room(&[], false).await;
    let b = ana.create_room(&[], false).await;
    add_to_space(&space, &a).await;
    add_to_space(&space, &b).await;
    bring_bot(&ana, &a).await;
    bring_bot(&ana, &b).await;
    set_power(&a, &[(&bot_user(), 100), (&carl.user_id, 50)]).await;
    set_power(&b, &[(&bot_user(), 100)]).await;
    let bob_a = admit(&ana, &a, &bob).await;
    admit(&ana, &b, &bob).await;
    let carl_a = admit(&ana, &a, &carl).await;
    admit(&ana, &b, &carl).await;

    let spam = bob.send(&bob_a, text("free nitro, limited offer")).await;
    ana.wait_for_redaction(&a, &spam).await;
    carl.send(&carl_a, text("!steward case 1 ban")).await;

    // Banned where Carl moderates ...
    ana.wait_for_membership(a.room_id(), bob.user_id.as_str(), MembershipState::Ban)
        .await;
    // ... and not in B, and Carl is told why.
    let notice = carl
        .wait_private("where nothing was done", |body| body.contains("Not done"))
        .await;
    assert!(notice.contains(b.room_id().as_str()), "{notice}");
    assert!(notice.contains("below the 50"), "{notice}");
    assert_eq!(
        membership(&synapse, &ana, b.room_id(), bob.user_id.as_str()).await,
        "join"
    );
    let case = wait_case(&store, space.room_id(), 1, "the space's case", |_| true).await;
    assert_eq!(case.status.as_str(), "banned");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole_1_a_member_who_ranks_as_high_as_the_moderator_is_not_banned() {
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, _store) = setup(&["ana", "bob", "carl"], dir.path(), "ok").await;
    let bot = TestBot::start(settings(&synapse, dir.path()), router).await;
    let ana = Member::login(&synapse, "ana").await;
    let bob = Member::login(&synapse, "bob").await;
    let carl = Member::login(&synapse, "carl").await;

    // Steward outranks everyone here (the homeserver would let it ban Bob); Carl moderates.
    let room = ana.room_with_bot(false).await;
    set_power(&room, &[(&bot_user(), 100), (&carl.user_id, 50)]).await;
    let bob_room = admit(&ana, &room, &bob).await;
    let carl_room = admit(&ana, &room, &carl).await;
    let spam = bob.send(&bob_room, text("free nitro!!")).await;
    ana.wait_for_redaction(&room, &spam).await;

    // Bob becomes a moderator too: Carl may not ban someone of his own rank.
    set_power(
        &room,
        &[(&bot_user(), 100), (&carl.user_id, 50), (&bob.user_id, 50)],
    )
    .await;
    carl.send(&carl_room, text("!steward case 1 ban")).await;
    let notice = carl
        .wait_private("why nothing was done", |body| body.contains("Not done"))
        .await;
    assert!(notice.contains("not below the moderator's"), "{notice}");
    assert_eq!(
        membership(&synapse, &ana, room.room_id(), bob.user_id.as_str()).await,
        "join"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole_3_a_forged_edit_does_not_reach_the_case() {
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, store) = setup(&["ana", "bob", "eve"], dir.path(), "ok").await;
    let bot = TestBot::start(settings(&synapse, dir.path()), router).await;
    let ana = Member::login(&synapse, "ana").await;
    let bob = Member::login(&synapse, "bob").await;
    let eve = Member::login(&synapse, "eve").await;
    let room = ana.room_with_bot(false).await;
    let bob_room = admit(&ana, &room, &bob).await;
    let eve_room = admit(&ana, &room, &eve).await;

    let original = bob.send(&bob_room, text("see you all at the meetup")).await;
    // Eve "edits" Bob's message into a threat: Matrix lets anyone send an m.replace.
    let forged = RoomMessageEventContentWithoutRelation::text_plain("I will hurt you, ana")
        .make_replacement(ReplacementMetadata::new(original.clone(), None));
    eve.send(&eve_room, forged).await;
    // Bob fixes a typo of his own: that edit is applied.
    let typo = bob.send(&bob_room, text("teh meetup starts at 6")).await;
    let fixed = RoomMessageEventContentWithoutRelation::text_plain("the meetup starts at 6")
        .make_replacement(ReplacementMetadata::new(typo.clone(), None));
    bob.send(&bob_room, fixed).await;
    let stored = |id: OwnedEventId| {
        let store = store.clone();
        async move {
            store
                .message(Platform::Matrix, &MessageId::new(id.as_str()))
                .await
                .unwrap()
                .map(|message| message.text)
        }
    };
    let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
    while stored(typo.clone()).await.as_deref() != Some("the meetup starts at 6") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Bob's own edit was not applied"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        stored(original.clone()).await.as_deref(),
        Some("see you all at the meetup")
    );

    // Ana reports Bob's message: the case quotes what Bob wrote.
    room.send(report(&original, "🚩"))
        .await
        .expect("the report");
    let case = wait_case(&store, room.room_id(), 1, "the reported case", |_| true).await;
    assert!(
        case.excerpt.contains("see you all at the meetup"),
        "{:?}",
        case.excerpt
    );
    assert!(!case.excerpt.contains("hurt"), "{:?}", case.excerpt);
    assert_eq!(case.user.as_str(), bob.user_id.as_str());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole_4_a_members_notice_with_a_blocked_pattern_is_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, _store) = setup(&["ana", "bob"], dir.path(), "ok").await;
    let bot = TestBot::start(settings(&synapse, dir.path()), router).await;
    let ana = Member::login(&synapse, "ana").await;
    let bob = Member::login(&synapse, "bob").await;
    let room = ana.room_with_bot(false).await;
    set_power(&room, &[(&bot_user(), 50)]).await;
    let bob_room = admit(&ana, &room, &bob).await;

    // Before: every m.notice was taken for a bot's and never screened.
    let notice = bob
        .send(
            &bob_room,
            RoomMessageEventContent::notice_plain("free nitro, click fast"),
        )
        .await;
    ana.wait_for_redaction(&room, &notice).await;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole_7_cases_are_answered_in_a_direct_chat_not_the_room() {
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, _store) = setup(&["ana", "bob"], dir.path(), "ok").await;
    let bot = TestBot::start(settings(&synapse, dir.path()), router).await;
    let ana = Member::login(&synapse, "ana").await;
    let bob = Member::login(&synapse, "bob").await;
    let room = ana.room_with_bot(false).await;
    set_power(&room, &[(&bot_user(), 50)]).await;
    let bob_room = admit(&ana, &room, &bob).await;
    let spam = bob.send(&bob_room, text("free nitro, seriously")).await;
    ana.wait_for_redaction(&room, &spam).await;

    // Ana (a moderator) lists the cases in the room Bob is in.
    let asked = ana.send(&room, text("!steward cases")).await;
    let listed = ana
        .wait_private("the case list", |body| body.contains("#1"))
        .await;
    assert!(listed.contains("blocked_pattern"), "{listed}");

    // Bob's client saw none of it in the room.
    assert_eq!(answers_to(&bob, room.room_id(), &asked), 0);
    for body in bob.bot_bodies(room.room_id()) {
        assert!(
            !body.contains("blocked_pattern") && !body.contains("nitro"),
            "Bob read {body:?}"
        );
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole_8_a_case_is_not_posted_to_another_communitys_moderators() {
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, _store) = setup(&["ana", "bob"], dir.path(), "ok").await;
    let ana = Member::login(&synapse, "ana").await;
    let bob = Member::login(&synapse, "bob").await;

    // The configured moderators' room belongs to space one.
    let mods = ana.create_room(&[], false).await;
    let mut settings = settings(&synapse, dir.path());
    settings.moderators_room = Some(mods.room_id().to_string());
    let bot = TestBot::start(settings, router).await;
    let one = ana.create_space(&[&bot_id()]).await;
    let two = ana.create_space(&[&bot_id()]).await;
    for space in [&one, &two] {
        ana.wait_for_membership(space.room_id(), &bot_id(), MembershipState::Join)
            .await;
    }
    let room_one = ana.create_room(&[], false).await;
    let room_two = ana.create_room(&[], false).await;
    add_to_space(&one, &mods).await;
    add_to_space(&one, &room_one).await;
    add_to_space(&two, &room_two).await;
    for room in [&mods, &room_one, &room_two] {
        bring_bot(&ana, room).await;
    }
    for room in [&room_one, &room_two] {
        set_power(room, &[(&bot_user(), 50)]).await;
    }
    let bob_one = admit(&ana, &room_one, &bob).await;
    let bob_two = admit(&ana, &room_two, &bob).await;

    // A case in space two first, then one in space one.
    let spam_two = bob.send(&bob_two, text("free nitro in space two")).await;
    ana.wait_for_redaction(&room_two, &spam_two).await;
    let spam_one = bob.send(&bob_one, text("free nitro in space one")).await;
    ana.wait_for_redaction(&room_one, &spam_one).await;
    let one_id = room_one.room_id().to_string();
    ana.wait_for(
        "space one's case in its moderators' room",
        |seen| match seen {
            Seen::Message { room, event, .. }
                if room == mods.room_id()
                    && event.sender.as_str() == bot_id()
                    && event.content.body().contains(&one_id) =>
            {
                Some(())
            }
            _ => None,
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cases = bot_posts_starting(&ana, mods.room_id(), "Case #");
    assert_eq!(cases.len(), 1, "{cases:#?}");
    assert!(
        !cases[0].contains(room_two.room_id().as_str()),
        "{cases:#?}"
    );
    bot.stop().await;
}

/// The text a bot event shows: an edit's new content, else its own.
fn shown(event: &OriginalSyncRoomMessageEvent) -> (&MessageType, bool) {
    match &event.content.relates_to {
        Some(Relation::Replacement(replacement)) => (&replacement.new_content.msgtype, true),
        _ => (&event.content.msgtype, false),
    }
}

fn html(msgtype: &MessageType) -> String {
    match msgtype {
        MessageType::Text(text) => text.formatted.as_ref().map(|f| f.body.clone()),
        MessageType::Notice(notice) => notice.formatted.as_ref().map(|f| f.body.clone()),
        _ => None,
    }
    .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hole_9_streamed_edits_declare_mentions_and_show_no_images() {
    let dir = tempfile::tempdir().unwrap();
    let answer = "Hi @room ![x](mxc://evil.org/abc) look [here](https://evil.example) now done";
    let (synapse, router, _store) = setup(&["ana"], dir.path(), answer).await;
    let bot = TestBot::start(settings(&synapse, dir.path()), router).await;
    let ana = Member::login(&synapse, "ana").await;
    let room = ana.room_with_bot(false).await;
    ana.send(&room, mention("say hi")).await;
    ana.wait_for("the whole answer", |seen| match seen {
        Seen::Message { room: r, event, .. }
            if r == room.room_id()
                && event.sender.as_str() == bot_id()
                && shown(event).0.body().ends_with("done") =>
        {
            Some(())
        }
        _ => None,
    })
    .await;

    let events = ana.messages_from(room.room_id(), &bot_id());
    assert!(
        events.iter().any(|event| shown(event).1),
        "the answer was streamed with edits: {events:#?}"
    );
    for event in &events {
        assert!(
            event.content.mentions.is_some(),
            "no m.mentions: {event:#?}"
        );
        if let Some(Relation::Replacement(replacement)) = &event.content.relates_to {
            assert!(
                replacement.new_content.mentions.is_some(),
                "an edit's new content without m.mentions: {event:#?}"
            );
            let pinged = event.content.mentions.as_ref().unwrap();
            assert!(pinged.user_ids.is_empty() && !pinged.room, "{event:#?}");
        }
        for msgtype in [&event.content.msgtype, shown(event).0] {
            let html = html(msgtype);
            assert!(!html.contains("<img"), "{html}");
            assert!(!msgtype.body().contains("@room"), "{}", msgtype.body());
        }
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_decision_reactions_on_a_case_notice() {
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, store) = setup(&["ana", "bob", "dan"], dir.path(), "ok").await;
    let ana = Member::login(&synapse, "ana").await;
    let bob = Member::login(&synapse, "bob").await;
    let dan = Member::login(&synapse, "dan").await;

    // One space: the moderators' room (where Dan is a plain member) and the room Bob talks in.
    let mods = ana.create_room(&[], false).await;
    let mut settings = settings(&synapse, dir.path());
    settings.moderators_room = Some(mods.room_id().to_string());
    let bot = TestBot::start(settings, router).await;
    let space = ana.create_space(&[&bot_id()]).await;
    ana.wait_for_membership(space.room_id(), &bot_id(), MembershipState::Join)
        .await;
    let room = ana.create_room(&[], false).await;
    add_to_space(&space, &mods).await;
    add_to_space(&space, &room).await;
    bring_bot(&ana, &mods).await;
    bring_bot(&ana, &room).await;
    set_power(&room, &[(&bot_user(), 50)]).await;
    let bob_room = admit(&ana, &room, &bob).await;
    let dan_mods = admit(&ana, &mods, &dan).await;

    // Ana reports Bob's message: a case notice with the decision legend.
    let insult = bob.send(&bob_room, text("you are all clowns")).await;
    room.send(report(&insult, "🚩")).await.expect("the report");
    let notice = ana
        .wait_for("the case notice", |seen| match seen {
            Seen::Message { room: r, event, .. }
                if r == mods.room_id()
                    && event.sender.as_str() == bot_id()
                    && event.content.body().starts_with("Case #1") =>
            {
                Some(event.event_id.clone())
            }
            _ => None,
        })
        .await;
    ana.wait_for("the legend", |seen| match seen {
        Seen::Reaction {
            room: r,
            sender,
            target,
            key,
        } if r == mods.room_id()
            && sender.as_str() == bot_id()
            && *target == notice
            && key == "🔨" =>
        {
            Some(())
        }
        _ => None,
    })
    .await;

    // Dan is no moderator: his 🔨 is refused and nothing happens.
    dan_mods
        .send(report(&notice, "🔨"))
        .await
        .expect("Dan's reaction");
    ana.wait_for("the refusal", |seen| match seen {
        Seen::Message { room: r, event, .. }
            if r == mods.room_id()
                && event.sender.as_str() == bot_id()
                && event.content.body().contains("only moderators") =>
        {
            Some(())
        }
        _ => None,
    })
    .await;
    let case = wait_case(&store, space.room_id(), 1, "the case", |_| true).await;
    assert!(case.is_open(), "{case:?}");
    assert_eq!(
        membership(&synapse, &ana, room.room_id(), bob.user_id.as_str()).await,
        "join"
    );

    // Ana's 🗑️ deletes the message and closes the case.
    mods.send(report(&notice, "🗑️"))
        .await
        .expect("Ana's reaction");
    ana.wait_for_redaction(&room, &insult).await;
    let case = wait_case(&store, space.room_id(), 1, "the decision", |case| {
        !case.is_open()
    })
    .await;
    assert_eq!(case.status.as_str(), "deleted");
    assert_eq!(
        case.decided_by.as_ref().map(|user| user.as_str()),
        Some(ana.user_id.as_str())
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_catch_up_answers_a_missed_question_once() {
    let dir = tempfile::tempdir().unwrap();
    let (synapse, router, _store) = setup(&["ana"], dir.path(), "Back again.").await;
    let settings = settings(&synapse, dir.path());
    let bot = TestBot::start(settings.clone(), router.clone()).await;
    let ana = Member::login(&synapse, "ana").await;
    let room = ana.room_with_bot(false).await;
    let first = ana.send(&room, mention("hello?")).await;
    ana.wait_for("the first answer", |seen| {
        bot_reply_to(seen, room.room_id(), &first)
    })
    .await;
    bot.stop().await;

    // Asked while Steward is stopped: answered once it is back.
    let missed = ana.send(&room, mention("are you there?")).await;
    let mut restarted = settings.clone();
    restarted.auth = MatrixAuth::SavedSessionOnly;
    let bot = TestBot::start(restarted.clone(), router.clone()).await;
    ana.wait_for("the answer to the missed question", |seen| {
        bot_reply_to(seen, room.room_id(), &missed)
    })
    .await;
    bot.stop().await;

    // Another restart answers nothing twice.
    let bot = TestBot::start(restarted, router).await;
    let probe = ana.send(&room, mention("still there?")).await;
    ana.wait_for("the answer to the probe", |seen| {
        bot_reply_to(seen, room.room_id(), &probe)
    })
    .await;
    assert_eq!(answers_to(&ana, room.room_id(), &missed), 1);
    assert_eq!(answers_to(&ana, room.room_id(), &first), 1);
    bot.stop().await;
}
