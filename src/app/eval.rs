//! `steward eval moderation`: measures moderation screening on a labelled set (JSON lines:
//! `{"text": ..., "harmful": true|false, "lang": "en"|"zh", "category": ..., "note": ...}`).
//! Without `--model` only the lexical stage runs (fast, no model); with it, the full review
//! (lexicon, then the configured model) as the review jobs run it. The report gives recall,
//! precision and F1 per language and overall, the misses and false alarms, and the speed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{load_engine, AppError};
use crate::config::Config;
use crate::core::CaseCategory;
use crate::features::moderation::review::Reviewer;
use crate::features::moderation::screen::screen;
use crate::prompts::Prompts;

/// Characters of a message shown in the lists of misses and false alarms.
const SHOWN_CHARS: usize = 60;

/// Why a labelled set could not be read (exit code 2, like a bad config).
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read the labelled set {}: {source}", .path.display())]
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
    #[error("{}: no labelled messages", .path.display())]
    Empty { path: PathBuf },
}

impl EvalError {
    /// Short stable label for logs.
    pub fn label(&self) -> &'static str {
        match self {
            EvalError::Read { .. } => "eval_read",
            EvalError::Line { .. } => "eval_line",
            EvalError::Empty { .. } => "eval_empty",
        }
    }
}

/// The language of a labelled message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum Lang {
    #[serde(rename = "en")]
    English,
    #[serde(rename = "zh")]
    Chinese,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::English => "en",
            Lang::Chinese => "zh",
        }
    }
}

/// One line of the file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    text: String,
    harmful: bool,
    lang: Lang,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// One labelled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledCase {
    /// Its line in the file (1-based).
    pub line: usize,
    pub text: String,
    pub harmful: bool,
    pub lang: Lang,
    pub category: Option<CaseCategory>,
    pub note: Option<String>,
}

/// Reads the labelled set at `path`.
pub fn read_cases(path: &Path) -> Result<Vec<LabelledCase>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_cases(path, &text)
}

/// Parses a labelled set read from `path` (named in errors). Blank lines are skipped; a bad
/// line is an error naming its number.
pub fn parse_cases(path: &Path, text: &str) -> Result<Vec<LabelledCase>, EvalError> {
    let mut cases = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| EvalError::Line {
            path: path.to_path_buf(),
            line: number,
            message,
        };
        let raw: RawCase = serde_json::from_str(line).map_err(|error| {
            // serde_json adds "at line 1 column N": the line is ours, the column is its.
            let full = error.to_string();
            let message = full.split(" at line ").next().unwrap_or(full.as_str());
            bad(format!("{message} (column {})", error.column()))
        })?;
        if raw.text.trim().is_empty() {
            return Err(bad("the text is empty".to_string()));
        }
        let category = match raw.category.as_deref() {
            None => None,
            Some(label) => Some(
                CaseCategory::parse(label)
                    .ok_or_else(|| bad(format!("unknown category {label:?}")))?,
            ),
        };
        cases.push(LabelledCase {
            line: number,
            text: raw.text,
            harmful: raw.harmful,
            lang: raw.lang,
            category,
            note: raw.note,
        });
    }
    if cases.is_empty() {
        return Err(EvalError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(cases)
}

/// Counts for one slice of the set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub n: usize,
    pub harmful: usize,
    pub true_positives: usize,
    pub false_positives: usize,
}

impl Figures {
    fn add(&mut self, harmful: bool, flagged: bool) {
        self.n += 1;
        self.harmful += usize::from(harmful);
        self.true_positives += usize::from(harmful && flagged);
        self.false_positives += usize::from(!harmful && flagged);
    }

    /// Share of the harmful messages flagged (1 when there are none).
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.harmful)
    }

    /// Share of the flagged messages that are harmful (1 when nothing was flagged).
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    pub fn f1(&self) -> f64 {
        let (precision, recall) = (self.precision(), self.recall());
        if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        }
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// What the screening made of one labelled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub case: LabelledCase,
    pub flagged: bool,
    pub category: CaseCategory,
    /// "lexicon", "model", "lexicon+model", or "failed" (the model's review failed).
    pub stage: &'static str,
    pub evidence: Vec<String>,
}

/// What ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The lexical stage alone.
    Lexical,
    /// The full review: lexicon, then the named model.
    Full { model: String },
}

/// The measurement.
#[derive(Debug, Clone)]
pub struct Report {
    pub mode: Mode,
    pub source: PathBuf,
    /// Per language, in a fixed order (English, then Chinese), present ones only.
    pub languages: Vec<(Lang, Figures)>,
    pub overall: Figures,
    /// Every message, in file order.
    pub outcomes: Vec<Outcome>,
    /// Time spent screening (loading excluded).
    pub elapsed: Duration,
    /// Reviews that failed (counted as not flagged).
    pub failures: usize,
}

impl Report {
    fn new(mode: Mode, source: &Path, outcomes: Vec<Outcome>, elapsed: Duration) -> Self {
        let mut overall = Figures::default();
        let mut languages: Vec<(Lang, Figures)> = Vec::new();
        for lang in [Lang::English, Lang::Chinese] {
            let mut figures = Figures::default();
            for outcome in outcomes.iter().filter(|o| o.case.lang == lang) {
                figures.add(outcome.case.harmful, outcome.flagged);
                overall.add(outcome.case.harmful, outcome.flagged);
            }
            if figures.n > 0 {
                languages.push((lang, figures));
            }
        }
        let failures = outcomes.iter().filter(|o| o.stage == "failed").count();
        Self {
            mode,
            source: source.to_path_buf(),
            languages,
            overall,
            outcomes,
            elapsed,
            failures,
        }
    }

    /// Harmful messages not flagged.
    pub fn misses(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes
            .iter()
            .filter(|o| o.case.harmful && !o.flagged)
    }

    /// Benign messages flagged.
    pub fn false_alarms(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes
            .iter()
            .filter(|o| !o.case.harmful && o.flagged)
    }

    /// Messages screened per second.
    pub fn messages_per_second(&self) -> f64 {
        self.overall.n as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The report as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let what = match &self.mode {
            Mode::Lexical => "lexical stage only".to_string(),
            Mode::Full { model } => format!("lexicon + model ({model})"),
        };
        let _ = writeln!(
            out,
            "moderation eval: {what}, {} messages from {}",
            self.overall.n,
            self.source.display()
        );
        let _ = writeln!(
            out,
            "           n  harmful     TP     FP  recall  precision      F1"
        );
        let rows = self
            .languages
            .iter()
            .map(|(lang, figures)| (lang.code(), figures))
            .chain([("overall", &self.overall)]);
        for (name, f) in rows {
            let _ = writeln!(
                out,
                "{name:<8}{:>4}  {:>7}  {:>5}  {:>5}  {:>6.3}  {:>9.3}  {:>6.3}",
                f.n,
                f.harmful,
                f.true_positives,
                f.false_positives,
                f.recall(),
                f.precision(),
                f.f1()
            );
        }
        list(&mut out, "misses", self.misses());
        list(&mut out, "false alarms", self.false_alarms());
        if matches!(self.mode, Mode::Full { .. }) {
            let count = |stage: &str| self.outcomes.iter().filter(|o| o.stage == stage).count();
            let _ = writeln!(
                out,
                "decided by: lexicon {}, model {}, lexicon over a \"none\" {}; failed {}",
                count("lexicon"),
                count("model"),
                count("lexicon+model"),
                self.failures
            );
        }
        let _ = writeln!(
            out,
            "speed: {} messages in {:.1} ms, {:.0} messages/s",
            self.overall.n,
            self.elapsed.as_secs_f64() * 1000.0,
            self.messages_per_second()
        );
        out
    }
}

/// Writes a titled list of outcomes, one line each, the text cut to `SHOWN_CHARS`.
fn list<'a>(out: &mut String, title: &str, outcomes: impl Iterator<Item = &'a Outcome>) {
    let outcomes: Vec<&Outcome> = outcomes.collect();
    let _ = writeln!(out, "{title} ({}):", outcomes.len());
    for outcome in outcomes {
        let mut text: String = outcome
            .case
            .text
            .chars()
            .take(SHOWN_CHARS)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if outcome.case.text.chars().count() > SHOWN_CHARS {
            text.push('…');
        }
        let labelled = outcome.case.category.map_or("-", CaseCategory::as_str);
        let _ = writeln!(
            out,
            "  {}:{} [{labelled} -> {}] {text}",
            outcome.case.lang.code(),
            outcome.case.line,
            outcome.category.as_str()
        );
    }
}

/// Runs the lexical stage over the labelled set at `path`.
pub fn evaluate_lexical(path: &Path) -> Result<Report, EvalError> {
    let cases = read_cases(path)?;
    // Compiles the lists and builds the profanity filter's tables outside the timing.
    screen("warm up the word lists");
    let started = Instant::now();
    let outcomes = cases
        .into_iter()
        .map(|case| {
            let screening = screen(&case.text);
            Outcome {
                flagged: screening.flags(),
                category: screening.category,
                stage: "lexicon",
                evidence: screening.evidence,
                case,
            }
        })
        .collect();
    Ok(Report::new(
        Mode::Lexical,
        path,
        outcomes,
        started.elapsed(),
    ))
}

/// Runs the full review (lexicon, then the configured model, loaded as `steward bench` loads
/// it) over the labelled set at `path`. A review that fails counts as not flagged.
pub async fn evaluate_with_model(config: &Config, path: &Path) -> Result<Report, AppError> {
    let cases = read_cases(path)?;
    let engine = load_engine(config, true, crate::metrics::Metrics::new()).await?;
    let model = engine.info().model;
    let reviewer = Reviewer::new(
        engine,
        Arc::new(Prompts::builtin()),
        config.model.request_timeout,
    );
    let community = &config.console.community;
    let started = Instant::now();
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in cases {
        let result = reviewer.assess(community, &case.text).await;
        let outcome = match result {
            Ok(review) => Outcome {
                flagged: review.verdict.flags(),
                category: review.verdict.category.case_category(),
                stage: review.stage.as_str(),
                evidence: review.evidence,
                case,
            },
            Err(error) => {
                let label = error.label();
                tracing::warn!(line = case.line, label, %error, "a review failed");
                Outcome {
                    flagged: false,
                    category: CaseCategory::None,
                    stage: "failed",
                    evidence: Vec::new(),
                    case,
                }
            }
        };
        outcomes.push(outcome);
    }
    Ok(Report::new(
        Mode::Full { model },
        path,
        outcomes,
        started.elapsed(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_is_named_by_its_number() {
        let path = Path::new("cases.jsonl");
        let good = r#"{"text": "hello", "harmful": false, "lang": "en"}"#;
        let cases = parse_cases(path, &format!("{good}\n\n{good}\n")).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[1].line, 3);
        let fr = r#"{"text": "x", "harmful": true, "lang": "fr"}"#;
        let rude = r#"{"text": "x", "harmful": true, "lang": "en", "category": "rude"}"#;
        let extra = r#"{"text": "x", "harmful": true, "lang": "en", "severity": "high"}"#;
        let blank = r#"{"text": " ", "harmful": false, "lang": "zh"}"#;
        let table = [
            (format!("{good}\n{{\"text\": \"x\""), "cases.jsonl:2: "),
            (format!("{good}\n{good}\n{fr}"), "cases.jsonl:3: "),
            (rude.to_string(), "cases.jsonl:1: unknown category \"rude\""),
            (extra.to_string(), "cases.jsonl:1: unknown field"),
            (blank.to_string(), "cases.jsonl:1: the text is empty"),
        ];
        for (text, expected) in table {
            let error = parse_cases(path, &text).unwrap_err();
            assert!(error.to_string().starts_with(expected), "{error}");
            assert_eq!(error.label(), "eval_line");
        }
        let empty = parse_cases(path, "\n\n").unwrap_err();
        assert_eq!(empty.to_string(), "cases.jsonl: no labelled messages");
    }

    #[test]
    fn figures_count_recall_and_precision() {
        let mut figures = Figures::default();
        let labelled = [(true, true), (true, true), (true, false), (false, true)];
        for (harmful, flagged) in labelled.into_iter().chain([(false, false)]) {
            figures.add(harmful, flagged);
        }
        let counts = (figures.n, figures.harmful, figures.true_positives);
        assert_eq!((counts, figures.false_positives), ((5, 3, 2), 1));
        assert!((figures.recall() - 2.0 / 3.0).abs() < 1e-9);
        assert!((figures.precision() - 2.0 / 3.0).abs() < 1e-9);
        assert!((figures.f1() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(Figures::default().precision(), 1.0);
    }

    #[test]
    fn the_report_lists_misses_and_false_alarms() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cases.jsonl");
        let lines = [
            r#"{"text": "free nitro for everyone, claim now", "harmful": true, "lang": "en"}"#,
            r#"{"text": "a perfectly polite message about lifetimes", "harmful": true, "lang": "en"}"#,
            r#"{"text": "kill -9 the worker", "harmful": false, "lang": "en"}"#,
            r#"{"text": "我要杀了你", "harmful": true, "lang": "zh", "category": "violence"}"#,
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        let report = evaluate_lexical(&path).unwrap();
        assert_eq!(report.overall.n, 4);
        assert_eq!(report.overall.true_positives, 2);
        assert_eq!(report.misses().count(), 1);
        assert_eq!(report.false_alarms().count(), 0);
        let text = report.render();
        assert!(
            text.contains("en:2 [- -> none] a perfectly polite message"),
            "{text}"
        );
        assert!(text.contains("overall"), "{text}");
        assert!(text.contains("messages/s"), "{text}");
        let missing = evaluate_lexical(&dir.path().join("nope.jsonl")).unwrap_err();
        assert_eq!(missing.label(), "eval_read");
    }
}
