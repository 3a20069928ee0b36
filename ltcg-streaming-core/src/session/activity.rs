//! What happens during a stream: agent decisions and game events, shown on the overlay and
//! counted into the session's stats.

use serde::{Deserialize, Serialize};

/// The kind of an [`Activity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityKind {
    /// An AI agent's decision (counted into `decisionsLogged`).
    Decision,
    /// A game event (counted into `eventsRecorded`).
    Event,
}

impl ActivityKind {
    /// `"decision"` or `"event"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Decision => "decision",
            ActivityKind::Event => "event",
        }
    }
}

/// One recorded decision or event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// Decision or event.
    pub kind: ActivityKind,
    /// Recorded, Unix ms.
    pub at: i64,
    /// The payload in its camelCase JSON shape (validated by the service).
    pub data: serde_json::Value,
}
