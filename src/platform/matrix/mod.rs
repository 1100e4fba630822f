//! The Matrix adapter (matrix-sdk): Matrix rooms become channels of core communities.
//!
//! Start-up follows matrix-rust-sdk's `persist_session` example: restore the saved session (or
//! log in once and save it), run one sync *before* any handler is registered so that history is
//! never answered as new, then register handlers and keep syncing from the persisted token.
//! Messages that first sync of a restart brought (posted while Steward was stopped) are handed
//! to the router once as missed messages, and its redactions are applied (`catch_up`). Handlers only queue work; a worker runs
//! each event through the [`Router`] and executes the actions, so a long answer never stalls
//! the sync loop (and with it, E2EE key delivery).
//!
//! Module map: `session` (login, persistence), `store_key` (the stores' passphrase), `rules`,
//! `mentions` and `conversion` (pure decisions and Matrix -> core events), `handlers` (sync
//! handlers and the worker), `rooms` (invites, kicks, roles), `spaces` (which community a room
//! belongs to), `catch_up` (missed messages and redactions), `send` (core actions -> Matrix
//! calls), `moderate` and `authority` (acting on members, checked room by room), `private`
//! (direct chats, moderators' rooms), `files` (posts with files: reports' charts as `m.image`,
//! exports as `m.file`), `buttons` (decisions by reaction), `format` (Markdown -> message
//! content).

mod authority;
mod buttons;
mod catch_up;
mod conversion;
mod error;
mod files;
mod format;
mod handlers;
mod mentions;
mod moderate;
mod private;
mod rooms;
mod rules;
mod send;
mod session;
mod spaces;
mod store_key;

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::OwnedUserId;
use matrix_sdk::{Client, LoopCtrl};
use tokio_util::sync::CancellationToken;

use crate::community::Router;
use crate::config::MatrixSettings;
use crate::core::{Capabilities, Platform, Reaction};

pub use error::MatrixError;

/// What Matrix can do, for the router: text commands after `[matrix] command_prefix`,
/// matrix.to links (they open in any client; room and event ids need no escaping there), no
/// timeouts (a timeout removes the member instead), private replies in a direct chat, threads
/// rooted at a message.
pub fn capabilities(settings: &MatrixSettings) -> Capabilities {
    Capabilities {
        platform: Platform::Matrix,
        command_prefix: format!("{} ", settings.command_prefix),
        // The room, also for a message in a thread (the thread's id is its root event's).
        permalink: Some("https://matrix.to/#/{room}/{message}".into()),
        // Matrix events are limited to 64 KiB; long answers are split well below that.
        max_message_chars: 16_000,
        longest_timeout: None,
        private_replies: true,
        threads: true,
    }
}
pub use moderate::{ban, kick};
pub use rules::{invite_allowed, parse_command, role_for_power_level};

/// Runs the Matrix adapter until `shutdown` is cancelled (then it finishes the work in hand and
/// returns `Ok`) or a fatal error occurs.
pub async fn run(
    settings: &MatrixSettings,
    router: Arc<Router>,
    shutdown: CancellationToken,
) -> Result<(), MatrixError> {
    run_with_ready(settings, router, shutdown, None).await
}

/// Like [`run`], and sends on `ready` once the initial sync is done and handlers are
/// registered: from then on every new message is seen (tests and benchmarks wait for it).
pub async fn run_with_ready(
    settings: &MatrixSettings,
    router: Arc<Router>,
    shutdown: CancellationToken,
    ready: Option<tokio::sync::oneshot::Sender<()>>,
) -> Result<(), MatrixError> {
    router.register(capabilities(settings));
    let client = tokio::select! {
        client = Box::pin(session::connect(settings)) => client?,
        _ = shutdown.cancelled() => return Ok(()),
    };
    log_identity(&client).await;

    let saved_token = catch_up::saved_token(&client).await;
    let restarted = saved_token.is_some();
    let Some(first) = initial_sync(&client, &shutdown).await? else {
        return Ok(()); // Cancelled before the first sync finished.
    };
    let token = first.next_batch.clone();

    let Some(bot_id) = client.user_id().map(ToOwned::to_owned) else {
        return Err(MatrixError::Login {
            user: settings.user_id.clone(),
            reason: "the client has no user id after logging in".into(),
        });
    };
    // The sync returns Steward's own messages; recorded as Steward's, they are the answers
    // members rate with 👍/👎.
    router.register_self(Platform::Matrix, crate::core::UserId::new(bot_id.as_str()));
    let catch_up_minutes = router.settings().catch_up_minutes;
    let missed = if restarted {
        catch_up::missed_messages(
            &first,
            &bot_id,
            catch_up_minutes,
            std::time::SystemTime::now(),
        )
    } else {
        Vec::new()
    };
    // Deleted while Steward was stopped: the redactions are applied like live ones.
    let redactions = catch_up::redactions_in(&first);
    drop(first);
    let redactions = Box::pin(catch_up::missed_redactions(
        &client,
        redactions,
        saved_token.as_deref(),
    ))
    .await;
    let (jobs, queue) = tokio::sync::mpsc::channel(256);
    let adapter = Arc::new(Adapter {
        client: client.clone(),
        settings: settings.clone(),
        router,
        bot_id,
        own_events: Mutex::new(RecentSet::new(OWN_EVENTS_REMEMBERED)),
        followed_threads: Mutex::new(RecentSet::new(THREADS_REMEMBERED)),
        reactions: Mutex::new(RecentReactions::new(REACTIONS_REMEMBERED)),
        case_notices: Mutex::new(buttons::CaseNotices::new(buttons::CASE_NOTICES_REMEMBERED)),
        private: private::PrivateRooms::default(),
    });
    let registered = handlers::register(&client, jobs.clone());
    // Started before the start-up jobs are queued: more of them than the queue holds must not
    // wait for a worker that does not run yet.
    let stop_worker = CancellationToken::new();
    let worker = tokio::spawn(handlers::work(adapter.clone(), queue, stop_worker.clone()));
    // Invites that arrived while Steward was offline came with the initial sync, before any
    // handler existed.
    for room in client.invited_rooms() {
        handlers::queue_pending_invite(&jobs, room).await;
    }
    if !missed.is_empty() {
        tracing::info!(
            messages = missed.len(),
            "catching up on messages posted while Steward was stopped"
        );
    }
    for (room_id, event) in missed {
        if let Some(room) = client.get_room(&room_id) {
            handlers::queue_missed(&jobs, room, event).await;
        }
    }
    if !redactions.is_empty() {
        tracing::info!(
            redactions = redactions.len(),
            "applying deletions made while Steward was stopped"
        );
    }
    for (room, event) in redactions {
        handlers::queue_redaction(&jobs, room, event).await;
    }
    drop(jobs);
    tracing::info!("matrix adapter ready");
    if let Some(ready) = ready {
        let _ = ready.send(());
    }

    // Verdicts of queued reviews and other background actions, executed like an event's.
    let mut background = adapter.router.subscribe(Platform::Matrix);
    let deliverer = {
        let adapter = adapter.clone();
        tokio::spawn(async move {
            while let Some(action) = background.recv().await {
                send::execute(&adapter, action, None).await;
            }
        })
    };

    let failures = std::sync::atomic::AtomicU32::new(0);
    let sync = client.sync_with_result_callback(SyncSettings::default().token(token), |result| {
        sync_step(result, &failures)
    });
    // Boxed so that callers spawning `run` need not prove `Send` for the SDK's deep future type.
    let sync: Pin<Box<dyn Future<Output = Result<(), matrix_sdk::Error>> + Send + '_>> =
        Box::pin(sync);
    let outcome = tokio::select! {
        result = sync => result.map_err(MatrixError::from_sync),
        _ = shutdown.cancelled() => Ok(()),
    };
    // No sync, no new jobs: the worker finishes what is queued and in flight, then ends.
    for handle in registered {
        client.remove_event_handler(handle);
    }
    stop_worker.cancel();
    if let Err(error) = worker.await {
        tracing::error!(%error, "matrix worker panicked");
    }
    // Undelivered background actions stay decided in the store (cases keep their verdicts).
    deliverer.abort();
    match &outcome {
        Ok(()) => tracing::info!("matrix adapter stopped"),
        Err(error) => tracing::error!(label = error.label(), %error, "matrix adapter failed"),
    }
    outcome
}

/// State shared by the handlers, the worker and the action executor.
pub(crate) struct Adapter {
    pub client: Client,
    pub settings: MatrixSettings,
    pub router: Arc<Router>,
    pub bot_id: OwnedUserId,
    /// Recent events the bot sent: a reply to one of them is a reply to the bot.
    pub own_events: Mutex<RecentSet>,
    /// Thread roots the bot has answered in: follow-ups there need no mention.
    pub followed_threads: Mutex<RecentSet>,
    /// Recent reactions: redacting one is how Matrix takes a reaction back.
    pub reactions: Mutex<RecentReactions>,
    /// Case notices with a decision legend (see `buttons`).
    pub case_notices: Mutex<buttons::CaseNotices>,
    /// Moderators' rooms and direct chats (see `private`).
    pub private: private::PrivateRooms,
}

const OWN_EVENTS_REMEMBERED: usize = 4096;
const THREADS_REMEMBERED: usize = 1024;
const REACTIONS_REMEMBERED: usize = 4096;

/// A bounded set of ids that forgets the oldest first: memory stays flat however long the bot
/// runs; an id that has fallen out is looked up on the homeserver instead.
pub(crate) struct RecentSet {
    order: VecDeque<String>,
    members: HashSet<String>,
    capacity: usize,
}

impl RecentSet {
    pub fn new(capacity: usize) -> Self {
        Self {
            order: VecDeque::new(),
            members: HashSet::new(),
            capacity,
        }
    }

    pub fn insert(&mut self, id: &str) {
        if self.members.insert(id.to_string()) {
            self.order.push_back(id.to_string());
            if self.order.len() > self.capacity {
                if let Some(oldest) = self.order.pop_front() {
                    self.members.remove(&oldest);
                }
            }
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.members.contains(id)
    }
}

/// Reactions by their event id, so that the redaction of one becomes a removed reaction (a
/// member taking back a 👍). Forgets the oldest first: a reaction redacted after it was
/// forgotten, or after a restart, is not seen as removed.
pub(crate) struct RecentReactions {
    order: VecDeque<String>,
    reactions: HashMap<String, Reaction>,
    capacity: usize,
}

impl RecentReactions {
    pub fn new(capacity: usize) -> Self {
        Self {
            order: VecDeque::new(),
            reactions: HashMap::new(),
            capacity,
        }
    }

    pub fn insert(&mut self, id: &str, reaction: Reaction) {
        if self.reactions.insert(id.to_string(), reaction).is_none() {
            self.order.push_back(id.to_string());
            while self.order.len() > self.capacity {
                if let Some(oldest) = self.order.pop_front() {
                    self.reactions.remove(&oldest);
                }
            }
        }
    }

    /// The reaction `id`, forgotten now (a reaction is redacted once).
    pub fn take(&mut self, id: &str) -> Option<Reaction> {
        let reaction = self.reactions.remove(id)?;
        self.order.retain(|kept| kept != id);
        Some(reaction)
    }
}

/// The first sync, before any handler exists: it brings the room list, state and E2EE keys up
/// to date; its timelines are not handled as new events. Retries transient failures until
/// cancelled; returns the response (its `next_batch` is the token to continue from), or `None`
/// when cancelled.
async fn initial_sync(
    client: &Client,
    shutdown: &CancellationToken,
) -> Result<Option<matrix_sdk::sync::SyncResponse>, MatrixError> {
    // Zero timeout: with a saved token and nothing new the server answers at once instead of
    // long-polling.
    let settings = SyncSettings::default().timeout(Duration::ZERO);
    let mut delay = Duration::from_secs(1);
    loop {
        let attempt = Box::pin(client.sync_once(settings.clone()));
        let result = tokio::select! {
            result = attempt => result,
            _ = shutdown.cancelled() => return Ok(None),
        };
        match result {
            Ok(response) => return Ok(Some(response)),
            Err(error) => match MatrixError::from_sync(error) {
                fatal @ MatrixError::SessionInvalid(_) => return Err(fatal),
                error => {
                    tracing::warn!(label = error.label(), %error, retry_in_s = delay.as_secs(), "initial matrix sync failed");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.cancelled() => return Ok(None),
                    }
                    delay = (delay * 2).min(Duration::from_secs(60));
                }
            },
        }
    }
}

/// One step of the long-running sync: a revoked session stops the adapter; other failures
/// (network, server restarts) are logged and retried with a growing pause.
async fn sync_step(
    result: Result<matrix_sdk::sync::SyncResponse, matrix_sdk::Error>,
    failures: &std::sync::atomic::AtomicU32,
) -> Result<LoopCtrl, matrix_sdk::Error> {
    use std::sync::atomic::Ordering;
    match result {
        Ok(_) => {
            failures.store(0, Ordering::Relaxed);
            Ok(LoopCtrl::Continue)
        }
        Err(error) => {
            if error::session_invalid(&error) {
                return Err(error);
            }
            let failed = failures.fetch_add(1, Ordering::Relaxed) + 1;
            let delay = Duration::from_secs(u64::from(failed.min(6)) * 5);
            tracing::warn!(%error, failed, retry_in_s = delay.as_secs(), "matrix sync failed");
            tokio::time::sleep(delay).await;
            Ok(LoopCtrl::Continue)
        }
    }
}

/// Logs the device the owner verifies (see docs/matrix.md).
async fn log_identity(client: &Client) {
    let encryption = client.encryption();
    let fingerprint = encryption.ed25519_key().await.unwrap_or_default();
    tracing::info!(
        user = ?client.user_id(),
        device = ?client.device_id(),
        ed25519 = %fingerprint,
        "matrix device ready; compare this key when verifying the bot"
    );
}
