//! The health of a community (or one channel) over a window: how many members spoke, how many
//! questions were asked and answered and by whom, how fast a person replied, the tone of the
//! messages, reactions, and the 👍/👎 on Steward's answers; plus the same figures per time bucket
//! for the charts.
//!
//! [`compute`] and [`buckets`] are pure functions of the recorded messages ([`Inputs`]);
//! [`gather`] reads them from the store.
//!
//! # Definitions
//!
//! - **Human message**: a message whose author is neither Steward (`Inputs::steward`) nor
//!   flagged as a bot. Only human messages created in the window (`window.from <= created_at <
//!   window.to`) are counted; messages after `window.to` (up to `now`) only count as replies.
//! - **messages**: human messages in the window, deleted ones included (volume is volume).
//! - **active_members**: distinct authors of those messages.
//! - **new_members**: active members who are in `Inputs::first_time_posters` (their first
//!   message in the whole community is in the window). For a channel, those who spoke in it.
//! - **threads**: distinct thread ids among all the window's messages (any author).
//! - **question**: a human message in the window, not deleted, whose text
//!   [`is_question`](crate::insights::questions::is_question).
//! - **answer**: the first later message (up to `now`, not deleted) by someone other than the
//!   asker that replies to the question (`reply_to`), or is in the thread the question started
//!   (thread id == the question's id), or is in the same thread as the question. Bots other than
//!   Steward never answer. It was answered by Steward if its author is Steward, by a moderator if
//!   the author's role can moderate, by a member otherwise ([`Answerer`]).
//! - **answered**: questions with an answer; `answered_by_*` split them by [`Answerer`].
//! - **first human reply**: the first such message by a human (not Steward, not a bot). Its
//!   delay from the question; `median_first_human_reply` is the median over the questions that
//!   have one (the mean of the two middle values for an even count).
//! - **unanswered_old**: questions with no answer at all, created before `now -
//!   unanswered_after`; the oldest first, at most [`UNANSWERED_LISTED`], with the total.
//! - **reactions**: every reaction on the window's messages, whoever wrote them.
//! - **scored / positive / neutral / negative**: sentiment labels of the window's human
//!   messages that are not deleted; `negative_share` = negative / scored (None when nothing is
//!   scored).
//! - **satisfaction**: 👍 / (👍 + 👎) of the votes cast on Steward's answers in the community
//!   (not only the channel: votes are counted per community) on the UTC days the window
//!   touches, from `window.from` on; None without votes, never estimated.
//! - **top_helpers**: humans ranked by how many questions they gave the first human reply to;
//!   at most [`TOP_HELPERS`], most answers first, ties by user id.
//! - **negative_examples**: the window's negative human messages (not deleted), most negative
//!   score first (then oldest), at most [`NEGATIVE_EXAMPLES`].
//!
//! Buckets: an hour for windows up to 2 days, a day up to 62 days, a week (starting Monday)
//! beyond; aligned to UTC, so the first bucket may start before `window.from` (it counts only
//! what is in the window). A bucket's questions are those asked in it, answered or not by `now`.

mod answers;
mod figures;
mod gather;
mod series;
#[cfg(test)]
mod tests;

use std::time::{Duration, SystemTime};

use crate::core::{Location, MessageId, UserId};
use crate::store::WindowMessage;

pub use figures::compute;
pub use gather::gather;
pub use series::{bucket_length, buckets};

/// Unanswered questions listed by name (the rest are only counted).
pub const UNANSWERED_LISTED: usize = 10;
/// Helpers listed.
pub const TOP_HELPERS: usize = 5;
/// Negative messages listed as examples.
pub const NEGATIVE_EXAMPLES: usize = 8;
/// Characters of a message an excerpt keeps (an ellipsis included).
pub const EXCERPT_CHARS: usize = 120;

/// A span of time: `from` included, `to` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub from: SystemTime,
    pub to: SystemTime,
}

impl Window {
    /// How long it lasts (zero when `to` is not after `from`).
    pub fn length(&self) -> Duration {
        self.to.duration_since(self.from).unwrap_or_default()
    }

    /// Whether `time` is inside it.
    pub fn contains(&self, time: SystemTime) -> bool {
        self.from <= time && time < self.to
    }
}

/// Who gave a question its first answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answerer {
    /// A member without moderation rights.
    Member,
    /// A moderator or owner (by the last role Steward saw).
    Moderator,
    /// Steward itself.
    Steward,
}

/// A message named in a report, with a short excerpt of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRef {
    pub location: Location,
    pub message: MessageId,
    /// At most [`EXCERPT_CHARS`] characters, on one line.
    pub excerpt: String,
}

/// A member who gave first human replies to questions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helper {
    pub user: UserId,
    /// Questions this member replied to first (among humans).
    pub answers: u64,
}

/// The figures of one window (see the module documentation for each definition).
#[derive(Debug, Clone, PartialEq)]
pub struct HealthMetrics {
    pub window: Window,
    pub active_members: u64,
    pub new_members: u64,
    pub messages: u64,
    pub threads: u64,
    pub questions: u64,
    pub answered: u64,
    pub answered_by_members: u64,
    pub answered_by_moderators: u64,
    pub answered_by_steward: u64,
    pub median_first_human_reply: Option<Duration>,
    /// Oldest first, at most [`UNANSWERED_LISTED`].
    pub unanswered_old: Vec<MessageRef>,
    pub unanswered_old_total: u64,
    pub reactions: u64,
    pub scored: u64,
    pub positive: u64,
    pub neutral: u64,
    pub negative: u64,
    /// negative / scored; None when nothing is scored.
    pub negative_share: Option<f64>,
    /// 👍 / (👍 + 👎); None without votes.
    pub satisfaction: Option<f64>,
    /// 👍 + 👎.
    pub votes: u64,
    /// At most [`TOP_HELPERS`], most answers first, ties by user id.
    pub top_helpers: Vec<Helper>,
    /// Most negative score first, at most [`NEGATIVE_EXAMPLES`].
    pub negative_examples: Vec<MessageRef>,
}

/// The figures of one bucket of a window, for the charts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Where the bucket starts (UTC-aligned); it lasts until the next one starts.
    pub start: SystemTime,
    pub messages: u64,
    pub positive: u64,
    pub neutral: u64,
    pub negative: u64,
    /// Questions asked in the bucket.
    pub questions: u64,
    /// Of those, the ones answered by `now`.
    pub answered: u64,
    pub median_first_human_reply: Option<Duration>,
}

/// What the figures are computed from.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    /// The messages created from `window.from` until `now` (in any order; the store gives them
    /// oldest first).
    pub messages: &'a [WindowMessage],
    /// Authors whose first message in the community is in the window.
    pub first_time_posters: &'a [UserId],
    /// Steward's own user on this platform, when known.
    pub steward: Option<&'a UserId>,
    pub votes_up: u64,
    pub votes_down: u64,
    pub now: SystemTime,
    /// How long a question waits before it counts as unanswered.
    pub unanswered_after: Duration,
}

/// A one-line excerpt of `text` of at most [`EXCERPT_CHARS`] characters.
pub(crate) fn excerpt(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= EXCERPT_CHARS {
        return line;
    }
    let mut short: String = line.chars().take(EXCERPT_CHARS - 1).collect();
    short.truncate(short.trim_end().len());
    short.push('…');
    short
}

/// A reference to `message` with its excerpt.
fn message_ref(message: &WindowMessage) -> MessageRef {
    MessageRef {
        location: message.location.clone(),
        message: message.message.clone(),
        excerpt: excerpt(&message.text),
    }
}

/// The median of `values` (sorted here); the mean of the two middle ones for an even count.
fn median(mut values: Vec<Duration>) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    values.sort();
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values.get(middle).copied()
    } else {
        let low = values.get(middle - 1).copied()?;
        let high = values.get(middle).copied()?;
        Some(low + (high - low) / 2)
    }
}
