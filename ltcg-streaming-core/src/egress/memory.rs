//! [`MemoryEgress`]: an egress backend that lives in process memory and renders nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{EgressBackend, EgressRequest, EgressSummary};
use crate::error::{Error, Result};
use crate::redact::redact_url;
use crate::session::{random_id, EgressStatus};
use crate::vault::SecretString;

#[derive(Debug)]
struct Entry {
    status: EgressStatus,
    web_url: String,
    outputs: Vec<SecretString>,
}

/// An [`EgressBackend`] that keeps egresses in memory: `start` returns random `EG_mem_…`
/// ids (unique across instances and runs, like LiveKit's) in status `EGRESS_STARTING`,
/// [`MemoryEgress::set_status`] moves them (as LiveKit would), `stop` completes them. For development without LiveKit, examples and tests.
#[derive(Debug, Default)]
pub struct MemoryEgress {
    started: AtomicU64,
    egresses: Mutex<HashMap<String, Entry>>,
}

impl MemoryEgress {
    /// An empty backend.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.egresses
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets an egress's status (e.g. `EGRESS_ACTIVE` once "rendering" begins).
    pub fn set_status(&self, egress_id: &str, status: EgressStatus) -> Result<()> {
        let mut map = self.lock();
        let entry = map
            .get_mut(egress_id)
            .ok_or_else(|| Error::not_found("egress"))?;
        entry.status = status;
        Ok(())
    }

    /// An egress's status.
    pub fn status(&self, egress_id: &str) -> Option<EgressStatus> {
        self.lock().get(egress_id).map(|e| e.status)
    }

    /// An egress's outputs, redacted.
    pub fn outputs(&self, egress_id: &str) -> Vec<String> {
        self.lock()
            .get(egress_id)
            .map(|e| {
                e.outputs
                    .iter()
                    .map(|o| redact_url(o.expose_secret()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many egresses were ever started.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl EgressBackend for MemoryEgress {
    async fn start(&self, request: &EgressRequest) -> Result<String> {
        if request.outputs.is_empty() {
            return Err(Error::Egress {
                retryable: false,
                message: "at least one output is required".into(),
            });
        }
        self.started.fetch_add(1, Ordering::SeqCst);
        let id = random_id("EG_mem_");
        self.lock().insert(
            id.clone(),
            Entry {
                status: EgressStatus::Starting,
                web_url: request.page_url.expose_secret().to_owned(),
                outputs: request.outputs.clone(),
            },
        );
        Ok(id)
    }

    async fn update_outputs(
        &self,
        egress_id: &str,
        add: &[SecretString],
        remove: &[SecretString],
    ) -> Result<()> {
        let mut map = self.lock();
        let entry = map
            .get_mut(egress_id)
            .filter(|e| !e.status.is_terminal())
            .ok_or_else(|| Error::Egress {
                retryable: false,
                message: "egress is not running".into(),
            })?;
        entry.outputs.retain(|o| !remove.contains(o));
        entry.outputs.extend(add.iter().cloned());
        Ok(())
    }

    async fn stop(&self, egress_id: &str) -> Result<()> {
        if let Some(entry) = self.lock().get_mut(egress_id) {
            entry.status = match entry.status {
                EgressStatus::Starting => EgressStatus::Aborted,
                EgressStatus::Active | EgressStatus::Ending => EgressStatus::Complete,
                done => done,
            };
        }
        Ok(())
    }

    async fn list_active(&self) -> Result<Vec<EgressSummary>> {
        let mut list: Vec<_> = self
            .lock()
            .iter()
            .filter(|(_, e)| matches!(e.status, EgressStatus::Starting | EgressStatus::Active))
            .map(|(id, e)| EgressSummary {
                egress_id: id.clone(),
                status: e.status,
                web_url: Some(e.web_url.clone()),
                started_at_ns: 0,
            })
            .collect();
        list.sort_by(|a, b| a.egress_id.cmp(&b.egress_id));
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    async fn start_some(egress: &MemoryEgress) -> HashSet<String> {
        let request = crate::egress::test_request();
        let mut ids = HashSet::new();
        for _ in 0..5 {
            ids.insert(egress.start(&request).await.unwrap());
        }
        ids
    }

    #[tokio::test]
    async fn memory_egress_ids_differ_across_restarts() {
        let before = start_some(&MemoryEgress::new()).await;
        let after = start_some(&MemoryEgress::new()).await;
        assert_eq!((before.len(), after.len()), (5, 5), "ids are unique");
        assert!(before.is_disjoint(&after), "{before:?} / {after:?}");
        assert!(before.iter().all(|id| id.starts_with("EG_mem_")));
    }
}
