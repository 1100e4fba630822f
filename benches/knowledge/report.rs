//! The knowledge benchmark's output: a table per part, and the figures' formatting.

use std::path::Path;
use std::time::Duration;

use steward::features::grounded::PASSAGES;
use steward::llm::Embedder;

use crate::ask::{AskRun, AskTiming};
use crate::corpus::Message;
use crate::{Embedded, Indexed, Parts, Run, MESSAGES_PER_DOCUMENT, WARM_UP};

fn example(messages: &[&Message]) -> String {
    messages.first().map(|m| m.text.clone()).unwrap_or_default()
}

pub fn print_corpus(messages: &[Message], generated: Duration) {
    let chinese: Vec<&Message> = messages.iter().filter(|m| m.chinese).collect();
    let english: Vec<&Message> = messages.iter().filter(|m| !m.chinese).collect();
    let words: usize = english
        .iter()
        .map(|m| m.text.split_whitespace().count())
        .sum();
    let characters: usize = chinese.iter().map(|m| m.text.chars().count()).sum();
    let bytes: usize = messages.iter().map(|m| m.text.len()).sum();
    table(
        "1. Corpus (synthetic; each message stored as one passage of a document: the worst case for the index, where conversations would merge replies into fewer passages)",
        &[
            (
                "messages",
                format!(
                    "{} ({} English, {} Chinese)",
                    thousands(messages.len()),
                    thousands(english.len()),
                    thousands(chinese.len())
                ),
            ),
            (
                "mean length",
                format!(
                    "{:.1} words (English), {:.1} characters (Chinese)",
                    words as f64 / english.len().max(1) as f64,
                    characters as f64 / chinese.len().max(1) as f64
                ),
            ),
            ("text", format!("{:.1} MB", bytes as f64 / 1e6)),
            (
                "stored as",
                format!(
                    "{} documents of {MESSAGES_PER_DOCUMENT} messages (channel-N/day-M), one passage per message",
                    thousands(messages.len().div_ceil(MESSAGES_PER_DOCUMENT))
                ),
            ),
            (
                "generated in",
                format!("{:.2} s (seeded: the same text every run)", generated.as_secs_f64()),
            ),
            ("e.g.", example(&english)),
            ("e.g.", example(&chinese)),
        ],
    );
}

pub fn print_embedded(
    embedded: &Embedded,
    embedder: &dyn Embedder,
    load: Duration,
    lexical: &Indexed,
    count: usize,
) {
    let embedding = embedded.embed.as_secs_f64() / embedded.embedded.max(1) as f64;
    let both = lexical.total.as_secs_f64() / count as f64 + embedding;
    table(
        &format!("3. Indexing with embeddings ({}, loaded in {:.1} s)", embedder.info(), load.as_secs_f64()),
        &[
            (
                "throughput",
                format!(
                    "{} (vectors::embed_missing over the first {} messages only: embedding and storing the vectors)",
                    per_second(embedded.embedded, embedded.embed),
                    thousands(embedded.embedded)
                ),
            ),
            ("total", format!("{:.1} s", embedded.embed.as_secs_f64())),
            (
                "lexical + embeddings",
                format!("{:.0} messages/s (estimated from the two rates)", 1.0 / both),
            ),
            ("dimensions", embedded.dimensions.to_string()),
            (
                "other passages",
                format!(
                    "{} given a random unit vector under {:?} in {:.1} s (stored, not embedded: the search cost does not depend on the values)",
                    thousands(embedded.random),
                    embedded.model,
                    embedded.random_time.as_secs_f64()
                ),
            ),
        ],
    );
}

pub fn print_latency(
    questions: &[Message],
    lexical: &Run,
    hybrid: Option<&(Run, Parts)>,
    count: usize,
) {
    let measured = &questions[WARM_UP.min(questions.len())..];
    let chinese = measured.iter().filter(|q| q.chinese).count();
    println!(
        "\n4. Retrieval latency over {} messages: {} questions ({} English, {} Chinese) after {WARM_UP} warm-up; Knowledge::retrieve (limit {PASSAGES}), its own elapsed time",
        thousands(count),
        measured.len(),
        measured.len() - chinese,
        chinese
    );
    println!(
        "  mode                                      p50        p95        max   questions with a usable passage"
    );
    latency_row("lexical", &lexical.measured, Some(lexical.answered));
    let Some((hybrid, parts)) = hybrid else {
        println!("  hybrid: skipped (no embedding model)");
        return;
    };
    latency_row(
        "hybrid (embeds the question)",
        &hybrid.measured,
        Some(hybrid.answered),
    );
    latency_row("  of which embedding the question", &parts.embed, None);
    latency_row("  of which the vector search", &parts.search, None);
    println!(
        "  first hybrid question: {} (it loads {} vectors, {:.0} MB, into memory; loading alone, measured again: {})",
        ms(hybrid.first),
        thousands(parts.vectors),
        parts.megabytes,
        ms(parts.load)
    );
}

/// One line of the latency table: p50, p95 and max of sorted `values`, and how many of the
/// questions had a usable passage.
fn latency_row(name: &str, values: &[Duration], answered: Option<usize>) {
    let answered = answered
        .map(|answered| format!("   {answered}/{}", values.len()))
        .unwrap_or_default();
    println!(
        "  {:<34} {:>10} {:>10} {:>10}{answered}",
        name,
        ms(percentile(values, 0.5)),
        ms(percentile(values, 0.95)),
        ms(values.last().copied().unwrap_or_default())
    );
}

pub fn print_ask(run: &AskRun) {
    println!(
        "\n5. One ask, retrieval vs generation: {} (loaded in {:.1} s), [model] languages = [\"en\"], at most {} new tokens; {} English questions over tests/fixtures/kb/docs ({} passages; {}), after one warm-up answer; times from the call to Ask::answer",
        run.model,
        run.load.as_secs_f64(),
        run.max_new_tokens,
        run.timings.len(),
        run.passages,
        run.retrieval_mode
    );
    println!(
        "  question                                            retrieval  first text      answer  tokens"
    );
    for timing in &run.timings {
        let mut question: String = timing.question.chars().take(47).collect();
        if question.len() < timing.question.len() {
            question.push_str("...");
        }
        println!(
            "  {:<50} {:>10} {:>11} {:>11} {:>7}{}",
            question,
            ms(timing.retrieval),
            ms(timing.first_text),
            ms(timing.total),
            timing.tokens,
            match (&timing.failed, timing.tokens) {
                (Some(failure), _) => format!("  failed: {failure}"),
                (None, 0) => "  (not generated: quoted or \"I don't know\")".to_string(),
                (None, _) => String::new(),
            }
        );
    }
    let (retrieval, first, total) = ask_medians(run);
    println!(
        "  median{:>55} {:>11} {:>11}",
        ms(retrieval),
        ms(first),
        ms(total)
    );
    println!(
        "  retrieval is {:.2} % of the median answer time; generation (answer - retrieval) {}",
        100.0 * retrieval.as_secs_f64() / total.as_secs_f64().max(1e-9),
        ms(total.saturating_sub(retrieval))
    );
}

/// Medians of retrieval, first text and answer time.
fn ask_medians(run: &AskRun) -> (Duration, Duration, Duration) {
    (
        median(run, |t| t.retrieval),
        median(run, |t| t.first_text),
        median(run, |t| t.total),
    )
}

fn median(run: &AskRun, pick: fn(&AskTiming) -> Duration) -> Duration {
    let mut values: Vec<Duration> = run.timings.iter().map(pick).collect();
    values.sort();
    percentile(&values, 0.5)
}

pub fn ask_summary(run: &AskRun, lexical: &Run) -> (String, String) {
    let (retrieval, first, total) = ask_medians(run);
    (
        format!(
            "one ask, {} English questions, {}: retrieval / first text / answer (medians)",
            run.timings.len(),
            run.model
        ),
        format!(
            "{} / {} / {} (retrieval over the large corpus above: p50 {} lexical)",
            ms(retrieval),
            ms(first),
            ms(total),
            ms(percentile(&lexical.measured, 0.5))
        ),
    )
}

pub fn table(title: &str, rows: &[(&str, String)]) {
    println!("\n{title}");
    let width = rows.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
    for (key, value) in rows {
        println!("  {key:<width$}  {value}");
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[Duration], share: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (share * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn spread(sorted: &[Duration]) -> String {
    format!(
        "p50 {}, p95 {}, max {}",
        ms(percentile(sorted, 0.5)),
        ms(percentile(sorted, 0.95)),
        ms(sorted.last().copied().unwrap_or_default())
    )
}

pub fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{} ms", thousands(ms.round() as usize))
    } else {
        format!("{ms:.1} ms")
    }
}

pub fn per_second(count: usize, elapsed: Duration) -> String {
    let rate = count as f64 / elapsed.as_secs_f64().max(1e-9);
    format!("{} messages/s", thousands(rate.round() as usize))
}

pub fn percent(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (at, digit) in digits.chars().enumerate() {
        if at > 0 && (digits.len() - at).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

pub fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |metadata| metadata.len())
}
