//! The report's reading: a short paragraph the model writes from the figures and the
//! numbered messages (`report_reading.txt`).
//!
//! Like a summary's points, the reading may cite only the messages it was shown: the stream
//! goes through [`CitationFilter`], which keeps `[n]` for shown numbers and drops invented
//! ones, and the kept numbers become links. The text is cut, made safe
//! ([`sanitize_generated`]) and put on one line. An engine error, a full queue or the deadline
//! passing gives [`Outcome::Unavailable`]: the report goes out without the reading.

use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use super::render::{one_line, ItemKind};
use crate::core::Language;
use crate::features::hygiene::sanitize_generated;
use crate::insights::health::MessageRef;
use crate::knowledge::cite::{shorten, CitationFilter};
use crate::llm::{ChatRequest, Engine, LlmError, Priority, StreamEvent};
use crate::prompts::{Prompts, ReportReading};
use crate::strings::Strings;

/// Enough for four short sentences.
const READING_MAX_TOKENS: usize = 160;
/// The reading is cut to this many characters.
const READING_CHARS: usize = 700;
/// Past the request's own deadline, the wait gives up anyway (a stream that never ends).
const DEADLINE_MARGIN: Duration = Duration::from_secs(5);

/// A citation as [`CitationFilter`] writes it: `[2]`, `[1, 3]`.
static MARKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[(\d+(?:, \d+)*)\]").expect("marker"));

/// How the reading is written: by which engine, from which prompts, how urgently and within
/// what time.
pub struct Reading<'a> {
    pub engine: &'a dyn Engine,
    pub prompts: &'a Prompts,
    pub deadline: Duration,
    pub priority: Priority,
    /// The languages the model writes well; in another, there is no reading.
    pub writes: &'a [Language],
}

/// What the model reads.
pub(super) struct Input<'a> {
    pub community: &'a str,
    pub language: Language,
    /// The report's figure lines, in the community's language.
    pub figures: &'a [String],
    /// The numbered messages, number 1 first.
    pub shown: &'a [(ItemKind, &'a MessageRef)],
    /// Each shown message's link, where the platform has links.
    pub links: &'a [Option<String>],
}

/// What became of the reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    Written(String),
    Unavailable,
    /// The model does not write the community's language.
    Language,
}

impl Outcome {
    /// The report's lines for it.
    pub(super) fn lines(self, strings: Strings) -> Vec<String> {
        match self {
            Outcome::Written(text) => vec![strings.report_reading().to_string(), text],
            Outcome::Unavailable => vec![strings.report_reading_unavailable().to_string()],
            Outcome::Language => vec![strings.report_reading_language().to_string()],
        }
    }
}

/// Asks the model for the reading.
pub(super) async fn read(reading: &Reading<'_>, input: &Input<'_>) -> Outcome {
    if !reading.writes.contains(&input.language) {
        return Outcome::Language;
    }
    let system = match reading.prompts.render(
        "report_reading.txt",
        ReportReading {
            community: input.community,
            language: input.language.code(),
        },
    ) {
        Ok(system) => system,
        Err(error) => {
            tracing::error!(%error, "the report reading prompt did not render");
            return Outcome::Unavailable;
        }
    };
    let request = ChatRequest::new(system, user_message(input))
        .with_max_new_tokens(READING_MAX_TOKENS)
        .with_deadline(reading.deadline)
        .with_priority(reading.priority);
    let generation = generate(reading.engine, request, input.shown.len());
    let text = match tokio::time::timeout(reading.deadline + DEADLINE_MARGIN, generation).await {
        Ok(Ok(text)) => text,
        Ok(Err(error)) => {
            tracing::warn!(label = error.label(), %error, "the report reading failed; posting without it");
            return Outcome::Unavailable;
        }
        Err(_) => {
            tracing::warn!("the report reading took too long; posting without it");
            return Outcome::Unavailable;
        }
    };
    let text = one_line(&text);
    if text.is_empty() {
        return Outcome::Unavailable;
    }
    Outcome::Written(linked(
        &sanitize_generated(&shorten(&text, READING_CHARS)),
        input.links,
    ))
}

/// The figures, then the numbered messages.
fn user_message(input: &Input<'_>) -> String {
    let mut lines = vec!["Figures:".to_string()];
    lines.extend(input.figures.iter().cloned());
    if !input.shown.is_empty() {
        lines.push("Messages:".to_string());
    }
    for (index, (kind, reference)) in input.shown.iter().enumerate() {
        let kind = match kind {
            ItemKind::Unanswered => "unanswered question",
            ItemKind::Negative => "negative",
        };
        lines.push(format!(
            "[{}] {kind}: {}",
            index + 1,
            one_line(&reference.excerpt)
        ));
    }
    lines.join("\n")
}

/// The model's text with only the citations of the `shown` messages kept.
async fn generate(
    engine: &dyn Engine,
    request: ChatRequest,
    shown: usize,
) -> Result<String, LlmError> {
    let mut stream = engine.stream(request).await?;
    let mut filter = CitationFilter::new(shown);
    let mut text = String::new();
    while let Some(event) = stream.next_event().await {
        match event {
            StreamEvent::Delta(delta) => text.extend(filter.push(&delta)),
            StreamEvent::Done(_) => {
                text.extend(filter.finish());
                return Ok(text);
            }
            StreamEvent::Error(error) => return Err(error),
        }
    }
    Err(LlmError::ShutDown)
}

/// `[n]` and `[n, m]` as links to the messages (`[n](link), [m](link)`); a marker none of
/// whose messages has a link stays as written.
fn linked(text: &str, links: &[Option<String>]) -> String {
    let link_of = |number: &str| {
        let index = number.parse::<usize>().ok()?.checked_sub(1)?;
        links.get(index)?.as_deref()
    };
    MARKER
        .replace_all(text, |captures: &regex::Captures| {
            let numbers: Vec<&str> = captures[1].split(", ").collect();
            if numbers.iter().all(|number| link_of(*number).is_none()) {
                return captures[0].to_string();
            }
            numbers
                .iter()
                .map(|number| match link_of(*number) {
                    Some(link) => format!("[{number}]({link})"),
                    None => format!("[{number}]"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_become_links_where_there_are_links() {
        let links = [Some("https://chat.example/1".to_string()), None];
        assert_eq!(
            linked("Tempers rose [1, 2]; see [2].", &links),
            "Tempers rose [1](https://chat.example/1), [2]; see [2]."
        );
        assert_eq!(linked("no citations", &links), "no citations");
        assert_eq!(linked("only [2, 2] here", &links), "only [2, 2] here");
    }
}
