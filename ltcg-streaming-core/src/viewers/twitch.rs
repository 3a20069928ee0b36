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

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::app_token::AppToken;
use super::http::PlatformHttp;
use super::{
    env_credentials, ChannelViewers, PlatformFailure, ViewerCounts, DEFAULT_PLATFORM_TIMEOUT,
};
use crate::error::Result;
use crate::platform::Platform;
use crate::vault::SecretString;

/// Helix's base URL.
pub const TWITCH_API_BASE: &str = "https://api.twitch.tv";
/// Twitch's OAuth base URL.
pub const TWITCH_ID_BASE: &str = "https://id.twitch.tv";
/// Most logins in one Helix request.
const PAGE: usize = 100;

/// A platform application's credentials (client credentials grant).
#[derive(Clone)]
pub struct AppCredentials {
    /// The application's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: SecretString,
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppCredentials { .. }")
    }
}

/// Viewer counts of Twitch channels (by login), from Helix.
pub struct TwitchViewerCounts {
    http: PlatformHttp,
    token: AppToken,
    api_base: String,
}

impl std::fmt::Debug for TwitchViewerCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwitchViewerCounts")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
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
    pub fn new(credentials: AppCredentials) -> Result<Self> {
        Self::with_bases(
            credentials,
            TWITCH_API_BASE,
            TWITCH_ID_BASE,
            DEFAULT_PLATFORM_TIMEOUT,
        )
    }

    /// A source on other base URLs (tests, proxies); each call is bounded by `timeout`.
    pub fn with_bases(
        credentials: AppCredentials,
        api_base: &str,
        id_base: &str,
        timeout: Duration,
    ) -> Result<Self> {
        let credentials = super::checked(credentials, "TWITCH")?;
        Ok(Self {
            http: PlatformHttp::new(Platform::Twitch, timeout)?,
            token: AppToken::new(
                format!("{}/oauth2/token", id_base.trim_end_matches('/')),
                credentials.client_id,
                credentials.client_secret,
            ),
            api_base: api_base.trim_end_matches('/').to_owned(),
        })
    }

    /// From `TWITCH_CLIENT_ID` and `TWITCH_CLIENT_SECRET` (both or neither; `None` when
    /// neither is set), with `TWITCH_API_BASE` and `TWITCH_ID_BASE` overriding the URLs.
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let Some((credentials, value)) = env_credentials("TWITCH", &get)? else {
            return Ok(None);
        };
        let api = value("TWITCH_API_BASE").unwrap_or_else(|| TWITCH_API_BASE.into());
        let idp = value("TWITCH_ID_BASE").unwrap_or_else(|| TWITCH_ID_BASE.into());
        Self::with_bases(credentials, &api, &idp, DEFAULT_PLATFORM_TIMEOUT).map(Some)
    }

    /// [`Self::from_env_with`] over the process environment.
    pub fn from_env() -> Result<Option<Self>> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// One Helix page (at most [`PAGE`] logins).
    async fn page(&self, logins: &[String]) -> std::result::Result<Vec<Stream>, PlatformFailure> {
        let mut query: Vec<(&str, &str)> = vec![("first", "100")];
        query.extend(logins.iter().map(|l| ("user_login", l.as_str())));
        let query = serde_urlencoded::to_string(&query).map_err(|_| {
            self.http
                .malformed("the streams request could not be encoded")
        })?;
        let url = format!("{}/helix/streams?{query}", self.api_base);
        let answer: StreamsAnswer = self
            .token
            .get_json(&self.http, &url, true, "{data: [...]} of streams")
            .await?;
        Ok(answer.data)
    }
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
                    channel: c.clone(),
                    live,
                    viewers: stream.filter(|_| live).map(|s| s.viewer_count),
                    started_at: stream.and_then(|s| s.started_at.clone()),
                    thumbnail_url: stream
                        .filter(|_| live)
                        .and_then(|s| super::https_only(s.thumbnail_url.as_deref()))
                        .map(|template| sized(&template)),
                }
            })
            .collect())
    }
}

/// A Helix preview template (`…-{width}x{height}.jpg`) at the size we show.
fn sized(template: &str) -> String {
    template
        .replace("{width}", &super::PREVIEW_WIDTH.to_string())
        .replace("{height}", &super::PREVIEW_HEIGHT.to_string())
}
