//! `steward bench --prompts FILE`: Steward's side of the side-by-side CPU benchmark
//! (`scripts/bench-cpu.sh`, docs/perf.md). Each prompt of the file (`[{"name", "system",
//! "user"}]`, the same file the llama.cpp side reads) goes straight to the engine, greedy,
//! after one warm-up run; one JSON line per prompt carries the medians in the same fields as
//! `scripts/bench/llamacpp.mjs`, so the script can print the ratios. `ttft_warm_system_s` is
//! the time to the first token when only the system prompt is in mistral.rs's prefix cache
//! (the case of members' questions), which the llama.cpp side does not measure.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{load_engine, AppError};
use crate::config::Config;
use crate::llm::{default_threads, ChatRequest, Generated};

/// One prompt of the file.
#[derive(Debug, Clone, Deserialize)]
pub struct BenchPrompt {
    pub name: String,
    pub system: String,
    pub user: String,
}

/// One prompt's figures (medians over the runs).
#[derive(Debug, Clone, PartialEq)]
struct Figures {
    prompt_tokens: usize,
    /// Prompt tokens divided by the time to the first token (as the llama.cpp side measures).
    prompt_tps: f64,
    /// What mistral.rs itself reports for prompt processing.
    engine_prompt_tps: f64,
    ttft: Duration,
    gen_tokens: usize,
    gen_tps: f64,
}

/// Reads `path`, runs every prompt `runs` times with at most `max_tokens` new tokens, and
/// returns the JSON lines.
pub async fn run(
    config: &Config,
    path: &std::path::Path,
    runs: usize,
    max_tokens: usize,
) -> Result<String, AppError> {
    let text = std::fs::read_to_string(path)?;
    let prompts: Vec<BenchPrompt> = serde_json::from_str(&text).map_err(|error| {
        std::io::Error::other(format!("{}: not a prompt list: {error}", path.display()))
    })?;
    let started = Instant::now();
    let engine = load_engine(config, true, crate::metrics::Metrics::new()).await?;
    let load = started.elapsed();
    let threads = default_threads();
    let mut out = String::new();
    for prompt in &prompts {
        let request =
            ChatRequest::new(&prompt.system, &prompt.user).with_max_new_tokens(max_tokens.max(2));
        // Warm-up: the first generation of a shape pays one-time costs.
        engine.generate(request.clone()).await?;
        let mut samples = Vec::new();
        for _ in 0..runs.max(1) {
            samples.push(engine.generate(request.clone()).await?);
        }
        let figures = figures(&samples);
        // mistral.rs's prefix cacher never reuses a cache for an identical prompt (it needs a
        // new token), so the runs above are cold. Real questions differ after the fixed system
        // prompt: each of these runs starts its user text differently, so only the system
        // prompt can come from the cache, as it does for members' questions.
        let mut warm = Vec::new();
        for run in 0..runs.max(1) {
            let user = format!("({}) {}", run + 1, prompt.user);
            let request =
                ChatRequest::new(&prompt.system, user).with_max_new_tokens(max_tokens.max(2));
            warm.push(engine.generate(request).await?);
        }
        let warm = self::figures(&warm);
        let line = serde_json::json!({
            "engine": "steward",
            "prompt": prompt.name,
            "prompt_tokens": figures.prompt_tokens,
            "prompt_tps": figures.prompt_tps,
            "engine_prompt_tps": figures.engine_prompt_tps,
            "ttft_s": figures.ttft.as_secs_f64(),
            "ttft_warm_system_s": warm.ttft.as_secs_f64(),
            "gen_tokens": figures.gen_tokens,
            "gen_tps": figures.gen_tps,
            "load_s": load.as_secs_f64(),
            "threads": threads,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    Ok(out)
}

/// Medians of the runs; decoding speed counts the tokens after the first over the time after
/// the first text.
fn figures(samples: &[Generated]) -> Figures {
    let mut ttft: Vec<Duration> = samples
        .iter()
        .map(|s| s.stats.first_text_after.unwrap_or(s.stats.total))
        .collect();
    let mut gen: Vec<f64> = samples
        .iter()
        .map(|s| {
            let first = s.stats.first_text_after.unwrap_or(s.stats.total);
            let decoding = s.stats.total.saturating_sub(first).as_secs_f64();
            let tokens = s.stats.generated_tokens.saturating_sub(1) as f64;
            if decoding > 0.0 {
                tokens / decoding
            } else {
                0.0
            }
        })
        .collect();
    let mut engine_prompt: Vec<f64> = samples
        .iter()
        .map(|s| s.stats.prompt_tokens_per_sec)
        .collect();
    let mut gen_tokens: Vec<usize> = samples.iter().map(|s| s.stats.generated_tokens).collect();
    ttft.sort();
    gen.sort_by(f64::total_cmp);
    engine_prompt.sort_by(f64::total_cmp);
    gen_tokens.sort_unstable();
    let middle = samples.len() / 2;
    let prompt_tokens = samples.first().map_or(0, |s| s.stats.prompt_tokens);
    let ttft = ttft.get(middle).copied().unwrap_or_default();
    Figures {
        prompt_tokens,
        prompt_tps: prompt_tokens as f64 / ttft.as_secs_f64().max(1e-9),
        engine_prompt_tps: engine_prompt.get(middle).copied().unwrap_or(0.0),
        ttft,
        gen_tokens: gen_tokens.get(middle).copied().unwrap_or(0),
        gen_tps: gen.get(middle).copied().unwrap_or(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_file_format_parses() {
        let file = include_str!("../../scripts/bench/prompts.json");
        let prompts: Vec<BenchPrompt> = serde_json::from_str(file).unwrap();
        let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["short", "grounded"]);
        assert!(prompts[1].user.len() > 4 * prompts[0].user.len());
    }
}
