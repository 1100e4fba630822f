//! `summarize` through the router: the numbered conversation the model sees, citations
//! turned into links, invented citations dropped; and the real model end to end.

use std::sync::Arc;
use std::time::SystemTime;

use steward::config::{Config, Language, ModerationSettings};
use steward::core::{
    Author, ChannelId, Command, CommunityId, Event, EventKind, Location, Message, MessageId,
    Platform, Role, UserId,
};
use steward::store::Store;

use crate::dispatch::{fixture_with, reply_text, Fixture};
use crate::model_util::engine;

fn discord_channel() -> Location {
    Location {
        platform: Platform::Discord,
        community: CommunityId::new("100"),
        channel: ChannelId::new("300"),
        thread: None,
    }
}

fn said(id: &str, who: &str, text: &str) -> Event {
    Event::now(EventKind::MessagePosted(Message {
        id: MessageId::new(id),
        location: discord_channel(),
        author: Author {
            id: UserId::new(who.to_lowercase()),
            display_name: who.into(),
            role: Role::Member,
            is_bot: false,
        },
        text: text.into(),
        created_at: SystemTime::now(),
        reply_to: None,
        mentions_bot: false,
        replies_to_bot: false,
    }))
}

fn summarize(messages: Option<u32>) -> Event {
    Event::now(EventKind::CommandInvoked {
        location: discord_channel(),
        invoker: Author {
            id: UserId::new("carol"),
            display_name: "Carol".into(),
            role: Role::Member,
            is_bot: false,
        },
        command: Command::Summarize { messages },
        message: None,
    })
}

const CONVERSATION: [(&str, &str, &str); 3] = [
    ("d1", "Ana", "How do I share a HashMap between tokio tasks?"),
    ("d2", "Bob", "Wrap it in Arc<Mutex<..>>, or use dashmap."),
    ("d3", "Ana", "Thanks, Arc<Mutex> works."),
];

async fn with_conversation(answer: &'static str, language: Language) -> Fixture {
    let f = fixture_with(Ok(answer), language, ModerationSettings::default()).await;
    for (id, who, text) in CONVERSATION {
        f.router.handle(said(id, who, text)).await;
    }
    f
}

#[tokio::test]
async fn points_link_to_their_sources_and_invented_citations_are_dropped() {
    let model = "- Ana asked how to share a HashMap between tasks [1]\n\
                 - Bob suggested Arc<Mutex> or dashmap [2, 3].\n\
                 - Everyone agreed on async-std [7]";
    let f = with_conversation(model, Language::English).await;
    let text = reply_text(f.router.handle(summarize(None)).await).await;
    let link = |id: &str| format!("https://discord.com/channels/100/300/{id}");
    // The model's text is sanitized: `<` is escaped (Matrix would render `<Mutex>` as HTML).
    assert_eq!(
        text,
        format!(
            "Summary of the last 3 messages:\n\
             - Ana asked how to share a HashMap between tasks ([1]({}))\n\
             - Bob suggested Arc\\<Mutex> or dashmap. ([2]({}), [3]({}))",
            link("d1"),
            link("d2"),
            link("d3")
        )
    );
    let seen = f.engine.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].system.contains("square brackets"),
        "{}",
        seen[0].system
    );
    assert_eq!(
        seen[0].messages[0].content,
        "[1] Ana: How do I share a HashMap between tokio tasks?\n\
         [2] Bob: Wrap it in Arc<Mutex<..>>, or use dashmap.\n\
         [3] Ana: Thanks, Arc<Mutex> works."
    );
}

#[tokio::test]
async fn the_count_limits_what_the_model_sees() {
    let f = with_conversation("- Ana said thanks [1]", Language::English).await;
    let text = reply_text(f.router.handle(summarize(Some(1))).await).await;
    assert!(text.starts_with("Summary of the last message:"), "{text}");
    assert!(text.contains("/300/d3)"), "the newest message: {text}");
    let seen = f.engine.seen.lock().unwrap();
    assert_eq!(
        seen[0].messages[0].content,
        "[1] Ana: Thanks, Arc<Mutex> works."
    );
}

#[tokio::test]
async fn without_sources_or_messages_it_says_so() {
    let f = with_conversation("People talked about Rust.", Language::English).await;
    let text = reply_text(f.router.handle(summarize(None)).await).await;
    assert!(
        text.starts_with("Sorry, I could not write a summary that points"),
        "{text}"
    );

    let empty = fixture_with(
        Ok("unused"),
        Language::English,
        ModerationSettings::default(),
    )
    .await;
    let text = reply_text(empty.router.handle(summarize(None)).await).await;
    assert!(
        text.starts_with("There is nothing to summarize here yet"),
        "{text}"
    );
    assert!(
        empty.engine.seen.lock().unwrap().is_empty(),
        "no model call"
    );
}

#[tokio::test]
async fn chinese_communities_get_chinese_summaries() {
    let f = with_conversation("- 讨论了在任务间共享 HashMap【1，2】", Language::Chinese).await;
    let text = reply_text(f.router.handle(summarize(None)).await).await;
    assert!(text.starts_with("最近 3 条消息的总结："), "{text}");
    assert!(
        text.contains("- 讨论了在任务间共享 HashMap ([1]("),
        "{text}"
    );
    let seen = f.engine.seen.lock().unwrap();
    assert!(
        seen[0].system.ends_with("Write in Chinese."),
        "{}",
        seen[0].system
    );
}

/// The real model: whatever it writes, every link points at a message it was shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_model_summarizes_with_valid_links_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        Store::open(&format!("sqlite://{}/s.db", dir.path().display()))
            .await
            .unwrap(),
    );
    let engine = Arc::new(engine(4, 1).await);
    let router = steward::app::router(
        &Config::defaults(),
        store,
        engine,
        steward::metrics::Metrics::new(),
    );
    for (id, who, text) in CONVERSATION {
        router.handle(said(id, who, text)).await;
    }
    let text = reply_text(router.handle(summarize(None)).await).await;
    eprintln!("the model's summary:\n{text}");
    if text.starts_with("Sorry, I could not write a summary") {
        return; // the small model cited nothing usable: said plainly
    }
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("Summary of the last 3 messages:"));
    for line in lines {
        assert!(line.starts_with("- "), "{line}");
        for (at, _) in line.match_indices("](") {
            let link = &line[at + 2..];
            let valid = ["d1)", "d2)", "d3)"]
                .iter()
                .any(|id| link.starts_with(&format!("https://discord.com/channels/100/300/{id}")));
            assert!(valid, "{line}");
        }
    }
}

/// Issue 14: a message deleted on its platform, and one by a member who opted out, never reach
/// the model that writes a summary.
#[tokio::test]
async fn deleted_and_opted_out_messages_never_reach_a_summary() {
    let f = with_conversation("- Bob suggested dashmap [1]", Language::English).await;
    f.router
        .handle(Event::now(EventKind::MessageDeleted {
            location: discord_channel(),
            message: MessageId::new("d1"),
        }))
        .await;
    let opt_out = Event::now(EventKind::CommandInvoked {
        location: discord_channel(),
        invoker: Author {
            id: UserId::new("dora"),
            display_name: "Dora".into(),
            role: Role::Member,
            is_bot: false,
        },
        command: Command::Privacy(steward::core::PrivacyCommand::OptOut),
        message: None,
    });
    f.router.handle(opt_out).await;
    f.router
        .handle(said("d4", "Dora", "My secret server password is hunter2"))
        .await;
    reply_text(f.router.handle(summarize(None)).await).await;
    let seen = f.engine.seen.lock().unwrap();
    let input = &seen.last().expect("the model was asked").messages[0].content;
    assert!(!input.contains("share a HashMap"), "deleted: {input}");
    assert!(!input.contains("hunter2"), "opted out: {input}");
    assert!(input.contains("dashmap"), "the rest is summarized: {input}");
}
