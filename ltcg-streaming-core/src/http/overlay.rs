//! The overlay page LiveKit's egress renders: `GET /stream/overlay?sessionId=&token=`,
//! its assets, and `GET /stream/overlay/events` (server-sent events). Both the page and the
//! events need a valid overlay token for that session; without one the page is a 401 with
//! no data.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures::stream::{self, Stream};
use serde::Deserialize;

use super::error::ApiError;
use super::AppState;
use crate::error::Error;
use crate::service::StreamingService;
use crate::session::SessionId;

const PAGE: &str = include_str!("assets/overlay.html");
const SCRIPT: &str = include_str!("assets/overlay.js");
const STYLE: &str = include_str!("assets/overlay.css");
const DENIED: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Unauthorized</title></head><body><p>Unauthorized overlay access.</p></body></html>";

/// How often the events stream looks for changes.
const POLL: Duration = Duration::from_secs(1);

/// Locks the page down: own scripts and styles only, no referrer (the URL holds a token).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OverlayQuery {
    #[serde(default)]
    session_id: String,
    #[serde(default)]
    token: String,
}

/// The session and token of a request, if both are well-formed.
fn credentials(raw: Option<String>) -> Option<(SessionId, String)> {
    let q: OverlayQuery = serde_urlencoded::from_str(&raw.unwrap_or_default()).ok()?;
    let id = SessionId::parse(&q.session_id).ok()?;
    (!q.token.is_empty()).then_some((id, q.token))
}

fn secured(mut response: Response, content_type: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /stream/overlay`: the page, or a 401 page without data.
pub(super) async fn page(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let allowed = match credentials(raw) {
        Some((id, token)) => s.service.overlay_snapshot(&id, &token).await.is_ok(),
        None => false,
    };
    let response = if allowed {
        Html(PAGE).into_response()
    } else {
        (StatusCode::UNAUTHORIZED, Html(DENIED)).into_response()
    };
    secured(response, "text/html; charset=utf-8")
}

/// `GET /stream/overlay.js`.
pub(super) async fn script() -> Response {
    secured(SCRIPT.into_response(), "text/javascript; charset=utf-8")
}

/// `GET /stream/overlay.css`.
pub(super) async fn style() -> Response {
    secured(STYLE.into_response(), "text/css; charset=utf-8")
}

/// `GET /stream/overlay/events`: a `snapshot` event now and whenever the data changes; the
/// stream ends after the snapshot showing the session ended (`ended` or `error`, so a new
/// connection for an ended session gets that snapshot and the end), or with a `denied` event
/// once the token stops being valid.
pub(super) async fn events(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let Some((id, token)) = credentials(raw) else {
        return ApiError(Error::unauthorized("sessionId and token are required")).into_response();
    };
    if let Err(e) = s.service.overlay_snapshot(&id, &token).await {
        return ApiError(e).into_response();
    }
    Sse::new(snapshots(s.service, id, token))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Polls the session and yields an event when its overlay data changed, until it ended.
fn snapshots(
    service: StreamingService,
    id: SessionId,
    token: String,
) -> impl Stream<Item = Result<Event, Infallible>> {
    struct Poll {
        service: StreamingService,
        id: SessionId,
        token: String,
        last: Option<String>,
        first: bool,
        done: bool,
    }
    let state = Poll {
        service,
        id,
        token,
        last: None,
        first: true,
        done: false,
    };
    stream::unfold(state, |mut p| async move {
        if p.done {
            return None;
        }
        loop {
            if !p.first {
                tokio::time::sleep(POLL).await;
            }
            p.first = false;
            match p.service.overlay_snapshot(&p.id, &p.token).await {
                Ok(snapshot) => {
                    let json = serde_json::to_string(&snapshot).unwrap_or_default();
                    if p.last.as_deref() != Some(json.as_str()) {
                        let event = Event::default().event("snapshot").data(json.clone());
                        p.last = Some(json);
                        p.done = snapshot.status.is_terminal();
                        return Some((Ok(event), p));
                    }
                }
                Err(e) if e.code() == crate::error::ErrorCode::Unauthorized => {
                    p.done = true;
                    return Some((Ok(Event::default().event("denied").data("{}")), p));
                }
                // Transient store trouble: keep the page as it is and try again.
                Err(_) => {}
            }
        }
    })
}
