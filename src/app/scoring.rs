//! Sentiment scoring while the bot runs: rounds of [`score_pending`] back to back while
//! messages wait (so a backfill of an existing history proceeds at the engine's pace), then a
//! pause of `scoring_interval`, until shutdown. A failed round is logged and tried again after
//! the pause; shutdown stops a round in the middle (what it saved so far stays saved, a model
//! request in flight is dropped, which cancels its generation).

use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, InsightsSettings, SentimentModel};
use crate::insights::scoring::score_pending;
use crate::llm::Engine;
use crate::prompts::Prompts;
use crate::sentiment::ModelClassifier;
use crate::store::Store;

/// Messages per round: small enough that a round's transaction is short and shutdown waits
/// for little, large enough that a backfill is not dominated by queries.
pub const ROUND_LIMIT: u32 = 256;

/// The model stage as `[insights] sentiment_model` asks: `None` when it is off.
pub fn classifier(config: &Config, engine: &Arc<dyn Engine>) -> Option<ModelClassifier> {
    (config.insights.sentiment_model != SentimentModel::Off).then(|| {
        ModelClassifier::new(
            engine.clone(),
            Arc::new(Prompts::builtin()),
            config.model.request_timeout,
        )
    })
}

/// Starts the scoring loop. Without `classifier` the lexical stage decides alone.
pub fn spawn(
    store: Store,
    classifier: Option<ModelClassifier>,
    settings: InsightsSettings,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            // Rounds back to back while full rounds come back: a backfill.
            loop {
                let round = score_pending(
                    &store,
                    classifier.as_ref(),
                    settings.sentiment_model,
                    settings.sentiment_batch,
                    ROUND_LIMIT,
                );
                let result = tokio::select! {
                    () = shutdown.cancelled() => return,
                    result = round => result,
                };
                match result {
                    Ok(round) => {
                        if round.read() > 0 {
                            tracing::debug!(
                                scored = round.scored,
                                by_model = round.by_model,
                                skipped = round.skipped,
                                "scored message sentiment"
                            );
                        }
                        // A round that wrote nothing cannot make progress by repeating.
                        if round.scored == 0 || round.read() < u64::from(ROUND_LIMIT) {
                            break;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(label = error.label(), %error, "scoring message sentiment failed; retrying later");
                        break;
                    }
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(settings.scoring_interval) => {}
            }
        }
    })
}
