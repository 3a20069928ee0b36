//! [`YoutubeViewerCounts`]: YouTube Data API v3 `GET /youtube/v3/videos?part=liveStreamingDetails`
//! with an API key, up to 50 video ids per request (1 quota unit each request; 10,000 units a
//! day per project). `concurrentViewers` is a **string**, absent when hidden or ended. A quota
//! error (403 `quotaExceeded`) waits an hour.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde::Deserialize;

use super::http::PlatformHttp;
use super::{ChannelViewers, PlatformFailure, ViewerCounts, DEFAULT_PLATFORM_TIMEOUT};
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::vault::SecretString;

/// The Data API's base URL.
pub const YOUTUBE_API_BASE: &str = "https://www.googleapis.com";
/// Most video ids in one request.
const PAGE: usize = 50;
/// Wait after the daily quota is spent.
const QUOTA_BACKOFF: Duration = Duration::from_secs(3600);

/// Viewer counts of YouTube live broadcasts (by video id).
pub struct YoutubeViewerCounts {
    http: PlatformHttp,
    api_key: SecretString,
    api_base: String,
}

impl std::fmt::Debug for YoutubeViewerCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YoutubeViewerCounts")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct VideosAnswer {
    #[serde(default)]
    items: Vec<Video>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Video {
    id: String,
    #[serde(default)]
    live_streaming_details: Option<Details>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    #[serde(default)]
    actual_start_time: Option<String>,
    #[serde(default)]
    actual_end_time: Option<String>,
    #[serde(default)]
    concurrent_viewers: Option<String>,
}

impl YoutubeViewerCounts {
    /// A source with `api_key`, on Google's own URL.
    pub fn new(api_key: SecretString) -> Result<Self> {
        Self::with_base(api_key, YOUTUBE_API_BASE, DEFAULT_PLATFORM_TIMEOUT)
    }

    /// A source on another base URL (tests, proxies); each call is bounded by `timeout`.
    pub fn with_base(api_key: SecretString, api_base: &str, timeout: Duration) -> Result<Self> {
        if api_key.expose_secret().trim().is_empty() {
            return Err(Error::Config {
                var: "YOUTUBE_API_KEY".into(),
                problem: "the YouTube API key must not be empty".into(),
            });
        }
        Ok(Self {
            http: PlatformHttp::new(Platform::Youtube, timeout)?,
            api_key,
            api_base: api_base.trim_end_matches('/').to_owned(),
        })
    }

    /// From `YOUTUBE_API_KEY` (`None` when unset), with `YOUTUBE_API_BASE` overriding the URL.
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let value = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(key) = value("YOUTUBE_API_KEY") else {
            return Ok(None);
        };
        let base = value("YOUTUBE_API_BASE").unwrap_or_else(|| YOUTUBE_API_BASE.into());
        Self::with_base(SecretString::from(key), &base, DEFAULT_PLATFORM_TIMEOUT).map(Some)
    }

    async fn page(&self, ids: &[String]) -> std::result::Result<Vec<Video>, PlatformFailure> {
        let joined = ids.join(",");
        let query = serde_urlencoded::to_string([
            ("part", "liveStreamingDetails"),
            ("id", joined.as_str()),
        ])
        .map_err(|_| {
            self.http
                .malformed("the videos request could not be encoded")
        })?;
        let url = format!("{}/youtube/v3/videos?{query}", self.api_base);
        // The key goes in Google's header, not the URL, so no URL ever holds it.
        let request = self
            .http
            .client
            .get(&url)
            .header("x-goog-api-key", self.api_key.expose_secret());
        let answer = self.http.send(request).await?;
        if answer.status == StatusCode::FORBIDDEN
            && String::from_utf8_lossy(&answer.body).contains("quotaExceeded")
        {
            return Err(PlatformFailure::RateLimited {
                platform: Platform::Youtube,
                retry_after: QUOTA_BACKOFF,
            });
        }
        self.http.check(&answer)?;
        let videos: VideosAnswer = serde_json::from_slice(&answer.body).map_err(|_| {
            self.http
                .malformed("the videos answer is not {items: [...]}")
        })?;
        Ok(videos.items)
    }
}

#[async_trait]
impl ViewerCounts for YoutubeViewerCounts {
    fn platform(&self) -> Platform {
        Platform::Youtube
    }

    async fn fetch(
        &self,
        channels: &[String],
    ) -> std::result::Result<Vec<ChannelViewers>, PlatformFailure> {
        let mut ids: Vec<String> = channels.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut videos = Vec::new();
        for page in ids.chunks(PAGE) {
            videos.extend(self.page(page).await?);
        }
        channels
            .iter()
            .map(|id| {
                let details = videos
                    .iter()
                    .find(|v| v.id == *id)
                    .and_then(|v| v.live_streaming_details.as_ref());
                let live = details
                    .is_some_and(|d| d.actual_start_time.is_some() && d.actual_end_time.is_none());
                let viewers =
                    match details.and_then(|d| d.concurrent_viewers.as_deref()) {
                        Some(text) if live => Some(text.trim().parse::<u64>().map_err(|_| {
                            self.http.malformed("concurrentViewers is not a number")
                        })?),
                        _ => None,
                    };
                Ok(ChannelViewers {
                    channel: id.clone(),
                    live,
                    viewers,
                    started_at: details.and_then(|d| d.actual_start_time.clone()),
                    thumbnail_url: None,
                })
            })
            .collect()
    }
}
