//! [`StreamingConfig`]: the seed's environment variables.

use std::collections::HashMap;

use ltcg_streaming_core::{ConfigMode, StreamingConfig as CoreConfig};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::OrThrow;

/// Configuration from the seed's environment variables (`STREAM_KEY_ENCRYPTION_KEY`,
/// `STREAMING_JWT_SECRET`, `LIVEKIT_URL`, `LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET`,
/// `NEXT_PUBLIC_APP_URL`, ...). Holds secrets; none is readable from JavaScript.
#[derive(Debug)]
#[napi]
pub struct StreamingConfig {
    pub(crate) inner: CoreConfig,
}

#[napi]
impl StreamingConfig {
    /// Reads the variables from `env` (e.g. `process.env` or a test object), or from the
    /// process environment when omitted. Throws `CONFIG` naming every missing or invalid
    /// variable (`error.variable`), never echoing a value. `development: true` lets
    /// `NEXT_PUBLIC_APP_URL` default to `http://localhost:3334` (the core's
    /// `ConfigMode::Development`); otherwise it is required.
    #[napi(
        factory,
        ts_args_type = "env?: Record<string, string | undefined> | null, development?: boolean"
    )]
    pub fn from_env(
        env: &Env,
        vars: Option<HashMap<String, Option<String>>>,
        development: Option<bool>,
    ) -> Result<Self> {
        let mode = if development.unwrap_or(false) {
            ConfigMode::Development
        } else {
            ConfigMode::Production
        };
        match vars {
            None => CoreConfig::from_env_in(mode),
            Some(vars) => {
                CoreConfig::from_lookup_in(mode, |name| vars.get(name).cloned().flatten())
            }
        }
        .map(|inner| Self { inner })
        .or_throw(env)
    }

    /// Base URL of the overlay page (`NEXT_PUBLIC_APP_URL`).
    #[napi(getter)]
    pub fn app_url(&self) -> String {
        self.inner.app_url.clone()
    }

    /// `LIVEKIT_URL`, when LiveKit is configured.
    #[napi(getter)]
    pub fn livekit_url(&self) -> Option<String> {
        self.inner.livekit.as_ref().map(|lk| lk.url.clone())
    }

    /// `LIVEKIT_API_KEY`, when LiveKit is configured (an identifier, not a secret).
    #[napi(getter)]
    pub fn livekit_api_key(&self) -> Option<String> {
        self.inner.livekit_api_key().map(str::to_owned)
    }

    /// Lifetime of overlay tokens, in seconds.
    #[napi(getter)]
    pub fn overlay_token_ttl_seconds(&self) -> f64 {
        self.inner.overlay_token_ttl_secs as f64
    }

    /// How long a start may stay `initializing`/`pending`, in seconds.
    #[napi(getter)]
    pub fn start_timeout_seconds(&self) -> f64 {
        self.inner.start_timeout.as_secs_f64()
    }

    /// Longest live session, in seconds.
    #[napi(getter)]
    pub fn max_duration_seconds(&self) -> f64 {
        self.inner.max_duration.as_secs_f64()
    }
}
