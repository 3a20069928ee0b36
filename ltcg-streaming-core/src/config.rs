//! Configuration from the seed's environment variables.
//!
//! | variable | meaning |
//! |---|---|
//! | `STREAM_KEY_ENCRYPTION_KEY` | required; 64 hex characters (trimmed) |
//! | `STREAM_KEY_ENCRYPTION_PREVIOUS_KEYS` | optional; comma-separated older keys still accepted on decrypt |
//! | `STREAMING_JWT_SECRET` | required; trimmed, used as raw UTF-8 bytes (not base64-decoded) |
//! | `LIVEKIT_URL`, `LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET` | all three or none; `wss://` becomes `https://` for the API |
//! | `NEXT_PUBLIC_APP_URL` | overlay base URL; default `http://localhost:3334` |
//! | `STREAMING_OVERLAY_TOKEN_TTL_SECS` | overlay token lifetime; default 86400 |
//! | `STREAMING_START_TIMEOUT_SECS` | how long a start may stay `initializing`/`pending`; default 300 |
//! | `STREAMING_MAX_DURATION_SECS` | longest live session; default 43200 (12 h) |
//! | `STREAMING_DESTINATION_ALLOWLIST` | comma-separated hosts, `*.suffixes`, IPs or CIDR networks that callers may stream to although they are internal ([`crate::destination_policy`]); default none |
//!
//! A missing or invalid variable is reported by name, never by value.

use std::time::Duration;

use crate::destination_policy::DestinationPolicy;
use crate::error::{Error, Result};
use crate::token::{OverlayTokens, DEFAULT_TOKEN_TTL_SECS};
use crate::vault::{AesGcmVault, SecretString};
use crate::webhook::{WebhookVerifier, DEFAULT_WEBHOOK_LEEWAY_SECS};

/// Default overlay base URL (the product's fallback).
pub const DEFAULT_APP_URL: &str = "http://localhost:3334";
/// Default start timeout: 5 minutes.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(300);
/// Default maximum live duration: 12 hours (LiveKit Cloud's RTMP limit).
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(12 * 3600);

/// LiveKit server credentials.
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
        let livekit = LiveKitConfig::collect(url, api_key, api_secret, &mut problems);
        problems.finish()?;
        livekit.ok_or_else(|| Error::Config {
            var: "LIVEKIT_URL".into(),
            problem: "LIVEKIT_URL is invalid".into(),
        })
    }

    fn collect(url: &str, key: &str, secret: &str, problems: &mut Problems) -> Option<Self> {
        let (url, key, secret) = (url.trim(), key.trim(), secret.trim());
        let api_url = match url.split_once("://") {
            Some((scheme, rest)) if !rest.is_empty() => {
                match scheme.to_ascii_lowercase().as_str() {
                    "wss" | "https" => Some(format!("https://{}", rest.trim_end_matches('/'))),
                    "ws" | "http" => Some(format!("http://{}", rest.trim_end_matches('/'))),
                    _ => None,
                }
            }
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
        if key.is_empty() {
            problems.push("LIVEKIT_API_KEY", "is missing");
        }
        if secret.is_empty() {
            problems.push("LIVEKIT_API_SECRET", "is missing");
        }
        Some(Self {
            url: url.to_owned(),
            api_url: api_url?,
            api_key: key.to_owned(),
            api_secret: SecretString::from(secret),
        })
    }
}

/// Everything the library reads from the environment.
///
/// `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct StreamingConfig {
    /// LiveKit credentials, when configured.
    pub livekit: Option<LiveKitConfig>,
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
}

impl StreamingConfig {
    /// A configuration with the required secrets and every default; errors name the
    /// argument's variable.
    pub fn new(encryption_key_hex: &str, jwt_secret: &str) -> Result<Self> {
        let mut problems = Problems::default();
        check_key(
            &mut problems,
            "STREAM_KEY_ENCRYPTION_KEY",
            encryption_key_hex,
        );
        if jwt_secret.trim().is_empty() {
            problems.push("STREAMING_JWT_SECRET", "is missing");
        }
        problems.finish()?;
        Ok(Self {
            livekit: None,
            encryption_key: SecretString::from(encryption_key_hex.trim()),
            previous_encryption_keys: Vec::new(),
            jwt_secret: SecretString::from(jwt_secret.trim()),
            app_url: DEFAULT_APP_URL.to_owned(),
            overlay_token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            start_timeout: DEFAULT_START_TIMEOUT,
            max_duration: DEFAULT_MAX_DURATION,
            webhook_leeway_secs: DEFAULT_WEBHOOK_LEEWAY_SECS,
            destination_allowlist: Vec::new(),
        })
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (for tests and embedding). Every problem is
    /// reported at once, by variable name.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
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
        if jwt.is_none() {
            problems.push("STREAMING_JWT_SECRET", "is missing");
        }

        let lk = ["LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"].map(&get);
        let livekit = if lk.iter().any(Option::is_some) {
            let [url, api_key, secret] = lk.map(Option::unwrap_or_default);
            LiveKitConfig::collect(&url, &api_key, &secret, &mut problems)
        } else {
            None
        };

        let app_url = match get("NEXT_PUBLIC_APP_URL") {
            None => DEFAULT_APP_URL.to_owned(),
            Some(url) => {
                let lower = url.to_ascii_lowercase();
                if !(lower.starts_with("https://") || lower.starts_with("http://"))
                    || url.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    problems.push("NEXT_PUBLIC_APP_URL", "must be an http:// or https:// URL");
                }
                url.trim_end_matches('/').to_owned()
            }
        };
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
            encryption_key: SecretString::from(key.unwrap_or_default()),
            previous_encryption_keys: previous.into_iter().map(SecretString::from).collect(),
            jwt_secret: SecretString::from(jwt.unwrap_or_default()),
            app_url,
            overlay_token_ttl_secs: ttl,
            start_timeout: Duration::from_secs(start),
            max_duration: Duration::from_secs(max),
            webhook_leeway_secs: DEFAULT_WEBHOOK_LEEWAY_SECS,
            destination_allowlist: allowlist,
        })
    }

    /// The destination policy: public addresses plus the allowlist.
    pub fn destination_policy(&self) -> Result<DestinationPolicy> {
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

    /// The webhook verifier, when LiveKit is configured.
    pub fn webhook_verifier(&self) -> Option<Result<WebhookVerifier>> {
        self.livekit.as_ref().map(|lk| {
            WebhookVerifier::new(&lk.api_key, lk.api_secret.expose_secret())?
                .with_leeway_secs(self.webhook_leeway_secs)
        })
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
