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
use crate::features::digest::{run_due, served_communities, Served, ServedCommunity};
use crate::features::insight_alerts::check;
use crate::features::report::Scope;
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
    // One listing of the communities and one settings read each, for alerts and digests.
    let communities = match served_communities(router.reports().store(), &served).await {
        Ok(communities) => communities,
        Err(error) => {
            tracing::warn!(label = error.label(), %error, "listing communities for alerts and digests failed; retrying next round");
            return;
        }
    };
    let mut actions = alerts(router, &communities, now).await;
    let digests = run_due(
        router.reports(),
        &communities,
        router.settings().language,
        now,
    )
    .await;
    if !digests.is_empty() {
        tracing::info!(digests = digests.len(), "posting weekly digests");
    }
    actions.extend(digests);
    for action in actions {
        router.outbox().deliver(action).await;
    }
}

/// The new alerts of `communities`.
async fn alerts(
    router: &Router,
    communities: &[ServedCommunity<'_>],
    now: SystemTime,
) -> Vec<Action> {
    let reports = router.reports();
    let settings = reports.settings();
    if !settings.alerts {
        return Vec::new();
    }
    let store = reports.store();
    let mut actions = Vec::new();
    for served in communities {
        let (place, community) = (served.place, &served.community);
        let language = served.settings.language(router.settings().language);
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
        let mod_log = served.settings.mod_log();
        let steward = place.steward.as_ref();
        match check(store, &scope, mod_log, settings, steward, now).await {
            Ok(found) => actions.extend(found),
            Err(error) => {
                tracing::warn!(label = error.label(), %error, %community, "checking for alerts failed");
            }
        }
    }
    actions
}
