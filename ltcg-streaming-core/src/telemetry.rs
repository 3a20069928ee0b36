//! The service's metrics: every name, label and unit in one place, recorded through the
//! [`metrics`] facade, which costs next to nothing until the host installs a recorder.
//! [`install_prometheus`] (feature `http`) installs the Prometheus one; the router serves it
//! at `GET /metrics` (internal callers only) after refreshing the gauges
//! ([`crate::StreamingService::refresh_metrics`]).
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `ltcg_streaming_sessions` | gauge | `status` | active sessions in the store, by status (every replica reports the whole store) |
//! | `ltcg_streaming_destinations` | gauge | `status` | outputs of active sessions, by status |
//! | `ltcg_streaming_viewers` | gauge | `platform` | viewers of live sessions, by platform, as last polled |
//! | `ltcg_streaming_render_fps` | gauge | `egress_id` | frames per second of each render on this machine |
//! | `ltcg_streaming_render_speed` | gauge | `egress_id` | encoding speed of each render on this machine (1.0: real time) |
//! | `ltcg_streaming_starts_total` | counter | `outcome` | successful starts: `created` or `reused` |
//! | `ltcg_streaming_sessions_ended_total` | counter | `status`, `reason` | sessions that ended (`ended` or `error`), by stop reason |
//! | `ltcg_streaming_errors_total` | counter | `operation`, `code` | refused or failed calls, by operation and error code |
//! | `ltcg_streaming_start_duration_seconds` | histogram | – | how long a start call took |
//! | `ltcg_streaming_webhook_duration_seconds` | histogram | `outcome` | how long applying an egress event took: `applied`, `ignored` or `duplicate` |
//! | `ltcg_streaming_store_operation_duration_seconds` | histogram | `operation` | store calls, by method |
//! | `ltcg_streaming_rate_limited_total` | counter | `limit` | calls refused by a rate limit: `calls` or `starts` |
//! | `ltcg_streaming_reconciler_actions_total` | counter | `action` | what reconciler passes did |
//!
//! Labels never carry secrets, user input beyond ids the service made, or unbounded values:
//! egress ids label only renders running on this machine, and gauges not refreshed for
//! [`GAUGE_IDLE_TIMEOUT`] disappear, so an ended render's series goes away.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::service::{ReconcileReport, StartStreamResponse, WebhookOutcome};
use crate::session::{SessionStatus, StreamSession};

/// Active sessions by `status`.
pub const SESSIONS: &str = "ltcg_streaming_sessions";
/// Outputs of active sessions by `status`.
pub const DESTINATIONS: &str = "ltcg_streaming_destinations";
/// Viewers of live sessions by `platform`.
pub const VIEWERS: &str = "ltcg_streaming_viewers";
/// Frames per second of a local render, by `egress_id`.
pub const RENDER_FPS: &str = "ltcg_streaming_render_fps";
/// Encoding speed of a local render, by `egress_id`.
pub const RENDER_SPEED: &str = "ltcg_streaming_render_speed";
/// Successful starts by `outcome`.
pub const STARTS: &str = "ltcg_streaming_starts_total";
/// Sessions that ended, by `status` and `reason`.
pub const SESSIONS_ENDED: &str = "ltcg_streaming_sessions_ended_total";
/// Refused or failed calls by `operation` and `code`.
pub const ERRORS: &str = "ltcg_streaming_errors_total";
/// Start call latency.
pub const START_DURATION: &str = "ltcg_streaming_start_duration_seconds";
/// Egress event (webhook) latency by `outcome`.
pub const WEBHOOK_DURATION: &str = "ltcg_streaming_webhook_duration_seconds";
/// Store call latency by `operation`.
pub const STORE_DURATION: &str = "ltcg_streaming_store_operation_duration_seconds";
/// Rate-limit refusals by `limit`.
pub const RATE_LIMITED: &str = "ltcg_streaming_rate_limited_total";
/// Reconciler actions by `action`.
pub const RECONCILER_ACTIONS: &str = "ltcg_streaming_reconciler_actions_total";

/// Histogram buckets of the latencies, in seconds: 100 µs to 30 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];

/// How long a gauge stays without being set before the exporter forgets it.
pub const GAUGE_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Registers the description and unit of every metric with the installed recorder.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_gauge!(SESSIONS, "Active sessions in the store, by status.");
    describe_gauge!(DESTINATIONS, "Outputs of active sessions, by status.");
    describe_gauge!(
        VIEWERS,
        "Viewers of live sessions, by platform, as last polled."
    );
    describe_gauge!(
        RENDER_FPS,
        "Frames per second of each render on this machine."
    );
    describe_gauge!(
        RENDER_SPEED,
        "Encoding speed of each render on this machine (1.0 is real time)."
    );
    describe_counter!(STARTS, "Successful stream starts, by outcome.");
    describe_counter!(SESSIONS_ENDED, "Sessions that ended, by status and reason.");
    describe_counter!(
        ERRORS,
        "Refused or failed calls, by operation and error code."
    );
    describe_histogram!(START_DURATION, Unit::Seconds, "How long a start call took.");
    describe_histogram!(
        WEBHOOK_DURATION,
        Unit::Seconds,
        "How long applying an egress event (webhook) took, by outcome."
    );
    describe_histogram!(
        STORE_DURATION,
        Unit::Seconds,
        "How long a store call took, by operation."
    );
    describe_counter!(RATE_LIMITED, "Calls refused by a rate limit, by limit.");
    describe_counter!(RECONCILER_ACTIONS, "What reconciler passes did, by action.");
}

/// Counts a failed or refused call of `operation`.
pub(crate) fn failed(operation: &'static str, error: &Error) {
    metrics::counter!(ERRORS, "operation" => operation, "code" => error.code().as_str())
        .increment(1);
}

/// Records a finished start call.
pub(crate) fn start_finished(result: &Result<StartStreamResponse>, took: Duration) {
    metrics::histogram!(START_DURATION).record(took.as_secs_f64());
    match result {
        Ok(started) => {
            let outcome = if started.reused { "reused" } else { "created" };
            metrics::counter!(STARTS, "outcome" => outcome).increment(1);
        }
        Err(e) => failed("start", e),
    }
}

/// Records an applied (or refused) egress event.
pub(crate) fn egress_event_finished(result: &Result<WebhookOutcome>, took: Duration) {
    let outcome = match result {
        Ok(o) if o.duplicate => "duplicate",
        Ok(o) if o.applied => "applied",
        Ok(_) => "ignored",
        Err(e) => {
            failed("webhook", e);
            "failed"
        }
    };
    metrics::histogram!(WEBHOOK_DURATION, "outcome" => outcome).record(took.as_secs_f64());
}

/// Records a session change from `before` to `after`.
pub(crate) fn session_changed(before: SessionStatus, after: &StreamSession) {
    if !before.is_terminal() && after.status.is_terminal() {
        let reason = after
            .end_reason
            .as_deref()
            .map_or("none", crate::session::end_reason::label);
        metrics::counter!(SESSIONS_ENDED, "status" => after.status.as_str(), "reason" => reason)
            .increment(1);
    }
}

/// Counts a refusal by the rate limit `limit` (`calls` or `starts`).
pub(crate) fn rate_limited(limit: &'static str) {
    metrics::counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

/// Counts what a reconciler pass did.
pub(crate) fn reconciled(report: &ReconcileReport) {
    let actions = [
        ("stopped_egress", report.stopped_egresses.len()),
        ("adopted", report.adopted.len()),
        ("caught_up", report.caught_up.len()),
        ("timed_out", report.timed_out.len()),
        ("max_duration_ended", report.max_duration_ended.len()),
        ("vanished", report.vanished.len()),
        ("error", report.errors.len()),
    ];
    for (action, n) in actions {
        if n > 0 {
            metrics::counter!(RECONCILER_ACTIONS, "action" => action).increment(n as u64);
        }
    }
    let pass = if report.lease_held_by.is_some() {
        "deferred_pass"
    } else {
        "pass"
    };
    metrics::counter!(RECONCILER_ACTIONS, "action" => pass).increment(1);
}

/// Records one store call.
pub(crate) fn store_call(operation: &'static str, took: Duration) {
    metrics::histogram!(STORE_DURATION, "operation" => operation).record(took.as_secs_f64());
}

/// How often recorded histogram samples are folded into their buckets.
#[cfg(feature = "http")]
const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Installs the Prometheus recorder for this process (once; later calls return the same
/// handle) with the latency buckets and gauge timeout above, describes the metrics and
/// starts a thread that folds histogram samples every 5 s.
/// Fails when another recorder was installed first.
#[cfg(feature = "http")]
pub fn install_prometheus() -> std::result::Result<
    metrics_exporter_prometheus::PrometheusHandle,
    metrics_exporter_prometheus::BuildError,
> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    use metrics_util::MetricKindMask;
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _once = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)?
        .idle_timeout(MetricKindMask::GAUGE, Some(GAUGE_IDLE_TIMEOUT))
        .install_recorder()?;
    // Histogram samples wait in the recorder until upkeep folds them into the buckets; a
    // process nobody scrapes would otherwise keep every sample (about 80 bytes a webhook).
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("ltcg-metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            upkeep.run_upkeep();
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no metrics upkeep thread: histograms are folded only when scraped");
    }
    describe();
    let _ = HANDLE.set(handle.clone());
    Ok(handle)
}
