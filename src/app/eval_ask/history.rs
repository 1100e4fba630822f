//! `steward eval ask --history FILE`: a community's recorded history as a knowledge source of
//! the evaluation. The file holds one message per line (JSON: `{"id", "channel", "thread",
//! "author", "name", "text", "reply_to", "reactions": [{"user", "emoji"}]}`; see
//! `tests/fixtures/kb/README.md`), in time order.
//!
//! Nothing here indexes on its own: the messages are recorded as the router records members'
//! messages, the reactions go through the router's own reaction feature (the asker's ✅ marks
//! a conversation solved and queues it), the bot's indexing workers work the queue, and every
//! conversation is then indexed as `steward kb backfill` indexes it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::json_lines;
use crate::app::eval::EvalError;
use crate::app::{kb, AppError};
use crate::config::Config;
use crate::core::{
    Author, ChannelId, Location, Message, MessageId, Reaction, Role, ThreadId, UserId,
};
use crate::jobs::Worker;
use crate::store::{Store, StoreError};

/// The first message's time (2026-11-02 10:00 UTC); each later one is a minute after the one
/// before it.
const START_SECONDS: u64 = 1_793_613_600;

/// How often the queue is checked while the indexing workers run.
const QUEUE_POLL: Duration = Duration::from_millis(10);

/// One message of a history file.
#[derive(Debug, Clone, Deserialize)]
pub struct HistoryMessage {
    pub id: String,
    pub channel: String,
    /// The thread it was posted in: the id of the message the thread started from.
    #[serde(default)]
    pub thread: Option<String>,
    pub author: String,
    /// The author's display name (the author's id when empty).
    #[serde(default)]
    pub name: String,
    pub text: String,
    #[serde(default)]
    pub reply_to: Option<String>,
    #[serde(default)]
    pub reactions: Vec<HistoryReaction>,
}

/// A reaction on a history message.
#[derive(Debug, Clone, Deserialize)]
pub struct HistoryReaction {
    pub user: String,
    pub emoji: String,
}

impl HistoryMessage {
    /// Where it was posted, in the evaluation's community.
    fn location(&self, community: &Location) -> Location {
        Location {
            platform: community.platform,
            community: community.community.clone(),
            channel: ChannelId::new(&self.channel),
            thread: self.thread.as_deref().map(ThreadId::new),
        }
    }

    /// The core message the router would record: a member's, `index` minutes after the start.
    fn message(&self, community: &Location, index: usize) -> Message {
        let minutes = u64::try_from(index).unwrap_or(u64::MAX);
        Message {
            id: MessageId::new(&self.id),
            location: self.location(community),
            author: Author {
                id: UserId::new(&self.author),
                display_name: self.name.clone(),
                role: Role::Member,
                is_bot: false,
            },
            text: self.text.clone(),
            created_at: UNIX_EPOCH
                + Duration::from_secs(START_SECONDS.saturating_add(minutes.saturating_mul(60))),
            reply_to: self.reply_to.as_deref().map(MessageId::new),
            mentions_bot: false,
            replies_to_bot: false,
        }
    }
}

/// Reads a history file: one message per line, ids unique.
pub fn read_history(path: &Path) -> Result<Vec<HistoryMessage>, EvalError> {
    let lines: Vec<(usize, HistoryMessage)> = json_lines(path)?;
    {
        let mut seen = std::collections::HashSet::new();
        for (line, message) in &lines {
            if !seen.insert(message.id.as_str()) {
                return Err(EvalError::Line {
                    path: path.to_path_buf(),
                    line: *line,
                    message: format!("message id {:?} is used twice", message.id),
                });
            }
        }
    }
    Ok(lines.into_iter().map(|(_, message)| message).collect())
}

/// What recording a history did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    pub messages: usize,
    pub reactions: usize,
    /// Conversation documents in the knowledge base afterwards, and their passages.
    pub conversations: usize,
    pub passages: u64,
}

/// Records the history at `path` in `store` as members' messages in `community`'s community
/// (its platform and community; channels and threads come from the file), applies its
/// reactions as the router does, and indexes its conversations: the ✅-solved ones through the
/// indexing workers `steward run` starts, then all as `kb backfill` does. Returns what it did
/// and the backfill's summary line.
pub async fn record(
    config: &Config,
    store: &Arc<Store>,
    path: &Path,
    community: &Location,
) -> Result<(Recorded, String), AppError> {
    let history = read_history(path)?;
    for (index, entry) in history.iter().enumerate() {
        store
            .record_message(&entry.message(community, index))
            .await?;
    }
    let mut workers = Vec::new();
    let index = super::super::conversation_index(config, store);
    let conversations = super::super::community_conversations(
        &index,
        store,
        &crate::metrics::Metrics::new(),
        &[community.platform],
        &mut workers,
    );
    let mut reactions = 0;
    for entry in &history {
        for given in &entry.reactions {
            let reaction = Reaction {
                location: entry.location(community),
                message: MessageId::new(&entry.id),
                user: UserId::new(&given.user),
                emoji: given.emoji.clone(),
            };
            conversations.reaction(&reaction).await;
            reactions += 1;
        }
    }
    work_queue(store, workers).await?;
    let scope = (community.platform, community.community.clone());
    let summary = kb::backfill(store, &config.knowledge.exclude_channels, Some(&scope)).await?;
    let documents = store.kb_documents().await?;
    let indexed: Vec<_> = documents
        .iter()
        .filter(|document| document.path.starts_with("messages/"))
        .collect();
    let recorded = Recorded {
        messages: history.len(),
        reactions,
        conversations: indexed.len(),
        passages: indexed.iter().map(|document| document.passages).sum(),
    };
    Ok((recorded, summary))
}

/// Runs `workers` until no job is pending or running (the scratch store holds only the
/// indexing the reactions queued), then stops them.
async fn work_queue(store: &Store, workers: Vec<Arc<Worker>>) -> Result<(), StoreError> {
    let shutdown = CancellationToken::new();
    let running: Vec<_> = workers
        .into_iter()
        .map(|worker| tokio::spawn(worker.run(shutdown.clone())))
        .collect();
    let counts = loop {
        match store.job_counts().await {
            Ok(counts) if counts.unfinished() > 0 => tokio::time::sleep(QUEUE_POLL).await,
            done => break done,
        }
    };
    shutdown.cancel();
    for worker in running {
        if let Err(error) = worker.await {
            tracing::error!(%error, "an indexing worker ended abnormally");
        }
    }
    let counts = counts?;
    if counts.failed > 0 {
        eprintln!(
            "history: {} conversations could not be indexed (see the log)",
            counts.failed
        );
    }
    Ok(())
}

/// Whether `id` names a case about the history: `<language>-h<NN>` (`en-h01`, `zh-h03`).
pub fn history_case(id: &str) -> bool {
    id.split_once('-')
        .and_then(|(_, rest)| rest.strip_prefix('h'))
        .is_some_and(|number| number.starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{CommunityId, Platform};

    #[test]
    fn history_messages_become_members_messages_a_minute_apart() {
        let line = r#"{"id":"en02-2","channel":"help","thread":"en02-1","author":"bo","name":"Bo","text":"try this","reply_to":"en02-1","reactions":[{"user":"ana","emoji":"✅"}]}"#;
        let entry: HistoryMessage = serde_json::from_str(line).unwrap();
        let community = Location {
            platform: Platform::Console,
            community: CommunityId::new("eval"),
            channel: ChannelId::new("general"),
            thread: None,
        };
        let message = entry.message(&community, 2);
        assert_eq!(message.location.channel.as_str(), "help");
        assert_eq!(message.location.community.as_str(), "eval");
        assert_eq!(
            message.location.thread.as_ref().map(ThreadId::as_str),
            Some("en02-1")
        );
        assert_eq!(
            message.reply_to.as_ref().map(MessageId::as_str),
            Some("en02-1")
        );
        assert_eq!(message.author.role, Role::Member);
        assert!(!message.author.is_bot);
        let start = UNIX_EPOCH + Duration::from_secs(START_SECONDS);
        assert_eq!(message.created_at, start + Duration::from_secs(120));
        assert_eq!(entry.reactions[0].emoji, "✅");

        let bare: HistoryMessage =
            serde_json::from_str(r#"{"id":"x","channel":"general","author":"cy","text":"hi"}"#)
                .unwrap();
        assert!(bare.thread.is_none() && bare.reply_to.is_none() && bare.reactions.is_empty());
    }

    #[test]
    fn history_cases_are_named_by_their_ids() {
        for (id, history) in [
            ("en-h01", true),
            ("zh-h12", true),
            ("en-01", false),
            ("zh-55", false),
            ("en-help", false),
        ] {
            assert_eq!(history_case(id), history, "{id}");
        }
    }
}
