//! Viewer counts from the platforms (feature `platforms`): one pass asks every configured
//! source once, batched, for the channels of the live sessions' active destinations, all
//! platforms at once; a platform that is rate limited or down is skipped until its wait is
//! over and never holds up the others. A session's `viewerCount` is the sum over its
//! destinations that answered; `peakViewerCount` stays the highest count seen; every answer
//! is kept as a [`ViewerSample`]. What the platform says beyond the count feeds the
//! destination: its preview image while live, and a warning when the channel is not live
//! there although the stream has been for a while. Dry runs are not counted.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Actor, PlatformPoll, StreamingService, ViewerPollReport};
use crate::error::Result;
use crate::platform::Platform;
use crate::retake::RetakeViewers;
use crate::session::{Destination, DestinationStatus, SessionStatus, StreamSession, ViewerSample};
use crate::store::SessionQuery;
use crate::viewers::{ChannelViewers, PlatformFailure, ViewerCounts};

/// How long after going live a platform may still say the channel is offline before that
/// becomes a destination warning (platforms take a while to notice a new stream).
const NOT_LIVE_GRACE_MS: i64 = 90_000;
/// How long a platform that failed without saying when to retry is left alone.
const FAILURE_BACKOFF: Duration = Duration::from_secs(30);
/// Default time between two passes of [`StreamingService::spawn_viewer_poller`].
pub const DEFAULT_VIEWER_POLL_INTERVAL: Duration = Duration::from_secs(60);

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
        if viewers.sources.is_empty() && self.inner.retake.is_none() {
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
            for d in counted(s) {
                if let Some(channel) = count_key(d) {
                    let list = wanted.entry(d.platform).or_default();
                    if !list.contains(&channel) {
                        list.push(channel);
                    }
                }
            }
        }
        // Retake counts per access token: a source for this pass over the tokens in use.
        let mut sources = viewers.sources.clone();
        if let (Some(api), Some(ids)) = (&self.inner.retake, wanted.get(&Platform::Retake)) {
            let mut tokens = HashMap::new();
            for s in &sessions {
                for d in counted(s).filter(|d| ids.contains(&d.id)) {
                    if let Some(sealed) = &d.encrypted_access_token {
                        tokens.insert(d.id.clone(), self.inner.vault.decrypt(sealed).await?);
                    }
                }
            }
            sources.push(Arc::new(RetakeViewers::new(api.clone(), tokens)));
        }
        let now = Instant::now();
        let mut report = ViewerPollReport::default();
        let mut asks = Vec::new();
        for source in &sources {
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
        let mut answers: HashMap<(Platform, String), ChannelViewers> = HashMap::new();
        for (platform, asked, answer) in futures::future::join_all(asks).await {
            let (outcome, wait) = match answer {
                Ok(channels) => {
                    for c in channels {
                        answers.insert((platform, c.channel.clone()), c);
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
        let at = self.now();
        let mut samples = Vec::new();
        for s in &sessions {
            // Each active destination the platform answered for, with what it said.
            let answered: Vec<(&Destination, &ChannelViewers)> = counted(s)
                .filter_map(|d| Some((d, answers.get(&(d.platform, count_key(d)?))?)))
                .collect();
            if answered.is_empty() {
                continue;
            }
            // Offline (or a hidden count): no viewers on that destination.
            let total: u64 = answered.iter().map(|(_, c)| c.viewers.unwrap_or(0)).sum();
            samples.extend(answered.iter().map(|(d, c)| ViewerSample {
                session_id: s.id.clone(),
                destination_id: d.id.clone(),
                platform: d.platform,
                at,
                viewers: c.viewers.unwrap_or(0),
            }));
            let settled = s
                .started_at
                .is_some_and(|t| at.saturating_sub(t) >= NOT_LIVE_GRACE_MS);
            let seen: Vec<(String, PlatformSide)> = answered
                .iter()
                .map(|(d, c)| (d.id.clone(), PlatformSide::of(d, c, settled)))
                .collect();
            match self.inner.store.set_viewer_count(&s.id, total).await {
                Ok(_) => {
                    self.session_changed(&s.id);
                    report.updated.push(s.id.clone());
                }
                // Ended meanwhile: nothing to count any more.
                Err(e) if e.code() == crate::error::ErrorCode::Conflict => continue,
                Err(e) => return Err(e),
            }
            if seen.iter().any(|(id, side)| side.differs(s, id)) {
                let applied = self
                    .modify(&s.id, |session| {
                        for (id, side) in &seen {
                            if let Some(d) = session.destinations.iter_mut().find(|d| &d.id == id) {
                                side.apply(d);
                            }
                        }
                        Ok(())
                    })
                    .await;
                if let Err(e) = applied {
                    tracing::warn!(session = %s.id, error = %e, "could not record what the platforms say");
                }
            }
        }
        if !samples.is_empty() {
            self.inner.store.record_viewer_samples(&samples).await?;
        }
        Ok(report)
    }

    /// Runs [`Self::poll_viewer_counts`] every `interval` (±10 %, so replicas spread out)
    /// until the service is dropped; failures are logged. Call it once, within a tokio
    /// runtime; `None` when no source is configured.
    pub fn spawn_viewer_poller(&self, interval: Duration) -> Option<tokio::task::JoinHandle<()>> {
        if self.inner.viewers.sources.is_empty() && self.inner.retake.is_none() {
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

/// The destinations of `session` whose viewers are counted: active ones of a stream people
/// can watch (a dry run has no viewers and is never live on the platform).
fn counted(session: &StreamSession) -> impl Iterator<Item = &Destination> {
    session
        .destinations
        .iter()
        .filter(move |d| !session.dry_run && d.status == DestinationStatus::Active)
}

/// What a destination is counted by: its channel, or for Retake (counted per access token)
/// our destination id.
fn count_key(d: &Destination) -> Option<String> {
    match d.platform {
        Platform::Retake => d.encrypted_access_token.as_ref().map(|_| d.id.clone()),
        _ => d.channel.clone(),
    }
}

/// What a platform says about one destination: a warning, its preview image.
#[derive(Debug, PartialEq, Eq)]
struct PlatformSide {
    warning: Option<String>,
    preview_url: Option<String>,
}

impl PlatformSide {
    /// From the platform's answer; "not live" is a warning only once the stream is
    /// `settled` (live for [`NOT_LIVE_GRACE_MS`]).
    fn of(d: &Destination, c: &ChannelViewers, settled: bool) -> Self {
        Self {
            warning: (!c.live && settled).then(|| match &d.channel {
                Some(channel) => format!(
                    "{} says channel {channel} is not live while the stream is",
                    d.platform
                ),
                None => format!("{} says the stream is not live while it is", d.platform),
            }),
            preview_url: c.thumbnail_url.clone().filter(|_| c.live),
        }
    }

    /// Whether destination `id` of `session` holds something else.
    fn differs(&self, session: &StreamSession, id: &str) -> bool {
        session
            .destinations
            .iter()
            .find(|d| d.id == id)
            .is_some_and(|d| d.warning != self.warning || d.preview_url != self.preview_url)
    }

    fn apply(&self, d: &mut Destination) {
        d.warning.clone_from(&self.warning);
        d.preview_url.clone_from(&self.preview_url);
    }
}
