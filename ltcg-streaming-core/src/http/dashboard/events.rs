//! `GET /dashboard/events[?sessionId=]`: what the dashboard's pages show, pushed as
//! server-sent events.
//!
//! - `ready` first (and again after the stream fell behind): the page (re)loads its lists;
//! - `session`: the status view of a session that changed, only for sessions the caller
//!   may act for; with `sessionId`, only that one, whose current view comes first instead
//!   of `ready` (another caller's session, or a missing one, is a 404);
//! - `tick` every [`TICK`]: the pages refresh their preview images.
//!
//! A stream opened with a dashboard login ends when that login does (signed out or
//! expired): it is checked before every event, ticks included.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::super::auth::presented_key;
use super::super::error::ApiResult;
use super::super::routes::Caller;
use super::super::AppState;
use super::logins::Logins;
use crate::error::Error;
use crate::service::{Actor, Change, StreamingService};
use crate::session::SessionId;

/// How often a `tick` is sent.
pub(super) const TICK: Duration = Duration::from_secs(5);
/// How often an idle stream sends a heartbeat comment.
const HEARTBEAT: Duration = Duration::from_secs(15);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EventsQuery {
    #[serde(default)]
    session_id: Option<String>,
}

/// The event stream of one page.
pub(super) async fn stream(
    State(s): State<AppState>,
    headers: HeaderMap,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q: EventsQuery = crate::json::query(raw.as_deref().unwrap_or_default())?;
    let only = q.session_id.as_deref().map(SessionId::parse).transpose()?;
    if let Some(id) = &only {
        if s.service.owned_status(&actor, id).await?.is_none() {
            return Err(Error::not_found("session").into());
        }
    }
    let mut tick = tokio::time::interval_at(Instant::now() + TICK, TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Signed in by cookie (no key presented): the stream lives as long as the login.
    let login = presented_key(&headers)
        .is_none()
        .then(|| Logins::key_of(&headers))
        .flatten()
        .filter(|key| s.logins.is_live(key))
        .map(|key| (s.logins.clone(), key));
    let feed = Feed {
        login,
        changes: s.service.subscribe_changes(),
        service: s.service,
        actor,
        only,
        tick,
        first: true,
    };
    Ok(Sse::new(feed.into_stream())
        .keep_alive(KeepAlive::new().interval(HEARTBEAT))
        .into_response())
}

struct Feed {
    /// The login the stream was opened with, if by cookie.
    login: Option<(Arc<Logins>, [u8; 32])>,
    service: StreamingService,
    changes: tokio::sync::broadcast::Receiver<Change>,
    actor: Actor,
    only: Option<SessionId>,
    tick: Interval,
    first: bool,
}

impl Feed {
    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        stream::unfold(self, |mut f| async move {
            let event = f.next().await?;
            Some((Ok(event), f))
        })
    }

    /// Whether the stream may go on: its login, if any, is still live.
    fn signed_in(&self) -> bool {
        self.login
            .as_ref()
            .is_none_or(|(logins, key)| logins.is_live(key))
    }

    /// The next event; `None` when the service is gone or the login ended.
    async fn next(&mut self) -> Option<Event> {
        let event = self.next_event().await?;
        self.signed_in().then_some(event)
    }

    async fn next_event(&mut self) -> Option<Event> {
        if std::mem::take(&mut self.first) {
            if let Some(id) = self.only.clone() {
                if let Some(event) = self.session_event(&id).await {
                    return Some(event);
                }
            }
            return Some(Event::default().event("ready").data("{}"));
        }
        loop {
            tokio::select! {
                _ = self.tick.tick() => {
                    let now = self.service.clock_now();
                    return Some(Event::default().event("tick").data(format!("{{\"now\":{now}}}")));
                }
                change = self.changes.recv() => match change {
                    Ok(Change::Session(id)) => {
                        if self.only.as_ref().is_some_and(|only| *only != id) {
                            continue;
                        }
                        if let Some(event) = self.session_event(&id).await {
                            return Some(event);
                        }
                    }
                    Ok(Change::Lobby(_)) => {}
                    Err(RecvError::Lagged(_)) => {
                        return Some(Event::default().event("ready").data("{}"));
                    }
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    }

    /// A `session` event for `id`, when the caller may see it.
    async fn session_event(&self, id: &SessionId) -> Option<Event> {
        let view = self.service.owned_status(&self.actor, id).await.ok()??;
        let data = serde_json::to_string(&view).ok()?;
        Some(Event::default().event("session").data(data))
    }
}
