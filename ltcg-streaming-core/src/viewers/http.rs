//! What every platform source shares: the HTTPS client, status codes to failures, the wait
//! after a 429, and transport errors described without their URL (which may hold a key).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use super::PlatformFailure;
use crate::error::{Error, Result};
use crate::platform::Platform;

/// Wait after a 429 that names no reset time.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(60);

/// An answer: status, headers, body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// The HTTPS client of one platform's source.
#[derive(Clone)]
pub(crate) struct PlatformHttp {
    pub(crate) platform: Platform,
    pub(crate) client: reqwest::Client,
}

impl PlatformHttp {
    /// A client whose every call is bounded by `timeout`.
    pub(crate) fn new(platform: Platform, timeout: Duration) -> Result<Self> {
        let client =
            crate::https_client::https_client(Some(timeout)).map_err(|_| Error::Config {
                var: format!("{}_API_BASE", platform.as_str().to_ascii_uppercase()),
                problem: format!("cannot build the HTTPS client for {platform}"),
            })?;
        Ok(Self { platform, client })
    }

    /// Sends `request` and reads the whole answer.
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> std::result::Result<Answer, PlatformFailure> {
        let answer = request.send().await.map_err(|e| self.unavailable(&e))?;
        let status = answer.status();
        let headers = answer.headers().clone();
        let body = answer
            .bytes()
            .await
            .map_err(|e| self.unavailable(&e))?
            .to_vec();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// A transport failure, described without its URL.
    fn unavailable(&self, err: &reqwest::Error) -> PlatformFailure {
        let reason = if err.is_timeout() {
            "no answer in time"
        } else if err.is_connect() {
            "could not connect"
        } else {
            "the connection failed"
        };
        PlatformFailure::Unavailable {
            platform: self.platform,
            reason: reason.into(),
        }
    }

    /// An answer that is not the documented shape.
    pub(crate) fn malformed(&self, reason: &str) -> PlatformFailure {
        PlatformFailure::Malformed {
            platform: self.platform,
            reason: reason.into(),
        }
    }

    /// A non-success status as its failure: 429 → rate limited (until `Ratelimit-Reset`,
    /// else `Retry-After`, else a minute), 400/401/403 → unauthorized, else unavailable.
    pub(crate) fn check(&self, answer: &Answer) -> std::result::Result<(), PlatformFailure> {
        let platform = self.platform;
        if answer.status.is_success() {
            return Ok(());
        }
        Err(match answer.status {
            StatusCode::TOO_MANY_REQUESTS => PlatformFailure::RateLimited {
                platform,
                retry_after: retry_after(&answer.headers),
            },
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST => {
                PlatformFailure::Unauthorized { platform }
            }
            other => PlatformFailure::Unavailable {
                platform,
                reason: format!("HTTP {}", other.as_u16()),
            },
        })
    }
}

/// The wait a 429 asks for, at least a second.
fn retry_after(headers: &HeaderMap) -> Duration {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let wait = match (number("ratelimit-reset"), number("retry-after")) {
        (Some(reset), _) => Duration::from_secs(reset.saturating_sub(now)),
        (None, Some(secs)) => Duration::from_secs(secs),
        (None, None) => DEFAULT_BACKOFF,
    };
    wait.max(Duration::from_secs(1))
}
