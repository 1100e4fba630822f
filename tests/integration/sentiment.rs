//! `steward classify sentiment` as an operator runs it: the real binary on the labelled set in
//! `tests/fixtures/sentiment` (lexical stage), bad input, and the model stage on the real
//! default model.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::model_util::default_model;

fn labelled_set() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sentiment/labelled.jsonl")
}

/// A private config (the models directory of the default model, nothing else).
fn config(dir: &Path) -> PathBuf {
    let models_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let path = dir.join("steward.toml");
    std::fs::write(
        &path,
        format!(
            "[model]\nmodels_dir = {:?}\n",
            models_dir.display().to_string()
        ),
    )
    .unwrap();
    path
}

fn classify(dir: &Path, input: &Path, output: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .arg("--config")
        .arg(config(dir))
        .args(["classify", "sentiment", "--input"])
        .arg(input)
        .arg("--output")
        .arg(output)
        .args(args)
        .env("STEWARD_LOG", "warn")
        .output()
        .unwrap()
}

/// The output's lines, parsed, checked for the fields every line has.
fn results(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            let label = value["label"].as_str().unwrap();
            assert!(
                ["positive", "neutral", "negative"].contains(&label),
                "{line}"
            );
            let score = value["score"].as_f64().unwrap();
            assert!((-1.0..=1.0).contains(&score), "{line}");
            assert!(value.get("id").is_some(), "{line}");
            value
        })
        .collect()
}

/// The accuracy on the report line of `lang` ("  en: accuracy 0.712, macro-F1 ...").
fn accuracy(stdout: &str, lang: &str) -> f64 {
    let line = stdout
        .lines()
        .find(|line| line.trim_start().starts_with(&format!("{lang}: accuracy ")))
        .unwrap_or_else(|| panic!("no accuracy line for {lang} in:\n{stdout}"));
    assert!(line.contains("macro-F1"), "{line}");
    line.split_whitespace()
        .nth(2)
        .unwrap()
        .trim_end_matches(',')
        .parse()
        .unwrap()
}

#[test]
fn the_lexical_stage_labels_every_line_and_reports_each_language() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let run = classify(
        dir.path(),
        &labelled_set(),
        &output,
        &["--stage", "lexical", "--labels"],
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stdout}\n{stderr}");
    let inputs: Vec<Value> = std::fs::read_to_string(labelled_set())
        .unwrap()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let outputs = results(&output);
    assert_eq!(outputs.len(), inputs.len());
    assert!(inputs.len() >= 200, "{}", inputs.len());
    for (input, output) in inputs.iter().zip(&outputs) {
        assert_eq!(input["id"], output["id"]);
        assert_eq!(output["stage"], "lexical");
    }
    assert!(stdout.contains("messages/s"), "{stdout}");
    // Better than chance on three labels: a sanity floor, not a target.
    for lang in ["en", "zh"] {
        let accuracy = accuracy(&stdout, lang);
        assert!(accuracy > 0.4, "{lang}: {accuracy}\n{stdout}");
    }
    eprintln!("{stdout}");
}

#[test]
fn bad_input_is_named_and_odd_texts_are_classified() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.jsonl");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let cases = [
        (write("empty.jsonl", "\n\n"), "no messages"),
        (
            write("bad.jsonl", "{\"id\": 1, \"text\": \"hi\"}\nnot json\n"),
            "bad.jsonl:2: not a JSON object",
        ),
        (
            write("no_text.jsonl", "{\"id\": 1}\n"),
            "no_text.jsonl:1: missing \"text\"",
        ),
        (
            write("no_id.jsonl", "{\"text\": \"hi\"}\n"),
            "no_id.jsonl:1: missing \"id\"",
        ),
        (dir.path().join("missing.jsonl"), "cannot read"),
    ];
    for (input, expected) in &cases {
        let run = classify(dir.path(), input, &output, &["--stage", "lexical"]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{expected}: {stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let long = "the build failed again. ".repeat(2100);
    let odd = [
        serde_json::json!({"id": "emoji", "text": "🎉🎉👍"}),
        serde_json::json!({"id": "crabs", "text": "🦀"}),
        serde_json::json!({"id": "empty", "text": ""}),
        serde_json::json!({"id": 7, "text": long}),
        serde_json::json!({"id": "mixed", "text": "这个 crate 太棒了, thanks!"}),
    ];
    let lines: Vec<String> = odd.iter().map(Value::to_string).collect();
    let input = write("odd.jsonl", &lines.join("\n"));
    let run = classify(dir.path(), &input, &output, &["--stage", "lexical"]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let outputs = results(&output);
    let labels: Vec<&str> = outputs
        .iter()
        .map(|v| v["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["positive", "neutral", "neutral", "negative", "positive"]
    );
    assert_eq!(outputs[3]["id"], 7);
    // A batch size out of range is refused before anything runs.
    let run = classify(dir.path(), &input, &output, &["--batch", "0"]);
    assert_eq!(run.status.code(), Some(2));
}

/// The model stage on the real default model: three messages in one request, answered with
/// one character each in a constrained JSON string (`{"labels":"+-0"}`). The constraint (exact
/// length, no optional whitespace) leaves the model no way to miss one, so all three are the
/// model's (whether its labels are right is the labelled set's business, not this test's).
#[test]
fn the_model_stage_labels_a_batch_on_the_default_model() {
    default_model();
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        serde_json::json!({"id": "a", "text": "Thanks a lot, the fix works perfectly!"}),
        serde_json::json!({"id": "b", "text": "This release broke everything again, I am so tired of it."}),
        serde_json::json!({"id": "c", "text": "怎么配置连接池的大小？"}),
    ];
    let input = dir.path().join("in.jsonl");
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&input, text.join("\n")).unwrap();
    let output = dir.path().join("out.jsonl");
    let run = classify(
        dir.path(),
        &input,
        &output,
        &["--stage", "model", "--batch", "3"],
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stdout}\n{stderr}");
    let outputs = results(&output);
    assert_eq!(outputs.len(), 3);
    for (line, output) in lines.iter().zip(&outputs) {
        assert_eq!(line["id"], output["id"]);
        assert_eq!(output["stage"], "model", "{output}\n{stdout}");
    }
    assert!(stdout.contains("in 1 requests of up to 3"), "{stdout}");
    assert!(stdout.contains("0 kept the lexical result"), "{stdout}");
    eprintln!("{stdout}");
}
