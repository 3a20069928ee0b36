//! `StreamingConfig`: the core configuration, from the environment or from arguments.

use std::collections::HashMap;

use ltcg_streaming_core::{ConfigMode, StreamingConfig};
use pyo3::prelude::*;

use crate::errors::OrRaise;

/// The library's configuration (secrets stay inside; the repr shows none).
#[pyclass(name = "StreamingConfig", module = "ltcg_streaming", frozen)]
pub(crate) struct PyStreamingConfig {
    pub(crate) config: StreamingConfig,
}

#[pymethods]
impl PyStreamingConfig {
    /// Arguments stand for the environment variables of `from_env` and are checked the same
    /// way; errors name those variables. `development=True` lets `app_url` default to
    /// `http://localhost:3334` and lets every caller stream to internal addresses (the core's
    /// `ConfigMode::Development`).
    #[new]
    #[pyo3(signature = (
        encryption_key,
        jwt_secret,
        *,
        previous_encryption_keys=None,
        app_url=None,
        livekit_url=None,
        livekit_api_key=None,
        livekit_api_secret=None,
        overlay_token_ttl_seconds=None,
        start_timeout_seconds=None,
        max_duration_seconds=None,
        webhook_leeway_seconds=None,
        destination_allowlist=None,
        development=false,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        encryption_key: String,
        jwt_secret: String,
        previous_encryption_keys: Option<Vec<String>>,
        app_url: Option<String>,
        livekit_url: Option<String>,
        livekit_api_key: Option<String>,
        livekit_api_secret: Option<String>,
        overlay_token_ttl_seconds: Option<u64>,
        start_timeout_seconds: Option<u64>,
        max_duration_seconds: Option<u64>,
        webhook_leeway_seconds: Option<u64>,
        destination_allowlist: Option<Vec<String>>,
        development: bool,
    ) -> PyResult<Self> {
        let vars: HashMap<&str, Option<String>> = HashMap::from([
            ("STREAM_KEY_ENCRYPTION_KEY", Some(encryption_key)),
            ("STREAMING_JWT_SECRET", Some(jwt_secret)),
            (
                "STREAM_KEY_ENCRYPTION_PREVIOUS_KEYS",
                previous_encryption_keys.map(|keys| keys.join(",")),
            ),
            ("NEXT_PUBLIC_APP_URL", app_url),
            (
                "STREAMING_DESTINATION_ALLOWLIST",
                destination_allowlist.map(|rules| rules.join(",")),
            ),
            ("LIVEKIT_URL", livekit_url),
            ("LIVEKIT_API_KEY", livekit_api_key),
            ("LIVEKIT_API_SECRET", livekit_api_secret),
            (
                "STREAMING_OVERLAY_TOKEN_TTL_SECS",
                overlay_token_ttl_seconds.map(|n| n.to_string()),
            ),
            (
                "STREAMING_START_TIMEOUT_SECS",
                start_timeout_seconds.map(|n| n.to_string()),
            ),
            (
                "STREAMING_MAX_DURATION_SECS",
                max_duration_seconds.map(|n| n.to_string()),
            ),
        ]);
        let mut config = StreamingConfig::from_lookup_in(mode(development), |name| {
            vars.get(name).cloned().flatten()
        })
        .or_raise()?;
        if let Some(leeway) = webhook_leeway_seconds {
            config.webhook_leeway_secs = leeway;
        }
        Ok(Self { config })
    }

    /// Reads the product's environment variables (`STREAM_KEY_ENCRYPTION_KEY`,
    /// `STREAMING_JWT_SECRET`, `LIVEKIT_*`, `NEXT_PUBLIC_APP_URL`, ...) from `environ`, or from
    /// the process environment when it is `None`. `development=True`: as in the constructor.
    #[staticmethod]
    #[pyo3(signature = (environ=None, *, development=false))]
    fn from_env(environ: Option<HashMap<String, String>>, development: bool) -> PyResult<Self> {
        let config = match environ {
            Some(vars) => {
                StreamingConfig::from_lookup_in(mode(development), |name| vars.get(name).cloned())
            }
            None => StreamingConfig::from_env_in(mode(development)),
        }
        .or_raise()?;
        Ok(Self { config })
    }

    /// The overlay base URL.
    #[getter]
    fn app_url(&self) -> &str {
        &self.config.app_url
    }

    /// `LIVEKIT_URL`, when LiveKit is configured.
    #[getter]
    fn livekit_url(&self) -> Option<&str> {
        self.config.livekit.as_ref().map(|lk| lk.url.as_str())
    }

    /// `LIVEKIT_API_KEY` (an identifier, not a secret), when LiveKit is configured.
    #[getter]
    fn livekit_api_key(&self) -> Option<&str> {
        self.config.livekit_api_key()
    }

    /// Lifetime of overlay tokens, in seconds.
    #[getter]
    fn overlay_token_ttl_seconds(&self) -> u64 {
        self.config.overlay_token_ttl_secs
    }

    /// How long a start may stay `initializing`/`pending`, in seconds.
    #[getter]
    fn start_timeout_seconds(&self) -> u64 {
        self.config.start_timeout.as_secs()
    }

    /// Longest live session, in seconds.
    #[getter]
    fn max_duration_seconds(&self) -> u64 {
        self.config.max_duration.as_secs()
    }

    /// Clock leeway for webhook tokens, in seconds.
    #[getter]
    fn webhook_leeway_seconds(&self) -> u64 {
        self.config.webhook_leeway_secs
    }

    fn __repr__(&self) -> String {
        format!(
            "StreamingConfig(app_url='{}', livekit_url={}, overlay_token_ttl_seconds={})",
            self.config.app_url,
            self.livekit_url()
                .map_or_else(|| "None".to_owned(), |url| format!("'{url}'")),
            self.config.overlay_token_ttl_secs
        )
    }
}

/// The core's rules for a binding's `development` flag.
fn mode(development: bool) -> ConfigMode {
    if development {
        ConfigMode::Development
    } else {
        ConfigMode::Production
    }
}
