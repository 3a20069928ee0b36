//! The browser egress's options as JSON ([`BrowserEgressSettings`]): one options object for
//! every language (Python passes its keyword arguments, Node its options object). Errors
//! name `options.<key>`. The shape is always compiled (the bindings' declarations are
//! generated from it); reading it into options needs the `browser` feature.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

/// The JSON shape of the browser egress's options (`BrowserEgressOptions`, feature
/// `browser`); every key is optional.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BrowserEgressSettings {
    /// The browser program.
    #[serde(default)]
    pub chromium: Option<PathBuf>,
    /// The X server program.
    #[serde(default)]
    pub xvfb: Option<PathBuf>,
    /// The encoder program.
    #[serde(default)]
    pub ffmpeg: Option<PathBuf>,
    /// PulseAudio's control program.
    #[serde(default)]
    pub pactl: Option<PathBuf>,
    /// The PulseAudio daemon.
    #[serde(default)]
    pub pulseaudio: Option<PathBuf>,
    /// Where render directories live.
    #[serde(default)]
    pub work_dir: Option<PathBuf>,
    /// Most renders at once (1–256).
    #[serde(default)]
    pub max_concurrent: Option<usize>,
    /// Encode nothing until the page logs `START_RECORDING`.
    #[serde(default)]
    pub await_start_signal: Option<bool>,
    /// One page-load try, ms (1000–300000).
    #[serde(default)]
    pub page_load_timeout_ms: Option<u64>,
    /// Page-load tries (1–10).
    #[serde(default)]
    pub page_load_attempts: Option<u32>,
    /// Thumbnail period, ms (500–3600000); 0 for no thumbnails.
    #[serde(default)]
    pub thumbnail_interval_ms: Option<u64>,
    /// An output without progress this long is failed, ms (1000–600000).
    #[serde(default)]
    pub reconnect_window_ms: Option<u64>,
}

#[cfg(feature = "browser")]
mod read {
    use std::time::Duration;

    use serde_json::Value;

    use super::BrowserEgressSettings;
    use crate::egress::BrowserEgressOptions;
    use crate::error::{Error, Result};
    use crate::json;

    fn ms_in(field: &str, ms: u64, range: std::ops::RangeInclusive<u64>) -> Result<Duration> {
        if range.contains(&ms) {
            Ok(Duration::from_millis(ms))
        } else {
            Err(Error::invalid(
                format!("options.{field}"),
                format!("must be {}–{} milliseconds", range.start(), range.end()),
            ))
        }
    }

    impl BrowserEgressOptions {
        /// Options from a JSON object over the defaults (`null`: all defaults).
        ///
        /// ```
        /// use ltcg_streaming_core::egress::BrowserEgressOptions;
        /// let o = BrowserEgressOptions::from_json(serde_json::json!({"maxConcurrent": 2})).unwrap();
        /// assert_eq!(o.max_concurrent, 2);
        /// let err = BrowserEgressOptions::from_json(serde_json::json!({"maxConcurrent": 0})).unwrap_err();
        /// assert!(err.to_string().contains("options.maxConcurrent"));
        /// ```
        pub fn from_json(value: Value) -> Result<Self> {
            let s: BrowserEgressSettings = match value {
                Value::Null => BrowserEgressSettings::default(),
                v => json::request("options", v).map_err(|e| match e {
                    Error::InvalidInput { field, reason } if field != "options" => {
                        Error::InvalidInput {
                            field: format!("options.{field}"),
                            reason,
                        }
                    }
                    other => other,
                })?,
            };
            let d = Self::default();
            let max_concurrent = match s.max_concurrent {
                Some(n) if !(1..=256).contains(&n) => {
                    return Err(Error::invalid("options.maxConcurrent", "must be 1–256"))
                }
                Some(n) => n,
                None => d.max_concurrent,
            };
            let page_load_attempts = match s.page_load_attempts {
                Some(n) if !(1..=10).contains(&n) => {
                    return Err(Error::invalid("options.pageLoadAttempts", "must be 1–10"))
                }
                Some(n) => n,
                None => d.page_load_attempts,
            };
            Ok(Self {
                chromium: s.chromium.unwrap_or(d.chromium),
                xvfb: s.xvfb.unwrap_or(d.xvfb),
                ffmpeg: s.ffmpeg.unwrap_or(d.ffmpeg),
                pactl: s.pactl.unwrap_or(d.pactl),
                pulseaudio: s.pulseaudio.unwrap_or(d.pulseaudio),
                work_dir: s.work_dir.unwrap_or(d.work_dir),
                max_concurrent,
                await_start_signal: s.await_start_signal.unwrap_or(d.await_start_signal),
                page_load_timeout: match s.page_load_timeout_ms {
                    Some(ms) => ms_in("pageLoadTimeoutMs", ms, 1_000..=300_000)?,
                    None => d.page_load_timeout,
                },
                page_load_attempts,
                thumbnail_interval: match s.thumbnail_interval_ms {
                    Some(0) => None,
                    Some(ms) => Some(ms_in("thumbnailIntervalMs", ms, 500..=3_600_000)?),
                    None => d.thumbnail_interval,
                },
                reconnect_window: match s.reconnect_window_ms {
                    Some(ms) => ms_in("reconnectWindowMs", ms, 1_000..=600_000)?,
                    None => d.reconnect_window,
                },
            })
        }
    }

    #[cfg(test)]
    mod tests {
        use serde_json::json;

        use std::path::PathBuf;

        use super::*;

        #[test]
        fn one_object_sets_every_option_over_the_defaults() {
            let o = BrowserEgressOptions::from_json(json!({
                "chromium": "/opt/chrome", "xvfb": "/opt/Xvfb", "ffmpeg": "/opt/ffmpeg",
                "pactl": "/opt/pactl", "pulseaudio": "/opt/pulseaudio", "workDir": "/var/renders",
                "maxConcurrent": 3, "awaitStartSignal": true, "pageLoadTimeoutMs": 5000,
                "pageLoadAttempts": 2, "thumbnailIntervalMs": 0, "reconnectWindowMs": 10000
            }))
            .unwrap();
            assert_eq!(o.chromium, PathBuf::from("/opt/chrome"));
            assert_eq!(o.work_dir, PathBuf::from("/var/renders"));
            assert_eq!((o.max_concurrent, o.page_load_attempts), (3, 2));
            assert!(o.await_start_signal);
            assert_eq!(o.page_load_timeout, Duration::from_secs(5));
            assert_eq!(o.thumbnail_interval, None);
            assert_eq!(o.reconnect_window, Duration::from_secs(10));
            let d = BrowserEgressOptions::from_json(Value::Null).unwrap();
            assert_eq!(d.thumbnail_interval, Some(Duration::from_secs(10)));
            assert_eq!(d.page_load_attempts, 3);
        }

        #[test]
        fn bad_options_name_their_key() {
            for (bad, field) in [
                (json!({"maxConcurrent": 0}), "options.maxConcurrent"),
                (json!({"pageLoadAttempts": 11}), "options.pageLoadAttempts"),
                (
                    json!({"pageLoadTimeoutMs": 10}),
                    "options.pageLoadTimeoutMs",
                ),
                (
                    json!({"thumbnailIntervalMs": 100}),
                    "options.thumbnailIntervalMs",
                ),
                (
                    json!({"reconnectWindowMs": -1}),
                    "options.reconnectWindowMs",
                ),
                (
                    json!({"awaitStartSignal": "yes"}),
                    "options.awaitStartSignal",
                ),
                (json!({"mute": true}), "options.mute"),
            ] {
                let err = BrowserEgressOptions::from_json(bad.clone()).unwrap_err();
                assert!(
                    matches!(&err, Error::InvalidInput { field: f, .. } if f == field),
                    "{bad}: {err}"
                );
            }
        }
    }
}
