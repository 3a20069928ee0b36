//! Overlay settings: what the rendered page shows, with the seed's defaults.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::StreamType;
use crate::error::{Error, Result};

/// Colour theme of the overlay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Dark background (default).
    #[default]
    Dark,
    /// Light background.
    Light,
}

/// Corner of the picture-in-picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WebcamPosition {
    /// Top left.
    TopLeft,
    /// Top right.
    TopRight,
    /// Bottom left.
    BottomLeft,
    /// Bottom right.
    BottomRight,
}

/// Size of the picture-in-picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebcamSize {
    /// 220 px.
    Small,
    /// 280 px.
    Medium,
    /// 340 px.
    Large,
}

/// What the picture-in-picture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PlayerVisualMode {
    /// A webcam feed.
    Webcam,
    /// A still profile picture.
    ProfilePicture,
}

/// Overlay settings of a session. Optional settings are left out of JSON when unset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverlayConfig {
    /// Show the AI decision reasoning panel.
    pub show_decisions: bool,
    /// Show the streamer/agent info bar.
    pub show_agent_info: bool,
    /// Show the game events ticker.
    pub show_event_feed: bool,
    /// Show the player picture-in-picture.
    pub show_player_cam: bool,
    /// Picture-in-picture corner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webcam_position: Option<WebcamPosition>,
    /// Picture-in-picture size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webcam_size: Option<WebcamSize>,
    /// Picture-in-picture content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player_visual_mode: Option<PlayerVisualMode>,
    /// Picture shown in profile-picture mode (http/https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_picture_url: Option<String>,
    /// How long the match-over scene stays, ms (5,000–3,600,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_over_hold_ms: Option<u64>,
    /// Show the scene label pill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_scene_label: Option<bool>,
    /// Animate scene changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene_transitions: Option<bool>,
    /// Background voice track (http/https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_track_url: Option<String>,
    /// Voice track volume, 0–1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_volume: Option<f64>,
    /// Loop the voice track.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_loop: Option<bool>,
    /// Colour theme.
    pub theme: Theme,
}

/// A partial [`OverlayConfig`] from a request; set fields replace the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(missing_docs)] // each field mirrors the OverlayConfig field of the same name
pub struct OverlayConfigPatch {
    pub show_decisions: Option<bool>,
    pub show_agent_info: Option<bool>,
    pub show_event_feed: Option<bool>,
    pub show_player_cam: Option<bool>,
    pub webcam_position: Option<WebcamPosition>,
    pub webcam_size: Option<WebcamSize>,
    pub player_visual_mode: Option<PlayerVisualMode>,
    pub profile_picture_url: Option<String>,
    pub match_over_hold_ms: Option<u64>,
    pub show_scene_label: Option<bool>,
    pub scene_transitions: Option<bool>,
    pub voice_track_url: Option<String>,
    pub voice_volume: Option<f64>,
    pub voice_loop: Option<bool>,
    pub theme: Option<Theme>,
}

/// Longest URL accepted in the overlay settings.
const MAX_OVERLAY_URL_BYTES: usize = 2048;

impl OverlayConfigPatch {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `self` with the fields `over` sets replacing its own.
    pub fn overlaid_with(&self, over: &OverlayConfigPatch) -> OverlayConfigPatch {
        macro_rules! pick {
            ($($field:ident),*) => {
                OverlayConfigPatch { $($field: over.$field.clone().or_else(|| self.$field.clone())),* }
            };
        }
        pick!(
            show_decisions,
            show_agent_info,
            show_event_feed,
            show_player_cam,
            webcam_position,
            webcam_size,
            player_visual_mode,
            profile_picture_url,
            match_over_hold_ms,
            show_scene_label,
            scene_transitions,
            voice_track_url,
            voice_volume,
            voice_loop,
            theme
        )
    }
}

impl OverlayConfig {
    /// The seed's defaults: users show the event feed and player cam; agents show
    /// decisions, agent info and the event feed. Both dark; optional settings unset.
    ///
    /// ```
    /// use ltcg_streaming_core::{OverlayConfig, StreamType};
    /// let json = serde_json::to_string(&OverlayConfig::default_for(StreamType::User))?;
    /// assert_eq!(json, r#"{"showDecisions":false,"showAgentInfo":false,"showEventFeed":true,"showPlayerCam":true,"theme":"dark"}"#);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn default_for(stream_type: StreamType) -> Self {
        let agent = stream_type == StreamType::Agent;
        Self {
            show_decisions: agent,
            show_agent_info: agent,
            show_event_feed: true,
            show_player_cam: !agent,
            webcam_position: None,
            webcam_size: None,
            player_visual_mode: None,
            profile_picture_url: None,
            match_over_hold_ms: None,
            show_scene_label: None,
            scene_transitions: None,
            voice_track_url: None,
            voice_volume: None,
            voice_loop: None,
            theme: Theme::Dark,
        }
    }

    /// The defaults for `stream_type` with `patch` applied, validated.
    pub fn merged(stream_type: StreamType, patch: &OverlayConfigPatch) -> Result<Self> {
        let mut config = Self::default_for(stream_type);
        config.apply(patch);
        config.validate()?;
        Ok(config)
    }

    /// Applies the set fields of `patch` (blank URLs clear the setting).
    pub fn apply(&mut self, patch: &OverlayConfigPatch) {
        let url = |u: &Option<String>, current: &mut Option<String>| {
            if let Some(u) = u {
                let u = u.trim();
                *current = (!u.is_empty()).then(|| u.to_owned());
            }
        };
        macro_rules! set {
            ($($field:ident),*) => {$(if let Some(v) = patch.$field { self.$field = v; })*};
        }
        macro_rules! set_opt {
            ($($field:ident),*) => {$(if patch.$field.is_some() { self.$field = patch.$field; })*};
        }
        set!(
            show_decisions,
            show_agent_info,
            show_event_feed,
            show_player_cam,
            theme
        );
        set_opt!(
            webcam_position,
            webcam_size,
            player_visual_mode,
            match_over_hold_ms,
            show_scene_label,
            scene_transitions,
            voice_volume,
            voice_loop
        );
        url(&patch.profile_picture_url, &mut self.profile_picture_url);
        url(&patch.voice_track_url, &mut self.voice_track_url);
    }

    /// Checks ranges and URLs; the error names the field.
    pub fn validate(&self) -> Result<()> {
        if let Some(v) = self.voice_volume {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::invalid(
                    "overlayConfig.voiceVolume",
                    "must be between 0 and 1",
                ));
            }
        }
        if let Some(ms) = self.match_over_hold_ms {
            if !super::scene::MATCH_OVER_HOLD_MS.contains(&ms) {
                return Err(Error::invalid(
                    "overlayConfig.matchOverHoldMs",
                    "must be between 5000 and 3600000",
                ));
            }
        }
        for (field, url) in [
            ("overlayConfig.profilePictureUrl", &self.profile_picture_url),
            ("overlayConfig.voiceTrackUrl", &self.voice_track_url),
        ] {
            if let Some(url) = url {
                check_http_url(field, url)?;
            }
        }
        Ok(())
    }
}

/// Accepts `http://` or `https://` URLs without whitespace, control characters or quotes.
pub(crate) fn check_http_url(field: &str, url: &str) -> Result<()> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(Error::invalid(field, "must start with https:// or http://"));
    }
    if url.len() > MAX_OVERLAY_URL_BYTES
        || url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>'))
    {
        return Err(Error::invalid(
            field,
            "must be a URL of at most 2048 bytes without spaces or quotes",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_defaults_match_the_seed() {
        let json = serde_json::to_value(OverlayConfig::default_for(StreamType::Agent)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"showDecisions":true,"showAgentInfo":true,"showEventFeed":true,"showPlayerCam":false,"theme":"dark"})
        );
    }

    #[test]
    fn patch_merges_over_defaults() {
        let patch: OverlayConfigPatch = serde_json::from_str(
            r#"{"theme":"light","showPlayerCam":true,"webcamPosition":"top-left","voiceVolume":0.5,"voiceTrackUrl":"  https://cdn/x.mp3 "}"#,
        )
        .unwrap();
        let cfg = OverlayConfig::merged(StreamType::Agent, &patch).unwrap();
        assert_eq!(cfg.theme, Theme::Light);
        assert!(cfg.show_player_cam && cfg.show_decisions);
        assert_eq!(cfg.webcam_position, Some(WebcamPosition::TopLeft));
        assert_eq!(cfg.voice_track_url.as_deref(), Some("https://cdn/x.mp3"));
        let json = serde_json::to_value(&cfg).unwrap();
        assert_eq!(json["webcamPosition"], "top-left");
        assert!(json.get("webcamSize").is_none());
    }

    #[test]
    fn invalid_settings_name_the_field() {
        let cases = [
            (r#"{"voiceVolume":1.5}"#, "overlayConfig.voiceVolume"),
            (r#"{"matchOverHoldMs":10}"#, "overlayConfig.matchOverHoldMs"),
            (
                r#"{"voiceTrackUrl":"ftp://x"}"#,
                "overlayConfig.voiceTrackUrl",
            ),
            (
                r#"{"profilePictureUrl":"https://a/\"onerror="}"#,
                "overlayConfig.profilePictureUrl",
            ),
        ];
        for (json, field) in cases {
            let patch: OverlayConfigPatch = serde_json::from_str(json).unwrap();
            let err = OverlayConfig::merged(StreamType::User, &patch).unwrap_err();
            assert!(err.to_string().contains(field), "{err}");
        }
        assert!(serde_json::from_str::<OverlayConfigPatch>(r#"{"theme":"neon"}"#).is_err());
        assert!(serde_json::from_str::<OverlayConfigPatch>(r#"{"bogus":1}"#).is_err());
    }
}
