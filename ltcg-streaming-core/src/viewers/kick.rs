//! [`KickViewerCounts`]: Kick's public API `GET /public/v1/channels?slug=…` with an app
//! access token (`POST <id>/oauth/token`, client credentials). Kick documents no rate-limit
//! headers: a 429 backs off (by `Retry-After` when sent, else a minute).

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::app_token::AppToken;
use super::http::PlatformHttp;
use super::{
    env_credentials, AppCredentials, ChannelViewers, PlatformFailure, ViewerCounts,
    DEFAULT_PLATFORM_TIMEOUT,
};
use crate::error::Result;
use crate::platform::Platform;

/// Kick's public API base URL.
pub const KICK_API_BASE: &str = "https://api.kick.com";
/// Kick's OAuth base URL.
pub const KICK_ID_BASE: &str = "https://id.kick.com";
/// Most slugs in one request.
const PAGE: usize = 50;

/// Viewer counts of Kick channels (by slug).
pub struct KickViewerCounts {
    http: PlatformHttp,
    token: AppToken,
    api_base: String,
}

impl std::fmt::Debug for KickViewerCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KickViewerCounts")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct ChannelsAnswer {
    data: Vec<Channel>,
}

#[derive(Deserialize)]
struct Channel {
    slug: String,
    #[serde(default)]
    stream: Option<ChannelStream>,
}

#[derive(Deserialize)]
struct ChannelStream {
    #[serde(default)]
    is_live: bool,
    #[serde(default)]
    viewer_count: Option<u64>,
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    thumbnail: Option<String>,
}

impl KickViewerCounts {
    /// A source with `credentials`, on Kick's own URLs.
    pub fn new(credentials: AppCredentials) -> Result<Self> {
        Self::with_bases(
            credentials,
            KICK_API_BASE,
            KICK_ID_BASE,
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
        let credentials = super::checked(credentials, "KICK")?;
        Ok(Self {
            http: PlatformHttp::new(Platform::Kick, timeout)?,
            token: AppToken::new(
                format!("{}/oauth/token", id_base.trim_end_matches('/')),
                credentials.client_id,
                credentials.client_secret,
            ),
            api_base: api_base.trim_end_matches('/').to_owned(),
        })
    }

    /// From `KICK_CLIENT_ID` and `KICK_CLIENT_SECRET` (both or neither), with
    /// `KICK_API_BASE` and `KICK_ID_BASE` overriding the URLs.
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let Some((credentials, value)) = env_credentials("KICK", &get)? else {
            return Ok(None);
        };
        let api = value("KICK_API_BASE").unwrap_or_else(|| KICK_API_BASE.into());
        let idp = value("KICK_ID_BASE").unwrap_or_else(|| KICK_ID_BASE.into());
        Self::with_bases(credentials, &api, &idp, DEFAULT_PLATFORM_TIMEOUT).map(Some)
    }

    async fn page(&self, slugs: &[String]) -> std::result::Result<Vec<Channel>, PlatformFailure> {
        let query: Vec<(&str, &str)> = slugs.iter().map(|s| ("slug", s.as_str())).collect();
        let query = serde_urlencoded::to_string(&query).map_err(|_| {
            self.http
                .malformed("the channels request could not be encoded")
        })?;
        let url = format!("{}/public/v1/channels?{query}", self.api_base);
        let answer: ChannelsAnswer = self
            .token
            .get_json(&self.http, &url, false, "{data: [...]} of channels")
            .await?;
        Ok(answer.data)
    }
}

#[async_trait]
impl ViewerCounts for KickViewerCounts {
    fn platform(&self) -> Platform {
        Platform::Kick
    }

    async fn fetch(
        &self,
        channels: &[String],
    ) -> std::result::Result<Vec<ChannelViewers>, PlatformFailure> {
        let mut slugs: Vec<String> = channels.iter().map(|c| c.to_ascii_lowercase()).collect();
        slugs.sort_unstable();
        slugs.dedup();
        let mut found = Vec::new();
        for page in slugs.chunks(PAGE) {
            found.extend(self.page(page).await?);
        }
        Ok(channels
            .iter()
            .map(|c| {
                let slug = c.to_ascii_lowercase();
                let stream = found
                    .iter()
                    .find(|ch| ch.slug.eq_ignore_ascii_case(&slug))
                    .and_then(|ch| ch.stream.as_ref());
                let live = stream.is_some_and(|s| s.is_live);
                ChannelViewers {
                    channel: c.clone(),
                    live,
                    viewers: stream.filter(|_| live).and_then(|s| s.viewer_count),
                    started_at: stream.and_then(|s| s.start_time.clone()),
                    thumbnail_url: stream
                        .filter(|_| live)
                        .and_then(|s| super::https_only(s.thumbnail.as_deref())),
                }
            })
            .collect())
    }
}
