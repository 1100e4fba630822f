//! Sentiment for every stored message, one round at a time.
//!
//! A round reads up to `limit` messages that have no sentiment yet (members' messages with
//! text, oldest first: `Store::unscored_messages`), scores each with the lexical stage, asks
//! the model about the ones the mode names (the lexical stage's unsure ones, or all) in
//! batches, and saves every result in one transaction. Model requests are background work
//! ([`ModelClassifier`] sends them at [`crate::llm::Priority::Background`]), so members'
//! questions are served first. A model request that fails (engine overloaded, deadline, shut
//! down) logs one warning and the round keeps the lexical results of the messages it has not
//! asked about yet: they are stored, not retried, so a broken model never stalls scoring. A
//! request that gave way to a member's question (the in-process CPU engine preempts background
//! work, `LlmError::Preempted`) defers its messages and the round's later ones to the next
//! round instead. A message deleted or forgotten while the round ran is skipped by the store,
//! never scored.

use std::time::SystemTime;

use crate::config::SentimentModel;
use crate::llm::LlmError;
use crate::sentiment::{
    lexical, LexicalScore, ModelClassifier, Sentiment, SentimentError, Stage, MAX_BATCH,
};
use crate::store::{MessageSentiment, Store, StoreError, UnscoredMessage};

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScoringRound {
    /// Scores written.
    pub scored: u64,
    /// Of the messages read, how many the model labelled (the others kept the lexical result).
    pub by_model: u64,
    /// Messages read but not scored: deleted or forgotten while the round ran.
    pub skipped: u64,
}

impl ScoringRound {
    /// How many messages the round read.
    pub fn read(&self) -> u64 {
        self.scored + self.skipped
    }
}

/// Scores up to `limit` unscored messages: the lexical stage for all, then `model` (when
/// given and `mode` is not [`SentimentModel::Off`]) for the unsure ones or all, `batch` (clamped
/// to 1..=[`MAX_BATCH`]) per request. Only a store error is an error.
pub async fn score_pending(
    store: &Store,
    model: Option<&ModelClassifier>,
    mode: SentimentModel,
    batch: usize,
    limit: u32,
) -> Result<ScoringRound, StoreError> {
    let pending = store.unscored_messages(None, limit).await?;
    if pending.is_empty() {
        return Ok(ScoringRound::default());
    }
    let lexical_scores: Vec<LexicalScore> = pending.iter().map(|m| lexical(&m.text)).collect();
    let mut results: Vec<Sentiment> = lexical_scores.iter().map(|s| s.sentiment()).collect();
    let asked = to_ask(&lexical_scores, mode);
    let (by_model, deferred) = match model {
        Some(model) if !asked.is_empty() => {
            ask_model(model, &pending, &asked, batch, &mut results).await
        }
        _ => (0, Vec::new()),
    };
    let rows: Vec<MessageSentiment> = pending
        .iter()
        .zip(&results)
        .enumerate()
        .filter(|(index, _)| !deferred.contains(index))
        .map(|(_, (message, sentiment))| MessageSentiment {
            platform: message.platform,
            message: message.message.clone(),
            label: sentiment.label.as_str(),
            score: sentiment.score,
            stage: sentiment.stage.as_str(),
        })
        .collect();
    let scored = store.save_sentiments(&rows, SystemTime::now()).await?;
    Ok(ScoringRound {
        scored,
        by_model,
        skipped: (rows.len() as u64).saturating_sub(scored),
    })
}

/// The indexes of the messages the model should label in `mode`.
pub fn to_ask(scores: &[LexicalScore], mode: SentimentModel) -> Vec<usize> {
    match mode {
        SentimentModel::Off => Vec::new(),
        SentimentModel::Unsure => (0..scores.len())
            .filter(|&i| scores[i].is_unsure())
            .collect(),
        SentimentModel::All => (0..scores.len()).collect(),
    }
}

/// Asks the model about `asked` (indexes into `pending`), `batch` per request, one request
/// after another (the engine runs background work one generation at a time anyway), and puts
/// its answers into `results`. Stops at the first failed request. Returns how many messages
/// the model labelled, and the messages deferred to a later round: those of a request that
/// gave way to a member's question (`LlmError::Preempted`) and every later one, so they are
/// not stored with only their lexical result while the model would label them.
async fn ask_model(
    model: &ModelClassifier,
    pending: &[UnscoredMessage],
    asked: &[usize],
    batch: usize,
    results: &mut [Sentiment],
) -> (u64, Vec<usize>) {
    let size = batch.clamp(1, MAX_BATCH);
    let mut labelled = 0;
    for (number, chunk) in asked.chunks(size).enumerate() {
        let texts: Vec<&str> = chunk.iter().map(|&i| pending[i].text.as_str()).collect();
        match model.classify_batch(&texts).await {
            Ok(outcome) => {
                for (&index, sentiment) in chunk.iter().zip(outcome.sentiments) {
                    if sentiment.stage == Stage::Model {
                        labelled += 1;
                    }
                    results[index] = sentiment;
                }
            }
            Err(SentimentError::Model(LlmError::Preempted)) => {
                tracing::debug!(
                    deferred = asked.len().saturating_sub(number * size),
                    "sentiment scoring gave way to a member's question"
                );
                return (labelled, asked[number * size..].to_vec());
            }
            Err(error) => {
                // The next request would most likely fail the same way (overloaded, shut
                // down); the rest of the round keeps the lexical results.
                tracing::warn!(
                    %error,
                    label = error.label(),
                    unasked = asked.len().saturating_sub(number * size),
                    "the sentiment model failed; the round keeps the lexical results"
                );
                break;
            }
        }
    }
    (labelled, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_decides_which_messages_the_model_sees() {
        let texts = [
            "Thanks so much, this is amazing!",
            "How do I configure the runtime",
            "这个工具太垃圾了",
            "the query is a bit slow",
        ];
        let scores: Vec<LexicalScore> = texts.into_iter().map(lexical).collect();
        assert_eq!(to_ask(&scores, SentimentModel::Off), Vec::<usize>::new());
        assert_eq!(to_ask(&scores, SentimentModel::Unsure), [1, 3]);
        assert_eq!(to_ask(&scores, SentimentModel::All), [0, 1, 2, 3]);
    }

    #[test]
    fn a_round_counts_what_it_read() {
        let round = ScoringRound {
            scored: 5,
            by_model: 2,
            skipped: 1,
        };
        assert_eq!(round.read(), 6);
    }
}
