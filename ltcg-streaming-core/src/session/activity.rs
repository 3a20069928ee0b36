//! What happens during a stream: agent decisions and game events, shown on the overlay and
//! counted into the session's stats.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The kind of an [`Activity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// Decision or event.
    pub kind: ActivityKind,
    /// Recorded, Unix ms.
    pub at: i64,
    /// The payload: a [`DecisionData`] or an [`EventData`], by `kind` (validated by the
    /// service; a store gives it back as it was given).
    pub data: serde_json::Value,
}

/// The payload of a recorded decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionData {
    /// The game.
    pub game_id: String,
    /// Turn number.
    pub turn_number: u32,
    /// Game phase.
    pub phase: String,
    /// What the agent did.
    pub action: String,
    /// Why, in the agent's words.
    pub reasoning: String,
    /// Action parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<serde_json::Value>,
    /// How long the decision took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_time_ms: Option<u64>,
    /// Outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

/// The payload of a recorded game event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventData {
    /// The game.
    pub game_id: String,
    /// Turn number.
    pub turn_number: u32,
    /// Event type, e.g. `card_played`.
    pub event_type: String,
    /// What happened.
    pub description: String,
    /// The lobby.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lobby_id: Option<String>,
    /// Who did it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player_username: Option<String>,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}
