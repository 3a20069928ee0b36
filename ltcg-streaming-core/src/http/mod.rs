//! The seed's REST API as an [`axum::Router`] (feature `http`), mountable by any Rust
//! service: `router(service, auth)`.
//!
//! | route | call |
//! |---|---|
//! | `POST /api/streaming/start` | [`StreamingService::start_stream`] |
//! | `POST /api/streaming/stop` | [`StreamingService::stop_stream`] |
//! | `GET /api/streaming/status?sessionId=` | [`StreamingService::get_status`] |
//! | `GET /api/streaming/timeline?sessionId=` | [`StreamingService::session_timeline`] |
//! | `GET /api/streaming/viewers?sessionId=` | [`StreamingService::session_viewer_samples`] |
//! | `GET /api/streaming/analytics?since=&until=&groupBy=` | [`StreamingService::analytics`] |
//! | `GET /api/streaming/sessions?active=&status=&streamType=&entityId=&cursor=&limit=` | [`StreamingService::list_sessions`] |
//! | `POST /api/streaming/destinations` | [`StreamingService::update_destinations`] |
//! | `POST /api/streaming/link-game` `{sessionId, lobbyId \| gameId}` | [`StreamingService::link_lobby`] |
//! | `POST /api/agents/decisions` | [`StreamingService::record_decision`] |
//! | `POST /api/agents/events` | [`StreamingService::record_event`] |
//! | `PUT` / `GET` / `DELETE /api/streaming/platforms` | stored platform credentials |
//! | `POST /api/webhooks/livekit` | [`StreamingService::handle_webhook`] (raw body, LiveKit's signature instead of an API key) |
//! | `GET /stream/overlay?sessionId=&token=` | the overlay page (token required; 401 page without data otherwise) |
//! | `GET /stream/overlay/events?sessionId=&token=` | its live data as server-sent events |
//! | `GET /dashboard`, `/dashboard/…` | the web dashboard (see below) |
//! | `GET /healthz` | liveness |
//! | `GET /metrics` | Prometheus text format ([`crate::telemetry`]; internal callers only; [`RouterOptions::metrics`]) |
//!
//! Every API route needs credentials ([`ApiAuth`]); failed authentication is throttled per
//! client address (see [`RouterOptions`]). Errors are `{"error", "code"}` with the code's
//! status (400/401/403/404/409/429/5xx, `Retry-After` on 429) or the HTTP layer's own (405,
//! 408, 413, 414, 415, 431). Bodies must be JSON by their `Content-Type`
//! (`application/json` or `application/<name>+json`, else 415); JSON bodies are limited to
//! 64 KiB and webhooks to 1 MiB; each request gets an `x-request-id`, and the request log
//! shows the path only (queries may carry overlay tokens).
//!
//! `/dashboard` is the web dashboard (see the crate's README): its pages sign in with any
//! key the API accepts into an `HttpOnly`, `SameSite=Strict` cookie ([`DASHBOARD_COOKIE`];
//! [`DASHBOARD_SECURE_COOKIE`] over HTTPS),
//! which the API then accepts too; every state-changing request made with it must carry
//! the login's CSRF token in [`CSRF_HEADER`].
//!
//! Serve it with `into_make_service_with_connect_info::<SocketAddr>()` (or insert
//! [`axum::extract::ConnectInfo`]`<SocketAddr>` yourself) so that the throttle counts each
//! client apart; without it every client shares one budget of failures.

mod auth;
mod body;
mod dashboard;
mod error;
mod in_process;
mod limits;
mod overlay;
mod routes;
mod secure_headers;
mod throttle;
mod user_tokens;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, Request};
use axum::Router;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

pub use self::auth::{AgentKeyLookup, ApiAuth, UserTokens, MIN_KEY_LEN};
pub use self::dashboard::logins::{
    COOKIE as DASHBOARD_COOKIE, CSRF_HEADER, LOGINS_PER_ACTOR, LOGIN_TTL,
    SECURE_COOKIE as DASHBOARD_SECURE_COOKIE,
};
pub use self::error::{ApiError, ApiResult};
pub use self::in_process::{
    AgentKeySetting, AuthSettings, BodyStream, HostBody, HostRequest, HostResponse, InProcessApi,
    UserJwtSettings,
};
use self::limits::RequestLimits;
use self::throttle::AuthThrottle;
pub use self::user_tokens::{
    JwksCaching, JwtRules, JwtUserTokens, MAX_JWKS_BYTES, MIN_HS256_SECRET_BYTES,
};
use crate::service::StreamingService;

/// Largest JSON request body, in bytes.
pub const MAX_JSON_BODY: usize = 64 * 1024;
/// Largest webhook body, in bytes.
pub const MAX_WEBHOOK_BODY: usize = crate::webhook::MAX_WEBHOOK_BODY_BYTES;
/// How long one request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest request URI (path and query), in bytes; longer is answered 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Largest header block (each header counted as `name: value\r\n`), in bytes; larger is
/// answered 431.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Failed authentications a client may have in a burst before it is answered 429.
pub const AUTH_FAILURE_LIMIT: u32 = 10;
/// Over how long a client regains its [`AUTH_FAILURE_LIMIT`] failures (one every
/// window / limit: 6 s by default).
pub const AUTH_FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// Shared state of the handlers.
#[derive(Clone, Debug)]
struct AppState {
    service: StreamingService,
    auth: ApiAuth,
    throttle: Arc<AuthThrottle>,
    logins: Arc<dashboard::logins::Logins>,
    /// The Prometheus recorder `GET /metrics` renders, when it is served.
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

/// Settings of [`router_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterOptions {
    /// How long one request (reading its body included) may take before it is answered
    /// 408; bounds slow-body (slowloris-style) requests. Default [`REQUEST_TIMEOUT`].
    pub request_timeout: Duration,
    /// Longest request URI (path and query), in bytes; 414 beyond. Default
    /// [`MAX_URI_BYTES`]. Keep it below the HTTP server's own limit (hyper: 64 KiB), which
    /// answers without the error contract.
    pub max_uri_bytes: usize,
    /// Largest header block, in bytes; 431 beyond. Default [`MAX_HEADER_BYTES`]. Keep it
    /// below the HTTP server's own limit (hyper: about 400 KiB, and 100 headers).
    pub max_header_bytes: usize,
    /// Failed authentications (a key, or user token, that matches nothing) a client address
    /// may have in a burst; the next is answered 429 with `Retry-After`, and so is every
    /// request from that address that needs credentials — a correct key included — until
    /// the wait is over. `0` disables the throttle. Default [`AUTH_FAILURE_LIMIT`].
    pub auth_failure_limit: u32,
    /// Over how long the [`RouterOptions::auth_failure_limit`] failures are regained,
    /// evenly. Default [`AUTH_FAILURE_WINDOW`].
    pub auth_failure_window: Duration,
    /// Serve `GET /metrics` (to internal callers): installs this process's Prometheus
    /// recorder ([`crate::telemetry::install_prometheus`]) if no other recorder is
    /// installed; with another one, the route answers 404 and the host exports its own.
    /// Default `true`.
    pub metrics: bool,
}

impl Default for RouterOptions {
    fn default() -> Self {
        Self {
            request_timeout: REQUEST_TIMEOUT,
            max_uri_bytes: MAX_URI_BYTES,
            max_header_bytes: MAX_HEADER_BYTES,
            auth_failure_limit: AUTH_FAILURE_LIMIT,
            auth_failure_window: AUTH_FAILURE_WINDOW,
            metrics: true,
        }
    }
}

/// The seed's REST API for `service`, authenticated by `auth`, with default
/// [`RouterOptions`].
pub fn router(service: StreamingService, auth: ApiAuth) -> Router {
    router_with(service, auth, RouterOptions::default())
}

/// The seed's REST API for `service`, authenticated by `auth`, with `options`.
pub fn router_with(service: StreamingService, auth: ApiAuth, options: RouterOptions) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let throttle = Arc::new(AuthThrottle::new(
        options.auth_failure_limit,
        options.auth_failure_window,
    ));
    let limits = RequestLimits {
        max_uri_bytes: options.max_uri_bytes,
        max_header_bytes: options.max_header_bytes,
        timeout: options.request_timeout,
    };
    let metrics = options
        .metrics
        .then(|| match crate::telemetry::install_prometheus() {
            Ok(handle) => Some(handle),
            Err(e) => {
                tracing::warn!(error = %e, "GET /metrics is off: another metrics recorder is installed");
                None
            }
        })
        .flatten();
    routes::routes()
        .with_state(AppState {
            service,
            auth,
            throttle,
            logins: Arc::default(),
            metrics,
        })
        .layer(axum::middleware::from_fn_with_state(limits, limits::timeout))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, NextRequestId::default()))
        .layer(axum::middleware::from_fn_with_state(limits, limits::sizes))
}

/// Request ids: a per-process random prefix and a counter.
#[derive(Clone, Debug)]
struct NextRequestId {
    prefix: String,
    counter: std::sync::Arc<AtomicU64>,
}

impl Default for NextRequestId {
    fn default() -> Self {
        let session = crate::session::SessionId::generate();
        Self {
            prefix: session.as_str()[4..12].to_owned(),
            counter: std::sync::Arc::new(AtomicU64::new(0)),
        }
    }
}

impl MakeRequestId for NextRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n:06}", self.prefix)
            .parse()
            .ok()
            .map(RequestId::new)
    }
}
