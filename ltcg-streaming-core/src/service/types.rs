//! Requests and responses of [`super::StreamingService`], in the seed's camelCase JSON shapes.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::platform::{IngestUrl, Platform};
use crate::session::{
    Destination, DestinationStatus, OverlayConfig, OverlayConfigPatch, SessionId, SessionStats,
    SessionStatus, StreamSession, StreamType,
};
use crate::store::PlatformCredential;
use crate::vault::SecretString;

/// One extra output (simulcast) in a start or update request.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationInput {
    /// The platform.
    pub platform: Platform,
    /// Its stream key.
    pub stream_key: SecretString,
    /// Custom ingest URL (required for custom platforms).
    #[serde(default)]
    pub custom_rtmp_url: Option<IngestUrl>,
    /// The channel whose viewers are counted (Twitch login, YouTube video id, Kick slug).
    #[serde(default)]
    pub channel: Option<String>,
}

/// `POST /api/streaming/start`.
///
/// The stream key comes from `streamKey`, from the caller's stored credentials
/// (`useStoredCredentials`), or, for internal callers only, from an encrypted
/// `streamKeyHash`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartStreamRequest {
    /// `user` or `agent`; defaults to the caller's kind.
    #[serde(default)]
    pub stream_type: Option<StreamType>,
    /// The user to stream (internal callers; users may repeat their own id).
    #[serde(default)]
    pub user_id: Option<String>,
    /// The agent to stream (internal callers; agents may repeat their own id).
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Display name of the user or agent, shown on the overlay.
    #[serde(default)]
    pub entity_name: Option<String>,
    /// Picture of the user or agent (http/https), shown in the overlay's
    /// picture-in-picture when no `overlayConfig.profilePictureUrl` is set.
    #[serde(default)]
    pub entity_avatar_url: Option<String>,
    /// Primary platform.
    #[serde(default)]
    pub platform: Option<Platform>,
    /// Primary stream key.
    #[serde(default)]
    pub stream_key: Option<SecretString>,
    /// An encrypted stream key (internal callers only).
    #[serde(default, rename = "streamKeyHash")]
    pub encrypted_stream_key: Option<String>,
    /// Custom ingest URL for the primary platform.
    #[serde(default)]
    pub custom_rtmp_url: Option<IngestUrl>,
    /// The primary destination's channel, whose viewers are counted (Twitch login, YouTube
    /// video id, Kick slug); default: the stored credentials' channel.
    #[serde(default)]
    pub channel: Option<String>,
    /// Use the caller's stored platform, key and URL.
    #[serde(default)]
    pub use_stored_credentials: bool,
    /// Extra outputs, streamed from the same encode (simulcast).
    #[serde(default)]
    pub destinations: Vec<DestinationInput>,
    /// Title; default `LTCG Live`.
    #[serde(default)]
    pub stream_title: Option<String>,
    /// Overlay settings over the defaults of the stream type.
    #[serde(default)]
    pub overlay_config: Option<OverlayConfigPatch>,
    /// Lobby to show.
    #[serde(default)]
    pub lobby_id: Option<String>,
    /// End an active session and start a new one.
    #[serde(default)]
    pub force_restart: bool,
    /// The picture of this stream, a preset name (e.g. `"H264_720P_30"`); default: the
    /// service's `encoding`.
    #[serde(default)]
    pub encoding: Option<crate::egress::EncodingPreset>,
    /// Retake.tv access token (platform `retake`): tried first to resolve the RTMP
    /// credentials through Retake's API (see `ServiceOptions::retake`).
    #[serde(default)]
    pub retake_access_token: Option<SecretString>,
    /// A test stream no viewer sees: Twitch outputs get `?bandwidthtest=true`; any other
    /// platform is refused (`INVALID_INPUT` naming `dryRun`). The session records it.
    #[serde(default)]
    pub dry_run: bool,
    /// Refused: the overlay base URL comes only from configuration.
    #[serde(default)]
    #[schemars(skip)]
    pub base_url: Option<String>,
}

/// Answer to a start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartStreamResponse {
    /// Always `true` (failures are errors).
    pub success: bool,
    /// The session.
    pub session_id: SessionId,
    /// `pending` normally; `initializing` while an uncertain start is being confirmed;
    /// the current status when `reused`.
    pub status: SessionStatus,
    /// The overlay page URL with a fresh access token.
    pub overlay_url: String,
    /// A human-readable summary.
    pub message: String,
    /// Whether an existing session was returned instead of starting a new one.
    pub reused: bool,
}

/// `POST /api/streaming/stop`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StopStreamRequest {
    /// The session to stop.
    #[serde(default)]
    pub session_id: Option<SessionId>,
    /// Stop every active session of this agent.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Why: 1–64 characters of `a-z`, `0-9` and `_` (e.g. `game_over`); default `manual`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Answer to a stop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StopStreamResponse {
    /// Always `true` (failures are errors).
    pub success: bool,
    /// The first session stopped (or the one asked for).
    pub session_id: Option<SessionId>,
    /// Sessions this call ended.
    pub stopped_session_ids: Vec<SessionId>,
    /// Sessions that had already ended.
    pub already_ended_session_ids: Vec<SessionId>,
    /// Whether every target had already ended.
    pub already_ended: bool,
    /// Stats of the session, when exactly one was targeted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<SessionStats>,
    /// Stats of every targeted session, by id.
    pub stats_by_session: BTreeMap<String, SessionStats>,
    /// A human-readable summary.
    pub message: String,
}

/// A destination as shown to callers (no key, no ciphertext).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationView {
    /// Our destination id (use it to remove the destination).
    pub id: String,
    /// The platform.
    pub platform: Platform,
    /// The ingest URL, key redacted.
    pub url: String,
    /// Output state.
    pub status: DestinationStatus,
    /// Whether it is the primary destination.
    pub primary: bool,
    /// Added, Unix ms.
    pub added_at: i64,
    /// Removed, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at: Option<i64>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The channel whose viewers are counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// What the platform says is wrong (e.g. the channel is not live there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The platform's preview image of the channel while live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<String>,
}

impl From<&Destination> for DestinationView {
    fn from(d: &Destination) -> Self {
        Self {
            id: d.id.clone(),
            platform: d.platform,
            url: d.redacted_url.clone(),
            status: d.status,
            primary: d.primary,
            added_at: d.added_at,
            removed_at: d.removed_at,
            error_message: d.error_message.clone(),
            channel: d.channel.clone(),
            warning: d.warning.clone(),
            preview_url: d.preview_url.clone(),
        }
    }
}

/// `GET /api/streaming/status`: the seed's status shape (nothing secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatusView {
    /// The session.
    pub session_id: SessionId,
    /// Lifecycle status.
    pub status: SessionStatus,
    /// `user` or `agent`.
    pub stream_type: StreamType,
    /// The user or agent id.
    pub entity_id: String,
    /// Display name, when known.
    pub entity_name: Option<String>,
    /// Primary platform.
    pub platform: Platform,
    /// Title.
    pub stream_title: String,
    /// Lobby shown.
    pub current_lobby_id: Option<String>,
    /// Current viewers.
    pub viewer_count: u64,
    /// Peak viewers.
    pub peak_viewer_count: u64,
    /// Milliseconds on air (live: so far; ended: total; never live: 0).
    pub duration: i64,
    /// Decisions recorded.
    pub decisions_logged: u64,
    /// Events recorded.
    pub events_recorded: u64,
    /// Created, Unix ms.
    pub created_at: i64,
    /// Went live, Unix ms.
    pub started_at: Option<i64>,
    /// Ended, Unix ms.
    pub ended_at: Option<i64>,
    /// Why it ended.
    pub end_reason: Option<String>,
    /// What went wrong.
    pub error_message: Option<String>,
    /// The outputs.
    pub destinations: Vec<DestinationView>,
    /// Overlay settings.
    pub overlay_config: OverlayConfig,
    /// Final stats, once ended.
    pub stats: Option<SessionStats>,
    /// A test stream that no viewer sees (see [`StartStreamRequest::dry_run`]).
    pub dry_run: bool,
}

impl SessionStatusView {
    /// The view of `session` at `now_ms`.
    pub fn of(session: &StreamSession, now_ms: i64) -> Self {
        Self {
            session_id: session.id.clone(),
            status: session.status,
            stream_type: session.entity.stream_type,
            entity_id: session.entity.entity_id.clone(),
            entity_name: session.entity_name.clone(),
            platform: session.platform,
            stream_title: session.stream_title.clone(),
            current_lobby_id: session.current_lobby_id.clone(),
            viewer_count: session.viewer_count,
            peak_viewer_count: session.peak_viewer_count,
            duration: session
                .stats
                .map_or_else(|| session.duration_ms(now_ms), |s| s.duration),
            decisions_logged: session.decisions_logged,
            events_recorded: session.events_recorded,
            created_at: session.created_at,
            started_at: session.started_at,
            ended_at: session.ended_at,
            end_reason: session.end_reason.clone(),
            error_message: session.error_message.clone(),
            destinations: session
                .destinations
                .iter()
                .map(DestinationView::from)
                .collect(),
            overlay_config: session.overlay_config.clone(),
            stats: session.stats,
            dry_run: session.dry_run,
        }
    }
}

/// `GET /api/streaming/sessions`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListSessionsRequest {
    /// Only active sessions.
    #[serde(default)]
    pub active: bool,
    /// Only this status.
    #[serde(default)]
    pub status: Option<SessionStatus>,
    /// Only this kind of entity (with `entityId`).
    #[serde(default)]
    pub stream_type: Option<StreamType>,
    /// Only this entity.
    #[serde(default)]
    pub entity_id: Option<String>,
    /// Only sessions whose primary platform is this one.
    #[serde(default)]
    pub platform: Option<Platform>,
    /// Only sessions created at or after, Unix ms.
    #[serde(default)]
    pub since: Option<i64>,
    /// Only sessions created before, Unix ms.
    #[serde(default)]
    pub until: Option<i64>,
    /// Continue from a previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size (default 50, at most 500).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// A page of sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionList {
    /// Sessions on this page.
    pub count: usize,
    /// The sessions, newest first.
    pub sessions: Vec<SessionStatusView>,
    /// Cursor of the next page, if any.
    pub next_cursor: Option<String>,
}

/// What a webhook did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookOutcome {
    /// Always `true`: the webhook was authentic and is acknowledged.
    pub received: bool,
    /// The event name.
    pub event: String,
    /// The egress it was about.
    pub egress_id: Option<String>,
    /// The session it matched.
    pub session_id: Option<SessionId>,
    /// Whether it changed the session.
    pub applied: bool,
    /// Whether this event id was already processed.
    pub duplicate: bool,
    /// Why nothing changed, when nothing did.
    pub note: Option<String>,
}

/// `POST /api/streaming/destinations`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDestinationsRequest {
    /// The session.
    pub session_id: SessionId,
    /// Outputs to add.
    #[serde(default, alias = "addDestinations")]
    pub add: Vec<DestinationInput>,
    /// Destinations to remove: our ids, or (the product's shape) `{platform}` for the
    /// first active added destination on that platform.
    #[serde(default, alias = "removeDestinations")]
    pub remove: Vec<DestinationRef>,
}

impl From<String> for DestinationRef {
    fn from(id: String) -> Self {
        DestinationRef::Id(id)
    }
}

impl From<&str> for DestinationRef {
    fn from(id: &str) -> Self {
        DestinationRef::Id(id.to_owned())
    }
}

/// A destination to remove.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum DestinationRef {
    /// By our id (`dst_…`).
    Id(String),
    /// By platform (the product's `removeDestinations: [{platform}]`).
    Platform(DestinationOnPlatform),
}

/// The first active destination on a platform that the stream was not started with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DestinationOnPlatform {
    /// The platform.
    pub platform: Platform,
}

/// Answer to a destination update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDestinationsResponse {
    /// Always `true` (failures are errors).
    pub success: bool,
    /// The destinations added.
    pub added: Vec<DestinationView>,
    /// The ids removed.
    pub removed: Vec<String>,
    /// Every destination of the session now.
    pub destinations: Vec<DestinationView>,
}

/// `POST /api/agents/decisions`: one AI decision.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionInput {
    /// The session (default: the agent's active session).
    #[serde(default)]
    pub session_id: Option<SessionId>,
    /// The agent (internal callers without a session id).
    #[serde(default)]
    pub agent_id: Option<String>,
    /// The game.
    pub game_id: String,
    /// Turn number.
    pub turn_number: u32,
    /// Game phase.
    pub phase: String,
    /// What the agent did.
    pub action: String,
    /// Why, in the agent's words (shown on the overlay).
    pub reasoning: String,
    /// Action parameters.
    #[serde(default)]
    pub parameters: Option<serde_json::Value>,
    /// How long the decision took.
    #[serde(default)]
    pub execution_time_ms: Option<u64>,
    /// Outcome.
    #[serde(default)]
    pub result: Option<String>,
}

/// `POST /api/agents/events`: one game event for the ticker.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventInput {
    /// The session (default: the caller's active session).
    #[serde(default)]
    pub session_id: Option<SessionId>,
    /// The agent (internal callers without a session id).
    #[serde(default)]
    pub agent_id: Option<String>,
    /// The game.
    pub game_id: String,
    /// The lobby.
    #[serde(default)]
    pub lobby_id: Option<String>,
    /// Turn number.
    pub turn_number: u32,
    /// Event type, e.g. `agent_thinking`, `agent_decided`, `card_played`.
    pub event_type: String,
    /// What happened.
    pub description: String,
    /// Who did it.
    #[serde(default)]
    pub player_username: Option<String>,
    /// Extra data.
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
}

/// Answer to a recorded decision or event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordedActivity {
    /// Always `true`.
    pub success: bool,
    /// The session it was counted into.
    pub session_id: SessionId,
    /// Decisions counted so far.
    pub decisions_logged: u64,
    /// Events counted so far.
    pub events_recorded: u64,
}

/// Whose platform credentials (internal callers name the entity; others act for
/// themselves and may leave both ids out).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialTarget {
    /// A user.
    #[serde(default)]
    pub user_id: Option<String>,
    /// An agent.
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// `PUT /api/streaming/platforms`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", from = "ConfigurePlatformFields")]
pub struct ConfigurePlatformRequest {
    /// Whose credentials.
    #[serde(flatten)]
    pub target: CredentialTarget,
    /// The platform.
    pub platform: Platform,
    /// The stream key (kept when omitted and the platform is unchanged).
    #[serde(default)]
    pub stream_key: Option<SecretString>,
    /// Custom ingest URL (required for custom platforms).
    #[serde(default)]
    pub custom_rtmp_url: Option<IngestUrl>,
    /// Start automatically when the agent's game starts (default false).
    #[serde(default)]
    pub auto_start: Option<bool>,
    /// The channel whose viewers are counted (kept when omitted and the platform is
    /// unchanged).
    #[serde(default)]
    pub channel: Option<String>,
}

/// [`ConfigurePlatformRequest`] as it is read: every field at the top level, so unknown
/// fields are seen (a flattened struct would swallow them).
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ConfigurePlatformFields {
    /// A user (internal callers; others act for themselves).
    #[serde(default)]
    user_id: Option<String>,
    /// An agent (internal callers; others act for themselves).
    #[serde(default)]
    agent_id: Option<String>,
    /// The platform.
    platform: Platform,
    /// The stream key (kept when omitted and the platform is unchanged).
    #[serde(default)]
    stream_key: Option<SecretString>,
    /// Custom ingest URL (required for custom platforms).
    #[serde(default)]
    custom_rtmp_url: Option<IngestUrl>,
    /// Start automatically when the agent's game starts (default false).
    #[serde(default)]
    auto_start: Option<bool>,
    /// The channel whose viewers are counted.
    #[serde(default)]
    channel: Option<String>,
}

impl From<ConfigurePlatformFields> for ConfigurePlatformRequest {
    fn from(f: ConfigurePlatformFields) -> Self {
        Self {
            target: CredentialTarget {
                user_id: f.user_id,
                agent_id: f.agent_id,
            },
            platform: f.platform,
            stream_key: f.stream_key,
            custom_rtmp_url: f.custom_rtmp_url,
            auto_start: f.auto_start,
            channel: f.channel,
        }
    }
}

/// Stored credentials as shown to callers: never the key or its ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformConfigView {
    /// `user` or `agent`.
    pub stream_type: StreamType,
    /// Whose.
    pub entity_id: String,
    /// The platform.
    pub platform: Platform,
    /// Whether a key is stored.
    pub has_stream_key: bool,
    /// The custom ingest URL, with any key in it redacted.
    pub custom_rtmp_url: Option<String>,
    /// Auto-start on game start.
    pub auto_start: bool,
    /// The channel whose viewers are counted.
    pub channel: Option<String>,
    /// Last changed, Unix ms.
    pub updated_at: i64,
}

impl From<&PlatformCredential> for PlatformConfigView {
    fn from(c: &PlatformCredential) -> Self {
        Self {
            stream_type: c.entity.stream_type,
            entity_id: c.entity.entity_id.clone(),
            platform: c.platform,
            has_stream_key: c.encrypted_key.is_some(),
            custom_rtmp_url: c
                .custom_rtmp_url
                .as_deref()
                .map(crate::platform::redact_url),
            auto_start: c.auto_start,
            channel: c.channel.clone(),
            updated_at: c.updated_at,
        }
    }
}

/// What `on_game_started` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoStartOutcome {
    /// Whether a stream was started.
    pub started: bool,
    /// Why not, or how: `started`, `already_active_linked_to_lobby`, `not_configured`,
    /// `autostart_disabled`, `rtmp_url_required`.
    pub reason: String,
    /// The session streaming the game, if any.
    pub session_id: Option<SessionId>,
}

/// What `reconcile` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileReport {
    /// Egresses stopped because no active session owns them.
    pub stopped_egresses: Vec<String>,
    /// Sessions that adopted an egress whose start call had an uncertain outcome.
    pub adopted: Vec<SessionId>,
    /// Sessions whose status caught up with their egress (a missed webhook).
    pub caught_up: Vec<SessionId>,
    /// Sessions that did not go live within the start timeout (now `error`).
    pub timed_out: Vec<SessionId>,
    /// Live sessions ended at the maximum duration.
    pub max_duration_ended: Vec<SessionId>,
    /// Sessions whose egress disappeared without an `egress_ended`.
    pub vanished: Vec<SessionId>,
    /// Problems met on the way (the rest of the run continued).
    pub errors: Vec<String>,
    /// Set when another replica's pass held the reconciler lease: that pass does the shared
    /// work, and this one did only what concerns this replica's own local renders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_held_by: Option<String>,
}

/// `POST /api/streaming/cleanup`: a reconciler pass in the product's summary shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CleanupSummary {
    /// Always `true` (failures are errors).
    pub success: bool,
    /// Egresses stopped because no active session owns them.
    pub stopped_egresses: Vec<String>,
    /// Sessions ended (start timed out, maximum duration reached, egress vanished).
    pub ended_sessions: Vec<SessionId>,
    /// Problems met on the way.
    pub errors: Vec<String>,
    /// `Stopped N egresses, ended M sessions`.
    pub summary: String,
    /// The full report.
    pub report: ReconcileReport,
}

impl From<ReconcileReport> for CleanupSummary {
    fn from(report: ReconcileReport) -> Self {
        let ended_sessions: Vec<SessionId> = report
            .timed_out
            .iter()
            .chain(&report.max_duration_ended)
            .chain(&report.vanished)
            .cloned()
            .collect();
        Self {
            success: true,
            summary: format!(
                "Stopped {} egresses, ended {} sessions",
                report.stopped_egresses.len(),
                ended_sessions.len()
            ),
            stopped_egresses: report.stopped_egresses.clone(),
            ended_sessions,
            errors: report.errors.clone(),
            report,
        }
    }
}

/// `GET /api/agents/decisions`: an agent's recent decisions.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentDecisionsQuery {
    /// The agent (internal callers; agents read their own).
    #[serde(default)]
    pub agent_id: Option<String>,
    /// The session to read (default: the agent's active session, else its newest).
    #[serde(default)]
    pub session_id: Option<SessionId>,
    /// Only this game's decisions, oldest first (otherwise newest first).
    #[serde(default)]
    pub game_id: Option<String>,
    /// At most this many (default 50, at most 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Answer to `agent_decisions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentDecisions {
    /// The session read, if the agent has one.
    pub session_id: Option<SessionId>,
    /// The decisions (see the query for the order).
    pub decisions: Vec<crate::session::Activity>,
}

/// `POST /api/streaming/viewer-count`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ViewerCountRequest {
    /// The session.
    pub session_id: SessionId,
    /// Current viewers.
    pub viewer_count: u64,
}

/// `POST /api/streaming/game-started`: a game started for an agent (runs auto-start).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GameStartedRequest {
    /// The agent.
    pub agent_id: String,
    /// The lobby of the game.
    pub lobby_id: String,
}

/// A live session's preview picture ([`super::StreamingService::thumbnail`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preview {
    /// The egress's own picture of what it streams.
    Picture(crate::egress::Thumbnail),
    /// The platform's preview image of the channel: an `https` URL to send the viewer to.
    Platform(String),
}

/// What one platform did in a pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformPoll {
    /// The platform.
    pub platform: Platform,
    /// Channels asked for.
    pub channels: usize,
    /// `ok`, `skipped` (still waiting after a failure), `rate_limited`, `unauthorized`,
    /// `unavailable` or `malformed`.
    pub outcome: String,
    /// When a failure asked to wait: how long, ms.
    pub retry_after_ms: Option<u64>,
}

/// What a viewer-count pass did ([`super::StreamingService::poll_viewer_counts`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ViewerPollReport {
    /// Sessions whose viewer count was set.
    pub updated: Vec<SessionId>,
    /// Each configured platform that had channels to ask for.
    pub platforms: Vec<PlatformPoll>,
}
