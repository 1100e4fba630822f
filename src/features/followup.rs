//! Follow-ups: a member continues a conversation with Steward without mentioning it again, by
//! replying to its answer (or further down that reply chain) or by writing in a thread Steward
//! takes part in. The conversation's earlier turns come from the store — members' messages and
//! Steward's own, which every adapter delivers back and the router records — and go into the
//! chat request as user and assistant turns ([`crate::llm::ChatRequest::with_history`]), the
//! newest first within a token budget counted with the model's own tokenizer: the oldest turns
//! are dropped first, and the one turn that no longer fits whole is cut. Steward's sources lines
//! are left out of its earlier answers. A short follow-up ("and on Windows?") is retrieved
//! together with the member's previous turn ([`retrieval_query`]).

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;

use crate::core::{Language, Message, MessageId, UserId};
use crate::llm::{ChatMessage, ChatRole, Engine, LlmError};
use crate::store::{Store, StoreError, StoredMessage};
use crate::strings::Strings;
use crate::text::rough_words;

/// At most this many tokens of earlier turns go into a prompt...
pub const HISTORY_TOKENS: usize = 512;
/// ...and at most this fraction (1/n) of the model's context, when the engine knows it.
const CONTEXT_FRACTION: usize = 4;
/// A turn cut to fit keeps at least this many tokens, or is left out.
const MIN_CUT_TOKENS: usize = 16;
/// How many shorter cuts are tried before a turn is left out.
const CUT_TRIES: usize = 8;
/// How far up a reply chain the earlier turns are read.
pub const CHAIN_DEPTH: usize = 10;
/// How many of a thread's latest messages are read (besides the message it started from).
pub const THREAD_MESSAGES: usize = 20;
/// A follow-up of fewer words than this is retrieved together with the previous turn.
pub const SHORT_FOLLOW_UP_WORDS: usize = 6;

/// Counts tokens the way the model does.
#[async_trait]
pub trait TokenCounter: Send + Sync {
    async fn count(&self, text: &str) -> Result<usize, LlmError>;
}

/// The engine's own tokenizer ([`Engine::count_tokens`]).
#[async_trait]
impl TokenCounter for Arc<dyn Engine> {
    async fn count(&self, text: &str) -> Result<usize, LlmError> {
        self.count_tokens(text).await
    }
}

/// The token budget of earlier turns for a model with `context_tokens` of context.
pub fn budget(context_tokens: Option<usize>) -> usize {
    match context_tokens {
        Some(context) => HISTORY_TOKENS.min(context / CONTEXT_FRACTION),
        None => HISTORY_TOKENS,
    }
}

/// The earlier turns of the conversation `message` continues, oldest first, when Steward
/// (`own`) took part in it; empty otherwise (a new question, or members talking among
/// themselves).
///
/// In a thread: the message the thread started from (a Discord thread's starter message, a
/// Matrix thread's root: the message whose id is the thread's), then the thread's last
/// [`THREAD_MESSAGES`] messages before this one. Elsewhere: the reply chain above the message,
/// at most [`CHAIN_DEPTH`] messages up. Deleted messages are left out. Steward's messages are
/// assistant turns without their sources line; members' are user turns (`clean` removes the
/// bot's mention), prefixed with the author's name when someone other than the asker wrote
/// them.
pub async fn earlier_turns(
    store: &Store,
    own: &UserId,
    message: &Message,
    clean: &(dyn Fn(&str) -> String + Sync),
) -> Result<Vec<ChatMessage>, StoreError> {
    let earlier = earlier_messages(store, message).await?;
    if !earlier.iter().any(|m| &m.author == own) {
        return Ok(Vec::new());
    }
    let asker = &message.author.id;
    Ok(earlier.iter().map(|m| turn(m, own, asker, clean)).collect())
}

/// The recorded messages before `message` in its thread or reply chain, oldest first.
async fn earlier_messages(
    store: &Store,
    message: &Message,
) -> Result<Vec<StoredMessage>, StoreError> {
    let platform = message.location.platform;
    let mut earlier = Vec::new();
    if let Some(thread) = &message.location.thread {
        let limit = u32::try_from(THREAD_MESSAGES + 1).unwrap_or(u32::MAX);
        earlier = store
            .recent_messages(&message.location, limit)
            .await?
            .into_iter()
            .filter(|m| m.id != message.id && m.created_at <= message.created_at)
            .collect();
        if earlier.len() > THREAD_MESSAGES {
            earlier.drain(..earlier.len() - THREAD_MESSAGES);
        }
        let root = MessageId::new(thread.as_str());
        if root != message.id && !earlier.iter().any(|m| m.id == root) {
            let first = store.message(platform, &root).await?;
            if let Some(first) = first.filter(|m| !m.is_deleted()) {
                earlier.insert(0, first);
            }
        }
        return Ok(earlier);
    }
    // Counted in steps, deleted messages included: a forged chain can loop.
    let mut next = message.reply_to.clone();
    for _ in 0..CHAIN_DEPTH {
        let Some(id) = next.take() else {
            break;
        };
        let Some(parent) = store.message(platform, &id).await? else {
            break;
        };
        next = parent.reply_to.clone();
        if !parent.is_deleted() {
            earlier.push(parent);
        }
    }
    earlier.reverse();
    Ok(earlier)
}

/// One recorded message as a turn of the conversation.
fn turn(
    message: &StoredMessage,
    own: &UserId,
    asker: &UserId,
    clean: &(dyn Fn(&str) -> String + Sync),
) -> ChatMessage {
    if &message.author == own {
        return ChatMessage::assistant(without_sources(&message.text));
    }
    let text = clean(&message.text);
    let name = message.author_name.trim();
    if &message.author == asker || name.is_empty() {
        ChatMessage::user(text)
    } else {
        ChatMessage::user(format!("{name}: {text}"))
    }
}

/// An answer of Steward's without the sources line that closes it (in either language).
pub fn without_sources(answer: &str) -> String {
    let cut = [Language::English, Language::Chinese]
        .iter()
        .filter_map(|&language| {
            let header = Strings::new(language).sources_header();
            answer.rfind(&format!("\n\n{header}"))
        })
        .max();
    let kept = match cut {
        Some(at) => &answer[..at],
        None => answer,
    };
    kept.trim_end().to_string()
}

/// The earlier turns (oldest first) that fit in `budget` tokens as `counter` counts them:
/// the newest are kept first; the first turn that does not fit whole is cut to what is left
/// (its beginning, marked `…`) if at least a few tokens are, and every older turn is dropped.
pub async fn fit(
    counter: &dyn TokenCounter,
    earlier: Vec<ChatMessage>,
    budget: usize,
) -> Result<Vec<ChatMessage>, LlmError> {
    let mut kept = Vec::new();
    let mut left = budget;
    for turn in earlier.into_iter().rev() {
        let tokens = counter.count(&turn.content).await?;
        if tokens <= left {
            left -= tokens;
            kept.push(turn);
            continue;
        }
        if left >= MIN_CUT_TOKENS {
            if let Some(content) = cut(counter, &turn.content, tokens, left).await? {
                kept.push(ChatMessage {
                    role: turn.role,
                    content,
                });
            }
        }
        break;
    }
    kept.reverse();
    Ok(kept)
}

/// The beginning of `text` (`tokens` long) that fits in `budget` tokens, ending at a word
/// where one is near and marked `…`; `None` when nothing fits.
async fn cut(
    counter: &dyn TokenCounter,
    text: &str,
    tokens: usize,
    budget: usize,
) -> Result<Option<String>, LlmError> {
    // A first guess in proportion to the characters, then shorter until it fits.
    let mut keep = text.chars().count() * budget / tokens.max(1);
    for _ in 0..CUT_TRIES {
        let Some(candidate) = prefix(text, keep) else {
            return Ok(None);
        };
        let count = counter.count(&candidate).await?;
        if count <= budget {
            return Ok(Some(candidate));
        }
        keep = (keep * budget / count.max(1)).min(keep * 9 / 10);
    }
    Ok(None)
}

/// The first `chars` characters of `text` (back to the last white space when that keeps at
/// least half of them), with `…`; `None` when that leaves nothing.
fn prefix(text: &str, chars: usize) -> Option<String> {
    let end = text
        .char_indices()
        .nth(chars)
        .map_or(text.len(), |(at, _)| at);
    let mut head = &text[..end];
    if end < text.len() {
        if let Some(space) = head.rfind(char::is_whitespace) {
            if space >= end / 2 {
                head = &head[..space];
            }
        }
    }
    let head = head.trim_end();
    (!head.is_empty()).then(|| format!("{head}…"))
}

/// What sources are retrieved with for `question`: a short follow-up ("and on Windows?",
/// fewer than [`SHORT_FOLLOW_UP_WORDS`] words) gets the member's previous turn appended, so
/// retrieval finds what the conversation is about; anything longer is retrieved on its own.
pub fn retrieval_query<'a>(question: &'a str, earlier: &[ChatMessage]) -> Cow<'a, str> {
    if rough_words(question) >= SHORT_FOLLOW_UP_WORDS {
        return Cow::Borrowed(question);
    }
    match earlier
        .iter()
        .rev()
        .find(|turn| turn.role == ChatRole::User)
    {
        Some(previous) => Cow::Owned(format!("{} {}", question.trim(), previous.content)),
        None => Cow::Borrowed(question),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts words: enough to test the budget without a model.
    struct Words;

    #[async_trait]
    impl TokenCounter for Words {
        async fn count(&self, text: &str) -> Result<usize, LlmError> {
            Ok(text.split_whitespace().count())
        }
    }

    /// A counter that always fails, as an unreachable server would.
    struct Broken;

    #[async_trait]
    impl TokenCounter for Broken {
        async fn count(&self, _: &str) -> Result<usize, LlmError> {
            Err(LlmError::Unavailable("no server".into()))
        }
    }

    /// `n` words: "w1 w2 ... wn".
    fn words(n: usize) -> String {
        (1..=n)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn turns(sizes: &[usize]) -> Vec<ChatMessage> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let text = format!("turn{i} {}", words(n - 1));
                if i % 2 == 0 {
                    ChatMessage::user(text)
                } else {
                    ChatMessage::assistant(text)
                }
            })
            .collect()
    }

    fn firsts(kept: &[ChatMessage]) -> Vec<&str> {
        kept.iter()
            .map(|turn| turn.content.split(' ').next().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn everything_fits_under_the_budget() {
        let earlier = turns(&[10, 20, 10]);
        let kept = fit(&Words, earlier.clone(), 40).await.unwrap();
        assert_eq!(kept, earlier);
    }

    #[tokio::test]
    async fn the_oldest_turns_are_dropped_first() {
        // 4 turns of 10 words, 25 tokens: the newest two fit, 5 left is too few to cut into.
        let kept = fit(&Words, turns(&[10, 10, 10, 10]), 25).await.unwrap();
        assert_eq!(firsts(&kept), ["turn2", "turn3"]);
        assert_eq!(kept[0].role, ChatRole::User);
        assert_eq!(kept[1].role, ChatRole::Assistant);
    }

    #[tokio::test]
    async fn an_over_long_turn_is_cut_to_what_is_left() {
        // The newest (10) fits; the one before (100) is cut to the 30 left; the oldest goes.
        let kept = fit(&Words, turns(&[10, 100, 10]), 40).await.unwrap();
        assert_eq!(firsts(&kept), ["turn1", "turn2"]);
        let cut = &kept[0].content;
        assert!(cut.ends_with('…'), "{cut}");
        let count = cut.split_whitespace().count();
        assert!((MIN_CUT_TOKENS..=30).contains(&count), "{count}: {cut}");
        assert!(cut.starts_with("turn1 w1 w2 "), "{cut}");
        // A single turn longer than the whole budget is cut too.
        let kept = fit(&Words, turns(&[600]), 512).await.unwrap();
        assert_eq!(kept.len(), 1);
        assert!(kept[0].content.split_whitespace().count() <= 512);
    }

    #[tokio::test]
    async fn a_budget_too_small_to_cut_into_keeps_nothing_more() {
        let kept = fit(&Words, turns(&[100]), MIN_CUT_TOKENS - 1)
            .await
            .unwrap();
        assert!(kept.is_empty(), "{kept:?}");
        assert!(fit(&Words, Vec::new(), 512).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_counting_failure_is_an_error() {
        assert!(fit(&Broken, turns(&[3]), 512).await.is_err());
    }

    #[test]
    fn the_budget_is_at_most_a_quarter_of_the_context() {
        assert_eq!(budget(None), HISTORY_TOKENS);
        assert_eq!(budget(Some(8192)), HISTORY_TOKENS);
        assert_eq!(budget(Some(1024)), 256);
    }

    #[test]
    fn prefixes_end_at_a_word() {
        assert_eq!(prefix("alpha beta gamma", 8).as_deref(), Some("alpha…"));
        assert_eq!(prefix("alpha beta", 50).as_deref(), Some("alpha beta…"));
        assert_eq!(prefix("文档中的配置", 3).as_deref(), Some("文档中…"));
        assert_eq!(prefix("alpha", 0), None);
    }

    #[test]
    fn sources_lines_are_left_out_of_earlier_answers() {
        let cases = [
            (
                "Port 8428 [1].\n\nSources: [1] `en/install.md › Ports`",
                "Port 8428 [1].",
            ),
            (
                "端口是 8428 [1]。\n\n来源：[1] `zh/安装.md`",
                "端口是 8428 [1]。",
            ),
            ("No sources here.\n", "No sources here."),
            (
                "Sources: inline, not a closing line",
                "Sources: inline, not a closing line",
            ),
        ];
        for (answer, expected) in cases {
            assert_eq!(without_sources(answer), expected, "{answer}");
        }
    }

    #[test]
    fn short_follow_ups_are_retrieved_with_the_previous_question() {
        let earlier = vec![
            ChatMessage::user("How do I install Lumen on Linux?"),
            ChatMessage::assistant("Use the package [1]."),
        ];
        assert_eq!(
            retrieval_query("and on Windows?", &earlier),
            "and on Windows? How do I install Lumen on Linux?"
        );
        let full = "How do I rotate the relay signing keys?";
        assert_eq!(retrieval_query(full, &earlier), full);
        assert_eq!(retrieval_query("and on Windows?", &[]), "and on Windows?");
    }
}
