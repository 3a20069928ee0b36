//! Viewer counts from the platforms (feature `platforms`): one pass asks every configured
//! source once, batched, for the channels of the live sessions' active destinations, all
//! platforms at once; a platform that is rate limited or down is skipped until its wait is
//! over and never holds up the others. A session's `viewerCount` is the sum over its
//! destinations that answered; `peakViewerCount` stays the highest count seen.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Actor, StreamingService};
use crate::error::Result;
use crate::platform::Platform;
use crate::session::{DestinationStatus, SessionId, SessionStatus};
use crate::store::SessionQuery;
use crate::viewers::{PlatformFailure, ViewerCounts};

/// How long a platform that failed without saying when to retry is left alone.
const FAILURE_BACKOFF: Duration = Duration::from_secs(30);
/// Default time between two passes of [`StreamingService::spawn_viewer_poller`].
pub const DEFAULT_VIEWER_POLL_INTERVAL: Duration = Duration::from_secs(60);

/// What one platform did in a pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformPoll {
    /// The platform.
    pub platform: Platform,
    /// Channels asked for.
    pub channels: usize,
    /// `ok`, `skipped` (still waiting after a failure), `rate_limited`, `unauthorized`,
    /// `unavailable` or `malformed`.
    pub outcome: String,
    /// When a failure asked to wait: how long, ms.
    pub retry_after_ms: Option<u64>,
}

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ViewerPollReport {
    /// Sessions whose viewer count was set.
    pub updated: Vec<SessionId>,
    /// Each configured platform that had channels to ask for.
    pub platforms: Vec<PlatformPoll>,
}

/// The sources and when each platform may be asked again.
#[derive(Debug, Default)]
pub(super) struct ViewerSources {
    pub(super) sources: Vec<Arc<dyn ViewerCounts>>,
    pub(super) not_before: std::sync::Mutex<HashMap<Platform, Instant>>,
}

impl StreamingService {
    /// One pass of viewer counts (internal callers): see the module docs. Host apps that
    /// schedule work themselves (a cron) call this; others use
    /// [`Self::spawn_viewer_poller`].
    pub async fn poll_viewer_counts(&self, actor: &Actor) -> Result<ViewerPollReport> {
        actor.require_internal()?;
        let viewers = &self.inner.viewers;
        if viewers.sources.is_empty() {
            return Ok(ViewerPollReport::default());
        }
        let sessions = self
            .all_sessions(SessionQuery {
                status: Some(SessionStatus::Live),
                ..SessionQuery::default()
            })
            .await?;
        let mut wanted: BTreeMap<Platform, Vec<String>> = BTreeMap::new();
        for s in &sessions {
            for d in s
                .destinations
                .iter()
                .filter(|d| d.status == DestinationStatus::Active)
            {
                if let Some(channel) = &d.channel {
                    let list = wanted.entry(d.platform).or_default();
                    if !list.contains(channel) {
                        list.push(channel.clone());
                    }
                }
            }
        }
        let now = Instant::now();
        let mut report = ViewerPollReport::default();
        let mut asks = Vec::new();
        for source in &viewers.sources {
            let platform = source.platform();
            let Some(channels) = wanted.get(&platform) else {
                continue;
            };
            let waiting = viewers
                .not_before
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&platform)
                .is_some_and(|t| *t > now);
            if waiting {
                report.platforms.push(PlatformPoll {
                    platform,
                    channels: channels.len(),
                    outcome: "skipped".into(),
                    retry_after_ms: None,
                });
                continue;
            }
            let source = source.clone();
            let channels = channels.clone();
            asks.push(async move {
                let answer = source.fetch(&channels).await;
                (platform, channels.len(), answer)
            });
        }
        let mut counts: HashMap<(Platform, String), u64> = HashMap::new();
        for (platform, asked, answer) in futures::future::join_all(asks).await {
            let (outcome, wait) = match answer {
                Ok(channels) => {
                    // Offline (or a hidden count): no viewers on that destination.
                    for c in channels {
                        counts.insert((platform, c.channel), c.viewers.unwrap_or(0));
                    }
                    ("ok", None)
                }
                Err(PlatformFailure::RateLimited { retry_after, .. }) => {
                    ("rate_limited", Some(retry_after))
                }
                Err(PlatformFailure::Unauthorized { .. }) => {
                    ("unauthorized", Some(FAILURE_BACKOFF))
                }
                Err(PlatformFailure::Unavailable { .. }) => ("unavailable", Some(FAILURE_BACKOFF)),
                Err(PlatformFailure::Malformed { .. }) => ("malformed", Some(FAILURE_BACKOFF)),
            };
            if let Some(wait) = wait {
                tracing::warn!(%platform, outcome, wait_ms = wait.as_millis() as u64, "viewer counts unavailable");
                viewers
                    .not_before
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(platform, Instant::now() + wait);
            }
            report.platforms.push(PlatformPoll {
                platform,
                channels: asked,
                outcome: outcome.into(),
                retry_after_ms: wait.map(|w| u64::try_from(w.as_millis()).unwrap_or(u64::MAX)),
            });
        }
        for s in &sessions {
            let mut total = None;
            for d in s
                .destinations
                .iter()
                .filter(|d| d.status == DestinationStatus::Active)
            {
                if let Some(n) = d
                    .channel
                    .as_ref()
                    .and_then(|c| counts.get(&(d.platform, c.clone())))
                {
                    total = Some(total.unwrap_or(0) + n);
                }
            }
            let Some(total) = total else { continue };
            match self.inner.store.set_viewer_count(&s.id, total).await {
                Ok(_) => {
                    self.session_changed(&s.id);
                    report.updated.push(s.id.clone());
                }
                // Ended meanwhile: nothing to count any more.
                Err(e) if e.code() == crate::error::ErrorCode::Conflict => {}
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    /// Runs [`Self::poll_viewer_counts`] every `interval` (±10 %, so replicas spread out)
    /// until the service is dropped; failures are logged. Call it once, within a tokio
    /// runtime; `None` when no source is configured.
    pub fn spawn_viewer_poller(&self, interval: Duration) -> Option<tokio::task::JoinHandle<()>> {
        if self.inner.viewers.sources.is_empty() {
            return None;
        }
        let weak = Arc::downgrade(&self.inner);
        Some(tokio::spawn(async move {
            loop {
                let jitter = rand_jitter(interval);
                tokio::time::sleep(jitter).await;
                let Some(inner) = weak.upgrade() else { return };
                let service = StreamingService { inner };
                if let Err(e) = service.poll_viewer_counts(&Actor::Internal).await {
                    tracing::warn!(error = %e, "viewer count pass failed");
                }
            }
        }))
    }
}

/// `interval` ± 10 %.
fn rand_jitter(interval: Duration) -> Duration {
    use aes_gcm::aead::rand_core::RngCore;
    let spread = interval.as_millis() as u64 / 10;
    if spread == 0 {
        return interval;
    }
    let offset = aes_gcm::aead::OsRng.next_u64() % (2 * spread);
    interval + Duration::from_millis(offset) - Duration::from_millis(spread)
}
