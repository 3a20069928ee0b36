//! `GET /metrics` of the router: the Prometheus text format, read back with the
//! `prometheus-parse` crate and checked by `promtool check metrics` (Debian's `prometheus`
//! package), while sessions start, go live, get viewers, stop, hit a rate limit and meet the
//! reconciler.
//!
//! The recorder is global to the process, so everything that reads its numbers is one test.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use ltcg_streaming_core::egress::{EgressBackend, EgressRequest, EncodingSettings};
use ltcg_streaming_core::service::RateLimitConfig;
use ltcg_streaming_core::store::SessionStore as _;
use ltcg_streaming_core::{Actor, MemoryStore, SecretString, SessionId};
use ltcg_streaming_test_support::harness::*;
use ltcg_streaming_test_support::http::{app, assert_error, call, AGENT_KEY, INTERNAL_KEY};
use ltcg_streaming_test_support::media::artifacts_dir;
use ltcg_streaming_test_support::nginx_rtmp::missing;
use prometheus_parse::{Sample, Scrape, Value};

/// One scrape, parsed; the raw text kept for promtool.
struct Metrics {
    text: String,
    samples: Scrape,
}

impl Metrics {
    /// The value of `name` with exactly `labels` (histograms: their `_count`), 0 if absent.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let want: HashMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.sum(name, |s| {
            let have: HashMap<String, String> = s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            have == want
        })
    }

    /// The sum of `name` over every label set.
    fn total(&self, name: &str) -> f64 {
        self.sum(name, |_| true)
    }

    /// The sum of the samples of `name` that `keep` selects.
    fn sum(&self, name: &str, keep: impl Fn(&Sample) -> bool) -> f64 {
        self.samples
            .samples
            .iter()
            .filter(|s| s.metric == name && keep(s))
            .map(|s| match &s.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
                Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
                Value::Summary(_) => f64::NAN,
            })
            .sum()
    }
}

async fn scrape(router: &axum::Router) -> Metrics {
    let reply = call(router, Method::GET, "/metrics", Some(INTERNAL_KEY), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let content_type = reply.headers["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let lines = reply.text.lines().map(|l| Ok(l.to_owned()));
    let samples = Scrape::parse(lines).expect("the Prometheus text format");
    Metrics {
        text: reply.text,
        samples,
    }
}

/// `promtool check metrics` on `text`: its complaints, or `None` when it is not installed
/// (outside CI).
fn promtool_problems(text: &str) -> Option<String> {
    use std::io::Write;
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        missing("promtool (Debian: prometheus)");
        return None;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(if out.status.success() {
        String::new()
    } else {
        said
    })
}

#[tokio::test]
async fn metrics_follow_sessions_as_they_run() {
    let limits = RateLimitConfig {
        starts_per_minute: 1,
        start_burst: 2,
        ..RateLimitConfig::disabled()
    };
    let h = Harness::with(Arc::new(MemoryStore::new()), limits);
    let router = app(&h);

    let anonymous = call(&router, Method::GET, "/metrics", None, None).await;
    assert_error(
        &anonymous,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "no key",
    );
    let agent = call(&router, Method::GET, "/metrics", Some(AGENT_KEY), None).await;
    assert_error(&agent, StatusCode::FORBIDDEN, "FORBIDDEN", "agent key");

    let before = scrape(&router).await;
    let created = [("outcome", "created")];
    let started = h
        .service
        .start_stream(&Actor::Internal, agent_start("metrics_agent"))
        .await
        .unwrap();
    let after_start = scrape(&router).await;
    assert_eq!(
        after_start.get("ltcg_streaming_starts_total", &created),
        before.get("ltcg_streaming_starts_total", &created) + 1.0
    );
    assert_eq!(
        after_start.get("ltcg_streaming_sessions", &[("status", "pending")]),
        1.0
    );
    assert_eq!(
        after_start.get("ltcg_streaming_start_duration_seconds", &[]),
        before.get("ltcg_streaming_start_duration_seconds", &[]) + 1.0
    );
    let inserts = [("operation", "insert_session")];
    assert!(
        after_start.get("ltcg_streaming_store_operation_duration_seconds", &inserts)
            > before.get("ltcg_streaming_store_operation_duration_seconds", &inserts)
    );

    h.go_live(&started.session_id).await;
    let duplicate = h.go_live(&started.session_id).await;
    assert!(duplicate.duplicate);
    h.store
        .set_viewer_count(&started.session_id, 42)
        .await
        .unwrap();
    let live = scrape(&router).await;
    assert_eq!(
        live.get("ltcg_streaming_sessions", &[("status", "live")]),
        1.0
    );
    assert_eq!(
        live.get("ltcg_streaming_sessions", &[("status", "pending")]),
        0.0
    );
    assert_eq!(
        live.get("ltcg_streaming_destinations", &[("status", "active")]),
        1.0
    );
    assert_eq!(
        live.get("ltcg_streaming_viewers", &[("platform", "twitch")]),
        42.0
    );
    for outcome in ["applied", "duplicate"] {
        let labels = [("outcome", outcome)];
        assert_eq!(
            live.get("ltcg_streaming_webhook_duration_seconds", &labels),
            before.get("ltcg_streaming_webhook_duration_seconds", &labels) + 1.0,
            "{outcome}"
        );
    }

    let reused = h
        .service
        .start_stream(&Actor::Internal, agent_start("metrics_agent"))
        .await
        .unwrap();
    assert!(reused.reused);
    h.stop(&Actor::Internal, &started.session_id).await.unwrap();
    let ended = [("status", "ended"), ("reason", "manual")];
    let stopped = scrape(&router).await;
    assert_eq!(
        stopped.get("ltcg_streaming_starts_total", &[("outcome", "reused")]),
        before.get("ltcg_streaming_starts_total", &[("outcome", "reused")]) + 1.0
    );
    assert_eq!(
        stopped.get("ltcg_streaming_sessions_ended_total", &ended),
        before.get("ltcg_streaming_sessions_ended_total", &ended) + 1.0
    );
    assert_eq!(stopped.total("ltcg_streaming_sessions"), 0.0);

    // The second new start within the minute passes (burst 2), the third is refused.
    for _ in 0..2 {
        let _ = h
            .service
            .start_stream(&Actor::Internal, agent_start("metrics_agent"))
            .await
            .map(|s| s.session_id);
        let active = h
            .store
            .active_session(&ltcg_streaming_core::Entity::agent("metrics_agent").unwrap())
            .await
            .unwrap();
        if let Some(active) = active {
            h.stop(&Actor::Internal, &active.id).await.unwrap();
        }
    }
    let limited = scrape(&router).await;
    let starts = [("limit", "starts")];
    assert_eq!(
        limited.get("ltcg_streaming_rate_limited_total", &starts),
        before.get("ltcg_streaming_rate_limited_total", &starts) + 1.0
    );
    let refused = [("operation", "start"), ("code", "RATE_LIMITED")];
    assert_eq!(
        limited.get("ltcg_streaming_errors_total", &refused),
        before.get("ltcg_streaming_errors_total", &refused) + 1.0
    );

    // An orphan egress of our overlay: the reconciler stops it.
    let orphan_url = format!(
        "{APP_URL}/stream/overlay?sessionId={}&token=t",
        SessionId::generate()
    );
    h.egress
        .start(&EgressRequest {
            title: "Orphan".into(),
            session_id: SessionId::generate(),
            page_url: SecretString::from(orphan_url),
            outputs: vec![SecretString::from("rtmp://127.0.0.1/live/k")],
            encoding: EncodingSettings::default(),
            destination_policy: None,
        })
        .await
        .unwrap();
    h.service.reconcile(&Actor::Internal).await.unwrap();
    let reconciled = scrape(&router).await;
    for action in ["stopped_egress", "pass"] {
        let labels = [("action", action)];
        assert_eq!(
            reconciled.get("ltcg_streaming_reconciler_actions_total", &labels),
            before.get("ltcg_streaming_reconciler_actions_total", &labels) + 1.0,
            "{action}"
        );
    }
    assert!(
        reconciled.text.contains("# HELP ltcg_streaming_sessions "),
        "metrics are described"
    );
    assert!(
        reconciled
            .text
            .contains("ltcg_streaming_start_duration_seconds_bucket{le=\"0.001\"}"),
        "latencies are histograms with the documented buckets"
    );
    if let Some(problems) = promtool_problems(&reconciled.text) {
        assert_eq!(problems, "", "promtool check metrics");
    }
    std::fs::write(
        artifacts_dir("metrics").join("scrape.txt"),
        &reconciled.text,
    )
    .unwrap();
}
