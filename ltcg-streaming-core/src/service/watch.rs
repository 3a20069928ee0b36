//! Following a session's status instead of polling it: a [`StatusWatch`] yields the status
//! view now and again each time it changes, and ends after the view of a terminal status.
//!
//! In process, the watch wakes on the service's change notices ([`Change`]) and also re-reads
//! every [`WATCH_REFRESH`], so a change written by another replica (which sends no notice
//! here) is seen too. Over HTTP ([`crate::client::Client::watch_status`]) it re-reads on
//! that schedule alone.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

use super::{Actor, Change, SessionStatusView, StreamingService};
use crate::error::{Error, Result};
use crate::session::SessionId;

/// How often a watch re-reads the session when no notice wakes it.
pub const WATCH_REFRESH: Duration = Duration::from_secs(2);

/// The shortest refresh period a watch accepts.
pub const MIN_WATCH_REFRESH: Duration = Duration::from_millis(1);

/// A watch's refresh period from a host language's number of `seconds`: at least
/// [`MIN_WATCH_REFRESH`] (and finite), else `INVALID_INPUT` naming `field`.
pub fn watch_refresh(field: &str, seconds: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|period| *period >= MIN_WATCH_REFRESH)
        .ok_or_else(|| Error::invalid(field, "must be a period of at least 1 ms"))
}

type Read = Pin<Box<dyn Future<Output = Result<SessionStatusView>> + Send>>;
type Reload = Box<dyn FnMut() -> Read + Send>;

/// A session's status, now and after every change (see the module docs).
pub struct StatusWatch {
    first: Option<Read>,
    reload: Reload,
    wake: Option<(SessionId, broadcast::Receiver<Change>)>,
    refresh: Duration,
    last: Option<SessionStatusView>,
    finished: bool,
}

impl std::fmt::Debug for StatusWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusWatch")
            .field(
                "last",
                &self.last.as_ref().map(|v| (&v.session_id, v.status)),
            )
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl StatusWatch {
    /// A watch whose first view comes from `first` (which also checks that the caller may
    /// read the session) and whose later views from `reload`, woken by `wake`'s notices for
    /// its session and every `refresh`.
    pub(crate) fn new(
        first: Read,
        reload: Reload,
        wake: Option<(SessionId, broadcast::Receiver<Change>)>,
        refresh: Duration,
    ) -> Self {
        Self {
            first: Some(first),
            reload,
            wake,
            refresh,
            last: None,
            finished: false,
        }
    }

    /// The next view: the current one first, then each one that differs from the last;
    /// `None` once a terminal status was given. A failed read is given as an error and the
    /// watch goes on (a refused first read — unknown session, not allowed — ends it).
    pub async fn next(&mut self) -> Option<Result<SessionStatusView>> {
        if self.finished {
            return None;
        }
        if let Some(first) = self.first.take() {
            let view = first.await;
            if view.is_err() {
                self.finished = true;
            }
            return Some(view.map(|v| self.keep(v)));
        }
        loop {
            self.wait().await;
            match (self.reload)().await {
                Ok(view) if self.last.as_ref() != Some(&view) => return Some(Ok(self.keep(view))),
                Ok(_) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// Remembers `view` as the last one given (ending the watch after a terminal one).
    fn keep(&mut self, view: SessionStatusView) -> SessionStatusView {
        self.finished = view.status.is_terminal();
        self.last = Some(view.clone());
        view
    }

    /// Until a notice for the session, a lost notice, or the refresh time.
    async fn wait(&mut self) {
        let deadline = Instant::now() + self.refresh;
        let Some((id, changes)) = &mut self.wake else {
            tokio::time::sleep_until(deadline).await;
            return;
        };
        loop {
            tokio::select! {
                notice = changes.recv() => match notice {
                    Ok(Change::Session(changed)) if changed == *id => return,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => return,
                    Err(RecvError::Closed) => {
                        self.wake = None;
                        tokio::time::sleep_until(deadline).await;
                        return;
                    }
                },
                _ = tokio::time::sleep_until(deadline) => return,
            }
        }
    }
}

impl StreamingService {
    /// Follows session `session_id`'s status for `actor` (who must be allowed to read it, as
    /// for [`StreamingService::get_status`], checked by the first [`StatusWatch::next`]; the
    /// later reads do not count against the caller's rate limit).
    pub fn watch_status(&self, actor: &Actor, session_id: &SessionId) -> StatusWatch {
        self.watch_status_every(actor, session_id, WATCH_REFRESH)
    }

    /// [`Self::watch_status`] re-reading every `refresh` without a notice.
    pub fn watch_status_every(
        &self,
        actor: &Actor,
        session_id: &SessionId,
        refresh: Duration,
    ) -> StatusWatch {
        let wake = Some((session_id.clone(), self.subscribe_changes()));
        let (service, actor, id) = (self.clone(), actor.clone(), session_id.clone());
        let first: Read = Box::pin(async move { service.get_status(&actor, &id).await });
        let (service, id) = (self.clone(), session_id.clone());
        let reload: Reload = Box::new(move || {
            let (service, id) = (service.clone(), id.clone());
            Box::pin(async move {
                let session = service.load(&id).await?;
                Ok(service.view(&session))
            })
        });
        StatusWatch::new(first, reload, wake, refresh)
    }
}
