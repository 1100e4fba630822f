//! Console input lines -> core events.

use std::time::SystemTime;

use crate::core::{
    Author, ChannelId, Command, CommunityId, Event, EventKind, Location, Message, MessageId,
    Platform, Role, UserId,
};

/// Who is typing and where.
#[derive(Debug, Clone)]
pub struct ConsoleContext {
    pub user: String,
    pub role: Role,
    pub community: String,
    pub channel: String,
}

/// What one input line means.
#[derive(Debug, PartialEq)]
pub enum Line {
    /// Nothing to do.
    Empty,
    /// Leave the console.
    Quit,
    /// Text for the console user only (usage errors).
    Local(String),
    /// An event for the core (boxed: events are much larger than the other variants).
    Event(Box<Event>),
}

/// Parses one line typed by the console user; `id` becomes the message id.
pub fn parse_line(line: &str, context: &ConsoleContext, id: String) -> Line {
    let text = line.trim();
    if text.is_empty() {
        return Line::Empty;
    }
    let location = Location {
        platform: Platform::Console,
        community: CommunityId::new(&context.community),
        channel: ChannelId::new(&context.channel),
        thread: None,
    };
    let author = Author {
        id: UserId::new(&context.user),
        display_name: context.user.clone(),
        role: context.role,
        is_bot: false,
    };
    let Some(command_line) = text.strip_prefix('/') else {
        return Line::Event(Box::new(Event::now(EventKind::MessagePosted(Message {
            id: MessageId::new(id),
            location,
            author,
            text: text.to_string(),
            created_at: SystemTime::now(),
            reply_to: None,
            mentions_bot: false,
            replies_to_bot: false,
        }))));
    };
    let (name, argument) = match command_line.split_once(char::is_whitespace) {
        Some((name, argument)) => (name, argument.trim()),
        None => (command_line, ""),
    };
    if matches!(name.to_lowercase().as_str(), "quit" | "exit") {
        return Line::Quit;
    }
    let Some(command) = Command::parse(name, argument) else {
        return Line::Local(format!("unknown command /{name}; type /help for the list"));
    };
    Line::Event(Box::new(Event::now(EventKind::CommandInvoked {
        location,
        invoker: author,
        command,
        message: Some(MessageId::new(id)),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> ConsoleContext {
        ConsoleContext {
            user: "ana".into(),
            role: Role::Member,
            community: "console".into(),
            channel: "general".into(),
        }
    }

    fn command_of(line: &Line) -> Option<&Command> {
        match line {
            Line::Event(event) => match &event.kind {
                EventKind::CommandInvoked { command, .. } => Some(command),
                _ => None,
            },
            _ => None,
        }
    }

    #[test]
    fn lines_table() {
        let ask = |q: &str| Command::Ask { question: q.into() };
        let cases: Vec<(&str, Option<Command>)> = vec![
            ("/ask What is Rust?", Some(ask("What is Rust?"))),
            ("/ASK   spaced   ", Some(ask("spaced"))),
            ("/ask", Some(ask(""))),
            ("/help", Some(Command::Help)),
            (
                "/setting",
                Some(Command::Setting {
                    key: None,
                    value: None,
                }),
            ),
            (
                "/setting language zh",
                Some(Command::Setting {
                    key: Some("language".into()),
                    value: Some("zh".into()),
                }),
            ),
            ("/ask 什么是 Rust？", Some(ask("什么是 Rust？"))),
            ("/kb gaps", Some(Command::KbGaps { days: None })),
            (
                "/kb feedback 7",
                Some(Command::KbFeedback { days: Some(7) }),
            ),
        ];
        for (input, expected) in cases {
            let line = parse_line(input, &context(), "1".into());
            assert_eq!(command_of(&line), expected.as_ref(), "{input}");
        }
    }

    #[test]
    fn other_lines() {
        let parse = |s: &str| parse_line(s, &context(), "7".into());
        assert_eq!(parse("   "), Line::Empty);
        assert_eq!(parse("/quit"), Line::Quit);
        assert!(matches!(parse("/frobnicate"), Line::Local(text) if text.contains("/frobnicate")));
        let line = parse("hello @steward");
        match &line {
            Line::Event(event) if matches!(event.kind, EventKind::MessagePosted(_)) => {
                let EventKind::MessagePosted(message) = &event.kind else {
                    unreachable!()
                };
                assert_eq!(message.text, "hello @steward");
                assert_eq!(message.id.as_str(), "7");
                assert_eq!(message.author.id.as_str(), "ana");
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }
}
