//! Several replicas on one store: who this replica is, and the leases that decide who does
//! shared work. The reconciler's pass takes the lease `reconciler`; a render made by a local
//! backend (Chromium or ffmpeg on this machine) is kept alive by the lease `render:<egress
//! id>`, renewed by the replica that runs it. When a replica dies its render leases lapse,
//! and another replica's reconciler ends those sessions (`egress_lost`).

use std::collections::HashSet;
use std::time::Duration;

use super::StreamingService;
use crate::error::Result;
use crate::store::Lease;

/// The lease one reconciler pass at a time holds.
pub(crate) const RECONCILER_LEASE: &str = "reconciler";

/// Default [`ReplicaOptions::lease_ttl`].
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);

/// Who this replica is among those sharing a store.
#[derive(Debug, Clone)]
pub struct ReplicaOptions {
    /// This replica's id, unique among the replicas sharing the store. Default: random per
    /// process. Give a replica that restarts in place (same machine, same port) a stable id
    /// so that it reclaims its renders' leases at once after a crash instead of waiting for
    /// them to lapse.
    pub id: String,
    /// How long a lease lasts unless renewed; leases are renewed every third of it. A dead
    /// replica's local streams are ended by another one within about this time.
    pub lease_ttl: Duration,
}

impl Default for ReplicaOptions {
    fn default() -> Self {
        Self {
            id: crate::session::random_id("replica_"),
            lease_ttl: DEFAULT_LEASE_TTL,
        }
    }
}

/// The lease name of a local render.
pub(crate) fn render_lease(egress_id: &str) -> String {
    format!("render:{egress_id}")
}

impl StreamingService {
    /// This replica's id ([`ReplicaOptions::id`]).
    pub fn replica_id(&self) -> &str {
        &self.inner.replica.id
    }

    pub(crate) fn lease_ttl_ms(&self) -> i64 {
        i64::try_from(self.inner.replica.lease_ttl.as_millis())
            .unwrap_or(i64::MAX)
            .max(1)
    }

    /// Claims (or renews) a lease for this replica; the lease as stored afterwards.
    pub(crate) async fn claim(&self, name: &str) -> Result<Lease> {
        self.inner
            .store
            .claim_lease(name, self.replica_id(), self.now(), self.lease_ttl_ms())
            .await
    }

    /// Whether this replica holds `lease`.
    pub(crate) fn holds(&self, lease: &Lease) -> bool {
        lease.holder == self.replica_id()
    }

    /// Claims the render lease of an egress this replica's local backend runs (nothing for
    /// backends whose egresses run elsewhere); `true` when it holds it.
    pub(crate) async fn claim_render(&self, egress_id: &str) -> bool {
        if !self.inner.egress.runs_locally() {
            return true;
        }
        match self.claim(&render_lease(egress_id)).await {
            Ok(lease) => self.holds(&lease),
            Err(e) => {
                tracing::warn!(egress = %egress_id, error = %e, "could not claim a render lease");
                true
            }
        }
    }

    /// Claims the render lease of the egress a local event is about while it starts or
    /// runs, before the event can give a session its egress id.
    pub(crate) async fn claim_running_render(&self, event: &crate::webhook::EgressEvent) {
        use crate::session::EgressStatus;
        let running = matches!(
            event.status,
            None | Some(EgressStatus::Starting | EgressStatus::Active)
        );
        if let (true, Some(egress_id)) = (running, &event.egress_id) {
            self.claim_render(egress_id).await;
        }
    }

    /// One round of the render lease keeper: renews the lease of every render running here,
    /// stops a render whose lease another replica took (that replica ended its session), and
    /// releases the leases of renders that ended. `kept` carries the renewed ids from one
    /// round to the next.
    pub(crate) async fn keep_render_leases(&self, kept: &mut HashSet<String>) {
        let listed = match self.inner.egress.list_active().await {
            Ok(listed) => listed,
            Err(e) => {
                tracing::warn!(error = %e, "could not list local renders to renew their leases");
                return;
            }
        };
        let mut now_kept = HashSet::new();
        for egress in listed {
            let id = egress.egress_id;
            match self.claim(&render_lease(&id)).await {
                Ok(lease) if self.holds(&lease) => {
                    now_kept.insert(id);
                }
                Ok(_) => {
                    tracing::warn!(egress = %id, "another replica took this render's lease; stopping the render");
                    if let Err(e) = self.inner.egress.stop(&id).await {
                        tracing::warn!(egress = %id, error = %e, "could not stop the render");
                    }
                }
                Err(e) => {
                    tracing::warn!(egress = %id, error = %e, "could not renew a render lease");
                    now_kept.insert(id);
                }
            }
        }
        for gone in kept.difference(&now_kept) {
            if let Err(e) = self
                .inner
                .store
                .release_lease(&render_lease(gone), self.replica_id())
                .await
            {
                tracing::warn!(egress = %gone, error = %e, "could not release a render lease");
            }
        }
        *kept = now_kept;
    }
}
