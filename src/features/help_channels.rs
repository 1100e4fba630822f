//! Help channels: in a channel whose moderators ran `setting answer_mode help` (a #help or
//! #ask channel, or a Discord forum), every new question or post is answered without a
//! mention, in a thread where the platform has threads, the way hosted documentation bots
//! answer in their #ask-ai channels. Which messages count ([`is_new_post`]) and the thread's
//! name are decided here; the router answers them like any question.
//!
//! The asker can opt out, in any channel, with a 🙅 (or ❌) reaction ([`opt_out`]): on
//! Steward's answer to their own message, which deletes the answer; or on their own message,
//! which deletes Steward's answers to it and withdraws it ([`Withdrawn`]): an answer still
//! being written then is not posted, or deleted as soon as it is. Steward does not wait
//! before answering, so a reaction that comes first is rare.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::core::{Action, Location, Message, MessageId, Platform, Reaction, UserId};
use crate::store::{Store, StoreError};
use crate::text::rough_words;

/// How many withdrawn messages [`Withdrawn`] remembers: an answer is written within seconds,
/// so only the last few matter.
const WITHDRAWN_REMEMBERED: usize = 256;

/// A message of fewer words than this is not a question ("thanks!", "hi all").
pub const MIN_WORDS: usize = 3;
/// A thread opened for an answer is named after the question's first line, at most this long.
const THREAD_NAME_CHARS: usize = 80;

/// Whether a member's `message` in a help channel is a new question or post to answer: not a
/// reply (to anyone), either not in a thread or the first message of its thread (a Discord
/// forum post, whose thread's id is its first message's), not a command (`prefix`), and at
/// least [`MIN_WORDS`] words. Bots' messages never reach this (the router answers no bot).
pub fn is_new_post(message: &Message, prefix: &str) -> bool {
    let text = message.text.trim();
    let prefix = prefix.trim();
    let opens = match &message.location.thread {
        None => true,
        Some(thread) => thread.as_str() == message.id.as_str(),
    };
    let command = !prefix.is_empty() && text.starts_with(prefix);
    opens && message.reply_to.is_none() && !command && rough_words(text) >= MIN_WORDS
}

/// The name of the thread an answer to `question` opens: its first line, shortened at a word
/// to at most 80 characters (the adapter applies the platform's own limit too).
pub fn thread_name(question: &str) -> String {
    let line = question
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let line = line.trim();
    if line.chars().count() <= THREAD_NAME_CHARS {
        return line.to_string();
    }
    let end = line
        .char_indices()
        .nth(THREAD_NAME_CHARS - 1)
        .map_or(line.len(), |(at, _)| at);
    let head = &line[..end];
    let head = match head.rfind(char::is_whitespace) {
        Some(space) if space >= end / 2 => &head[..space],
        _ => head,
    };
    format!("{}…", head.trim_end())
}

/// Whether `emoji` takes an answer back: 🙅 (any gender, any skin tone) or ❌; Matrix clients
/// may send the shortcodes.
pub fn is_opt_out(emoji: &str) -> bool {
    let bare: String = emoji
        .trim()
        .chars()
        .filter(|&c| {
            !matches!(
                c,
                '\u{FE0E}' | '\u{FE0F}' | '\u{200D}' | '\u{2640}' | '\u{2642}' | '\u{1F3FB}'
                    ..='\u{1F3FF}'
            )
        })
        .collect();
    matches!(
        bare.as_str(),
        "🙅" | "❌" | ":no_good:" | ":x:" | ":no_good_man:" | ":no_good_woman:"
    )
}

/// The messages whose authors opted them out of an answer, most recent last (at most
/// [`WITHDRAWN_REMEMBERED`]): the router posts no answer to them, and deletes Steward's own
/// answer to one as soon as it sees it posted.
#[derive(Debug, Default)]
pub struct Withdrawn {
    recent: Mutex<VecDeque<(Platform, MessageId)>>,
}

impl Withdrawn {
    /// Remembers that `message`'s author withdrew it.
    pub fn add(&self, platform: Platform, message: &MessageId) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.iter().any(|(p, m)| *p == platform && m == message) {
            return;
        }
        if recent.len() >= WITHDRAWN_REMEMBERED {
            recent.pop_front();
        }
        recent.push_back((platform, message.clone()));
    }

    /// Whether `message` was withdrawn by its author.
    pub fn contains(&self, platform: Platform, message: &MessageId) -> bool {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.iter().any(|(p, m)| *p == platform && m == message)
    }
}

/// The message an answer answers: the one it replies to, else the message its thread started
/// from (a thread's id is its first message's).
pub fn answered_message(answer: &Message) -> Option<MessageId> {
    answered(answer.reply_to.as_ref(), &answer.location)
}

/// [`answered_message`] of an answer replying to `reply_to`, posted at `location`.
fn answered(reply_to: Option<&MessageId>, location: &Location) -> Option<MessageId> {
    reply_to.cloned().or_else(|| {
        location
            .thread
            .as_ref()
            .map(|thread| MessageId::new(thread.as_str()))
    })
}

/// What an opt-out ([`is_opt_out`]) `reaction` by a member takes back, as deletions of
/// Steward's (`own`) messages: on Steward's answer to the member's own message, that answer;
/// on the member's own message, every answer Steward posted to it, and the message joins
/// `withdrawn` so an answer still being written goes too. Anything else: nothing.
pub async fn opt_out(
    store: &Store,
    own: Option<&UserId>,
    withdrawn: &Withdrawn,
    reaction: &Reaction,
) -> Result<Vec<Action>, StoreError> {
    let Some(own) = own.filter(|own| *own != &reaction.user) else {
        return Ok(Vec::new());
    };
    if !is_opt_out(&reaction.emoji) {
        return Ok(Vec::new());
    }
    let platform = reaction.location.platform;
    let reacted = store.message(platform, &reaction.message).await?;
    let Some(reacted) = reacted.filter(|m| !m.is_deleted()) else {
        return Ok(Vec::new());
    };
    if reacted.author == reaction.user {
        withdrawn.add(platform, &reacted.id);
        let answers = store.answers_to(platform, &reacted.id, own).await?;
        return Ok(answers
            .into_iter()
            .map(|answer| take_back(answer.location, answer.id))
            .collect());
    }
    if &reacted.author != own {
        return Ok(Vec::new());
    }
    let Some(asked) = answered(reacted.reply_to.as_ref(), &reacted.location) else {
        return Ok(Vec::new());
    };
    let question = store.message(platform, &asked).await?;
    if question.is_none_or(|q| q.author != reaction.user) {
        return Ok(Vec::new());
    }
    Ok(vec![take_back(reacted.location, reacted.id)])
}

/// The deletion of Steward's answer `message` that its asker took back.
pub fn take_back(location: Location, message: MessageId) -> Action {
    Action::DeleteMessage {
        location,
        message,
        reason: "the member it answered took it back".to_string(),
        decided_by: None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::core::{Author, ChannelId, CommunityId, Location, Platform, Role, ThreadId};

    fn message(id: &str, text: &str, thread: Option<&str>, reply_to: Option<&str>) -> Message {
        Message {
            id: MessageId::new(id),
            location: Location {
                platform: Platform::Discord,
                community: CommunityId::new("g"),
                channel: ChannelId::new("help"),
                thread: thread.map(ThreadId::new),
            },
            author: Author {
                id: UserId::new("ana"),
                display_name: "Ana".into(),
                role: Role::Member,
                is_bot: false,
            },
            text: text.into(),
            created_at: SystemTime::now(),
            reply_to: reply_to.map(MessageId::new),
            mentions_bot: false,
            replies_to_bot: false,
        }
    }

    #[test]
    fn which_posts_are_new_questions() {
        let question = "How do I rotate the relay keys?";
        let cases = [
            (
                "a top-level question",
                message("1", question, None, None),
                true,
            ),
            (
                "a forum post",
                message("7", question, Some("7"), None),
                true,
            ),
            (
                "in someone's thread",
                message("8", question, Some("7"), None),
                false,
            ),
            (
                "a reply to a member",
                message("9", question, None, Some("1")),
                false,
            ),
            ("too short", message("10", "thanks all!", None, None), false),
            (
                "a command",
                message("11", "/ask how does it work", None, None),
                false,
            ),
            (
                "chinese",
                message("12", "如何轮换中继密钥？", None, None),
                true,
            ),
        ];
        for (name, message, expected) in cases {
            assert_eq!(is_new_post(&message, "/"), expected, "{name}");
        }
    }

    #[test]
    fn threads_are_named_after_the_question() {
        assert_eq!(
            thread_name("  How do I pin a crate?\nMore text"),
            "How do I pin a crate?"
        );
        let long = "word ".repeat(40);
        let name = thread_name(&long);
        assert!(name.ends_with("word…"), "{name}");
        assert!(name.chars().count() <= THREAD_NAME_CHARS, "{name}");
        let chinese = "问".repeat(100);
        assert_eq!(thread_name(&chinese).chars().count(), THREAD_NAME_CHARS);
    }

    #[test]
    fn opt_out_emoji() {
        for emoji in [
            "🙅",
            "🙅\u{200D}\u{2642}\u{FE0F}",
            "🙅🏽\u{200D}\u{2640}\u{FE0F}",
            "❌",
            ":no_good:",
        ] {
            assert!(is_opt_out(emoji), "{emoji}");
        }
        for emoji in ["👍", "✅", "🚩", "no"] {
            assert!(!is_opt_out(emoji), "{emoji}");
        }
    }
}
