//! The seed's REST API as an [`axum::Router`] (feature `http`), mountable by any Rust
//! service: `router(service, auth)`.
//!
//! | route | call |
//! |---|---|
//! | `POST /api/streaming/start` | [`StreamingService::start_stream`] |
//! | `POST /api/streaming/stop` | [`StreamingService::stop_stream`] |
//! | `GET /api/streaming/status?sessionId=` | [`StreamingService::get_status`] |
//! | `GET /api/streaming/sessions?active=&status=&streamType=&entityId=&cursor=&limit=` | [`StreamingService::list_sessions`] |
//! | `POST /api/streaming/destinations` | [`StreamingService::update_destinations`] |
//! | `POST /api/streaming/link-game` `{sessionId, lobbyId \| gameId}` | [`StreamingService::link_lobby`] |
//! | `POST /api/agents/decisions` | [`StreamingService::record_decision`] |
//! | `POST /api/agents/events` | [`StreamingService::record_event`] |
//! | `PUT` / `GET` / `DELETE /api/streaming/platforms` | stored platform credentials |
//! | `POST /api/webhooks/livekit` | [`StreamingService::handle_webhook`] (raw body, LiveKit's signature instead of an API key) |
//! | `GET /stream/overlay?sessionId=&token=` | the overlay page (token required; 401 page without data otherwise) |
//! | `GET /stream/overlay/events?sessionId=&token=` | its live data as server-sent events |
//! | `GET /healthz` | liveness |
//!
//! Every API route needs credentials ([`ApiAuth`]); errors are `{"error", "code"}` with the
//! code's status (400/401/403/404/409/413/429/5xx, `Retry-After` on 429); JSON bodies are
//! limited to 64 KiB and webhooks to 1 MiB; each request gets an `x-request-id`, and the
//! request log shows the path only (queries may carry overlay tokens).

mod auth;
mod body;
mod error;
mod overlay;
mod routes;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{HeaderName, Request};
use axum::Router;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use self::auth::{ApiAuth, UserTokens, MIN_KEY_LEN};
pub use self::error::{ApiError, ApiResult};
use crate::service::StreamingService;

/// Largest JSON request body, in bytes.
pub const MAX_JSON_BODY: usize = 64 * 1024;
/// Largest webhook body, in bytes.
pub const MAX_WEBHOOK_BODY: usize = crate::webhook::MAX_WEBHOOK_BODY_BYTES;
/// How long one request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Shared state of the handlers.
#[derive(Clone, Debug)]
struct AppState {
    service: StreamingService,
    auth: ApiAuth,
}

/// Settings of [`router_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterOptions {
    /// How long one request (reading its body included) may take before it is answered
    /// 408; bounds slow-body (slowloris-style) requests. Default [`REQUEST_TIMEOUT`].
    pub request_timeout: Duration,
}

impl Default for RouterOptions {
    fn default() -> Self {
        Self {
            request_timeout: REQUEST_TIMEOUT,
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
    routes::routes()
        .with_state(AppState { service, auth })
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
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            options.request_timeout,
        ))
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
