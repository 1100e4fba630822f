//! Which recorded conversations are worth citing: a question another member answered, or an
//! answer the community endorsed with positive reactions (vouches — the asker's ✅, a
//! moderator's mark or pin, a forum's solved tag — are recorded elsewhere and passed in).

use super::ConversationMessage;
use crate::core::MessageId;
use crate::text::{asks_question, rough_words};

/// How many times one positive emoji must be on an answer to endorse its conversation. The
/// store counts reactions per emoji, not who put them, and a member puts a given emoji on a
/// message at most once: two of the same mean two members, so at least one besides the
/// answer's author. (Summing different emoji would let the author endorse their own answer
/// with 👍 and ❤️.)
pub const ENDORSING_REACTIONS: u32 = 2;

/// Whether `emoji` says "good answer": 👍, ❤️, 🎉, 🙏, 💯, 👏, 🙌, 🔥, ✅ or ✔️, as Unicode
/// (with or without the presentation selector or a skin tone) or as a shortcode.
pub fn is_positive_reaction(emoji: &str) -> bool {
    let bare: String = emoji
        .trim()
        .chars()
        .filter(|c| *c != '\u{fe0f}' && !('\u{1f3fb}'..='\u{1f3ff}').contains(c))
        .collect();
    matches!(
        bare.as_str(),
        "👍" | "+1"
            | ":+1:"
            | ":thumbsup:"
            | ":thumbs_up:"
            | "❤"
            | ":heart:"
            | "🎉"
            | ":tada:"
            | "🙏"
            | ":pray:"
            | "💯"
            | ":100:"
            | "👏"
            | ":clap:"
            | "🙌"
            | ":raised_hands:"
            | "🔥"
            | ":fire:"
            | "✅"
            | ":white_check_mark:"
            | "✔"
            | ":heavy_check_mark:"
    )
}

/// Whether the community endorsed an answer in the conversation: a message by someone other
/// than the asker with one positive emoji put on it at least [`ENDORSING_REACTIONS`] times.
pub(super) fn endorsed(
    kept: &[&ConversationMessage],
    reactions: &[(MessageId, String, u32)],
) -> bool {
    let Some(first) = kept.first() else {
        return false;
    };
    kept.iter()
        .skip(1)
        .filter(|m| m.author != first.author)
        .any(|m| {
            reactions.iter().any(|(id, emoji, count)| {
                *id == m.id && is_positive_reaction(emoji) && *count >= ENDORSING_REACTIONS
            })
        })
}

/// Words (roughly: see [`rough_words`]) another member's reply needs to count as an answer:
/// "+1", "同问" or "me too" do not.
pub const ANSWER_WORDS: usize = 3;

/// Whether a conversation nobody vouched for is worth citing: its first message asks something
/// (a question mark, or a Chinese question word) and a member other than the asker replied
/// with at least [`ANSWER_WORDS`] words. Measured on the evaluation corpus: indexing every
/// two-member conversation let chatter ("happy friday", "+1") match off-topic questions, and
/// Steward answered them from it instead of saying it does not know.
pub(super) fn answered_question(kept: &[&ConversationMessage]) -> bool {
    let Some(first) = kept.first() else {
        return false;
    };
    asks_question(&first.text)
        && kept
            .iter()
            .skip(1)
            .any(|m| m.author != first.author && rough_words(&m.text) >= ANSWER_WORDS)
}
