//! The questions of a window and what became of each (who answered first, who replied first
//! among humans, and when), shared by [`compute`](super::compute) and
//! [`buckets`](super::buckets) so both count the same way.

use std::collections::HashMap;
use std::time::Duration;

use super::{Answerer, Inputs, Window};
use crate::core::UserId;
use crate::insights::questions::is_question;
use crate::store::WindowMessage;

/// What became of one question by `now`.
pub(super) struct Outcome<'a> {
    pub question: &'a WindowMessage,
    /// Who answered first; None when nobody did.
    pub answerer: Option<Answerer>,
    /// The first reply by a human: its author and its delay after the question.
    pub first_human: Option<(&'a UserId, Duration)>,
}

/// The messages up to `now`, oldest first (a stable sort: equal times keep the store's order).
pub(super) fn sorted<'a>(inputs: &Inputs<'a>) -> Vec<&'a WindowMessage> {
    let mut messages: Vec<&'a WindowMessage> = inputs
        .messages
        .iter()
        .filter(|message| message.created_at <= inputs.now)
        .collect();
    messages.sort_by_key(|message| message.created_at);
    messages
}

/// A person's message: neither Steward's nor another bot's.
pub(super) fn is_human(message: &WindowMessage, steward: Option<&UserId>) -> bool {
    !message.author_is_bot && steward != Some(&message.author)
}

/// Sentiment counts of messages.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tone {
    pub positive: u64,
    pub neutral: u64,
    pub negative: u64,
}

impl Tone {
    /// Counts `message`'s label; a deleted message's tone is not reported (its words are gone).
    pub fn add(&mut self, message: &WindowMessage) {
        if message.deleted {
            return;
        }
        match message.sentiment.as_ref().map(|(label, _)| label.as_str()) {
            Some("positive") => self.positive += 1,
            Some("neutral") => self.neutral += 1,
            Some("negative") => self.negative += 1,
            _ => {}
        }
    }

    /// Messages with one of the three labels.
    pub fn scored(&self) -> u64 {
        self.positive + self.neutral + self.negative
    }
}

/// Every question of `window` among `messages` (sorted by [`sorted`]), oldest first, with what
/// became of it.
pub(super) fn outcomes<'a>(
    window: Window,
    inputs: &Inputs<'a>,
    messages: &[&'a WindowMessage],
) -> Vec<Outcome<'a>> {
    // Positions (in time order) of the messages replying to an id, and of those in a thread:
    // a question's candidates are looked up instead of scanning every later message.
    let mut replies: HashMap<&'a str, Vec<usize>> = HashMap::new();
    let mut threads: HashMap<&'a str, Vec<usize>> = HashMap::new();
    for (position, &message) in messages.iter().enumerate() {
        if let Some(parent) = &message.reply_to {
            replies.entry(parent.as_str()).or_default().push(position);
        }
        if let Some(thread) = &message.location.thread {
            threads.entry(thread.as_str()).or_default().push(position);
        }
    }
    let steward = inputs.steward;
    let mut outcomes = Vec::new();
    for (position, &question) in messages.iter().enumerate() {
        if !window.contains(question.created_at)
            || !is_human(question, steward)
            || question.deleted
            || !is_question(&question.text)
        {
            continue;
        }
        // Replies to it, messages in the thread it started, messages in the thread it is in.
        let lists = [
            replies.get(question.message.as_str()),
            threads.get(question.message.as_str()),
            question
                .location
                .thread
                .as_ref()
                .and_then(|thread| threads.get(thread.as_str())),
        ];
        let mut later: Vec<usize> = Vec::new();
        for list in lists.into_iter().flatten() {
            let after = list.partition_point(|&other| other <= position);
            later.extend(list.iter().skip(after));
        }
        later.sort_unstable();
        later.dedup();
        let mut outcome = Outcome {
            question,
            answerer: None,
            first_human: None,
        };
        for reply in later.into_iter().filter_map(|at| messages.get(at).copied()) {
            if reply.deleted || reply.author == question.author {
                continue;
            }
            let by_steward = steward == Some(&reply.author);
            if reply.author_is_bot && !by_steward {
                continue;
            }
            if outcome.answerer.is_none() {
                outcome.answerer = Some(if by_steward {
                    Answerer::Steward
                } else if reply.author_role.is_some_and(|role| role.can_moderate()) {
                    Answerer::Moderator
                } else {
                    Answerer::Member
                });
            }
            if !by_steward {
                let delay = reply
                    .created_at
                    .duration_since(question.created_at)
                    .unwrap_or_default();
                outcome.first_human = Some((&reply.author, delay));
                break;
            }
        }
        outcomes.push(outcome);
    }
    outcomes
}
