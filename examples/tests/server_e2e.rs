//! The reference server end to end, as a process: the seed's API over HTTP, `LocalEgress`
//! pushing a real stream into nginx-rtmp on 127.0.0.1 (read back with `ffprobe`), sessions
//! surviving a restart, and graceful shutdown.

#[path = "../../ltcg-streaming-core/tests/support/nginx_rtmp.rs"]
mod nginx_rtmp;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
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
        let child = Command::new(env!("CARGO_BIN_EXE_ltcg-streaming-server"))
            .env("LTCG_BIND", format!("127.0.0.1:{port}"))
            .env("LTCG_DATABASE", db)
            .env("LTCG_INTERNAL_KEY", INTERNAL_KEY)
            .env("STREAM_KEY_ENCRYPTION_KEY", ENC_KEY)
            .env("STREAMING_JWT_SECRET", "e2e-overlay-secret")
            .env_remove("LIVEKIT_URL")
            .env_remove("LIVEKIT_API_KEY")
            .env_remove("LIVEKIT_API_SECRET")
            .env_remove("NEXT_PUBLIC_APP_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
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
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return (0, Value::Null);
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = key
            .map(|k| format!("Authorization: Bearer {k}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
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
