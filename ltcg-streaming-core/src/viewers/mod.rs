//! Viewer counts from the streaming platforms' own APIs (feature `platforms`).
//!
//! [`ViewerCounts`] is an object-safe async trait (`Arc<dyn ViewerCounts>`), one source per
//! platform, asked for many channels in one batched call. Sources: [`TwitchViewerCounts`]
//! (Helix `streams`, app access token) and [`MemoryViewerCounts`] (set by hand, for tests and
//! demos). A source's failures are [`PlatformFailure`]s, which say whether and when to try
//! again; they never quote a credential or a token.

mod memory;
mod twitch;

use std::time::Duration;

use async_trait::async_trait;

pub use self::memory::MemoryViewerCounts;
pub use self::twitch::{TwitchCredentials, TwitchViewerCounts, TWITCH_API_BASE, TWITCH_ID_BASE};
use crate::platform::Platform;

/// How long one platform call may take before it counts as failed.
pub const DEFAULT_PLATFORM_TIMEOUT: Duration = Duration::from_secs(10);

/// What a platform says about one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelViewers {
    /// The channel as asked for (Twitch login, lower-cased).
    pub channel: String,
    /// Whether the channel is live on the platform.
    pub live: bool,
    /// Current viewers (none when offline or hidden).
    pub viewers: Option<u64>,
    /// When the platform says the broadcast started, as it wrote it (RFC 3339).
    pub started_at: Option<String>,
    /// The platform's preview image URL template, if any (Twitch: `{width}x{height}`).
    pub thumbnail_url: Option<String>,
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
