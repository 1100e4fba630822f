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

/// The crate's own modules that `code` imports (`crate::name`), comments ignored.
fn crate_modules(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    // Comments dropped, lines joined: a `use` may span several lines.
    let code: String = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ");
    let code = code.as_str();
    {
        for (at, _) in code.match_indices("crate::") {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &code[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && !found.contains(&name) {
                found.push(name);
            }
        }
        // `use crate::{a, b::{c, d}}` names several modules at once: the top-level names.
        for (start, _) in code.match_indices("crate::{") {
            let mut depth = 0;
            let mut name = String::new();
            let mut at_start = true;
            for c in code[start + "crate::{".len()..].chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_start = true,
                    c if at_start && depth == 0 && (c.is_alphanumeric() || c == '_') => {
                        name.push(c)
                    }
                    c if c.is_whitespace() && name.is_empty() => {}
                    _ => {
                        if !name.is_empty() && !found.contains(&name) {
                            found.push(std::mem::take(&mut name));
                        }
                        name.clear();
                        at_start = false;
                    }
                }
                if c == ',' && depth == 0 {
                    if !name.is_empty() && !found.contains(&name) {
                        found.push(std::mem::take(&mut name));
                    }
                    name.clear();
                    at_start = true;
                }
            }
            if !name.is_empty() && !found.contains(&name) {
                found.push(name);
            }
        }
    }
    found
}

/// Every `crate::` module imported by the sources under `src/<dir>` (a file or a folder).
fn imports_of(dir: &str) -> Vec<(PathBuf, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut files = Vec::new();
    if path.is_dir() {
        rust_files(&path, &mut files);
    } else {
        files.push(path.with_extension("rs"));
    }
    assert!(!files.is_empty(), "found the sources of {dir}");
    let mut all = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        for module in crate_modules(&source) {
            all.push((file.clone(), module));
        }
    }
    all
}

/// Fails if a module under `src/<dir>` imports one of `forbidden` (or, with `only`, anything
/// outside `only`).
fn assert_layer(dir: &str, forbidden: &[&str], only: Option<&[&str]>) {
    for (file, module) in imports_of(dir) {
        let bad = forbidden.contains(&module.as_str())
            || only.is_some_and(|allowed| !allowed.contains(&module.as_str()));
        assert!(
            !bad,
            "{} imports crate::{module}, which the layering forbids for src/{dir}",
            file.display()
        );
    }
}

#[test]
fn the_import_checker_sees_crate_modules() {
    assert_eq!(
        crate_modules("use crate::store::Store;\nuse crate::{config::X, llm};"),
        vec!["store", "config", "llm"]
    );
    assert_eq!(
        crate_modules("use crate::{core::{a, b}, features::Context};"),
        vec!["core", "features"]
    );
    assert!(crate_modules("// use crate::store::Store;").is_empty());
    assert!(crate_modules("let my_crate::x = 1;").is_empty());
}

#[test]
fn core_is_plain_types_importing_nothing_of_the_crate() {
    assert_layer("core", &[], Some(&[]));
}

#[test]
fn layers_import_only_downwards() {
    // The adapters' world (platform, app wiring) is above everything else.
    let above = ["platform", "app"];
    // Features decide; they never reach the router above them or another platform.
    assert_layer(
        "features",
        &["platform", "app", "community"],
        Some(&[
            "core",
            "config",
            "llm",
            "store",
            "strings",
            "prompts",
            "features",
            "metrics",
            "jobs",
            "outbox",
            "knowledge",
            "text",
            "insights",
        ]),
    );
    // The router sits above features, below the adapters.
    assert_layer("community", &above, None);
    // The engine knows nothing of communities, features, the store or platforms.
    assert_layer(
        "llm",
        &[
            "features",
            "community",
            "store",
            "platform",
            "app",
            "strings",
            "config",
        ],
        None,
    );
    // The store and the metrics are low layers.
    assert_layer(
        "store",
        &[
            "features",
            "community",
            "llm",
            "platform",
            "app",
            "strings",
            "config",
            "jobs",
        ],
        None,
    );
    // The knowledge base sits on the store (and the engine's embedder); features use it,
    // never the other way round.
    assert_layer(
        "knowledge",
        &[],
        Some(&["core", "store", "knowledge", "text", "llm"]),
    );
    // Insights read the store and score with the sentiment stages; features build on them.
    assert_layer(
        "insights",
        &[],
        Some(&[
            "core",
            "store",
            "text",
            "sentiment",
            "config",
            "llm",
            "insights",
        ]),
    );
    assert_layer("text", &[], Some(&[]));
    assert_layer("metrics", &[], Some(&[]));
    assert_layer("outbox", &[], Some(&["core"]));
    // Strings word what features decide; they never call a feature.
    assert_layer(
        "strings",
        &["features", "community", "platform", "app", "llm", "config"],
        None,
    );
}
