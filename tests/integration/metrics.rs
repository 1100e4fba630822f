//! The metrics endpoint over real HTTP: scraped counters move as requests are recorded, other
//! paths are 404, a busy address fails at bind, and cancelling shutdown ends the server.

use std::net::SocketAddr;
use std::time::Duration;

use steward::metrics::{self, status, Metrics, MetricsServer};
use tokio_util::sync::CancellationToken;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// GETs `url`; returns the status, the content type and the body.
async fn get(url: &str) -> (u16, String, String) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scraped_counters_move_and_shutdown_ends_the_server() {
    let metrics = Metrics::new();
    let listener = metrics::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(metrics::serve(metrics.clone(), listener, shutdown.clone()));
    let url = format!("http://{addr}/metrics");
    let completed = "steward_engine_requests_total{class=\"interactive\",outcome=\"completed\"}";

    let (code, content_type, before) = get(&url).await;
    assert_eq!(code, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(
        before.contains("steward_engine_queued{class=\"interactive\"} 0\n"),
        "{before}"
    );
    assert!(!before.contains(completed), "{before}");

    metrics.engine_outcome("interactive", "completed");
    metrics.engine_outcome("interactive", "completed");
    metrics.engine_outcome("interactive", "refused");
    metrics.engine_queued("background", 3);
    metrics.feature_request("ask", "answered", 0.4);
    metrics.feature_request("ask", "quota", 0.001);
    metrics.quota_refused("ask", "member");
    metrics.platform_event("console", "in", "message");

    let (code, _, after) = get(&url).await;
    assert_eq!(code, 200);
    for expected in [
        format!("{completed} 2\n"),
        "steward_engine_requests_total{class=\"interactive\",outcome=\"refused\"} 1\n".into(),
        "steward_engine_queued{class=\"background\"} 3\n".into(),
        "steward_feature_requests_total{feature=\"ask\",outcome=\"answered\"} 1\n".into(),
        "steward_feature_latency_seconds_count{feature=\"ask\"} 2\n".into(),
        "steward_quota_refusals_total{feature=\"ask\",scope=\"member\"} 1\n".into(),
        "steward_platform_events_total{platform=\"console\",direction=\"in\",kind=\"message\"} 1\n"
            .to_string(),
    ] {
        assert!(
            after.contains(&expected),
            "missing {expected:?} in\n{after}"
        );
    }

    // What `steward status` prints comes from the same scrape.
    let text = status::fetch(&url).await.unwrap();
    let report = status::render(&status::parse(&text));
    let interactive = report
        .lines()
        .find(|line| line.trim_start().starts_with("interactive"))
        .unwrap_or_else(|| panic!("{report}"));
    let cells: Vec<&str> = interactive.split_whitespace().collect();
    // class queued running completed refused ...
    assert_eq!(cells[..5], ["interactive", "0", "0", "2", "1"], "{report}");

    let (code, _, _) = get(&format!("http://{addr}/other")).await;
    assert_eq!(code, 404);
    let (code, _, _) = get(&format!("http://{addr}/")).await;
    assert_eq!(code, 404);

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server ends after shutdown")
        .expect("the server task did not panic");
    let refused = client().get(&url).send().await;
    assert!(refused.is_err(), "nothing listens after shutdown");
}

#[tokio::test]
async fn a_busy_address_fails_at_bind_naming_it() {
    let taken = metrics::bind(any_port()).await.unwrap();
    let addr = taken.local_addr().unwrap();
    let error = metrics::bind(addr).await.unwrap_err();
    assert_eq!(error.label(), "metrics_bind");
    let message = error.to_string();
    assert!(message.contains(&addr.to_string()), "{message}");
    assert!(message.contains("[metrics] listen"), "{message}");
}

#[tokio::test]
async fn the_server_handle_reports_its_port_and_stops() {
    let shutdown = CancellationToken::new();
    let server = MetricsServer::start(Metrics::new(), any_port(), shutdown.clone())
        .await
        .unwrap();
    assert_ne!(server.local_addr.port(), 0);
    let (code, _, body) = get(&format!("http://{}/metrics", server.local_addr)).await;
    assert_eq!(code, 200);
    assert!(
        body.contains("# TYPE steward_engine_running gauge"),
        "{body}"
    );
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), server.stopped())
        .await
        .expect("stopped after shutdown");
}

#[tokio::test]
async fn status_says_when_nothing_listens() {
    // Bind and drop to get a port that is (very likely) closed.
    let addr = metrics::bind(any_port())
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{addr}/metrics");
    let error = status::fetch(&url).await.unwrap_err();
    assert_eq!(error.label(), "metrics_unreachable");
    assert!(error.to_string().contains(&url), "{error}");
}
