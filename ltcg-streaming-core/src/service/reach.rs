//! The destination policy applied to the ingest URLs callers choose.

use super::{Actor, StreamingService};
use crate::destination_policy::DestinationPolicy;
use crate::error::Result;

impl StreamingService {
    /// Checks a caller-chosen custom ingest URL against the destination policy; `field`
    /// names it in the error. Internal callers and absent URLs pass. Built-in platform
    /// ingests are not caller-chosen and are not checked here.
    pub(super) async fn check_reach(
        &self,
        actor: &Actor,
        field: &str,
        custom_url: Option<&str>,
    ) -> Result<()> {
        let Some(url) = custom_url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(());
        };
        if matches!(actor, Actor::Internal) {
            return Ok(());
        }
        self.inner
            .destinations
            .check_url(url)
            .await
            .map(|_| ())
            .map_err(|refusal| refusal.into_error(field))
    }

    /// The policy an egress checks its outputs against again when it connects: `None` for
    /// internal callers, who may stream anywhere.
    pub(super) fn reach_for(&self, actor: &Actor) -> Option<DestinationPolicy> {
        (!matches!(actor, Actor::Internal)).then(|| self.inner.destinations.clone())
    }
}
