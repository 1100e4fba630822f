//! Keeping passage vectors current while the bot runs: every few seconds, the passages
//! without a vector for the embedding model (documents added by `steward kb add` from another
//! process, a changed embedding model) are embedded, until shutdown.
//!
//! The check is one indexed query when nothing is missing. A failure is logged and tried
//! again on the next round; retrieval stays lexical for passages without vectors meanwhile.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::knowledge::vectors;
use crate::llm::Embedder;
use crate::store::Store;

/// How often the store is checked for passages without vectors.
const ROUND: Duration = Duration::from_secs(15);

/// Starts the background embedding loop.
pub fn spawn(
    store: Arc<Store>,
    embedder: Arc<dyn Embedder>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match vectors::embed_missing(&store, embedder.as_ref(), |_| {}).await {
                Ok(0) => {}
                Ok(embedded) => {
                    tracing::info!(embedded, model = %embedder.model(), "embedded new passages")
                }
                Err(error) => {
                    tracing::warn!(%error, "embedding new passages failed; retrying later")
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(ROUND) => {}
            }
        }
    })
}
