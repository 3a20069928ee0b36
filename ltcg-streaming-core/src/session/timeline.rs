//! A session's timeline: what happened to it, in order, as the audit trail and the data of
//! the dashboard's session page. Entries carry no secret: causes are event names, reasons
//! and messages that are already redacted.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{SessionEvent, SessionId, SessionStatus};

/// Most entries one read returns.
pub const MAX_TIMELINE_ENTRIES: usize = 1_000;
/// Longest cause kept, in characters.
const MAX_CAUSE_CHARS: usize = 300;

/// What kind of thing happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// The session was created by a start.
    Created,
    /// The egress accepted the start.
    Started,
    /// The egress reported a status (a LiveKit webhook or the local egress).
    EgressUpdate,
    /// Stopped on request.
    Stopped,
    /// The reconciler acted (a stuck start, the maximum duration, a vanished egress).
    Reconciled,
    /// An output was added.
    DestinationAdded,
    /// An output was removed.
    DestinationRemoved,
    /// An output failed.
    DestinationFailed,
    /// Something went wrong (a failed start).
    Error,
}

impl TimelineKind {
    /// The stored name, e.g. `egress_update`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TimelineKind::Created => "created",
            TimelineKind::Started => "started",
            TimelineKind::EgressUpdate => "egress_update",
            TimelineKind::Stopped => "stopped",
            TimelineKind::Reconciled => "reconciled",
            TimelineKind::DestinationAdded => "destination_added",
            TimelineKind::DestinationRemoved => "destination_removed",
            TimelineKind::DestinationFailed => "destination_failed",
            TimelineKind::Error => "error",
        }
    }

    /// The kind named `name` (as [`Self::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Self> {
        [
            TimelineKind::Created,
            TimelineKind::Started,
            TimelineKind::EgressUpdate,
            TimelineKind::Stopped,
            TimelineKind::Reconciled,
            TimelineKind::DestinationAdded,
            TimelineKind::DestinationRemoved,
            TimelineKind::DestinationFailed,
            TimelineKind::Error,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

/// One thing that happened to a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// The session.
    pub session_id: SessionId,
    /// When, Unix ms.
    pub at: i64,
    /// What kind of thing.
    pub kind: TimelineKind,
    /// The session's status after it.
    pub status: SessionStatus,
    /// Why, or what exactly (no secret).
    pub cause: String,
}

impl TimelineEntry {
    /// An entry, its cause cut to a readable length.
    pub fn new(
        session_id: &SessionId,
        at: i64,
        kind: TimelineKind,
        status: SessionStatus,
        cause: impl Into<String>,
    ) -> Self {
        let cause: String = cause.into();
        let cause = if cause.chars().count() > MAX_CAUSE_CHARS {
            let mut cut: String = cause.chars().take(MAX_CAUSE_CHARS).collect();
            cut.push('…');
            cut
        } else {
            cause
        };
        Self {
            session_id: session_id.clone(),
            at,
            kind,
            status,
            cause,
        }
    }

    /// The entry for a lifecycle `event` that moved a session to `status`.
    pub fn of_event(
        session_id: &SessionId,
        at: i64,
        event: &SessionEvent,
        status: SessionStatus,
    ) -> Self {
        let (kind, cause) = match event {
            SessionEvent::EgressStarted { egress_id } => {
                (TimelineKind::Started, format!("egress {egress_id} started"))
            }
            SessionEvent::StartFailed { message } => (
                TimelineKind::Error,
                crate::redact::redact_urls_in_text(message),
            ),
            SessionEvent::StartUncertain => (
                TimelineKind::EgressUpdate,
                "the egress start was not confirmed in time".to_owned(),
            ),
            SessionEvent::Egress {
                status: s, error, ..
            } => (
                TimelineKind::EgressUpdate,
                match error {
                    Some(e) => format!("{}: {}", s.as_str(), crate::redact::redact_urls_in_text(e)),
                    None => s.as_str().to_owned(),
                },
            ),
            SessionEvent::Stop { reason } => (TimelineKind::Stopped, reason.clone()),
            SessionEvent::StartTimedOut => {
                (TimelineKind::Reconciled, "the start timed out".to_owned())
            }
            SessionEvent::MaxDurationReached => (
                TimelineKind::Reconciled,
                "the maximum duration was reached".to_owned(),
            ),
            SessionEvent::EgressVanished => {
                (TimelineKind::Reconciled, "the egress vanished".to_owned())
            }
        };
        Self::new(session_id, at, kind, status, cause)
    }
}
