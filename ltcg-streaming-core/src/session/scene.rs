//! Which scene the overlay shows, and until when: the one place that decides it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::game_state::{MatchResult, StoredGameState};
use super::model::{SessionStatus, StreamSession};

/// Shortest and longest time the match-over scene is held, ms.
pub const MATCH_OVER_HOLD_MS: std::ops::RangeInclusive<u64> = 5_000..=3_600_000;
/// Hold used when the session's overlay settings give none, ms.
pub const DEFAULT_MATCH_OVER_HOLD_MS: u64 = 45_000;

/// A scene of the overlay page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Scene {
    /// The stream is starting and no game is on.
    StartingSoon,
    /// A game is on: the board.
    LiveGame,
    /// A match just ended: its result, for `matchOverHoldMs`.
    MatchOver,
    /// Between games.
    LobbyChat,
    /// Be right back (only by the page's `?scene=` override).
    Brb,
    /// The stream has ended.
    Ending,
}

impl Scene {
    /// The label viewers see.
    pub const fn label(self) -> &'static str {
        match self {
            Scene::StartingSoon => "Starting Soon",
            Scene::LiveGame => "Live Game",
            Scene::MatchOver => "Match Over",
            Scene::LobbyChat => "Lobby Chat",
            Scene::Brb => "Be Right Back",
            Scene::Ending => "Stream Ending",
        }
    }
}

/// The scene now, and when it changes by itself (the end of the match-over hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SceneAt {
    /// The scene.
    pub scene: Scene,
    /// Unix ms at which the scene must be evaluated again, if time alone changes it.
    pub until: Option<i64>,
}

/// The scene of `session` at `now_ms`, given the game state of its lobby:
/// - ended sessions show `ending`;
/// - a match that ended within the hold (`matchOverHoldMs`, clamped to 5 s–1 h) shows
///   `match-over`, unless a game state newer than the match is on;
/// - a game state shows `live-game`;
/// - a stream not yet live shows `starting-soon`;
/// - otherwise `lobby-chat`.
pub fn scene_at(session: &StreamSession, game: Option<&StoredGameState>, now_ms: i64) -> SceneAt {
    let at = |scene| SceneAt { scene, until: None };
    if session.status.is_terminal() {
        return at(Scene::Ending);
    }
    if let Some(end) = match_over_until(session.last_match.as_ref(), session, now_ms) {
        let newer_game = game.is_some_and(|g| {
            g.updated_at > session.last_match.as_ref().map_or(i64::MAX, |m| m.ended_at)
        });
        if !newer_game {
            return SceneAt {
                scene: Scene::MatchOver,
                until: Some(end),
            };
        }
    }
    if game.is_some() {
        return at(Scene::LiveGame);
    }
    if matches!(
        session.status,
        SessionStatus::Initializing | SessionStatus::Pending
    ) {
        return at(Scene::StartingSoon);
    }
    at(Scene::LobbyChat)
}

/// When the match-over hold of `last` ends, if it has not yet.
fn match_over_until(
    last: Option<&MatchResult>,
    session: &StreamSession,
    now_ms: i64,
) -> Option<i64> {
    let last = last?;
    let hold = session
        .overlay_config
        .match_over_hold_ms
        .unwrap_or(DEFAULT_MATCH_OVER_HOLD_MS)
        .clamp(*MATCH_OVER_HOLD_MS.start(), *MATCH_OVER_HOLD_MS.end());
    let end = last
        .ended_at
        .saturating_add(i64::try_from(hold).unwrap_or(i64::MAX));
    (now_ms < end).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Entity, GameState, MatchOutcome, NewSession, OverlayConfig, StreamType};

    fn session(status: SessionStatus) -> StreamSession {
        let mut s = StreamSession::create(
            NewSession {
                entity: Entity::agent("agent_scene").unwrap(),
                entity_name: None,
                entity_avatar_url: None,
                platform: crate::platform::Platform::Twitch,
                stream_title: String::new(),
                overlay_config: OverlayConfig::default_for(StreamType::Agent),
                lobby_id: None,
                destinations: Vec::new(),
                dry_run: false,
            },
            0,
        )
        .unwrap();
        s.status = status;
        s
    }

    fn game(updated_at: i64) -> StoredGameState {
        let state: GameState = serde_json::from_value(serde_json::json!({
            "lobbyId": "l1", "gameId": "g1", "turnNumber": 1, "phase": "main1",
            "activePlayer": "host",
            "host": {"name": "a", "lifePoints": 8000}, "opponent": {"name": "b", "lifePoints": 8000}
        }))
        .unwrap();
        StoredGameState { state, updated_at }
    }

    #[test]
    fn scenes_follow_status_game_and_match() {
        use Scene::*;
        let pending = session(SessionStatus::Pending);
        assert_eq!(scene_at(&pending, None, 1).scene, StartingSoon);
        assert_eq!(scene_at(&pending, Some(&game(1)), 1).scene, LiveGame);
        let live = session(SessionStatus::Live);
        assert_eq!(scene_at(&live, None, 1).scene, LobbyChat);
        assert_eq!(
            scene_at(&session(SessionStatus::Ended), Some(&game(1)), 1).scene,
            Ending
        );
    }

    #[test]
    fn match_over_holds_for_the_clamped_time_then_ends_on_its_own() {
        let mut live = session(SessionStatus::Live);
        live.last_match = Some(MatchResult {
            ended_at: 10_000,
            result: MatchOutcome::Win,
            summary: "gg".into(),
        });
        let held = scene_at(&live, None, 10_001);
        assert_eq!(
            held,
            SceneAt {
                scene: Scene::MatchOver,
                until: Some(55_000)
            }
        );
        assert_eq!(scene_at(&live, None, 55_000).scene, Scene::LobbyChat);
        // A game started after the match replaces the scene.
        assert_eq!(
            scene_at(&live, Some(&game(20_000)), 20_001).scene,
            Scene::LiveGame
        );
        assert_eq!(
            scene_at(&live, Some(&game(9_000)), 20_001).scene,
            Scene::MatchOver
        );
        // Out-of-range holds are clamped (a host store may hold anything).
        live.overlay_config.match_over_hold_ms = Some(1);
        assert_eq!(scene_at(&live, None, 10_001).until, Some(15_000));
        live.overlay_config.match_over_hold_ms = Some(u64::MAX);
        assert_eq!(scene_at(&live, None, 10_001).until, Some(3_610_000));
    }
}
