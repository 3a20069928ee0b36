//! Configuration from the seed's environment variables.
//!
//! | variable | meaning |
//! |---|---|
//! | `STREAM_KEY_ENCRYPTION_KEY` | required; 64 hex characters (trimmed) |
//! | `STREAM_KEY_ENCRYPTION_PREVIOUS_KEYS` | optional; comma-separated older keys still accepted on decrypt |
//! | `STREAMING_JWT_SECRET` | required; at least 32 bytes after trimming, used as raw UTF-8 bytes (not base64-decoded) |
//! | `LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET` | both or neither; needed to verify LiveKit webhooks |
//! | `LIVEKIT_URL` | needs the key and secret; enables the LiveKit egress (`wss://` becomes `https://` for the API) |
//! | `NEXT_PUBLIC_APP_URL` | overlay base URL; required, except in [`ConfigMode::Development`] where it defaults to `http://localhost:3334` |
//! | `STREAMING_OVERLAY_TOKEN_TTL_SECS` | overlay token lifetime; default 86400 |
//! | `STREAMING_START_TIMEOUT_SECS` | how long a start may stay `initializing`/`pending`; default 300 |
//! | `STREAMING_MAX_DURATION_SECS` | longest live session; default 43200 (12 h) |
//! | `STREAMING_DESTINATION_ALLOWLIST` | comma-separated hosts, `*.suffixes`, IPs or CIDR networks of internal addresses that callers who are not internal may stream to ([`crate::destination_policy`]); default none |
//!
//! A missing or invalid variable is reported by name, never by value.
//!
//! [`ConfigMode`] is the one place that decides what development relaxes: the overlay base
//! URL default, and the destination policy (every caller may stream to internal addresses,
//! such as a local nginx-rtmp). [`StreamingConfig::from_env`] and [`StreamingConfig::from_lookup`] use
//! production rules; [`StreamingConfig::new`] builds a development configuration.

use std::time::Duration;

use crate::destination_policy::DestinationPolicy;
use crate::error::{Error, Result};
use crate::token::{jwt_secret_problem, OverlayTokens, DEFAULT_TOKEN_TTL_SECS};
use crate::vault::{AesGcmVault, SecretString};
use crate::webhook::{WebhookVerifier, DEFAULT_WEBHOOK_LEEWAY_SECS};

/// Default overlay base URL in development (the product's fallback).
pub const DEFAULT_APP_URL: &str = "http://localhost:3334";
/// Default start timeout: 5 minutes.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(300);
/// Default maximum live duration: 12 hours (LiveKit Cloud's RTMP limit).
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(12 * 3600);

/// Which rules a configuration is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConfigMode {
    /// Every required variable must be set (`NEXT_PUBLIC_APP_URL` included).
    #[default]
    Production,
    /// A developer's machine: a missing `NEXT_PUBLIC_APP_URL` becomes [`DEFAULT_APP_URL`],
    /// and [`StreamingConfig::destination_policy`] lets every caller stream anywhere.
    Development,
}

/// LiveKit API credentials (`LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET`): enough to verify
/// webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveKitCredentials {
    /// `LIVEKIT_API_KEY` (an identifier, not secret).
    pub api_key: String,
    /// `LIVEKIT_API_SECRET`.
    pub api_secret: SecretString,
}

/// LiveKit server credentials: what the LiveKit egress needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveKitConfig {
    /// `LIVEKIT_URL` as given (e.g. `wss://x.livekit.cloud`).
    pub url: String,
    /// The HTTP API base (`wss://` → `https://`, `ws://` → `http://`).
    pub api_url: String,
    /// `LIVEKIT_API_KEY` (an identifier, not secret).
    pub api_key: String,
    /// `LIVEKIT_API_SECRET`.
    pub api_secret: SecretString,
}

impl LiveKitConfig {
    /// Checks and normalizes LiveKit credentials; errors name the variable.
    pub fn new(url: &str, api_key: &str, api_secret: &str) -> Result<Self> {
        let mut problems = Problems::default();
        let credentials = collect_credentials(api_key, api_secret, true, &mut problems);
        let api_url = check_livekit_url(url, &mut problems);
        problems.finish()?;
        match (api_url, credentials) {
            (Some(api_url), Some(c)) => Ok(Self::from_parts(url, api_url, c)),
            _ => Err(Error::Config {
                var: "LIVEKIT_URL".into(),
                problem: "LIVEKIT_URL is invalid".into(),
            }),
        }
    }

    fn from_parts(url: &str, api_url: String, credentials: LiveKitCredentials) -> Self {
        Self {
            url: url.trim().to_owned(),
            api_url,
            api_key: credentials.api_key,
            api_secret: credentials.api_secret,
        }
    }
}

/// The API base of `LIVEKIT_URL`, or a problem.
fn check_livekit_url(url: &str, problems: &mut Problems) -> Option<String> {
    let url = url.trim();
    let api_url = match url.split_once("://") {
        Some((scheme, rest)) if !rest.is_empty() => match scheme.to_ascii_lowercase().as_str() {
            "wss" | "https" => Some(format!("https://{}", rest.trim_end_matches('/'))),
            "ws" | "http" => Some(format!("http://{}", rest.trim_end_matches('/'))),
            _ => None,
        },
        _ => None,
    };
    if url.is_empty() {
        problems.push("LIVEKIT_URL", "is missing");
    } else if api_url.is_none() {
        problems.push(
            "LIVEKIT_URL",
            "must start with wss://, ws://, https:// or http://",
        );
    }
    api_url
}

/// The API key and secret: both, or (unless `required`) neither; a missing one is named.
fn collect_credentials(
    key: &str,
    secret: &str,
    required: bool,
    problems: &mut Problems,
) -> Option<LiveKitCredentials> {
    let (key, secret) = (key.trim(), secret.trim());
    if !required && key.is_empty() && secret.is_empty() {
        return None;
    }
    if key.is_empty() {
        problems.push("LIVEKIT_API_KEY", "is missing");
    }
    if secret.is_empty() {
        problems.push("LIVEKIT_API_SECRET", "is missing");
    }
    (!key.is_empty() && !secret.is_empty()).then(|| LiveKitCredentials {
        api_key: key.to_owned(),
        api_secret: SecretString::from(secret),
    })
}

/// The overlay base URL from `NEXT_PUBLIC_APP_URL` under `mode`'s rules.
fn check_app_url(value: Option<String>, mode: ConfigMode, problems: &mut Problems) -> String {
    match (value, mode) {
        (None, ConfigMode::Development) => DEFAULT_APP_URL.to_owned(),
        (None, ConfigMode::Production) => {
            problems.push(
                "NEXT_PUBLIC_APP_URL",
                "is missing (the overlay base URL LiveKit opens, e.g. https://lunchtable.cards)",
            );
            String::new()
        }
        (Some(url), _) => {
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://"))
                || url.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                problems.push("NEXT_PUBLIC_APP_URL", "must be an http:// or https:// URL");
            }
            url.trim_end_matches('/').to_owned()
        }
    }
}

/// Everything the library reads from the environment.
///
/// `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct StreamingConfig {
    /// LiveKit URL and credentials (the LiveKit egress), when `LIVEKIT_URL` is set.
    pub livekit: Option<LiveKitConfig>,
    /// LiveKit credentials given without `LIVEKIT_URL` (webhook verification only). With a
    /// URL they are in [`Self::livekit`] instead.
    pub livekit_credentials: Option<LiveKitCredentials>,
    /// The current stream-key encryption key (64 hex characters).
    pub encryption_key: SecretString,
    /// Older encryption keys still accepted on decrypt.
    pub previous_encryption_keys: Vec<SecretString>,
    /// The overlay JWT secret (raw UTF-8).
    pub jwt_secret: SecretString,
    /// Overlay base URL, without a trailing `/`. Only configuration sets it, never a request.
    pub app_url: String,
    /// Overlay token lifetime in seconds.
    pub overlay_token_ttl_secs: u64,
    /// How long a start may stay `initializing`/`pending`.
    pub start_timeout: Duration,
    /// Longest live session.
    pub max_duration: Duration,
    /// Clock leeway for webhook tokens, seconds.
    pub webhook_leeway_secs: u64,
    /// Internal hosts and networks callers may stream to (see
    /// [`crate::destination_policy`]).
    pub destination_allowlist: Vec<String>,
    /// The rules this configuration was read with.
    pub mode: ConfigMode,
}

impl StreamingConfig {
    /// A development configuration ([`ConfigMode::Development`]) with the required secrets
    /// and every default, overlay base URL [`DEFAULT_APP_URL`] included (set another with
    /// [`Self::with_app_url`]); errors name the argument's variable.
    pub fn new(encryption_key_hex: &str, jwt_secret: &str) -> Result<Self> {
        let mut problems = Problems::default();
        check_key(
            &mut problems,
            "STREAM_KEY_ENCRYPTION_KEY",
            encryption_key_hex,
        );
        check_jwt_secret(&mut problems, jwt_secret);
        problems.finish()?;
        Ok(Self {
            livekit: None,
            livekit_credentials: None,
            encryption_key: SecretString::from(encryption_key_hex.trim()),
            previous_encryption_keys: Vec::new(),
            jwt_secret: SecretString::from(jwt_secret.trim()),
            app_url: DEFAULT_APP_URL.to_owned(),
            overlay_token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            start_timeout: DEFAULT_START_TIMEOUT,
            max_duration: DEFAULT_MAX_DURATION,
            webhook_leeway_secs: DEFAULT_WEBHOOK_LEEWAY_SECS,
            destination_allowlist: Vec::new(),
            mode: ConfigMode::Development,
        })
    }

    /// Sets the overlay base URL, checked as `NEXT_PUBLIC_APP_URL` is.
    pub fn with_app_url(mut self, app_url: &str) -> Result<Self> {
        let mut problems = Problems::default();
        let url = Some(app_url.trim().to_owned()).filter(|u| !u.is_empty());
        self.app_url = check_app_url(url, ConfigMode::Production, &mut problems);
        problems.finish()?;
        Ok(self)
    }

    /// Reads the process environment with production rules.
    pub fn from_env() -> Result<Self> {
        Self::from_env_in(ConfigMode::Production)
    }

    /// Reads the process environment with `mode`'s rules.
    pub fn from_env_in(mode: ConfigMode) -> Result<Self> {
        Self::from_lookup_in(mode, |name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (for tests and embedding) with production rules.
    /// Every problem is reported at once, by variable name.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        Self::from_lookup_in(ConfigMode::Production, lookup)
    }

    /// [`Self::from_lookup`] with `mode`'s rules.
    pub fn from_lookup_in(
        mode: ConfigMode,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Problems::default();

        let key = get("STREAM_KEY_ENCRYPTION_KEY");
        match &key {
            None => problems.push("STREAM_KEY_ENCRYPTION_KEY", "is missing"),
            Some(k) => check_key(&mut problems, "STREAM_KEY_ENCRYPTION_KEY", k),
        }
        let previous = comma_list(get("STREAM_KEY_ENCRYPTION_PREVIOUS_KEYS"));
        for k in &previous {
            check_key(&mut problems, "STREAM_KEY_ENCRYPTION_PREVIOUS_KEYS", k);
        }
        let jwt = get("STREAMING_JWT_SECRET");
        check_jwt_secret(&mut problems, jwt.as_deref().unwrap_or_default());

        let url = get("LIVEKIT_URL");
        let credentials = collect_credentials(
            &get("LIVEKIT_API_KEY").unwrap_or_default(),
            &get("LIVEKIT_API_SECRET").unwrap_or_default(),
            url.is_some(),
            &mut problems,
        );
        let (livekit, livekit_credentials) = match &url {
            Some(url) => {
                let api_url = check_livekit_url(url, &mut problems);
                let livekit = api_url
                    .zip(credentials)
                    .map(|(api_url, c)| LiveKitConfig::from_parts(url, api_url, c));
                (livekit, None)
            }
            None => (None, credentials),
        };

        let app_url = check_app_url(get("NEXT_PUBLIC_APP_URL"), mode, &mut problems);
        let mut number = |name: &str, default: u64, min: u64| match get(name) {
            None => default,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n >= min => n,
                _ => {
                    problems.push(name, &format!("must be a whole number of seconds ≥ {min}"));
                    default
                }
            },
        };
        let ttl = number(
            "STREAMING_OVERLAY_TOKEN_TTL_SECS",
            DEFAULT_TOKEN_TTL_SECS,
            60,
        );
        let start = number(
            "STREAMING_START_TIMEOUT_SECS",
            DEFAULT_START_TIMEOUT.as_secs(),
            10,
        );
        let max = number(
            "STREAMING_MAX_DURATION_SECS",
            DEFAULT_MAX_DURATION.as_secs(),
            60,
        );
        let allowlist = comma_list(get("STREAMING_DESTINATION_ALLOWLIST"));
        if DestinationPolicy::public_only()
            .allow_all(allowlist.iter().map(String::as_str))
            .is_err()
        {
            problems.push(
                "STREAMING_DESTINATION_ALLOWLIST",
                "entries must be host names, *.suffixes, IP addresses or CIDR networks",
            );
        }
        problems.finish()?;

        Ok(Self {
            livekit,
            livekit_credentials,
            encryption_key: SecretString::from(key.unwrap_or_default()),
            previous_encryption_keys: previous.into_iter().map(SecretString::from).collect(),
            jwt_secret: SecretString::from(jwt.unwrap_or_default()),
            app_url,
            overlay_token_ttl_secs: ttl,
            start_timeout: Duration::from_secs(start),
            max_duration: Duration::from_secs(max),
            webhook_leeway_secs: DEFAULT_WEBHOOK_LEEWAY_SECS,
            destination_allowlist: allowlist,
            mode,
        })
    }

    /// The destination policy: public addresses plus the allowlist; in development, any.
    pub fn destination_policy(&self) -> Result<DestinationPolicy> {
        if self.mode == ConfigMode::Development {
            return Ok(DestinationPolicy::unrestricted());
        }
        DestinationPolicy::public_only()
            .allow_all(self.destination_allowlist.iter().map(String::as_str))
    }

    /// The stream-key vault for these keys.
    pub fn vault(&self) -> Result<AesGcmVault> {
        let previous: Vec<&str> = self
            .previous_encryption_keys
            .iter()
            .map(SecretString::expose_secret)
            .collect();
        AesGcmVault::with_previous_hex(self.encryption_key.expose_secret(), &previous)
    }

    /// The overlay token issuer/verifier for this secret and lifetime.
    pub fn overlay_tokens(&self) -> Result<OverlayTokens> {
        OverlayTokens::new(self.jwt_secret.expose_secret())?
            .with_ttl_secs(self.overlay_token_ttl_secs)
    }

    /// `LIVEKIT_API_KEY`, with or without `LIVEKIT_URL`.
    pub fn livekit_api_key(&self) -> Option<&str> {
        self.livekit_api().map(|(key, _)| key)
    }

    /// The LiveKit API key and secret, wherever they are kept.
    fn livekit_api(&self) -> Option<(&str, &SecretString)> {
        match (&self.livekit, &self.livekit_credentials) {
            (Some(lk), _) => Some((&lk.api_key, &lk.api_secret)),
            (None, Some(c)) => Some((&c.api_key, &c.api_secret)),
            (None, None) => None,
        }
    }

    /// The webhook verifier, when the LiveKit API key and secret are configured (with or
    /// without `LIVEKIT_URL`).
    pub fn webhook_verifier(&self) -> Option<Result<WebhookVerifier>> {
        let (key, secret) = self.livekit_api()?;
        Some(
            WebhookVerifier::new(key, secret.expose_secret())
                .and_then(|v| v.with_leeway_secs(self.webhook_leeway_secs)),
        )
    }
}

/// Checks a 64-hex-character key without ever echoing it.
/// The trimmed, non-empty entries of a comma-separated variable.
fn comma_list(value: Option<String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(|entry| entry.trim().to_owned())
                .filter(|entry| !entry.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn check_key(problems: &mut Problems, var: &str, value: &str) {
    if crate::vault::parse_key_hex(value, var).is_err() {
        problems.push(
            var,
            "must be 64 hex characters (32 bytes); generate one with `openssl rand -hex 32`",
        );
    }
}

/// Checks `STREAMING_JWT_SECRET` with the rule of [`OverlayTokens::new`], never echoing it.
fn check_jwt_secret(problems: &mut Problems, secret: &str) {
    if secret.trim().is_empty() {
        problems.push("STREAMING_JWT_SECRET", "is missing");
    } else if let Some(problem) = jwt_secret_problem(secret) {
        problems.push("STREAMING_JWT_SECRET", problem);
    }
}

/// Problems found so far, reported together.
#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn push(&mut self, var: &str, problem: &str) {
        if !self.0.iter().any(|(v, _)| v == var) {
            self.0.push((var.to_owned(), problem.to_owned()));
        }
    }

    fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let var = self
            .0
            .iter()
            .map(|(v, _)| v.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let problem = self
            .0
            .iter()
            .map(|(v, p)| format!("{v} {p}"))
            .collect::<Vec<_>>()
            .join("; ");
        Err(Error::Config { var, problem })
    }
}
