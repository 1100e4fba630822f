//! Running the real `steward console` binary in tests: a private config (the default model, an
//! SQLite file in the test's directory) and piped stdin. Shared by every console test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::model_util::default_model;

/// What one console run printed, and how it ended.
pub struct ConsoleOutput {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
}

/// Writes `dir/steward.toml`: the default model with `max_new_tokens`, the store in
/// `dir/steward.db`, then `extra` (more TOML sections, e.g. `[console]\nuser = "ana"\n`).
pub fn console_config(dir: &Path, max_new_tokens: u32, extra: &str) -> PathBuf {
    let models_dir = default_model().parent().unwrap().to_path_buf();
    let config = dir.join("steward.toml");
    std::fs::write(
        &config,
        format!(
            "[model]\nmodels_dir = {:?}\nmax_new_tokens = {max_new_tokens}\n\n[store]\nurl = \"sqlite://{}/steward.db\"\n\n{extra}",
            models_dir.display().to_string(),
            dir.display()
        ),
    )
    .unwrap();
    config
}

/// Runs `steward --config CONFIG console --no-fetch ARGS...` with `input` on stdin and logs at
/// `warn`, until it exits.
pub fn run_console(config: &Path, args: &[&str], input: &str) -> ConsoleOutput {
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "console",
            "--no-fetch",
        ])
        .args(args)
        .env("STEWARD_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    ConsoleOutput {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code(),
    }
}
