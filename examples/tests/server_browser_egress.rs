//! The reference server's default egress on a machine with Chromium, Xvfb, PulseAudio and
//! ffmpeg: the overlay page itself reaches nginx-rtmp. Killed with SIGKILL while streaming
//! and restarted on the same database, it cleans up what the old run left (browser, X
//! server, audio sink), nothing of the old run pushes any more, and its first reconcile pass
//! ends the session honestly (`egress_lost`).

use std::time::Duration;

use ltcg_streaming_core::egress::BrowserEgressOptions;
use ltcg_streaming_test_support::media::probe_once;
use ltcg_streaming_test_support::nginx_rtmp::*;
use ltcg_streaming_test_support::server::*;
use serde_json::json;

/// The reference server binary.
const SERVER: &str = env!("CARGO_BIN_EXE_ltcg-streaming-server");

/// The value of the render gauge `name` for `egress` in the server's `GET /metrics`.
fn render_metric(server: &Server, name: &str, egress: &str) -> f64 {
    let (status, text) = server.get_text("/metrics");
    assert_eq!(status, 200, "{text}");
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .expect("the Prometheus text format");
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && s.labels.get("egress_id") == Some(egress))
        .find_map(|s| match s.value {
            prometheus_parse::Value::Gauge(v) => Some(v),
            _ => None,
        })
        .unwrap_or(0.0)
}

#[test]
fn a_killed_server_leaves_nothing_pushing_after_its_restart() {
    let needs = BrowserEgressOptions::default().missing_programs();
    if !needs.is_empty() && missing(&needs.join(", ")) {
        return;
    }
    let Some(nginx) = NginxRtmp::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("browser.db");
    let port = free_port();
    let extra = [("LTCG_RECONCILE_SECS", "5")];
    let mut server = Server::start_with(SERVER, &db, port, &extra);
    assert!(
        server.output().contains("egress:  browser"),
        "the browser egress is the default here: {}",
        server.output()
    );
    let key = format!("crash{port}");
    server.watch_secret(&key);
    let (status, started) = server.request(
        "POST",
        "/api/streaming/start",
        Some(INTERNAL_KEY),
        Some(json!({"agentId": "agent_crash", "platform": "custom", "streamKey": key, "customRtmpUrl": nginx.base_url(), "streamTitle": "Crash test"})),
    );
    assert_eq!(status, 200, "{started}");
    let sid = started["sessionId"].as_str().unwrap().to_owned();
    server.wait_status(&sid, "live");
    let egress = server.egress_of(&sid);
    let url = format!("{}/{key}", nginx.base_url());
    assert!(
        probe_once(&url, Duration::from_secs(10)).is_some(),
        "the stream arrives"
    );
    assert!(
        processes_with(&key).is_empty(),
        "no command line holds the key"
    );
    let mut fps = 0.0;
    wait_until("the render's frame rate to be exported", 15, || {
        fps = render_metric(&server, "ltcg_streaming_render_fps", &egress);
        fps > 0.0
    });
    let speed = render_metric(&server, "ltcg_streaming_render_speed", &egress);
    eprintln!("the render runs at {fps} fps, speed {speed}");
    assert!(speed > 0.0, "the render's speed is exported");

    server.kill();
    // The browser and its X server outlive the server (their own process groups).
    assert!(
        !processes_with(&egress).is_empty(),
        "the old run left its render behind"
    );
    drop(server);

    let again = Server::start_with(SERVER, &db, port, &extra);
    again.watch_secret(&key);
    wait_until("the old run's processes to be reaped", 15, || {
        processes_with(&egress).is_empty()
    });
    wait_until("the session to end", 20, || {
        again.status(&sid)["status"].as_str() == Some("ended")
    });
    let ended = again.status(&sid);
    assert_eq!(ended["endReason"], "egress_lost", "{ended}");
    assert!(
        probe_once(&url, Duration::from_secs(3)).is_none(),
        "nothing of the old run pushes to the destination"
    );
    let sinks = std::process::Command::new("pactl")
        .args(["list", "short", "sinks"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&sinks.stdout).contains(&egress),
        "the old run's audio sink is gone"
    );
}
