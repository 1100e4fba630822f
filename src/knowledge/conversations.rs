//! Community conversations as knowledge sources: the messages Steward recorded, gathered into
//! conversations and stored as knowledge documents whose passages link back to where they
//! were said.
//!
//! A lone message is no source (a question would be cited as if it answered itself), so the
//! unit is a conversation: a thread with all its messages, or in a channel a message and the
//! replies to it (reply chains are followed at most [`MAX_REPLY_DEPTH`] levels). Only members'
//! messages count: not bots' (Steward's own answers included), not deleted ones, not those in
//! an excluded channel or thread. (Commands never reach the message table.) A conversation is
//! indexed when it looks like a question another member answered, or when someone vouched for
//! it (its asker reacted ✅, a moderator ran `kb mark`, or an answer in it got at least two
//! positive reactions: 👍, ❤️, 🎉, ...), which also weighs it more in ranking.
//!
//! Its document: path `messages/<platform>/<channel>/<root>`, the community's scope (no other
//! community can cite it), its first line as the heading of every passage (so each part of a
//! long thread is found by the question's words), and `Name: message` paragraphs in time
//! order, chunked like any document. The SHA-256 of the text makes an unchanged conversation a
//! no-op and an edit or deletion a replacement; a conversation that no longer qualifies is
//! removed. The document's source row says which message citations link to (its first one
//! still there).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::chunk::{self, Section, TokenCounter, PASSAGE_TOKENS};
use super::cite::shorten;
use super::{community_scope, NewDocument, Stored};
use crate::core::{ChannelId, CommunityId, Location, MessageId, Platform, UserId};
use crate::store::{ConversationMessage, MessageLink, MessageSource, Store, StoreError};

mod qualify;

use qualify::{answered_question, endorsed};
pub use qualify::{is_positive_reaction, ANSWER_WORDS, ENDORSING_REACTIONS};

/// Reply chains are followed at most this many levels, up to the root and down from it.
pub const MAX_REPLY_DEPTH: u32 = 10;

/// A conversation's heading (its first line) is cut to this many characters.
const TITLE_CHARS: usize = 100;

/// Which conversation: a thread (`root` is the thread's id, which is also its first
/// message's on both platforms) or a channel message and its replies (`root` is that
/// message, which may predate the bot).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConversationKey {
    pub platform: Platform,
    pub community: CommunityId,
    pub channel: ChannelId,
    pub root: MessageId,
}

impl ConversationKey {
    /// Its document's path: `messages/<platform>/<channel>/<root>`.
    pub fn path(&self) -> String {
        format!(
            "messages/{}/{}/{}",
            self.platform.as_str(),
            self.channel.as_str(),
            self.root.as_str()
        )
    }

    /// Its document's scope: its community's.
    pub fn scope(&self) -> String {
        community_scope(self.platform, &self.community)
    }

    /// The conversation rooted at `root` in `location`'s channel (its thread, if any, is not
    /// part of the key: a thread's conversation is rooted at the thread).
    pub(crate) fn at(location: &Location, root: MessageId) -> Self {
        Self {
            platform: location.platform,
            community: location.community.clone(),
            channel: location.channel.clone(),
            root,
        }
    }
}

/// A message's place, as the walk up a reply chain sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hop {
    id: MessageId,
    location: Location,
    reply_to: Option<MessageId>,
}

/// The conversation `hop` starts (a message in a thread belongs to the thread; one that
/// replies to nothing is a root), else the id of the message it replies to.
fn start(hop: &Hop) -> Result<ConversationKey, MessageId> {
    if let Some(thread) = &hop.location.thread {
        return Ok(ConversationKey::at(
            &hop.location,
            MessageId::new(thread.as_str()),
        ));
    }
    match &hop.reply_to {
        None => Ok(ConversationKey::at(&hop.location, hop.id.clone())),
        Some(parent) => Err(parent.clone()),
    }
}

/// Where a step up a reply chain leads.
enum Step {
    /// The conversation's root is found.
    Root(ConversationKey),
    /// On to this message.
    Up(Hop),
}

/// One step up from `child` to the message it replies to: a parent Steward never recorded is
/// the root; a recorded one in the same channel, outside threads, is the next step; anything
/// else (another channel, a thread) leaves `child` as the root.
fn climb(child: &Hop, parent_id: MessageId, parent: Option<Hop>) -> Step {
    match parent {
        None => Step::Root(ConversationKey::at(&child.location, parent_id)),
        Some(parent)
            if parent.location.channel == child.location.channel
                && parent.location.thread.is_none() =>
        {
            Step::Up(parent)
        }
        Some(_) => Step::Root(ConversationKey::at(&child.location, child.id.clone())),
    }
}

/// The conversation of a recorded message, walking its reply chain in the store; `None` if
/// the message is not recorded.
pub async fn conversation_of(
    store: &Store,
    platform: Platform,
    message: &MessageId,
) -> Result<Option<ConversationKey>, StoreError> {
    let hop = |m: crate::store::StoredMessage| Hop {
        id: m.id,
        location: m.location,
        reply_to: m.reply_to,
    };
    let Some(mut current) = store.message(platform, message).await?.map(hop) else {
        return Ok(None);
    };
    for _ in 0..MAX_REPLY_DEPTH {
        let parent_id = match start(&current) {
            Ok(key) => return Ok(Some(key)),
            Err(parent_id) => parent_id,
        };
        let parent = store.message(platform, &parent_id).await?.map(hop);
        match climb(&current, parent_id, parent) {
            Step::Root(key) => return Ok(Some(key)),
            Step::Up(next) => current = next,
        }
    }
    Ok(Some(ConversationKey::at(&current.location, current.id)))
}

/// The conversations of members' messages among `links` (every recorded message, bots'
/// included, for the walk), each once, in order of first appearance, keeping only those with
/// at least two members' messages (fewer never qualify unless vouched for, and vouched ones
/// were indexed when vouched for).
pub fn conversations(links: &[MessageLink]) -> Vec<ConversationKey> {
    let hops: HashMap<(Platform, MessageId), &MessageLink> = links
        .iter()
        .map(|link| ((link.location.platform, link.id.clone()), link))
        .collect();
    let hop = |link: &MessageLink| Hop {
        id: link.id.clone(),
        location: link.location.clone(),
        reply_to: link.reply_to.clone(),
    };
    let mut order: Vec<ConversationKey> = Vec::new();
    let mut members: HashMap<ConversationKey, usize> = HashMap::new();
    for link in links.iter().filter(|link| link.member) {
        let platform = link.location.platform;
        let mut current = hop(link);
        let mut found = None;
        for _ in 0..MAX_REPLY_DEPTH {
            let parent_id = match start(&current) {
                Ok(key) => {
                    found = Some(key);
                    break;
                }
                Err(parent_id) => parent_id,
            };
            let parent = hops
                .get(&(platform, parent_id.clone()))
                .map(|&link| hop(link));
            match climb(&current, parent_id, parent) {
                Step::Root(key) => {
                    found = Some(key);
                    break;
                }
                Step::Up(next) => current = next,
            }
        }
        let key = found.unwrap_or_else(|| ConversationKey::at(&current.location, current.id));
        let count = members.entry(key.clone()).or_insert(0);
        if *count == 0 {
            order.push(key);
        }
        *count += 1;
    }
    order.retain(|key| members.get(key).is_some_and(|count| *count >= 2));
    order
}

/// A conversation ready to store: what indexing would write.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// Its heading (the first line) and its `Name: message` paragraphs.
    pub section: Section,
    /// SHA-256 of heading and text, lowercase hex.
    pub sha256: String,
    /// Where citations link, and who vouched for it.
    pub source: MessageSource,
    /// How many messages it holds.
    pub messages: usize,
    /// Who asked: the author of its first message.
    pub asker: UserId,
}

/// The messages of a conversation that count: members' (not bots'), not deleted, not empty,
/// not `excluded`.
fn kept(
    messages: &[ConversationMessage],
    excluded: impl Fn(&Location) -> bool,
) -> Vec<&ConversationMessage> {
    messages
        .iter()
        .filter(|m| !m.deleted && !m.author_is_bot && !m.text.trim().is_empty())
        .filter(|m| !excluded(&m.location))
        .collect()
}

/// The conversation `messages` (oldest first) make, if it qualifies: the messages that count
/// ([`kept`]), when `solved` or `marked`, when the community endorsed an answer in it (see
/// [`ENDORSING_REACTIONS`]; `reactions` are (message, emoji, count)), or else when they look
/// like a question another member answered ([`answered_question`]).
pub fn prepare(
    messages: &[ConversationMessage],
    (solved, marked): (bool, bool),
    reactions: &[(MessageId, String, u32)],
    excluded: impl Fn(&Location) -> bool,
) -> Option<Prepared> {
    let kept = kept(messages, excluded);
    let first = kept.first()?;
    let endorsed = endorsed(&kept, reactions);
    if !solved && !marked && !endorsed && !answered_question(&kept) {
        return None;
    }
    let title = first
        .text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(|line| shorten(line, TITLE_CHARS))
        .unwrap_or_default();
    let text = kept
        .iter()
        .map(|m| {
            let name = m.author_name.trim();
            let name = if name.is_empty() {
                m.author.as_str()
            } else {
                name
            };
            format!("{name}: {}", m.text.trim())
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    let sha256 = format!(
        "{:x}",
        Sha256::digest(format!("{title}\n{text}").as_bytes())
    );
    Some(Prepared {
        section: Section {
            heading: vec![title],
            text,
        },
        sha256,
        source: MessageSource {
            location: first.location.clone(),
            message: first.id.clone(),
            solved,
            marked,
            endorsed,
        },
        messages: kept.len(),
        asker: first.author.clone(),
    })
}

/// What indexing a conversation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Indexed {
    /// It qualifies: its document was added, replaced or found unchanged.
    Stored {
        stored: Stored,
        messages: usize,
        sha256: String,
    },
    /// It no longer qualifies: its document was removed.
    Removed,
    /// It does not qualify and was not indexed.
    NotIndexed,
}

/// What a backfill did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backfill {
    /// Recorded messages read.
    pub messages: usize,
    /// Conversations with at least two members' messages, each indexed.
    pub conversations: usize,
    pub added: usize,
    pub replaced: usize,
    pub unchanged: usize,
    /// Stored before, no longer qualifying: removed.
    pub removed: usize,
    /// Not qualifying (no answered question and no vouch, excluded, deleted): not indexed.
    pub skipped: usize,
}

impl Backfill {
    fn count(&mut self, indexed: &Indexed) {
        match indexed {
            Indexed::Stored {
                stored: Stored::Added,
                ..
            } => self.added += 1,
            Indexed::Stored {
                stored: Stored::Replaced,
                ..
            } => self.replaced += 1,
            Indexed::Stored {
                stored: Stored::Unchanged,
                ..
            } => self.unchanged += 1,
            Indexed::Removed => self.removed += 1,
            Indexed::NotIndexed => self.skipped += 1,
        }
    }
}

/// Indexes community conversations into the knowledge base.
pub struct ConversationIndex {
    store: Arc<Store>,
    /// Channel and thread ids whose messages are never indexed (`[knowledge]
    /// exclude_channels`).
    exclude: HashSet<String>,
    counter: TokenCounter,
    /// Held while a conversation is read and stored, and while a vouch is recorded: a
    /// background job that read a message before its deletion stores before the deletion's
    /// own re-indexing reads, never after, and one that found a conversation unqualified
    /// cannot remove a vouch recorded meanwhile (in this process; see `docs/knowledge.md` for
    /// several processes).
    writing: tokio::sync::Mutex<()>,
}

impl ConversationIndex {
    pub fn new(store: Arc<Store>, exclude_channels: impl IntoIterator<Item = String>) -> Self {
        Self {
            store,
            exclude: exclude_channels.into_iter().collect(),
            counter: TokenCounter::new(),
            writing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Messages at `location` are never indexed: its channel or thread is excluded.
    pub fn excluded(&self, location: &Location) -> bool {
        self.exclude.contains(location.channel.as_str())
            || location
                .thread
                .as_ref()
                .is_some_and(|thread| self.exclude.contains(thread.as_str()))
    }

    /// The conversation of a recorded message ([`conversation_of`]).
    pub async fn conversation_of(
        &self,
        platform: Platform,
        message: &MessageId,
    ) -> Result<Option<ConversationKey>, StoreError> {
        conversation_of(&self.store, platform, message).await
    }

    /// What indexing `key` would store now ([`prepare`] on its recorded messages and
    /// recorded vouches); `None` if it does not qualify.
    pub async fn prepare(&self, key: &ConversationKey) -> Result<Option<Prepared>, StoreError> {
        let messages = self
            .store
            .conversation_messages(key.platform, &key.channel, &key.root, MAX_REPLY_DEPTH)
            .await?;
        let vouched = self
            .store
            .kb_conversation_source(&key.scope(), &key.path())
            .await?
            .map_or((false, false), |source| (source.solved, source.marked));
        let reactions = self
            .store
            .conversation_reactions(key.platform, &key.channel, &key.root, MAX_REPLY_DEPTH)
            .await?;
        Ok(prepare(&messages, vouched, &reactions, |location| {
            self.excluded(location)
        }))
    }

    /// Who asked in `key`: the author of its first message that counts (whether or not the
    /// conversation qualifies yet); `None` when none counts.
    pub async fn asker(&self, key: &ConversationKey) -> Result<Option<UserId>, StoreError> {
        let messages = self
            .store
            .conversation_messages(key.platform, &key.channel, &key.root, MAX_REPLY_DEPTH)
            .await?;
        let kept = kept(&messages, |location| self.excluded(location));
        Ok(kept.first().map(|m| m.author.clone()))
    }

    /// Indexes `key` as its messages stand now: stores its document (replacing the passages
    /// when it changed), or removes it when it no longer qualifies.
    pub async fn index(
        &self,
        key: &ConversationKey,
        now: SystemTime,
    ) -> Result<Indexed, StoreError> {
        let _writing = self.writing.lock().await;
        let prepared = self.prepare(key).await?;
        let (scope, path) = (key.scope(), key.path());
        let Some(prepared) = prepared else {
            let removed = self.store.kb_remove_conversation(&scope, &path).await?;
            return Ok(if removed {
                Indexed::Removed
            } else {
                Indexed::NotIndexed
            });
        };
        let passages = chunk::passages(
            std::slice::from_ref(&prepared.section),
            PASSAGE_TOKENS,
            &self.counter,
        );
        let document = NewDocument {
            path,
            scope,
            sha256: prepared.sha256.clone(),
            passages,
        };
        let stored = self
            .store
            .kb_store_conversation(&document, &key.root, &prepared.source, now)
            .await?;
        Ok(Indexed::Stored {
            stored,
            messages: prepared.messages,
            sha256: prepared.sha256,
        })
    }

    /// Records that someone vouched for `key` (`solved` by its asker, `marked` by a
    /// moderator), then indexes it: a vouched conversation qualifies with one author too.
    /// `at` is the message the vouch named, linked until indexing finds the first one.
    pub async fn vouch(
        &self,
        key: &ConversationKey,
        at: (&Location, &MessageId),
        flags: (bool, bool),
        now: SystemTime,
    ) -> Result<Indexed, StoreError> {
        self.record_vouch(key, at, flags, now).await?;
        self.index(key, now).await
    }

    /// Records that someone vouched for `key`, without indexing it (the caller queues that).
    pub async fn record_vouch(
        &self,
        key: &ConversationKey,
        (location, message): (&Location, &MessageId),
        (solved, marked): (bool, bool),
        now: SystemTime,
    ) -> Result<(), StoreError> {
        let source = MessageSource {
            location: location.clone(),
            message: message.clone(),
            solved,
            marked,
            // Indexing sets it from the reactions; a vouch keeps what a stored row has.
            endorsed: false,
        };
        // Not while an indexing runs: one that read the conversation before this vouch and
        // found it unqualified would remove the row, and the vouch with it.
        let _writing = self.writing.lock().await;
        self.store
            .kb_vouch_conversation((&key.scope(), &key.path()), &key.root, &source, now)
            .await
    }

    /// Records that the asker took back the ✅ on `key`, without indexing it (the caller
    /// queues that: without the mark it may no longer qualify). False when it was not solved.
    pub async fn withdraw_solved(
        &self,
        key: &ConversationKey,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let _writing = self.writing.lock().await;
        self.store
            .kb_unsolve_conversation((&key.scope(), &key.path()), now)
            .await
    }

    /// Indexes every conversation of the recorded history (of one community, or all):
    /// `progress` hears (done, total) after each.
    pub async fn backfill(
        &self,
        community: Option<(Platform, &CommunityId)>,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Backfill, StoreError> {
        let links = self.store.message_links(community).await?;
        let keys = conversations(&links);
        let mut summary = Backfill {
            messages: links.len(),
            conversations: keys.len(),
            ..Backfill::default()
        };
        let now = SystemTime::now();
        for (done, key) in keys.iter().enumerate() {
            summary.count(&self.index(key, now).await?);
            progress(done + 1, keys.len());
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests;
