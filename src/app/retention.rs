//! Retention while the bot runs: [`crate::features::privacy::retention::purge_all`] at start
//! and then every hour, until shutdown. A failure is logged and tried again next round; the
//! counts of each round that purged something are logged.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::features::privacy::retention::purge_all;
use crate::features::privacy::Privacy;

/// How often old data is purged.
const ROUND: Duration = Duration::from_secs(60 * 60);

/// Starts the retention loop.
pub fn spawn(privacy: Arc<Privacy>, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let purge = purge_all(
                privacy.store(),
                privacy.index(),
                privacy.settings(),
                SystemTime::now(),
            );
            // A long purge stops at shutdown; what it did so far is committed.
            let result = tokio::select! {
                () = shutdown.cancelled() => return,
                result = purge => result,
            };
            match result {
                Ok(report) => {
                    let total = report.total();
                    let purged = total.messages
                        + total.edits
                        + total.gaps
                        + total.jobs
                        + total.case_excerpts;
                    if purged > 0 || report.failed > 0 {
                        tracing::info!(
                            communities = report.communities.len(),
                            failed = report.failed,
                            messages = total.messages,
                            edits = total.edits,
                            gaps = total.gaps,
                            jobs = total.jobs,
                            case_excerpts = total.case_excerpts,
                            "purged data older than the retention"
                        );
                    }
                }
                Err(error) => {
                    tracing::warn!(label = error.label(), %error, "purging old data failed; retrying later");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(ROUND) => {}
            }
        }
    })
}
