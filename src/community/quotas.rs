//! Quotas on model time: how many units of work one member, one channel and one community may
//! ask of the model per window. (A refused member hears about it once per window: `notices`.)
//!
//! Pure logic: the router asks [`Quotas::check`] before a feature runs, with the overrides it
//! read from the community's settings, and turns a [`Refusal`] into a reply. Each scope is a
//! governor keyed limiter with `budget` units of burst that refill evenly over the window.
//!
//! Checking order: member, then channel, then community, each spending as it passes. governor
//! 0.10 cannot test a key without updating it (there is no dry check), so when the channel or
//! the community refuses, the narrower scopes already paid for that request. We accept this
//! over-count because it is small and self-limiting: the most common refusal (the member's own)
//! spends nothing, the extra units only ever land on the scopes of the refused request itself,
//! and once those are spent they refuse first and nothing more is spent.
//!
//! A community's own budget (`setting quota.member 20`) runs in a limiter of its own, one per
//! distinct budget value and scope, made on first use: a governor quota is fixed per limiter,
//! and scaling the cost instead would round with whole units. Memory stays bounded: every few
//! thousand checks, keys whose budget refilled completely are dropped (`retain_recent`), and so
//! are override limiters left without keys.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::config::QuotaSettings;
use crate::core::settings::{QUOTA_CHANNEL, QUOTA_COMMUNITY, QUOTA_MEMBER, QUOTA_REPORTS};
use crate::core::{ChannelId, CommunityId, Location, Platform, Role, UserId};

/// A feature that costs model time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// An answer to a question.
    Ask,
    /// A summary of recent messages: reads many messages, so it costs more than an answer.
    Summarize,
    /// A 🚩 report: a model review and a mod-log post. One unit of the member's report budget,
    /// which is separate: reports and questions never use up each other.
    Report,
}

impl Feature {
    /// Stable label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Feature::Ask => "ask",
            Feature::Summarize => "summarize",
            Feature::Report => "report",
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose budget refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The member, in this community.
    Member,
    /// Everyone in this channel (a thread counts toward its channel).
    Channel,
    /// Everyone in this community.
    Community,
}

impl Scope {
    /// Stable label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Member => "member",
            Scope::Channel => "channel",
            Scope::Community => "community",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request refused for quota: who ran out, for what, and when it could pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub scope: Scope,
    pub feature: Feature,
    /// At least one second, at most the quota window.
    pub retry_after: Duration,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} quota for {} is used up; retry in {}s",
            self.scope,
            self.feature,
            self.retry_after.as_secs().max(1)
        )
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// Stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self.scope {
            Scope::Member => "quota_member",
            Scope::Channel => "quota_channel",
            Scope::Community => "quota_community",
        }
    }
}

/// The community settings that override `[quotas]` budgets, in [`QuotaOverrides`] field order.
pub const QUOTA_SETTING_KEYS: &[&str] =
    &[QUOTA_MEMBER, QUOTA_CHANNEL, QUOTA_COMMUNITY, QUOTA_REPORTS];

/// The largest budget a community may set for itself.
pub const OVERRIDE_MAX: u32 = 10_000;

/// A community's own budgets, set by its moderators (`setting quota.member 20`); `None` keeps
/// the configured one. The router reads them once per event and passes them to every check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaOverrides {
    pub member_budget: Option<u32>,
    pub channel_budget: Option<u32>,
    pub community_budget: Option<u32>,
    pub report_budget: Option<u32>,
}

impl QuotaOverrides {
    /// The overrides among a community's settings (other settings are ignored). A `quota.*`
    /// key Steward does not know, or a value that is not a whole number from 1 to
    /// [`OVERRIDE_MAX`], is an error naming the key.
    pub fn from_settings(settings: &[(String, String)]) -> Result<QuotaOverrides, String> {
        let mut overrides = QuotaOverrides::default();
        for (key, value) in settings {
            let slot = match key.as_str() {
                QUOTA_MEMBER => &mut overrides.member_budget,
                QUOTA_CHANNEL => &mut overrides.channel_budget,
                QUOTA_COMMUNITY => &mut overrides.community_budget,
                QUOTA_REPORTS => &mut overrides.report_budget,
                other if other.starts_with("quota.") => {
                    return Err(format!(
                        "unknown quota setting `{other}`; known: {}",
                        QUOTA_SETTING_KEYS.join(", ")
                    ))
                }
                _ => continue,
            };
            // Parsed like the setting command checks it (`core::settings::Values::Number`).
            match value.parse::<u32>() {
                Ok(n) if (1..=OVERRIDE_MAX).contains(&n) => *slot = Some(n),
                _ => {
                    return Err(format!(
                        "setting `{key}`: {value:?} is not a whole number from 1 to {OVERRIDE_MAX}"
                    ))
                }
            }
        }
        Ok(overrides)
    }
}

/// Who asks, and where: the member, channel and community a request is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaKey<'a> {
    pub platform: Platform,
    pub community: &'a CommunityId,
    /// A thread counts toward its channel.
    pub channel: &'a ChannelId,
    pub user: &'a UserId,
}

impl<'a> QuotaKey<'a> {
    /// `user` asking at `location`.
    pub fn at(location: &'a Location, user: &'a UserId) -> Self {
        Self {
            platform: location.platform,
            community: &location.community,
            channel: &location.channel,
            user,
        }
    }
}

/// Sweep keys that refilled completely, every this many checks (bounds memory).
const SWEEP_EVERY: u64 = 4096;
/// The shortest wait a refusal names.
const MIN_RETRY: Duration = Duration::from_secs(1);

/// Who is counted: a member, a channel or a community, on one platform. Each scope has its own
/// limiters, so the three kinds of key never meet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct StateKey {
    platform: Platform,
    community: CommunityId,
    /// The user, the channel, or empty for the community itself.
    id: String,
}

type Limiter<C> = RateLimiter<
    StateKey,
    DefaultKeyedStateStore<StateKey>,
    C,
    NoOpMiddleware<<C as Clock>::Instant>,
>;

fn quota(window: Duration, budget: NonZeroU32) -> Quota {
    // A validated window (>= 1 s) and budget (<= 100,000) keep the period far above zero.
    let period = (window / budget.get()).max(Duration::from_nanos(1));
    Quota::with_period(period).map_or(Quota::per_second(budget), |q| q.allow_burst(budget))
}

fn new_limiter<C: Clock>(window: Duration, budget: NonZeroU32, clock: C) -> Limiter<C> {
    RateLimiter::new(
        quota(window, budget),
        DefaultKeyedStateStore::default(),
        clock,
    )
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The state is only counters: after a panic elsewhere it is still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One scope: the configured budget's limiter, plus one limiter per distinct budget that
/// communities set for themselves (governor fixes the quota per limiter). A community that
/// changes its budget starts afresh in the new limiter; the old state is swept.
struct Budgets<C: Clock> {
    window: Duration,
    budget: NonZeroU32,
    clock: C,
    default: Limiter<C>,
    overrides: Mutex<HashMap<NonZeroU32, Limiter<C>>>,
}

impl<C: Clock + Clone> Budgets<C> {
    fn new(window: Duration, budget: u32, clock: &C) -> Self {
        let budget = NonZeroU32::new(budget).unwrap_or(NonZeroU32::MIN);
        Self {
            window,
            budget,
            clock: clock.clone(),
            default: new_limiter(window, budget, clock.clone()),
            overrides: Mutex::new(HashMap::new()),
        }
    }

    /// Spends `cost` units of `key`'s budget, or says how long until they could be spent.
    fn spend(&self, key: &StateKey, cost: u32, budget: Option<u32>) -> Result<(), Duration> {
        let budget = budget.and_then(NonZeroU32::new).unwrap_or(self.budget);
        if budget == self.budget {
            return self.spend_in(&self.default, key, cost, budget);
        }
        // Held while checking, so a sweep never drops a limiter that is being spent from.
        let mut overrides = lock(&self.overrides);
        let limiter = overrides
            .entry(budget)
            .or_insert_with(|| new_limiter(self.window, budget, self.clock.clone()));
        self.spend_in(limiter, key, cost, budget)
    }

    fn spend_in(
        &self,
        limiter: &Limiter<C>,
        key: &StateKey,
        cost: u32,
        budget: NonZeroU32,
    ) -> Result<(), Duration> {
        // A community may set a budget below a feature's cost; such a request then takes the
        // whole budget instead of being refused forever.
        let cost = NonZeroU32::new(cost.min(budget.get())).unwrap_or(NonZeroU32::MIN);
        match limiter.check_key_n(key, cost) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(limiter.clock().now())),
            // Unreachable after the clamp above; waiting a window is the safe answer.
            Err(_insufficient) => Err(self.window),
        }
    }

    /// Forgets keys that refilled completely and limiters nobody uses any more.
    fn sweep(&self) {
        self.default.retain_recent();
        lock(&self.overrides).retain(|_, limiter| {
            limiter.retain_recent();
            !limiter.is_empty()
        });
    }

    fn tracked_keys(&self) -> usize {
        self.default.len()
            + lock(&self.overrides)
                .values()
                .map(|l| l.len())
                .sum::<usize>()
    }
}

/// The quota state of the whole process: one instance, shared by every platform.
/// `C` is governor's clock; tests pass a `governor::clock::FakeRelativeClock`.
pub struct Quotas<C: Clock + Clone = DefaultClock> {
    settings: QuotaSettings,
    member: Budgets<C>,
    channel: Budgets<C>,
    community: Budgets<C>,
    reports: Budgets<C>,
    checks: AtomicU64,
}

impl<C: Clock + Clone> fmt::Debug for Quotas<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Quotas")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Quotas<DefaultClock> {
    /// Quotas on the real clock.
    pub fn new(settings: QuotaSettings) -> Self {
        Self::with_clock(settings, DefaultClock::default())
    }
}

impl<C: Clock + Clone> Quotas<C> {
    /// Quotas on `clock` (clones of a fake clock share its time).
    pub fn with_clock(settings: QuotaSettings, clock: C) -> Self {
        let window = settings.window;
        Self {
            member: Budgets::new(window, settings.member_budget, &clock),
            channel: Budgets::new(window, settings.channel_budget, &clock),
            community: Budgets::new(window, settings.community_budget, &clock),
            reports: Budgets::new(window, settings.report_budget, &clock),
            checks: AtomicU64::new(0),
            settings,
        }
    }

    /// The settings these quotas were made with.
    pub fn settings(&self) -> &QuotaSettings {
        &self.settings
    }

    /// Units `feature` costs (a report: one unit of the report budget).
    pub fn cost(&self, feature: Feature) -> u32 {
        match feature {
            Feature::Ask => self.settings.ask_cost,
            Feature::Summarize => self.settings.summarize_cost,
            Feature::Report => 1,
        }
    }

    /// Spends the units `feature` costs for the member, channel and community of `key`, or
    /// refuses. Someone with `role` moderator or owner passes without spending unless
    /// `[quotas] moderators_exempt = false`.
    pub fn check(
        &self,
        key: &QuotaKey<'_>,
        feature: Feature,
        role: Role,
        overrides: &QuotaOverrides,
    ) -> Result<(), Refusal> {
        if !self.settings.enabled || (self.settings.moderators_exempt && role.can_moderate()) {
            return Ok(());
        }
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep();
        }
        let state_key = |id: &str| StateKey {
            platform: key.platform,
            community: key.community.clone(),
            id: id.to_string(),
        };
        let refuse = |scope: Scope| {
            move |wait: Duration| Refusal {
                scope,
                feature,
                retry_after: wait.min(self.settings.window).max(MIN_RETRY),
            }
        };
        let member = state_key(key.user.as_str());
        if feature == Feature::Report {
            return self
                .reports
                .spend(&member, 1, overrides.report_budget)
                .map_err(refuse(Scope::Member));
        }
        let cost = self.cost(feature);
        self.member
            .spend(&member, cost, overrides.member_budget)
            .map_err(refuse(Scope::Member))?;
        self.channel
            .spend(
                &state_key(key.channel.as_str()),
                cost,
                overrides.channel_budget,
            )
            .map_err(refuse(Scope::Channel))?;
        self.community
            .spend(&state_key(""), cost, overrides.community_budget)
            .map_err(refuse(Scope::Community))
    }

    /// Forgets every key whose budget refilled completely. [`Quotas::check`] does this every
    /// few thousand checks; callers may also run it on a timer.
    pub fn sweep(&self) {
        for budgets in [&self.member, &self.channel, &self.community, &self.reports] {
            budgets.sweep();
        }
    }

    /// How many keys hold state (for metrics and tests).
    pub fn tracked_keys(&self) -> usize {
        [&self.member, &self.channel, &self.community, &self.reports]
            .iter()
            .map(|b| b.tracked_keys())
            .sum()
    }
}

#[cfg(test)]
#[path = "quotas_tests.rs"]
mod tests;
