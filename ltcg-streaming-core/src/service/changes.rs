//! Change notices: every write the service makes to a session or a lobby's game state is
//! announced here, so the overlay's event streams push the new picture at once and cost
//! nothing while nothing changes.
//!
//! The notices are in-process. A write made to the store outside this service (another
//! process, or a host-language store written to directly) is not seen until someone calls
//! [`StreamingService::notify_changed`] with what changed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::{Actor, StreamingService};
use crate::error::{Error, Result};
use crate::session::{validate_id, SessionId};

/// Notices kept for a subscriber that falls behind (it then reloads, losing nothing).
const BACKLOG: usize = 1024;

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Change {
    /// A session (status, settings, lobby, counters, feeds, match result).
    Session(SessionId),
    /// The game state of a lobby.
    Lobby(String),
}

/// The argument of [`StreamingService::notify_changed`]: a session, a lobby, or both.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeNotice {
    /// A session that changed.
    #[serde(default)]
    pub session_id: Option<SessionId>,
    /// A lobby whose game state changed.
    #[serde(default)]
    pub lobby_id: Option<String>,
}

/// The sending side, shared by the service's clones.
#[derive(Debug)]
pub(super) struct Changes {
    tx: broadcast::Sender<Change>,
}

impl Changes {
    pub(super) fn new() -> Self {
        Self {
            tx: broadcast::channel(BACKLOG).0,
        }
    }

    /// Announces `change` (nobody listening is fine).
    pub(super) fn send(&self, change: Change) {
        let _ = self.tx.send(change);
    }
}

impl StreamingService {
    /// Notices of every change this service writes, from now on. A receiver that lags
    /// behind gets [`broadcast::error::RecvError::Lagged`] and should reload what it shows.
    pub fn subscribe_changes(&self) -> broadcast::Receiver<Change> {
        self.inner.changes.tx.subscribe()
    }

    /// Announces a change written to the store outside this service, so overlays showing
    /// it update (internal callers only; at least one of the two ids).
    pub fn notify_changed(&self, actor: &Actor, notice: ChangeNotice) -> Result<()> {
        if !matches!(actor, Actor::Internal) {
            return Err(Error::forbidden("only internal callers announce changes"));
        }
        if notice.session_id.is_none() && notice.lobby_id.is_none() {
            return Err(Error::invalid(
                "sessionId",
                "sessionId or lobbyId is required",
            ));
        }
        if let Some(lobby) = &notice.lobby_id {
            validate_id("lobbyId", lobby)?;
        }
        if let Some(id) = notice.session_id {
            self.inner.changes.send(Change::Session(id));
        }
        if let Some(lobby) = notice.lobby_id {
            self.inner.changes.send(Change::Lobby(lobby));
        }
        Ok(())
    }

    /// Announces a change of session `id`.
    pub(super) fn session_changed(&self, id: &SessionId) {
        self.inner.changes.send(Change::Session(id.clone()));
    }
}
