//! Table-driven tests of the quotas and the notice gate, on a fake clock.

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

fn overrides(member: Option<u32>, channel: Option<u32>, community: Option<u32>) -> QuotaOverrides {
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
}
