//! Answers grounded in the community's knowledge base: retrieve passages for the question,
//! let the model judge them when `[knowledge] judge` is on ([`Judge`]: only the passages it
//! says contain the answer are kept), then either say "I don't know" (nothing relevant), quote the passages (a language the model
//! does not write well, e.g. Chinese on the small default model) or let the model answer from
//! the numbered passages, keeping only citations of passages it was shown and listing them
//! as sources at the end: documents by path and heading, community conversations by a link to
//! them in the platform's own format.
//!
//! In a channel with `setting solved_pointers on`, a question whose best passage is a solved
//! (or moderator-marked) conversation that matches it closely gets a pointer to that
//! conversation instead: the link and its first lines, no model.
//!
//! Communities with nothing in the knowledge base get the model's plain answer, as before.

use std::sync::Arc;

use crate::core::{Capabilities, Language};
use crate::features::Context;
use crate::knowledge::cite::{self, CitationFilter};
use crate::knowledge::judge::Judge;
use crate::knowledge::rank::Ranked;
use crate::knowledge::retrieve::KnowledgeBase;
use crate::knowledge::{community_scope, terms, Candidate};
use crate::strings::Strings;

/// How many passages an answer is built from.
pub const PASSAGES: usize = 3;
/// Each passage is shortened to this many characters in the prompt (the small model's
/// context is short; three passages and a question stay well under 1,000 tokens).
const PROMPT_PASSAGE_CHARS: usize = 700;
/// An extractive answer quotes at most this many passages, each at most this long.
const QUOTED_PASSAGES: usize = 2;
const QUOTED_CHARS: usize = 500;
/// A pointer quotes this much of the solved conversation.
const POINTER_CHARS: usize = 300;

/// A solved conversation is pointed at only when it matches more closely than an answer
/// needs ([`crate::knowledge::rank::MIN_RELEVANCE`] and `MIN_KNOWN`): it covers at least half
/// of the question's known weight, at least this share of the question is on known terms, and,
/// when semantic retrieval ran, its embedding is at least this similar to the question's. A
/// pointer says "this was asked before", so it must be the same question, not the same topic.
pub const POINTER_MIN_RELEVANCE: f64 = 0.5;
pub const POINTER_MIN_KNOWN: f64 = 0.4;
pub const POINTER_MIN_SIMILARITY: f32 = 0.6;

/// The knowledge base and which languages the model may answer in by generating.
#[derive(Clone)]
pub struct Grounding {
    pub knowledge: Arc<dyn KnowledgeBase>,
    /// `[model] languages`: other languages get extractive answers.
    pub writes: Vec<Language>,
    /// `[knowledge] judge`: the model reads the retrieved passages before they are used.
    pub judge: Option<Arc<Judge>>,
}

/// What grounding decided for one question.
#[derive(Debug)]
pub enum Grounded {
    /// Nothing to ground on (an empty knowledge base, or retrieval failed): the model
    /// answers on its own.
    Ungrounded,
    /// A complete answer that needs no model: "I don't know", or the sources quoted.
    Text(String),
    /// The model answers from these passages, numbered from 1.
    Generate(Vec<Ranked>),
}

/// The best passage when it is a vouched (solved or marked) conversation that matches the
/// question closely enough to point at instead of answering (see [`POINTER_MIN_RELEVANCE`]).
pub fn solved_pointer(passages: &[Ranked]) -> Option<&Ranked> {
    let best = passages.first()?;
    let vouched = best.candidate.source.as_ref().is_some_and(|s| s.vouched());
    let close = best.relevance >= POINTER_MIN_RELEVANCE
        && best.known >= POINTER_MIN_KNOWN
        && best
            .similarity
            .is_none_or(|similarity| similarity >= POINTER_MIN_SIMILARITY);
    (vouched && close).then_some(best)
}

/// The language to answer in: the question's own (Chinese when it is mostly Chinese, English
/// when it has Latin letters), else the community's.
pub fn answer_language(question: &str, community: Language) -> Language {
    if terms::is_chinese(question) {
        Language::Chinese
    } else if question.chars().any(|c| c.is_ascii_alphabetic()) {
        Language::English
    } else {
        community
    }
}

/// How a source is shown in an answer: a community conversation by a link to it (a Discord
/// message link, a matrix.to event link) or, where the platform has no links (the console),
/// as `#channel message id`; documents by path and heading. Labels are code (their own
/// backticks dropped so the code span stays whole).
pub fn source_link(capabilities: &Capabilities, candidate: &Candidate) -> String {
    let code = |label: String| format!("`{}`", label.replace('`', ""));
    match &candidate.source {
        Some(source) => {
            let link = (source.location.platform == capabilities.platform)
                .then(|| capabilities.message_link(&source.location, &source.message))
                .flatten();
            link.unwrap_or_else(|| {
                code(format!(
                    "#{} message {}",
                    source.location.channel, source.message
                ))
            })
        }
        None => code(cite::source_label(candidate)),
    }
}

/// The sources line for `numbers` (all shown passages when the model cited none: they are
/// what the answer was written from), with links for `capabilities`' platform.
pub fn sources(
    strings: Strings,
    capabilities: &Capabilities,
    numbers: &[usize],
    passages: &[Ranked],
) -> String {
    let all: Vec<usize> = (1..=passages.len()).collect();
    let numbers = if numbers.is_empty() { &all } else { numbers };
    cite::sources_line(strings.sources_header(), numbers, passages, |candidate| {
        source_link(capabilities, candidate)
    })
}

impl Grounding {
    /// Retrieves with `query` (the question, or a short follow-up with the previous question:
    /// [`super::followup::retrieval_query`]) in the context's community and decides how to
    /// answer `question`.
    pub async fn decide(
        &self,
        ctx: &Context,
        question: &str,
        query: &str,
        language: Language,
    ) -> Grounded {
        let scope = community_scope(ctx.location.platform, &ctx.location.community);
        let retrieval = match self.knowledge.retrieve(&scope, query, PASSAGES).await {
            Ok(retrieval) => retrieval,
            Err(error) => {
                tracing::warn!(%error, "knowledge retrieval failed; answering without sources");
                return Grounded::Ungrounded;
            }
        };
        tracing::debug!(
            passages = retrieval.passages.len(),
            indexed = retrieval.indexed,
            retrieval_ms = retrieval.elapsed.as_millis() as u64,
            "retrieved"
        );
        if retrieval.indexed == 0 {
            return Grounded::Ungrounded;
        }
        let strings = Strings::new(language);
        let passages = match &self.judge {
            Some(judge) if !retrieval.passages.is_empty() => {
                judge.keep(query, retrieval.passages).await
            }
            _ => retrieval.passages,
        };
        if passages.is_empty() {
            // Nothing is stored about a member who is not recorded here (`privacy`). The
            // question's message id is not known here (`Context` has none): the store matches
            // such a gap to its message by asker and text when the message is deleted.
            if ctx.recorded {
                let (platform, community) = (ctx.location.platform, &ctx.location.community);
                let recorded = self
                    .knowledge
                    .record_gap(platform, community, &ctx.actor, None, question)
                    .await;
                if let Err(error) = recorded {
                    tracing::warn!(%error, "recording a knowledge gap failed");
                }
            }
            return Grounded::Text(strings.dont_know().to_string());
        }
        if ctx.settings.solved_pointers(&ctx.location.channel) {
            if let Some(best) = solved_pointer(&passages) {
                let shown = std::slice::from_ref(best);
                let mut text =
                    cite::extractive(strings.solved_pointer_lead_in(), shown, 1, POINTER_CHARS);
                text.push_str("\n\n");
                text.push_str(&sources(strings, &ctx.capabilities, &[1], shown));
                return Grounded::Text(text);
            }
        }
        if !self.writes.contains(&language) {
            // Quotes in the asker's language first (a Chinese page quoted to an English
            // question helps nobody when an English one matched too); best first otherwise.
            let mut passages = passages;
            let chinese = language == Language::Chinese;
            passages.sort_by_key(|p| terms::is_chinese(&p.candidate.text) != chinese);
            let passages = &passages;
            let quoted = passages.len().min(QUOTED_PASSAGES);
            let mut text =
                cite::extractive(strings.extractive_lead_in(), passages, quoted, QUOTED_CHARS);
            let numbers: Vec<usize> = (1..=quoted).collect();
            text.push_str("\n\n");
            text.push_str(&sources(strings, &ctx.capabilities, &numbers, passages));
            return Grounded::Text(text);
        }
        Grounded::Generate(passages)
    }
}

/// The passages as the prompt shows them.
pub fn numbered(passages: &[Ranked]) -> String {
    cite::numbered(passages, PROMPT_PASSAGE_CHARS)
}

/// Citations in a streamed answer: markers of passages not shown are dropped as the text
/// streams; the sources line closes the answer.
pub struct Citations {
    filter: CitationFilter,
    passages: Vec<Ranked>,
    strings: Strings,
    /// The platform's facts: how a message source is linked.
    capabilities: Arc<Capabilities>,
}

impl Citations {
    pub fn new(passages: Vec<Ranked>, strings: Strings, capabilities: Arc<Capabilities>) -> Self {
        Self {
            filter: CitationFilter::new(passages.len()),
            passages,
            strings,
            capabilities,
        }
    }

    /// Text that can be released now.
    pub fn push(&mut self, delta: &str) -> Option<String> {
        self.filter.push(delta)
    }

    /// What the filter still held.
    pub fn finish(&mut self) -> Option<String> {
        self.filter.finish()
    }

    /// The closing sources line (with its leading blank line).
    pub fn sources(&self) -> String {
        let line = sources(
            self.strings,
            &self.capabilities,
            &self.filter.cited(),
            &self.passages,
        );
        format!("\n\n{line}")
    }
}
