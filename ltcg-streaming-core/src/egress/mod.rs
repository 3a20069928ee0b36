//! Egress backends: what renders the overlay page and pushes it to the RTMP outputs.
//!
//! [`EgressBackend`] is an object-safe async trait. Backends: [`LiveKitEgress`] (feature
//! `livekit`, LiveKit web egress through `livekit-api`), [`BrowserEgress`] (feature
//! `browser`: the overlay page in Chromium on this machine, encoded by ffmpeg),
//! [`TestPatternEgress`] (feature `local-egress`: an ffmpeg test pattern, no page) and
//! [`MemoryEgress`] (in process, for development and tests; it renders nothing).
//!
//! Error contract, which the service relies on:
//! - `start`: [`crate::Error::Egress`] with `retryable: false` means nothing was started;
//!   `retryable: true` (timeout, unavailable, 5xx, transport) means an egress *may* exist,
//!   and the reconciler will adopt or stop it; [`crate::Error::EgressUnreachable`] (the
//!   backend could not be reached at all) means nothing was started, though a later call
//!   may succeed. Starts are never retried automatically.
//! - `stop` is idempotent: an egress that is unknown or already finished is `Ok`.

#[cfg(feature = "browser")]
mod browser;
mod browser_settings;
mod encoding;
#[cfg(feature = "livekit")]
mod livekit;
#[cfg(feature = "local-egress")]
mod local_failure;
#[cfg(feature = "local-egress")]
mod local_run;
mod memory;
#[cfg(feature = "local-egress")]
mod relay;
#[cfg(feature = "local-egress")]
mod test_pattern;

use std::fmt::Debug;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Serialize;

#[cfg(feature = "browser")]
pub use self::browser::{
    BrowserEgress, BrowserEgressOptions, Reaped, END_RECORDING, START_RECORDING,
};
pub use self::browser_settings::BrowserEgressSettings;
pub use self::encoding::{EncoderStats, EncodingPreset, EncodingSettings};
#[cfg(feature = "livekit")]
pub use self::livekit::{LiveKitEgress, LiveKitEgressOptions};
pub use self::memory::MemoryEgress;
#[cfg(feature = "local-egress")]
pub use self::test_pattern::{TestPatternEgress, TestPatternEgressOptions};
use crate::destination_policy::DestinationPolicy;
use crate::error::Result;
pub use crate::overlay_url::session_id_in_url;
use crate::session::{EgressStatus, SessionId};
use crate::vault::SecretString;

/// What to render and where to push it.
#[derive(Debug, Clone)]
pub struct EgressRequest {
    /// The session the egress renders (its id is also in `page_url`).
    pub session_id: SessionId,
    /// The stream title (backends that draw their own picture show it).
    pub title: String,
    /// The overlay page URL, including its access token: a credential.
    pub page_url: SecretString,
    /// Full RTMP(S) output URLs, keys included (simulcast when several).
    pub outputs: Vec<SecretString>,
    /// Video/audio encoding.
    pub encoding: EncodingSettings,
    /// When set, a backend that connects to the outputs itself checks each output's
    /// addresses against this policy again right before connecting (so a name that
    /// resolves elsewhere by then is refused). `None`: the caller is trusted.
    pub destination_policy: Option<DestinationPolicy>,
}

/// An egress as the backend reports it. Its JSON names the session instead of the page URL
/// (which carries the overlay token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(into = "EgressSummaryJson")]
pub struct EgressSummary {
    /// The egress id.
    pub egress_id: String,
    /// Its status.
    pub status: EgressStatus,
    /// The web page it renders, when it is a web egress.
    pub web_url: Option<String>,
    /// Start time, Unix nanoseconds (0 when unknown).
    pub started_at_ns: i64,
}

impl EgressSummary {
    /// The `sessionId` query parameter of the rendered page, if any.
    pub fn session_id(&self) -> Option<&str> {
        self.web_url.as_deref().and_then(session_id_in_url)
    }
}

/// The JSON of an [`EgressSummary`].
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct EgressSummaryJson {
    /// The egress id.
    egress_id: String,
    /// Its status.
    status: EgressStatus,
    /// The session whose page it renders, if any.
    session_id: Option<String>,
    /// Start time, Unix nanoseconds (0 when unknown).
    started_at_ns: i64,
}

impl From<EgressSummary> for EgressSummaryJson {
    fn from(e: EgressSummary) -> Self {
        Self {
            session_id: e.session_id().map(str::to_owned),
            egress_id: e.egress_id,
            status: e.status,
            started_at_ns: e.started_at_ns,
        }
    }
}

/// A still picture of what an egress streams.
#[derive(Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// The picture, JPEG.
    pub jpeg: Vec<u8>,
    /// When it was taken, Unix ms.
    pub taken_at_ms: i64,
}

impl Debug for Thumbnail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Thumbnail")
            .field("bytes", &self.jpeg.len())
            .field("taken_at_ms", &self.taken_at_ms)
            .finish()
    }
}

/// Starts, changes, stops and lists egresses.
#[async_trait]
pub trait EgressBackend: Send + Sync + Debug {
    /// Starts rendering `request.page_url` to `request.outputs`; returns the egress id.
    async fn start(&self, request: &EgressRequest) -> Result<String>;

    /// Adds and removes outputs of a running egress.
    async fn update_outputs(
        &self,
        egress_id: &str,
        add: &[SecretString],
        remove: &[SecretString],
    ) -> Result<()>;

    /// Stops an egress; idempotent.
    async fn stop(&self, egress_id: &str) -> Result<()>;

    /// Every egress that is starting or active (all pages).
    async fn list_active(&self) -> Result<Vec<EgressSummary>>;

    /// The latest thumbnail of a running egress, when the backend makes them.
    async fn thumbnail(&self, _egress_id: &str) -> Result<Option<Thumbnail>> {
        Ok(None)
    }

    /// Whether the backend knows for certain that `egress_id` runs nowhere, not merely that
    /// its listing lacks it (a listing may predate an egress). The reconciler then ends the
    /// egress's session at once instead of after a grace period. Default `false`.
    async fn is_gone(&self, _egress_id: &str) -> bool {
        false
    }

    /// Whether this backend renders on this machine (a browser or encoder of this process),
    /// so that its egresses are listed only by the replica that runs them. Such renders are
    /// kept alive by a lease in the store (see [`crate::ReplicaOptions`]). Default `false`
    /// (LiveKit lists every egress to every replica).
    fn runs_locally(&self) -> bool {
        false
    }

    /// For local backends: how the encoder of one of this machine's renders keeps up
    /// (frames, speed, fps), while it runs and after. Default `None`.
    fn encoder_stats(&self, egress_id: &str) -> Option<EncoderStats> {
        let _ = egress_id;
        None
    }

    /// For local backends: kills what renders of processes that died left running on this
    /// machine (browsers, encoders still pushing), and returns how many renders that was.
    /// The reconciler calls it. Default: nothing to do.
    async fn collect_dead_renders(&self) -> usize {
        0
    }

    /// For backends that run egresses themselves: their lifecycle events (shaped like
    /// LiveKit's webhooks) from now on, for
    /// [`crate::StreamingService::follow_backend_events`]. `None` (the default) for backends
    /// whose events arrive as webhooks.
    fn events(&self) -> Option<tokio::sync::broadcast::Receiver<crate::webhook::EgressEvent>> {
        None
    }
}

#[async_trait]
impl<T: EgressBackend + ?Sized> EgressBackend for std::sync::Arc<T> {
    async fn start(&self, request: &EgressRequest) -> Result<String> {
        (**self).start(request).await
    }

    async fn update_outputs(
        &self,
        egress_id: &str,
        add: &[SecretString],
        remove: &[SecretString],
    ) -> Result<()> {
        (**self).update_outputs(egress_id, add, remove).await
    }

    async fn stop(&self, egress_id: &str) -> Result<()> {
        (**self).stop(egress_id).await
    }

    async fn list_active(&self) -> Result<Vec<EgressSummary>> {
        (**self).list_active().await
    }

    async fn thumbnail(&self, egress_id: &str) -> Result<Option<Thumbnail>> {
        (**self).thumbnail(egress_id).await
    }

    async fn is_gone(&self, egress_id: &str) -> bool {
        (**self).is_gone(egress_id).await
    }

    fn events(&self) -> Option<tokio::sync::broadcast::Receiver<crate::webhook::EgressEvent>> {
        (**self).events()
    }

    fn runs_locally(&self) -> bool {
        (**self).runs_locally()
    }

    fn encoder_stats(&self, egress_id: &str) -> Option<EncoderStats> {
        (**self).encoder_stats(egress_id)
    }

    async fn collect_dead_renders(&self) -> usize {
        (**self).collect_dead_renders().await
    }
}

/// A one-output request for the backends' unit tests.
#[cfg(test)]
pub(crate) fn test_request() -> EgressRequest {
    EgressRequest {
        session_id: crate::session::SessionId::generate(),
        title: "Test stream".into(),
        page_url: SecretString::from("https://app.test/overlay"),
        outputs: vec![SecretString::from("rtmp://127.0.0.1/live/k")],
        encoding: EncodingSettings::default(),
        destination_policy: None,
    }
}
