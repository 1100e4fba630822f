//! Retention: message text older than the effective retention is purged, community by
//! community, and their indexed conversations are indexed again (purged messages drop out; a
//! conversation with nothing left is removed). Closed cases lose their excerpt
//! `retain_cases_days` after their decision. `steward run` and `steward console` run
//! [`purge_all`] at start and every hour; `steward privacy purge` runs it once.

use std::time::SystemTime;

use super::forget::days_before;
use crate::config::PrivacySettings;
use crate::core::{CommunityId, Platform};
use crate::features::CommunitySettings;
use crate::knowledge::conversations::{ConversationIndex, ConversationKey};
use crate::store::{Purged, Store, StoreError};

/// The retention of message text in a community, in days: the configured one, or the
/// community's own when it is shorter (a longer one is refused when set, and ignored here if
/// the configuration was shortened since). `None`: kept.
pub fn effective_retention(configured: Option<u32>, community: Option<u32>) -> Option<u32> {
    match (configured, community) {
        (Some(configured), Some(own)) => Some(configured.min(own)),
        (configured, own) => configured.or(own),
    }
}

/// What a purge did in one community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityPurge {
    pub platform: Platform,
    pub community: CommunityId,
    /// The effective retention applied; `None`: message text is kept (only cases aged).
    pub retain_messages_days: Option<u32>,
    pub purged: Purged,
    /// Conversations indexed again.
    pub reindexed: usize,
}

/// What [`purge_all`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub communities: Vec<CommunityPurge>,
    /// Communities whose purge failed (logged; tried again next time).
    pub failed: usize,
}

impl PurgeReport {
    /// The counts summed over every community.
    pub fn total(&self) -> Purged {
        let mut total = Purged::default();
        for purge in &self.communities {
            let p = &purge.purged;
            total.messages += p.messages;
            total.edits += p.edits;
            total.gaps += p.gaps;
            total.jobs += p.jobs;
            total.case_excerpts += p.case_excerpts;
        }
        total
    }

    /// One line per community, for the command line.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for c in &self.communities {
            let kept = c
                .retain_messages_days
                .map_or("message text kept".to_string(), |days| {
                    format!("{days} days")
                });
            let p = &c.purged;
            text.push_str(&format!(
                "{}:{} ({kept}): {} messages, {} edits, {} unanswered questions, {} jobs, \
                 {} case excerpts purged; {} conversations re-indexed\n",
                c.platform.as_str(),
                c.community,
                p.messages,
                p.edits,
                p.gaps,
                p.jobs,
                p.case_excerpts,
                c.reindexed
            ));
        }
        if self.communities.is_empty() {
            text.push_str("no communities recorded yet\n");
        }
        if self.failed > 0 {
            text.push_str(&format!(
                "{} communities failed (see the log)\n",
                self.failed
            ));
        }
        text
    }
}

/// Purges every community Steward has a row for, as of `now`. A community whose purge fails
/// is logged and counted; the others go on.
pub async fn purge_all(
    store: &Store,
    index: &ConversationIndex,
    settings: &PrivacySettings,
    now: SystemTime,
) -> Result<PurgeReport, StoreError> {
    let mut report = PurgeReport::default();
    for (platform, community) in store.communities().await? {
        match purge_one(store, index, settings, (platform, &community), now).await {
            Ok(purge) => report.communities.push(purge),
            Err(error) => {
                tracing::error!(label = error.label(), %error, %platform, %community, "purging old data failed");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

async fn purge_one(
    store: &Store,
    index: &ConversationIndex,
    settings: &PrivacySettings,
    (platform, community): (Platform, &CommunityId),
    now: SystemTime,
) -> Result<CommunityPurge, StoreError> {
    let own = CommunitySettings::new(store.settings(platform, community).await?);
    let days = effective_retention(settings.retain_messages_days, own.retain_messages_days());
    // Without a retention no message is old enough.
    let messages_before = days.map_or(SystemTime::UNIX_EPOCH, |days| days_before(now, days));
    let cases_before = days_before(now, settings.retain_cases_days);
    let purged = store
        .purge_before(platform, community, messages_before, cases_before)
        .await?;
    let mut reindexed = 0;
    // Every indexed conversation, not only those with purged messages: a purge interrupted
    // before its re-indexing is completed by the next one.
    if days.is_some() {
        for (channel, root) in store.kb_conversation_roots(platform, community).await? {
            let key = ConversationKey {
                platform,
                community: community.clone(),
                channel,
                root,
            };
            match index.index(&key, now).await {
                Ok(_) => reindexed += 1,
                Err(error) => {
                    tracing::error!(label = error.label(), %error, path = %key.path(), "re-indexing a conversation after a purge failed");
                }
            }
        }
    }
    Ok(CommunityPurge {
        platform,
        community: community.clone(),
        retain_messages_days: days,
        purged,
        reindexed,
    })
}

#[cfg(test)]
mod tests {
    use super::effective_retention;

    #[test]
    fn the_shorter_retention_wins() {
        let cases = [
            (None, None, None),
            (Some(365), None, Some(365)),
            (None, Some(30), Some(30)),
            (Some(365), Some(30), Some(30)),
            // The configuration was shortened after the community chose.
            (Some(7), Some(30), Some(7)),
        ];
        for (configured, own, expected) in cases {
            assert_eq!(
                effective_retention(configured, own),
                expected,
                "{configured:?} {own:?}"
            );
        }
    }
}
