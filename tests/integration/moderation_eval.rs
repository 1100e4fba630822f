//! The lexical moderation stage measured on the labelled set in `tests/data` (no model
//! needed), and `steward eval moderation` as a member of the team runs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use steward::app::eval::{evaluate_lexical, Lang};

fn labelled_set() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/moderation_cases.jsonl")
}

#[test]
fn the_lexical_stage_catches_most_harm_and_few_false_alarms() {
    let report = evaluate_lexical(&labelled_set()).unwrap();
    eprintln!("{}", report.render());
    let overall = report.overall;
    assert!(overall.n >= 100, "{overall:?}");
    assert!(
        overall.harmful * 3 >= overall.n,
        "a set with enough harm: {overall:?}"
    );
    assert!(overall.recall() >= 0.8, "recall {:.3}", overall.recall());
    assert!(
        overall.precision() >= 0.9,
        "precision {:.3}",
        overall.precision()
    );
    // Both languages carry their weight.
    for (lang, figures) in &report.languages {
        assert!(figures.n >= 40, "{lang:?}: {figures:?}");
        assert!(figures.recall() >= 0.7, "{lang:?}: {figures:?}");
    }
    let languages: Vec<Lang> = report.languages.iter().map(|(lang, _)| *lang).collect();
    assert_eq!(languages, [Lang::English, Lang::Chinese]);
}

#[test]
fn eval_moderation_prints_the_figures_and_names_a_bad_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["eval", "moderation", "--cases"])
        .arg(labelled_set())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for expected in ["overall", "misses (", "false alarms (", "messages/s"] {
        assert!(stdout.contains(expected), "{stdout}");
    }

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    let good = r#"{"text": "hello", "harmful": false, "lang": "en"}"#;
    std::fs::write(&bad, format!("{good}\n{good}\n{{\"text\": \"oops\"\n")).unwrap();
    let missing = dir.path().join("missing.jsonl");
    for (path, expected) in [(&bad, "bad.jsonl:3: "), (&missing, "cannot read")] {
        let output = Command::new(env!("CARGO_BIN_EXE_steward"))
            .args(["eval", "moderation", "--cases"])
            .arg(path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
}
