//! `steward kb`: the knowledge base from the command line: add documents (files and
//! directory trees), list them, remove one, the questions nobody could answer, and members'
//! 👍/👎 on the answers (the same reports moderators get in chat, in English).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::config::Config;
use crate::core::{CommunityId, Language, Location, MessageId, Platform};
use crate::features;
use crate::knowledge::chunk::TokenCounter;
use crate::knowledge::ingest::{self, Ingested};
use crate::knowledge::vectors::{self, VectorError};
use crate::knowledge::{community_scope, Stored, ALL_COMMUNITIES};
use crate::llm::Embedder;
use crate::store::{Store, StoreError};
use crate::strings::Strings;

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

/// Embeds every passage that has no vector for `embedder`'s model yet (after `kb add`),
/// printing progress on stderr; returns the report line.
pub async fn embed_passages(store: &Store, embedder: &dyn Embedder) -> Result<String, VectorError> {
    let started = std::time::Instant::now();
    let embedded = vectors::embed_missing(store, embedder, |done| {
        eprint!("\rembedding passages: {done}");
    })
    .await?;
    if embedded > 0 {
        eprintln!();
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(format!(
        "{embedded} passages embedded with {} in {seconds:.1} s",
        embedder.info()
    ))
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
/// similarity, most frequent first (the text moderators get from `kb gaps` in chat).
pub async fn gaps_report(
    store: &Store,
    platform: Platform,
    community: &CommunityId,
    days: u32,
) -> Result<String, StoreError> {
    let strings = Strings::new(Language::English);
    features::gaps::report_text(store, platform, community, days, strings, SystemTime::now()).await
}

/// `kb feedback`: members' 👍/👎 on Steward's answers in the last `days` days, per day (per
/// week over a month), and the worst-rated answers (the text moderators get from `kb feedback`
/// in chat). Answers are linked where `config` configures their platform, else shown by id.
pub async fn feedback_report(
    config: &Config,
    store: &Store,
    platform: Platform,
    community: &CommunityId,
    days: u32,
) -> Result<String, StoreError> {
    let capabilities = match platform {
        Platform::Discord => config
            .discord
            .as_ref()
            .map(crate::platform::discord::capabilities),
        Platform::Matrix => config
            .matrix
            .as_ref()
            .map(crate::platform::matrix::capabilities),
        Platform::Console => None,
    };
    let link = |location: &Location, message: &MessageId| {
        capabilities.as_ref()?.message_link(location, message)
    };
    let strings = Strings::new(Language::English);
    let now = SystemTime::now();
    features::feedback::report_text(store, platform, community, days, strings, &link, now).await
}

/// `kb backfill`: indexes every conversation of the recorded history (of one community, or
/// all) as `steward run` would have, with `n/total` progress on stderr; returns the summary
/// line. `exclude_channels` is `[knowledge] exclude_channels`: conversations there are removed.
pub async fn backfill(
    store: &Store,
    exclude_channels: &[String],
    community: Option<&(Platform, CommunityId)>,
) -> Result<String, StoreError> {
    use crate::knowledge::conversations::ConversationIndex;
    let started = std::time::Instant::now();
    let index = ConversationIndex::new(
        std::sync::Arc::new(store.clone()),
        exclude_channels.iter().cloned(),
    );
    let community = community.map(|(platform, id)| (*platform, id));
    let summary = index
        .backfill(community, |done, total| {
            if done == total || done % 100 == 0 {
                eprint!("\rindexing conversations: {done}/{total}");
            }
        })
        .await?;
    if summary.conversations > 0 {
        eprintln!();
    }
    Ok(format!(
        "{} messages read, {} conversations: {} added, {} updated, {} unchanged, {} removed, \
         {} not indexed (no answered question and no vouch, deleted or excluded) in {:.1} s\n",
        summary.messages,
        summary.conversations,
        summary.added,
        summary.replaced,
        summary.unchanged,
        summary.removed,
        summary.skipped,
        started.elapsed().as_secs_f64()
    ))
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
