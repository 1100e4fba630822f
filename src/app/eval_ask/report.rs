//! The report `steward eval ask` prints: per language, hit@1 and hit@3, the "I don't know"
//! shares, the history cases alone, what solved-thread pointers would do, and for generated
//! answers keyword recall, citations and time; then the cases it missed.

use std::fmt::Write as _;

use super::{history, AskOutcome};

pub(super) fn ratio(part: usize, whole: usize) -> String {
    if whole == 0 {
        "-".to_string()
    } else {
        format!("{:.2} ({part}/{whole})", part as f64 / whole as f64)
    }
}

pub(super) fn render(outcomes: &[AskOutcome], passages: u64, mode: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "steward eval ask: {} cases, {passages} passages indexed, {mode}",
        outcomes.len()
    );
    let languages: Vec<&str> = ["en", "zh"]
        .into_iter()
        .filter(|l| outcomes.iter().any(|o| o.language == *l))
        .collect();
    for language in languages {
        let of: Vec<&AskOutcome> = outcomes.iter().filter(|o| o.language == language).collect();
        let answerable: Vec<&&AskOutcome> = of.iter().filter(|o| o.answerable).collect();
        let unanswerable: Vec<&&AskOutcome> = of.iter().filter(|o| !o.answerable).collect();
        let count = |items: &[&&AskOutcome], f: fn(&AskOutcome) -> bool| {
            items.iter().filter(|o| f(o)).count()
        };
        let _ = writeln!(out, "[{language}]");
        let _ = writeln!(
            out,
            "  hit@1 {}   hit@3 {}",
            ratio(count(&answerable, |o| o.hit_at_1), answerable.len()),
            ratio(count(&answerable, |o| o.hit_at_3), answerable.len())
        );
        let _ = writeln!(
            out,
            "  unanswerable -> \"I don't know\": {}   answerable -> \"I don't know\": {}",
            ratio(count(&unanswerable, |o| o.dont_know), unanswerable.len()),
            ratio(count(&answerable, |o| o.dont_know), answerable.len())
        );
        // The cases about the community's history alone (their sources are conversations).
        let in_history: Vec<&&AskOutcome> = answerable
            .iter()
            .copied()
            .filter(|o| history::history_case(&o.id))
            .collect();
        let not_in_history: Vec<&&AskOutcome> = unanswerable
            .iter()
            .copied()
            .filter(|o| history::history_case(&o.id))
            .collect();
        if !in_history.is_empty() || !not_in_history.is_empty() {
            let _ = writeln!(
                out,
                "  history: hit@1 {}   hit@3 {}   unanswerable -> \"I don't know\": {}",
                ratio(count(&in_history, |o| o.hit_at_1), in_history.len()),
                ratio(count(&in_history, |o| o.hit_at_3), in_history.len()),
                ratio(
                    count(&not_in_history, |o| o.dont_know),
                    not_in_history.len()
                )
            );
        }
        let pointed = count(&answerable, |o| o.pointer_right);
        let wrong = of
            .iter()
            .filter(|o| o.pointer.is_some() && !o.pointer_right)
            .count();
        let _ = writeln!(
            out,
            "  solved-thread pointers (solved_pointers on): to an expected conversation {}   wrong {} (of {} questions)",
            ratio(pointed, in_history.len()),
            wrong,
            of.len()
        );
        if of.iter().any(|o| o.answer.is_some()) {
            let found: usize = answerable.iter().map(|o| o.keywords_found).sum();
            let keywords: usize = answerable.iter().map(|o| o.keywords).sum();
            let valid: usize = of.iter().map(|o| o.valid_citations).sum();
            let citations: usize = of.iter().map(|o| o.citations).sum();
            let cited = answerable.iter().filter(|o| o.citations > 0).count();
            let mut seconds: Vec<f64> = of.iter().map(|o| o.seconds).collect();
            seconds.sort_by(f64::total_cmp);
            let median = seconds.get(seconds.len() / 2).copied().unwrap_or(0.0);
            let _ = writeln!(
                out,
                "  keyword recall {}   answerable answers with a citation {}",
                ratio(found, keywords),
                ratio(cited, answerable.len())
            );
            let _ = writeln!(
                out,
                "  citations pointing at retrieved passages {}   degenerate answers {}   median {:.2} s per answer",
                ratio(valid, citations),
                of.iter().filter(|o| o.degenerate).count(),
                median
            );
        }
    }
    let misses: Vec<&AskOutcome> = outcomes
        .iter()
        .filter(|o| (o.answerable && !o.hit_at_3) || (!o.answerable && !o.dont_know))
        .collect();
    if !misses.is_empty() {
        let _ = writeln!(out, "misses:");
        for miss in misses {
            let got = if miss.retrieved.is_empty() {
                "nothing".to_string()
            } else {
                miss.retrieved.join(", ")
            };
            let _ = writeln!(out, "  {}: retrieved {got}", miss.id);
        }
    }
    out
}
