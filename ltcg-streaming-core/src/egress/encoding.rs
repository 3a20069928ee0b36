//! Encoding settings for the egress: 1080p30 with a 2-second key-frame interval by default.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Named encodings (LiveKit's H.264 presets, sent as explicit settings). JSON names are the
/// variant names, e.g. `"H264_720P_30"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[allow(non_camel_case_types)]
pub enum EncodingPreset {
    /// 960x540, 30 fps, 1500 kbps: small, for tests and previews (not a LiveKit preset).
    H264_540P_30,
    /// 1280x720, 30 fps, 3000 kbps.
    H264_720P_30,
    /// 1280x720, 60 fps, 4500 kbps.
    H264_720P_60,
    /// 1920x1080, 30 fps, 4500 kbps (the default, as LiveKit's web egress default).
    H264_1080P_30,
    /// 1920x1080, 60 fps, 6000 kbps.
    H264_1080P_60,
    /// 720x1280 portrait, 30 fps, 3000 kbps.
    PORTRAIT_H264_720P_30,
    /// 1080x1920 portrait, 30 fps, 4500 kbps.
    PORTRAIT_H264_1080P_30,
}

/// Video and audio encoding of the egress. RTMP outputs are always H.264 + AAC.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EncodingSettings {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second.
    pub framerate: u32,
    /// Video bitrate, kbps.
    pub video_bitrate_kbps: u32,
    /// Audio bitrate, kbps.
    pub audio_bitrate_kbps: u32,
    /// Seconds between key frames (platforms ask for 2).
    pub key_frame_interval_secs: f64,
}

impl Default for EncodingSettings {
    /// 1920x1080, 30 fps, 4500 kbps video, 128 kbps audio, key frame every 2 s.
    fn default() -> Self {
        Self::preset(EncodingPreset::H264_1080P_30)
    }
}

impl EncodingSettings {
    /// The settings of a preset, with a 2 s key-frame interval and 128 kbps audio.
    pub fn preset(preset: EncodingPreset) -> Self {
        let (width, height, framerate, video_bitrate_kbps) = match preset {
            EncodingPreset::H264_540P_30 => (960, 540, 30, 1500),
            EncodingPreset::H264_720P_30 => (1280, 720, 30, 3000),
            EncodingPreset::H264_720P_60 => (1280, 720, 60, 4500),
            EncodingPreset::H264_1080P_30 => (1920, 1080, 30, 4500),
            EncodingPreset::H264_1080P_60 => (1920, 1080, 60, 6000),
            EncodingPreset::PORTRAIT_H264_720P_30 => (720, 1280, 30, 3000),
            EncodingPreset::PORTRAIT_H264_1080P_30 => (1080, 1920, 30, 4500),
        };
        Self {
            width,
            height,
            framerate,
            video_bitrate_kbps,
            audio_bitrate_kbps: 128,
            key_frame_interval_secs: 2.0,
        }
    }

    /// Checks the ranges; the error names the field.
    pub fn validate(&self) -> crate::Result<()> {
        let check = |field: &str, ok: bool, reason: &str| {
            if ok {
                Ok(())
            } else {
                Err(crate::Error::invalid(field, reason))
            }
        };
        check(
            "encoding.width",
            (16..=3840).contains(&self.width),
            "must be 16–3840",
        )?;
        check(
            "encoding.height",
            (16..=3840).contains(&self.height),
            "must be 16–3840",
        )?;
        check(
            "encoding.framerate",
            (1..=60).contains(&self.framerate),
            "must be 1–60",
        )?;
        check(
            "encoding.videoBitrateKbps",
            (100..=20_000).contains(&self.video_bitrate_kbps),
            "must be 100–20000",
        )?;
        check(
            "encoding.audioBitrateKbps",
            (16..=512).contains(&self.audio_bitrate_kbps),
            "must be 16–512",
        )?;
        check(
            "encoding.keyFrameIntervalSecs",
            self.key_frame_interval_secs.is_finite()
                && (0.5..=10.0).contains(&self.key_frame_interval_secs),
            "must be 0.5–10",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_1080p30_with_2s_keyframes() {
        let d = EncodingSettings::default();
        assert_eq!((d.width, d.height, d.framerate), (1920, 1080, 30));
        assert_eq!(d.key_frame_interval_secs, 2.0);
        assert!(d.validate().is_ok());
        let p = EncodingSettings::preset(EncodingPreset::H264_720P_60);
        assert_eq!(
            (p.width, p.framerate, p.video_bitrate_kbps),
            (1280, 60, 4500)
        );
        let bad = EncodingSettings { framerate: 0, ..d };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("encoding.framerate"));
    }

    #[test]
    fn preset_json_names_are_the_variant_names() {
        for (preset, name) in [
            (EncodingPreset::H264_720P_30, "\"H264_720P_30\""),
            (
                EncodingPreset::PORTRAIT_H264_1080P_30,
                "\"PORTRAIT_H264_1080P_30\"",
            ),
        ] {
            assert_eq!(serde_json::to_string(&preset).unwrap(), name);
            assert_eq!(
                serde_json::from_str::<EncodingPreset>(name).unwrap(),
                preset
            );
        }
    }
}

/// How an egress's encoder keeps up, from ffmpeg's progress reports (twice a second).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EncoderStats {
    /// Frames encoded so far.
    pub frames: u64,
    /// Encoding speed relative to real time (1.0: keeping up; below: falling behind).
    pub speed: f64,
    /// Frames per second, as ffmpeg last reported.
    pub fps: f64,
}
