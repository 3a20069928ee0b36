//! The reconciler: makes the store and the egress backend agree again after lost
//! webhooks, crashes, timeouts and ambiguous starts. Run it periodically (every minute).

use std::collections::HashMap;

use super::fleet::{render_lease, RECONCILER_LEASE};
use super::{Actor, ReconcileReport, StreamingService};
use crate::egress::EgressSummary;
use crate::error::Result;
use crate::session::{SessionEvent, SessionId, SessionStatus, StreamSession};
use crate::store::SessionQuery;

/// A session whose egress is missing from a listing is declared lost only when it has not
/// changed for this long (the listing may predate its egress).
const VANISH_GRACE_MS: i64 = 60_000;
/// How long a claimed webhook event id is remembered (LiveKit retries a delivery for minutes,
/// not days); older ids are pruned by [`StreamingService::reconcile`].
pub const EVENT_ID_RETENTION_MS: i64 = 24 * 60 * 60 * 1_000;

impl StreamingService {
    /// [`Self::reconcile`], answered in the product's cleanup shape.
    pub async fn cleanup(&self, actor: &Actor) -> Result<super::CleanupSummary> {
        self.reconcile(actor).await.map(super::CleanupSummary::from)
    }

    /// One reconciliation pass (internal callers only):
    /// 1. every active egress rendering one of our overlay pages is matched to its session:
    ///    an egress with no active session is stopped, a second egress of a session is
    ///    stopped, an egress whose start call was uncertain is adopted, and a missed status
    ///    change is applied;
    /// 2. sessions stuck starting past the start timeout become `error` (egress stopped);
    /// 3. live sessions past the maximum duration end (egress stopped);
    /// 4. sessions whose egress no longer exists end (see below);
    /// 5. webhook event ids claimed more than [`EVENT_ID_RETENTION_MS`] ago are forgotten.
    ///
    /// Egresses that do not render our overlay are never touched.
    ///
    /// Replicas sharing a store may all run it: a pass holds the store's `reconciler` lease,
    /// and a replica whose pass finds it held by another does only step 1, and only for a
    /// backend that renders locally (its renders are listed by it alone);
    /// [`ReconcileReport::lease_held_by`] then names the holder. Every change is a
    /// compare-and-swap, so an egress is stopped and a session ended once even across
    /// replicas.
    ///
    /// When an egress has vanished: with a backend whose listing covers every egress
    /// (LiveKit), after a minute without change, or at once when the backend knows it runs
    /// nowhere ([`crate::egress::EgressBackend::is_gone`]); with a local backend, once its
    /// render lease is no longer renewed by the replica that ran it (that replica died or
    /// lost the render), which takes at most [`crate::ReplicaOptions::lease_ttl`].
    #[tracing::instrument(name = "reconcile", skip_all, fields(replica = %self.replica_id()))]
    pub async fn reconcile(&self, actor: &Actor) -> Result<ReconcileReport> {
        actor.require_internal()?;
        let mut report = ReconcileReport::default();
        let local = self.inner.egress.runs_locally();
        let lease = self.claim(RECONCILER_LEASE).await?;
        let leading = self.holds(&lease);
        tracing::debug!(leading, holder = %lease.holder, "reconciler pass");
        if !leading {
            report.lease_held_by = Some(lease.holder);
        }
        let listed_at = self.now();
        let mut live_egress: HashMap<String, EgressSummary> = HashMap::new();
        if leading || local {
            for egress in self.inner.egress.list_active().await? {
                let ours = egress
                    .web_url
                    .as_deref()
                    .is_some_and(|u| self.is_our_overlay(u));
                if !ours {
                    continue;
                }
                if let Err(e) = self.reconcile_egress(&egress, &mut report).await {
                    report
                        .errors
                        .push(format!("egress {}: {e}", egress.egress_id));
                }
                live_egress.insert(egress.egress_id.clone(), egress);
            }
        }
        if local {
            let collected = self.inner.egress.collect_dead_renders().await;
            if collected > 0 {
                tracing::info!(collected, "cleaned up renders of replicas that died");
            }
        }
        if leading {
            self.reconcile_sessions(&live_egress, listed_at, &mut report)
                .await;
            if let Err(e) = self
                .inner
                .store
                .release_lease(RECONCILER_LEASE, self.replica_id())
                .await
            {
                report
                    .errors
                    .push(format!("releasing the reconciler lease: {e}"));
            }
        }
        if !report.stopped_egresses.is_empty() || !report.errors.is_empty() {
            tracing::info!(?report, "reconciled");
        }
        crate::telemetry::reconciled(&report);
        Ok(report)
    }

    /// Steps 2 to 5 of [`Self::reconcile`], under the reconciler lease.
    async fn reconcile_sessions(
        &self,
        live_egress: &HashMap<String, EgressSummary>,
        listed_at: i64,
        report: &mut ReconcileReport,
    ) {
        let active = self
            .all_sessions(SessionQuery {
                active_only: true,
                ..SessionQuery::default()
            })
            .await;
        match active {
            Ok(active) => {
                for session in active {
                    if let Err(e) = self
                        .reconcile_session(&session, live_egress, listed_at, report)
                        .await
                    {
                        report.errors.push(format!("session {}: {e}", session.id));
                    }
                }
            }
            Err(e) => report.errors.push(format!("listing active sessions: {e}")),
        }
        match self
            .inner
            .store
            .prune_events(listed_at.saturating_sub(EVENT_ID_RETENTION_MS))
            .await
        {
            Ok(0) => {}
            Ok(pruned) => tracing::debug!(pruned, "forgot old webhook event ids"),
            Err(e) => report
                .errors
                .push(format!("pruning webhook event ids: {e}")),
        }
    }

    /// Whether an egress missing from this replica's listing has vanished (the session last
    /// changed `quiet` ms before the listing).
    async fn has_vanished(&self, egress_id: &str, quiet: i64) -> Result<bool> {
        if quiet <= 0 {
            return Ok(false);
        }
        if self.inner.egress.runs_locally() {
            // Another replica renders it while it renews the lease; taking the lease means
            // nobody does.
            let lease = self.claim(&render_lease(egress_id)).await?;
            return Ok(self.holds(&lease));
        }
        Ok(quiet > VANISH_GRACE_MS || self.inner.egress.is_gone(egress_id).await)
    }

    async fn reconcile_egress(
        &self,
        egress: &EgressSummary,
        report: &mut ReconcileReport,
    ) -> Result<()> {
        let session = self
            .session_for_egress(&egress.egress_id, egress.web_url.as_deref())
            .await?;
        let Some(session) = session.filter(|s| s.status.is_active()) else {
            self.stop_orphan(&egress.egress_id, report).await;
            return Ok(());
        };
        if session
            .egress_id
            .as_deref()
            .is_some_and(|own| own != egress.egress_id)
        {
            self.stop_orphan(&egress.egress_id, report).await;
            return Ok(());
        }
        let adopting = session.egress_id.is_none();
        let event = SessionEvent::Egress {
            egress_id: egress.egress_id.clone(),
            status: egress.status,
            error: None,
        };
        let at = (egress.started_at_ns > 0).then_some(egress.started_at_ns / 1_000_000);
        let t = self.apply(&session.id, &event, at).await?;
        if t.changed {
            if adopting {
                report.adopted.push(session.id.clone());
            } else {
                report.caught_up.push(session.id.clone());
            }
        }
        if let Some(stopped) = t.stop_egress {
            report.stopped_egresses.push(stopped);
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", name = "reconcile_session", skip_all, fields(session_id = %session.id))]
    async fn reconcile_session(
        &self,
        session: &StreamSession,
        live_egress: &HashMap<String, EgressSummary>,
        listed_at: i64,
        report: &mut ReconcileReport,
    ) -> Result<()> {
        let now = self.now();
        let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let start_timeout = ms(self.inner.config.start_timeout);
        let max_duration = ms(self.inner.config.max_duration);
        // Missing from the listing: see `has_vanished`.
        let vanished = match &session.egress_id {
            Some(id)
                if matches!(session.status, SessionStatus::Pending | SessionStatus::Live)
                    && !live_egress.contains_key(id) =>
            {
                self.has_vanished(id, listed_at.saturating_sub(session.updated_at))
                    .await?
            }
            _ => false,
        };
        let bucket: &mut Vec<SessionId>;
        let event = match session.status {
            SessionStatus::Initializing | SessionStatus::Pending
                if now.saturating_sub(session.created_at) > start_timeout =>
            {
                bucket = &mut report.timed_out;
                SessionEvent::StartTimedOut
            }
            SessionStatus::Live
                if session
                    .started_at
                    .is_some_and(|s| now.saturating_sub(s) >= max_duration) =>
            {
                bucket = &mut report.max_duration_ended;
                SessionEvent::MaxDurationReached
            }
            SessionStatus::Pending | SessionStatus::Live if vanished => {
                bucket = &mut report.vanished;
                SessionEvent::EgressVanished
            }
            _ => return Ok(()),
        };
        let t = self.apply(&session.id, &event, None).await?;
        if t.changed {
            bucket.push(session.id.clone());
        }
        if let Some(stopped) = t.stop_egress {
            report.stopped_egresses.push(stopped);
        }
        Ok(())
    }

    async fn stop_orphan(&self, egress_id: &str, report: &mut ReconcileReport) {
        match self.inner.egress.stop(egress_id).await {
            Ok(()) => report.stopped_egresses.push(egress_id.to_owned()),
            Err(e) => report.errors.push(format!("stop {egress_id}: {e}")),
        }
    }
}
