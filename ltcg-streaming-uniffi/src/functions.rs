//! Functions and the records they return.

use ltcg_streaming_core as core;

use crate::error::Result;

/// The full RTMP(S) ingest URL for `platform` (`twitch`, `youtube`, `kick`, `custom`,
/// `retake`, ...) and `stream_key`; `custom_rtmp_url` is required for `custom`. The result
/// contains the key: keep it secret.
#[uniffi::export(default(custom_rtmp_url = None))]
pub fn build_rtmp_url(
    platform: String,
    stream_key: String,
    custom_rtmp_url: Option<String>,
) -> Result<String> {
    let platform: core::Platform = platform.parse()?;
    let url = core::build_rtmp_url(platform, &stream_key, custom_rtmp_url.as_deref())?;
    Ok(url.expose_secret().to_owned())
}

/// The default overlay settings of `stream_type` (`user` or `agent`), as the JSON object
/// the HTTP API and the other bindings use (camelCase keys).
#[uniffi::export]
pub fn default_overlay_config(stream_type: String) -> Result<String> {
    let stream_type: core::StreamType = stream_type.parse()?;
    let config = core::session::OverlayConfig::default_for(stream_type);
    serde_json::to_string(&config).map_err(|e| {
        core::Error::External {
            message: format!("could not encode the overlay config: {e}"),
            source: std::sync::Arc::new(e),
        }
        .into()
    })
}

/// Estimated LiveKit cost of `streams` concurrent streams of `hours` each at
/// `bitrate_mbps` (the seed's prices: $0.015 per egress minute, $0.10 per GB).
#[uniffi::export]
pub fn estimate_cost(hours: f64, streams: u32, bitrate_mbps: f64) -> Result<CostEstimate> {
    Ok(core::estimate_cost(hours, streams, bitrate_mbps)?.into())
}

/// A cost estimate in US dollars.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CostEstimate {
    /// Egress minutes billed (streams × hours × 60).
    pub egress_minutes: f64,
    /// Bandwidth in GB (10⁹ bytes).
    pub gigabytes: f64,
    /// Egress-minute cost.
    pub egress_usd: f64,
    /// Bandwidth cost.
    pub bandwidth_usd: f64,
    /// Total.
    pub total_usd: f64,
}

impl From<core::CostEstimate> for CostEstimate {
    fn from(c: core::CostEstimate) -> Self {
        Self {
            egress_minutes: c.egress_minutes,
            gigabytes: c.gigabytes,
            egress_usd: c.egress_usd,
            bandwidth_usd: c.bandwidth_usd,
            total_usd: c.total_usd,
        }
    }
}

/// The claims of a valid overlay token.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OverlayClaims {
    /// The session the token opens.
    pub session_id: String,
    /// `user` or `agent`.
    pub stream_type: String,
    /// The user or agent id.
    pub entity_id: String,
    /// Always `overlay_access`.
    pub token_type: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Not before, Unix seconds, when present.
    pub nbf: Option<i64>,
}

impl From<core::OverlayClaims> for OverlayClaims {
    fn from(c: core::OverlayClaims) -> Self {
        Self {
            session_id: c.session_id,
            stream_type: c.stream_type.as_str().to_owned(),
            entity_id: c.entity_id,
            token_type: c.token_type,
            exp: c.exp,
            iat: c.iat,
            nbf: c.nbf,
        }
    }
}

/// A verified LiveKit webhook event (egress fields filled for egress events).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EgressEvent {
    /// `egress_started`, `egress_updated`, `egress_ended`, ...
    pub event: String,
    /// LiveKit's event id (for de-duplication).
    pub id: String,
    /// When LiveKit created the event, Unix seconds.
    pub created_at: i64,
    /// The egress, for egress events.
    pub egress_id: Option<String>,
    /// `EGRESS_STARTING`, `EGRESS_ACTIVE`, ... for egress events.
    pub status: Option<String>,
    /// The egress's error text (stream keys redacted by LiveKit).
    pub error: Option<String>,
    /// Extra details LiveKit gave.
    pub details: Option<String>,
    /// The web page the egress renders.
    pub web_url: Option<String>,
    /// When the egress started, Unix nanoseconds (0 if not yet).
    pub started_at_ns: i64,
    /// When the egress ended, Unix nanoseconds (0 if not yet).
    pub ended_at_ns: i64,
    /// One result per output.
    pub stream_results: Vec<StreamResult>,
}

/// The state of one output of an egress.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StreamResult {
    /// The output URL as LiveKit reports it (key redacted).
    pub url: String,
    /// `ACTIVE`, `FINISHED`, `FAILED`, ...
    pub status: String,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// When it started, Unix nanoseconds.
    pub started_at_ns: i64,
    /// When it ended, Unix nanoseconds.
    pub ended_at_ns: i64,
}

impl From<core::EgressEvent> for EgressEvent {
    fn from(e: core::EgressEvent) -> Self {
        Self {
            event: e.event,
            id: e.id,
            created_at: e.created_at,
            egress_id: e.egress_id,
            status: e.status.map(|s| s.to_string()),
            error: e.error,
            details: e.details,
            web_url: e.web_url,
            started_at_ns: e.started_at_ns,
            ended_at_ns: e.ended_at_ns,
            stream_results: e
                .stream_results
                .into_iter()
                .map(|r| StreamResult {
                    url: r.url,
                    status: r.status,
                    error: r.error,
                    started_at_ns: r.started_at_ns,
                    ended_at_ns: r.ended_at_ns,
                })
                .collect(),
        }
    }
}
