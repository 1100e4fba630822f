//! `steward eval ask`: measures grounded answers on a knowledge directory and a case file
//! (JSON lines: `{"id", "language": "en"|"zh", "question", "expect": [paths under the
//! directory], "answer_keywords": [...]}`; an empty `expect` marks a question the documents do
//! not answer). The directory is added to a scratch database; with `--history`, a community's
//! recorded messages are too, and their conversations indexed as the bot indexes them
//! (`eval_ask/history.rs`; cases name a conversation by its document's path,
//! `messages/console/<channel>/<root message id>`). Each question is retrieved and, unless
//! `--retrieval-only`, answered as `ask` answers it (the configured model). With `[knowledge]
//! judge = true` the configured model judges the retrieved passages first, in both modes, and
//! the figures count only the passages it kept.
//!
//! Printed per language: hit@1 and hit@3 of the retrieved sources (answerable cases), the
//! share of unanswerable cases answered "I don't know", the answers' keyword recall, the
//! share of rendered citations that point at retrieved passages, answers with degenerate
//! repetition, and the median time per answer; then the same retrieval figures for the cases
//! about the history alone (ids `<language>-h<NN>`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::eval::EvalError;
use super::kb;
use super::{load_embedder, load_engine, AppError};
use crate::config::Config;
use crate::core::{
    Capabilities, ChannelId, CommunityId, Language, Location, Platform, Role, UserId,
};
use crate::features::ask::{Ask, AskSettings};
use crate::features::grounded::{self, Grounding, PASSAGES};
use crate::features::{CommunitySettings, Context};
use crate::knowledge::ingest::document_path;
use crate::knowledge::retrieve::{Floor, Knowledge, KnowledgeBase};
use crate::knowledge::{community_scope, ALL_COMMUNITIES};
use crate::prompts::Prompts;
use crate::store::Store;
use crate::strings::Strings;

mod history;
mod report;

use report::render;

/// One case of the file.
#[derive(Debug, Clone, Deserialize)]
pub struct AskCase {
    pub id: String,
    pub language: String,
    pub question: String,
    #[serde(default)]
    pub expect: Vec<String>,
    #[serde(default)]
    pub answer_keywords: Vec<String>,
}

/// What happened to one case (also the `--json` line).
#[derive(Debug, Clone, Serialize)]
pub struct AskOutcome {
    pub id: String,
    pub language: String,
    pub answerable: bool,
    /// Retrieved document paths (relative to the directory), best first.
    pub retrieved: Vec<String>,
    /// The best passages whatever the floor: (path, relevance, known share, BM25 score,
    /// cosine similarity when semantic retrieval found it).
    pub best: Vec<(String, f64, f64, f64, Option<f32>)>,
    pub hit_at_1: bool,
    pub hit_at_3: bool,
    /// The answer was "I don't know".
    pub dont_know: bool,
    /// The answer text (absent with `--retrieval-only`).
    pub answer: Option<String>,
    pub keywords_found: usize,
    pub keywords: usize,
    /// Citations rendered in the answer, and how many point at a retrieved passage.
    pub citations: usize,
    pub valid_citations: usize,
    pub degenerate: bool,
    pub seconds: f64,
    /// The solved conversation a channel with `setting solved_pointers on` would point the
    /// question at instead of answering, if any, and whether it is an expected source.
    pub pointer: Option<String>,
    pub pointer_right: bool,
}

/// The JSON lines of `path` (blank lines skipped), each with its line number; at least one.
fn json_lines<T: DeserializeOwned>(path: &Path) -> Result<Vec<(usize, T)>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut items = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let item = serde_json::from_str(line).map_err(|error| EvalError::Line {
            path: path.to_path_buf(),
            line: index + 1,
            message: error.to_string(),
        })?;
        items.push((index + 1, item));
    }
    if items.is_empty() {
        return Err(EvalError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(items)
}

/// Reads the case file.
pub fn read_cases(path: &Path) -> Result<Vec<AskCase>, EvalError> {
    let cases: Vec<(usize, AskCase)> = json_lines(path)?;
    if let Some((line, case)) = cases
        .iter()
        .find(|(_, case)| !matches!(case.language.as_str(), "en" | "zh"))
    {
        return Err(EvalError::Line {
            path: path.to_path_buf(),
            line: *line,
            message: format!("language {:?}: use \"en\" or \"zh\"", case.language),
        });
    }
    Ok(cases.into_iter().map(|(_, case)| case).collect())
}

/// Runs the evaluation on the documents in `kb_dir` and, when given, the community history
/// in `history_file` (see `eval_ask/history.rs`); `json` receives one line per case.
pub async fn evaluate(
    config: &Config,
    kb_dir: &Path,
    history_file: Option<&Path>,
    cases_path: &Path,
    retrieval_only: bool,
    floor: Floor,
    mut json: Option<&mut dyn std::io::Write>,
) -> Result<String, AppError> {
    let cases = read_cases(cases_path)?;
    // A scratch database: the evaluation never touches the configured one.
    let store = Arc::new(Store::open("sqlite::memory:").await?);
    let added = kb::add(&store, &[kb_dir.to_path_buf()], ALL_COMMUNITIES, |line| {
        if line.starts_with("skipped") {
            eprintln!("{line}");
        }
    })
    .await?;
    // Where members talk and ask: the console in a community of its own.
    let location = Location {
        platform: Platform::Console,
        community: CommunityId::new("eval"),
        channel: ChannelId::new("general"),
        thread: None,
    };
    let mut passages = added.passages as u64;
    match history_file {
        Some(path) => {
            let (recorded, backfill) = history::record(config, &store, path, &location).await?;
            eprint!("{backfill}");
            eprintln!(
                "history: {} messages and {} reactions recorded; {} conversations indexed ({} passages)",
                recorded.messages, recorded.reactions, recorded.conversations, recorded.passages
            );
            passages += recorded.passages;
        }
        None => {
            let about_history = cases
                .iter()
                .filter(|case| case.expect.iter().any(|path| path.starts_with("messages/")))
                .count();
            if about_history > 0 {
                eprintln!(
                    "{about_history} cases expect community conversations: pass --history FILE"
                );
            }
        }
    }
    // Semantic retrieval as the bot would have it with this config ([knowledge] embeddings),
    // over the documents and the history's conversations alike.
    let embedder = load_embedder(config, crate::metrics::Metrics::new()).await?;
    let retrieval_mode = match &embedder {
        Some(embedder) => {
            eprintln!("{}", kb::embed_passages(&store, embedder.as_ref()).await?);
            format!("lexical + semantic ({})", embedder.info())
        }
        None => "lexical only".to_string(),
    };
    let knowledge: Arc<dyn KnowledgeBase> = Arc::new(Knowledge::new(store.clone(), embedder));
    let prefix = format!("{}/", document_path(kb_dir));
    let relative = |path: &str| path.strip_prefix(&prefix).unwrap_or(path).to_string();

    // The model is loaded to answer, or to judge the passages when `[knowledge] judge` is on.
    let engine = if retrieval_only && !config.knowledge.judge {
        None
    } else {
        Some(load_engine(config, true, crate::metrics::Metrics::new()).await?)
    };
    let prompts = Arc::new(Prompts::builtin());
    let judge = engine
        .as_ref()
        .and_then(|engine| super::judge(config, engine, &prompts));
    let ask = match &engine {
        Some(engine) if !retrieval_only => {
            let settings = AskSettings {
                bot_name: config.bot.name.clone(),
                max_new_tokens: config.model.max_new_tokens,
                temperature: config.model.temperature,
                timeout: config.model.request_timeout,
            };
            // The answer's grounding judges the passages again (the same verdicts: greedy
            // decoding); the figures below are the retrieval's, judged here.
            let grounding = Grounding {
                knowledge: knowledge.clone(),
                writes: config.model.languages.clone(),
                judge: judge.clone(),
            };
            Some(Ask::new(engine.clone(), prompts.clone(), settings).with_grounding(grounding))
        }
        _ => None,
    };

    let scope = community_scope(location.platform, &location.community);
    let console = Arc::new(Capabilities::console());
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in cases {
        let started = Instant::now();
        let language = if case.language == "zh" {
            Language::Chinese
        } else {
            Language::English
        };
        let mut retrieval = knowledge
            .retrieve_with(&scope, &case.question, PASSAGES, floor)
            .await?;
        if let Some(judge) = judge.as_ref().filter(|_| !retrieval.passages.is_empty()) {
            let passages = std::mem::take(&mut retrieval.passages);
            retrieval.passages = judge.keep(&case.question, passages).await;
        }
        let mut retrieved: Vec<String> = Vec::new();
        for passage in &retrieval.passages {
            let path = relative(&passage.candidate.path);
            if !retrieved.contains(&path) {
                retrieved.push(path);
            }
        }
        let answerable = !case.expect.is_empty();
        // Documents by their path under the directory, conversations by their own path.
        let hit = |k: usize| {
            retrieval
                .passages
                .iter()
                .take(k)
                .any(|p| case.expect.contains(&relative(&p.candidate.path)))
        };
        // Each retrieved passage as an answer's sources line shows it on the console.
        let labels: Vec<String> = retrieval
            .passages
            .iter()
            .map(|p| grounded::source_link(&console, &p.candidate))
            .collect();
        let mut outcome = AskOutcome {
            id: case.id.clone(),
            language: case.language.clone(),
            answerable,
            retrieved,
            best: retrieval
                .best
                .iter()
                .map(|p| {
                    let path = relative(&p.candidate.path);
                    (path, p.relevance, p.known, p.score, p.similarity)
                })
                .collect(),
            hit_at_1: answerable && hit(1),
            hit_at_3: answerable && hit(3),
            dont_know: retrieval.passages.is_empty(),
            answer: None,
            keywords_found: 0,
            keywords: case.answer_keywords.len(),
            citations: 0,
            valid_citations: 0,
            degenerate: false,
            seconds: 0.0,
            pointer: None,
            pointer_right: false,
        };
        if let Some(best) = grounded::solved_pointer(&retrieval.passages) {
            let path = relative(&best.candidate.path);
            outcome.pointer_right = case.expect.contains(&path);
            outcome.pointer = Some(path);
        }
        if let Some(ask) = &ask {
            let ctx = Context {
                location: location.clone(),
                actor: UserId::new("eval"),
                role: Role::Member,
                language,
                strings: Strings::new(language),
                settings: CommunitySettings::default(),
                capabilities: console.clone(),
                recorded: true,
            };
            let (text, failure) = match ask.answer(&ctx, &case.question).await {
                Ok(stream) => stream.collect_text().await,
                Err(error) => (String::new(), Some(error.to_string())),
            };
            let text = match failure {
                Some(failure) => format!("{text}\n[failed: {failure}]"),
                None => text,
            };
            let answer_language = grounded::answer_language(&case.question, language);
            outcome.dont_know = text.starts_with(Strings::new(answer_language).dont_know());
            let lower = text.to_lowercase();
            outcome.keywords_found = case
                .answer_keywords
                .iter()
                .filter(|k| lower.contains(&k.to_lowercase()))
                .count();
            let (citations, valid) = rendered_citations(&text, &labels);
            outcome.citations = citations;
            outcome.valid_citations = valid;
            outcome.degenerate = degenerate(&text);
            outcome.answer = Some(text);
        }
        outcome.seconds = started.elapsed().as_secs_f64();
        if let Some(out) = json.as_deref_mut() {
            let line = serde_json::to_string(&outcome).expect("an outcome serializes");
            writeln!(out, "{line}")?;
        }
        outcomes.push(outcome);
    }
    let mut model = match &ask {
        Some(_) => format!("answers by the configured model; {retrieval_mode}"),
        None => format!("retrieval only; {retrieval_mode}"),
    };
    if let Some(judge) = &judge {
        model.push_str(&format!("; passages judged by {}", judge.model()));
    }
    Ok(render(&outcomes, passages, &model))
}

/// Citations in the sources line (`` [n] `label` `` or `[n] link` entries separated by ` · `
/// after the header) and how many name a retrieved passage; `labels` are the retrieved
/// passages as the sources line shows them ([`grounded::source_link`]: a document's path and
/// heading, a conversation's link or `#channel message id`).
fn rendered_citations(text: &str, labels: &[String]) -> (usize, usize) {
    let mut total = 0;
    let mut valid = 0;
    for header in ["Sources:", "来源："] {
        let Some(at) = text.rfind(header) else {
            continue;
        };
        let line = text[at + header.len()..].lines().next().unwrap_or("");
        for entry in line.split(" · ") {
            let Some((_, cited)) = entry.trim().split_once("] ") else {
                continue;
            };
            total += 1;
            let cited = cited.trim().trim_matches('`');
            if labels.iter().any(|label| label.replace('`', "") == cited) {
                valid += 1;
            }
        }
    }
    (total, valid)
}

/// Degenerate output: a word (or, for CJK, a 4-char run) repeated over and over.
pub fn degenerate(text: &str) -> bool {
    let body = text
        .split("\n\nSources:")
        .next()
        .unwrap_or(text)
        .split("\n\n来源：")
        .next()
        .unwrap_or(text);
    // Quote markers, table rules and code fences repeat in any quoted document; only words
    // (tokens with a letter or digit) count.
    let body: String = body
        .lines()
        .map(|line| line.trim_start_matches(['>', ' ']))
        .collect::<Vec<_>>()
        .join("\n");
    let words: Vec<&str> = body
        .split_whitespace()
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .collect();
    let mut counts: BTreeMap<&[&str], usize> = BTreeMap::new();
    for gram in words.windows(3) {
        *counts.entry(gram).or_default() += 1;
    }
    if counts.values().any(|&n| n >= 4) {
        return true;
    }
    // Runs of characters only for Chinese: English words repeat letters by nature.
    let chars: Vec<char> = body
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .collect();
    let mut runs: BTreeMap<String, usize> = BTreeMap::new();
    for gram in chars.windows(4) {
        *runs.entry(gram.iter().collect()).or_default() += 1;
    }
    runs.values().any(|&n| n >= 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degenerate_repetition_is_caught_in_both_scripts() {
        assert!(degenerate(
            "1.1.1.1 1.1.1.1 1.1.1.1 1.1.1.1 1.1.1.1 1.1.1.1"
        ));
        assert!(degenerate("好的好的好的好的好的好的好的好的好的好的好的好的好的好的好的好的好的好的好的好的好的好的好的好的"));
        assert!(!degenerate(
            "Run `lumen serve --port 8086`. The default port is 8086 [1]."
        ));
        assert!(!degenerate(
            "社区文档中的相关内容：\n\n> 青鸟默认监听 8750 端口。 [1]"
        ));
        let quoted_table = "Here is what the community's documents say:\n\n> | Port | Purpose |\n\
             > |------|---------|\n> | 8428 | HTTP API |\n> | 8429 | peers |\n>\n> ```bash\n\
             > lumen serve\n> ```\n>\n> - `a` — one.\n> - `b` — two. [1]";
        assert!(!degenerate(quoted_table));
    }

    #[test]
    fn citations_in_the_sources_line_are_checked_against_the_retrieved() {
        let labels = vec![
            "en/install.md › Docker".to_string(),
            "en/config.md › `[http]`".to_string(),
        ];
        let text = "Use docker [1].\n\nSources: [1] `en/install.md › Docker` · [2] `en/made-up.md` · [3] `en/config.md › [http]`";
        assert_eq!(rendered_citations(text, &labels), (3, 2));
    }

    fn outcome(id: &str, answerable: bool, hit: bool, dont_know: bool) -> AskOutcome {
        AskOutcome {
            id: id.into(),
            language: id[..2].into(),
            answerable,
            retrieved: Vec::new(),
            best: Vec::new(),
            hit_at_1: hit,
            hit_at_3: hit,
            dont_know,
            answer: None,
            keywords_found: 0,
            keywords: 0,
            citations: 0,
            valid_citations: 0,
            degenerate: false,
            seconds: 0.0,
            pointer: None,
            pointer_right: false,
        }
    }

    #[test]
    fn history_cases_get_a_line_of_their_own() {
        let outcomes = [
            outcome("en-01", true, true, false),
            outcome("en-h01", true, true, false),
            outcome("en-h02", true, false, false),
            outcome("en-h03", false, false, true),
            outcome("zh-01", true, true, false),
        ];
        let mut outcomes = outcomes;
        outcomes[1].pointer = Some("messages/console/help/en-h01".into());
        outcomes[1].pointer_right = true;
        outcomes[3].pointer = Some("messages/console/help/en-h01".into());
        let report = render(&outcomes, 10, "retrieval only");
        assert!(
            report.contains("to an expected conversation 0.50 (1/2)   wrong 1 (of 4 questions)"),
            "{report}"
        );
        assert!(
            report.contains("[en]\n  hit@1 0.67 (2/3)   hit@3 0.67 (2/3)\n"),
            "{report}"
        );
        assert!(
            report.contains(
                "  history: hit@1 0.50 (1/2)   hit@3 0.50 (1/2)   unanswerable -> \"I don't know\": 1.00 (1/1)\n"
            ),
            "{report}"
        );
        // Chinese has no history case: no history line.
        assert_eq!(report.matches("history:").count(), 1, "{report}");
    }

    #[test]
    fn citations_of_conversations_are_checked_as_the_console_shows_them() {
        use crate::store::{Candidate, MessageSource};
        let candidate = |path: &str, heading: &str, source| Candidate {
            id: 1,
            path: path.into(),
            heading: heading.into(),
            text: String::new(),
            terms: Vec::new(),
            source,
        };
        let location = Location {
            platform: Platform::Console,
            community: CommunityId::new("eval"),
            channel: ChannelId::new("help"),
            thread: None,
        };
        let source = MessageSource {
            location,
            message: crate::core::MessageId::new("en01-1"),
            solved: true,
            marked: false,
            endorsed: false,
        };
        let conversation = candidate(
            "messages/console/help/en01-1",
            "lumen on windows?",
            Some(source),
        );
        let document = candidate("en/install.md", "Docker", None);
        let console = Capabilities::console();
        let labels: Vec<String> = [&conversation, &document]
            .into_iter()
            .map(|candidate| grounded::source_link(&console, candidate))
            .collect();
        let text = "Run it in WSL2 [1], or Docker [2].\n\nSources: [1] `#help message en01-1` · [2] `en/install.md › Docker` · [3] `#help message en09-1`";
        assert_eq!(rendered_citations(text, &labels), (3, 2));
        let text = "在 WSL2 里跑 [1]。\n\n来源：[1] `#help message en01-1`";
        assert_eq!(rendered_citations(text, &labels), (1, 1));
    }
}
