//! `steward status`: reads a running Steward's metrics endpoint and prints the numbers that
//! matter as short tables (engine classes, features, quota refusals, platform events, jobs).
//!
//! The parser reads only what Steward itself writes: `name{label="value",...} number` lines,
//! `#` lines skipped. Anything it cannot read is skipped rather than failing the report.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use super::ENGINE_CLASSES;

/// How long `steward status` waits for the endpoint.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The scheduler's outcomes, always shown as columns in this order.
const ENGINE_OUTCOMES: [&str; 6] = [
    "completed",
    "refused",
    "shed",
    "timed_out",
    "cancelled",
    "failed",
];

/// Why the status could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error(
        "metrics are off: set [metrics] listen = \"127.0.0.1:9464\" in the config of the running \
         Steward, or pass --url http://HOST:PORT/metrics"
    )]
    Off,
    #[error("cannot reach {url}: {reason} (is `steward run` running with [metrics] listen set?)")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered {status}, not the metrics text (is it Steward's metrics endpoint?)")]
    BadStatus { url: String, status: u16 },
}

impl StatusError {
    /// A short stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            StatusError::Off => "metrics_off",
            StatusError::Unreachable { .. } => "metrics_unreachable",
            StatusError::BadStatus { .. } => "metrics_bad_status",
        }
    }
}

/// The URL of the endpoint listening on `listen`. A wildcard address (`0.0.0.0`, `::`) is
/// reached through loopback.
pub fn default_url(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/metrics", SocketAddr::new(ip, listen.port()))
}

/// GETs `url` and returns the exposition text.
pub async fn fetch(url: &str) -> Result<String, StatusError> {
    let cannot_reach = |error: reqwest::Error| StatusError::Unreachable {
        url: url.to_string(),
        reason: error_chain(&error),
    };
    // No proxy: the endpoint is the operator's own process, usually on loopback.
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(FETCH_TIMEOUT)
        .build()
        .map_err(cannot_reach)?;
    let response = client.get(url).send().await.map_err(cannot_reach)?;
    if !response.status().is_success() {
        return Err(StatusError::BadStatus {
            url: url.to_string(),
            status: response.status().as_u16(),
        });
    }
    response.text().await.map_err(cannot_reach)
}

/// reqwest's own message is only "error sending request"; the cause says why.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// One sample line of the exposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    /// The value of label `key`, if present.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Every sample in `text`; comment lines and lines that do not parse are skipped.
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inner)?;
        labels = parsed;
        rest = after;
    }
    // A timestamp may follow the value; it is not needed here.
    let value = rest.split_whitespace().next()?.parse::<f64>().ok()?;
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// Parses `key="value",...}` and returns the labels and the text after the `}`.
fn parse_labels(mut text: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    loop {
        text = text.trim_start();
        if let Some(after) = text.strip_prefix('}') {
            return Some((labels, after));
        }
        let (key, after_key) = text.split_once('=')?;
        let quoted = after_key.trim_start().strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        let end = loop {
            let (index, c) = chars.next()?;
            match c {
                '"' => break index,
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    escaped => value.push(escaped),
                },
                c => value.push(c),
            }
        };
        labels.push((key.trim().to_string(), value));
        text = quoted[end + 1..].trim_start();
        text = text.strip_prefix(',').unwrap_or(text);
    }
}

/// The human report of `samples`: one small table per area.
pub fn render(samples: &[Sample]) -> String {
    let mut out = String::new();
    out.push_str("Engine\n");
    out.push_str(&engine_table(samples));
    out.push_str("Features\n");
    out.push_str(&counter_table(
        samples,
        "steward_feature_requests_total",
        "feature",
        "outcome",
        &["answered", "refused", "quota", "too_long", "failed"],
        Some("steward_feature_latency_seconds"),
    ));
    out.push_str("Quota refusals\n");
    out.push_str(&counter_table(
        samples,
        "steward_quota_refusals_total",
        "feature",
        "scope",
        &["member", "channel", "community"],
        None,
    ));
    out.push_str("Platform events\n");
    out.push_str(&platform_table(samples));
    out.push_str("Background jobs\n");
    out.push_str(&counter_table(
        samples,
        "steward_jobs_total",
        "kind",
        "outcome",
        &["enqueued", "done", "retried", "failed"],
        None,
    ));
    if samples
        .iter()
        .any(|s| s.name.starts_with("steward_inference_"))
    {
        out.push_str("Inference servers\n");
        out.push_str(&inference_table(samples));
    }
    if let Some(mean) = mean(samples, "steward_scheduler_overhead_microseconds", None) {
        let line = format!("Scheduler overhead: {mean:.1} µs per request (mean)\n");
        out.push_str(&line);
    }
    out
}

fn engine_table(samples: &[Sample]) -> String {
    let requests = "steward_engine_requests_total";
    let names = [
        "steward_engine_queued",
        "steward_engine_running",
        requests,
        "steward_engine_wait_seconds_count",
    ];
    let seen = values_of(samples, &names, "class");
    let classes = ordered(&ENGINE_CLASSES, &seen);
    let outcomes = ordered(
        &ENGINE_OUTCOMES,
        &values_of(samples, &[requests], "outcome"),
    );
    let mut header = vec!["class".to_string(), "queued".into(), "running".into()];
    header.extend(outcomes.iter().cloned());
    header.push("mean wait s".into());
    let rows = classes
        .iter()
        .map(|class| {
            let by_class = [("class", class.as_str())];
            let mut row = vec![
                class.clone(),
                count(sum(samples, "steward_engine_queued", &by_class)),
                count(sum(samples, "steward_engine_running", &by_class)),
            ];
            for outcome in &outcomes {
                let labels = [("class", class.as_str()), ("outcome", outcome.as_str())];
                row.push(count(sum(samples, requests, &labels)));
            }
            let by_class = Some(("class", class.as_str()));
            let wait = mean(samples, "steward_engine_wait_seconds", by_class);
            row.push(wait.map_or_else(|| "-".to_string(), |s| format!("{s:.2}")));
            row
        })
        .collect();
    table(header, rows, 1)
}

/// One row per remote server (and `local` when the in-process model stood in): in use or
/// taken out, requests in flight, and the attempts by outcome.
fn inference_table(samples: &[Sample]) -> String {
    let requests = "steward_inference_requests_total";
    let (up, in_flight) = ("steward_inference_server_up", "steward_inference_in_flight");
    let servers = ordered(
        &[],
        &values_of(samples, &[requests, up, in_flight], "server"),
    );
    let known = [
        "ok",
        "failed_over",
        "error",
        "interrupted",
        "fallback_local",
    ];
    let outcomes = ordered(&known, &values_of(samples, &[requests], "outcome"));
    let mut header = ["server", "in use", "in flight"].map(String::from).to_vec();
    header.extend(outcomes.iter().cloned());
    let rows = servers
        .iter()
        .map(|server| {
            let by_server = [("server", server.as_str())];
            let state = samples
                .iter()
                .find(|s| s.name == up && s.label("server") == Some(server.as_str()))
                .map_or("-", |s| if s.value > 0.0 { "yes" } else { "no" });
            let mut row = vec![
                server.clone(),
                state.to_string(),
                count(sum(samples, in_flight, &by_server)),
            ];
            for outcome in &outcomes {
                let labels = [("server", server.as_str()), ("outcome", outcome.as_str())];
                row.push(count(sum(samples, requests, &labels)));
            }
            row
        })
        .collect();
    table(header, rows, 1)
}

/// Rows by `row_label`, columns by `column_label` (the `known` ones first, in that order);
/// with `latency`, a last column with the mean of that histogram per row.
fn counter_table(
    samples: &[Sample],
    name: &str,
    row_label: &str,
    column_label: &str,
    known: &[&str],
    latency: Option<&str>,
) -> String {
    let rows = ordered(&[], &values_of(samples, &[name], row_label));
    let columns = ordered(known, &values_of(samples, &[name], column_label));
    let mut header = vec![row_label.to_string()];
    header.extend(columns.iter().cloned());
    if latency.is_some() {
        header.push("mean s".into());
    }
    let rows = rows
        .iter()
        .map(|row_value| {
            let mut row = vec![row_value.clone()];
            for column in &columns {
                let labels = [
                    (row_label, row_value.as_str()),
                    (column_label, column.as_str()),
                ];
                row.push(count(sum(samples, name, &labels)));
            }
            if let Some(histogram) = latency {
                let mean = mean(samples, histogram, Some((row_label, row_value.as_str())));
                row.push(mean.map_or_else(|| "-".to_string(), |s| format!("{s:.2}")));
            }
            row
        })
        .collect();
    table(header, rows, 1)
}

fn platform_table(samples: &[Sample]) -> String {
    let name = "steward_platform_events_total";
    let mut keys = BTreeSet::new();
    for sample in samples.iter().filter(|s| s.name == name) {
        if let (Some(platform), Some(kind)) = (sample.label("platform"), sample.label("kind")) {
            keys.insert((platform.to_string(), kind.to_string()));
        }
    }
    let header = ["platform", "kind", "in", "out"].map(String::from).to_vec();
    let rows = keys
        .into_iter()
        .map(|(platform, kind)| {
            let of = |direction| {
                let labels = [
                    ("platform", platform.as_str()),
                    ("kind", kind.as_str()),
                    ("direction", direction),
                ];
                count(sum(samples, name, &labels))
            };
            let (incoming, outgoing) = (of("in"), of("out"));
            vec![platform, kind, incoming, outgoing]
        })
        .collect();
    table(header, rows, 2)
}

/// The distinct values of `label` across samples named one of `names`.
fn values_of(samples: &[Sample], names: &[&str], label: &str) -> BTreeSet<String> {
    samples
        .iter()
        .filter(|s| names.contains(&s.name.as_str()))
        .filter_map(|s| s.label(label).map(str::to_string))
        .collect()
}

/// All `known` values in their order (so the usual columns are always there), then the other
/// seen values alphabetically.
fn ordered(known: &[&str], seen: &BTreeSet<String>) -> Vec<String> {
    let mut out: Vec<String> = known.iter().map(|k| k.to_string()).collect();
    let others = seen.iter().filter(|v| !known.contains(&v.as_str()));
    out.extend(others.cloned());
    out
}

/// Sum of the samples named `name` whose labels include all of `labels`.
fn sum(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| labels.iter().all(|(k, v)| s.label(k) == Some(*v)))
        .map(|s| s.value)
        .sum()
}

/// Mean of histogram `name` (from `_sum` / `_count`), optionally for one label value.
fn mean(samples: &[Sample], name: &str, label: Option<(&str, &str)>) -> Option<f64> {
    let labels: Vec<(&str, &str)> = label.into_iter().collect();
    let total = sum(samples, &format!("{name}_sum"), &labels);
    let n = sum(samples, &format!("{name}_count"), &labels);
    (n > 0.0).then(|| total / n)
}

/// Whole numbers without decimals (counters, gauges); anything else with two.
fn count(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:.2}")
    }
}

/// A plain text table, indented by two spaces; the first `left` columns are left-aligned,
/// the numbers right-aligned.
fn table(header: Vec<String>, rows: Vec<Vec<String>>, left: usize) -> String {
    if rows.is_empty() {
        return "  (nothing yet)\n".to_string();
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        out.push(' ');
        for (index, (cell, &width)) in row.iter().zip(&widths).enumerate() {
            if index < left {
                out.push_str(&format!(" {cell:<width$}"));
            } else {
                out.push_str(&format!("  {cell:>width$}"));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP steward_engine_queued Requests waiting.
# TYPE steward_engine_queued gauge
steward_engine_queued{class="interactive"} 2
steward_engine_queued{class="background"} 40
steward_engine_running{class="interactive"} 1
steward_engine_requests_total{class="interactive",outcome="completed"} 12
steward_engine_requests_total{class="interactive",outcome="refused"} 3
steward_engine_requests_total{class="background",outcome="odd"} 1
steward_engine_wait_seconds_sum{class="interactive"} 3.0
steward_engine_wait_seconds_count{class="interactive"} 12
steward_feature_requests_total{feature="ask",outcome="answered"} 10
steward_feature_requests_total{feature="ask",outcome="quota"} 2
steward_feature_latency_seconds_bucket{feature="ask",le="+Inf"} 12
steward_feature_latency_seconds_sum{feature="ask"} 18
steward_feature_latency_seconds_count{feature="ask"} 12
steward_quota_refusals_total{feature="ask",scope="member"} 2
steward_platform_events_total{platform="discord",direction="in",kind="message"} 40
steward_platform_events_total{platform="discord",direction="out",kind="message"} 12
steward_scheduler_overhead_microseconds_sum 50
steward_scheduler_overhead_microseconds_count 4
weird{a="x \"quoted\" \\ back",b="line\nbreak"} 1.5 1700000000
not a sample
"#;

    #[test]
    fn parses_names_labels_and_values() {
        let samples = parse(TEXT);
        assert_eq!(samples.len(), 19, "{samples:#?}");
        assert_eq!(samples[0].name, "steward_engine_queued");
        assert_eq!(samples[0].label("class"), Some("interactive"));
        assert_eq!(samples[0].value, 2.0);
        let bucket = samples.iter().find(|s| s.label("le").is_some()).unwrap();
        assert_eq!(bucket.value, 12.0);
        let weird = samples.last().unwrap();
        assert_eq!(weird.label("a"), Some("x \"quoted\" \\ back"));
        assert_eq!(weird.label("b"), Some("line\nbreak"));
        assert_eq!(weird.value, 1.5);
        let unlabelled = parse("up 1\n");
        assert_eq!(unlabelled[0].name, "up");
        assert!(unlabelled[0].labels.is_empty());
    }

    #[test]
    fn renders_the_tables() {
        let report = render(&parse(TEXT));
        // The first line starting with `start`, its cells separated by single spaces.
        let line = |start: &str| {
            let found = report.lines().find(|l| l.trim_start().starts_with(start));
            let found = found.unwrap_or_else(|| panic!("no line {start:?} in\n{report}"));
            found.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        let header = "class queued running completed refused shed timed_out cancelled failed odd";
        assert_eq!(line("class"), format!("{header} mean wait s"));
        assert_eq!(line("interactive"), "interactive 2 1 12 3 0 0 0 0 0 0.25");
        assert_eq!(line("moderation"), "moderation 0 0 0 0 0 0 0 0 0 -");
        assert_eq!(line("background"), "background 40 0 0 0 0 0 0 0 1 -");
        // feature answered refused quota too_long failed mean
        assert_eq!(
            line("feature"),
            "feature answered refused quota too_long failed mean s"
        );
        assert_eq!(line("ask"), "ask 10 0 2 0 0 1.50");
        let quotas = "Quota refusals\n  feature  member  channel  community\n";
        assert!(report.contains(quotas), "{report}");
        assert_eq!(line("discord"), "discord message 40 12");
        let jobs = "Background jobs\n  (nothing yet)\n";
        assert!(report.contains(jobs), "{report}");
        assert!(report.contains("12.5 µs"), "{report}");
        assert!(!report.contains("Inference servers"), "{report}");
    }

    #[test]
    fn remote_servers_get_their_own_table() {
        let text = "steward_inference_requests_total{server=\"gpu-1\",outcome=\"ok\"} 7\n\
            steward_inference_requests_total{server=\"gpu-1\",outcome=\"failed_over\"} 2\n\
            steward_inference_server_up{server=\"gpu-1\"} 0\n\
            steward_inference_server_up{server=\"gpu-2\"} 1\n\
            steward_inference_in_flight{server=\"gpu-2\"} 3\n";
        let report = render(&parse(text));
        let line = |start: &str| {
            let found = report.lines().find(|l| l.trim_start().starts_with(start));
            let found = found.unwrap_or_else(|| panic!("no line {start:?} in\n{report}"));
            found.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        let outcomes = "ok failed_over error interrupted fallback_local";
        assert_eq!(
            line("server"),
            format!("server in use in flight {outcomes}")
        );
        assert_eq!(line("gpu-1"), "gpu-1 no 0 7 2 0 0 0");
        assert_eq!(line("gpu-2"), "gpu-2 yes 3 0 0 0 0 0");
    }

    #[test]
    fn wildcard_addresses_are_reached_through_loopback() {
        let url = |addr: &str| default_url(addr.parse().unwrap());
        assert_eq!(url("127.0.0.1:9464"), "http://127.0.0.1:9464/metrics");
        assert_eq!(url("0.0.0.0:9464"), "http://127.0.0.1:9464/metrics");
        assert_eq!(url("[::]:9464"), "http://[::1]:9464/metrics");
        assert_eq!(url("10.0.0.5:80"), "http://10.0.0.5:80/metrics");
    }
}
