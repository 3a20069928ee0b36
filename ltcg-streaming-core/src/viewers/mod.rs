//! Viewer counts from the streaming platforms' own APIs (feature `platforms`).
//!
//! [`ViewerCounts`] is an object-safe async trait (`Arc<dyn ViewerCounts>`), one source per
//! platform, asked for many channels in one batched call. Sources: [`TwitchViewerCounts`]
//! (Helix `streams`, app access token), [`YoutubeViewerCounts`] (Data API `videos`, API key),
//! [`KickViewerCounts`] (public API `channels`, app access token) and [`MemoryViewerCounts`]
//! (set by hand, for tests and demos). Each is configured from the environment (`*_CLIENT_ID`
//! and `*_CLIENT_SECRET`, or `YOUTUBE_API_KEY`; `*_API_BASE` to point elsewhere). A source's failures are [`PlatformFailure`]s, which say whether and when to try
//! again; they never quote a credential or a token.

mod app_token;
pub(crate) mod http;
mod kick;
mod memory;
mod twitch;
mod youtube;

use std::time::Duration;

use async_trait::async_trait;

pub use self::kick::{KickViewerCounts, KICK_API_BASE, KICK_ID_BASE};
pub use self::memory::MemoryViewerCounts;
pub use self::twitch::{AppCredentials, TwitchViewerCounts, TWITCH_API_BASE, TWITCH_ID_BASE};
pub use self::youtube::{YoutubeViewerCounts, YOUTUBE_API_BASE};
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::vault::SecretString;

/// How long one platform call may take before it counts as failed.
pub const DEFAULT_PLATFORM_TIMEOUT: Duration = Duration::from_secs(10);

/// What a platform says about one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelViewers {
    /// The channel exactly as asked for.
    pub channel: String,
    /// Whether the channel is live on the platform.
    pub live: bool,
    /// Current viewers (none when offline or hidden).
    pub viewers: Option<u64>,
    /// When the platform says the broadcast started, as it wrote it (RFC 3339).
    pub started_at: Option<String>,
    /// The platform's preview image of the live channel, [`PREVIEW_WIDTH`] ×
    /// [`PREVIEW_HEIGHT`] where the platform lets us choose; only `https` URLs.
    pub thumbnail_url: Option<String>,
}

/// Width of the platform preview images asked for.
pub const PREVIEW_WIDTH: u32 = 1280;
/// Height of the platform preview images asked for.
pub const PREVIEW_HEIGHT: u32 = 720;

/// `url` if it is an `https` URL without spaces (platform answers are not trusted to be).
fn https_only(url: Option<&str>) -> Option<String> {
    url.filter(|u| u.starts_with("https://") && !u.contains(char::is_whitespace))
        .map(str::to_owned)
}

/// Why a platform call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformFailure {
    /// The platform's rate limit was reached: try again after `retry_after`.
    #[error("{platform} rate limit reached; retry in {retry_after:?}")]
    RateLimited {
        /// The platform.
        platform: Platform,
        /// How long to wait.
        retry_after: Duration,
    },
    /// The platform refused our credentials (after fetching a fresh token once).
    #[error("{platform} refused the configured credentials")]
    Unauthorized {
        /// The platform.
        platform: Platform,
    },
    /// No answer in time, a connection failure or a server error: try again later.
    #[error("{platform} is unavailable: {reason}")]
    Unavailable {
        /// The platform.
        platform: Platform,
        /// What happened (no URL, no credential).
        reason: String,
    },
    /// An answer that is not the documented shape.
    #[error("{platform} sent an unexpected answer: {reason}")]
    Malformed {
        /// The platform.
        platform: Platform,
        /// What was wrong.
        reason: String,
    },
}

/// A source of viewer counts for one platform.
#[async_trait]
pub trait ViewerCounts: Send + Sync + std::fmt::Debug {
    /// The platform this source answers for.
    fn platform(&self) -> Platform;

    /// The state of each of `channels`, in one batched call per platform page. A channel
    /// that is not live comes back with `live: false`; every asked channel is answered once.
    async fn fetch(&self, channels: &[String]) -> Result<Vec<ChannelViewers>, PlatformFailure>;
}

/// Every source the environment configures, read through `get`: Twitch
/// (`TWITCH_CLIENT_ID`/`TWITCH_CLIENT_SECRET`), YouTube (`YOUTUBE_API_KEY`) and Kick
/// (`KICK_CLIENT_ID`/`KICK_CLIENT_SECRET`), each with its `*_API_BASE` override.
pub fn sources_from_env_with(
    get: impl Fn(&str) -> Option<String>,
) -> Result<Vec<std::sync::Arc<dyn ViewerCounts>>> {
    let mut sources: Vec<std::sync::Arc<dyn ViewerCounts>> = Vec::new();
    if let Some(twitch) = TwitchViewerCounts::from_env_with(&get)? {
        sources.push(std::sync::Arc::new(twitch));
    }
    if let Some(youtube) = YoutubeViewerCounts::from_env_with(&get)? {
        sources.push(std::sync::Arc::new(youtube));
    }
    if let Some(kick) = KickViewerCounts::from_env_with(&get)? {
        sources.push(std::sync::Arc::new(kick));
    }
    Ok(sources)
}

/// Checks that an application's credentials are not blank; the error names `<PREFIX>_*`.
fn checked(credentials: AppCredentials, prefix: &str) -> Result<AppCredentials> {
    if credentials.client_id.trim().is_empty()
        || credentials.client_secret.expose_secret().trim().is_empty()
    {
        return Err(Error::Config {
            var: format!("{prefix}_CLIENT_ID, {prefix}_CLIENT_SECRET"),
            problem: format!("the {prefix} client id and secret must not be empty"),
        });
    }
    Ok(credentials)
}

/// Trimmed, non-empty environment values.
type EnvValue<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// `<PREFIX>_CLIENT_ID` and `<PREFIX>_CLIENT_SECRET` from `get`: both (with a reader of
/// further variables), neither (`None`), or a `CONFIG` error naming both.
fn env_credentials<'a>(
    prefix: &str,
    get: &'a dyn Fn(&str) -> Option<String>,
) -> Result<Option<(AppCredentials, EnvValue<'a>)>> {
    let value: EnvValue<'a> = Box::new(move |name: &str| {
        get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    });
    let (id_var, secret_var) = (
        format!("{prefix}_CLIENT_ID"),
        format!("{prefix}_CLIENT_SECRET"),
    );
    match (value(&id_var), value(&secret_var)) {
        (None, None) => Ok(None),
        (Some(client_id), Some(secret)) => Ok(Some((
            AppCredentials {
                client_id,
                client_secret: SecretString::from(secret),
            },
            value,
        ))),
        _ => Err(Error::Config {
            var: format!("{id_var}, {secret_var}"),
            problem: format!("set both {id_var} and {secret_var}, or neither"),
        }),
    }
}
