//! `steward classify sentiment`: the sentiment of each message of a JSON-lines file, for
//! backfills and evaluation.
//!
//! Input: one `{"id": ..., "text": ...}` object per line (other fields are allowed; `"label"`
//! and `"lang"` are read with `--labels`); blank lines are skipped. Output: one
//! `{"id","label","score","stage"}` line per input line, in order. Stages: `lexical` only,
//! `model` for every message, or `auto`: the lexical stage, then the model for the messages it
//! is unsure about. Progress goes to stderr; the summary (messages/s, stages, and with
//! `--labels` accuracy and macro-F1 per language and stage) is returned for stdout.
//!
//! Every line is checked before anything is classified: a bad line is an error naming its
//! number; odd texts (empty, emoji only, 50,000 characters) get a normal result.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;

use super::{engine_description, load_engine, AppError};
use crate::config::Config;
use crate::llm::SchedulerSettings;
use crate::metrics::Metrics;
use crate::prompts::Prompts;
use crate::sentiment::{
    lexical, Evaluation, ModelClassifier, Sentiment, SentimentError, Stage, Unsure, MAX_BATCH,
};

mod input;

pub use input::{read_input, InputLine};

/// Which stages classify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageChoice {
    /// The lexical stage alone (no model).
    Lexical,
    /// The model for every message.
    Model,
    /// The lexical stage, then the model where it is unsure.
    Auto,
}

/// What to classify, and how.
#[derive(Debug, Clone)]
pub struct ClassifyOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    /// Measure against the lines' `"label"`.
    pub labels: bool,
    pub stage: StageChoice,
    /// Messages per model request (1: one request per message).
    pub batch: usize,
}

/// Why `classify` could not run.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", .path.display())]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: no messages (the file is empty)", .path.display())]
    Empty { path: PathBuf },
    #[error("--batch must be between 1 and {MAX_BATCH}, not {0}")]
    Batch(usize),
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Every model request failed; the output holds the lexical results.
    #[error("every model request failed ({count}); the output has the lexical results. First error: {first}")]
    ModelFailed { count: usize, first: SentimentError },
}

impl ClassifyError {
    /// A short stable label for logs.
    pub fn label(&self) -> &'static str {
        match self {
            ClassifyError::Read { .. } => "classify_read",
            ClassifyError::Line { .. } => "classify_line",
            ClassifyError::Empty { .. } => "classify_empty",
            ClassifyError::Batch(_) => "classify_batch",
            ClassifyError::Write { .. } => "classify_write",
            ClassifyError::ModelFailed { .. } => "classify_model_failed",
        }
    }

    /// A problem with the command line or the input (exit status 2), not with running.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            ClassifyError::Read { .. }
                | ClassifyError::Line { .. }
                | ClassifyError::Empty { .. }
                | ClassifyError::Batch(_)
        )
    }
}

/// Runs the command and returns the summary for stdout.
pub async fn sentiment(config: &Config, options: &ClassifyOptions) -> Result<String, AppError> {
    if options.batch == 0 || options.batch > MAX_BATCH {
        return Err(ClassifyError::Batch(options.batch).into());
    }
    let lines = read_input(&options.input, options.labels)?;
    // Fail on an unwritable output before the (possibly long) run.
    let file = std::fs::File::create(&options.output).map_err(|source| ClassifyError::Write {
        path: options.output.clone(),
        source,
    })?;
    let mut out = String::new();
    let started = Instant::now();
    let mut progress = Progress::new("lexical stage", lines.len());
    let lexical_scores: Vec<_> = lines
        .iter()
        .map(|line| {
            let score = lexical(&line.text);
            progress.advance(1);
            score
        })
        .collect();
    progress.finish();
    let mut results: Vec<Sentiment> = lexical_scores.iter().map(|s| s.sentiment()).collect();
    let asked: Vec<usize> = match options.stage {
        StageChoice::Lexical => Vec::new(),
        StageChoice::Model => (0..lines.len()).collect(),
        StageChoice::Auto => (0..lines.len())
            .filter(|&i| lexical_scores[i].is_unsure())
            .collect(),
    };
    let mut load_time = Duration::ZERO;
    let mut model_time = Duration::ZERO;
    let mut run = ModelRun::default();
    if !asked.is_empty() {
        eprintln!("steward: loading {} ...", engine_description(config));
        let loading = Instant::now();
        let engine = load_engine(config, true, Metrics::new()).await?;
        let loaded = loading.elapsed();
        load_time = loaded;
        let info = engine.info();
        let _ = writeln!(
            out,
            "model: {} on {}, loaded in {:.1} s (not counted below)",
            info.model,
            info.backend,
            loaded.as_secs_f64()
        );
        let classifier = ModelClassifier::new(
            engine,
            Arc::new(Prompts::builtin()),
            config.model.request_timeout,
        );
        let settings = SchedulerSettings {
            queue_capacity: config.model.queue_capacity,
            max_concurrent: config.model.max_concurrent,
            preempt_background: false,
        };
        // Enough requests in flight to keep the background slots busy, within the queue.
        let in_flight = (settings.non_interactive_slots() + 1).min(settings.queue_capacity.max(1));
        let asking = Instant::now();
        run = ask_model(
            &classifier,
            &lines,
            &asked,
            options.batch,
            in_flight,
            &mut results,
        )
        .await;
        model_time = asking.elapsed();
    }
    write_output(&options.output, file, &lines, &results)?;
    let elapsed = started.elapsed().saturating_sub(load_time);
    let total = lines.len();
    let seconds = elapsed.as_secs_f64().max(1e-9);
    let _ = writeln!(
        out,
        "classified {total} messages in {:.2} s: {:.1} messages/s",
        seconds,
        total as f64 / seconds
    );
    let model_count = results.iter().filter(|r| r.stage == Stage::Model).count();
    let _ = writeln!(
        out,
        "  stages: {} lexical, {model_count} model",
        total - model_count
    );
    if !asked.is_empty() {
        let _ = writeln!(
            out,
            "  model: {} of {total} messages asked in {} requests of up to {} ({:.1} messages/s); {} kept the lexical result (left out of the answer), {} requests failed",
            asked.len(),
            run.requests,
            options.batch,
            asked.len() as f64 / model_time.as_secs_f64().max(1e-9),
            run.fallbacks,
            run.failed
        );
    }
    if options.stage == StageChoice::Auto {
        let _ = writeln!(out, "  {}", unsure_summary(&lexical_scores, total));
    }
    let _ = writeln!(out, "wrote {}", options.output.display());
    if options.labels {
        out.push_str(&label_report(
            &lines,
            &results,
            &lexical_scores,
            options.stage,
        ));
    }
    if run.failed > 0 && run.failed == run.requests {
        if let Some(first) = run.first_error {
            print!("{out}");
            return Err(ClassifyError::ModelFailed {
                count: run.failed,
                first,
            }
            .into());
        }
    }
    Ok(out)
}

/// What asking the model came to.
#[derive(Debug, Default)]
struct ModelRun {
    requests: usize,
    failed: usize,
    fallbacks: usize,
    first_error: Option<SentimentError>,
}

/// Asks the model about the lines `asked` (indexes into `lines`), `batch` per request with
/// `in_flight` requests at once, and puts its results into `results`. A failed request leaves
/// its messages' lexical results.
async fn ask_model(
    classifier: &ModelClassifier,
    lines: &[InputLine],
    asked: &[usize],
    batch: usize,
    in_flight: usize,
    results: &mut [Sentiment],
) -> ModelRun {
    let mut run = ModelRun::default();
    let mut progress = Progress::new("asking the model", asked.len());
    let batches = asked.chunks(batch).map(|chunk| chunk.to_vec());
    let answers = futures::stream::iter(batches)
        .map(move |chunk| async move {
            let texts: Vec<&str> = chunk.iter().map(|&i| lines[i].text.as_str()).collect();
            let outcome = classifier.classify_batch(&texts).await;
            (chunk, outcome)
        })
        .buffered(in_flight.max(1));
    let mut answers = std::pin::pin!(answers);
    while let Some((chunk, outcome)) = answers.next().await {
        run.requests += 1;
        match outcome {
            Ok(outcome) => {
                run.fallbacks += outcome.fallbacks;
                for (&index, sentiment) in chunk.iter().zip(outcome.sentiments) {
                    results[index] = sentiment;
                }
            }
            Err(error) => {
                run.failed += 1;
                tracing::warn!(error = %error, label = error.label(), "a sentiment batch failed; its messages keep the lexical result");
                if run.first_error.is_none() {
                    run.first_error = Some(error);
                }
            }
        }
        progress.advance(chunk.len());
    }
    progress.finish();
    run
}

/// Writes one `{"id","label","score","stage"}` line per input line.
fn write_output(
    path: &Path,
    file: std::fs::File,
    lines: &[InputLine],
    results: &[Sentiment],
) -> Result<(), ClassifyError> {
    let error = |source| ClassifyError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = std::io::BufWriter::new(file);
    for (line, result) in lines.iter().zip(results) {
        let score = (f64::from(result.score) * 1000.0).round() / 1000.0;
        let json = serde_json::json!({
            "id": line.id,
            "label": result.label.as_str(),
            "score": score,
            "stage": result.stage.as_str(),
        });
        writeln!(writer, "{json}").map_err(error)?;
    }
    writer.flush().map_err(error)
}

/// How many messages the lexical stage was unsure about, and why.
fn unsure_summary(scores: &[crate::sentiment::LexicalScore], total: usize) -> String {
    let mut reasons: std::collections::BTreeMap<Unsure, usize> = Default::default();
    for reason in scores.iter().filter_map(|s| s.unsure()) {
        *reasons.entry(reason).or_default() += 1;
    }
    let count: usize = reasons.values().sum();
    let parts: Vec<String> = reasons
        .iter()
        .map(|(reason, n)| format!("{} {n}", reason.as_str()))
        .collect();
    format!(
        "lexical stage unsure about {count} of {total} (sent to the model): {}",
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    )
}

/// Accuracy and macro-F1 of the lines that carry a label: per language and stage, and (when
/// the model took part) the lexical stage alone on the same lines.
fn label_report(
    lines: &[InputLine],
    results: &[Sentiment],
    lexical_scores: &[crate::sentiment::LexicalScore],
    stage: StageChoice,
) -> String {
    let mut evaluation = Evaluation::default();
    let mut lexical_alone = Evaluation::default();
    for ((line, result), score) in lines.iter().zip(results).zip(lexical_scores) {
        let Some(gold) = line.gold else {
            continue;
        };
        evaluation.add(line.lang, result.stage, gold, result.label);
        lexical_alone.add(line.lang, Stage::Lexical, gold, score.label());
    }
    let labelled = evaluation.overall.total();
    if labelled == 0 {
        return "labels: no line carries a \"label\"\n".to_string();
    }
    let mut out = format!("labelled messages: {labelled}\n");
    out.push_str(&evaluation.render());
    if stage != StageChoice::Lexical {
        out.push_str("the lexical stage alone on the same messages:\n");
        for (lang, confusion) in &lexical_alone.languages {
            let _ = writeln!(out, "  {}: {}", lang.code(), confusion.summary());
        }
        let _ = writeln!(out, "  all: {}", lexical_alone.overall.summary());
    }
    out
}

/// Characters of the progress bar.
const BAR_WIDTH: usize = 30;

/// A bar and `done/total` on stderr, at most every 200 ms (as `kb backfill` prints its
/// progress, on one line rewritten with `\r`).
struct Progress {
    what: &'static str,
    total: usize,
    done: usize,
    started: Instant,
    shown: Option<Instant>,
}

impl Progress {
    fn new(what: &'static str, total: usize) -> Self {
        Self {
            what,
            total,
            done: 0,
            started: Instant::now(),
            shown: None,
        }
    }

    fn advance(&mut self, by: usize) {
        self.done += by;
        let due = self
            .shown
            .is_none_or(|shown| shown.elapsed() >= Duration::from_millis(200));
        if due || self.done == self.total {
            let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            let filled = (self.done * BAR_WIDTH)
                .checked_div(self.total)
                .unwrap_or(BAR_WIDTH);
            let bar = format!(
                "{}{}",
                "#".repeat(filled),
                "-".repeat(BAR_WIDTH.saturating_sub(filled))
            );
            eprint!(
                "\r{}: [{bar}] {}/{} ({rate:.1} messages/s)",
                self.what, self.done, self.total
            );
            self.shown = Some(Instant::now());
        }
    }

    fn finish(&self) {
        if self.shown.is_some() {
            eprintln!();
        }
    }
}
