//! The reference server as a child process, for the end-to-end tests: start it on a port
//! with a SQLite file (or on PostgreSQL, given `LTCG_DATABASE_URL`), talk HTTP/1.1 to it,
//! and scan everything it printed and answered for leaked secrets when it is dropped.
//!
//! Every server runs with `RUST_LOG=trace`; its stdout and stderr go to `<db>.<port>.log`,
//! every raw HTTP response is kept, and on drop both are searched for every secret the test
//! gave it (API keys, the encryption key, the JWT and LiveKit secrets, and each stream key,
//! hence each unredacted RTMP URL).
//!
//! The server binary is only known to the examples' integration tests
//! (`env!("CARGO_BIN_EXE_ltcg-streaming-server")`), which pass its path to [`Server::start`].

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ltcg_streaming_core::session::StreamSession;
use ltcg_streaming_core::store::{PostgresStore, SessionStore, SqliteStore};
use ltcg_streaming_core::SessionId;
use serde_json::Value;

/// The internal API key of every test server.
pub const INTERNAL_KEY: &str = "e2e-internal-key-0123456789";
/// `STREAM_KEY_ENCRYPTION_KEY` of every test server.
pub const ENC_KEY: &str = "6457ed47ba47dc9dccb72b09f27843b717aed4fcb909b4a7472fff3c46733e23";
/// LiveKit API key for tests that configure LiveKit.
pub const LIVEKIT_KEY: &str = "APIe2eLiveKit";
/// LiveKit API secret for tests that configure LiveKit.
pub const LIVEKIT_SECRET: &str = "e2e-livekit-secret-0123456789abcdef";

/// Secrets every server is given.
pub const BASE_SECRETS: &[&str] = &[
    INTERNAL_KEY,
    ENC_KEY,
    "e2e-overlay-secret-0123456789abcdef",
    LIVEKIT_SECRET,
    // Stream keys the end-to-end tests use.
    "overlaykey1",
    "live_123456789_abcdefghijklmnop",
];

/// Polls `done` every 50 ms until it holds; panics naming `what` after `secs` seconds.
pub fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Gives `command` (the server, or the CLI on the same store) the environment of every test
/// server: production mode with [`INTERNAL_KEY`], [`ENC_KEY`] and a JWT secret, the SQLite
/// file `db`, `NEXT_PUBLIC_APP_URL` = `http://127.0.0.1:<port>`, TRACE logs, the small
/// picture, and no LiveKit or egress choice inherited from the caller's environment.
pub fn configure(command: &mut Command, db: &Path, port: u16) {
    command
        .env("RUST_LOG", "trace")
        .env("LTCG_DATABASE", db)
        .env("LTCG_INTERNAL_KEY", INTERNAL_KEY)
        .env("STREAM_KEY_ENCRYPTION_KEY", ENC_KEY)
        .env(
            "STREAMING_JWT_SECRET",
            "e2e-overlay-secret-0123456789abcdef",
        )
        .env_remove("LIVEKIT_URL")
        .env_remove("LIVEKIT_API_KEY")
        .env_remove("LIVEKIT_API_SECRET")
        .env("NEXT_PUBLIC_APP_URL", format!("http://127.0.0.1:{port}"))
        .env_remove("LTCG_EGRESS")
        // The small picture: renders share 2 cores with the rest of the suite.
        .env("LTCG_ENCODING", "H264_540P_30");
}

/// The database a server was given.
#[derive(Debug, Clone)]
enum Database {
    Sqlite(PathBuf),
    Postgres { url: String, schema: Option<String> },
}

impl Database {
    /// Session `id` as stored, read through a connection of its own.
    async fn session(&self, id: &SessionId) -> Option<StreamSession> {
        match self {
            Database::Sqlite(path) => {
                let store = SqliteStore::open(path).await.unwrap();
                let session = store.get_session(id).await.unwrap();
                store.close().await;
                session
            }
            Database::Postgres { url, schema } => {
                let store = match schema {
                    Some(schema) => PostgresStore::connect_with_schema(url, schema).await,
                    None => PostgresStore::connect(url).await,
                }
                .unwrap();
                let session = store.get_session(id).await.unwrap();
                store.close().await;
                session
            }
        }
    }
}

/// A running reference server; killed, then scanned for leaks, when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    /// Where its sessions are stored.
    db: Database,
    /// Where the server's stdout and stderr go.
    log: PathBuf,
    /// Every raw HTTP response received from this server.
    transcript: Mutex<String>,
    /// Values that must never appear in the log or a response.
    secrets: Mutex<Vec<String>>,
}

impl Server {
    /// Starts the server binary `program` on 127.0.0.1:`port` with the SQLite file `db` in
    /// production mode ([`INTERNAL_KEY`], `NEXT_PUBLIC_APP_URL` = its own address), and waits
    /// until `/healthz` answers.
    pub fn start(program: &str, db: &Path, port: u16) -> Self {
        Self::start_with(program, db, port, &[])
    }

    /// Like [`Server::start`] with extra environment variables; the values of those named
    /// `…SECRET` or `…KEYS` are watched by the leak scan. With `LTCG_DATABASE_URL` (and
    /// `LTCG_DATABASE_SCHEMA`) among them the server stores on PostgreSQL, and `db` only
    /// names its log file.
    pub fn start_with(program: &str, db: &Path, port: u16, extra: &[(&str, &str)]) -> Self {
        let log = PathBuf::from(format!("{}.{port}.log", db.display()));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let err = out.try_clone().unwrap();
        let mut command = Command::new(program);
        configure(&mut command, db, port);
        command
            .env("LTCG_BIND", format!("127.0.0.1:{port}"))
            .envs(extra.iter().copied())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let child = command.spawn().unwrap();
        let mut secrets: Vec<String> = BASE_SECRETS.iter().map(|s| s.to_string()).collect();
        secrets.extend(
            extra
                .iter()
                .filter(|(name, _)| name.ends_with("SECRET") || name.ends_with("KEYS"))
                .map(|(_, value)| value.to_string()),
        );
        let var = |name: &str| {
            extra
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        };
        let database = match var("LTCG_DATABASE_URL") {
            Some(url) => Database::Postgres {
                url,
                schema: var("LTCG_DATABASE_SCHEMA"),
            },
            None => Database::Sqlite(db.to_owned()),
        };
        let server = Self {
            child,
            port,
            db: database,
            log,
            transcript: Mutex::new(String::new()),
            secrets: Mutex::new(secrets),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while server.request("GET", "/healthz", None, None).0 != 200 {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// A minimal HTTP/1.1 client: (status, JSON body).
    pub fn request(
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

    /// A GET with the internal key whose answer is text: (status, body).
    pub fn get_text(&self, path: &str) -> (u16, String) {
        self.exchange(&format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer {INTERNAL_KEY}\r\n\r\n"
        ))
    }

    /// POSTs `body` to the LiveKit webhook endpoint the way LiveKit does.
    pub fn webhook(&self, body: &str, authorization: &str) -> (u16, Value) {
        let headers =
            format!("Authorization: {authorization}\r\nContent-Type: application/webhook+json\r\n");
        self.raw_request("POST", "/api/webhooks/livekit", Some(&headers), body)
    }

    /// One HTTP/1.1 request with extra header lines: (status, JSON body).
    pub fn raw_request(
        &self,
        method: &str,
        path: &str,
        headers: Option<&str>,
        body: &str,
    ) -> (u16, Value) {
        let headers = headers.unwrap_or("Content-Type: application/json\r\n");
        let (status, text) = self.exchange(&format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        ));
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Sends one raw request on a new connection; (status, body), (0, "") when the server
    /// cannot be reached. The answer is kept for the leak scan.
    fn exchange(&self, request: &str) -> (u16, String) {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return (0, String::new());
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut raw = String::new();
        let _ = stream.read_to_string(&mut raw);
        self.transcript.lock().unwrap().push_str(&raw);
        let status = raw
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = raw
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// The public status of session `sid` (through the internal key).
    pub fn status(&self, sid: &str) -> Value {
        self.request(
            "GET",
            &format!("/api/streaming/status?sessionId={sid}"),
            Some(INTERNAL_KEY),
            None,
        )
        .1
    }

    /// Waits up to 30 s until session `sid` has status `want`.
    pub fn wait_status(&self, sid: &str, want: &str) {
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

    /// The egress id the server's backend gave session `sid` (not in the public views), read
    /// from its database.
    pub fn egress_of(&self, sid: &str) -> String {
        let id = SessionId::parse(sid).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            self.db
                .session(&id)
                .await
                .expect("session exists")
                .egress_id
                .expect("session has an egress")
        })
    }

    /// The agent's sessions, newest first, as the server lists them to the internal key.
    pub fn sessions_of(&self, agent: &str) -> Vec<Value> {
        let (status, list) = self.request(
            "GET",
            &format!("/api/streaming/sessions?streamType=agent&entityId={agent}"),
            Some(INTERNAL_KEY),
            None,
        );
        assert_eq!(status, 200, "{list}");
        list["sessions"].as_array().cloned().unwrap_or_default()
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
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

impl Server {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown, no flushing; the process is gone when this returns.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What the server printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Adds a value (a stream key) the leak scan looks for.
    pub fn watch_secret(&self, secret: &str) {
        self.secrets.lock().unwrap().push(secret.to_owned());
    }

    /// Fails when a watched secret appears in the server's output or a response.
    pub fn scan_for_leaks(&self) {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let transcript = self.transcript.lock().unwrap();
        assert!(
            log.lines().count() > 5,
            "the trace log is nearly empty; is RUST_LOG honoured?"
        );
        for secret in self.secrets.lock().unwrap().iter() {
            for (what, text) in [("server log", &log), ("HTTP responses", &*transcript)] {
                if let Some(at) = text.find(secret.as_str()) {
                    let line = text[..at].lines().count();
                    panic!("a secret leaked into the {what} (line {line})");
                }
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            self.scan_for_leaks();
        }
    }
}
