//! `summarize`: the last messages of a channel or thread in a few points, each linking to the
//! messages it comes from.
//!
//! The model sees the messages numbered and writes bullets that cite numbers. Steward keeps
//! only citations of messages it actually showed, turns them into links, and drops points
//! that cite nothing: a summary never points at a message that does not exist.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use regex::Regex;

use async_trait::async_trait;

use crate::core::{Language, Location};
use crate::features::Context;
use crate::llm::{ChatRequest, Engine, LlmError};
use crate::prompts::{Prompts, SummarizeSystem};
use crate::store::{Store, StoreError, StoredMessage};

/// At most this many points.
const MAX_POINTS: usize = 5;
/// Each message is shown to the model by its start.
const MESSAGE_CHARS: usize = 280;
/// The conversation shown to the model, in characters: on a CPU the prompt dominates the
/// time (about 60 tokens/s with the default model), so older messages give way first.
const CONVERSATION_CHARS: usize = 3000;
const SUMMARY_MAX_TOKENS: usize = 200;

/// Citations: `[2]`, `[3, 5]`, `【2，4】`.
static CITATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\[【]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]】]").expect("citation")
});
/// Space left before punctuation where a citation was removed.
static SPACE_BEFORE_PUNCTUATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s+([.,;:!?。，；])").expect("punctuation"));
/// A bullet or number at the start of a line: `- `, `* `, `• `, `1. `, `2) `.
static BULLET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?:[-*•·]|\d+[.)、])\s*").expect("bullet"));

/// One point of a summary: its text and the (1-based) numbers of the messages it cites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub text: String,
    pub sources: Vec<usize>,
}

/// The conversation history a summary reads: a narrow view of the store, so the feature can
/// be tested with an in-memory fake.
#[async_trait]
pub trait History: Send + Sync {
    /// The last `count` messages at `location`, oldest first.
    async fn recent(
        &self,
        location: &Location,
        count: u32,
    ) -> Result<Vec<StoredMessage>, StoreError>;
}

#[async_trait]
impl History for Store {
    async fn recent(
        &self,
        location: &Location,
        count: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        self.recent_messages(location, count).await
    }
}

/// Summarizes conversations.
pub struct Summarize {
    engine: Arc<dyn Engine>,
    prompts: Arc<Prompts>,
    history: Arc<dyn History>,
    timeout: Duration,
}

impl Summarize {
    pub fn new(
        engine: Arc<dyn Engine>,
        prompts: Arc<Prompts>,
        history: Arc<dyn History>,
        timeout: Duration,
    ) -> Self {
        Self {
            engine,
            prompts,
            history,
            timeout,
        }
    }

    /// Summarizes the last `count` messages at the context's location. `Ok` is the text to
    /// post (a summary or an explanation); `Err` is a model error for the router to word.
    pub async fn summarize(&self, ctx: &Context, count: u32) -> Result<String, LlmError> {
        let strings = ctx.strings;
        let messages = match self.history.recent(&ctx.location, count).await {
            Ok(messages) => messages,
            Err(error) => {
                tracing::error!(label = error.label(), %error, "reading messages to summarize failed");
                return Ok(strings.failed().to_string());
            }
        };
        let shown = fit(&messages);
        if shown.is_empty() {
            return Ok(strings.nothing_to_summarize().to_string());
        }
        let request = self.request(ctx.location.community.as_str(), shown, ctx.language);
        let generated = self.engine.generate(request).await?;
        let points = parse_points(&generated.text, shown.len());
        if points.is_empty() {
            tracing::info!(output = %generated.text, "the summary cited no shown message");
            return Ok(strings.summary_without_sources().to_string());
        }
        Ok(render(&points, shown, ctx))
    }

    /// The request: the system prompt and the numbered conversation.
    pub fn request(
        &self,
        community: &str,
        messages: &[StoredMessage],
        language: Language,
    ) -> ChatRequest {
        let language = language.code();
        let system = self
            .prompts
            .render(
                "summarize_system.txt",
                SummarizeSystem {
                    community,
                    language,
                },
            )
            .expect("summarize_system.txt renders (checked by tests)");
        ChatRequest::new(system, numbered(messages))
            .with_max_new_tokens(SUMMARY_MAX_TOKENS)
            .with_deadline(self.timeout)
    }
}

/// `[n] name: text` lines, one per message, each cut to its start.
pub fn numbered(messages: &[StoredMessage]) -> String {
    messages
        .iter()
        .enumerate()
        .map(|(index, message)| format!("[{}] {}", index + 1, line_of(message)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn line_of(message: &StoredMessage) -> String {
    let text = message
        .text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let short: String = text.chars().take(MESSAGE_CHARS).collect();
    format!("{}: {short}", message.author_name)
}

/// The newest messages whose lines fit in [`CONVERSATION_CHARS`] (oldest first).
fn fit(messages: &[StoredMessage]) -> &[StoredMessage] {
    let mut total = 0;
    let mut first = messages.len();
    for (index, message) in messages.iter().enumerate().rev() {
        total += line_of(message).chars().count() + 8;
        if total > CONVERSATION_CHARS && first < messages.len() {
            break;
        }
        first = index;
    }
    &messages[first..]
}

/// The model's bullets with their citations of messages `1..=shown`; points citing none of
/// them are dropped, and so are repeats.
pub fn parse_points(output: &str, shown: usize) -> Vec<Point> {
    let mut points: Vec<Point> = Vec::new();
    for line in output.lines() {
        let mut sources = Vec::new();
        for citation in CITATION.captures_iter(line) {
            for number in citation[1].split(|c: char| !c.is_ascii_digit()) {
                if let Ok(n) = number.parse::<usize>() {
                    if (1..=shown).contains(&n) && !sources.contains(&n) {
                        sources.push(n);
                    }
                }
            }
        }
        let without_citations = CITATION.replace_all(line, "");
        let tidy = SPACE_BEFORE_PUNCTUATION.replace_all(&without_citations, "$1");
        let text = BULLET.replace(&tidy, "");
        let text = text.trim().trim_end_matches([',', '，']).trim().to_string();
        if sources.is_empty() || text.is_empty() || points.iter().any(|p| p.text == text) {
            continue;
        }
        sources.sort_unstable();
        points.push(Point { text, sources });
        if points.len() == MAX_POINTS {
            break;
        }
    }
    points
}

/// The points as Markdown, each with links to its sources where the platform has them.
fn render(points: &[Point], messages: &[StoredMessage], ctx: &Context) -> String {
    let mut lines = vec![ctx.strings.summary_header(messages.len())];
    for point in points {
        let sources: Vec<String> = point
            .sources
            .iter()
            .map(|&n| {
                let message = &messages[n - 1];
                match ctx
                    .capabilities
                    .message_link(&message.location, &message.id)
                {
                    Some(link) => format!("[{n}]({link})"),
                    None => format!("#{}", message.id),
                }
            })
            .collect();
        // The model wrote the point (sanitized); Steward wrote the source links.
        let text = super::hygiene::sanitize_generated(&point.text);
        lines.push(format!("- {text} ({})", sources.join(", ")));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_keep_only_citations_of_shown_messages() {
        let output = "Here is a summary:\n\
                      - Ana asked how to borrow twice [1]\n\
                      * Bob explained RefCell [2, 3].\n\
                      3. Someone mentioned tokio [7]\n\
                      • 大家讨论了异步【2，4】\n\
                      - An uncited claim\n\
                      - Ana asked how to borrow twice [1]\n\
                      1) Mixed [9][3]";
        let points = parse_points(output, 4);
        let expected = [
            ("Ana asked how to borrow twice", vec![1]),
            ("Bob explained RefCell.", vec![2, 3]),
            ("大家讨论了异步", vec![2, 4]),
            ("Mixed", vec![3]),
        ];
        let got: Vec<(&str, Vec<usize>)> = points
            .iter()
            .map(|p| (p.text.as_str(), p.sources.clone()))
            .collect();
        assert_eq!(
            got,
            expected
                .iter()
                .map(|(t, s)| (*t, s.clone()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn at_most_five_points() {
        let output = (1..=9)
            .map(|n| format!("- point {n} [1]\n"))
            .collect::<String>();
        assert_eq!(parse_points(&output, 1).len(), MAX_POINTS);
    }
}
