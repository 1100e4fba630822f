//! Community insights' data: the tone of each recorded message (`message_sentiment`), reaction
//! counts per message (`message_reactions`, aggregate counts only: never who reacted), the
//! messages of a time window with what health metrics need, and the bookkeeping that makes an
//! alert or a weekly digest go out once (`insight_alerts`, `insight_digests`).
//!
//! Sentiment and reaction counts are data derived from a member's message: deleting the
//! message, retention and forgetting its author delete them with it (`privacy`). A score is
//! stored as an integer of thousandths: sqlx's `Any` driver reads a `REAL` back as `f64` on
//! SQLite and `f32` on PostgreSQL, and neither decodes as the other.
//!
//! The list of communities the alert and digest loops walk is
//! [`Store::communities`](crate::store::Store::communities).

mod bookkeeping;
mod sentiment;
mod window;

use std::time::SystemTime;

use crate::core::{Location, MessageId, Platform, Role, UserId};

/// A recorded message that has no sentiment yet: what the scorer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnscoredMessage {
    pub platform: Platform,
    pub message: MessageId,
    /// Its current text (never empty).
    pub text: String,
}

/// The tone the scorer gave one message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSentiment {
    pub platform: Platform,
    pub message: MessageId,
    /// `"positive"`, `"neutral"` or `"negative"` (the store refuses anything else).
    pub label: &'static str,
    /// From -1 (most negative) to 1 (most positive); stored to the thousandth, clamped.
    pub score: f32,
    /// `"lexical"` or `"model"`: the stage that decided it.
    pub stage: &'static str,
}

/// One recorded message of a window, with what the metrics need.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowMessage {
    pub message: MessageId,
    /// Where it was posted: platform, community, channel and thread (if any).
    pub location: Location,
    pub author: UserId,
    pub author_is_bot: bool,
    /// The role Steward last saw the author have in the community; `None` when never seen.
    pub author_role: Option<Role>,
    pub reply_to: Option<MessageId>,
    pub created_at: SystemTime,
    /// The current text; empty when deleted or purged by retention.
    pub text: String,
    /// Deleted on its platform.
    pub deleted: bool,
    /// Its sentiment label and score, once scored.
    pub sentiment: Option<(String, f32)>,
    /// All reactions on it, every emoji together.
    pub reactions: u64,
}

/// What an alert is about.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AlertKind {
    /// The share of negative messages rose well above the channel's own baseline.
    NegativeSpike,
    /// More questions than usual are left unanswered.
    UnansweredRise,
}

impl AlertKind {
    /// The stored text: `"negative_spike"` or `"unanswered_rise"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::NegativeSpike => "negative_spike",
            AlertKind::UnansweredRise => "unanswered_rise",
        }
    }
}

/// The stored form of a score: thousandths, clamped to -1..1; a score that is not a number
/// is stored as 0 (neutral) rather than failing the batch.
fn score_to_milli(score: f32) -> i64 {
    if score.is_finite() {
        // In range after the clamp, so the cast cannot truncate.
        (score.clamp(-1.0, 1.0) * 1000.0).round() as i64
    } else {
        0
    }
}

/// The inverse of [`score_to_milli`].
fn milli_to_score(milli: i64) -> f32 {
    // Stored values are -1000..=1000 (a CHECK constraint), exact in an f32.
    milli.clamp(-1000, 1000) as f32 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_round_trip_to_the_thousandth() {
        let cases: [(f32, i64); 7] = [
            (0.0, 0),
            (0.4567, 457),
            (-0.05, -50),
            (1.0, 1000),
            (3.5, 1000),
            (-7.0, -1000),
            (f32::NAN, 0),
        ];
        for (score, milli) in cases {
            assert_eq!(score_to_milli(score), milli, "{score}");
        }
        assert!((milli_to_score(457) - 0.457).abs() < 1e-6);
        assert_eq!(milli_to_score(-1000), -1.0);
    }

    #[test]
    fn alert_kinds_are_stored_as_the_schema_allows() {
        assert_eq!(AlertKind::NegativeSpike.as_str(), "negative_spike");
        assert_eq!(AlertKind::UnansweredRise.as_str(), "unanswered_rise");
    }
}
