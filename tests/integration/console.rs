//! `steward console` end to end: the real binary, the real model, piped stdin.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::console_util::{console_config, run_console};

/// Runs the console with `input` on stdin and a private config; returns (stdout, stderr, code).
fn console(dir: &Path, args: &[&str], input: &str) -> (String, String, Option<i32>) {
    let config = console_config(dir, 48, "[console]\nuser = \"ana\"\n");
    let output = run_console(&config, args, input);
    (output.stdout, output.stderr, output.code)
}

#[test]
fn piped_ask_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let (stdout, stderr, code) = console(
        dir.path(),
        &[],
        "/help\n/ask What is the capital of France?\nhello everyone\n/bogus\n",
    );
    assert_eq!(code, Some(0), "stderr: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        stdout.contains("/ask <question>") && stdout.contains("/help"),
        "{stdout}"
    );
    let answer = lines
        .iter()
        .find(|l| l.starts_with("Steward: ") && !l.contains("answers questions"))
        .unwrap_or_else(|| panic!("no answer line in {stdout}"));
    assert!(answer.to_lowercase().contains("paris"), "{answer}");
    // A plain message without a mention gets no answer; an unknown command gets a hint.
    assert!(stdout.contains("unknown command /bogus"), "{stdout}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("Steward: ")).count(),
        2,
        "{stdout}"
    );
    // Messages are stored in the configured SQLite file.
    assert!(dir.path().join("steward.db").is_file());
}

#[test]
fn mention_triggers_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (stdout, stderr, code) = console(
        dir.path(),
        &["--as", "moderator"],
        "@steward What is the capital of France?\n",
    );
    assert_eq!(code, Some(0), "stderr: {stderr}");
    let answer = stdout
        .lines()
        .find(|l| l.starts_with("Steward: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(answer.len() > "Steward: ".len() + 2, "{answer}");
}

#[test]
fn missing_model_with_no_fetch_says_how_to_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("steward.toml");
    std::fs::write(
        &config,
        format!(
            "[model]\nmodels_dir = \"{0}/empty\"\n[store]\nurl = \"sqlite://{0}/s.db\"\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "console",
            "--no-fetch",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("steward model fetch"), "{stderr}");

    let doctor = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["--config", config.to_str().unwrap(), "doctor"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert_eq!(doctor.status.code(), Some(1), "{report}");
    assert!(report.contains("[FAIL] model"), "{report}");
    assert!(report.contains("steward model fetch"), "{report}");
    assert!(report.contains("[ok  ] database"), "{report}");
}
