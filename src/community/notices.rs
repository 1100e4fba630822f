//! One notice per member per window: a member refused for quota, or because the model is
//! busy, is told once, never once per request.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::config::QuotaSettings;
use crate::core::{CommunityId, Platform, UserId};

/// Remembers when each member was last told "not now", so a refused member (for quota, or
/// because the model is busy) gets at most one notice per window, never one per request.
pub struct NoticeGate {
    window: Duration,
    state: Mutex<Notices>,
}

impl fmt::Debug for NoticeGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoticeGate")
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

struct Notices {
    last: HashMap<(Platform, CommunityId, UserId), Instant>,
    /// Sweep expired entries once the map grows to this size.
    sweep_at: usize,
}

/// The map size at which the first sweep happens.
const NOTICE_SWEEP_AT: usize = 1024;

impl NoticeGate {
    /// A gate allowing one notice per member per `window`.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            state: Mutex::new(Notices {
                last: HashMap::new(),
                sweep_at: NOTICE_SWEEP_AT,
            }),
        }
    }

    /// A gate with the quota window.
    pub fn from_settings(settings: &QuotaSettings) -> Self {
        Self::new(settings.window)
    }

    /// True the first time in a window that `user` should be told; the caller then sends the
    /// notice. Later calls within `window` of that notice are false.
    pub fn should_notify(
        &self,
        platform: Platform,
        community: &CommunityId,
        user: &UserId,
        now: Instant,
    ) -> bool {
        let mut state = lock(&self.state);
        if state.last.len() >= state.sweep_at {
            let window = self.window;
            state
                .last
                .retain(|_, at| now.saturating_duration_since(*at) < window);
            // Sweep again only after the map doubled, so a full map costs O(1) per call.
            state.sweep_at = (state.last.len() * 2).max(NOTICE_SWEEP_AT);
        }
        let key = (platform, community.clone(), user.clone());
        let told_recently = state
            .last
            .get(&key)
            .is_some_and(|at| now.saturating_duration_since(*at) < self.window);
        if told_recently {
            return false;
        }
        state.last.insert(key, now);
        true
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_gate_tells_each_member_once_per_window() {
        let start = Instant::now();
        let gate = NoticeGate::new(Duration::from_secs(600));
        // (community, user, seconds after start, notify?)
        let cases = [
            ("guild", "a", 0, true),
            ("guild", "a", 1, false),
            ("guild", "a", 599, false),
            ("guild", "b", 599, true),
            ("other", "a", 599, true),
            ("guild", "a", 600, true),
            ("guild", "a", 601, false),
            ("guild", "b", 1198, false),
            ("guild", "b", 1199, true),
        ];
        for (community, user, secs, expected) in cases {
            let now = start + Duration::from_secs(secs);
            let told = gate.should_notify(
                Platform::Matrix,
                &CommunityId::new(community),
                &UserId::new(user),
                now,
            );
            assert_eq!(told, expected, "{community} {user} at {secs}s");
        }
    }

    #[test]
    fn notice_gate_forgets_old_notices() {
        let start = Instant::now();
        let window = Duration::from_secs(60);
        let gate = NoticeGate::new(window);
        let community = CommunityId::new("guild");
        for n in 0..NOTICE_SWEEP_AT {
            let user = UserId::new(format!("u{n}"));
            assert!(gate.should_notify(Platform::Console, &community, &user, start));
        }
        let late = UserId::new("late");
        assert!(gate.should_notify(Platform::Console, &community, &late, start + window));
        assert_eq!(lock(&gate.state).last.len(), 1);
    }

    #[test]
    fn the_gate_is_shared_across_tasks() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<NoticeGate>();
    }
}
