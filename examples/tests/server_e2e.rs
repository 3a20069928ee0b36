//! The reference server end to end, as a process: the seed's API over HTTP, `LocalEgress`
//! pushing a real stream into nginx-rtmp on 127.0.0.1 (read back with `ffprobe`), sessions
//! surviving a restart, graceful shutdown, and the overlay rendered by headless Chromium.

#[path = "../../ltcg-streaming-core/tests/support/nginx_rtmp.rs"]
mod nginx_rtmp;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nginx_rtmp::*;
use serde_json::{json, Value};

const INTERNAL_KEY: &str = "e2e-internal-key-0123456789";
const ENC_KEY: &str = "6457ed47ba47dc9dccb72b09f27843b717aed4fcb909b4a7472fff3c46733e23";

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(db: &Path, port: u16) -> Self {
        Self::start_with(db, port, &[])
    }

    fn start_with(db: &Path, port: u16, extra: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ltcg-streaming-server"));
        command
            .env("LTCG_BIND", format!("127.0.0.1:{port}"))
            .env("LTCG_DATABASE", db)
            .env("LTCG_INTERNAL_KEY", INTERNAL_KEY)
            .env("STREAM_KEY_ENCRYPTION_KEY", ENC_KEY)
            .env("STREAMING_JWT_SECRET", "e2e-overlay-secret")
            .env_remove("LIVEKIT_URL")
            .env_remove("LIVEKIT_API_KEY")
            .env_remove("LIVEKIT_API_SECRET")
            .env_remove("NEXT_PUBLIC_APP_URL")
            .env_remove("LTCG_EGRESS")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command.spawn().unwrap();
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while server.request("GET", "/healthz", None, None).0 != 200 {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// A minimal HTTP/1.1 client: (status, JSON body).
    fn request(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let auth =
            key.map(|k| format!("Authorization: Bearer {k}\r\nContent-Type: application/json\r\n"));
        self.raw_request(
            method,
            path,
            auth.as_deref(),
            &body.map(|b| b.to_string()).unwrap_or_default(),
        )
    }

    /// POSTs `body` to the LiveKit webhook endpoint the way LiveKit does.
    fn webhook(&self, body: &str, authorization: &str) -> (u16, Value) {
        let headers =
            format!("Authorization: {authorization}\r\nContent-Type: application/webhook+json\r\n");
        self.raw_request("POST", "/api/webhooks/livekit", Some(&headers), body)
    }

    /// One HTTP/1.1 request with extra header lines: (status, JSON body).
    fn raw_request(
        &self,
        method: &str,
        path: &str,
        headers: Option<&str>,
        body: &str,
    ) -> (u16, Value) {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return (0, Value::Null);
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let headers = headers.unwrap_or("Content-Type: application/json\r\n");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut raw = String::new();
        let _ = stream.read_to_string(&mut raw);
        let status = raw
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let json = raw
            .split_once("\r\n\r\n")
            .and_then(|(_, b)| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        (status, json)
    }

    fn status(&self, sid: &str) -> Value {
        self.request(
            "GET",
            &format!("/api/streaming/status?sessionId={sid}"),
            Some(INTERNAL_KEY),
            None,
        )
        .1
    }

    fn wait_status(&self, sid: &str, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.status(sid)["status"] != want {
            assert!(
                Instant::now() < deadline,
                "status {} never became {want}",
                self.status(sid)["status"]
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not shut down");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
    let server = Server::start(&db, port);
    let key = format!("e2ekey{port}");
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
    let again = Server::start(&db, port);
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

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Headless Chromium driven over the DevTools protocol: opens `url`, waits until the page
/// marks itself rendered (or `settle` passes), returns the DOM and saves a screenshot.
fn render(browser: &Path, url: &str, screenshot: &Path, settle: Duration) -> String {
    use base64::Engine as _;
    let profile = tempfile::tempdir().unwrap();
    let mut chrome = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            "--window-size=1920,1080",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Chromium writes the port it chose here.
    let port_file = profile.path().join("DevToolsActivePort");
    let deadline = Instant::now() + Duration::from_secs(30);
    let port: u16 = loop {
        if let Some(port) = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.parse().ok()))
        {
            break port;
        }
        assert!(Instant::now() < deadline, "chromium did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    let page_ws = loop {
        let list = http_get(port, "/json/list");
        let pages: Value = serde_json::from_str(&list).unwrap_or(Value::Null);
        if let Some(ws) = pages
            .as_array()
            .and_then(|p| p.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
        {
            break ws.to_owned();
        }
        assert!(Instant::now() < deadline, "no page target");
        std::thread::sleep(Duration::from_millis(100));
    };
    let (mut socket, _) = tungstenite::connect(page_ws.as_str()).unwrap();
    let mut next_id = 0;
    let mut call = |method: &str, params: Value| -> Value {
        next_id += 1;
        let id = next_id;
        socket
            .send(tungstenite::Message::text(
                json!({"id": id, "method": method, "params": params}).to_string(),
            ))
            .unwrap();
        loop {
            let msg = socket.read().unwrap();
            if let Ok(v) = serde_json::from_str::<Value>(msg.to_text().unwrap_or("")) {
                if v["id"] == id {
                    return v["result"].clone();
                }
            }
        }
    };
    let settle_until = Instant::now() + settle;
    let eval = "document.readyState === 'complete' && document.body && document.body.dataset.ready === 'true'";
    while Instant::now() < settle_until {
        let ready = call(
            "Runtime.evaluate",
            json!({"expression": eval, "returnByValue": true}),
        );
        if ready["result"]["value"] == true {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let dom = call(
        "Runtime.evaluate",
        json!({"expression": "document.documentElement.outerHTML", "returnByValue": true}),
    );
    let shot = call("Page.captureScreenshot", json!({"format": "png"}));
    if let Some(data) = shot["data"].as_str() {
        std::fs::write(
            screenshot,
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap(),
        )
        .unwrap();
    }
    let _ = chrome.kill();
    let _ = chrome.wait();
    dom["result"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A plain HTTP GET on 127.0.0.1 (Chromium's DevTools endpoint, which keeps connections
/// open), returning the body as announced by `Content-Length`.
fn http_get(port: u16, path: &str) -> String {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .and_then(|n| n.trim().parse::<usize>().ok())
            });
            if length.is_some_and(|n| body.len() >= n) {
                return body.to_owned();
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => {
                return text
                    .split_once("\r\n\r\n")
                    .map(|(_, b)| b.to_owned())
                    .unwrap_or_default()
            }
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
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
    let server = Server::start(&dir.path().join("overlay.db"), free_port());
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
    assert!(dom.contains("class=\"theme-dark\""));
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

const LIVEKIT_KEY: &str = "APIe2eLiveKit";
const LIVEKIT_SECRET: &str = "e2e-livekit-secret-0123456789abcdef";

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

fn egress_event(id: &str, event: &str, status: Option<&str>) -> String {
    let mut info = json!({"egressId": "EG_mem00000001"});
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
        &dir.path().join("webhooks.db"),
        free_port(),
        &[
            ("LTCG_EGRESS", "memory"),
            ("LIVEKIT_URL", "ws://127.0.0.1:9"),
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

    // A forged webhook (another secret) is refused and changes nothing.
    let active = egress_event("EV_active", "egress_updated", Some("EGRESS_ACTIVE"));
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
    let ended = egress_event("EV_ended", "egress_ended", Some("EGRESS_COMPLETE"));
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
