//! [`EgressStatus`]: where an egress is in its life, as LiveKit names it.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Status of a LiveKit egress (`livekit.EgressStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EgressStatus {
    /// `EGRESS_STARTING` (also what a missing status means).
    #[serde(rename = "EGRESS_STARTING")]
    Starting,
    /// `EGRESS_ACTIVE`
    #[serde(rename = "EGRESS_ACTIVE")]
    Active,
    /// `EGRESS_ENDING`
    #[serde(rename = "EGRESS_ENDING")]
    Ending,
    /// `EGRESS_COMPLETE`
    #[serde(rename = "EGRESS_COMPLETE")]
    Complete,
    /// `EGRESS_FAILED`
    #[serde(rename = "EGRESS_FAILED")]
    Failed,
    /// `EGRESS_ABORTED`
    #[serde(rename = "EGRESS_ABORTED")]
    Aborted,
    /// `EGRESS_LIMIT_REACHED`
    #[serde(rename = "EGRESS_LIMIT_REACHED")]
    LimitReached,
}

impl EgressStatus {
    /// The protobuf enum name, e.g. `"EGRESS_ACTIVE"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EgressStatus::Starting => "EGRESS_STARTING",
            EgressStatus::Active => "EGRESS_ACTIVE",
            EgressStatus::Ending => "EGRESS_ENDING",
            EgressStatus::Complete => "EGRESS_COMPLETE",
            EgressStatus::Failed => "EGRESS_FAILED",
            EgressStatus::Aborted => "EGRESS_ABORTED",
            EgressStatus::LimitReached => "EGRESS_LIMIT_REACHED",
        }
    }

    /// Whether the egress has finished (complete, failed, aborted or limit reached).
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            EgressStatus::Complete
                | EgressStatus::Failed
                | EgressStatus::Aborted
                | EgressStatus::LimitReached
        )
    }
}

impl fmt::Display for EgressStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
