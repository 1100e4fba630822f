//! Chat requests and their validation.

use std::time::Duration;

use super::LlmError;

/// Who said a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatRole {
    User,
    Assistant,
}

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::Assistant,
            content: content.into(),
        }
    }
}

/// A request's class: which requests the engine serves first when several wait. Each class has
/// its own bounded queue in the [`Scheduler`](super::Scheduler).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Priority {
    /// Someone is waiting for it (ask, summarize); always served first.
    #[default]
    Interactive,
    /// Model reviews of reported messages: served when no interactive request waits, before
    /// background work.
    Moderation,
    /// Nobody is waiting for it (sentiment, indexing): served last.
    Background,
}

impl Priority {
    /// Every class, most urgent first.
    pub const ALL: [Priority; 3] = [
        Priority::Interactive,
        Priority::Moderation,
        Priority::Background,
    ];

    /// A short stable name for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Interactive => "interactive",
            Priority::Moderation => "moderation",
            Priority::Background => "background",
        }
    }
}

/// Upper bound on generated tokens for any request, whatever the caller asks.
pub const MAX_NEW_TOKENS_LIMIT: usize = 8192;

/// A request to generate a chat answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Always sent: some chat templates (SmolLM2's) inject their own default system prompt
    /// otherwise, and small models answer much worse with it.
    pub system: String,
    pub messages: Vec<ChatMessage>,
    /// Generation stops after this many new tokens.
    pub max_new_tokens: usize,
    /// `None` is greedy decoding: reproducible answers.
    pub temperature: Option<f64>,
    /// Generation stops when one of these strings is produced.
    pub stop: Vec<String>,
    /// The whole request (queueing included) must finish within this time.
    pub deadline: Option<Duration>,
    pub priority: Priority,
}

impl ChatRequest {
    /// A greedy request with one user message.
    pub fn new(system: impl Into<String>, user: impl Into<String>) -> Self {
        Self {
            system: system.into(),
            messages: vec![ChatMessage::user(user)],
            max_new_tokens: 256,
            temperature: None,
            stop: Vec::new(),
            deadline: None,
            priority: Priority::Interactive,
        }
    }

    pub fn with_max_new_tokens(mut self, max_new_tokens: usize) -> Self {
        self.max_new_tokens = max_new_tokens;
        self
    }

    pub fn with_temperature(mut self, temperature: Option<f64>) -> Self {
        self.temperature = temperature;
        self
    }

    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    pub fn with_stop(mut self, stop: impl Into<String>) -> Self {
        self.stop.push(stop.into());
        self
    }

    /// Puts the `earlier` turns of a conversation (oldest first) before the request's own
    /// messages, keeping the roles alternating as strict chat templates require: consecutive
    /// turns of one role are joined, the conversation starts with a user's turn (a leading
    /// assistant turn is dropped), and a user's turn just before the request's first message
    /// is joined to it. Blank turns are skipped.
    pub fn with_history(mut self, earlier: Vec<ChatMessage>) -> Self {
        let mut turns: Vec<ChatMessage> = Vec::new();
        for turn in earlier {
            if turn.content.trim().is_empty() {
                continue;
            }
            let same_role = turns.last().map(|last| last.role) == Some(turn.role);
            if same_role {
                let last = turns.last_mut().expect("checked above");
                last.content.push_str("\n\n");
                last.content.push_str(&turn.content);
            } else if turns.is_empty() && turn.role == ChatRole::Assistant {
                continue;
            } else {
                turns.push(turn);
            }
        }
        let joins = match (turns.last(), self.messages.first()) {
            (Some(last), Some(first)) => last.role == first.role,
            _ => false,
        };
        if joins {
            let last = turns.pop().expect("checked above");
            let first = &mut self.messages[0];
            first.content = format!("{}\n\n{}", last.content, first.content);
        }
        turns.append(&mut self.messages);
        self.messages = turns;
        self
    }

    /// Rejects requests no backend should see.
    pub fn validate(&self) -> Result<(), LlmError> {
        let invalid = |why: &str| Err(LlmError::InvalidRequest(why.to_string()));
        if self.messages.is_empty() {
            return invalid("a request needs at least one message");
        }
        if self.messages.last().map(|m| m.role) != Some(ChatRole::User) {
            return invalid("the last message must come from the user");
        }
        if self.messages.iter().all(|m| m.content.trim().is_empty()) {
            return invalid("the messages are empty");
        }
        if self.max_new_tokens == 0 || self.max_new_tokens > MAX_NEW_TOKENS_LIMIT {
            return invalid(&format!(
                "max_new_tokens must be between 1 and {MAX_NEW_TOKENS_LIMIT}"
            ));
        }
        if let Some(t) = self.temperature {
            if !(0.0..=2.0).contains(&t) || t.is_nan() {
                return invalid("temperature must be between 0 and 2");
            }
        }
        if self.deadline == Some(Duration::ZERO) {
            return invalid("the deadline must be longer than zero");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_names_are_stable_and_ordered() {
        let names: Vec<&str> = Priority::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(names, ["interactive", "moderation", "background"]);
        assert_eq!(Priority::default(), Priority::Interactive);
    }

    #[test]
    fn validation_table() {
        let ok = ChatRequest::new("sys", "hello");
        let cases: Vec<(&str, ChatRequest, bool)> = vec![
            ("plain request", ok.clone(), true),
            (
                "no messages",
                ChatRequest {
                    messages: vec![],
                    ..ok.clone()
                },
                false,
            ),
            ("blank message", ChatRequest::new("sys", "  "), false),
            (
                "assistant last",
                ChatRequest {
                    messages: vec![ChatMessage::user("q"), ChatMessage::assistant("a")],
                    ..ok.clone()
                },
                false,
            ),
            ("zero tokens", ok.clone().with_max_new_tokens(0), false),
            (
                "too many tokens",
                ok.clone().with_max_new_tokens(100_000),
                false,
            ),
            (
                "hot temperature",
                ok.clone().with_temperature(Some(5.0)),
                false,
            ),
            ("sampled", ok.clone().with_temperature(Some(0.7)), true),
            (
                "zero deadline",
                ok.clone().with_deadline(Duration::ZERO),
                false,
            ),
        ];
        for (name, request, valid) in cases {
            assert_eq!(request.validate().is_ok(), valid, "{name}");
        }
    }

    #[test]
    fn history_keeps_roles_alternating() {
        let user = |text: &str| ChatMessage::user(text);
        let assistant = |text: &str| ChatMessage::assistant(text);
        let cases: Vec<(&str, Vec<ChatMessage>, Vec<ChatMessage>)> = vec![
            ("no history", vec![], vec![user("q")]),
            (
                "a question and its answer",
                vec![user("q1"), assistant("a1")],
                vec![user("q1"), assistant("a1"), user("q")],
            ),
            (
                "a leading answer is dropped",
                vec![assistant("a0"), user("q1"), assistant("a1")],
                vec![user("q1"), assistant("a1"), user("q")],
            ),
            (
                "turns of one role are joined",
                vec![user("q1"), user("more"), assistant("a1"), assistant("a2")],
                vec![user("q1\n\nmore"), assistant("a1\n\na2"), user("q")],
            ),
            (
                "a trailing user turn joins the question",
                vec![user("q1"), assistant("a1"), user("thanks")],
                vec![user("q1"), assistant("a1"), user("thanks\n\nq")],
            ),
            (
                "blank turns are skipped",
                vec![user("q1"), assistant("  "), assistant("a1")],
                vec![user("q1"), assistant("a1"), user("q")],
            ),
        ];
        for (name, earlier, expected) in cases {
            let request = ChatRequest::new("sys", "q").with_history(earlier);
            assert_eq!(request.messages, expected, "{name}");
            assert!(request.validate().is_ok(), "{name}");
        }
    }
}
