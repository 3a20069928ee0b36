//! What the overlay page shows, for holders of the session's overlay token.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::StreamingService;
use crate::error::Result;
use crate::platform::Platform;
use crate::session::{
    ActivityKind, DecisionData, EventData, OverlayConfig, SessionId, SessionStatus, StreamType,
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
    /// Changes whenever any of the above may have changed.
    pub version: u64,
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
        Ok(OverlaySnapshot {
            entity_name: s
                .entity_name
                .clone()
                .unwrap_or_else(|| s.entity.entity_id.clone()),
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
            version: s.version,
        })
    }
}
