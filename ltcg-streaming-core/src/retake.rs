//! Retake.tv's agent streaming API (feature `platforms`): the "go live" signal, the RTMP
//! credentials it hands out, the stop signal and the stream's status. Base
//! `https://chat.retake.tv`, every call with `Authorization: Bearer <access token>`.
//!
//! [`RetakeApi::resolve`] is the product's destination resolution: each candidate token in
//! order gets `POST /api/agent/stream/start` and then `GET /api/agent/rtmp`; the first that
//! yields a URL and a key wins. Failures carry the product's messages with Retake's answer
//! quoted, cut short, URLs redacted and the token removed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::vault::SecretString;
use crate::viewers::http::PlatformHttp;
use crate::viewers::{ChannelViewers, PlatformFailure, ViewerCounts, DEFAULT_PLATFORM_TIMEOUT};

/// Retake's API base URL.
pub const RETAKE_API_BASE: &str = "https://chat.retake.tv";
/// Most characters of Retake's answer quoted in an error.
const QUOTED_CHARS: usize = 200;
/// The field names Retake has used for the ingest URL, in the order they are read.
const URL_FIELDS: [&str; 3] = ["url", "rtmp_url", "rtmpUrl"];
/// The field names Retake has used for the stream key, in the order they are read.
const KEY_FIELDS: [&str; 3] = ["key", "stream_key", "streamKey"];

/// A client of Retake's agent API, with the operator's own access tokens (tried only for
/// internal callers, after the caller's own).
pub struct RetakeApi {
    http: PlatformHttp,
    base: String,
    operator_tokens: Vec<SecretString>,
}

impl std::fmt::Debug for RetakeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetakeApi")
            .field("base", &self.base)
            .field("operator_tokens", &self.operator_tokens.len())
            .finish()
    }
}

/// RTMP credentials handed out by Retake.
#[derive(Debug, Clone)]
pub struct RetakeCredentials {
    /// The ingest URL (it may embed a key: `Debug` of the whole is not printed anywhere).
    pub url: SecretString,
    /// The stream key.
    pub key: SecretString,
}

/// What Retake says about a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetakeStatus {
    /// Whether Retake shows the stream as live.
    pub live: bool,
    /// Its viewers, when Retake says.
    pub viewers: Option<u64>,
}

/// A resolved Retake destination: where to push and the token that got it.
#[derive(Debug, Clone)]
pub struct RetakeDestination {
    /// The credentials.
    pub credentials: RetakeCredentials,
    /// The access token that was signalled live (to signal stop with).
    pub token: SecretString,
}

impl RetakeApi {
    /// A client of `base` (Retake's own: [`RETAKE_API_BASE`]); each call is bounded by
    /// `timeout`.
    pub fn new(base: &str, timeout: Duration) -> Result<Self> {
        let base = base.trim().trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(Error::Config {
                var: "RETAKE_API_BASE".into(),
                problem: "must be an http:// or https:// URL".into(),
            });
        }
        Ok(Self {
            http: PlatformHttp::new(Platform::Retake, timeout)?,
            base: base.to_owned(),
            operator_tokens: Vec::new(),
        })
    }

    /// With the operator's access tokens, tried (after the caller's) for internal callers.
    pub fn with_operator_tokens(mut self, tokens: Vec<SecretString>) -> Self {
        self.operator_tokens = tokens
            .into_iter()
            .filter(|t| !t.expose_secret().trim().is_empty())
            .collect();
        self
    }

    /// The operator's access tokens.
    pub fn operator_tokens(&self) -> &[SecretString] {
        &self.operator_tokens
    }

    /// From the environment: `RETAKE_API_BASE` (default [`RETAKE_API_BASE`]) and the
    /// operator tokens `RETAKE_ACCESS_TOKEN` then `DIZZY_RETAKE_ACCESS_TOKEN`.
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let value = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let base = value("RETAKE_API_BASE").unwrap_or_else(|| RETAKE_API_BASE.into());
        let tokens = ["RETAKE_ACCESS_TOKEN", "DIZZY_RETAKE_ACCESS_TOKEN"]
            .into_iter()
            .filter_map(|name| value(name).map(SecretString::from))
            .collect();
        Ok(Self::new(&base, DEFAULT_PLATFORM_TIMEOUT)?.with_operator_tokens(tokens))
    }

    /// Tries each of `candidates` in order (duplicates skipped): the go-live signal, then
    /// the RTMP credentials (a token signalled live whose credentials fail is signalled
    /// stopped again). `Ok(None)` when there are no candidates; otherwise the first
    /// success, or the last failure as `Failed to resolve Retake stream destination: …`.
    pub async fn resolve(&self, candidates: &[SecretString]) -> Result<Option<RetakeDestination>> {
        let mut tried: Vec<&str> = Vec::new();
        let mut last = None;
        for token in candidates {
            let raw = token.expose_secret().trim();
            if raw.is_empty() || tried.contains(&raw) {
                continue;
            }
            tried.push(raw);
            let attempt = async {
                self.go_live(token).await?;
                let credentials = self.rtmp_credentials(token).await;
                if credentials.is_err() {
                    // Signalled live for nothing: take it back.
                    if let Err(reason) = self.stop(token).await {
                        tracing::warn!(%reason, "could not take back a Retake go-live signal");
                    }
                }
                credentials
            };
            match attempt.await {
                Ok(credentials) => {
                    return Ok(Some(RetakeDestination {
                        credentials,
                        token: SecretString::from(raw),
                    }))
                }
                Err(reason) => {
                    tracing::warn!(attempt = tried.len(), %reason, "a Retake access token did not resolve a destination");
                    last = Some(reason);
                }
            }
        }
        match last {
            None => Ok(None),
            Some(reason) => Err(Error::Egress {
                retryable: false,
                message: format!("Failed to resolve Retake stream destination: {reason}"),
            }),
        }
    }

    /// `POST /api/agent/stream/start`: must come before any media is pushed.
    pub async fn go_live(&self, token: &SecretString) -> std::result::Result<(), String> {
        self.call(reqwest::Method::POST, "/api/agent/stream/start", token)
            .await
            .map_err(|why| format!("Failed to start Retake.tv stream: {why}"))
            .map(drop)
    }

    /// `GET /api/agent/rtmp`: the URL from `url`, `rtmp_url` or `rtmpUrl` and the key from
    /// `key`, `stream_key` or `streamKey`, each at the top level or under `data`; the first
    /// non-empty trimmed value wins.
    pub async fn rtmp_credentials(
        &self,
        token: &SecretString,
    ) -> std::result::Result<RetakeCredentials, String> {
        let body = self
            .call(reqwest::Method::GET, "/api/agent/rtmp", token)
            .await
            .map_err(|why| format!("Failed to get Retake.tv RTMP credentials: {why}"))?;
        let missing = || "Retake.tv RTMP credentials response missing url/key".to_owned();
        let json: Value = serde_json::from_slice(&body).map_err(|_| missing())?;
        match (first_of(&json, &URL_FIELDS), first_of(&json, &KEY_FIELDS)) {
            (Some(url), Some(key)) => Ok(RetakeCredentials {
                url: SecretString::from(url),
                key: SecretString::from(key),
            }),
            _ => Err(missing()),
        }
    }

    /// `POST /api/agent/stream/stop`.
    pub async fn stop(&self, token: &SecretString) -> std::result::Result<(), String> {
        self.call(reqwest::Method::POST, "/api/agent/stream/stop", token)
            .await
            .map_err(|why| format!("Failed to stop Retake.tv stream: {why}"))
            .map(drop)
    }

    /// `GET /api/agent/stream/status` → `{is_live, viewer_count?}` (or under `data`).
    pub async fn status(
        &self,
        token: &SecretString,
    ) -> std::result::Result<RetakeStatus, PlatformFailure> {
        let url = format!("{}/api/agent/stream/status", self.base);
        let answer = self
            .http
            .send(self.http.client.get(url).bearer_auth(token.expose_secret()))
            .await?;
        self.http.check(&answer)?;
        let json: Value = serde_json::from_slice(&answer.body)
            .map_err(|_| self.http.malformed("the status is not JSON"))?;
        let field = |name: &str| {
            json.get(name)
                .or_else(|| json.get("data").and_then(|d| d.get(name)))
                .cloned()
        };
        let live = field("is_live")
            .and_then(|v| v.as_bool())
            .ok_or_else(|| self.http.malformed("the status has no is_live"))?;
        let viewers = field("viewer_count").and_then(|v| v.as_u64());
        Ok(RetakeStatus { live, viewers })
    }

    /// One authorized call; the body of a success, or why it failed (Retake's words, cut
    /// short, without URLs or the token).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &SecretString,
    ) -> std::result::Result<Vec<u8>, String> {
        let url = format!("{}{path}", self.base);
        let request = self
            .http
            .client
            .request(method, url)
            .bearer_auth(token.expose_secret());
        let answer = self
            .http
            .send(request)
            .await
            .map_err(|failure| failure.to_string())?;
        if answer.status.is_success() {
            return Ok(answer.body);
        }
        let text = String::from_utf8_lossy(&answer.body);
        let quoted = quote(&text, token.expose_secret());
        Err(if quoted.is_empty() {
            format!("HTTP {}", answer.status.as_u16())
        } else {
            quoted
        })
    }
}

/// Retake as a [`ViewerCounts`] source for one pass: its "channels" are destination ids,
/// each read with the access token it was set up with (`stream/status`, one call each).
pub(crate) struct RetakeViewers {
    api: Arc<RetakeApi>,
    tokens: HashMap<String, SecretString>,
}

impl std::fmt::Debug for RetakeViewers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetakeViewers")
            .field("destinations", &self.tokens.len())
            .finish()
    }
}

impl RetakeViewers {
    /// A source over `tokens` (destination id → access token).
    pub(crate) fn new(api: Arc<RetakeApi>, tokens: HashMap<String, SecretString>) -> Self {
        Self { api, tokens }
    }
}

#[async_trait]
impl ViewerCounts for RetakeViewers {
    fn platform(&self) -> Platform {
        Platform::Retake
    }

    async fn fetch(
        &self,
        channels: &[String],
    ) -> std::result::Result<Vec<ChannelViewers>, PlatformFailure> {
        let asks = channels.iter().filter_map(|id| {
            let token = self.tokens.get(id)?;
            Some(async move { (id, self.api.status(token).await) })
        });
        let mut answers = Vec::new();
        let mut failure = None;
        for (id, status) in futures::future::join_all(asks).await {
            match status {
                Ok(status) => answers.push(ChannelViewers {
                    channel: id.clone(),
                    live: status.live,
                    viewers: status.viewers.filter(|_| status.live),
                    started_at: None,
                    thumbnail_url: None,
                }),
                Err(f) => failure = failure.or(Some(f)),
            }
        }
        match failure {
            // Nothing answered: the platform's failure decides the wait.
            Some(f) if answers.is_empty() => Err(f),
            _ => Ok(answers),
        }
    }
}

/// The first non-empty trimmed string among `names`, at the top level, then under `data`.
fn first_of(json: &Value, names: &[&str]) -> Option<String> {
    let levels = [Some(json), json.get("data")];
    levels.into_iter().flatten().find_map(|level| {
        names.iter().find_map(|name| {
            level
                .get(*name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        })
    })
}

/// Retake's answer as quoted in an error: one line, at most [`QUOTED_CHARS`] characters,
/// RTMP URLs redacted and the token (should Retake echo it) removed.
fn quote(text: &str, token: &str) -> String {
    let token = token.trim();
    let text = if token.is_empty() {
        text.to_owned()
    } else {
        text.replace(token, "{token}")
    };
    let text = crate::redact::redact_urls_in_text(&text);
    let mut one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(QUOTED_CHARS + 1)
        .collect();
    if one_line.chars().count() > QUOTED_CHARS {
        one_line = one_line.chars().take(QUOTED_CHARS).collect();
        one_line.push('…');
    }
    one_line.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_field_name_variant_is_read_top_level_first_then_under_data() {
        let cases = [
            (
                json!({"url": "rtmp://a/live", "key": "k1"}),
                "rtmp://a/live",
                "k1",
            ),
            (
                json!({"rtmp_url": "rtmp://b/live", "stream_key": "k2"}),
                "rtmp://b/live",
                "k2",
            ),
            (
                json!({"rtmpUrl": "rtmp://c/live", "streamKey": "k3"}),
                "rtmp://c/live",
                "k3",
            ),
            (
                json!({"data": {"url": "rtmp://d/live", "streamKey": "k4"}}),
                "rtmp://d/live",
                "k4",
            ),
            (
                json!({"url": "  ", "rtmp_url": "rtmp://e/live", "data": {"key": "k5"}}),
                "rtmp://e/live",
                "k5",
            ),
            (
                json!({"url": "rtmp://top/live", "data": {"url": "rtmp://under/live", "key": "k6"}}),
                "rtmp://top/live",
                "k6",
            ),
        ];
        for (body, url, key) in cases {
            assert_eq!(first_of(&body, &URL_FIELDS).as_deref(), Some(url), "{body}");
            assert_eq!(first_of(&body, &KEY_FIELDS).as_deref(), Some(key), "{body}");
        }
        assert_eq!(first_of(&json!({"url": 5, "data": []}), &URL_FIELDS), None);
    }

    #[test]
    fn quoted_answers_are_short_single_lines_without_the_token_or_keys() {
        let q = quote(
            "denied for tok_secret_123\nsee rtmp://ingest.example/live/sk_abcdefghijklmnop",
            "tok_secret_123",
        );
        assert!(!q.contains("tok_secret_123"), "{q}");
        assert!(!q.contains("sk_abcdefghijklmnop"), "{q}");
        assert!(!q.contains('\n'), "{q}");
        let long = quote(&"x".repeat(1_000), "t");
        assert_eq!(
            long.chars().count(),
            QUOTED_CHARS + 1,
            "cut with an ellipsis"
        );
    }
}
