//! Members' data through the router as `steward run` wires it (a real SQLite store, the
//! background indexing workers running): opting out stops recording and opting in resumes
//! it, a channel's recording is for moderators to switch off, `forget-me` needs its
//! confirmation and then leaves no row with the member's id or words, a forgotten member is
//! not recorded again, `privacy export` sends exactly the member's messages as a JSON file,
//! retention purges with the shorter community setting (which refuses a longer value), and
//! the real console binary's message ids never collide across runs.

use std::time::{Duration, Instant, SystemTime};

use steward::core::{
    Action, Author, ChannelId, Command, CommunityId, Event, EventKind, Location, Message,
    MessageId, Platform, PrivacyCommand, Role, UserId,
};
use steward::features::privacy::retention::purge_all;
use steward::store::Store;

use crate::dispatch::{fixture_config, location, reply_text, Fixture};

/// A member id and display name found nowhere else in the database.
const ANA: &str = "ana-5e1f";
const ANA_NAME: &str = "Ana Quuxley";

/// A router whose flood rule stays out of the way (these tests post quickly) and whose
/// blocked pattern shows that rules still screen members who opted out.
async fn fixture(retain_messages_days: Option<u32>) -> Fixture {
    fixture_config(Ok("Paris is the capital."), |config| {
        config.moderation.flood = None;
        config.moderation.blocked_patterns = vec![regex::RegexBuilder::new("free\\s+nitro")
            .case_insensitive(true)
            .build()
            .unwrap()];
        config.privacy.retain_messages_days = retain_messages_days;
    })
    .await
}

fn member(id: &str, role: Role) -> Author {
    let display_name = if id == ANA {
        ANA_NAME.to_string()
    } else {
        id.to_uppercase()
    };
    Author {
        id: UserId::new(id),
        display_name,
        role,
        is_bot: false,
    }
}

fn posted_at(id: &str, author: &str, text: &str, reply_to: Option<&str>, at: SystemTime) -> Event {
    Event::now(EventKind::MessagePosted(Message {
        id: MessageId::new(id),
        location: location(),
        author: member(author, Role::Member),
        text: text.into(),
        created_at: at,
        reply_to: reply_to.map(MessageId::new),
        mentions_bot: false,
        replies_to_bot: false,
    }))
}

fn posted(id: &str, author: &str, text: &str, reply_to: Option<&str>) -> Event {
    posted_at(id, author, text, reply_to, SystemTime::now())
}

fn invoked(invoker: Author, command: Command) -> Event {
    Event::now(EventKind::CommandInvoked {
        location: location(),
        invoker,
        command,
        message: None,
    })
}

fn privacy(author: &str, role: Role, command: PrivacyCommand) -> Event {
    invoked(member(author, role), Command::Privacy(command))
}

async fn stored(f: &Fixture, id: &str) -> bool {
    f.store
        .message(Platform::Console, &MessageId::new(id))
        .await
        .unwrap()
        .is_some()
}

/// The (table, column) pairs holding `needle` anywhere in the database.
async fn found(store: &Store, needle: &str) -> Vec<(String, String)> {
    store.debug_text_columns_containing(needle).await.unwrap()
}

/// Waits (at most 10 s) until the knowledge base holds a document at `path`.
async fn document_indexed(store: &Store, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let documents = store.kb_documents().await.unwrap();
        if documents.iter().any(|d| d.path == path) {
            return;
        }
        assert!(Instant::now() < deadline, "{path} indexed: {documents:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn documents(store: &Store) -> Vec<String> {
    let all = store.kb_documents().await.unwrap();
    all.into_iter().map(|d| d.path).collect()
}

#[tokio::test]
async fn opting_out_stops_recording_and_opting_in_resumes_it() {
    let f = fixture(None).await;
    f.router
        .handle(posted("m1", ANA, "first words", None))
        .await;
    assert!(stored(&f, "m1").await);

    let text = reply_text(
        f.router
            .handle(privacy(ANA, Role::Member, PrivacyCommand::OptOut))
            .await,
    )
    .await;
    assert!(text.contains("no longer records"), "{text}");
    let again = reply_text(
        f.router
            .handle(privacy(ANA, Role::Member, PrivacyCommand::OptOut))
            .await,
    )
    .await;
    assert!(again.contains("already"), "{again}");

    // Not stored, not answered unless addressed directly.
    let quiet = f
        .router
        .handle(posted("m2", ANA, "a private thought", None))
        .await;
    assert!(quiet.is_empty(), "{quiet:?}");
    assert!(!stored(&f, "m2").await);
    assert!(found(&f.store, "a private thought").await.is_empty());
    let question = "@steward what is the capital of France?";
    let answer = reply_text(f.router.handle(posted("m3", ANA, question, None)).await).await;
    assert!(answer.contains("Paris"), "{answer}");
    assert!(!stored(&f, "m3").await);
    assert!(found(&f.store, "capital of France").await.is_empty());
    // The rules still screen them: opting out does not switch anti-spam off.
    let spam = f
        .router
        .handle(posted("m4", ANA, "free nitro at example.com", None))
        .await;
    assert!(
        spam.iter()
            .any(|a| matches!(a, Action::DeleteMessage { message, .. }
            if message.as_str() == "m4")),
        "{spam:?}"
    );
    assert!(!stored(&f, "m4").await);

    let text = reply_text(
        f.router
            .handle(privacy(ANA, Role::Member, PrivacyCommand::OptIn))
            .await,
    )
    .await;
    assert!(text.contains("again"), "{text}");
    f.router.handle(posted("m5", ANA, "back again", None)).await;
    assert!(stored(&f, "m5").await);
    // What was stored before opting out stays until forget-me.
    assert!(stored(&f, "m1").await);
}

#[tokio::test]
async fn only_moderators_switch_a_channels_recording_off() {
    let f = fixture(None).await;
    let off = PrivacyCommand::Channel { recorded: false };
    let refused = reply_text(
        f.router
            .handle(privacy("bob", Role::Member, off.clone()))
            .await,
    )
    .await;
    assert!(refused.contains("only moderators"), "{refused}");
    f.router
        .handle(posted("c1", "bob", "still recorded", None))
        .await;
    assert!(stored(&f, "c1").await);

    let done = reply_text(f.router.handle(privacy("mod", Role::Moderator, off)).await).await;
    assert!(
        done.contains("no longer records messages in this channel"),
        "{done}"
    );
    f.router
        .handle(posted("c2", "bob", "off the record", None))
        .await;
    assert!(!stored(&f, "c2").await);
    let notice = reply_text(
        f.router
            .handle(privacy("bob", Role::Member, PrivacyCommand::Notice))
            .await,
    )
    .await;
    assert!(
        notice.contains("switched recording off in this channel"),
        "{notice}"
    );

    let on = PrivacyCommand::Channel { recorded: true };
    reply_text(f.router.handle(privacy("mod", Role::Moderator, on)).await).await;
    f.router
        .handle(posted("c3", "bob", "on the record", None))
        .await;
    assert!(stored(&f, "c3").await);
}

#[tokio::test]
async fn forget_me_needs_its_confirmation_then_leaves_nothing_of_the_member() {
    let f = fixture(None).await;
    // Ana asks, Bob answers: an indexed conversation holding Ana's words and name.
    let question = "How do I rotate the quuxwing signing keys on the relay?";
    let answer = "Run relay keys rotate --quuxwing and restart the relay afterwards.";
    f.router.handle(posted("q1", ANA, question, None)).await;
    f.router
        .handle(posted("a1", "bob", answer, Some("q1")))
        .await;
    f.router
        .handle(posted(
            "q2",
            ANA,
            "Thanks, the quuxwing rotation worked",
            Some("a1"),
        ))
        .await;
    document_indexed(&f.store, "messages/console/general/q1").await;
    assert!(!found(&f.store, "quuxwing signing").await.is_empty());

    // Confirming without asking first deletes nothing.
    let forget = |confirm| privacy(ANA, Role::Member, PrivacyCommand::ForgetMe { confirm });
    let early = reply_text(f.router.handle(forget(true)).await).await;
    assert!(early.contains("nothing to confirm"), "{early}");
    assert!(stored(&f, "q1").await);
    let asked = reply_text(f.router.handle(forget(false)).await).await;
    assert!(
        asked.contains("2 stored messages") && asked.contains("forget-me confirm"),
        "{asked}"
    );
    assert!(stored(&f, "q1").await, "asking alone deletes nothing");
    // Someone else's confirmation is not Ana's.
    let other = reply_text(
        f.router
            .handle(privacy(
                "bob",
                Role::Member,
                PrivacyCommand::ForgetMe { confirm: true },
            ))
            .await,
    )
    .await;
    assert!(other.contains("nothing to confirm"), "{other}");

    let done = reply_text(f.router.handle(forget(true)).await).await;
    assert!(done.contains("deleted 2 messages"), "{done}");
    for needle in [ANA, ANA_NAME, "quuxwing signing", "quuxwing rotation"] {
        assert!(
            found(&f.store, needle).await.is_empty(),
            "{needle:?} is still in {:?}",
            found(&f.store, needle).await
        );
    }
    assert!(!stored(&f, "q1").await && !stored(&f, "q2").await);
    // Bob's answer stays (his own), outside the knowledge base now that nobody asked.
    assert!(stored(&f, "a1").await);
    assert!(documents(&f.store).await.is_empty());

    // Forgotten: the next message is not recorded, and asking twice finds nothing.
    f.router
        .handle(posted("q3", ANA, "one more quuxwing note", None))
        .await;
    assert!(!stored(&f, "q3").await);
    assert!(found(&f.store, ANA).await.is_empty());
    reply_text(f.router.handle(forget(false)).await).await;
    let twice = reply_text(f.router.handle(forget(true)).await).await;
    assert!(twice.contains("nothing stored"), "{twice}");
    let notice = reply_text(
        f.router
            .handle(privacy(ANA, Role::Member, PrivacyCommand::Notice))
            .await,
    )
    .await;
    assert!(notice.contains("asked to be forgotten"), "{notice}");
}

#[tokio::test]
async fn moderators_forget_members_who_left_but_not_other_moderators() {
    let f = fixture(None).await;
    f.router
        .handle(posted("l1", "leaver", "bye all", None))
        .await;
    let mut moderator = member("mod2", Role::Moderator);
    f.router
        .handle(Event::now(EventKind::MessagePosted(Message {
            id: MessageId::new("l2"),
            location: location(),
            author: moderator.clone(),
            text: "moderating".into(),
            created_at: SystemTime::now(),
            reply_to: None,
            mentions_bot: false,
            replies_to_bot: false,
        })))
        .await;
    let forget = |user: &str, confirm| PrivacyCommand::Forget {
        user: user.into(),
        confirm,
    };
    // Members cannot.
    let refused = reply_text(
        f.router
            .handle(privacy("bob", Role::Member, forget("leaver", false)))
            .await,
    )
    .await;
    assert!(refused.contains("only moderators"), "{refused}");
    // A moderator cannot forget another moderator.
    let peer = reply_text(
        f.router
            .handle(privacy("mod", Role::Moderator, forget("mod2", false)))
            .await,
    )
    .await;
    assert!(peer.contains("only someone above them"), "{peer}");
    assert!(stored(&f, "l2").await);

    let asked = reply_text(
        f.router
            .handle(privacy("mod", Role::Moderator, forget("leaver", false)))
            .await,
    )
    .await;
    assert!(asked.contains("privacy forget leaver confirm"), "{asked}");
    let done = reply_text(
        f.router
            .handle(privacy("mod", Role::Moderator, forget("leaver", true)))
            .await,
    )
    .await;
    assert!(done.contains("deleted 1 messages of leaver"), "{done}");
    assert!(!stored(&f, "l1").await);
    assert!(found(&f.store, "bye all").await.is_empty());
    // The owner outranks a moderator.
    moderator.role = Role::Owner;
    let owner = invoked(
        Author {
            id: UserId::new("owner"),
            ..moderator
        },
        Command::Privacy(forget("mod2", false)),
    );
    let asked = reply_text(f.router.handle(owner).await).await;
    assert!(asked.contains("1 stored messages"), "{asked}");
}

#[tokio::test]
async fn export_sends_exactly_the_members_messages_as_a_private_json_file() {
    let f = fixture(None).await;
    f.router
        .handle(posted("e1", ANA, "my first message", None))
        .await;
    f.router.handle(posted("e2", "bob", "not hers", None)).await;
    f.router
        .handle(posted("e3", ANA, "my second message", Some("e2")))
        .await;

    let actions = f
        .router
        .handle(privacy(ANA, Role::Member, PrivacyCommand::Export))
        .await;
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert!(
        matches!(&actions[0], Action::Reply(reply) if reply.only_invoker),
        "{actions:?}"
    );
    let Action::PrivateNotice {
        user, attachment, ..
    } = &actions[1]
    else {
        panic!("a private notice: {actions:?}");
    };
    assert_eq!(user.as_str(), ANA);
    let file = attachment.as_ref().expect("the export is attached");
    assert_eq!(file.mime, "application/json");
    assert_eq!(file.name, "steward-export-c.json");
    let json: serde_json::Value = serde_json::from_slice(&file.bytes).unwrap();
    assert_eq!(json["user"], ANA);
    let ids: Vec<&str> = json["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["e1", "e3"]);
    assert_eq!(json["messages"][1]["text"], "my second message");

    // A member with nothing stored still gets a file, with empty lists, and is told so.
    let actions = f
        .router
        .handle(privacy("carl", Role::Member, PrivacyCommand::Export))
        .await;
    let Action::Reply(reply) = &actions[0] else {
        panic!("{actions:?}");
    };
    let said = reply.body.as_text().unwrap_or_default();
    assert!(said.contains("stores nothing about you"), "{said}");
    let Action::PrivateNotice {
        attachment: Some(file),
        ..
    } = &actions[1]
    else {
        panic!("{actions:?}");
    };
    let json: serde_json::Value = serde_json::from_slice(&file.bytes).unwrap();
    assert_eq!(json["messages"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn retention_purges_with_the_shorter_community_setting_which_refuses_a_longer_one() {
    let f = fixture(Some(365)).await;
    let setting = |value: &str| {
        invoked(
            member("mod", Role::Moderator),
            Command::Setting {
                key: Some("retain_messages_days".into()),
                value: Some(value.into()),
            },
        )
    };
    for (value, expected) in [
        ("400", "longer than this Steward keeps"),
        ("0", "not a valid retain_messages_days"),
        ("-3", "not a valid retain_messages_days"),
        ("ten", "not a valid retain_messages_days"),
    ] {
        let text = reply_text(f.router.handle(setting(value)).await).await;
        assert!(text.contains(expected), "{value}: {text}");
    }
    let text = reply_text(f.router.handle(setting("30")).await).await;
    assert!(text.contains("older than 30 days"), "{text}");
    let notice = reply_text(
        f.router
            .handle(privacy("bob", Role::Member, PrivacyCommand::Notice))
            .await,
    )
    .await;
    assert!(notice.contains("for 30 days"), "{notice}");

    // 40 days old: kept by the configured 365 days, purged by the community's 30.
    let now = SystemTime::now();
    let old = now - Duration::from_secs(40 * 24 * 60 * 60);
    let question = "Where is the old vorpalix config file kept?";
    let answer = "It lives under /etc/vorpalix/old.toml on every host.";
    f.router
        .handle(posted_at("o1", ANA, question, None, old))
        .await;
    f.router
        .handle(posted_at("o2", "bob", answer, Some("o1"), old))
        .await;
    f.router
        .handle(posted("n1", "bob", "a fresh vorpalix remark", None))
        .await;
    document_indexed(&f.store, "messages/console/general/o1").await;

    let privacy = f.router.privacy();
    let report = purge_all(privacy.store(), privacy.index(), privacy.settings(), now)
        .await
        .unwrap();
    let community = report
        .communities
        .iter()
        .find(|c| c.community == CommunityId::new("c"))
        .expect("the community was purged");
    assert_eq!(community.retain_messages_days, Some(30));
    assert_eq!(community.purged.messages, 2, "{report:?}");
    assert!(found(&f.store, "vorpalix config").await.is_empty());
    assert!(found(&f.store, "/etc/vorpalix").await.is_empty());
    assert!(documents(&f.store).await.is_empty());
    // The rows stay (ids and times, for counts); the recent message keeps its text.
    let purged = f
        .store
        .message(Platform::Console, &MessageId::new("o1"))
        .await
        .unwrap()
        .expect("the row stays");
    assert!(purged.text.is_empty());
    assert!(!found(&f.store, "fresh vorpalix remark").await.is_empty());
    // Purging again changes nothing.
    let again = purge_all(privacy.store(), privacy.index(), privacy.settings(), now)
        .await
        .unwrap();
    assert_eq!(again.total().messages, 0);

    // `default` goes back to the configured retention.
    let text = reply_text(f.router.handle(setting("default")).await).await;
    assert!(text.contains("configured 365 days"), "{text}");
}

/// Runs `steward console` on `dir`'s database with `input`; returns stdout.
fn console_run(dir: &std::path::Path, input: &str) -> String {
    let config = crate::console_util::console_config(dir, 16, "[console]\nuser = \"ana\"\n");
    let output = crate::console_util::run_console(&config, &[], input);
    assert_eq!(output.code, Some(0), "stderr: {}", output.stderr);
    output.stdout
}

#[tokio::test]
async fn console_message_ids_never_collide_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let input = "the same line twice\nand another one\n";
    console_run(dir.path(), input);
    console_run(dir.path(), input);
    let store = Store::open(&format!("sqlite://{}/steward.db", dir.path().display()))
        .await
        .unwrap();
    let console = Location {
        platform: Platform::Console,
        community: CommunityId::new("console"),
        channel: ChannelId::new("general"),
        thread: None,
    };
    let messages = store.recent_messages(&console, 100).await.unwrap();
    let same: Vec<&MessageId> = messages
        .iter()
        .filter(|m| m.text == "the same line twice")
        .map(|m| &m.id)
        .collect();
    assert_eq!(
        same.len(),
        2,
        "both runs' messages are stored: {messages:?}"
    );
    assert_ne!(same[0], same[1]);
    assert_eq!(messages.len(), 4, "{messages:?}");
    store.close().await;
}
