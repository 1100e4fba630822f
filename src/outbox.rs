//! Actions decided outside any event — a background review's verdict, say — and delivered by
//! the adapter of their platform. Each adapter subscribes when it starts and executes what
//! arrives exactly as it executes the actions of an event. A low layer: it knows only core.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::mpsc;

use crate::core::{Action, Platform};

/// How many undelivered actions may wait per platform; a sender then waits for the adapter.
const CAPACITY: usize = 1024;

/// Where background actions go, per platform.
#[derive(Debug, Default)]
pub struct Outbox {
    adapters: Mutex<HashMap<Platform, mpsc::Sender<Action>>>,
}

impl Outbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// The adapter of `platform` takes delivery from now on (replacing an earlier subscriber).
    pub fn subscribe(&self, platform: Platform) -> mpsc::Receiver<Action> {
        let (sender, receiver) = mpsc::channel(CAPACITY);
        self.lock().insert(platform, sender);
        receiver
    }

    /// Hands `action` to its platform's adapter. Returns false (and logs) when no adapter of
    /// that platform is running: the decision itself is already in the store.
    pub async fn deliver(&self, action: Action) -> bool {
        let platform = platform_of(&action);
        let sender = self.lock().get(&platform).cloned();
        let Some(sender) = sender else {
            tracing::warn!(%platform, ?action, "no adapter takes background actions for this platform; not delivered");
            return false;
        };
        if sender.send(action).await.is_err() {
            tracing::warn!(%platform, "the adapter stopped; a background action was not delivered");
            self.lock().remove(&platform);
            return false;
        }
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Platform, mpsc::Sender<Action>>> {
        self.adapters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The platform an action is for.
pub fn platform_of(action: &Action) -> Platform {
    match action {
        Action::Reply(reply) => reply.location.platform,
        Action::ReplyInThread { location, .. }
        | Action::EditOwn { location, .. }
        | Action::React { location, .. }
        | Action::DeleteMessage { location, .. }
        | Action::PostWithFiles { location, .. } => location.platform,
        Action::TimeoutMember { platform, .. }
        | Action::RemoveMember { platform, .. }
        | Action::LiftTimeout { platform, .. }
        | Action::LiftBan { platform, .. }
        | Action::PostToModLog { platform, .. }
        | Action::PrivateNotice { platform, .. } => *platform,
    }
}
