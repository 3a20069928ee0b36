//! What the overlay page shows, for holders of the session's overlay token.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::StreamingService;
use crate::error::Result;
use crate::platform::Platform;
use crate::session::{
    scene_at, ActivityKind, DecisionData, EventData, GameState, MatchResult, OverlayConfig, Scene,
    SessionId, SessionStatus, StreamSession, StreamType,
};

/// Decisions shown on the overlay.
const OVERLAY_DECISIONS: usize = 5;
/// Events shown in the overlay's ticker.
const OVERLAY_EVENTS: usize = 10;

/// The overlay's data: public session fields plus the recent decisions and events its
/// settings ask for. Nothing secret.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverlaySnapshot {
    /// The session.
    pub session_id: SessionId,
    /// Lifecycle status.
    pub status: SessionStatus,
    /// `user` or `agent`.
    pub stream_type: StreamType,
    /// Display name (or the entity id when none was given).
    pub entity_name: String,
    /// Picture of the user or agent.
    pub entity_avatar_url: Option<String>,
    /// Primary platform.
    pub platform: Platform,
    /// Title.
    pub stream_title: String,
    /// Lobby shown.
    pub current_lobby_id: Option<String>,
    /// Current viewers.
    pub viewer_count: u64,
    /// What to show.
    pub overlay_config: OverlayConfig,
    /// Newest decisions first (empty unless `showDecisions` on an agent stream).
    #[schemars(with = "Vec<DecisionData>")]
    pub decisions: Vec<Value>,
    /// Newest events first (empty unless `showEventFeed`).
    #[schemars(with = "Vec<EventData>")]
    pub events: Vec<Value>,
    /// The game of the lobby shown, as spectators see it (the streamer's display name on
    /// their side, face-down cards without name or stats).
    pub game_state: Option<GameState>,
    /// The session's last match.
    pub last_match: Option<MatchResult>,
    /// The scene to show.
    pub scene: Scene,
    /// Its label.
    pub scene_label: String,
    /// When the scene changes by itself (end of the match-over hold), Unix ms.
    pub scene_until: Option<i64>,
    /// Changes whenever the session may have changed.
    pub version: u64,
}

impl OverlaySnapshot {
    /// A fingerprint of the content (the event stream's event id): equal fingerprints show
    /// the same picture.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest as _;
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(&sha2::Sha256::digest(json)[..8])
    }

    /// Fixed sample data for the page's preview mode: an agent mid-game, with decisions,
    /// events and a board, on `theme`.
    pub fn preview(theme: crate::session::Theme) -> Self {
        let mut overlay_config = OverlayConfig::default_for(StreamType::Agent);
        overlay_config.theme = theme;
        overlay_config.show_scene_label = Some(true);
        let game_state: GameState = serde_json::from_value(serde_json::json!({
            "lobbyId": "lobby_preview", "gameId": "game_preview", "turnNumber": 7,
            "phase": "battle", "activePlayer": "host",
            "host": {"name": "BlazeMaster", "lifePoints": 6400, "handCount": 3,
                     "deckCount": 27, "graveyardCount": 4,
                     "field": [
                        {"name": "Ember Drake", "attack": 1800, "defense": 1200},
                        {"name": "Cinder Sentinel", "attack": 1200, "defense": 2000, "position": "defense"},
                        {"faceDown": true, "position": "defense"},
                        {"name": "Flame Pact", "zone": "spell-trap"},
                        {"faceDown": true, "zone": "spell-trap"}]},
            "opponent": {"name": "TidalQueen", "lifePoints": 3100, "handCount": 5,
                         "deckCount": 25, "graveyardCount": 6,
                         "field": [
                            {"name": "Abyssal Leviathan", "attack": 2400, "defense": 1900},
                            {"faceDown": true, "zone": "spell-trap"}]}
        }))
        .unwrap_or_else(|_| unreachable!("the preview game state is valid"));
        let decision = |turn: u32, phase: &str, action: &str, reasoning: &str| {
            serde_json::json!({"gameId": "game_preview", "turnNumber": turn, "phase": phase,
                               "action": action, "reasoning": reasoning})
        };
        let event = |description: &str| {
            serde_json::json!({"gameId": "game_preview", "turnNumber": 7,
                               "eventType": "agent_decided", "description": description,
                               "playerUsername": "BlazeMaster"})
        };
        OverlaySnapshot {
            session_id: SessionId::parse("preview").unwrap_or_else(|_| unreachable!()),
            status: SessionStatus::Live,
            stream_type: StreamType::Agent,
            entity_name: "BlazeMaster".into(),
            entity_avatar_url: None,
            platform: crate::platform::Platform::Twitch,
            stream_title: "BlazeMaster plays LTCG".into(),
            current_lobby_id: Some("lobby_preview".into()),
            viewer_count: 128,
            overlay_config,
            decisions: vec![
                decision(7, "battle", "Attack with Ember Drake",
                         "TidalQueen has one face-down card; Ember Drake survives a trap and pushes damage."),
                decision(7, "main1", "Set Flame Pact",
                         "Holding a response keeps Abyssal Leviathan from attacking freely."),
            ],
            events: vec![
                event("BlazeMaster attacks with Ember Drake"),
                event("TidalQueen activates Riptide Ward"),
                event("BlazeMaster summons Cinder Sentinel in defense position"),
            ],
            game_state: Some(game_state),
            last_match: None,
            scene: Scene::LiveGame,
            scene_label: Scene::LiveGame.label().into(),
            scene_until: None,
            version: 1,
        }
    }
}

impl StreamingService {
    /// The overlay data of a session, for the bearer of its overlay `token` (checked:
    /// signature, expiry, type, and that it is for this session).
    pub async fn overlay_snapshot(
        &self,
        session_id: &SessionId,
        token: &str,
    ) -> Result<OverlaySnapshot> {
        self.inner.tokens.verify(token, Some(session_id.as_str()))?;
        let s = self.load(session_id).await?;
        self.snapshot_of(s).await
    }

    /// The overlay data of a session already read.
    async fn snapshot_of(&self, s: StreamSession) -> Result<OverlaySnapshot> {
        let store = &self.inner.store;
        let data =
            |items: Vec<crate::session::Activity>| items.into_iter().map(|a| a.data).collect();
        let decisions =
            if s.overlay_config.show_decisions && s.entity.stream_type == StreamType::Agent {
                data(
                    store
                        .recent_activity(&s.id, ActivityKind::Decision, OVERLAY_DECISIONS)
                        .await?,
                )
            } else {
                Vec::new()
            };
        let events = if s.overlay_config.show_event_feed {
            data(
                store
                    .recent_activity(&s.id, ActivityKind::Event, OVERLAY_EVENTS)
                    .await?,
            )
        } else {
            Vec::new()
        };
        let game = match &s.current_lobby_id {
            Some(lobby) => store.get_game_state(lobby).await?,
            None => None,
        };
        let scene = scene_at(&s, game.as_ref(), self.now());
        let entity_name = s
            .entity_name
            .clone()
            .unwrap_or_else(|| s.entity.entity_id.clone());
        let game_state = game.map(|g| {
            let mut state = g.state;
            if s.entity_name.is_some() {
                state.name_player(&s.entity.entity_id, &entity_name);
            }
            for player in [&mut state.host, &mut state.opponent] {
                player.field = player.field.iter().map(|c| c.spectated()).collect();
            }
            state
        });
        Ok(OverlaySnapshot {
            entity_name,
            entity_avatar_url: s.entity_avatar_url,
            session_id: s.id,
            status: s.status,
            stream_type: s.entity.stream_type,
            platform: s.platform,
            stream_title: s.stream_title,
            current_lobby_id: s.current_lobby_id,
            viewer_count: s.viewer_count,
            overlay_config: s.overlay_config,
            decisions,
            events,
            game_state,
            last_match: s.last_match,
            scene: scene.scene,
            scene_label: scene.scene.label().into(),
            scene_until: scene.until,
            version: s.version,
        })
    }
}
