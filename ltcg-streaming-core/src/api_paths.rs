//! The paths of the streaming HTTP API, shared by the server ([`crate::http`]) and the
//! remote client ([`crate::client`]).

/// `POST`: start a stream.
pub const START: &str = "/api/streaming/start";
/// `POST`: stop a stream.
pub const STOP: &str = "/api/streaming/stop";
/// `GET ?sessionId=`: a session's status.
pub const STATUS: &str = "/api/streaming/status";
/// `GET`: sessions, newest first.
pub const SESSIONS: &str = "/api/streaming/sessions";
/// `GET ?sessionId=`: the latest thumbnail.
pub const THUMBNAIL: &str = "/api/streaming/thumbnail";
/// `GET ?sessionId=`: a session's timeline.
pub const TIMELINE: &str = "/api/streaming/timeline";
/// `GET ?sessionId=`: a session's viewer counts.
pub const VIEWERS: &str = "/api/streaming/viewers";
/// `GET`: aggregated analytics.
pub const ANALYTICS: &str = "/api/streaming/analytics";
/// `POST`: add and remove outputs.
pub const DESTINATIONS: &str = "/api/streaming/destinations";
/// `POST`: the product's older name of [`DESTINATIONS`].
pub const UPDATE_DESTINATIONS: &str = "/api/streaming/update-destinations";
/// `POST`: show a lobby on the overlay.
pub const LINK_GAME: &str = "/api/streaming/link-game";
/// `POST`: the board of the game being played.
pub const GAME_STATE: &str = "/api/streaming/game-state";
/// `POST`: a match's result.
pub const MATCH_RESULT: &str = "/api/streaming/match-result";
/// `POST`: the current viewer count.
pub const VIEWER_COUNT: &str = "/api/streaming/viewer-count";
/// `POST`: a game started for an agent (auto-start).
pub const GAME_STARTED: &str = "/api/streaming/game-started";
/// `POST`: one reconciler pass.
pub const CLEANUP: &str = "/api/streaming/cleanup";
/// `POST`: an agent's streaming settings.
pub const CONFIGURE_AGENT: &str = "/api/streaming/configure-agent";
/// `POST`: a user's streaming settings.
pub const CONFIGURE_USER: &str = "/api/streaming/configure-user";
/// `PUT`, `GET`, `DELETE`: stored platform credentials.
pub const PLATFORMS: &str = "/api/streaming/platforms";
/// `GET ?agentId=`: an agent's streaming configuration.
pub const AGENT_STREAMING_CONFIG: &str = "/api/agents/streaming-config";
/// `POST` a decision, `GET` an agent's decisions.
pub const AGENT_DECISIONS: &str = "/api/agents/decisions";
/// `POST`: a game event.
pub const AGENT_EVENTS: &str = "/api/agents/events";
/// `POST`: LiveKit's webhooks.
pub const LIVEKIT_WEBHOOK: &str = "/api/webhooks/livekit";
