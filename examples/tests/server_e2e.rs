//! The reference server end to end, as a process: the seed's API over HTTP, `TestPatternEgress`
//! pushing a real stream into nginx-rtmp on 127.0.0.1 (read back with `ffprobe`), sessions
//! surviving a restart, graceful shutdown, and the overlay rendered by headless Chromium.
//!
//! Secret leak scan: every server here runs with `RUST_LOG=trace`; its whole
//! output and every HTTP response the tests receive are kept, and when the server is dropped
//! they are searched for every secret the test gave it (API keys, the encryption key, the JWT
//! and LiveKit secrets, every stream key, hence every unredacted RTMP URL).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ltcg_streaming_test_support::browser::{chromium, Headless};
use ltcg_streaming_test_support::harness::sign_webhook_with;
use ltcg_streaming_test_support::nginx_rtmp::*;
use ltcg_streaming_test_support::server::*;
use serde_json::json;

/// The reference server binary.
const SERVER: &str = env!("CARGO_BIN_EXE_ltcg-streaming-server");

fn tools() -> bool {
    if !have("ffmpeg") || !have("ffprobe") {
        return !missing("ffmpeg");
    }
    true
}

#[test]
fn custom_stream_through_http_to_nginx_rtmp() {
    let Some(nginx) = NginxRtmp::start() else {
        return;
    };
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let port = free_port();
    let server = Server::start(SERVER, &db, port);
    let key = format!("e2ekey{port}");
    server.watch_secret(&key);
    let (status, started) = server.request(
        "POST",
        "/api/streaming/start",
        Some(INTERNAL_KEY),
        Some(json!({"userId": "test_user", "streamType": "user", "platform": "custom", "streamKey": key, "customRtmpUrl": nginx.base_url(), "streamTitle": "E2E"})),
    );
    assert_eq!(status, 200, "{started}");
    let sid = started["sessionId"].as_str().unwrap().to_owned();
    let codecs = probe_codecs(&format!("{}/{key}", nginx.base_url()));
    assert!(
        codecs.iter().any(|c| c == "h264") && codecs.iter().any(|c| c == "aac"),
        "{codecs:?}"
    );
    server.wait_status(&sid, "live");
    std::thread::sleep(Duration::from_millis(500));
    let (status, stopped) = server.request(
        "POST",
        "/api/streaming/stop",
        Some(INTERNAL_KEY),
        Some(json!({"sessionId": sid, "reason": "manual"})),
    );
    assert_eq!(status, 200);
    assert!(
        stopped["stats"]["duration"].as_i64().unwrap() > 0,
        "{stopped}"
    );
    let ended = server.status(&sid);
    assert_eq!(ended["status"], "ended");
    assert!(ended["duration"].as_i64().unwrap() > 0);
    assert!(processes_with(&key).is_empty(), "no ffmpeg left running");

    // Graceful shutdown, and the session is still there after a restart.
    assert!(server.terminate().success());
    let again = Server::start(SERVER, &db, port);
    again.watch_secret(&key);
    let after = again.status(&sid);
    assert_eq!(
        (after["status"].as_str(), after["duration"].as_i64()),
        (Some("ended"), ended["duration"].as_i64())
    );
    let (status, _) = again.request(
        "GET",
        &format!("/api/streaming/status?sessionId={sid}"),
        None,
        None,
    );
    assert_eq!(status, 401, "keys configured: credentials required");
}

/// Opens `url` in headless Chromium, waits until the page marks itself rendered (or
/// `settle` passes), saves a screenshot and returns the DOM.
fn render(browser: &Path, url: &str, screenshot: &Path, settle: Duration) -> String {
    let mut page = Headless::start(browser, 1920, 1080);
    page.goto(url);
    page.wait_for(
        "document.body && document.body.dataset.ready === 'true'",
        settle,
    );
    page.screenshot(screenshot);
    page.dom()
}

#[test]
fn overlay_renders_decisions_and_events_in_headless_chromium() {
    let Some(browser) = chromium() else {
        missing("chromium");
        return;
    };
    let Some(nginx) = NginxRtmp::start() else {
        return;
    };
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(SERVER, &dir.path().join("overlay.db"), free_port());
    let (status, started) = server.request(
        "POST",
        "/api/streaming/start",
        Some(INTERNAL_KEY),
        Some(json!({"agentId": "agent_blaze", "entityName": "BlazeMaster", "platform": "custom", "streamKey": "overlaykey1", "customRtmpUrl": nginx.base_url(), "streamTitle": "BlazeMaster plays LTCG"})),
    );
    assert_eq!(status, 200, "{started}");
    let sid = started["sessionId"].as_str().unwrap();
    let decision = json!({"sessionId": sid, "gameId": "g1", "turnNumber": 7, "phase": "combat", "action": "attack", "reasoning": "Opponent has no blockers: swing for lethal."});
    assert_eq!(
        server
            .request(
                "POST",
                "/api/agents/decisions",
                Some(INTERNAL_KEY),
                Some(decision)
            )
            .0,
        200
    );
    let event = json!({"sessionId": sid, "gameId": "g1", "turnNumber": 7, "eventType": "agent_decided", "description": "BlazeMaster attacks with Ember Drake", "playerUsername": "BlazeMaster"});
    assert_eq!(
        server
            .request(
                "POST",
                "/api/agents/events",
                Some(INTERNAL_KEY),
                Some(event)
            )
            .0,
        200
    );

    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let url = started["overlayUrl"].as_str().unwrap();
    let dom = render(
        &browser,
        url,
        &artifacts.join("overlay.png"),
        Duration::from_secs(20),
    );
    assert!(dom.contains("data-ready=\"true\""), "{dom}");
    assert!(
        dom.contains("Opponent has no blockers: swing for lethal."),
        "{dom}"
    );
    assert!(
        dom.contains("BlazeMaster attacks with Ember Drake"),
        "{dom}"
    );
    assert!(dom.contains("BlazeMaster plays LTCG"));
    assert!(dom.contains("theme-dark"));
    assert!(artifacts.join("overlay.png").exists(), "screenshot saved");

    let bad = url.split("&token=").next().unwrap().to_owned() + "&token=forged";
    let denied = render(
        &browser,
        &bad,
        &artifacts.join("overlay-denied.png"),
        Duration::from_secs(2),
    );
    assert!(denied.contains("Unauthorized overlay access"), "{denied}");
    assert!(!denied.contains("swing for lethal") && !denied.contains("BlazeMaster"));
    server.request(
        "POST",
        "/api/streaming/stop",
        Some(INTERNAL_KEY),
        Some(json!({"sessionId": sid})),
    );
}

/// The `Authorization` header the real `livekit-server-sdk` makes for `body` (installed by
/// `npm ci` in `examples/e2e`), or `None` when it is not installed (outside CI).
fn sign_with_livekit_sdk(body: &str, secret: &str) -> Option<String> {
    let package = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e");
    if !package.join("node_modules/livekit-server-sdk").exists() || !have_node() {
        missing("livekit-server-sdk (npm ci in examples/e2e) and node");
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/sign-livekit-webhook.mjs");
    let mut child = Command::new("node")
        .arg(script)
        .arg(&package)
        .arg(LIVEKIT_KEY)
        .arg(secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "signing script failed");
    Some(String::from_utf8(out.stdout).unwrap())
}

fn have_node() -> bool {
    Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn egress_event(id: &str, event: &str, egress: &str, status: Option<&str>) -> String {
    let mut info = json!({"egressId": egress});
    if let Some(status) = status {
        info["status"] = status.into();
    }
    json!({"event": event, "id": id, "createdAt": "1795478000", "egressInfo": info}).to_string()
}

#[test]
fn livekit_signed_webhooks_drive_a_session_over_http() {
    if sign_with_livekit_sdk("{}", LIVEKIT_SECRET).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        SERVER,
        &dir.path().join("webhooks.db"),
        free_port(),
        &[
            ("LTCG_EGRESS", "memory"),
            ("LIVEKIT_API_KEY", LIVEKIT_KEY),
            ("LIVEKIT_API_SECRET", LIVEKIT_SECRET),
        ],
    );
    let (status, started) = server.request(
        "POST",
        "/api/streaming/start",
        Some(INTERNAL_KEY),
        Some(json!({"agentId": "agent_hooks", "platform": "twitch", "streamKey": "live_123456789_abcdefghijklmnop"})),
    );
    assert_eq!(
        (status, started["status"].as_str()),
        (200, Some("pending")),
        "{started}"
    );
    let sid = started["sessionId"].as_str().unwrap();
    let egress = server.egress_of(sid);

    // A forged webhook (another secret) is refused and changes nothing.
    let active = egress_event(
        "EV_active",
        "egress_updated",
        &egress,
        Some("EGRESS_ACTIVE"),
    );
    let forged = sign_with_livekit_sdk(&active, "not-the-livekit-secret-0123456789").unwrap();
    let (status, body) = server.webhook(&active, &forged);
    assert_eq!((status, body["code"].as_str()), (401, Some("UNAUTHORIZED")));
    assert_eq!(server.status(sid)["status"], "pending");

    let (status, body) = server.webhook(
        &active,
        &sign_with_livekit_sdk(&active, LIVEKIT_SECRET).unwrap(),
    );
    assert_eq!(
        (status, body["applied"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    assert_eq!(server.status(sid)["status"], "live");

    std::thread::sleep(Duration::from_millis(50));
    let ended = egress_event("EV_ended", "egress_ended", &egress, Some("EGRESS_COMPLETE"));
    let (status, body) = server.webhook(
        &ended,
        &sign_with_livekit_sdk(&ended, LIVEKIT_SECRET).unwrap(),
    );
    assert_eq!(
        (status, body["applied"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    let done = server.status(sid);
    assert_eq!(
        (done["status"].as_str(), done["endReason"].as_str()),
        (Some("ended"), Some("egress_complete"))
    );
    // The same delivery again is a duplicate.
    let (status, body) = server.webhook(
        &ended,
        &sign_with_livekit_sdk(&ended, LIVEKIT_SECRET).unwrap(),
    );
    assert_eq!((status, body["duplicate"].as_bool()), (200, Some(true)));
}

#[test]
fn production_with_the_memory_egress_verifies_webhooks_without_a_livekit_url() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        SERVER,
        &dir.path().join("memory.db"),
        free_port(),
        &[
            ("LTCG_EGRESS", "memory"),
            ("LIVEKIT_API_KEY", LIVEKIT_KEY),
            ("LIVEKIT_API_SECRET", LIVEKIT_SECRET),
        ],
    );
    let body = egress_event(
        "EV_nourl",
        "egress_updated",
        "EG_unknown_egress",
        Some("EGRESS_ACTIVE"),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let signed = sign_webhook_with(&body, now, LIVEKIT_KEY, LIVEKIT_SECRET);
    let (status, reply) = server.webhook(&body, &signed);
    assert_eq!(
        (status, reply["received"].as_bool()),
        (200, Some(true)),
        "{reply}"
    );
    let forged = sign_webhook_with(&body, now, LIVEKIT_KEY, "not-the-livekit-secret-0123456789");
    assert_eq!(server.webhook(&body, &forged).0, 401);
}

#[test]
fn production_mode_requires_the_app_url_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ltcg-streaming-server"))
        .env("LTCG_BIND", format!("127.0.0.1:{}", free_port()))
        .env("LTCG_DATABASE", dir.path().join("prod.db"))
        .env("LTCG_INTERNAL_KEY", INTERNAL_KEY)
        .env("LTCG_EGRESS", "memory")
        .env("STREAM_KEY_ENCRYPTION_KEY", ENC_KEY)
        .env(
            "STREAMING_JWT_SECRET",
            "e2e-overlay-secret-0123456789abcdef",
        )
        .env_remove("NEXT_PUBLIC_APP_URL")
        .env_remove("LIVEKIT_URL")
        .env_remove("LIVEKIT_API_KEY")
        .env_remove("LIVEKIT_API_SECRET")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A server that starts anyway would serve forever: give it a deadline.
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the server started without NEXT_PUBLIC_APP_URL");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("NEXT_PUBLIC_APP_URL is missing"),
        "{stderr}"
    );
    assert!(!stderr.contains(ENC_KEY), "{stderr}");
}

#[test]
fn development_mode_refuses_to_listen_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ltcg-streaming-server"))
        .env("LTCG_BIND", format!("0.0.0.0:{}", free_port()))
        .env("LTCG_DATABASE", dir.path().join("dev.db"))
        .env_remove("LTCG_INTERNAL_KEY")
        .env_remove("LTCG_AGENT_KEYS")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing to listen on 0.0.0.0"), "{stderr}");
    assert!(!dir.path().join("dev.db").exists(), "nothing created");
}

#[test]
#[should_panic(expected = "a secret leaked into the server log")]
fn the_leak_scan_finds_a_watched_value_in_the_log() {
    // The scan itself must be able to fail: the startup banner is printed, so watching a
    // piece of it as if it were a secret makes the scan panic when the server is dropped.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(SERVER, &dir.path().join("scan.db"), free_port());
    server.watch_secret("ltcg-streaming-server listening on");
}
