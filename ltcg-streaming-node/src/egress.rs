//! Egress backends: LiveKit web egress, the browser egress on this machine, and an in-memory
//! one for development and tests.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ltcg_streaming_core::egress::{
    BrowserEgress as CoreBrowserEgress, BrowserEgressOptions as CoreBrowserEgressOptions,
    LiveKitEgress as CoreLiveKitEgress, LiveKitEgressOptions as CoreLiveKitEgressOptions,
};
use ltcg_streaming_core::vault::REDACTED;
use ltcg_streaming_core::{EgressStatus, Error, MemoryEgress as CoreMemoryEgress};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use crate::config::StreamingConfig;
use crate::error::OrThrow;
use crate::json::whole_number;
use crate::service::json_arg;
use crate::task::spawn;

/// An egress backend that keeps egresses in memory and renders nothing: `start` returns
/// random `EG_mem_…` ids in status `EGRESS_STARTING`, `setStatus` moves them as LiveKit would.
#[derive(Debug)]
#[napi]
pub struct MemoryEgress {
    pub(crate) inner: Arc<CoreMemoryEgress>,
}

#[napi]
impl MemoryEgress {
    /// An empty backend.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)] // a JavaScript constructor
    pub fn new() -> Self {
        Self {
            inner: Arc::new(CoreMemoryEgress::new()),
        }
    }

    /// Sets an egress's status (e.g. `EGRESS_ACTIVE` once "rendering" begins). Throws
    /// `NOT_FOUND` for an unknown egress.
    #[napi(ts_args_type = "egressId: string, status: EgressStatus")]
    pub fn set_status(&self, env: &Env, egress_id: String, status: String) -> Result<()> {
        ltcg_streaming_core::json::value::<EgressStatus>("status", Value::String(status))
            .and_then(|status| self.inner.set_status(&egress_id, status))
            .or_throw(env)
    }

    /// An egress's status, or `null` when unknown.
    #[napi(ts_return_type = "EgressStatus | null")]
    pub fn status(&self, egress_id: String) -> Option<&'static str> {
        self.inner.status(&egress_id).map(EgressStatus::as_str)
    }

    /// An egress's output URLs, stream keys redacted.
    #[napi]
    pub fn outputs(&self, egress_id: String) -> Vec<String> {
        self.inner.outputs(&egress_id)
    }

    /// How many egresses were ever started.
    #[napi(getter)]
    pub fn started(&self) -> f64 {
        self.inner.started() as f64
    }
}

/// How to reach a LiveKit server or LiveKit Cloud project.
#[napi(object)]
pub struct LiveKitEgressOptions {
    /// `LIVEKIT_URL`: `wss://`, `ws://`, `https://` or `http://`.
    pub url: String,
    /// `LIVEKIT_API_KEY`.
    pub api_key: String,
    /// `LIVEKIT_API_SECRET`.
    pub api_secret: String,
    /// Timeout of each API request in milliseconds (default 10000); there is no retry.
    pub request_timeout_ms: Option<f64>,
}

impl fmt::Debug for LiveKitEgressOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveKitEgressOptions")
            .field("url", &self.url)
            .field("api_key", &self.api_key)
            .field("api_secret", &REDACTED)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .finish()
    }
}

/// LiveKit web egress: LiveKit's headless Chrome renders the overlay page and pushes it to
/// every RTMP(S) output (simulcast from one encode).
#[derive(Debug)]
#[napi]
pub struct LiveKitEgress {
    pub(crate) inner: Arc<CoreLiveKitEgress>,
}

#[napi]
impl LiveKitEgress {
    /// A backend for these credentials (no request is made). Throws `CONFIG` naming the bad
    /// option's variable (`LIVEKIT_URL`, ...), never its value.
    #[napi(constructor)]
    pub fn new(env: &Env, options: LiveKitEgressOptions) -> Result<Self> {
        let mut core =
            CoreLiveKitEgressOptions::new(options.url, options.api_key, options.api_secret);
        let timeout = options
            .request_timeout_ms
            .map(|ms| whole_number("requestTimeoutMs", ms, u32::MAX.into()))
            .transpose();
        timeout
            .and_then(|ms| {
                if let Some(ms) = ms {
                    core = core.with_request_timeout(Duration::from_millis(ms));
                }
                CoreLiveKitEgress::new(core)
            })
            .map(|egress| Self {
                inner: Arc::new(egress),
            })
            .or_throw(env)
    }

    /// A backend for the configuration's LiveKit credentials. Throws `CONFIG` when
    /// `LIVEKIT_URL`, `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` are not set.
    #[napi(factory)]
    pub fn from_config(env: &Env, config: &StreamingConfig) -> Result<Self> {
        config
            .inner
            .livekit
            .as_ref()
            .ok_or_else(|| Error::Config {
                var: "LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET".into(),
                problem: "LiveKit egress needs LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET"
                    .into(),
            })
            .and_then(|livekit| CoreLiveKitEgress::new(CoreLiveKitEgressOptions::from(livekit)))
            .map(|egress| Self {
                inner: Arc::new(egress),
            })
            .or_throw(env)
    }

    /// The HTTP(S) base URL the API is called on.
    #[napi(getter)]
    pub fn api_url(&self) -> String {
        self.inner.api_url().to_owned()
    }
}

/// The overlay page rendered on this machine (Chromium on Xvfb with a PulseAudio sink,
/// ffmpeg) and pushed to every output by this process. Its options are the core's
/// `BrowserEgressOptions` (the Python binding takes the same keys in snake_case).
#[derive(Debug)]
#[napi]
pub struct BrowserEgress {
    pub(crate) inner: Arc<CoreBrowserEgress>,
    options: CoreBrowserEgressOptions,
}

#[napi]
impl BrowserEgress {
    /// A backend with `options` (defaults for what is left out); nothing runs until a
    /// stream starts. Throws `INVALID_INPUT` naming `options.<key>`.
    #[napi(constructor, ts_args_type = "options?: BrowserEgressSettings")]
    pub fn new(env: &Env, options: Option<Unknown>) -> Result<Self> {
        let json = match options {
            Some(options) => json_arg(env, "options", options).or_throw(env)?,
            None => Value::Null,
        };
        let options = CoreBrowserEgressOptions::from_json(json).or_throw(env)?;
        Ok(Self {
            inner: Arc::new(CoreBrowserEgress::new(options.clone())),
            options,
        })
    }

    /// The programs it needs that are not installed (empty when it can render).
    #[napi]
    pub fn missing_programs(&self) -> Vec<String> {
        self.options.missing_programs()
    }

    /// An egress's status, or `null` when unknown.
    #[napi(ts_return_type = "EgressStatus | null")]
    pub fn status(&self, egress_id: String) -> Option<&'static str> {
        self.inner.status(&egress_id).map(EgressStatus::as_str)
    }

    /// Cleans up after renders of processes that are gone: resolves to the counts of
    /// processes, sinks and directories removed.
    #[napi(ts_return_type = "Promise<{ processes: number; sinks: number; directories: number }>")]
    pub fn reap_leftovers<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Value>> {
        let egress = self.inner.clone();
        spawn(env, async move {
            let r = egress.reap_leftovers().await;
            Ok(serde_json::json!({
                "processes": r.processes, "sinks": r.sinks, "directories": r.directories
            }))
        })
    }
}
