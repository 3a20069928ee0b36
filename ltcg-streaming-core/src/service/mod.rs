//! [`StreamingService`]: the lifecycle of streams, from a start request to accurate stats.
//!
//! Built from a [`StreamingConfig`], a [`SessionStore`], an [`EgressBackend`] and a
//! [`KeyVault`]. Every call takes an [`Actor`] and enforces these rules: users and agents
//! change, list and configure only their own sessions and credentials; a session's public
//! status is readable by any authenticated caller, or by its owner only with
//! [`StatusReads::Owner`]; stream keys come only from the request or the caller's own stored
//! credentials, ciphertexts are decrypted only for internal callers, and the overlay base
//! URL comes only from configuration.
//!
//! Correctness under retries and races rests on three things: the store's one-active-session
//! insert, compare-and-swap updates (every state change goes through [`crate::transition`]
//! inside a CAS loop), and webhook de-duplication by event id.

mod activity;
mod actor;
mod agent_config;
mod analytics;
mod calls;
mod changes;
pub mod commit;
mod destinations;
mod fleet;
mod game;
mod gauges;
mod limits;
mod matching;
mod overlay;
mod platforms;
mod reach;
mod reconcile;
mod retake;
mod settings;
mod start;
mod stop;
mod types;
#[cfg(feature = "platforms")]
mod viewer_poll;
mod watch;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

pub use self::actor::Actor;
pub use self::agent_config::{AgentStreamingConfig, ConfigureAgentRequest, ConfigureUserRequest};
pub use self::analytics::{
    AnalyticsQuery, AnalyticsReport, AnalyticsRow, FREE_TIER_NOTE, MAX_ANALYTICS_RANGE_MS,
};
pub use self::calls::{ServiceMethod, DEFAULT_RECENT_ACTIVITY, MAX_RECENT_ACTIVITY};
use self::changes::Changes;
pub use self::changes::{Change, ChangeNotice};
pub use self::fleet::{ReplicaOptions, DEFAULT_LEASE_TTL};
pub use self::game::{GameStateUpdated, MatchResultRecorded, MatchResultRequest};
pub use self::limits::RateLimitConfig;
use self::limits::RateLimits;
pub use self::overlay::OverlaySnapshot;
pub use self::reconcile::EVENT_ID_RETENTION_MS;
pub use self::settings::{EncodingSetting, RateLimitOverrides, RateLimitSetting, ServiceSettings};
pub use self::types::*;
#[cfg(feature = "platforms")]
pub use self::viewer_poll::DEFAULT_VIEWER_POLL_INTERVAL;
pub use self::watch::{watch_refresh, StatusWatch, MIN_WATCH_REFRESH, WATCH_REFRESH};
use crate::clock::{Clock, SystemClock};
use crate::config::StreamingConfig;
use crate::destination_policy::DestinationPolicy;
use crate::egress::{EgressBackend, EncodingSettings};
use crate::error::{Error, ErrorCode, Result};
use crate::overlay_url::OverlayUrl;
use crate::session::{
    transition, SessionEvent, SessionId, StreamSession, TimelineEntry, Transition,
};
use crate::store::{SessionQuery, SessionStore};
use crate::token::OverlayTokens;
use crate::vault::KeyVault;
use crate::webhook::WebhookVerifier;

/// How often a compare-and-swap update is retried before giving up.
const MAX_CAS_ATTEMPTS: usize = 32;
/// Most destinations (primary included) one session may stream to.
pub const MAX_DESTINATIONS: usize = 5;

/// Who may read a session's status ([`StreamingService::get_status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum StatusReads {
    /// Any authenticated caller (the product's status route is public). The view holds no
    /// secret and no stream key.
    #[default]
    AnyAuthenticated,
    /// The session's user or agent, and internal callers; for anyone else the session reads
    /// as `NOT_FOUND` (its existence is not revealed).
    Owner,
}

/// Tunables of the service; `Default` gives production settings.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// Time source (injectable for tests).
    pub clock: Arc<dyn Clock>,
    /// Rate limits.
    pub rate_limits: RateLimitConfig,
    /// Egress encoding.
    pub encoding: EncodingSettings,
    /// Longest wait for the egress start call before the start counts as uncertain.
    pub egress_start_timeout: Duration,
    /// Webhook verifier; default from the config's LiveKit credentials.
    pub webhook_verifier: Option<WebhookVerifier>,
    /// Where callers that are not internal may stream to; default: public addresses plus
    /// the config's `destination_allowlist`.
    pub destination_policy: Option<DestinationPolicy>,
    /// Who may read a session's status.
    pub status_reads: StatusReads,
    /// This replica among those sharing the store (its id, the lease time).
    pub replica: ReplicaOptions,
    /// Where viewer counts come from (one source per platform); none by default.
    #[cfg(feature = "platforms")]
    pub viewer_counts: Vec<Arc<dyn crate::viewers::ViewerCounts>>,
    /// Retake.tv's agent API, to resolve `retake` destinations from access tokens, signal
    /// their stop and count their viewers; none by default (a `retake` start then needs a
    /// URL and a key).
    #[cfg(feature = "platforms")]
    pub retake: Option<Arc<crate::retake::RetakeApi>>,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            rate_limits: RateLimitConfig::default(),
            encoding: EncodingSettings::default(),
            egress_start_timeout: Duration::from_secs(30),
            webhook_verifier: None,
            destination_policy: None,
            status_reads: StatusReads::default(),
            replica: ReplicaOptions::default(),
            #[cfg(feature = "platforms")]
            viewer_counts: Vec::new(),
            #[cfg(feature = "platforms")]
            retake: None,
        }
    }
}

struct Inner {
    config: StreamingConfig,
    store: Arc<dyn SessionStore>,
    egress: Arc<dyn EgressBackend>,
    vault: Arc<dyn KeyVault>,
    tokens: OverlayTokens,
    webhooks: Option<WebhookVerifier>,
    clock: Arc<dyn Clock>,
    limits: RateLimits,
    encoding: EncodingSettings,
    egress_start_timeout: Duration,
    destinations: DestinationPolicy,
    status_reads: StatusReads,
    replica: ReplicaOptions,
    changes: Changes,
    #[cfg(feature = "platforms")]
    viewers: viewer_poll::ViewerSources,
    #[cfg(feature = "platforms")]
    retake: Option<Arc<crate::retake::RetakeApi>>,
}

/// The streaming service. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct StreamingService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for StreamingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingService")
            .field("app_url", &self.inner.config.app_url)
            .field("store", &self.inner.store)
            .field("egress", &self.inner.egress)
            .finish_non_exhaustive()
    }
}

impl StreamingService {
    /// A service with default options.
    pub fn new(
        config: StreamingConfig,
        store: Arc<dyn SessionStore>,
        egress: Arc<dyn EgressBackend>,
        vault: Arc<dyn KeyVault>,
    ) -> Result<Self> {
        Self::with_options(config, store, egress, vault, ServiceOptions::default())
    }

    /// A service with explicit options.
    pub fn with_options(
        config: StreamingConfig,
        store: Arc<dyn SessionStore>,
        egress: Arc<dyn EgressBackend>,
        vault: Arc<dyn KeyVault>,
        options: ServiceOptions,
    ) -> Result<Self> {
        options.encoding.validate()?;
        let tokens = config.overlay_tokens()?.with_clock(options.clock.clone());
        let webhooks = match options.webhook_verifier {
            Some(v) => Some(v),
            None => config.webhook_verifier().transpose()?,
        }
        .map(|v| v.with_clock(options.clock.clone()));
        let destinations = match options.destination_policy {
            Some(policy) => policy,
            None => config.destination_policy()?,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                store: Arc::new(crate::store::MeteredStore::new(store)),
                egress,
                vault,
                tokens,
                webhooks,
                clock: options.clock,
                limits: RateLimits::new(options.rate_limits),
                encoding: options.encoding,
                egress_start_timeout: options.egress_start_timeout,
                destinations,
                status_reads: options.status_reads,
                replica: options.replica,
                changes: Changes::new(),
                #[cfg(feature = "platforms")]
                viewers: viewer_poll::ViewerSources {
                    sources: options.viewer_counts,
                    not_before: Default::default(),
                },
                #[cfg(feature = "platforms")]
                retake: options.retake,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &StreamingConfig {
        &self.inner.config
    }

    /// The session store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.inner.store
    }

    /// The overlay token issuer/verifier.
    pub fn overlay_tokens(&self) -> &OverlayTokens {
        &self.inner.tokens
    }

    fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// The service clock's time, Unix ms.
    pub fn clock_now(&self) -> i64 {
        self.now()
    }

    /// The public view of `session` now, by the service's clock.
    fn view(&self, session: &StreamSession) -> SessionStatusView {
        SessionStatusView::of(session, self.now())
    }

    /// Reads a session or fails with `NOT_FOUND`.
    async fn load(&self, id: &SessionId) -> Result<StreamSession> {
        self.inner
            .store
            .get_session(id)
            .await?
            .ok_or_else(|| Error::not_found("session"))
    }

    /// Applies a lifecycle event with compare-and-swap retries, then stops any egress the
    /// transition says must stop.
    async fn apply(
        &self,
        id: &SessionId,
        event: &SessionEvent,
        at_ms: Option<i64>,
    ) -> Result<Transition> {
        let current = self.load(id).await?;
        self.apply_to(current, event, at_ms).await
    }

    /// [`Self::apply`] starting from `snapshot`, a copy read earlier, which saves a read.
    /// A stale copy costs nothing in correctness: its write fails the compare-and-swap and
    /// the event is re-applied to a fresh read. A no-op decision on a live copy is only
    /// trusted after a fresh read (terminal copies are final).
    async fn apply_to(
        &self,
        snapshot: StreamSession,
        event: &SessionEvent,
        at_ms: Option<i64>,
    ) -> Result<Transition> {
        let id = snapshot.id.clone();
        let mut snapshot = Some(snapshot);
        let mut outcome = None;
        for _ in 0..MAX_CAS_ATTEMPTS {
            let (current, trusted) = match snapshot.take() {
                Some(copy) => {
                    let final_state = copy.status.is_terminal();
                    (copy, final_state)
                }
                None => (self.load(&id).await?, true),
            };
            let at = at_ms.unwrap_or_else(|| self.now());
            let mut t = transition(&current, event, at);
            if t.changed {
                // On the timeline with the change, before anyone is told, so that whoever
                // reads it on the notice finds the change there.
                let entry = TimelineEntry::of_event(&id, at, event, t.session.status);
                match self
                    .inner
                    .store
                    .update_session_noting(&t.session, &[entry])
                    .await
                {
                    Ok(saved) => {
                        // Written: the egress stop that follows is not abandoned.
                        commit::mark_committed();
                        t.session = saved;
                    }
                    Err(e) if e.code() == ErrorCode::Conflict => continue,
                    Err(e) => return Err(e),
                }
            } else if !trusted {
                continue;
            }
            outcome = Some((current.status, t));
            break;
        }
        let (before, t) =
            outcome.ok_or_else(|| Error::conflict("session changed too often; try again"))?;
        if t.changed {
            crate::telemetry::session_changed(before, &t.session);
            self.session_changed(&id);
        }
        if let Some(egress_id) = &t.stop_egress {
            self.stop_egress_quietly(egress_id).await;
        }
        if t.changed && t.session.status.is_terminal() {
            self.signal_retake_stopped(&t.session).await;
        }
        if t.changed {
            tracing::info!(session = %id, status = %t.session.status, ?event, "session transition");
        }
        Ok(t)
    }

    /// Appends to sessions' timelines. The change it records is already written: a failure
    /// is logged, not raised.
    async fn note(&self, entries: Vec<TimelineEntry>) {
        if entries.is_empty() {
            return;
        }
        if let Err(e) = self.inner.store.append_timeline(&entries).await {
            tracing::warn!(session = %entries[0].session_id, error = %e, "could not append to the session timeline");
        }
    }

    /// Applies a non-lifecycle edit (`edit` may refuse) with compare-and-swap retries.
    async fn modify(
        &self,
        id: &SessionId,
        mut edit: impl FnMut(&mut StreamSession) -> Result<()>,
    ) -> Result<StreamSession> {
        for _ in 0..MAX_CAS_ATTEMPTS {
            let mut session = self.load(id).await?;
            edit(&mut session)?;
            session.updated_at = session.updated_at.max(self.now());
            match self.inner.store.update_session(&session).await {
                Ok(saved) => {
                    self.session_changed(&saved.id);
                    return Ok(saved);
                }
                Err(e) if e.code() == ErrorCode::Conflict => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::conflict("session changed too often; try again"))
    }

    /// Stops an egress; failures are logged (the reconciler stops orphans later).
    async fn stop_egress_quietly(&self, egress_id: &str) {
        if let Err(e) = self.inner.egress.stop(egress_id).await {
            tracing::warn!(egress = egress_id, error = %e, "could not stop egress; the reconciler will retry");
        }
    }

    /// The overlay page URL of a session, with a fresh access token.
    fn overlay_url_for(&self, session: &StreamSession) -> Result<OverlayUrl> {
        let token = self.inner.tokens.issue(
            session.id.as_str(),
            session.entity.stream_type,
            &session.entity.entity_id,
        )?;
        Ok(OverlayUrl::new(
            &self.inner.config.app_url,
            &session.id,
            &token,
        ))
    }

    /// The overlay page URL of a session with a fresh token, for its owner or internal
    /// callers.
    pub async fn overlay_url(&self, actor: &Actor, session_id: &SessionId) -> Result<String> {
        self.inner.limits.call(actor)?;
        let session = self.load(session_id).await?;
        actor.authorize(&session)?;
        self.overlay_url_for(&session).map(OverlayUrl::into_string)
    }

    /// Every session matching `query`, across all pages.
    async fn all_sessions(&self, mut query: SessionQuery) -> Result<Vec<StreamSession>> {
        let mut out = Vec::new();
        query.limit = crate::store::MAX_PAGE_SIZE;
        loop {
            let page = self.inner.store.list_sessions(&query).await?;
            out.extend(page.sessions);
            match page.next_cursor {
                Some(c) => query.cursor = Some(c),
                None => return Ok(out),
            }
        }
    }
}

/// Prefixes the field of an `INVALID_INPUT` error (e.g. `destinations[1].streamKey`).
fn within(prefix: &str, err: Error) -> Error {
    match err {
        Error::InvalidInput { field, reason } => Error::InvalidInput {
            field: format!("{prefix}.{field}"),
            reason,
        },
        other => other,
    }
}
