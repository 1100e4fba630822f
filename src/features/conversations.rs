//! Community conversations in the knowledge base as members talk: a recorded reply or thread
//! message queues its conversation for indexing (a durable job, worked in the background,
//! one per conversation however many messages arrive at once); an edit does too; a deletion
//! re-indexes at once, before the router returns, so a deleted message is never retrieved or
//! cited; the asker's ✅ marks a conversation solved; `kb mark` (moderators) adds a
//! conversation even when one member wrote it, and weighs it more.
//!
//! What a conversation is and how it becomes a document: [`crate::knowledge::conversations`].

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::core::{ChannelId, CommunityId, Location, Message, MessageId, Platform, Reaction};
use crate::features::Context;
use crate::jobs::{JobError, JobHandler, Worker};
use crate::knowledge::conversations::{
    is_positive_reaction, ConversationIndex, ConversationKey, Indexed,
};
use crate::store::{Job, NewJob, StoreError};

/// The job kind of indexing on `platform`. Per platform like reviews, so a process indexes
/// the conversations of the platforms it serves (several processes may share a database).
pub fn kind(platform: Platform) -> &'static str {
    match platform {
        Platform::Console => "kb_index:console",
        Platform::Discord => "kb_index:discord",
        Platform::Matrix => "kb_index:matrix",
    }
}

/// How often re-indexing after a deletion is tried, and how long apart.
const DELETION_ATTEMPTS: u32 = 3;
const DELETION_RETRY: std::time::Duration = std::time::Duration::from_millis(100);

/// The reaction with which the member who asked marks their question solved.
pub const SOLVED: &str = "✅";

/// Whether `emoji` is [`SOLVED`] (with or without the emoji presentation selector some
/// clients add).
pub fn is_solved_mark(emoji: &str) -> bool {
    emoji.trim_end_matches('\u{fe0f}') == SOLVED
}

/// One queued indexing: which conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexJob {
    pub platform: String,
    pub community: String,
    pub channel: String,
    pub root: String,
}

impl IndexJob {
    pub fn of(key: &ConversationKey) -> Self {
        Self {
            platform: key.platform.as_str().to_string(),
            community: key.community.to_string(),
            channel: key.channel.to_string(),
            root: key.root.to_string(),
        }
    }

    /// The job for the table: one pending (or running) indexing per conversation.
    pub fn to_job(&self, platform: Platform) -> NewJob {
        let payload = serde_json::to_string(self).expect("an index job serializes");
        let dedup = format!("{}:{}:{}", self.platform, self.channel, self.root);
        NewJob::new(kind(platform), payload)
            .with_dedup_key(dedup)
            .rerun_if_running()
    }

    fn key(&self) -> Result<ConversationKey, JobError> {
        let platform = Platform::parse(&self.platform)
            .ok_or_else(|| JobError::fatal(format!("unknown platform {:?}", self.platform)))?;
        Ok(ConversationKey {
            platform,
            community: CommunityId::new(&self.community),
            channel: ChannelId::new(&self.channel),
            root: MessageId::new(&self.root),
        })
    }
}

/// The message id a `kb mark` argument names: a Discord message link
/// (`https://discord.com/channels/<guild>/<channel>/<message>`, possibly in `<>`), a
/// matrix.to event link (`https://matrix.to/#/<room>/<event>?via=...`, escaped or not), or a
/// bare message id.
pub fn message_id_of(target: &str) -> Option<MessageId> {
    let target = target.trim().trim_start_matches('<').trim_end_matches('>');
    let id = if target.contains("://") {
        let path = target.split_once("#/").map_or(target, |(_, after)| after);
        let path = path.split(['?', '#']).next().unwrap_or_default();
        percent_decoded(path.trim_end_matches('/').rsplit('/').next()?)?
    } else {
        target.to_string()
    };
    (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| MessageId::new(id))
}

/// `text` with its `%XX` escapes decoded; `None` if that is not UTF-8.
pub(crate) fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes
            .get(at + 1..at + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[at], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                at += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8(decoded).ok()
}

/// Keeps the community's conversations in the knowledge base.
pub struct Conversations {
    index: Arc<ConversationIndex>,
    /// One worker per platform this process serves.
    workers: Vec<Arc<Worker>>,
}

impl Conversations {
    pub fn new(index: Arc<ConversationIndex>, workers: Vec<Arc<Worker>>) -> Self {
        Self { index, workers }
    }

    /// A member's message was recorded (live, or caught up after a restart): its
    /// conversation is queued when it has one. A message that replies to nothing and is in
    /// no thread is a conversation of one so far: the first reply queues it.
    pub async fn posted(&self, message: &Message) {
        let location = &message.location;
        if message.author.is_bot
            || self.index.excluded(location)
            || (message.reply_to.is_none() && location.thread.is_none())
        {
            return;
        }
        self.queue_of(location.platform, &message.id).await;
    }

    /// A recorded message was edited: its conversation is indexed again in the background.
    pub async fn edited(&self, platform: Platform, message: &MessageId) {
        self.queue_of(platform, message).await;
    }

    /// A recorded message was deleted: its conversation is indexed again now, so the message
    /// leaves the knowledge base before the event is done. A store failure (SQLite refuses a
    /// write transaction whose reads another writer overtook) is tried again a few times.
    pub async fn deleted(&self, platform: Platform, message: &MessageId) {
        for attempt in 1..=DELETION_ATTEMPTS {
            let indexed = match self.index.conversation_of(platform, message).await {
                Ok(Some(key)) => self.index.index(&key, SystemTime::now()).await,
                Ok(None) => return,
                Err(error) => Err(error),
            };
            match indexed {
                Ok(indexed) => {
                    tracing::debug!(%message, ?indexed, "conversation re-indexed after a deletion");
                    return;
                }
                Err(error) if attempt == DELETION_ATTEMPTS => {
                    log_failure("re-index a conversation after a deletion", &error);
                }
                Err(error) => {
                    tracing::warn!(attempt, label = error.label(), %error, "re-indexing after a deletion failed; trying again");
                    tokio::time::sleep(DELETION_RETRY).await;
                }
            }
        }
    }

    /// A reaction (already counted): [`SOLVED`] by the member who asked marks their
    /// conversation solved and queues it; any other positive reaction (👍, ❤️, ..., or
    /// anyone else's ✅) queues its conversation, whose answer it may endorse
    /// ([`is_positive_reaction`]). Other reactions change nothing.
    pub async fn reaction(&self, reaction: &Reaction) {
        let Some(key) = self.askers_check_mark(reaction).await else {
            self.positive_reaction(reaction).await;
            return;
        };
        let at = (&reaction.location, &reaction.message);
        match self
            .index
            .record_vouch(&key, at, (true, false), SystemTime::now())
            .await
        {
            Ok(()) => self.queue(&key).await,
            Err(error) => log_failure("mark a conversation solved", &error),
        }
    }

    /// A reaction removed (already counted down): the asker taking their [`SOLVED`] back
    /// unmarks the conversation and queues it, so it leaves the knowledge base unless it
    /// qualifies without the mark (an answered question, an endorsed answer) or a moderator
    /// marked it. The store counts reactions, not who put them where: an asker who put ✅ on
    /// two answers and takes one back unmarks the conversation, and can ✅ again. Any other
    /// positive reaction taken back queues its conversation, which may no longer be endorsed.
    pub async fn reaction_removed(&self, reaction: &Reaction) {
        let Some(key) = self.askers_check_mark(reaction).await else {
            self.positive_reaction(reaction).await;
            return;
        };
        match self.index.withdraw_solved(&key, SystemTime::now()).await {
            // Queued either way: the ✅ also counted towards an endorsement.
            Ok(_) => self.queue(&key).await,
            Err(error) => log_failure("take a conversation's solved mark back", &error),
        }
    }

    /// A positive reaction came or went: the conversation of its message is indexed again,
    /// since an answer's endorsement follows its reaction counts.
    async fn positive_reaction(&self, reaction: &Reaction) {
        if is_positive_reaction(&reaction.emoji) && !self.index.excluded(&reaction.location) {
            self.queue_of(reaction.location.platform, &reaction.message)
                .await;
        }
    }

    /// The conversation of `reaction`'s message when the reaction is [`SOLVED`] by the member
    /// who asked there, in a channel that is not excluded; `None` otherwise.
    async fn askers_check_mark(&self, reaction: &Reaction) -> Option<ConversationKey> {
        if !is_solved_mark(&reaction.emoji) || self.index.excluded(&reaction.location) {
            return None;
        }
        let platform = reaction.location.platform;
        let found = async {
            let Some(key) = self
                .index
                .conversation_of(platform, &reaction.message)
                .await?
            else {
                return Ok(None);
            };
            let asker = self.index.asker(&key).await?;
            Ok::<_, StoreError>((asker.as_ref() == Some(&reaction.user)).then_some(key))
        }
        .await;
        found.unwrap_or_else(|error| {
            log_failure("find the conversation of a ✅", &error);
            None
        })
    }

    /// `kb mark <message link or id>` (the router lets only moderators through): adds that
    /// message's conversation to the knowledge base now, marked, and says what happened.
    pub async fn mark(&self, ctx: &Context, target: &str) -> String {
        let strings = ctx.strings;
        let location = &ctx.location;
        let Some(id) = message_id_of(target) else {
            return strings.kb_mark_unknown().to_string();
        };
        let stored = match self.index.store().message(location.platform, &id).await {
            Ok(stored) => stored,
            Err(error) => {
                log_failure("read a message to mark", &error);
                return strings.kb_mark_failed().to_string();
            }
        };
        // Another community's message is as unknown as one never recorded.
        let Some(stored) = stored.filter(|m| m.location.community == location.community) else {
            return strings.kb_mark_unknown().to_string();
        };
        if self.index.excluded(&stored.location) {
            return strings.kb_mark_excluded().to_string();
        }
        let now = SystemTime::now();
        let marked = async {
            let Some(key) = self.index.conversation_of(location.platform, &id).await? else {
                return Ok(Indexed::NotIndexed);
            };
            let at = (&stored.location, &stored.id);
            self.index.vouch(&key, at, (false, true), now).await
        }
        .await;
        match marked {
            Ok(Indexed::Stored { messages, .. }) => strings.kb_marked(messages),
            Ok(Indexed::Removed | Indexed::NotIndexed) => strings.kb_mark_empty().to_string(),
            Err(error) => {
                log_failure("mark a conversation", &error);
                strings.kb_mark_failed().to_string()
            }
        }
    }

    /// A moderator pinned a message (the router checks the role): its conversation is vouched
    /// for as by `kb mark`, and queued. A message of another channel (a Matrix room's pins may
    /// name any event), one Steward never recorded, or one in an excluded channel changes
    /// nothing. Unpinning takes nothing back, as a moderator's mark stays.
    pub async fn pinned(&self, location: &Location, message: &MessageId) {
        let platform = location.platform;
        let vouched = async {
            let stored = self.index.store().message(platform, message).await?;
            let here = |m: &crate::store::StoredMessage| {
                m.location.community == location.community && m.location.channel == location.channel
            };
            let Some(stored) = stored.filter(here) else {
                return Ok(None);
            };
            if self.index.excluded(&stored.location) {
                return Ok(None);
            }
            let Some(key) = self.index.conversation_of(platform, message).await? else {
                return Ok(None);
            };
            let at = (&stored.location, &stored.id);
            let now = SystemTime::now();
            self.index
                .record_vouch(&key, at, (false, true), now)
                .await?;
            Ok::<_, StoreError>(Some(key))
        }
        .await;
        match vouched {
            Ok(Some(key)) => self.queue(&key).await,
            Ok(None) => tracing::debug!(%message, "a pinned message that is not indexed"),
            Err(error) => log_failure("vouch for a pinned message's conversation", &error),
        }
    }

    /// A thread (a Discord forum post) was tagged solved, or the tag was removed: as the
    /// asker's ✅ and its withdrawal (the platform lets only the post's author or a moderator
    /// change tags), the thread's conversation is marked solved or unmarked, and queued. An
    /// excluded channel changes nothing.
    pub async fn thread_solved(&self, location: &Location, solved: bool) {
        let Some(thread) = &location.thread else {
            return;
        };
        if self.index.excluded(location) {
            return;
        }
        // A thread's conversation is rooted at the thread, whose id is its first message's.
        let root = MessageId::new(thread.as_str());
        let key = ConversationKey::at(location, root.clone());
        let now = SystemTime::now();
        let changed = if solved {
            let at = (location, &root);
            self.index.record_vouch(&key, at, (true, false), now).await
        } else {
            self.index.withdraw_solved(&key, now).await.map(|_| ())
        };
        match changed {
            Ok(()) => self.queue(&key).await,
            Err(error) => log_failure("mark a tagged thread solved", &error),
        }
    }

    /// Queues the conversation of a recorded message.
    async fn queue_of(&self, platform: Platform, message: &MessageId) {
        match self.index.conversation_of(platform, message).await {
            Ok(Some(key)) => self.queue(&key).await,
            Ok(None) => {}
            Err(error) => log_failure("find a message's conversation", &error),
        }
    }

    /// Queues `key` for indexing on its platform's worker.
    async fn queue(&self, key: &ConversationKey) {
        let job = IndexJob::of(key).to_job(key.platform);
        let Some(worker) = self
            .workers
            .iter()
            .find(|worker| worker.settings().kind == job.kind)
        else {
            // Events come only from the platforms this process serves, each with its worker.
            tracing::error!(kind = %job.kind, "no indexing worker for this platform");
            return;
        };
        if let Err(error) = worker.enqueue(&job).await {
            log_failure("queue a conversation for indexing", &error);
        }
    }
}

fn log_failure(operation: &'static str, error: &StoreError) {
    tracing::error!(operation, label = error.label(), %error, "store failed");
}

/// Works indexing jobs.
pub struct IndexJobs {
    index: Arc<ConversationIndex>,
}

impl IndexJobs {
    pub fn new(index: Arc<ConversationIndex>) -> Self {
        Self { index }
    }
}

#[async_trait]
impl JobHandler for IndexJobs {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        let queued: IndexJob = serde_json::from_str(&job.payload)
            .map_err(|error| JobError::fatal(format!("unreadable index job: {error}")))?;
        let key = queued.key()?;
        let failed = |error: StoreError| JobError::retry(error.to_string());
        // A message recorded while this runs asks the job to run once more
        // (`rerun_if_running`), so reading the conversation once is enough here.
        let indexed = self
            .index
            .index(&key, SystemTime::now())
            .await
            .map_err(failed)?;
        tracing::debug!(path = %key.path(), ?indexed, "conversation indexed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mark_targets_are_links_or_ids() {
        let cases = [
            ("1234567890", Some("1234567890")),
            (
                "https://discord.com/channels/1/2/345678901234567890",
                Some("345678901234567890"),
            ),
            ("<https://discord.com/channels/1/2/3/>", Some("3")),
            (
                "https://matrix.to/#/!room:example.org/$event:example.org?via=example.org",
                Some("$event:example.org"),
            ),
            (
                "https://matrix.to/#/%21room%3Aexample.org/%24ev%3Aexample.org",
                Some("$ev:example.org"),
            ),
            ("$ev:example.org", Some("$ev:example.org")),
            ("  ", None),
            ("https://discord.com/channels/1/2/%FF", None),
        ];
        for (target, expected) in cases {
            assert_eq!(
                message_id_of(target).as_ref().map(MessageId::as_str),
                expected,
                "{target}"
            );
        }
    }

    #[test]
    fn jobs_are_per_platform_and_conversation() {
        let key = ConversationKey {
            platform: Platform::Matrix,
            community: CommunityId::new("!space:x"),
            channel: ChannelId::new("!room:x"),
            root: MessageId::new("$root:x"),
        };
        let job = IndexJob::of(&key).to_job(key.platform);
        assert_eq!(job.kind, "kb_index:matrix");
        assert_eq!(job.dedup_key.as_deref(), Some("matrix:!room:x:$root:x"));
        let back: IndexJob = serde_json::from_str(&job.payload).unwrap();
        assert_eq!(back.key().unwrap(), key);
        assert!(is_solved_mark("✅") && is_solved_mark("✅\u{fe0f}"));
        assert!(!is_solved_mark("👍"));
    }
}
