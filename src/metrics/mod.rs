//! Process metrics: counters, gauges and histograms for the engine scheduler, the features,
//! quotas, platform events and background jobs, encoded as Prometheus text.
//!
//! A low layer: it imports nothing else from the crate, so the scheduler, the router and the
//! wiring can all record into one shared [`Metrics`]. Label values are `&'static str` chosen by
//! the caller from small fixed sets, so the number of series stays bounded (never put a user,
//! channel or message id in a label). [`serve()`] exposes `GET /metrics`; [`status`] reads it
//! back for `steward status`. The one exception to fixed label sets is the inference
//! server's name: it comes from the config, so those series are bounded by it too.

mod serve;
pub mod status;

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub use serve::{bind, serve, MetricsError, MetricsServer};

/// The `Content-Type` of [`Metrics::encode`]'s output (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The engine's priority classes, in the order `steward status` prints them.
pub const ENGINE_CLASSES: [&str; 3] = ["interactive", "moderation", "background"];

/// Buckets for latencies and queue waits in seconds: 50 ms (a refusal) to 2 minutes (the
/// default request timeout), roughly doubling.
const SECONDS_BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0,
];

/// Buckets for the scheduler's own cost per request in microseconds: 1 µs to 100 ms.
const MICROS_BUCKETS: [f64; 16] = [
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0,
    25_000.0, 50_000.0, 100_000.0,
];

fn seconds_histogram() -> Histogram {
    Histogram::new(SECONDS_BUCKETS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabels {
    class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassOutcomeLabels {
    class: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeatureLabels {
    feature: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeatureOutcomeLabels {
    feature: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QuotaLabels {
    feature: &'static str,
    scope: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PlatformLabels {
    platform: &'static str,
    direction: &'static str,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServerLabels {
    server: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServerOutcomeLabels {
    server: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: &'static str,
    outcome: &'static str,
}

/// Every metric Steward records, registered once in one registry. Cheap to update from many
/// tasks at once (atomics behind a read lock); share it as `Arc<Metrics>`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    engine_queued: Family<ClassLabels, Gauge>,
    engine_running: Family<ClassLabels, Gauge>,
    engine_requests: Family<ClassOutcomeLabels, Counter>,
    engine_wait: Family<ClassLabels, Histogram>,
    scheduler_overhead: Histogram,
    feature_requests: Family<FeatureOutcomeLabels, Counter>,
    feature_latency: Family<FeatureLabels, Histogram>,
    quota_refusals: Family<QuotaLabels, Counter>,
    platform_events: Family<PlatformLabels, Counter>,
    jobs: Family<JobLabels, Counter>,
    inference_requests: Family<ServerOutcomeLabels, Counter>,
    inference_server_up: Family<ServerLabels, Gauge>,
    inference_in_flight: Family<ServerLabels, Gauge>,
}

impl Metrics {
    /// A fresh set of metrics, all at zero.
    pub fn new() -> Arc<Metrics> {
        let engine_queued = Family::<ClassLabels, Gauge>::default();
        let engine_running = Family::<ClassLabels, Gauge>::default();
        // The gauges exist from the start so a scrape shows "0 queued", not nothing.
        for class in ENGINE_CLASSES {
            engine_queued.get_or_create(&ClassLabels { class }).set(0);
            engine_running.get_or_create(&ClassLabels { class }).set(0);
        }
        let metrics = Metrics {
            registry: Registry::default(),
            engine_queued,
            engine_running,
            engine_requests: Family::default(),
            engine_wait: Family::new_with_constructor(seconds_histogram as fn() -> Histogram),
            scheduler_overhead: Histogram::new(MICROS_BUCKETS),
            feature_requests: Family::default(),
            feature_latency: Family::new_with_constructor(seconds_histogram as fn() -> Histogram),
            quota_refusals: Family::default(),
            platform_events: Family::default(),
            jobs: Family::default(),
            inference_requests: Family::default(),
            inference_server_up: Family::default(),
            inference_in_flight: Family::default(),
        };
        Arc::new(metrics.registered())
    }

    /// Registers every family (clones share their values) under its exposition name. Help
    /// texts get a full stop from prometheus-client; counters get `_total`.
    fn registered(mut self) -> Self {
        let r = &mut self.registry;
        r.register(
            "steward_engine_queued",
            "Requests waiting for the model, per priority class",
            self.engine_queued.clone(),
        );
        r.register(
            "steward_engine_running",
            "Requests being generated, per priority class",
            self.engine_running.clone(),
        );
        r.register(
            "steward_engine_requests",
            "Engine requests by class and outcome (completed, refused, shed, timed_out, ...)",
            self.engine_requests.clone(),
        );
        r.register(
            "steward_engine_wait_seconds",
            "Time a request waited in the queue before generation started",
            self.engine_wait.clone(),
        );
        r.register(
            "steward_scheduler_overhead_microseconds",
            "The scheduler's own cost per request, excluding queueing and generation",
            self.scheduler_overhead.clone(),
        );
        r.register(
            "steward_feature_requests",
            "Feature requests (ask, summarize, ...) by outcome",
            self.feature_requests.clone(),
        );
        r.register(
            "steward_feature_latency_seconds",
            "Time from a command to its reply, per feature",
            self.feature_latency.clone(),
        );
        r.register(
            "steward_quota_refusals",
            "Requests refused by a quota, by feature and scope (member, channel, community)",
            self.quota_refusals.clone(),
        );
        r.register(
            "steward_platform_events",
            "Platform events received (in) and actions sent (out), by platform and kind",
            self.platform_events.clone(),
        );
        r.register(
            "steward_jobs",
            "Background jobs by kind and outcome (enqueued, done, retried, failed)",
            self.jobs.clone(),
        );
        r.register(
            "steward_inference_requests",
            "Remote inference attempts by server and outcome (ok, failed_over, error, interrupted, fallback_local)",
            self.inference_requests.clone(),
        );
        r.register(
            "steward_inference_server_up",
            "Whether a remote inference server is in use (1) or taken out after failures (0)",
            self.inference_server_up.clone(),
        );
        r.register(
            "steward_inference_in_flight",
            "Requests running on a remote inference server",
            self.inference_in_flight.clone(),
        );
        self
    }

    /// Moves gauge `steward_engine_queued{class}` by `delta` (+1 on enqueue, -1 on dequeue).
    pub fn engine_queued(&self, class: &'static str, delta: i64) {
        self.engine_queued
            .get_or_create(&ClassLabels { class })
            .inc_by(delta);
    }

    /// Moves gauge `steward_engine_running{class}` by `delta`.
    pub fn engine_running(&self, class: &'static str, delta: i64) {
        self.engine_running
            .get_or_create(&ClassLabels { class })
            .inc_by(delta);
    }

    /// Counts one engine request's end in `steward_engine_requests_total{class,outcome}`;
    /// outcome is one of completed, refused, shed, timed_out, cancelled, failed.
    pub fn engine_outcome(&self, class: &'static str, outcome: &'static str) {
        self.engine_requests
            .get_or_create(&ClassOutcomeLabels { class, outcome })
            .inc();
    }

    /// Records how long a request waited before generation (`steward_engine_wait_seconds`).
    pub fn engine_wait_seconds(&self, class: &'static str, seconds: f64) {
        self.engine_wait
            .get_or_create(&ClassLabels { class })
            .observe(seconds);
    }

    /// Records the scheduler's own cost for one request
    /// (`steward_scheduler_overhead_microseconds`).
    pub fn scheduler_overhead_micros(&self, micros: f64) {
        self.scheduler_overhead.observe(micros);
    }

    /// Counts one feature request (`steward_feature_requests_total{feature,outcome}`) and
    /// records its latency (`steward_feature_latency_seconds{feature}`).
    pub fn feature_request(&self, feature: &'static str, outcome: &'static str, seconds: f64) {
        self.feature_requests
            .get_or_create(&FeatureOutcomeLabels { feature, outcome })
            .inc();
        self.feature_latency
            .get_or_create(&FeatureLabels { feature })
            .observe(seconds);
    }

    /// Counts one quota refusal (`steward_quota_refusals_total{feature,scope}`).
    pub fn quota_refused(&self, feature: &'static str, scope: &'static str) {
        self.quota_refusals
            .get_or_create(&QuotaLabels { feature, scope })
            .inc();
    }

    /// Counts one platform event (`steward_platform_events_total{platform,direction,kind}`);
    /// direction is `in` (received) or `out` (sent).
    pub fn platform_event(
        &self,
        platform: &'static str,
        direction: &'static str,
        kind: &'static str,
    ) {
        self.platform_events
            .get_or_create(&PlatformLabels {
                platform,
                direction,
                kind,
            })
            .inc();
    }

    /// Counts one background-job transition (`steward_jobs_total{kind,outcome}`); outcome is
    /// one of enqueued, done, retried, failed.
    pub fn jobs(&self, kind: &'static str, outcome: &'static str) {
        self.jobs.get_or_create(&JobLabels { kind, outcome }).inc();
    }

    /// Counts one remote inference attempt (`steward_inference_requests_total{server,outcome}`);
    /// outcome is one of ok, failed_over, error, interrupted, fallback_local (server "local").
    pub fn inference_outcome(&self, server: &str, outcome: &'static str) {
        self.inference_requests
            .get_or_create(&ServerOutcomeLabels {
                server: server.to_string(),
                outcome,
            })
            .inc();
    }

    /// Sets gauge `steward_inference_server_up{server}`: 1 in use, 0 taken out.
    pub fn inference_server_up(&self, server: &str, up: bool) {
        self.inference_server_up
            .get_or_create(&ServerLabels {
                server: server.to_string(),
            })
            .set(i64::from(up));
    }

    /// Moves gauge `steward_inference_in_flight{server}` by `delta`.
    pub fn inference_in_flight(&self, server: &str, delta: i64) {
        self.inference_in_flight
            .get_or_create(&ServerLabels {
                server: server.to_string(),
            })
            .inc_by(delta);
    }

    /// The Prometheus text exposition of every metric (see [`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; an error here would be a bug in an encoder.
        if let Err(error) =
            prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
        {
            tracing::warn!(%error, "metrics: encoding failed");
        }
        text
    }

    /// The current `steward_engine_requests_total{class,outcome}` (0 if never counted).
    pub fn engine_outcome_count(&self, class: &'static str, outcome: &'static str) -> u64 {
        self.engine_requests
            .get(&ClassOutcomeLabels { class, outcome })
            .map_or(0, |counter| counter.get())
    }

    /// The current engine gauge: `kind` is `queued` or `running` (anything else reads 0).
    pub fn engine_gauge(&self, kind: &'static str, class: &'static str) -> i64 {
        let family = match kind {
            "queued" => &self.engine_queued,
            "running" => &self.engine_running,
            _ => return 0,
        };
        family
            .get(&ClassLabels { class })
            .map_or(0, |gauge| gauge.get())
    }

    /// The current `steward_feature_requests_total{feature,outcome}`.
    pub fn feature_count(&self, feature: &'static str, outcome: &'static str) -> u64 {
        self.feature_requests
            .get(&FeatureOutcomeLabels { feature, outcome })
            .map_or(0, |counter| counter.get())
    }

    /// The current `steward_quota_refusals_total{feature,scope}`.
    pub fn quota_refusal_count(&self, feature: &'static str, scope: &'static str) -> u64 {
        self.quota_refusals
            .get(&QuotaLabels { feature, scope })
            .map_or(0, |counter| counter.get())
    }

    /// The current `steward_platform_events_total{platform,direction,kind}`.
    pub fn platform_event_count(
        &self,
        platform: &'static str,
        direction: &'static str,
        kind: &'static str,
    ) -> u64 {
        let labels = PlatformLabels {
            platform,
            direction,
            kind,
        };
        self.platform_events
            .get(&labels)
            .map_or(0, |counter| counter.get())
    }

    /// The current `steward_inference_requests_total{server,outcome}` (0 if never counted).
    pub fn inference_outcome_count(&self, server: &str, outcome: &'static str) -> u64 {
        let labels = ServerOutcomeLabels {
            server: server.to_string(),
            outcome,
        };
        self.inference_requests
            .get(&labels)
            .map_or(0, |counter| counter.get())
    }

    /// Whether `steward_inference_server_up{server}` says the server is in use; `None` for a
    /// server the pool never knew.
    pub fn inference_server_is_up(&self, server: &str) -> Option<bool> {
        let labels = ServerLabels {
            server: server.to_string(),
        };
        self.inference_server_up
            .get(&labels)
            .map(|gauge| gauge.get() != 0)
    }

    /// The current `steward_inference_in_flight{server}` (0 if never set).
    pub fn inference_in_flight_count(&self, server: &str) -> i64 {
        let labels = ServerLabels {
            server: server.to_string(),
        };
        self.inference_in_flight
            .get(&labels)
            .map_or(0, |gauge| gauge.get())
    }

    /// The current `steward_jobs_total{kind,outcome}`.
    pub fn job_count(&self, kind: &'static str, outcome: &'static str) -> u64 {
        self.jobs
            .get(&JobLabels { kind, outcome })
            .map_or(0, |counter| counter.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_registry_shows_the_engine_gauges_at_zero() {
        let metrics = Metrics::new();
        let text = metrics.encode();
        for class in ENGINE_CLASSES {
            assert!(
                text.contains(&format!("steward_engine_queued{{class=\"{class}\"}} 0\n")),
                "{text}"
            );
            assert!(
                text.contains(&format!("steward_engine_running{{class=\"{class}\"}} 0\n")),
                "{text}"
            );
        }
        assert!(
            text.contains("# TYPE steward_engine_queued gauge"),
            "{text}"
        );
        assert_eq!(metrics.engine_outcome_count("interactive", "completed"), 0);
        assert_eq!(metrics.engine_gauge("queued", "background"), 0);
        assert_eq!(metrics.engine_gauge("bogus", "background"), 0);
    }

    #[test]
    fn calls_show_up_in_the_exposition_and_the_read_backs() {
        let metrics = Metrics::new();
        metrics.engine_queued("interactive", 1);
        metrics.engine_queued("interactive", 1);
        metrics.engine_queued("interactive", -1);
        metrics.engine_running("moderation", 2);
        metrics.engine_outcome("interactive", "completed");
        metrics.engine_outcome("interactive", "completed");
        metrics.engine_outcome("background", "shed");
        metrics.engine_wait_seconds("interactive", 0.3);
        metrics.scheduler_overhead_micros(12.0);
        metrics.feature_request("ask", "answered", 1.5);
        metrics.feature_request("ask", "quota", 0.01);
        metrics.quota_refused("ask", "member");
        metrics.platform_event("discord", "in", "message");
        metrics.jobs("review", "enqueued");

        assert_eq!(metrics.engine_gauge("queued", "interactive"), 1);
        assert_eq!(metrics.engine_gauge("running", "moderation"), 2);
        assert_eq!(metrics.engine_outcome_count("interactive", "completed"), 2);
        assert_eq!(metrics.engine_outcome_count("background", "shed"), 1);
        assert_eq!(metrics.engine_outcome_count("background", "failed"), 0);
        assert_eq!(metrics.feature_count("ask", "answered"), 1);
        assert_eq!(metrics.feature_count("ask", "quota"), 1);
        assert_eq!(metrics.quota_refusal_count("ask", "member"), 1);
        assert_eq!(metrics.quota_refusal_count("ask", "channel"), 0);
        assert_eq!(metrics.platform_event_count("discord", "in", "message"), 1);
        assert_eq!(metrics.job_count("review", "enqueued"), 1);

        let text = metrics.encode();
        for expected in [
            "steward_engine_queued{class=\"interactive\"} 1\n",
            "steward_engine_running{class=\"moderation\"} 2\n",
            "steward_engine_requests_total{class=\"interactive\",outcome=\"completed\"} 2\n",
            "steward_engine_requests_total{class=\"background\",outcome=\"shed\"} 1\n",
            "steward_engine_wait_seconds_bucket{class=\"interactive\",le=\"0.5\"} 1\n",
            "steward_engine_wait_seconds_count{class=\"interactive\"} 1\n",
            "steward_scheduler_overhead_microseconds_count 1\n",
            "steward_feature_requests_total{feature=\"ask\",outcome=\"answered\"} 1\n",
            "steward_feature_latency_seconds_count{feature=\"ask\"} 2\n",
            "steward_quota_refusals_total{feature=\"ask\",scope=\"member\"} 1\n",
            "steward_platform_events_total{platform=\"discord\",direction=\"in\",kind=\"message\"} 1\n",
            "steward_jobs_total{kind=\"review\",outcome=\"enqueued\"} 1\n",
            "# TYPE steward_engine_requests_total counter\n",
            "# TYPE steward_feature_latency_seconds histogram\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }

    #[test]
    fn inference_series_are_labelled_by_server() {
        let metrics = Metrics::new();
        assert_eq!(metrics.inference_server_is_up("gpu-1"), None);
        metrics.inference_server_up("gpu-1", true);
        metrics.inference_server_up("gpu-2", true);
        metrics.inference_server_up("gpu-2", false);
        metrics.inference_outcome("gpu-1", "ok");
        metrics.inference_outcome("gpu-1", "ok");
        metrics.inference_outcome("gpu-2", "failed_over");
        metrics.inference_in_flight("gpu-1", 1);
        metrics.inference_in_flight("gpu-1", 1);
        metrics.inference_in_flight("gpu-1", -1);

        assert_eq!(metrics.inference_server_is_up("gpu-1"), Some(true));
        assert_eq!(metrics.inference_server_is_up("gpu-2"), Some(false));
        assert_eq!(metrics.inference_outcome_count("gpu-1", "ok"), 2);
        assert_eq!(metrics.inference_outcome_count("gpu-2", "failed_over"), 1);
        assert_eq!(metrics.inference_outcome_count("gpu-2", "ok"), 0);
        assert_eq!(metrics.inference_in_flight_count("gpu-1"), 1);

        let text = metrics.encode();
        for expected in [
            "steward_inference_requests_total{server=\"gpu-1\",outcome=\"ok\"} 2\n",
            "steward_inference_server_up{server=\"gpu-2\"} 0\n",
            "steward_inference_in_flight{server=\"gpu-1\"} 1\n",
            "# TYPE steward_inference_requests_total counter\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }
}
