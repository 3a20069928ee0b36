//! A local Twitch (OAuth token endpoint and Helix `streams`) on 127.0.0.1 that checks what
//! the real one checks: the token grant's form fields, both `Authorization: Bearer` and
//! `Client-Id` on Helix, at most 100 `user_login`s; offline channels are absent from `data`.
//! Tests switch it into a stale-token, rate-limited, hung or malformed mode.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

/// The client id the fake accepts.
pub const FAKE_CLIENT_ID: &str = "fakeclientid0123456789";
/// The client secret the fake accepts.
pub const FAKE_CLIENT_SECRET: &str = "fake-client-secret-abcdefghij";

/// How the fake answers Helix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As documented.
    Normal,
    /// 429 with `Ratelimit-Reset` this many seconds ahead.
    RateLimited(u64),
    /// Never answers.
    Hung,
    /// 200 with a body that is not JSON.
    Malformed,
    /// Every token is refused on Helix (401), even a fresh one.
    RejectTokens,
}

/// What the fake saw and holds.
#[derive(Debug, Default)]
pub struct Seen {
    /// Token grants made.
    pub tokens_issued: u32,
    /// Helix requests (each a list of logins), in order.
    pub stream_requests: Vec<Vec<String>>,
    /// Requests refused for a missing or wrong header or token.
    pub refused: u32,
}

#[derive(Debug)]
struct Fake {
    /// Live channels: login → viewers.
    live: HashMap<String, u64>,
    /// The one valid token.
    token: Option<String>,
    mode: Mode,
    seen: Seen,
}

/// The running fake.
#[derive(Debug, Clone)]
pub struct FakeTwitch {
    /// Its base URL (both the API and the OAuth base).
    pub base: String,
    state: Arc<Mutex<Fake>>,
}

impl FakeTwitch {
    /// Starts it on `rt`.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(Fake {
            live: HashMap::new(),
            token: None,
            mode: Mode::Normal,
            seen: Seen::default(),
        }));
        let app = Router::new()
            .route("/oauth2/token", post(token))
            .route("/helix/streams", get(streams))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: format!("http://{addr}"),
            state,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Fake) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// `login` is live with `viewers`.
    pub fn set_live(&self, login: &str, viewers: u64) {
        self.with(|f| f.live.insert(login.to_owned(), viewers));
    }

    /// Revokes the current token (the next Helix call with it is a 401).
    pub fn revoke_token(&self) {
        self.with(|f| f.token = None);
    }

    /// Sets how Helix answers.
    pub fn set_mode(&self, mode: Mode) {
        self.with(|f| f.mode = mode);
    }

    /// Token grants made so far.
    pub fn tokens_issued(&self) -> u32 {
        self.with(|f| f.seen.tokens_issued)
    }

    /// The logins of each Helix request so far.
    pub fn stream_requests(&self) -> Vec<Vec<String>> {
        self.with(|f| f.seen.stream_requests.clone())
    }

    /// Requests refused for bad credentials or headers.
    pub fn refused(&self) -> u32 {
        self.with(|f| f.seen.refused)
    }
}

async fn token(
    State(state): State<Arc<Mutex<Fake>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let form_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let mut fake = state.lock().unwrap();
    let ok = form_type
        && form.get("client_id").map(String::as_str) == Some(FAKE_CLIENT_ID)
        && form.get("client_secret").map(String::as_str) == Some(FAKE_CLIENT_SECRET)
        && form.get("grant_type").map(String::as_str) == Some("client_credentials");
    if !ok {
        fake.seen.refused += 1;
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": 400, "message": "invalid client"})),
        )
            .into_response();
    }
    fake.seen.tokens_issued += 1;
    let token = format!("faketoken{:04}", fake.seen.tokens_issued);
    fake.token = Some(token.clone());
    Json(json!({"access_token": token, "expires_in": 5_000_000, "token_type": "bearer"}))
        .into_response()
}

async fn streams(
    State(state): State<Arc<Mutex<Fake>>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let mode = state.lock().unwrap().mode;
    if mode == Mode::Hung {
        std::future::pending::<()>().await;
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(&raw.unwrap_or_default()).unwrap_or_default();
    let logins: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "user_login")
        .map(|(_, v)| v.clone())
        .collect();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut fake = state.lock().unwrap();
    fake.seen.stream_requests.push(logins.clone());
    let bearer_ok = mode != Mode::RejectTokens
        && fake
            .token
            .as_ref()
            .is_some_and(|t| header("authorization") == Some(format!("Bearer {t}")));
    if header("client-id").as_deref() != Some(FAKE_CLIENT_ID) || !bearer_ok {
        fake.seen.refused += 1;
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"})),
        )
            .into_response();
    }
    if logins.len() > 100 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": 400, "message": "too many user_login"})),
        )
            .into_response();
    }
    match mode {
        Mode::RateLimited(secs) => {
            let reset = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + secs;
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    ("ratelimit-limit", "800".to_owned()),
                    ("ratelimit-remaining", "0".to_owned()),
                    ("ratelimit-reset", reset.to_string()),
                ],
                Json(json!({"status": 429, "message": "Too Many Requests"})),
            )
                .into_response();
        }
        Mode::Malformed => return (StatusCode::OK, "<html>oops</html>").into_response(),
        Mode::Normal | Mode::Hung | Mode::RejectTokens => {}
    }
    let data: Vec<serde_json::Value> = logins
        .iter()
        .filter_map(|l| fake.live.get(&l.to_ascii_lowercase()).map(|v| (l, *v)))
        .map(|(l, viewers)| {
            json!({"id": "1", "user_id": "2", "user_login": l.to_ascii_lowercase(), "user_name": l,
                   "type": "live", "viewer_count": viewers, "started_at": "2026-12-01T17:00:00Z",
                   "thumbnail_url": format!("https://static-cdn.jtvnw.net/previews-ttv/live_user_{l}-{{width}}x{{height}}.jpg")})
        })
        .collect();
    (
        [("ratelimit-limit", "800"), ("ratelimit-remaining", "799")],
        Json(json!({"data": data, "pagination": {}})),
    )
        .into_response()
}
