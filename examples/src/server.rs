//! The reference server: the seed's REST API, the overlay page and LiveKit webhooks, on a
//! SQLite file store, or on PostgreSQL shared by any number of replicas.
//!
//! ```sh
//! cargo run -p ltcg-streaming-examples --bin ltcg-streaming-server
//! cargo run -p ltcg-streaming-examples --bin ltcg-streaming -- serve   # the same
//! ```
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `LTCG_BIND` | `127.0.0.1:3334` | listen address |
//! | `LTCG_DATABASE` | `ltcg-streaming.db` | SQLite file (sessions survive restarts); unused with `LTCG_DATABASE_URL`, but for development secrets |
//! | `LTCG_DATABASE_URL` | – | `postgres://user:password@host:port/db`: PostgreSQL instead of SQLite, shareable by replicas |
//! | `LTCG_DATABASE_SCHEMA` | the connection's default | the PostgreSQL schema of the tables (created if missing) |
//! | `LTCG_REPLICA_ID` | `<hostname>:<port>` | this replica's id among those sharing the database (keep it stable across restarts) |
//! | `LTCG_LEASE_SECS` | `30` | lease time of the reconciler and of local renders (at least 3): a dead replica's browser streams are ended by another replica within about this time |
//! | `LTCG_INTERNAL_KEY` | – | bearer key of trusted server-side callers |
//! | `LTCG_AGENT_KEYS` | – | `key=agentId,key2=agentId2`: agent API keys (static; prefer keys made by `ltcg-streaming agent-keys create`, which the store keeps hashed and which can be revoked) |
//! | `LTCG_USER_JWKS_URL` | – | users' JWTs (RS256/ES256) verified with the keys published there (`https://`, or `http://` on loopback); cached, re-read for unknown key ids |
//! | `LTCG_USER_JWT_SECRET` | – | or: users' JWTs (HS256) verified with this secret (at least 32 bytes) |
//! | `LTCG_USER_JWT_ISSUER`, `LTCG_USER_JWT_AUDIENCE` | – | required with either: the `iss` and `aud` every user token must carry (`sub` is the user id) |
//! | `LTCG_RECONCILE_SECS` | `60` | reconciler period (at least 5) |
//! | `LTCG_REQUEST_TIMEOUT_SECS` | `30` | longest request, body upload included (then 408) |
//! | `LTCG_HEADER_TIMEOUT_SECS` | `10` | time a connection has to send a request's headers (then it is closed) |
//! | `LTCG_EGRESS` | `livekit` with `LIVEKIT_URL`, else `browser` when Chromium, Xvfb, PulseAudio and ffmpeg are installed, else `test-pattern` | `livekit`, `browser` (the overlay page rendered here), `test-pattern` (ffmpeg colour bars and a tone, no page) or `memory` (in process, renders nothing: LiveKit webhooks alone move sessions) |
//! | `LTCG_ENCODING` | `H264_1080P_30` | the picture: a preset name (`H264_540P_30`, `H264_720P_30`, `H264_1080P_30`, `H264_1080P_60`, …) |
//! | `LTCG_MAX_RENDERS` | the number of CPUs | browser renders at once; one more start is refused as at capacity |
//! | `STREAM_KEY_ENCRYPTION_KEY`, `STREAMING_JWT_SECRET`, `LIVEKIT_*`, `NEXT_PUBLIC_APP_URL` | | as in the core's `StreamingConfig::from_env` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | – | export traces over OTLP/HTTP to this collector (feature `otlp`, on by default; `OTEL_SERVICE_NAME` default `ltcg-streaming`, and the other standard `OTEL_*` variables) |
//! | `TWITCH_CLIENT_ID` + `TWITCH_CLIENT_SECRET`, `YOUTUBE_API_KEY`, `KICK_CLIENT_ID` + `KICK_CLIENT_SECRET` | – | viewer counts from those platforms, polled every `LTCG_VIEWER_POLL_SECS` (default 60) |
//!
//! Agent keys made by `ltcg-streaming agent-keys create` (`ltcg_` and 32 characters) are
//! kept in the database as Argon2id hashes and accepted by every replica; a revoked key is
//! refused at once.
//!
//! With no key configured (in the environment or the store) the server runs in development mode (the core's
//! `ConfigMode::Development`): every request acts as the internal caller, it refuses to
//! listen on anything but a loopback address, API requests must be addressed to a loopback
//! name (`Host`) and, from a web page, come from a loopback origin (so that no other site can
//! drive it), missing secrets are generated once and kept in `<database>.dev-secrets` (a
//! warning says so), and the overlay base URL defaults to the listen address. With keys,
//! `NEXT_PUBLIC_APP_URL` is required.
//! `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` verify webhooks with any egress; only the
//! LiveKit egress needs `LIVEKIT_URL` too.
//!
//! ## Several replicas
//!
//! Replicas given the same `LTCG_DATABASE_URL` (and the same secrets) behave as one service:
//! the database keeps one active session per entity, a webhook delivered to any replica is
//! applied once (its event id is claimed in the database), the reconciler may run on every
//! replica (one pass at a time holds the `reconciler` lease; every change is a
//! compare-and-swap), and a browser render is kept alive by its replica's lease, so that when
//! that replica dies another one ends its sessions (`egress_lost`) within `LTCG_LEASE_SECS`.
//!
//! Rate limits are counted per replica, in memory: behind a load balancer that spreads a
//! caller's requests over N replicas, a caller gets up to N times each limit (with the
//! defaults and 3 replicas: 1,800 calls per minute instead of 600 and 30 starts per minute
//! instead of 10; bursts 360 and 15). Divide the limits by N where that matters, or route a
//! caller to one replica (sticky sessions), which restores the single-replica numbers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ltcg_streaming_core::agent_keys::AgentKeys;
use ltcg_streaming_core::egress::{
    BrowserEgress, BrowserEgressOptions, EgressBackend, EncodingPreset, EncodingSettings,
    LiveKitEgress, LiveKitEgressOptions, TestPatternEgress, TestPatternEgressOptions,
};
use ltcg_streaming_core::http::{
    router_with, ApiAuth, JwksCaching, JwtRules, JwtUserTokens, RouterOptions, REQUEST_TIMEOUT,
};
use ltcg_streaming_core::retake::RetakeApi;
use ltcg_streaming_core::store::{AgentKeyStore, PostgresStore, SessionStore, SqliteStore};
use ltcg_streaming_core::vault::generate_key_hex;
use ltcg_streaming_core::viewers::sources_from_env_with;
use ltcg_streaming_core::{
    Actor, ConfigMode, KeyVault, MemoryEgress, ReplicaOptions, SecretString, ServiceOptions,
    StreamingConfig, StreamingService,
};

/// Any error, for the server's setup.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What [`init_logging`] set up that must live as long as the process logs: the OTLP trace
/// export, when configured (dropping it exports what is left).
#[derive(Debug)]
pub struct Telemetry {
    #[cfg(feature = "otlp")]
    _otlp: Option<crate::otlp::Otlp>,
}

/// Logs to standard output at `RUST_LOG` (default `info`), in colour only on a terminal, so
/// that a log written to a file or a pipe stays plain text; with the feature `otlp` and
/// `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are exported too (see [`crate::otlp`]). Call it
/// before starting the async runtime, and keep the result until the end of `main`.
pub fn init_logging() -> Telemetry {
    use std::io::IsTerminal as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let fmt = tracing_subscriber::fmt::layer().with_ansi(std::io::stdout().is_terminal());
    let registry = tracing_subscriber::registry().with(filter).with(fmt);
    #[cfg(feature = "otlp")]
    {
        let (otlp, problem) = match crate::otlp::Otlp::from_env() {
            Ok(otlp) => (otlp, None),
            Err(e) => (None, Some(e)),
        };
        registry.with(otlp.as_ref().map(|o| o.layer())).init();
        if let Some(e) = problem {
            tracing::warn!(error = %e, "OTLP trace export is off: it could not be set up");
        }
        Telemetry { _otlp: otlp }
    }
    #[cfg(not(feature = "otlp"))]
    {
        registry.init();
        Telemetry {}
    }
}

/// A variable of the environment, trimmed; `None` when unset or blank.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `LTCG_DATABASE` (default `ltcg-streaming.db`).
pub fn database_path() -> PathBuf {
    PathBuf::from(env("LTCG_DATABASE").unwrap_or_else(|| "ltcg-streaming.db".into()))
}

/// The store the environment names, as the service and the agent keys use it.
#[derive(Debug, Clone)]
pub struct OpenedStore {
    /// Sessions, credentials and the rest of the service's state.
    pub sessions: Arc<dyn SessionStore>,
    /// Agents' API keys (hashed), in the same database.
    pub agent_keys: Arc<dyn AgentKeyStore>,
    /// How to name it to an operator (a file, or "PostgreSQL").
    pub name: String,
}

/// The store the environment names: PostgreSQL with `LTCG_DATABASE_URL` (and
/// `LTCG_DATABASE_SCHEMA`), else the SQLite file `database`.
pub async fn open_store(database: &Path) -> Result<OpenedStore, BoxError> {
    Ok(match env("LTCG_DATABASE_URL") {
        Some(url) => {
            let store = Arc::new(match env("LTCG_DATABASE_SCHEMA") {
                Some(schema) => PostgresStore::connect_with_schema(&url, &schema).await?,
                None => PostgresStore::connect(&url).await?,
            });
            OpenedStore {
                sessions: store.clone(),
                agent_keys: store,
                name: "PostgreSQL (LTCG_DATABASE_URL)".into(),
            }
        }
        None => {
            let store = Arc::new(SqliteStore::open(database).await?);
            OpenedStore {
                sessions: store.clone(),
                agent_keys: store,
                name: database.display().to_string(),
            }
        }
    })
}

/// The API credentials: the environment's ([`auth_from_env`]) and the agent keys kept in
/// the store (made by `ltcg-streaming agent-keys create`). Development mode only while
/// neither configures any: once the store holds a live agent key, every request needs
/// credentials.
pub async fn api_auth_for(store: &OpenedStore) -> Result<ApiAuth, BoxError> {
    let auth = auth_from_env()?;
    let keys = Arc::new(AgentKeys::new(store.agent_keys.clone()));
    if auth.is_dev_mode() {
        let stored = store.agent_keys.list_agent_keys(None).await?;
        if stored.iter().all(|key| key.is_revoked()) {
            return Ok(auth);
        }
        return Ok(ApiAuth::new().with_stored_agent_keys(keys));
    }
    Ok(auth.with_stored_agent_keys(keys))
}

/// The service configuration from the environment: production mode needs every secret; in
/// development mode missing secrets come from `<database>.dev-secrets` (made once).
pub fn config_from_env(dev_mode: bool, database: &Path) -> Result<StreamingConfig, BoxError> {
    let mode = if dev_mode {
        ConfigMode::Development
    } else {
        ConfigMode::Production
    };
    match StreamingConfig::from_env_in(mode) {
        Ok(config) => Ok(config),
        Err(e) if dev_mode => {
            tracing::warn!(error = %e, "development mode: using generated secrets");
            dev_config(database)
        }
        Err(e) => Err(e.into()),
    }
}

/// The API credentials the environment configures (`LTCG_INTERNAL_KEY`, `LTCG_AGENT_KEYS`,
/// users' JWTs); none means development mode.
pub fn auth_from_env() -> Result<ApiAuth, BoxError> {
    api_auth(
        env("LTCG_INTERNAL_KEY"),
        env("LTCG_AGENT_KEYS"),
        user_tokens(env)?,
    )
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn run() -> Result<(), BoxError> {
    let bind: SocketAddr = env("LTCG_BIND")
        .unwrap_or_else(|| "127.0.0.1:3334".into())
        .parse()?;
    let database = database_path();
    let refusal = || -> BoxError {
        format!(
            "refusing to listen on {bind} without API keys: set LTCG_INTERNAL_KEY / LTCG_AGENT_KEYS, create agent keys (ltcg-streaming agent-keys create), or bind 127.0.0.1"
        )
        .into()
    };
    // Refused before anything is created when no store can hold agent keys yet.
    let new_sqlite_file = env("LTCG_DATABASE_URL").is_none() && !database.exists();
    if !bind.ip().is_loopback() && new_sqlite_file && auth_from_env()?.is_dev_mode() {
        return Err(refusal());
    }
    let store = open_store(&database).await?;
    let auth = api_auth_for(&store).await?;
    let dev_mode = auth.is_dev_mode();
    if dev_mode && !bind.ip().is_loopback() {
        return Err(refusal());
    }

    let mut config = config_from_env(dev_mode, &database)?;
    if dev_mode && env("NEXT_PUBLIC_APP_URL").is_none() {
        config.app_url = format!("http://{bind}");
    }

    let replica = ReplicaOptions {
        id: env("LTCG_REPLICA_ID").unwrap_or_else(|| format!("{}:{}", hostname(), bind.port())),
        lease_ttl: match env("LTCG_LEASE_SECS") {
            Some(secs) => secs
                .parse::<u64>()
                .ok()
                .filter(|&n| n >= 3)
                .map(Duration::from_secs)
                .ok_or("LTCG_LEASE_SECS must be a number of seconds, at least 3")?,
            None => ReplicaOptions::default().lease_ttl,
        },
    };
    let vault: Arc<dyn KeyVault> = Arc::new(config.vault()?);
    // The overlay logs START_RECORDING once its first complete picture is on screen: the
    // stream starts there, never on "Loading stream...". (A page that never signals is
    // timed out by the reconciler like any start that does not go live.)
    let mut browser_options = BrowserEgressOptions {
        await_start_signal: true,
        ..BrowserEgressOptions::default()
    };
    if let Some(max) = env("LTCG_MAX_RENDERS") {
        browser_options.max_concurrent = max
            .parse()
            .ok()
            .filter(|&n: &usize| n > 0)
            .ok_or("LTCG_MAX_RENDERS must be a positive number")?;
    }
    let missing = browser_options.missing_programs();
    let kind = match env("LTCG_EGRESS") {
        Some(kind) => kind,
        None if config.livekit.is_some() => "livekit".into(),
        None if missing.is_empty() => "browser".into(),
        None => {
            println!(
                "  note: the browser egress needs {} (Debian: chromium xvfb pulseaudio ffmpeg); streaming a test pattern instead",
                missing.join(", ")
            );
            "test-pattern".into()
        }
    };
    let encoding = match env("LTCG_ENCODING") {
        Some(name) => EncodingSettings::preset(
            serde_json::from_value::<EncodingPreset>(serde_json::Value::String(name))
                .map_err(|_| "LTCG_ENCODING must be a preset name such as H264_720P_30")?,
        ),
        None => EncodingSettings::default(),
    };
    let (egress, egress_kind): (Arc<dyn EgressBackend>, String) = match (
        kind.as_str(),
        &config.livekit,
    ) {
        ("livekit", Some(livekit)) => (
            Arc::new(LiveKitEgress::new(LiveKitEgressOptions::from(livekit))?),
            "LiveKit".into(),
        ),
        ("livekit", None) => return Err(
            "LTCG_EGRESS=livekit needs LIVEKIT_URL (with LIVEKIT_API_KEY and LIVEKIT_API_SECRET)"
                .into(),
        ),
        ("browser", _) => {
            if !missing.is_empty() {
                return Err(format!(
                    "LTCG_EGRESS=browser needs {} (Debian: chromium xvfb pulseaudio ffmpeg)",
                    missing.join(", ")
                )
                .into());
            }
            let max = browser_options.max_concurrent;
            let browser = BrowserEgress::new(browser_options);
            let reaped = browser.reap_leftovers().await;
            if reaped.processes + reaped.sinks > 0 {
                println!(
                    "  cleaned up after an earlier run: {} processes, {} audio sinks",
                    reaped.processes, reaped.sinks
                );
            }
            (
                Arc::new(browser),
                format!(
                    "browser (the overlay in Chromium on Xvfb, ffmpeg; {}x{} at {} fps; up to {max} at once)",
                    encoding.width, encoding.height, encoding.framerate
                ),
            )
        }
        ("test-pattern", _) => (
            Arc::new(TestPatternEgress::new(TestPatternEgressOptions::default())),
            "test pattern (ffmpeg colour bars and a tone, not the overlay)".into(),
        ),
        ("memory", _) => (
            Arc::new(MemoryEgress::new()),
            "in-process (renders nothing)".into(),
        ),
        (other, _) => {
            return Err(format!(
                "LTCG_EGRESS must be livekit, browser, test-pattern or memory, not {other:?}"
            )
            .into())
        }
    };
    let app_url = config.app_url.clone();
    let service = StreamingService::with_options(
        config,
        store.sessions,
        egress,
        vault,
        ServiceOptions {
            encoding,
            replica,
            viewer_counts: sources_from_env_with(|name| std::env::var(name).ok())?,
            retake: Some(Arc::new(RetakeApi::from_env_with(|name| {
                std::env::var(name).ok()
            })?)),
            ..ServiceOptions::default()
        },
    )?;
    service.follow_backend_events();
    let poll_secs = env("LTCG_VIEWER_POLL_SECS")
        .map(|s| s.parse::<u64>().ok().filter(|&n| n >= 5))
        .map(|n| n.ok_or("LTCG_VIEWER_POLL_SECS must be a number of seconds, at least 5"))
        .transpose()?
        .unwrap_or(60);
    service.spawn_viewer_poller(Duration::from_secs(poll_secs));
    spawn_reconciler(
        service.clone(),
        env("LTCG_RECONCILE_SECS")
            .and_then(|s| s.parse().ok())
            .unwrap_or(60),
    );

    let listener = tokio::net::TcpListener::bind(bind).await?;
    println!(
        "ltcg-streaming-server listening on http://{}",
        listener.local_addr()?
    );
    println!("  store:   {}", store.name);
    println!("  replica: {}", service.replica_id());
    println!("  egress:  {egress_kind}");
    println!("  overlay: {app_url}/stream/overlay");
    println!("  webhook: {app_url}/api/webhooks/livekit");
    if dev_mode {
        println!(
            "  WARNING: development mode: no API keys, every request is trusted; loopback only"
        );
    }
    let options = RouterOptions {
        request_timeout: env("LTCG_REQUEST_TIMEOUT_SECS")
            .and_then(|s| s.parse().ok())
            .filter(|&secs: &u64| secs > 0)
            .map_or(REQUEST_TIMEOUT, Duration::from_secs),
        ..RouterOptions::default()
    };
    let header_timeout = env("LTCG_HEADER_TIMEOUT_SECS")
        .and_then(|s| s.parse().ok())
        .filter(|&secs: &u64| secs > 0)
        .map_or(HEADER_TIMEOUT, Duration::from_secs);
    serve(
        listener,
        router_with(service, auth, options),
        header_timeout,
    )
    .await;
    println!("ltcg-streaming-server stopped");
    Ok(())
}

/// This machine's name (the default replica id's first part).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// API keys from the environment; none means development mode.
fn api_auth(
    internal: Option<String>,
    agents: Option<String>,
    users: Option<JwtUserTokens>,
) -> Result<ApiAuth, BoxError> {
    if internal.is_none() && agents.is_none() && users.is_none() {
        return Ok(ApiAuth::dev_mode());
    }
    let mut auth = ApiAuth::new();
    if let Some(users) = users {
        auth = auth.with_user_tokens(Arc::new(users));
    }
    if let Some(key) = internal {
        auth = auth.with_internal_key(&key)?;
    }
    for pair in agents
        .iter()
        .flat_map(|a| a.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (key, agent) = pair
            .split_once('=')
            .ok_or("LTCG_AGENT_KEYS must look like key=agentId,key2=agentId2")?;
        auth = auth.with_agent_key(key.trim(), agent.trim())?;
    }
    Ok(auth)
}

/// Users' JWT verification from the environment: `LTCG_USER_JWT_SECRET` (HS256) or
/// `LTCG_USER_JWKS_URL` (RS256/ES256), with `LTCG_USER_JWT_ISSUER` and
/// `LTCG_USER_JWT_AUDIENCE`; `None` when neither is set.
fn user_tokens(env: impl Fn(&str) -> Option<String>) -> Result<Option<JwtUserTokens>, BoxError> {
    let rules = || -> Result<JwtRules, BoxError> {
        let needed = "is required with LTCG_USER_JWT_SECRET or LTCG_USER_JWKS_URL";
        let issuer = env("LTCG_USER_JWT_ISSUER").ok_or(format!("LTCG_USER_JWT_ISSUER {needed}"))?;
        let audience =
            env("LTCG_USER_JWT_AUDIENCE").ok_or(format!("LTCG_USER_JWT_AUDIENCE {needed}"))?;
        Ok(JwtRules::new(&issuer, &audience)?)
    };
    Ok(Some(
        match (env("LTCG_USER_JWT_SECRET"), env("LTCG_USER_JWKS_URL")) {
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => {
                return Err("set LTCG_USER_JWT_SECRET or LTCG_USER_JWKS_URL, not both".into())
            }
            (Some(secret), None) => JwtUserTokens::hs256(&SecretString::from(secret), rules()?)?,
            (None, Some(url)) => JwtUserTokens::jwks(&url, rules()?, JwksCaching::default())?,
        },
    ))
}

/// Development secrets: made once, kept next to the database (mode 0600).
/// Where development mode keeps the secrets it generated for `database`.
pub fn dev_secrets_path(database: &Path) -> PathBuf {
    PathBuf::from(format!("{}.dev-secrets", database.display()))
}

/// Whether [`config_from_env`] would generate development secrets (none in the environment,
/// none kept yet).
pub fn would_generate_dev_secrets(database: &Path) -> bool {
    StreamingConfig::from_env_in(ConfigMode::Development).is_err()
        && !dev_secrets_path(database).exists()
}

fn dev_config(database: &Path) -> Result<StreamingConfig, BoxError> {
    let path = dev_secrets_path(database);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) => {
            let fresh = format!("{}\n{}\n", generate_key_hex(), generate_key_hex());
            write_private(&path, &fresh)?;
            eprintln!(
                "WARNING: generated development secrets in {} (do not use in production)",
                path.display()
            );
            fresh
        }
    };
    let mut lines = text.lines();
    let (Some(key), Some(jwt)) = (lines.next(), lines.next()) else {
        return Err(format!(
            "{} is damaged; delete it to make new development secrets",
            path.display()
        )
        .into());
    };
    Ok(StreamingConfig::new(key, jwt)?)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

fn spawn_reconciler(service: StreamingService, period_secs: u64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(period_secs.max(5)));
        loop {
            tick.tick().await;
            match service.reconcile(&Actor::Internal).await {
                Ok(report) if !report.errors.is_empty() => {
                    tracing::warn!(?report, "reconcile finished with errors")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reconcile failed"),
            }
        }
    });
}

/// Default of `LTCG_HEADER_TIMEOUT_SECS`.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open requests may finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `app` over HTTP/1.1 until SIGTERM or Ctrl-C, then lets open requests finish (for at
/// most [`DRAIN_TIMEOUT`]). Unlike `axum::serve`, a connection that does not send its request
/// headers within `header_timeout` (slowloris) is closed. Requests hyper cannot parse, or
/// with more than 100 headers, about 400 KiB of headers or a URI over 64 KiB, are answered
/// by hyper itself, with an empty body; smaller ones reach the router's limits.
async fn serve(listener: tokio::net::TcpListener, app: axum::Router, header_timeout: Duration) {
    use axum::extract::ConnectInfo;
    use axum::Extension;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let stop = shutdown();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // The client's address, for the router's failed-authentication throttle.
        let app = app.clone().layer(Extension(ConnectInfo(peer)));
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still open after the drain timeout");
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    println!("shutting down");
}
