//! [`TwitchViewerCounts`]: Helix `GET /helix/streams` with an app access token.
//!
//! - Token: `POST <id>/oauth2/token` with the form `client_id`, `client_secret`,
//!   `grant_type=client_credentials`; the answer's `access_token` is kept until a minute
//!   before `expires_in`. There is no refresh token: a 401 fetches a new token once, then
//!   the call is retried once.
//! - Streams: `user_login` repeated for up to 100 channels per request, with both
//!   `Authorization: Bearer <token>` and `Client-Id`. A channel that is not live is absent
//!   from `data`.
//! - 429: the wait is taken from `Ratelimit-Reset` (Unix seconds).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};
use reqwest::StatusCode;
use serde::Deserialize;

use super::{ChannelViewers, PlatformFailure, ViewerCounts, DEFAULT_PLATFORM_TIMEOUT};
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::vault::SecretString;

/// Helix's base URL.
pub const TWITCH_API_BASE: &str = "https://api.twitch.tv";
/// Twitch's OAuth base URL.
pub const TWITCH_ID_BASE: &str = "https://id.twitch.tv";
/// Most logins in one Helix request.
const PAGE: usize = 100;
/// A cached token is renewed this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// A Twitch application's credentials (client credentials grant).
#[derive(Clone)]
pub struct TwitchCredentials {
    /// The application's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: SecretString,
}

impl std::fmt::Debug for TwitchCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TwitchCredentials { .. }")
    }
}

struct CachedToken {
    value: SecretString,
    renew_at: Instant,
}

/// Viewer counts of Twitch channels (by login), from Helix.
pub struct TwitchViewerCounts {
    http: reqwest::Client,
    credentials: TwitchCredentials,
    api_base: String,
    id_base: String,
    token: tokio::sync::Mutex<Option<CachedToken>>,
}

impl std::fmt::Debug for TwitchViewerCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwitchViewerCounts")
            .field("api_base", &self.api_base)
            .field("id_base", &self.id_base)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct StreamsAnswer {
    data: Vec<Stream>,
}

#[derive(Deserialize)]
struct Stream {
    user_login: String,
    #[serde(rename = "type", default)]
    kind: String,
    viewer_count: u64,
    #[serde(default)]
    started_at: Option<String>,
    #[serde(default)]
    thumbnail_url: Option<String>,
}

impl TwitchViewerCounts {
    /// A source with `credentials`, on Twitch's own URLs.
    pub fn new(credentials: TwitchCredentials) -> Result<Self> {
        Self::with_bases(
            credentials,
            TWITCH_API_BASE,
            TWITCH_ID_BASE,
            DEFAULT_PLATFORM_TIMEOUT,
        )
    }

    /// A source on other base URLs (tests, proxies); each call is bounded by `timeout`.
    pub fn with_bases(
        credentials: TwitchCredentials,
        api_base: &str,
        id_base: &str,
        timeout: Duration,
    ) -> Result<Self> {
        if credentials.client_id.trim().is_empty()
            || credentials.client_secret.expose_secret().trim().is_empty()
        {
            return Err(Error::Config {
                var: "TWITCH_CLIENT_ID, TWITCH_CLIENT_SECRET".into(),
                problem: "the Twitch client id and secret must not be empty".into(),
            });
        }
        let http = crate::https_client::https_client(Some(timeout)).map_err(|_| Error::Config {
            var: "TWITCH_CLIENT_ID".into(),
            problem: "cannot build the HTTPS client for Twitch".into(),
        })?;
        Ok(Self {
            http,
            credentials,
            api_base: api_base.trim_end_matches('/').to_owned(),
            id_base: id_base.trim_end_matches('/').to_owned(),
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// From `TWITCH_CLIENT_ID` and `TWITCH_CLIENT_SECRET` (both or neither; `None` when
    /// neither is set), with `TWITCH_API_BASE` and `TWITCH_ID_BASE` overriding the URLs.
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let value = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let (id, secret) = match (value("TWITCH_CLIENT_ID"), value("TWITCH_CLIENT_SECRET")) {
            (None, None) => return Ok(None),
            (Some(id), Some(secret)) => (id, secret),
            (Some(_), None) | (None, Some(_)) => {
                return Err(Error::Config {
                    var: "TWITCH_CLIENT_ID, TWITCH_CLIENT_SECRET".into(),
                    problem: "set both TWITCH_CLIENT_ID and TWITCH_CLIENT_SECRET, or neither"
                        .into(),
                })
            }
        };
        let credentials = TwitchCredentials {
            client_id: id,
            client_secret: SecretString::from(secret),
        };
        let api = value("TWITCH_API_BASE").unwrap_or_else(|| TWITCH_API_BASE.into());
        let idp = value("TWITCH_ID_BASE").unwrap_or_else(|| TWITCH_ID_BASE.into());
        Self::with_bases(credentials, &api, &idp, DEFAULT_PLATFORM_TIMEOUT).map(Some)
    }

    /// [`Self::from_env_with`] over the process environment.
    pub fn from_env() -> Result<Option<Self>> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// The cached app token, or a new one (`fresh`: always a new one).
    async fn token(&self, fresh: bool) -> std::result::Result<SecretString, PlatformFailure> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached
            .as_ref()
            .filter(|t| !fresh && Instant::now() < t.renew_at)
        {
            return Ok(token.value.clone());
        }
        let form = serde_urlencoded::to_string([
            ("client_id", self.credentials.client_id.as_str()),
            (
                "client_secret",
                self.credentials.client_secret.expose_secret(),
            ),
            ("grant_type", "client_credentials"),
        ])
        .map_err(|_| malformed("the token request could not be encoded"))?;
        let answer = self
            .http
            .post(format!("{}/oauth2/token", self.id_base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(unavailable)?;
        let status = answer.status();
        let headers = answer.headers().clone();
        let body = answer.bytes().await.map_err(unavailable)?;
        check_status(status, &headers)?;
        let token: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| malformed("the token answer has no access_token and expires_in"))?;
        let lifetime = Duration::from_secs(token.expires_in).saturating_sub(TOKEN_MARGIN);
        let value = SecretString::from(token.access_token);
        *cached = Some(CachedToken {
            value: value.clone(),
            renew_at: Instant::now() + lifetime,
        });
        Ok(value)
    }

    /// One Helix page (at most [`PAGE`] logins).
    async fn page(&self, logins: &[String]) -> std::result::Result<Vec<Stream>, PlatformFailure> {
        let mut query: Vec<(&str, &str)> = vec![("first", "100")];
        query.extend(logins.iter().map(|l| ("user_login", l.as_str())));
        let query = serde_urlencoded::to_string(&query)
            .map_err(|_| malformed("the streams request could not be encoded"))?;
        let url = format!("{}/helix/streams?{query}", self.api_base);
        let mut fresh = false;
        loop {
            let token = self.token(fresh).await?;
            let answer = self
                .http
                .get(&url)
                .header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()))
                .header("Client-Id", &self.credentials.client_id)
                .send()
                .await
                .map_err(unavailable)?;
            let status = answer.status();
            if status == StatusCode::UNAUTHORIZED && !fresh {
                // Expired or revoked: one new token, one more try.
                fresh = true;
                continue;
            }
            let headers = answer.headers().clone();
            let body = answer.bytes().await.map_err(unavailable)?;
            check_status(status, &headers)?;
            let streams: StreamsAnswer = serde_json::from_slice(&body)
                .map_err(|_| malformed("the streams answer is not {data: [...]} of streams"))?;
            return Ok(streams.data);
        }
    }
}

fn malformed(reason: &str) -> PlatformFailure {
    PlatformFailure::Malformed {
        platform: Platform::Twitch,
        reason: reason.into(),
    }
}

/// A transport failure, described without its URL.
fn unavailable(err: reqwest::Error) -> PlatformFailure {
    let reason = if err.is_timeout() {
        "no answer in time"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "the connection failed"
    };
    PlatformFailure::Unavailable {
        platform: Platform::Twitch,
        reason: reason.into(),
    }
}

/// Maps a non-success status to its failure.
fn check_status(
    status: StatusCode,
    headers: &HeaderMap,
) -> std::result::Result<(), PlatformFailure> {
    if status.is_success() {
        return Ok(());
    }
    Err(match status {
        StatusCode::TOO_MANY_REQUESTS => PlatformFailure::RateLimited {
            platform: Platform::Twitch,
            retry_after: retry_after(headers),
        },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST => {
            PlatformFailure::Unauthorized {
                platform: Platform::Twitch,
            }
        }
        other => PlatformFailure::Unavailable {
            platform: Platform::Twitch,
            reason: format!("HTTP {}", other.as_u16()),
        },
    })
}

/// The wait until `Ratelimit-Reset` (Unix seconds), at least a second; 60 s when absent.
fn retry_after(headers: &HeaderMap) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    headers
        .get("ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(60), |reset| {
            Duration::from_secs(reset.saturating_sub(now).max(1))
        })
}

#[async_trait]
impl ViewerCounts for TwitchViewerCounts {
    fn platform(&self) -> Platform {
        Platform::Twitch
    }

    async fn fetch(
        &self,
        channels: &[String],
    ) -> std::result::Result<Vec<ChannelViewers>, PlatformFailure> {
        let mut logins: Vec<String> = channels.iter().map(|c| c.to_ascii_lowercase()).collect();
        logins.sort_unstable();
        logins.dedup();
        let mut streams = Vec::new();
        for page in logins.chunks(PAGE) {
            streams.extend(self.page(page).await?);
        }
        Ok(channels
            .iter()
            .map(|c| {
                let login = c.to_ascii_lowercase();
                let stream = streams
                    .iter()
                    .find(|s| s.user_login.eq_ignore_ascii_case(&login));
                let live = stream.is_some_and(|s| s.kind == "live");
                ChannelViewers {
                    channel: login,
                    live,
                    viewers: stream.filter(|_| live).map(|s| s.viewer_count),
                    started_at: stream.and_then(|s| s.started_at.clone()),
                    thumbnail_url: stream.and_then(|s| s.thumbnail_url.clone()),
                }
            })
            .collect())
    }
}
