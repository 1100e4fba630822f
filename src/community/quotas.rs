//! Quotas on model time: how many units of work one member, one channel and one community may
//! ask of the model per window, and a gate so a refused member hears about it once per window.
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
use std::time::{Duration, Instant};

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

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;
    use crate::core::settings::{known, Values, KNOWN};

    fn at(channel: &str) -> Location {
        Location {
            platform: Platform::Discord,
            community: CommunityId::new("guild"),
            channel: ChannelId::new(channel),
            thread: None,
        }
    }

    /// `times` requests by `user` in `channel`: `allowed` of them pass, the rest are refused
    /// by `refused_by`.
    struct Step {
        user: String,
        channel: String,
        role: Role,
        feature: Feature,
        times: usize,
        allowed: usize,
        refused_by: Option<Scope>,
    }

    fn step(
        user: &str,
        channel: &str,
        feature: Feature,
        (times, allowed): (usize, usize),
        refused_by: Option<Scope>,
    ) -> Step {
        Step {
            user: user.to_string(),
            channel: channel.to_string(),
            role: Role::Member,
            feature,
            times,
            allowed,
            refused_by,
        }
    }

    fn as_role(role: Role, step: Step) -> Step {
        Step { role, ..step }
    }

    struct Scenario {
        name: &'static str,
        settings: QuotaSettings,
        overrides: QuotaOverrides,
        /// Fake time between two requests.
        spacing: Duration,
        steps: Vec<Step>,
    }

    fn run(scenario: &Scenario) {
        let clock = FakeRelativeClock::default();
        let quotas = Quotas::with_clock(scenario.settings.clone(), clock.clone());
        for (index, step) in scenario.steps.iter().enumerate() {
            let name = format!("{}, step {index}", scenario.name);
            let mut allowed = 0;
            for _ in 0..step.times {
                let user = UserId::new(step.user.as_str());
                let location = at(&step.channel);
                let key = QuotaKey::at(&location, &user);
                match quotas.check(&key, step.feature, step.role, &scenario.overrides) {
                    Ok(()) => allowed += 1,
                    Err(refusal) => {
                        assert_eq!(Some(refusal.scope), step.refused_by, "{name}");
                        assert_eq!(refusal.feature, step.feature, "{name}");
                        assert!(refusal.retry_after > Duration::ZERO, "{name}");
                        assert!(refusal.retry_after <= scenario.settings.window, "{name}");
                    }
                }
                clock.advance(scenario.spacing);
            }
            assert_eq!(allowed, step.allowed, "{name}");
        }
    }

    fn overrides(
        member: Option<u32>,
        channel: Option<u32>,
        community: Option<u32>,
    ) -> QuotaOverrides {
        QuotaOverrides {
            member_budget: member,
            channel_budget: channel,
            community_budget: community,
            report_budget: None,
        }
    }

    #[test]
    fn scenarios() {
        use super::Feature::{Ask, Report, Summarize};
        use super::Scope::{Channel, Community, Member};
        let defaults = QuotaSettings::default;
        // Community: 4 channels of 3 members spend 120 units; a refused member in a full
        // channel spends no community units, so exactly 120 pass.
        let mut community_steps = Vec::new();
        for channel in ["c1", "c2", "c3", "c4"] {
            for member in ["x", "y", "z"] {
                let user = format!("{channel}{member}");
                community_steps.push(step(&user, channel, Ask, (10, 10), None));
            }
            if channel == "c1" {
                community_steps.push(step("late", "c1", Ask, (10, 0), Some(Channel)));
            }
        }
        community_steps.push(step("last", "c5", Ask, (1, 0), Some(Community)));
        let scenarios = [
            Scenario {
                name: "100 asks from one member in 10 s",
                settings: defaults(),
                overrides: QuotaOverrides::default(),
                spacing: Duration::from_millis(100),
                steps: vec![
                    step("a", "c1", Ask, (100, 10), Some(Member)),
                    // The member's refusals spent no channel units: 20 more fit.
                    step("b", "c1", Ask, (10, 10), None),
                    step("c", "c1", Ask, (10, 10), None),
                    step("d", "c1", Ask, (1, 0), Some(Channel)),
                    step("e", "c2", Ask, (1, 1), None),
                ],
            },
            Scenario {
                name: "summaries cost three units",
                settings: defaults(),
                overrides: QuotaOverrides::default(),
                spacing: Duration::ZERO,
                steps: vec![
                    step("a", "c1", Summarize, (5, 3), Some(Member)),
                    step("a", "c1", Ask, (2, 1), Some(Member)),
                ],
            },
            Scenario {
                name: "the channel budget caps several members",
                settings: defaults(),
                overrides: QuotaOverrides::default(),
                spacing: Duration::ZERO,
                steps: vec![
                    step("a", "c1", Ask, (10, 10), None),
                    step("b", "c1", Ask, (10, 10), None),
                    step("c", "c1", Ask, (10, 10), None),
                    step("d", "c1", Ask, (1, 0), Some(Channel)),
                    // The accepted over-count (module doc): d's refused ask spent d's unit.
                    step("d", "c2", Ask, (10, 9), Some(Member)),
                ],
            },
            Scenario {
                name: "the community budget caps its channels",
                settings: defaults(),
                overrides: QuotaOverrides::default(),
                spacing: Duration::ZERO,
                steps: community_steps,
            },
            Scenario {
                name: "moderators are exempt and spend nothing",
                settings: defaults(),
                overrides: QuotaOverrides::default(),
                spacing: Duration::ZERO,
                steps: vec![
                    as_role(Role::Moderator, step("mod", "c1", Ask, (100, 100), None)),
                    as_role(Role::Owner, step("own", "c1", Summarize, (50, 50), None)),
                    step("a", "c1", Ask, (10, 10), None),
                ],
            },
            Scenario {
                name: "moderators count when not exempt",
                settings: QuotaSettings {
                    moderators_exempt: false,
                    ..defaults()
                },
                overrides: QuotaOverrides::default(),
                spacing: Duration::ZERO,
                steps: vec![as_role(
                    Role::Moderator,
                    step("mod", "c1", Ask, (100, 10), Some(Member)),
                )],
            },
            Scenario {
                name: "a community raises the member budget",
                settings: defaults(),
                overrides: overrides(Some(20), None, None),
                spacing: Duration::ZERO,
                steps: vec![
                    step("a", "c1", Ask, (100, 20), Some(Member)),
                    step("b", "c1", Ask, (20, 10), Some(Channel)),
                ],
            },
            Scenario {
                name: "a community lowers the channel and community budgets",
                settings: defaults(),
                overrides: overrides(None, Some(5), Some(8)),
                spacing: Duration::ZERO,
                steps: vec![
                    step("a", "c1", Ask, (10, 5), Some(Channel)),
                    // c2 has 5 units, the community 3: the 4th and 5th asks are refused by it.
                    step("b", "c2", Ask, (5, 3), Some(Community)),
                ],
            },
            Scenario {
                name: "a budget below the cost is spent whole",
                settings: defaults(),
                overrides: overrides(Some(2), None, None),
                spacing: Duration::ZERO,
                steps: vec![step("a", "c1", Summarize, (3, 1), Some(Member))],
            },
            Scenario {
                name: "reports have a budget of their own",
                settings: defaults(),
                overrides: QuotaOverrides::default(),
                spacing: Duration::ZERO,
                steps: vec![
                    step("a", "c1", Report, (10, 5), Some(Member)),
                    step("a", "c1", Ask, (10, 10), None),
                    step("b", "c1", Ask, (10, 10), None),
                    step("b", "c1", Report, (5, 5), None),
                ],
            },
            Scenario {
                name: "a community sets its report budget",
                settings: defaults(),
                overrides: QuotaOverrides {
                    report_budget: Some(2),
                    ..QuotaOverrides::default()
                },
                spacing: Duration::ZERO,
                steps: vec![step("a", "c1", Report, (5, 2), Some(Member))],
            },
            Scenario {
                name: "disabled quotas refuse nothing",
                settings: QuotaSettings {
                    enabled: false,
                    ..defaults()
                },
                overrides: QuotaOverrides::default(),
                spacing: Duration::ZERO,
                steps: vec![step("a", "c1", Summarize, (100, 100), None)],
            },
        ];
        for scenario in &scenarios {
            run(scenario);
        }
    }

    #[test]
    fn retry_after_is_positive_within_the_window_and_honest() {
        for feature in [Feature::Ask, Feature::Summarize, Feature::Report] {
            let clock = FakeRelativeClock::default();
            let settings = QuotaSettings::default();
            let quotas = Quotas::with_clock(settings.clone(), clock.clone());
            let (location, user) = (at("c1"), UserId::new("a"));
            let key = QuotaKey::at(&location, &user);
            let none = QuotaOverrides::default();
            let check = || quotas.check(&key, feature, Role::Member, &none);
            let passed = (0..1000).take_while(|_| check().is_ok()).count();
            assert!(passed < 1000, "{feature}");
            let refusal = check().unwrap_err();
            assert!(refusal.retry_after > Duration::ZERO, "{feature}");
            assert!(refusal.retry_after <= settings.window, "{feature}");
            clock.advance(refusal.retry_after);
            assert_eq!(check(), Ok(()), "{feature}: passes once the wait is over");
        }
    }

    #[test]
    fn idle_keys_are_swept() {
        let clock = FakeRelativeClock::default();
        let settings = QuotaSettings::default();
        let quotas = Quotas::with_clock(settings.clone(), clock.clone());
        let raised = overrides(Some(20), None, None);
        for n in 0..50 {
            let (location, user) = (at(&format!("c{n}")), UserId::new(format!("u{n}")));
            let key = QuotaKey::at(&location, &user);
            let result = quotas.check(&key, Feature::Ask, Role::Member, &raised);
            assert_eq!(result, Ok(()));
        }
        // 50 members (in the override's limiter), 50 channels, 1 community.
        assert_eq!(quotas.tracked_keys(), 101);
        quotas.sweep();
        assert_eq!(quotas.tracked_keys(), 101, "nothing has refilled yet");
        clock.advance(settings.window * 2);
        quotas.sweep();
        assert_eq!(quotas.tracked_keys(), 0);
        assert!(lock(&quotas.member.overrides).is_empty());
    }

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
    fn overrides_from_settings() {
        let none = QuotaOverrides::default();
        // (settings, expected overrides or words of the error)
        type Case<'a> = (&'a [(&'a str, &'a str)], Result<QuotaOverrides, &'a str>);
        let cases: [Case; 10] = [
            (&[], Ok(none)),
            (&[("language", "zh"), ("moderation", "off")], Ok(none)),
            (
                &[("quota.member", "20"), ("quota.reports", "1")],
                Ok(QuotaOverrides {
                    member_budget: Some(20),
                    report_budget: Some(1),
                    ..none
                }),
            ),
            (
                &[("quota.channel", "10000"), ("quota.community", "1")],
                Ok(overrides(None, Some(10_000), Some(1))),
            ),
            (
                &[("quota.member", "0")],
                Err("`quota.member`: \"0\" is not"),
            ),
            (&[("quota.member", "-3")], Err("from 1 to 10000")),
            (&[("quota.channel", "10001")], Err("`quota.channel`")),
            (&[("quota.member", "99999999999")], Err("`quota.member`")),
            (&[("quota.reports", "lots")], Err("`quota.reports`")),
            (
                &[("quota.bogus", "5")],
                Err("unknown quota setting `quota.bogus`"),
            ),
        ];
        for (pairs, expected) in cases {
            let settings: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            match (QuotaOverrides::from_settings(&settings), expected) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{pairs:?}"),
                (Err(error), Err(words)) => assert!(error.contains(words), "{error}"),
                (got, want) => panic!("{pairs:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn setting_keys_match_the_settings_moderators_may_change() {
        for key in QUOTA_SETTING_KEYS {
            let values = known(key).map(|k| k.values);
            let expected = Values::Number {
                min: 1,
                max: OVERRIDE_MAX,
            };
            assert_eq!(values, Some(expected), "{key}");
        }
        let quota_keys = KNOWN.iter().filter(|k| k.key.starts_with("quota."));
        assert_eq!(quota_keys.count(), QUOTA_SETTING_KEYS.len());
    }

    #[test]
    fn labels() {
        let features = [Feature::Ask, Feature::Summarize, Feature::Report].map(Feature::as_str);
        assert_eq!(features, ["ask", "summarize", "report"]);
        let scopes = [Scope::Member, Scope::Channel, Scope::Community].map(Scope::as_str);
        assert_eq!(scopes, ["member", "channel", "community"]);
        let refusal = Refusal {
            scope: Scope::Channel,
            feature: Feature::Summarize,
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!(refusal.label(), "quota_channel");
        assert_eq!(
            refusal.to_string(),
            "the channel quota for summarize is used up; retry in 1s"
        );
    }

    #[test]
    fn shared_across_tasks() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Quotas>();
        send_sync::<NoticeGate>();
    }
}
