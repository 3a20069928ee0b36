//! [`ServiceSettings`]: the service's options as one JSON object, read the same way by every
//! binding (camelCase keys; the Python binding turns its snake_case keywords into these).

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{RateLimitConfig, ServiceOptions, StatusReads};
use crate::egress::{EncodingPreset, EncodingSettings};
use crate::error::{Error, Result};
use crate::json;

/// Options of a service as a binding takes them. Every key may be left out.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ServiceOptions")]
pub struct ServiceSettings {
    /// `true` (or omitted): the default limits; `false`: none; an object: some overridden.
    #[serde(default)]
    pub rate_limits: Option<RateLimitSetting>,
    /// Longest wait for the egress start call before the start counts as uncertain, in
    /// milliseconds (default 30000).
    #[serde(default)]
    pub egress_start_timeout_ms: Option<u64>,
    /// Egress encoding: a preset name (e.g. `"H264_720P_30"`) or explicit settings.
    #[serde(default)]
    pub encoding: Option<EncodingSetting>,
    /// Who may read a session's status: `"anyAuthenticated"` (default, as the product's
    /// public status route) or `"owner"`.
    #[serde(default)]
    pub status_reads: Option<StatusReads>,
    /// `true`: viewer counts and Retake from the environment (`TWITCH_CLIENT_ID`/`_SECRET`,
    /// `YOUTUBE_API_KEY`, `KICK_CLIENT_ID`/`_SECRET`, `RETAKE_API_BASE`,
    /// `RETAKE_ACCESS_TOKEN`, each `*_API_BASE`), read once when the service is made.
    #[serde(default)]
    pub platforms_from_env: bool,
}

/// `rateLimits`: on, off, or some limits overridden.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "must be true, false or an object with callsPerMinute, callBurst, startsPerMinute, startBurst"
)]
pub enum RateLimitSetting {
    /// The defaults (`true`) or no limits (`false`).
    Enabled(bool),
    /// Limits over the defaults.
    Custom(RateLimitOverrides),
}

/// Rate limits over the defaults; `0` per minute disables a limit.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "RateLimitOptions")]
pub struct RateLimitOverrides {
    /// Calls per minute per user or agent.
    #[serde(default)]
    pub calls_per_minute: Option<u32>,
    /// Calls allowed in a burst.
    #[serde(default)]
    pub call_burst: Option<u32>,
    /// Stream starts per minute per streamed entity.
    #[serde(default)]
    pub starts_per_minute: Option<u32>,
    /// Starts allowed in a burst.
    #[serde(default)]
    pub start_burst: Option<u32>,
}

/// `encoding`: a preset or explicit settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "must be a preset name such as \"H264_720P_30\" or an object with width, height, framerate, videoBitrateKbps, audioBitrateKbps, keyFrameIntervalSecs"
)]
pub enum EncodingSetting {
    /// A named preset.
    Preset(EncodingPreset),
    /// Explicit settings.
    Custom(EncodingSettings),
}

impl EncodingSetting {
    /// The settings it names, checked (errors name `encoding.<field>`).
    pub fn settings(&self) -> Result<EncodingSettings> {
        let settings = match self {
            EncodingSetting::Preset(p) => EncodingSettings::preset(*p),
            EncodingSetting::Custom(s) => *s,
        };
        settings.validate()?;
        Ok(settings)
    }
}

impl ServiceSettings {
    /// Reads settings from a JSON object (`null`: all defaults); errors name
    /// `options.<key>`.
    pub fn from_json(value: Value) -> Result<Self> {
        json::request("options", value).map_err(|e| match e {
            Error::InvalidInput { field, reason } if field != "options" => Error::InvalidInput {
                field: format!("options.{field}"),
                reason,
            },
            other => other,
        })
    }

    /// These settings over the defaults of [`ServiceOptions`].
    pub fn into_options(self) -> Result<ServiceOptions> {
        let rate_limits = match self.rate_limits {
            None | Some(RateLimitSetting::Enabled(true)) => RateLimitConfig::default(),
            Some(RateLimitSetting::Enabled(false)) => RateLimitConfig::disabled(),
            Some(RateLimitSetting::Custom(o)) => {
                let d = RateLimitConfig::default();
                RateLimitConfig {
                    calls_per_minute: o.calls_per_minute.unwrap_or(d.calls_per_minute),
                    call_burst: o.call_burst.unwrap_or(d.call_burst),
                    starts_per_minute: o.starts_per_minute.unwrap_or(d.starts_per_minute),
                    start_burst: o.start_burst.unwrap_or(d.start_burst),
                }
            }
        };
        let mut options = ServiceOptions {
            rate_limits,
            status_reads: self.status_reads.unwrap_or_default(),
            ..ServiceOptions::default()
        };
        if let Some(ms) = self.egress_start_timeout_ms {
            if ms == 0 {
                return Err(Error::invalid(
                    "options.egressStartTimeoutMs",
                    "must be a positive number of milliseconds",
                ));
            }
            options.egress_start_timeout = Duration::from_millis(ms);
        }
        options.encoding = match &self.encoding {
            None => EncodingSettings::default(),
            Some(setting) => setting.settings()?,
        };
        if self.platforms_from_env {
            #[cfg(feature = "platforms")]
            {
                let get = |name: &str| std::env::var(name).ok();
                options.viewer_counts = crate::viewers::sources_from_env_with(get)?;
                options.retake = Some(std::sync::Arc::new(
                    crate::retake::RetakeApi::from_env_with(get)?,
                ));
            }
            #[cfg(not(feature = "platforms"))]
            return Err(Error::invalid(
                "options.platformsFromEnv",
                "needs a build with the `platforms` feature",
            ));
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn one_object_sets_every_option() {
        let o = ServiceSettings::from_json(json!({
            "rateLimits": {"startsPerMinute": 2},
            "egressStartTimeoutMs": 5000,
            "encoding": "H264_720P_30",
            "statusReads": "owner",
        }))
        .unwrap()
        .into_options()
        .unwrap();
        assert_eq!(o.rate_limits.starts_per_minute, 2);
        assert_eq!(
            o.rate_limits.calls_per_minute,
            RateLimitConfig::default().calls_per_minute
        );
        assert_eq!(o.egress_start_timeout, Duration::from_secs(5));
        assert_eq!(o.encoding.height, 720);
        assert_eq!(o.status_reads, StatusReads::Owner);
        let off = ServiceSettings::from_json(json!({"rateLimits": false}))
            .unwrap()
            .into_options()
            .unwrap();
        assert_eq!(off.rate_limits, RateLimitConfig::disabled());
        let none = ServiceSettings::from_json(Value::Null).unwrap();
        assert!(none.rate_limits.is_none());
    }

    #[test]
    fn bad_options_name_the_option() {
        let field = |v: Value| match ServiceSettings::from_json(v).and_then(|s| s.into_options()) {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(json!({"rateLimits": "yes"})), "options.rateLimits");
        assert_eq!(field(json!({"rateLimitz": true})), "options.rateLimitz");
        assert_eq!(
            field(json!({"egressStartTimeoutMs": 0})),
            "options.egressStartTimeoutMs"
        );
        assert_eq!(field(json!({"encoding": "H264_4K"})), "options.encoding");
        assert_eq!(
            field(json!({"statusReads": "everyone"})),
            "options.statusReads"
        );
        assert_eq!(field(json!([1])), "options");
    }
}
