//! The product's agent and user streaming settings (`configure-agent`, `configure-user`,
//! `streaming-config`), kept in the stored platform credentials.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Actor, ConfigurePlatformRequest, CredentialTarget, StreamingService};
use crate::error::{Error, Result};
use crate::platform::{validate_ingest_url, validate_stream_key, IngestUrl, Platform};
use crate::session::{check_http_url, Entity, OverlayConfigPatch, PlayerVisualMode};
use crate::store::PlatformCredential;
use crate::vault::SecretString;

/// `POST /api/streaming/configure-agent`, in the product's shape.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigureAgentRequest {
    /// The agent.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Streaming on (default `true`); `false` also turns auto-start's stream off.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Platform (required while enabled).
    #[serde(default)]
    pub platform: Option<Platform>,
    /// Stream key (kept when omitted and the platform is unchanged).
    #[serde(default)]
    pub stream_key: Option<SecretString>,
    /// Custom ingest URL, `rtmp://` or `rtmps://`.
    #[serde(default)]
    pub rtmp_url: Option<String>,
    /// Start when the agent's game starts (default `true`).
    #[serde(default)]
    pub auto_start: Option<bool>,
    /// Keep the stream live between games (default `true`; `false` when disabled).
    #[serde(default)]
    pub keep_alive: Option<bool>,
    /// Voice track played on the stream (http/https; blank clears it).
    #[serde(default)]
    pub voice_track_url: Option<String>,
    /// Its volume, 0–1.
    #[serde(default)]
    pub voice_volume: Option<f64>,
    /// Loop it.
    #[serde(default)]
    pub voice_loop: Option<bool>,
    /// `webcam` or `profile-picture`.
    #[serde(default)]
    pub visual_mode: Option<PlayerVisualMode>,
    /// Picture shown in the picture-in-picture (http/https; blank clears it).
    #[serde(default)]
    pub profile_picture_url: Option<String>,
    /// The channel whose viewers are counted (Twitch login, YouTube video id, Kick slug;
    /// not in the product's shape).
    #[serde(default)]
    pub channel: Option<String>,
}

/// `POST /api/streaming/configure-user`, in the product's shape.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigureUserRequest {
    /// The user (internal callers; users configure themselves).
    #[serde(default)]
    pub user_id: Option<String>,
    /// Platform (not `retake`, which is agent-only).
    pub platform: Platform,
    /// Stream key.
    pub stream_key: SecretString,
    /// Custom ingest URL, `rtmp://` or `rtmps://`.
    #[serde(default)]
    pub rtmp_url: Option<String>,
}

/// `GET /api/agents/streaming-config`: the product's `AgentStreamingConfig` (never the
/// key or its ciphertext).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentStreamingConfig {
    /// Streaming on.
    pub enabled: bool,
    /// Platform.
    pub platform: Option<Platform>,
    /// Whether a key is stored.
    pub has_stream_key: bool,
    /// Custom ingest URL, key redacted.
    pub rtmp_url: Option<String>,
    /// Auto-start on game start.
    pub auto_start: bool,
    /// Keep the stream live between games.
    pub keep_alive: bool,
    /// Voice track.
    pub voice_track_url: Option<String>,
    /// Voice volume.
    pub voice_volume: Option<f64>,
    /// Voice loop.
    pub voice_loop: bool,
    /// Picture-in-picture content.
    pub visual_mode: PlayerVisualMode,
    /// Profile picture.
    pub profile_picture_url: Option<String>,
}

impl AgentStreamingConfig {
    /// The product's defaults, for an agent with nothing stored.
    fn unset() -> Self {
        Self {
            enabled: false,
            platform: None,
            has_stream_key: false,
            rtmp_url: None,
            auto_start: false,
            keep_alive: true,
            voice_track_url: None,
            voice_volume: None,
            voice_loop: false,
            visual_mode: PlayerVisualMode::ProfilePicture,
            profile_picture_url: None,
        }
    }
}

impl From<&PlatformCredential> for AgentStreamingConfig {
    fn from(c: &PlatformCredential) -> Self {
        Self {
            enabled: c.enabled,
            platform: Some(c.platform),
            has_stream_key: c.encrypted_key.is_some(),
            rtmp_url: c
                .custom_rtmp_url
                .as_deref()
                .map(crate::platform::redact_url),
            auto_start: c.auto_start,
            keep_alive: c.keep_alive,
            voice_track_url: c.overlay.voice_track_url.clone(),
            voice_volume: c.overlay.voice_volume,
            voice_loop: c.overlay.voice_loop.unwrap_or(false),
            visual_mode: c
                .overlay
                .player_visual_mode
                .unwrap_or(PlayerVisualMode::ProfilePicture),
            profile_picture_url: c.overlay.profile_picture_url.clone(),
        }
    }
}

/// `err` reported under `field` (the product's name for a field the core calls otherwise).
fn named(field: &str, err: Error) -> Error {
    match err {
        Error::InvalidInput { reason, .. } => Error::invalid(field, reason),
        other => other,
    }
}

/// A trimmed optional http(s) URL: blank clears it (`Some(None)`), absent keeps it (`None`).
fn http_url(field: &str, value: Option<&str>) -> Result<Option<Option<String>>> {
    match value.map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(url) => {
            check_http_url(field, url)?;
            Ok(Some(Some(url.to_owned())))
        }
    }
}

impl StreamingService {
    /// Configures an agent's streaming the product's way (every rule of its
    /// `configure-agent` route), onto the agent's stored credentials. Internal callers
    /// configure any agent, an agent itself.
    pub async fn configure_agent(
        &self,
        actor: &Actor,
        req: ConfigureAgentRequest,
    ) -> Result<AgentStreamingConfig> {
        self.inner.limits.call(actor)?;
        let voice = http_url("voiceTrackUrl", req.voice_track_url.as_deref())?;
        let picture = http_url("profilePictureUrl", req.profile_picture_url.as_deref())?;
        if let Some(v) = req.voice_volume {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::invalid("voiceVolume", "must be between 0 and 1"));
            }
        }
        let agent_id = req
            .agent_id
            .clone()
            .ok_or_else(|| Error::invalid("agentId", "is required"))?;
        let entity = super::platforms::credential_entity(
            actor,
            &CredentialTarget {
                user_id: None,
                agent_id: Some(agent_id),
            },
        )?;
        if entity.stream_type != crate::session::StreamType::Agent {
            return Err(Error::forbidden("cannot configure another agent"));
        }
        let enabled = req.enabled.unwrap_or(true);
        let url = req
            .rtmp_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| validate_ingest_url(u).map_err(|e| named("rtmpUrl", e)))
            .transpose()?;
        let existing = self.inner.store.get_credential(&entity).await?;
        let platform = match (req.platform, &existing) {
            (Some(p), _) => p,
            (None, _) if enabled => {
                return Err(Error::invalid(
                    "platform",
                    "is required when streaming is enabled",
                ))
            }
            (None, Some(c)) => c.platform,
            // Disabling an agent that has nothing stored leaves nothing to store.
            (None, None) => return Ok(AgentStreamingConfig::unset()),
        };
        let same_platform = existing.as_ref().is_some_and(|c| c.platform == platform);
        let url = url.or_else(|| {
            existing
                .as_ref()
                .filter(|_| same_platform)
                .and_then(|c| c.custom_rtmp_url.as_deref().map(str::to_owned))
        });
        if enabled && self.needs_ingest_url(platform) && url.is_none() {
            return Err(Error::invalid(
                "rtmpUrl",
                format!("is required for the {platform} platform"),
            ));
        }
        self.check_reach(actor, "rtmpUrl", url.as_deref()).await?;
        let encrypted_key = match &req.stream_key {
            Some(key) => {
                let key = validate_stream_key(key.expose_secret())
                    .map_err(|_| Error::invalid("streamKey", "cannot be empty"))?;
                Some(self.inner.vault.encrypt(&SecretString::from(key)).await?)
            }
            None => existing
                .as_ref()
                .filter(|_| same_platform)
                .and_then(|c| c.encrypted_key.clone()),
        };
        let mut overlay = existing
            .as_ref()
            .map(|c| c.overlay.clone())
            .unwrap_or_default();
        if let Some(v) = voice {
            overlay.voice_track_url = v;
        }
        if let Some(p) = picture {
            overlay.profile_picture_url = p;
        }
        overlay.voice_volume = req.voice_volume.or(overlay.voice_volume);
        overlay.voice_loop = req.voice_loop.or(overlay.voice_loop);
        overlay.player_visual_mode = req.visual_mode.or(overlay.player_visual_mode);
        let channel = match &req.channel {
            Some(c) => Some(crate::session::Destination::channel_for(
                "channel", platform, c,
            )?),
            None => existing
                .as_ref()
                .filter(|_| same_platform)
                .and_then(|c| c.channel.clone()),
        };
        let credential = PlatformCredential {
            entity,
            platform,
            channel,
            encrypted_key,
            custom_rtmp_url: url.map(IngestUrl::from),
            auto_start: req.auto_start.unwrap_or(true),
            enabled,
            keep_alive: enabled && req.keep_alive.unwrap_or(true),
            overlay,
            updated_at: self.now(),
        };
        self.inner.store.put_credential(&credential).await?;
        Ok(AgentStreamingConfig::from(&credential))
    }

    /// Configures a user's stored credentials the product's way (`configure-user`): a
    /// platform other than `retake`, a key, and the URL the platform needs.
    pub async fn configure_user(
        &self,
        actor: &Actor,
        req: ConfigureUserRequest,
    ) -> Result<super::PlatformConfigView> {
        let user_id = match (actor, req.user_id) {
            (Actor::User(own), None) => own.clone(),
            (_, Some(id)) => id,
            (_, None) => return Err(Error::invalid("userId", "is required")),
        };
        Entity::user(&user_id)?;
        if req.platform == Platform::Retake {
            return Err(Error::invalid(
                "platform",
                "retake is agent-only: users cannot configure Retake streaming",
            ));
        }
        let custom_rtmp_url = req
            .rtmp_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| validate_ingest_url(u).map(IngestUrl::from))
            .transpose()
            .map_err(|e| named("rtmpUrl", e))?;
        if self.needs_ingest_url(req.platform) && custom_rtmp_url.is_none() {
            return Err(Error::invalid(
                "rtmpUrl",
                format!("is required for the {} platform", req.platform),
            ));
        }
        self.configure_platform(
            actor,
            ConfigurePlatformRequest {
                target: CredentialTarget {
                    user_id: Some(user_id),
                    agent_id: None,
                },
                platform: req.platform,
                stream_key: Some(req.stream_key),
                custom_rtmp_url,
                auto_start: None,
                channel: None,
            },
        )
        .await
        .map_err(|e| match e {
            Error::InvalidInput { field, reason } if field == "customRtmpUrl" => {
                Error::InvalidInput {
                    field: "rtmpUrl".into(),
                    reason,
                }
            }
            other => other,
        })
    }

    /// An agent's streaming settings (`GET /api/agents/streaming-config`): the stored ones,
    /// or the product's defaults when nothing is stored.
    pub async fn agent_streaming_config(
        &self,
        actor: &Actor,
        agent_id: &str,
    ) -> Result<AgentStreamingConfig> {
        self.inner.limits.call(actor)?;
        let entity = super::platforms::credential_entity(
            actor,
            &CredentialTarget {
                user_id: None,
                agent_id: Some(agent_id.to_owned()),
            },
        )?;
        if entity.stream_type != crate::session::StreamType::Agent {
            return Err(Error::forbidden("cannot read another agent's settings"));
        }
        Ok(self
            .inner
            .store
            .get_credential(&entity)
            .await?
            .as_ref()
            .map_or_else(AgentStreamingConfig::unset, AgentStreamingConfig::from))
    }
}

/// The overlay settings an auto-started agent stream uses (the product's explicit set):
/// every panel on, the profile picture shown unless the agent streams a webcam, the
/// match-over hold, scene label and transitions, and the agent's voice settings.
pub(super) fn auto_start_overlay(stored: &OverlayConfigPatch) -> OverlayConfigPatch {
    let mode = stored
        .player_visual_mode
        .unwrap_or(PlayerVisualMode::ProfilePicture);
    OverlayConfigPatch {
        show_decisions: Some(true),
        show_agent_info: Some(true),
        show_event_feed: Some(true),
        show_player_cam: Some(mode == PlayerVisualMode::ProfilePicture),
        webcam_position: Some(crate::session::WebcamPosition::BottomRight),
        webcam_size: Some(crate::session::WebcamSize::Medium),
        player_visual_mode: Some(mode),
        match_over_hold_ms: Some(crate::session::DEFAULT_MATCH_OVER_HOLD_MS),
        show_scene_label: Some(true),
        scene_transitions: Some(true),
        ..OverlayConfigPatch::default()
    }
    .overlaid_with(stored)
}
