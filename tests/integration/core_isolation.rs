//! `src/core` must never name a platform crate: the core stays platform-agnostic.

use std::path::{Path, PathBuf};

const FORBIDDEN: &[&str] = &[
    "serenity",
    "poise",
    "matrix_sdk",
    "ruma",
    "twilight",
    "mistralrs",
    "sqlx",
];

/// Lines of Rust source that name a forbidden crate (comments ignored).
fn violations(source: &str) -> Vec<String> {
    source
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .filter(|code| {
            FORBIDDEN.iter().any(|name| {
                code.match_indices(name).any(|(at, _)| {
                    let before = code[..at].chars().next_back();
                    let after = code[at + name.len()..].chars().next();
                    let is_ident =
                        |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    !is_ident(before) && !is_ident(after)
                })
            })
        })
        .map(str::to_string)
        .collect()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn the_checker_catches_platform_imports() {
    assert_eq!(
        violations("use serenity::model::channel::Message;").len(),
        1
    );
    assert_eq!(
        violations("fn f(e: matrix_sdk::ruma::events::AnyTimelineEvent) {}").len(),
        1
    );
    assert_eq!(violations("let x = ::poise::Context;").len(), 1);
    assert!(violations("// serenity is mentioned in a comment").is_empty());
    assert!(violations("let serenity_level = 3;").is_empty());
}

#[test]
fn core_imports_no_platform_crate() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core");
    let mut files = Vec::new();
    rust_files(&core, &mut files);
    assert!(files.len() >= 4, "found the core sources: {files:?}");
    for file in files {
        let found = violations(&std::fs::read_to_string(&file).unwrap());
        assert!(
            found.is_empty(),
            "{} names a platform crate: {found:?}",
            file.display()
        );
    }
}
