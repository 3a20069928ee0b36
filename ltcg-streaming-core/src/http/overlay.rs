//! The overlay page LiveKit's egress renders: `GET /stream/overlay?sessionId=&token=`,
//! its assets, and `GET /stream/overlay/events` (server-sent events). Both the page and the
//! events need a valid overlay token for that session; without one the page is a 401 with
//! no data. `?preview=1` serves the page with fixed sample data and needs no session.
//!
//! The events are pushed: the stream waits for the service's change notices (see
//! [`crate::service::Change`]) and for the moments the picture changes by itself (the end
//! of a match-over hold, the token's expiry), so an idle stream costs no query and no CPU.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::error::ApiError;
use super::secure_headers::secured;
use super::AppState;
use crate::error::{Error, ErrorCode};
use crate::service::{Change, OverlaySnapshot, StreamingService};
use crate::session::{SessionId, Theme};

const PAGE: &str = include_str!("assets/overlay.html");
const SCRIPT: &str = include_str!("assets/overlay.js");
const STYLE: &str = include_str!("assets/overlay.css");
const DENIED: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Unauthorized</title></head><body><p>Unauthorized overlay access.</p></body></html>";

/// How often an idle event stream sends a heartbeat comment.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// Pause before a snapshot that failed to load (store trouble) is tried again.
const RETRY: Duration = Duration::from_secs(1);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OverlayQuery {
    #[serde(default)]
    session_id: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    preview: Option<String>,
    #[serde(default)]
    theme: Option<String>,
}

/// What a request asks for.
enum Wanted {
    /// The sample data, on a theme.
    Preview(Theme),
    /// A session, with its token.
    Session(SessionId, String),
    /// Nothing well-formed.
    Nothing,
}

fn wanted(raw: Option<String>) -> Wanted {
    let Ok(q) = serde_urlencoded::from_str::<OverlayQuery>(&raw.unwrap_or_default()) else {
        return Wanted::Nothing;
    };
    if q.preview
        .as_deref()
        .is_some_and(|p| p == "1" || p == "true")
    {
        let theme = match q.theme.as_deref() {
            Some("light") => Theme::Light,
            _ => Theme::Dark,
        };
        return Wanted::Preview(theme);
    }
    match SessionId::parse(&q.session_id) {
        Ok(id) if !q.token.is_empty() => Wanted::Session(id, q.token),
        _ => Wanted::Nothing,
    }
}

/// The page's content security policy: our own scripts and styles, and images and sound
/// only from the origins the session names (its profile picture, avatar, voice track).
fn policy(snapshot: Option<&OverlaySnapshot>) -> String {
    let origin = |u: &str| {
        url::Url::parse(u)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| u.origin().ascii_serialization())
    };
    let (mut images, mut media) = (Vec::new(), Vec::new());
    if let Some(s) = snapshot {
        let cfg = &s.overlay_config;
        images.extend(
            [
                cfg.profile_picture_url.as_deref(),
                s.entity_avatar_url.as_deref(),
            ]
            .into_iter()
            .flatten()
            .filter_map(origin),
        );
        media.extend(cfg.voice_track_url.as_deref().and_then(origin));
    }
    images.dedup();
    let list = |sources: &[String]| {
        sources
            .iter()
            .fold(String::new(), |acc, s| acc + " " + s.as_str())
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self' data:{}; media-src 'self'{}; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'self'",
        list(&images),
        list(&media)
    )
}

/// `GET /stream/overlay`: the page, or a 401 page without data.
pub(super) async fn page(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let (response, csp) = match wanted(raw) {
        Wanted::Preview(_) => (Html(PAGE).into_response(), policy(None)),
        Wanted::Session(id, token) => match s.service.overlay_snapshot(&id, &token).await {
            Ok(snapshot) => (Html(PAGE).into_response(), policy(Some(&snapshot))),
            Err(_) => denied(),
        },
        Wanted::Nothing => denied(),
    };
    secured(response, "text/html; charset=utf-8", &csp)
}

fn denied() -> (Response, String) {
    (
        (StatusCode::UNAUTHORIZED, Html(DENIED)).into_response(),
        policy(None),
    )
}

/// `GET /stream/overlay.js`.
pub(super) async fn script() -> Response {
    secured(
        SCRIPT.into_response(),
        "text/javascript; charset=utf-8",
        &policy(None),
    )
}

/// `GET /stream/overlay.css`.
pub(super) async fn style() -> Response {
    secured(
        STYLE.into_response(),
        "text/css; charset=utf-8",
        &policy(None),
    )
}

/// `GET /stream/overlay/events`: a `snapshot` event (its id the snapshot's fingerprint)
/// now and whenever the picture changes; a reconnect sending `Last-Event-ID` gets no
/// repeat of a picture it already shows. The stream ends after the snapshot showing the
/// session ended, or with a `denied` event once the token stops being valid.
pub(super) async fn events(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let keep_alive = KeepAlive::new().interval(HEARTBEAT);
    let (id, token) = match wanted(raw) {
        Wanted::Preview(theme) => {
            let snapshot = OverlaySnapshot::preview(theme);
            let first = stream::once(async move { Ok::<_, Infallible>(snapshot_event(&snapshot)) });
            return Sse::new(first.chain(stream::pending()))
                .keep_alive(keep_alive)
                .into_response();
        }
        Wanted::Session(id, token) => (id, token),
        Wanted::Nothing => {
            return ApiError(Error::unauthorized("sessionId and token are required"))
                .into_response()
        }
    };
    let expires_ms = match s.service.overlay_tokens().verify(&token, Some(id.as_str())) {
        Ok(claims) => claims.exp.saturating_mul(1000),
        Err(e) => return ApiError(e).into_response(),
    };
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let follow = Follow {
        changes: s.service.subscribe_changes(),
        service: s.service,
        id,
        token,
        expires_ms,
        last,
        lobby: None,
        wake_at: None,
        first: true,
        done: false,
    };
    Sse::new(follow.into_stream())
        .keep_alive(keep_alive)
        .into_response()
}

fn snapshot_event(snapshot: &OverlaySnapshot) -> Event {
    Event::default()
        .event("snapshot")
        .id(snapshot.fingerprint())
        .data(serde_json::to_string(snapshot).unwrap_or_default())
}

/// One page's event stream: what it shows and what it waits for.
struct Follow {
    service: StreamingService,
    changes: tokio::sync::broadcast::Receiver<Change>,
    id: SessionId,
    token: String,
    /// The token's expiry, Unix ms.
    expires_ms: i64,
    /// The fingerprint of the picture the page shows.
    last: Option<String>,
    /// The lobby shown (its game-state changes matter).
    lobby: Option<String>,
    /// When the scene changes by itself (or a failed load is retried), Unix ms.
    wake_at: Option<i64>,
    first: bool,
    done: bool,
}

impl Follow {
    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        stream::unfold(self, |mut f| async move {
            loop {
                if f.done {
                    return None;
                }
                if !f.first && !f.wait().await {
                    return None;
                }
                f.first = false;
                if let Some(event) = f.reload().await {
                    return Some((Ok(event), f));
                }
            }
        })
    }

    /// Waits until something this page shows may have changed; `false` when the service
    /// is gone.
    async fn wait(&mut self) -> bool {
        loop {
            let deadline = self
                .wake_at
                .map_or(self.expires_ms, |w| w.min(self.expires_ms));
            let pause =
                u64::try_from(deadline.saturating_sub(self.service.clock_now())).unwrap_or(0);
            tokio::select! {
                change = self.changes.recv() => match change {
                    Ok(change) if self.concerns(&change) => {
                        // Coalesce a burst into one reload.
                        while self.changes.try_recv().is_ok() {}
                        return true;
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => return true,
                    Err(RecvError::Closed) => return false,
                },
                () = tokio::time::sleep(Duration::from_millis(pause)) => {
                    self.wake_at = None;
                    return true;
                }
            }
        }
    }

    fn concerns(&self, change: &Change) -> bool {
        match change {
            Change::Session(id) => *id == self.id,
            Change::Lobby(lobby) => self.lobby.as_ref() == Some(lobby),
        }
    }

    /// Reads the picture; an event when it differs from the one shown.
    async fn reload(&mut self) -> Option<Event> {
        match self.service.overlay_snapshot(&self.id, &self.token).await {
            Ok(snapshot) => {
                self.lobby = snapshot.current_lobby_id.clone();
                self.wake_at = snapshot.scene_until;
                self.done = snapshot.status.is_terminal();
                let fingerprint = snapshot.fingerprint();
                if self.last.as_deref() == Some(fingerprint.as_str()) {
                    return None;
                }
                self.last = Some(fingerprint);
                Some(snapshot_event(&snapshot))
            }
            Err(e) if e.code() == ErrorCode::Unauthorized => {
                self.done = true;
                Some(Event::default().event("denied").data("{}"))
            }
            // Store trouble: keep the page as it is and try again shortly.
            Err(_) => {
                let retry = i64::try_from(RETRY.as_millis()).unwrap_or(1000);
                self.wake_at = Some(self.service.clock_now().saturating_add(retry));
                None
            }
        }
    }
}
