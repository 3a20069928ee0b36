//! The gauges of [`crate::telemetry`], set from the store and the local renders when metrics
//! are read (a scrape), so that they are never stale and a series that is gone stops being
//! set.

use std::collections::HashMap;

use super::StreamingService;
use crate::error::Result;
use crate::platform::Platform;
use crate::session::{DestinationStatus, SessionStatus};
use crate::store::SessionQuery;
use crate::telemetry;

impl StreamingService {
    /// Sets the gauges: active sessions by status, their outputs by status and viewers by
    /// platform (store-wide, the same on every replica), and the frame rate and speed of
    /// each render this machine runs. Call it before reading the metrics; the router's
    /// `GET /metrics` does.
    pub async fn refresh_metrics(&self) -> Result<()> {
        let active = self
            .all_sessions(SessionQuery {
                active_only: true,
                ..SessionQuery::default()
            })
            .await?;
        let mut sessions: HashMap<SessionStatus, u64> = HashMap::new();
        let mut destinations: HashMap<DestinationStatus, u64> = HashMap::new();
        let mut viewers: HashMap<Platform, u64> = HashMap::new();
        for session in &active {
            *sessions.entry(session.status).or_default() += 1;
            for destination in &session.destinations {
                *destinations.entry(destination.status).or_default() += 1;
            }
            if session.status == SessionStatus::Live {
                *viewers.entry(session.platform).or_default() += session.viewer_count;
            }
        }
        for status in [
            SessionStatus::Initializing,
            SessionStatus::Pending,
            SessionStatus::Live,
        ] {
            let n = sessions.get(&status).copied().unwrap_or(0);
            metrics::gauge!(telemetry::SESSIONS, "status" => status.as_str()).set(n as f64);
        }
        for status in DestinationStatus::ALL {
            let n = destinations.get(&status).copied().unwrap_or(0);
            metrics::gauge!(telemetry::DESTINATIONS, "status" => status.as_str()).set(n as f64);
        }
        for platform in Platform::ALL {
            let n = viewers.get(&platform).copied().unwrap_or(0);
            metrics::gauge!(telemetry::VIEWERS, "platform" => platform.as_str()).set(n as f64);
        }
        let egress = &self.inner.egress;
        if egress.runs_locally() {
            for render in egress.list_active().await? {
                let Some(stats) = egress.encoder_stats(&render.egress_id) else {
                    continue;
                };
                let id = render.egress_id;
                metrics::gauge!(telemetry::RENDER_FPS, "egress_id" => id.clone()).set(stats.fps);
                metrics::gauge!(telemetry::RENDER_SPEED, "egress_id" => id).set(stats.speed);
            }
        }
        Ok(())
    }
}
