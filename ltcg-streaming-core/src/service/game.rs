//! The game on screen: a lobby's spectator view, and the result of a session's last match.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::changes::Change;
use super::{Actor, StreamingService};
use crate::error::{Error, Result};
use crate::session::{
    check_text, GameState, MatchOutcome, MatchResult, SessionId, StoredGameState,
    DEFAULT_MATCH_SUMMARY, MAX_SUMMARY_CHARS,
};

/// How far in the future a match may be said to have ended (clock skew), ms.
const MAX_CLOCK_SKEW_MS: i64 = 60_000;

/// Answer to `update_game_state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GameStateUpdated {
    /// Always `true` (failures are errors).
    pub success: bool,
    /// The lobby.
    pub lobby_id: String,
    /// When it was stored, Unix ms.
    pub updated_at: i64,
}

/// `POST /api/streaming/match-result`, in the product's shape.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MatchResultRequest {
    /// The session whose match ended.
    #[serde(default)]
    pub session_id: Option<SessionId>,
    /// When it ended, Unix ms (default now).
    #[serde(default)]
    pub last_match_ended_at: Option<i64>,
    /// `win`, `loss`, `draw` or `unknown` (default).
    #[serde(default)]
    pub last_match_result: Option<MatchOutcome>,
    /// One line for viewers (default `Match over.`).
    #[serde(default)]
    pub last_match_summary: Option<String>,
    /// Stop showing the lobby (default `true`).
    #[serde(default)]
    pub clear_current_lobby: Option<bool>,
}

/// Answer to `record_match_result`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatchResultRecorded {
    /// Always `true` (failures are errors).
    pub success: bool,
    /// The session.
    pub session_id: SessionId,
    /// The result as stored.
    pub last_match: MatchResult,
}

impl StreamingService {
    /// Sets the spectator view of `state.lobbyId`, shown by every session linked to that
    /// lobby. Internal callers may set any lobby; a user or agent only the lobby its own
    /// active session shows.
    pub async fn update_game_state(
        &self,
        actor: &Actor,
        state: GameState,
    ) -> Result<GameStateUpdated> {
        self.inner.limits.call(actor)?;
        state.validate()?;
        if let Some(entity) = actor.entity() {
            let shows_it = self
                .inner
                .store
                .active_session(&entity)
                .await?
                .is_some_and(|s| s.current_lobby_id.as_deref() == Some(state.lobby_id.as_str()));
            if !shows_it {
                return Err(Error::forbidden(
                    "only the lobby your active session shows (link it first)",
                ));
            }
        }
        let stored = StoredGameState {
            state,
            updated_at: self.now(),
        };
        self.inner.store.put_game_state(&stored).await?;
        let lobby_id = stored.state.lobby_id;
        self.inner.changes.send(Change::Lobby(lobby_id.clone()));
        Ok(GameStateUpdated {
            success: true,
            lobby_id,
            updated_at: stored.updated_at,
        })
    }

    /// Records how the session's match ended: the overlay shows the match-over scene for
    /// `matchOverHoldMs`, then moves on by itself. Clears the lobby unless
    /// `clearCurrentLobby` is `false`.
    pub async fn record_match_result(
        &self,
        actor: &Actor,
        req: MatchResultRequest,
    ) -> Result<MatchResultRecorded> {
        self.inner.limits.call(actor)?;
        let id = req
            .session_id
            .ok_or_else(|| Error::invalid("sessionId", "is required"))?;
        let now = self.now();
        let ended_at = req.last_match_ended_at.unwrap_or(now);
        if ended_at < 0 || ended_at > now.saturating_add(MAX_CLOCK_SKEW_MS) {
            return Err(Error::invalid(
                "lastMatchEndedAt",
                "must be a Unix time in ms, not in the future",
            ));
        }
        let summary = match req.last_match_summary.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_MATCH_SUMMARY.to_owned(),
            Some(text) => {
                check_text("lastMatchSummary", text, MAX_SUMMARY_CHARS)?;
                text.to_owned()
            }
        };
        let result = MatchResult {
            ended_at,
            result: req.last_match_result.unwrap_or_default(),
            summary,
        };
        actor.authorize(&self.load(&id).await?)?;
        let clear = req.clear_current_lobby.unwrap_or(true);
        self.modify(&id, |s| {
            if s.status.is_terminal() {
                return Err(Error::conflict("session is over"));
            }
            s.last_match = Some(result.clone());
            if clear {
                s.current_lobby_id = None;
            }
            Ok(())
        })
        .await?;
        Ok(MatchResultRecorded {
            success: true,
            session_id: id,
            last_match: result,
        })
    }
}
