//! Viewer counts over time: one sample per destination per reading, kept for charts and
//! analytics (a session itself keeps only the current and the peak count).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::SessionId;
use crate::platform::Platform;

/// Most samples one read returns.
pub const MAX_VIEWER_SAMPLES: usize = 10_000;

/// How many viewers one destination of a session had at one time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ViewerSample {
    /// The session.
    pub session_id: SessionId,
    /// The destination counted (`dst_…`).
    pub destination_id: String,
    /// Its platform.
    pub platform: Platform,
    /// When the count was read, Unix ms.
    pub at: i64,
    /// Viewers at that time.
    pub viewers: u64,
}
