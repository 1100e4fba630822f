//! The insights loop of `steward run` and `steward console`: every five minutes, the
//! moderators' alerts of every community of the served platforms
//! ([`crate::features::insight_alerts`]), then the weekly digests that are due
//! ([`crate::features::digest`]), handed to the outbox for the adapters to post. A failure is
//! logged and tried again next round; each alert and digest is claimed in the store, so a
//! restart or a second process never posts one twice.
//!
//! A platform joins the rounds once its adapter has registered its facts (links, message
//! length); the first round waits a minute for the adapters to start.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::community::Router;
use crate::core::{Action, Platform};
use crate::features::digest::{run_due, Served};
use crate::features::insight_alerts::check;
use crate::features::report::Scope;
use crate::features::CommunitySettings;
use crate::strings::Strings;

/// How often alerts and digests are looked at.
const ROUND: Duration = Duration::from_secs(5 * 60);
/// The first round leaves the adapters time to connect and register.
const FIRST_ROUND_AFTER: Duration = Duration::from_secs(60);

/// Starts the loop for `platforms` (those this process serves).
pub fn spawn(
    router: Arc<Router>,
    platforms: Vec<Platform>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut wait = FIRST_ROUND_AFTER;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            wait = ROUND;
            // A round stops at shutdown; what it claimed and delivered so far stays.
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = round(&router, &platforms, SystemTime::now()) => {}
            }
        }
    })
}

/// One round: alerts, then digests, delivered through the outbox.
async fn round(router: &Router, platforms: &[Platform], now: SystemTime) {
    let served: Vec<Served> = platforms
        .iter()
        .filter_map(|&platform| {
            let capabilities = router.registered_capabilities(platform)?;
            Some(Served {
                platform,
                capabilities,
                steward: router.own_user(platform),
            })
        })
        .collect();
    let mut actions = alerts(router, &served, now).await;
    match run_due(router.reports(), &served, router.settings().language, now).await {
        Ok(digests) => {
            if !digests.is_empty() {
                tracing::info!(digests = digests.len(), "posting weekly digests");
            }
            actions.extend(digests);
        }
        Err(error) => {
            tracing::warn!(label = error.label(), %error, "looking for due digests failed; retrying next round");
        }
    }
    for action in actions {
        router.outbox().deliver(action).await;
    }
}

/// The new alerts of every community of the `served` platforms.
async fn alerts(router: &Router, served: &[Served], now: SystemTime) -> Vec<Action> {
    let reports = router.reports();
    let settings = reports.settings();
    if !settings.alerts {
        return Vec::new();
    }
    let store = reports.store();
    let communities = match store.communities().await {
        Ok(communities) => communities,
        Err(error) => {
            tracing::warn!(label = error.label(), %error, "listing communities for alerts failed");
            return Vec::new();
        }
    };
    let mut actions = Vec::new();
    for place in served {
        let here = communities
            .iter()
            .filter(|(platform, _)| *platform == place.platform);
        for (_, community) in here {
            let values = match store.settings(place.platform, community).await {
                Ok(values) => values,
                Err(error) => {
                    tracing::warn!(label = error.label(), %error, %community, "reading settings for alerts failed");
                    continue;
                }
            };
            let community_settings = CommunitySettings::new(values);
            let language = community_settings.language(router.settings().language);
            let scope = Scope {
                platform: place.platform,
                community,
                channel: None,
                strings: Strings::new(language),
                capabilities: place.capabilities.as_ref(),
                digest: false,
                // Alerts go to the moderators' channel.
                quote_only_from: None,
            };
            let mod_log = community_settings.mod_log();
            let steward = place.steward.as_ref();
            match check(store, &scope, mod_log, settings, steward, now).await {
                Ok(found) => actions.extend(found),
                Err(error) => {
                    tracing::warn!(label = error.label(), %error, %community, "checking for alerts failed");
                }
            }
        }
    }
    actions
}
