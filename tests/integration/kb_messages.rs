//! Community conversations as knowledge sources, through the router as `steward run` wires
//! it (background indexing workers running): a members' question and answer recorded on
//! Discord or Matrix are cited with a link to the conversation; a deleted message is never
//! retrieved or cited afterwards; the asker's ✅ and a moderator's `kb mark` add a
//! conversation one member wrote; a member cannot `kb mark`; excluded channels stay out; and
//! `steward kb backfill` indexes recorded history.

use std::time::{Duration, Instant, SystemTime};

use steward::core::{
    Author, ChannelId, Command, CommunityId, Event, EventKind, Location, Message, MessageId,
    Platform, Reaction, Role, UserId,
};
use steward::knowledge::retrieve::KnowledgeBase;
use steward::store::Store;

use crate::dispatch::{fixture_config, reply_text, Fixture};

const QUESTION: &str = "How do I rotate the zebra signing keys on the relay?";
const ANSWER: &str =
    "Run relay keys rotate --zebra and restart it; old zebra keys stay valid a day.";
const THANKS: &str = "Thanks, rotating the zebra keys worked for me too after the restart.";

fn discord(channel: &str) -> Location {
    Location {
        platform: Platform::Discord,
        community: CommunityId::new("900"),
        channel: ChannelId::new(channel),
        thread: None,
    }
}

fn member(id: &str, role: Role) -> Author {
    Author {
        id: UserId::new(id),
        display_name: id.to_uppercase(),
        role,
        is_bot: false,
    }
}

fn message(
    location: &Location,
    id: &str,
    author: &str,
    text: &str,
    reply_to: Option<&str>,
) -> Message {
    Message {
        id: MessageId::new(id),
        location: location.clone(),
        author: member(author, Role::Member),
        text: text.into(),
        created_at: SystemTime::now(),
        reply_to: reply_to.map(MessageId::new),
        mentions_bot: false,
        replies_to_bot: false,
    }
}

fn posted(
    location: &Location,
    id: &str,
    author: &str,
    text: &str,
    reply_to: Option<&str>,
) -> Event {
    Event::now(EventKind::MessagePosted(message(
        location, id, author, text, reply_to,
    )))
}

fn invoked(location: &Location, invoker: Author, command: Command) -> Event {
    Event::now(EventKind::CommandInvoked {
        location: location.clone(),
        invoker,
        command,
        message: None,
    })
}

fn ask(location: &Location, question: &str) -> Event {
    let command = Command::Ask {
        question: question.into(),
    };
    invoked(location, member("dee", Role::Member), command)
}

fn reaction(location: &Location, message: &str, user: &str, emoji: &str) -> Reaction {
    Reaction {
        location: location.clone(),
        message: MessageId::new(message),
        user: UserId::new(user),
        emoji: emoji.into(),
    }
}

fn reacted(location: &Location, message: &str, user: &str, emoji: &str) -> Event {
    Event::now(EventKind::ReactionAdded(reaction(
        location, message, user, emoji,
    )))
}

fn unreacted(location: &Location, message: &str, user: &str, emoji: &str) -> Event {
    Event::now(EventKind::ReactionRemoved(reaction(
        location, message, user, emoji,
    )))
}

/// Waits (at most 10 s) until the passages retrieved for `question` in `scope` include
/// `needle`: the background worker has indexed the conversation.
async fn wait_for(store: &Store, scope: &str, question: &str, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = store.retrieve(scope, question, 5).await.unwrap();
        if found
            .passages
            .iter()
            .any(|p| p.candidate.text.contains(needle))
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} indexed within 10 s: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (at most 10 s) until no job is pending or running.
async fn jobs_done(store: &Store) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let counts = store.job_counts().await.unwrap();
        if counts.unfinished() == 0 {
            assert_eq!(counts.failed, 0, "{counts:?}");
            return;
        }
        assert!(Instant::now() < deadline, "jobs finish: {counts:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn documents(f: &Fixture) -> Vec<String> {
    let all = f.store.kb_documents().await.unwrap();
    all.into_iter().map(|document| document.path).collect()
}

#[tokio::test]
async fn a_discord_conversation_is_cited_with_a_link_and_a_deleted_answer_never_again() {
    // The default model quotes its sources (no generation): the answer is the sources.
    let f = fixture_config(Ok("I am not sure."), |_| {}).await;
    let help = discord("901");
    let scope = "discord:900";
    f.router
        .handle(posted(&help, "1001", "ana", QUESTION, None))
        .await;
    f.router
        .handle(posted(&help, "1002", "bo", ANSWER, Some("1001")))
        .await;

    // Findable as soon as the background worker indexed it, cited with a Discord link.
    wait_for(&f.store, scope, "rotate zebra keys", "relay keys rotate").await;
    assert_eq!(documents(&f).await, ["messages/discord/901/1001"]);
    let text = reply_text(
        f.router
            .handle(ask(&help, "how do I rotate the zebra keys?"))
            .await,
    )
    .await;
    assert!(text.contains("relay keys rotate --zebra"), "{text}");
    assert!(
        text.contains("https://discord.com/channels/900/901/1001"),
        "a Discord message link: {text}"
    );
    // Only its own community can cite it.
    let elsewhere = f
        .store
        .retrieve("discord:999", "rotate zebra keys", 5)
        .await
        .unwrap();
    assert!(elsewhere.passages.is_empty(), "{elsewhere:?}");

    // A third member joins in; then the answer is deleted.
    f.router
        .handle(posted(&help, "1003", "cy", THANKS, Some("1002")))
        .await;
    wait_for(&f.store, scope, "rotate zebra keys", "worked for me").await;
    jobs_done(&f.store).await;
    let deleted = EventKind::MessageDeleted {
        location: help.clone(),
        message: MessageId::new("1002"),
    };
    assert!(f.router.handle(Event::now(deleted)).await.is_empty());

    // At once: neither retrieved nor cited, while the rest of the conversation still is.
    let found = f
        .store
        .retrieve(scope, "relay keys rotate zebra restart", 5)
        .await
        .unwrap();
    assert!(
        found
            .best
            .iter()
            .all(|p| !p.candidate.text.contains("relay keys rotate")),
        "{found:?}"
    );
    assert!(found
        .best
        .iter()
        .any(|p| p.candidate.text.contains("worked for me")));
    let text = reply_text(
        f.router
            .handle(ask(&help, "how do I rotate the zebra keys?"))
            .await,
    )
    .await;
    assert!(!text.contains("relay keys rotate"), "{text}");
    assert!(
        text.contains("https://discord.com/channels/900/901/1001"),
        "{text}"
    );

    // Deleting the question too leaves one member's message: the conversation leaves.
    let deleted = EventKind::MessageDeleted {
        location: help.clone(),
        message: MessageId::new("1001"),
    };
    f.router.handle(Event::now(deleted)).await;
    assert!(documents(&f).await.is_empty());
    jobs_done(&f.store).await;
    let text = reply_text(
        f.router
            .handle(ask(&help, "how do I rotate the zebra keys?"))
            .await,
    )
    .await;
    assert!(!text.contains("discord.com/channels"), "{text}");
}

#[tokio::test]
async fn a_matrix_thread_is_cited_with_a_matrix_to_link_to_its_room() {
    let f = fixture_config(Ok("I am not sure."), |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("steward.toml");
    std::fs::write(
        &path,
        "[matrix]\nhomeserver = \"https://m.example\"\nuser_id = \"@steward:m.example\"\n",
    )
    .unwrap();
    let env = |name: &str| (name == "STEWARD_MATRIX_PASSWORD").then(|| "pw".to_string());
    let config = steward::config::Config::load_with_env(Some(&path), &env).unwrap();
    f.router.register(steward::platform::matrix::capabilities(
        config.matrix.as_ref().unwrap(),
    ));

    // A thread whose root Steward never saw.
    let room = Location {
        platform: Platform::Matrix,
        community: CommunityId::new("!space:m.example"),
        channel: ChannelId::new("!room:m.example"),
        thread: None,
    };
    let thread = room.in_thread(steward::core::ThreadId::new("$root:m.example"));
    f.router
        .handle(posted(
            &thread,
            "$t1:m.example",
            "@ana:m.example",
            QUESTION,
            None,
        ))
        .await;
    f.router
        .handle(posted(
            &thread,
            "$t2:m.example",
            "@bo:m.example",
            ANSWER,
            Some("$t1:m.example"),
        ))
        .await;
    wait_for(
        &f.store,
        "matrix:!space:m.example",
        "rotate zebra keys",
        "relay keys",
    )
    .await;
    let text = reply_text(
        f.router
            .handle(ask(&room, "how do I rotate the zebra keys?"))
            .await,
    )
    .await;
    assert!(text.contains("relay keys rotate --zebra"), "{text}");
    assert!(
        text.contains("https://matrix.to/#/!room:m.example/$t1:m.example"),
        "a matrix.to event link in the room: {text}"
    );
}

#[tokio::test]
async fn kb_mark_is_for_moderators_and_adds_a_one_member_conversation() {
    let f = fixture_config(Ok("I am not sure."), |_| {}).await;
    let help = discord("902");
    let tip = "The zebra relay mirror keeps signing key backups for a week.";
    f.router
        .handle(posted(&help, "1101", "ana", tip, None))
        .await;
    let mark = || Command::KbMark {
        message: "https://discord.com/channels/900/902/1101".into(),
    };

    // A member is refused, and nothing is added.
    let refused = reply_text(
        f.router
            .handle(invoked(&help, member("eve", Role::Member), mark()))
            .await,
    )
    .await;
    assert_eq!(refused, "Sorry, only moderators can use that command.");
    assert!(documents(&f).await.is_empty());

    // A moderator adds it at once; answers cite it.
    let marked = reply_text(
        f.router
            .handle(invoked(&help, member("mod", Role::Moderator), mark()))
            .await,
    )
    .await;
    assert!(marked.starts_with("Marked"), "{marked}");
    assert_eq!(documents(&f).await, ["messages/discord/902/1101"]);
    let source = f
        .store
        .kb_conversation_source(scope_of(&help).as_str(), "messages/discord/902/1101")
        .await
        .unwrap()
        .expect("a source row");
    assert!(source.marked && !source.solved);
    let text = reply_text(
        f.router
            .handle(ask(&help, "where are zebra key backups kept?"))
            .await,
    )
    .await;
    assert!(
        text.contains("https://discord.com/channels/900/902/1101"),
        "{text}"
    );

    // Unknown messages are refused with a reason.
    let unknown = Command::KbMark {
        message: "https://discord.com/channels/900/902/424242".into(),
    };
    let text = reply_text(
        f.router
            .handle(invoked(&help, member("mod", Role::Moderator), unknown))
            .await,
    )
    .await;
    assert!(text.contains("no record"), "{text}");
}

fn scope_of(location: &Location) -> String {
    steward::knowledge::community_scope(location.platform, &location.community)
}

#[tokio::test]
async fn the_askers_check_mark_solves_a_conversation() {
    let f = fixture_config(Ok("I am not sure."), |_| {}).await;
    let help = discord("903");
    let path = "messages/discord/903/1201";
    let scope = scope_of(&help);
    f.router
        .handle(posted(
            &help,
            "1201",
            "ana",
            "Why does the zebra relay drop idle peers?",
            None,
        ))
        .await;
    f.router
        .handle(posted(
            &help,
            "1202",
            "ana",
            "Found it: the idle timeout of the zebra relay is 90 seconds.",
            Some("1201"),
        ))
        .await;
    jobs_done(&f.store).await;
    assert!(documents(&f).await.is_empty(), "one member: not indexed");

    // Someone else's ✅ changes nothing; the asker's marks it solved.
    f.router.handle(reacted(&help, "1202", "bo", "✅")).await;
    assert_eq!(
        f.store.kb_conversation_source(&scope, path).await.unwrap(),
        None
    );
    f.router.handle(reacted(&help, "1202", "ana", "✅")).await;
    wait_for(&f.store, &scope, "zebra relay idle timeout", "90 seconds").await;
    let source = f.store.kb_conversation_source(&scope, path).await.unwrap();
    assert!(source.is_some_and(|source| source.solved), "solved");

    // Someone else removing a ✅ changes nothing; the asker taking theirs back unmarks the
    // conversation, and with one member it leaves the knowledge base.
    f.router.handle(unreacted(&help, "1202", "bo", "✅")).await;
    jobs_done(&f.store).await;
    assert_eq!(documents(&f).await, vec![path.to_string()]);
    f.router.handle(unreacted(&help, "1202", "ana", "✅")).await;
    jobs_done(&f.store).await;
    assert!(documents(&f).await.is_empty(), "unsolved: not indexed");
    let found = f
        .store
        .retrieve(&scope, "zebra relay idle timeout", 5)
        .await
        .unwrap();
    assert!(
        !found
            .passages
            .iter()
            .any(|p| p.candidate.text.contains("90 seconds")),
        "{found:?}"
    );
}

#[tokio::test]
async fn positive_reactions_on_an_answer_endorse_its_conversation() {
    let f = fixture_config(Ok("I am not sure."), |_| {}).await;
    let help = discord("904");
    let path = "messages/discord/904/1301";
    let scope = scope_of(&help);
    let post = |id: &'static str, author: &'static str, text: &'static str, to| {
        f.router.handle(posted(&help, id, author, text, to))
    };
    post(
        "1301",
        "ana",
        "Tip: the zebra relay reloads its config on SIGHUP.",
        None,
    )
    .await;
    post(
        "1302",
        "bo",
        "It also works with systemctl reload zebra-relay.",
        Some("1301"),
    )
    .await;
    jobs_done(&f.store).await;
    assert!(
        documents(&f).await.is_empty(),
        "no question asked: not indexed"
    );

    // Reactions on the first author's own message, one 👍, or two different emoji (which the
    // answer's author could have put both) do not endorse the answer; a second 👍 does.
    f.router.handle(reacted(&help, "1301", "cy", "👍")).await;
    f.router.handle(reacted(&help, "1301", "dee", "👍")).await;
    f.router.handle(reacted(&help, "1302", "cy", "👍")).await;
    f.router.handle(reacted(&help, "1302", "bo", "❤️")).await;
    f.router.handle(reacted(&help, "1302", "eli", "😂")).await;
    f.router.handle(reacted(&help, "1302", "fay", "😂")).await;
    jobs_done(&f.store).await;
    assert!(documents(&f).await.is_empty(), "not endorsed yet");
    f.router.handle(reacted(&help, "1302", "dee", "👍")).await;
    wait_for(
        &f.store,
        &scope,
        "reload zebra relay config",
        "systemctl reload",
    )
    .await;
    let source = f.store.kb_conversation_source(&scope, path).await.unwrap();
    assert!(
        source.is_some_and(|source| source.endorsed && !source.solved),
        "endorsed"
    );

    // Taking a reaction back below two ends the endorsement, and the conversation leaves.
    f.router.handle(unreacted(&help, "1302", "cy", "👍")).await;
    jobs_done(&f.store).await;
    assert!(documents(&f).await.is_empty(), "no longer endorsed");
}

fn pinned(location: &Location, message: &str, role: Role) -> Event {
    Event::now(EventKind::MessagePinned {
        location: location.clone(),
        message: MessageId::new(message),
        by: UserId::new("mo"),
        role,
    })
}

#[tokio::test]
async fn a_pinned_message_vouches_for_its_conversation() {
    let f = fixture_config(Ok("I am not sure."), |config| {
        config.knowledge.exclude_channels = vec!["908".into()];
    })
    .await;
    let (help, excluded) = (discord("907"), discord("908"));
    let scope = scope_of(&help);
    let tip = "Zebra relay keys rotate with: relay keys rotate --zebra";
    f.router
        .handle(posted(&help, "1701", "ana", tip, None))
        .await;
    f.router
        .handle(posted(&excluded, "1801", "ana", tip, None))
        .await;
    jobs_done(&f.store).await;
    assert!(documents(&f).await.is_empty(), "one message: not indexed");

    // A member's pin (a channel that lets members pin), a pin naming the message from
    // another community or another channel, and one in an excluded channel vouch for nothing.
    let elsewhere = Location {
        community: CommunityId::new("999"),
        ..help.clone()
    };
    f.router.handle(pinned(&help, "1701", Role::Member)).await;
    f.router
        .handle(pinned(&elsewhere, "1701", Role::Moderator))
        .await;
    f.router
        .handle(pinned(&discord("910"), "1701", Role::Moderator))
        .await;
    f.router
        .handle(pinned(&excluded, "1801", Role::Moderator))
        .await;
    jobs_done(&f.store).await;
    assert!(documents(&f).await.is_empty());

    f.router
        .handle(pinned(&help, "1701", Role::Moderator))
        .await;
    wait_for(
        &f.store,
        &scope,
        "rotate zebra relay keys",
        "rotate --zebra",
    )
    .await;
    let path = "messages/discord/907/1701";
    let source = f.store.kb_conversation_source(&scope, path).await.unwrap();
    assert!(source.is_some_and(|source| source.marked), "marked");
    assert_eq!(documents(&f).await, vec![path.to_string()]);
}

fn thread_solved(location: &Location, solved: bool) -> Event {
    Event::now(EventKind::ThreadSolved {
        location: location.clone(),
        solved,
    })
}

#[tokio::test]
async fn a_forum_posts_solved_tag_marks_its_conversation_solved() {
    let f = fixture_config(Ok("I am not sure."), |_| {}).await;
    let post = discord("909").in_thread(steward::core::ThreadId::new("1901"));
    let scope = scope_of(&post);
    let path = "messages/discord/909/1901";
    let text = "Zebra relay keys rotate with: relay keys rotate --zebra, it seems";
    f.router
        .handle(posted(&post, "1901", "ana", text, None))
        .await;
    jobs_done(&f.store).await;
    assert!(documents(&f).await.is_empty(), "one message: not indexed");

    f.router.handle(thread_solved(&post, true)).await;
    wait_for(
        &f.store,
        &scope,
        "rotate zebra relay keys",
        "rotate --zebra",
    )
    .await;
    let source = f.store.kb_conversation_source(&scope, path).await.unwrap();
    assert!(source.is_some_and(|source| source.solved), "solved");

    // The tag removed: no longer solved, and with one member it leaves.
    f.router.handle(thread_solved(&post, false)).await;
    jobs_done(&f.store).await;
    assert!(documents(&f).await.is_empty(), "unsolved: not indexed");
}

fn setting(location: &Location, role: Role, value: &str) -> Event {
    let command = Command::Setting {
        key: Some("solved_pointers".into()),
        value: Some(value.into()),
    };
    invoked(location, member("mo", role), command)
}

#[tokio::test]
async fn solved_pointers_link_a_closely_matching_solved_conversation_where_turned_on() {
    let f = fixture_config(Ok("I am not sure."), |_| {}).await;
    let (help, other) = (discord("905"), discord("906"));
    let scope = scope_of(&help);
    f.router
        .handle(posted(&help, "1501", "ana", QUESTION, None))
        .await;
    f.router
        .handle(posted(&help, "1502", "bo", ANSWER, Some("1501")))
        .await;
    f.router.handle(reacted(&help, "1502", "ana", "✅")).await;
    wait_for(&f.store, &scope, "rotate zebra keys", "relay keys rotate").await;
    let link = "https://discord.com/channels/900/905/1501";
    let lead_in = "already solved here";

    // Off by default: the question is answered from the conversation, no pointer.
    let asked = "How can I rotate the zebra signing keys on my relay?";
    let text = reply_text(f.router.handle(ask(&help, asked)).await).await;
    assert!(!text.contains(lead_in), "{text}");

    // Only moderators turn it on, and only for the channel they typed it in.
    let refused = reply_text(f.router.handle(setting(&help, Role::Member, "on")).await).await;
    assert!(refused.contains("only moderators"), "{refused}");
    let text = reply_text(f.router.handle(ask(&help, asked)).await).await;
    assert!(
        !text.contains(lead_in),
        "a member cannot turn it on: {text}"
    );
    let done = reply_text(f.router.handle(setting(&help, Role::Moderator, "on")).await).await;
    assert!(done.contains("905"), "{done}");

    let text = reply_text(f.router.handle(ask(&help, asked)).await).await;
    assert!(text.contains(lead_in), "{text}");
    assert!(text.contains(link), "{text}");
    assert!(
        text.contains("relay keys rotate"),
        "quotes the conversation: {text}"
    );
    let text = reply_text(f.router.handle(ask(&other, asked)).await).await;
    assert!(!text.contains(lead_in), "another channel: {text}");
    // A question that only shares the topic gets no pointer.
    let loose = "What colour is the zebra relay's logo?";
    let text = reply_text(f.router.handle(ask(&help, loose)).await).await;
    assert!(!text.contains(lead_in), "{text}");

    // Turned off again: answered.
    f.router
        .handle(setting(&help, Role::Moderator, "off"))
        .await;
    let text = reply_text(f.router.handle(ask(&help, asked)).await).await;
    assert!(!text.contains(lead_in), "{text}");
}

#[tokio::test]
async fn excluded_channels_stay_out_of_the_knowledge_base() {
    let f = fixture_config(Ok("I am not sure."), |config| {
        config.knowledge.exclude_channels = vec!["904".into()];
    })
    .await;
    let staff = discord("904");
    f.router
        .handle(posted(&staff, "1301", "ana", QUESTION, None))
        .await;
    f.router
        .handle(posted(&staff, "1302", "bo", ANSWER, Some("1301")))
        .await;
    assert_eq!(
        f.store.job_counts().await.unwrap().unfinished(),
        0,
        "nothing queued"
    );
    let mark = Command::KbMark {
        message: "1301".into(),
    };
    let text = reply_text(
        f.router
            .handle(invoked(&staff, member("mod", Role::Moderator), mark))
            .await,
    )
    .await;
    assert!(text.contains("excluded"), "{text}");
    assert!(documents(&f).await.is_empty());
}

#[tokio::test]
async fn backfill_indexes_the_recorded_history() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    let (help, staff) = (discord("905"), discord("906"));
    let history = [
        (&help, "1401", "ana", QUESTION, None),
        (&help, "1402", "bo", ANSWER, Some("1401")),
        (&help, "1403", "ana", "Is anyone around?", None),
        (&staff, "1404", "ana", QUESTION, None),
        (&staff, "1405", "bo", ANSWER, Some("1404")),
    ];
    for (location, id, author, text, reply_to) in history {
        let recorded = message(location, id, author, text, reply_to);
        store.record_message(&recorded).await.unwrap();
    }
    let excluded = ["906".to_string()];
    let line = steward::app::kb::backfill(&store, &excluded, None)
        .await
        .unwrap();
    assert!(
        line.starts_with(
            "5 messages read, 2 conversations: 1 added, 0 updated, 0 unchanged, 0 removed, \
             1 not indexed"
        ),
        "{line}"
    );
    let paths: Vec<String> = store
        .kb_documents()
        .await
        .unwrap()
        .into_iter()
        .map(|document| document.path)
        .collect();
    assert_eq!(paths, ["messages/discord/905/1401"]);
    let found = store
        .retrieve("discord:900", "rotate zebra keys", 3)
        .await
        .unwrap();
    let source = found.passages[0]
        .candidate
        .source
        .as_ref()
        .expect("a source");
    assert_eq!(source.message.as_str(), "1401");

    // Again: nothing changed. Another community has nothing recorded.
    let again = steward::app::kb::backfill(&store, &excluded, None)
        .await
        .unwrap();
    assert!(again.contains("0 added, 0 updated, 1 unchanged"), "{again}");
    let other = (Platform::Discord, CommunityId::new("901"));
    let none = steward::app::kb::backfill(&store, &excluded, Some(&other))
        .await
        .unwrap();
    assert!(
        none.starts_with("0 messages read, 0 conversations"),
        "{none}"
    );
}
