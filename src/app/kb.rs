//! `steward kb`: the knowledge base from the command line: add documents (files and
//! directory trees), list them, remove one, and the questions nobody could answer.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::core::{CommunityId, Platform};
use crate::knowledge::chunk::TokenCounter;
use crate::knowledge::gaps::{self, GapGroup};
use crate::knowledge::ingest::{self, Ingested};
use crate::knowledge::{community_scope, Stored, ALL_COMMUNITIES};
use crate::store::{Store, StoreError};

/// A `--community` value that is not `platform:id`.
#[derive(Debug, thiserror::Error)]
#[error("--community {given:?}: write it as platform:id, e.g. discord:1234567890 or matrix:!room:example.org (platforms: console, discord, matrix)")]
pub struct CommunityArgError {
    pub given: String,
}

/// The platform and community of a `--community platform:id` argument.
pub fn parse_community(text: &str) -> Result<(Platform, CommunityId), CommunityArgError> {
    let error = || CommunityArgError {
        given: text.to_string(),
    };
    let (platform, id) = text.split_once(':').ok_or_else(error)?;
    let platform = Platform::parse(platform).ok_or_else(error)?;
    if id.trim().is_empty() {
        return Err(error());
    }
    Ok((platform, CommunityId::new(id)))
}

/// The scope documents are added to: one community, or every community.
pub fn scope_of(community: Option<&(Platform, CommunityId)>) -> String {
    match community {
        Some((platform, id)) => community_scope(*platform, id),
        None => ALL_COMMUNITIES.to_string(),
    }
}

/// What `kb add` did, for the report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AddSummary {
    pub added: usize,
    pub replaced: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub passages: usize,
}

/// Reads `paths` and stores every readable document in `scope`; `line` receives one line per
/// document or skipped file as it goes. A store failure stops with what was stored so far
/// kept (each document is stored in its own transaction).
pub async fn add(
    store: &Store,
    paths: &[PathBuf],
    scope: &str,
    mut line: impl FnMut(String),
) -> Result<AddSummary, StoreError> {
    let paths = paths.to_vec();
    let Ingested { documents, skipped } = tokio::task::spawn_blocking(move || {
        ingest::ingest(&paths, ALL_COMMUNITIES, &TokenCounter::new())
    })
    .await
    .expect("reading documents does not panic");
    let mut summary = AddSummary {
        skipped: skipped.len(),
        ..AddSummary::default()
    };
    for skip in &skipped {
        line(format!("skipped {}: {}", skip.path.display(), skip.reason));
    }
    for mut document in documents {
        // Read on a blocking thread without the scope; it belongs to the document.
        document.scope = scope.to_string();
        let passages = document.passages.len();
        let outcome = store
            .kb_store_document(&document, SystemTime::now())
            .await?;
        let verb = match outcome {
            Stored::Added => {
                summary.added += 1;
                "added"
            }
            Stored::Replaced => {
                summary.replaced += 1;
                "updated"
            }
            Stored::Unchanged => {
                summary.unchanged += 1;
                "unchanged"
            }
        };
        if outcome != Stored::Unchanged {
            summary.passages += passages;
        }
        line(format!("{verb} {} ({passages} passages)", document.path));
    }
    Ok(summary)
}

impl AddSummary {
    pub fn render(&self) -> String {
        format!(
            "{} added, {} updated, {} unchanged, {} skipped; {} passages indexed\n",
            self.added, self.replaced, self.unchanged, self.skipped, self.passages
        )
    }
}

/// `kb list`: every document with its scope and passage count.
pub async fn list(store: &Store) -> Result<String, StoreError> {
    let documents = store.kb_documents().await?;
    if documents.is_empty() {
        return Ok(
            "The knowledge base is empty: add documents with `steward kb add PATH...`.\n".into(),
        );
    }
    let mut out = String::new();
    for document in &documents {
        let scope = if document.scope.is_empty() {
            "every community"
        } else {
            document.scope.as_str()
        };
        let _ = writeln!(
            out,
            "{}  ({} passages; {scope}; sha256 {})",
            document.path,
            document.passages,
            &document.sha256[..document.sha256.len().min(12)]
        );
    }
    let _ = writeln!(out, "{} documents", documents.len());
    Ok(out)
}

/// `kb gaps`: the questions nobody could answer in the last `days` days, grouped by
/// similarity, most frequent first.
pub async fn gaps_report(
    store: &Store,
    platform: Platform,
    community: &CommunityId,
    days: u32,
) -> Result<String, StoreError> {
    let since = SystemTime::now()
        .checked_sub(Duration::from_secs(u64::from(days) * 86_400))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let recorded = store.kb_gaps(platform, community, since).await?;
    let groups = gaps::group(&recorded, gaps::SIMILAR);
    Ok(render_gaps(&groups, days))
}

fn render_gaps(groups: &[GapGroup], days: u32) -> String {
    if groups.is_empty() {
        return format!("No unanswered questions in the last {days} days.\n");
    }
    let mut out = format!("Unanswered questions, last {days} days (most asked first):\n");
    for group in groups {
        let _ = writeln!(out, "{:>4} × {}", group.count, group.question);
        for example in &group.examples {
            let _ = writeln!(out, "       also: {example}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn community_arguments() {
        let (platform, id) = parse_community("discord:123").unwrap();
        assert_eq!((platform, id.as_str()), (Platform::Discord, "123"));
        let (platform, id) = parse_community("matrix:!abc:example.org").unwrap();
        assert_eq!(
            (platform, id.as_str()),
            (Platform::Matrix, "!abc:example.org")
        );
        for bad in ["discord", "irc:1", "discord:", ":1"] {
            let error = parse_community(bad).unwrap_err().to_string();
            assert!(error.contains("platform:id"), "{bad}: {error}");
        }
    }
}
