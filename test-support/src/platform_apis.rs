//! Local Twitch, YouTube and Kick APIs on 127.0.0.1 that check what the real ones check:
//! - Twitch: the token grant's form fields (`/oauth2/token`), both `Authorization: Bearer`
//!   and `Client-Id` on Helix `streams`, at most 100 `user_login`s; offline channels are
//!   absent from `data`.
//! - YouTube: `videos` with `part=liveStreamingDetails`, the API key (`key` or
//!   `X-Goog-Api-Key`), at most 50 `id`s;
//!   `concurrentViewers` as a string, missing when hidden or ended.
//! - Kick: the token grant (`/oauth/token`), a Bearer token on `public/v1/channels?slug=`.
//!
//! - Retake.tv: a Bearer access token on every call, `stream/start` before `rtmp` (else
//!   409), the credentials in whatever field names an account is set up with.
//!
//! Tests switch each platform into a stale-token, rate-limited, hung or malformed mode.

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
/// The YouTube API key the fake accepts.
pub const FAKE_YOUTUBE_KEY: &str = "fake-youtube-api-key-0123456789";

/// Which fake API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// Twitch Helix.
    Twitch,
    /// YouTube Data API.
    Youtube,
    /// Kick public API.
    Kick,
    /// Retake.tv agent API.
    Retake,
}

/// A Retake.tv agent account of the fake.
#[derive(Debug, Clone)]
pub struct RetakeAccount {
    /// What `GET /api/agent/rtmp` answers once the stream was started.
    pub rtmp: serde_json::Value,
    /// `Some((status, body))`: `stream/start` fails so.
    pub start_failure: Option<(u16, String)>,
    /// Whether `stream/status` says live, and its viewers.
    pub live: bool,
    /// Viewers `stream/status` reports.
    pub viewers: Option<u64>,
    /// Started and not stopped since.
    pub started: bool,
}

impl RetakeAccount {
    /// An account whose credentials answer is `rtmp`.
    pub fn answering(rtmp: serde_json::Value) -> Self {
        Self {
            rtmp,
            start_failure: None,
            live: false,
            viewers: None,
            started: false,
        }
    }
}

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
    /// Channel requests (each a list of logins, ids or slugs), per API, in order.
    pub requests: HashMap<Api, Vec<Vec<String>>>,
    /// Requests refused for a missing or wrong header or token.
    pub refused: u32,
}

#[derive(Debug)]
struct Fake {
    /// Live channels per API: channel → viewers (`None`: live, count hidden).
    live: HashMap<(Api, String), Option<u64>>,
    /// The one valid token.
    token: Option<String>,
    modes: HashMap<Api, Mode>,
    seen: Seen,
    /// Retake accounts by access token.
    retake: HashMap<String, RetakeAccount>,
    /// Retake calls in order: (path, token presented).
    retake_calls: Vec<(String, String)>,
}

impl Fake {
    fn mode(&self, api: Api) -> Mode {
        self.modes.get(&api).copied().unwrap_or(Mode::Normal)
    }
}

/// The running fake.
#[derive(Debug, Clone)]
pub struct FakePlatforms {
    /// Its base URL (both the API and the OAuth base).
    pub base: String,
    state: Arc<Mutex<Fake>>,
}

impl FakePlatforms {
    /// Starts it on `rt`.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(Fake {
            live: HashMap::new(),
            token: None,
            modes: HashMap::new(),
            seen: Seen::default(),
            retake: HashMap::new(),
            retake_calls: Vec::new(),
        }));
        let app = Router::new()
            .route("/oauth2/token", post(token))
            .route("/oauth/token", post(token))
            .route("/helix/streams", get(streams))
            .route("/youtube/v3/videos", get(videos))
            .route("/public/v1/channels", get(channels))
            .route("/api/agent/stream/start", post(retake_start))
            .route("/api/agent/rtmp", get(retake_rtmp))
            .route("/api/agent/stream/stop", post(retake_stop))
            .route("/api/agent/stream/status", get(retake_status))
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

    /// `channel` is live on `api` with `viewers` (`None`: the count is hidden).
    pub fn set_live(&self, api: Api, channel: &str, viewers: Option<u64>) {
        self.with(|f| f.live.insert((api, channel.to_owned()), viewers));
    }

    /// `channel` is offline on `api` (absent from answers).
    pub fn set_offline(&self, api: Api, channel: &str) {
        self.with(|f| f.live.remove(&(api, channel.to_owned())));
    }

    /// Adds (or replaces) the Retake account of access token `token`.
    pub fn retake_account(&self, token: &str, account: RetakeAccount) {
        self.with(|f| f.retake.insert(token.to_owned(), account));
    }

    /// The Retake account of `token`, as it is now.
    pub fn retake(&self, token: &str) -> Option<RetakeAccount> {
        self.with(|f| f.retake.get(token).cloned())
    }

    /// Sets what Retake's `stream/status` says for `token`.
    pub fn set_retake_live(&self, token: &str, live: bool, viewers: Option<u64>) {
        self.with(|f| {
            if let Some(a) = f.retake.get_mut(token) {
                a.live = live;
                a.viewers = viewers;
            }
        });
    }

    /// Every Retake call so far: (path, token presented), in order.
    pub fn retake_calls(&self) -> Vec<(String, String)> {
        self.with(|f| f.retake_calls.clone())
    }

    /// Revokes the current token (the next Helix call with it is a 401).
    pub fn revoke_token(&self) {
        self.with(|f| f.token = None);
    }

    /// Sets how `api` answers.
    pub fn set_mode(&self, api: Api, mode: Mode) {
        self.with(|f| f.modes.insert(api, mode));
    }

    /// Token grants made so far.
    pub fn tokens_issued(&self) -> u32 {
        self.with(|f| f.seen.tokens_issued)
    }

    /// The channels of each request to `api` so far.
    pub fn requests(&self, api: Api) -> Vec<Vec<String>> {
        self.with(|f| f.seen.requests.get(&api).cloned().unwrap_or_default())
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
    let mode = state.lock().unwrap().mode(Api::Twitch);
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
    fake.seen
        .requests
        .entry(Api::Twitch)
        .or_default()
        .push(logins.clone());
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
        .filter_map(|l| {
            fake.live
                .get(&(Api::Twitch, l.to_ascii_lowercase()))
                .map(|v| (l, v.unwrap_or(0)))
        })
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

/// The answer a mode forces, if any (after the request was counted).
fn forced(mode: Mode) -> Option<Response> {
    match mode {
        Mode::RateLimited(secs) => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", secs.to_string())],
                Json(json!({"message": "Too Many Requests"})),
            )
                .into_response(),
        ),
        Mode::Malformed => Some((StatusCode::OK, "<html>oops</html>").into_response()),
        Mode::RejectTokens => Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"message": "Unauthorized"})),
            )
                .into_response(),
        ),
        Mode::Normal | Mode::Hung => None,
    }
}

async fn videos(
    State(state): State<Arc<Mutex<Fake>>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let mode = state.lock().unwrap().mode(Api::Youtube);
    if mode == Mode::Hung {
        std::future::pending::<()>().await;
    }
    let q: HashMap<String, String> =
        serde_urlencoded::from_str(&raw.unwrap_or_default()).unwrap_or_default();
    let ids: Vec<String> = q
        .get("id")
        .map(|i| i.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let mut fake = state.lock().unwrap();
    fake.seen
        .requests
        .entry(Api::Youtube)
        .or_default()
        .push(ids.clone());
    // Google takes the key as the `key` parameter or the `X-Goog-Api-Key` header.
    let header_key = headers.get("x-goog-api-key").and_then(|v| v.to_str().ok());
    if q.get("key").map(String::as_str).or(header_key) != Some(FAKE_YOUTUBE_KEY) {
        fake.seen.refused += 1;
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": 400, "errors": [{"reason": "keyInvalid"}]}})),
        )
            .into_response();
    }
    if q.get("part").map(String::as_str) != Some("liveStreamingDetails") || ids.len() > 50 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": 400, "errors": [{"reason": "badRequest"}]}})),
        )
            .into_response();
    }
    if let Mode::RateLimited(_) = mode {
        return (StatusCode::FORBIDDEN, Json(json!({"error": {"code": 403, "errors": [{"reason": "quotaExceeded", "domain": "youtube.quota"}]}}))).into_response();
    }
    if let Some(answer) = forced(mode) {
        return answer;
    }
    let items: Vec<serde_json::Value> = ids
        .iter()
        .filter_map(|id| fake.live.get(&(Api::Youtube, id.clone())).map(|v| (id, *v)))
        .map(|(id, viewers)| {
            let mut details = json!({"actualStartTime": "2026-12-01T17:00:00Z", "scheduledStartTime": "2026-12-01T16:55:00Z"});
            if let Some(n) = viewers {
                details["concurrentViewers"] = json!(n.to_string());
            }
            json!({"kind": "youtube#video", "id": id, "liveStreamingDetails": details})
        })
        .collect();
    Json(json!({"kind": "youtube#videoListResponse", "items": items})).into_response()
}

async fn channels(
    State(state): State<Arc<Mutex<Fake>>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let mode = state.lock().unwrap().mode(Api::Kick);
    if mode == Mode::Hung {
        std::future::pending::<()>().await;
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(&raw.unwrap_or_default()).unwrap_or_default();
    let slugs: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "slug")
        .map(|(_, v)| v.clone())
        .collect();
    let mut fake = state.lock().unwrap();
    fake.seen
        .requests
        .entry(Api::Kick)
        .or_default()
        .push(slugs.clone());
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if fake
        .token
        .as_ref()
        .is_none_or(|t| bearer != Some(format!("Bearer {t}")))
    {
        fake.seen.refused += 1;
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Unauthorized"})),
        )
            .into_response();
    }
    if let Some(answer) = forced(mode) {
        return answer;
    }
    let data: Vec<serde_json::Value> = slugs
        .iter()
        .map(|slug| {
            let live = fake.live.get(&(Api::Kick, slug.clone())).copied();
            json!({"slug": slug, "broadcaster_user_id": 1, "stream": {
                "is_live": live.is_some(), "viewer_count": live.flatten().unwrap_or(0),
                "thumbnail": format!("https://images.kick.com/video_thumbnails/{slug}/fullsize.webp")}})
        })
        .collect();
    Json(json!({"data": data, "message": "OK"})).into_response()
}

/// The Retake call's token (recorded with `path`) when it has an account.
fn retake_account_of(state: &Arc<Mutex<Fake>>, headers: &HeaderMap, path: &str) -> Option<String> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let mut fake = state.lock().unwrap();
    fake.retake_calls.push((path.to_owned(), token.clone()));
    if !fake.retake.contains_key(&token) {
        fake.seen.refused += 1;
        return None;
    }
    Some(token)
}

/// Retake's answer to an unknown token.
fn retake_refused() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "Invalid access token"})),
    )
        .into_response()
}

async fn retake_start(State(state): State<Arc<Mutex<Fake>>>, headers: HeaderMap) -> Response {
    let Some(token) = retake_account_of(&state, &headers, "/api/agent/stream/start") else {
        return retake_refused();
    };
    let mut fake = state.lock().unwrap();
    let account = fake.retake.get_mut(&token).unwrap();
    if let Some((status, body)) = &account.start_failure {
        return (StatusCode::from_u16(*status).unwrap(), body.clone()).into_response();
    }
    account.started = true;
    Json(json!({"success": true})).into_response()
}

async fn retake_rtmp(State(state): State<Arc<Mutex<Fake>>>, headers: HeaderMap) -> Response {
    let Some(token) = retake_account_of(&state, &headers, "/api/agent/rtmp") else {
        return retake_refused();
    };
    let fake = state.lock().unwrap();
    let account = &fake.retake[&token];
    if !account.started {
        return (
            StatusCode::CONFLICT,
            Json(json!({"error": "call stream/start first"})),
        )
            .into_response();
    }
    Json(account.rtmp.clone()).into_response()
}

async fn retake_stop(State(state): State<Arc<Mutex<Fake>>>, headers: HeaderMap) -> Response {
    let Some(token) = retake_account_of(&state, &headers, "/api/agent/stream/stop") else {
        return retake_refused();
    };
    let mut fake = state.lock().unwrap();
    let account = fake.retake.get_mut(&token).unwrap();
    account.started = false;
    account.live = false;
    Json(json!({"success": true})).into_response()
}

async fn retake_status(State(state): State<Arc<Mutex<Fake>>>, headers: HeaderMap) -> Response {
    let Some(token) = retake_account_of(&state, &headers, "/api/agent/stream/status") else {
        return retake_refused();
    };
    let fake = state.lock().unwrap();
    let account = &fake.retake[&token];
    let mut body = json!({"is_live": account.live, "uptime": 12});
    if let Some(v) = account.viewers {
        body["viewer_count"] = json!(v);
    }
    Json(body).into_response()
}
