//! The session state machine as a pure function: `(session, event, now) -> transition`.
//!
//! Rules: a status only moves forward along `initializing → pending → live → ended | error`
//! (steps may be skipped); `ended` and `error` are absorbing; `startedAt` is set once; stats
//! are computed once, when the session becomes terminal. The function never performs I/O;
//! it tells the caller which egress to stop.

use super::egress_status::EgressStatus;
use super::model::{SessionStatus, StreamSession};

/// Something that happened to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// The egress start call returned this egress id.
    EgressStarted {
        /// The new egress.
        egress_id: String,
    },
    /// The egress start call failed definitively; nothing is running.
    StartFailed {
        /// The backend's (redacted) message.
        message: String,
    },
    /// The egress start call failed ambiguously (timeout, unavailable): an egress may exist.
    StartUncertain,
    /// An egress reported a status (webhook, or the reconciler's listing).
    Egress {
        /// The egress reporting.
        egress_id: String,
        /// Its status.
        status: EgressStatus,
        /// Its error message, when failed.
        error: Option<String>,
    },
    /// An authorized actor stopped the session.
    Stop {
        /// Why (a word such as `manual`); empty means `manual`.
        reason: String,
    },
    /// The session did not go live within the start timeout.
    StartTimedOut,
    /// The session has been live longer than the maximum duration.
    MaxDurationReached,
    /// The session's egress no longer exists at the backend (its end was never reported).
    EgressVanished,
}

/// The result of applying a [`SessionEvent`].
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The session after the event (equal to the input when nothing changed).
    pub session: StreamSession,
    /// Whether anything changed (and must be stored).
    pub changed: bool,
    /// An egress that must be stopped now (idempotent at the backend).
    pub stop_egress: Option<String>,
    /// Why the event changed nothing, when it did not.
    pub ignored: Option<&'static str>,
}

/// `endReason` words. A caller's stop reason is a word of the same shape
/// ([`end_reason::caller_reason`]).
pub mod end_reason {
    use crate::error::{Error, Result};

    /// Longest caller-given stop reason, in characters.
    pub const MAX_CALLER_REASON_CHARS: usize = 64;

    /// A caller's stop reason, trimmed: 1–64 characters of `a-z`, `0-9` and `_` (like the
    /// words below); missing or blank means [`MANUAL`]. Anything else is `INVALID_INPUT`
    /// naming `reason`, without quoting it.
    pub fn caller_reason(reason: Option<&str>) -> Result<String> {
        let reason = reason.map(str::trim).unwrap_or_default();
        if reason.is_empty() {
            return Ok(MANUAL.to_owned());
        }
        let word = reason.len() <= MAX_CALLER_REASON_CHARS
            && reason
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !word {
            return Err(Error::invalid(
                "reason",
                "must be a word of at most 64 characters from a-z, 0-9 and '_' (e.g. game_over)",
            ));
        }
        Ok(reason.to_owned())
    }

    /// Stopped by a caller without a reason.
    pub const MANUAL: &str = "manual";
    /// The egress completed.
    pub const EGRESS_COMPLETE: &str = "egress_complete";
    /// The egress was aborted.
    pub const EGRESS_ABORTED: &str = "egress_aborted";
    /// The egress hit its time limit.
    pub const LIMIT_REACHED: &str = "limit_reached";
    /// The session was live longer than the configured maximum.
    pub const MAX_DURATION: &str = "max_duration";
    /// The egress disappeared without an `egress_ended`.
    pub const EGRESS_LOST: &str = "egress_lost";
    /// Failed (status `error`).
    pub const ERROR: &str = "error";

    /// The service's own words above.
    pub const ALL: [&str; 7] = [
        MANUAL,
        EGRESS_COMPLETE,
        EGRESS_ABORTED,
        LIMIT_REACHED,
        MAX_DURATION,
        EGRESS_LOST,
        ERROR,
    ];

    /// `reason` when it is one of the service's own words, else `caller` (a caller's own
    /// reason): a bounded set, for metric labels.
    pub fn label(reason: &str) -> &'static str {
        ALL.into_iter().find(|&w| w == reason).unwrap_or("caller")
    }
}

/// Longest stop reason kept, in characters.
const MAX_REASON_CHARS: usize = 64;

/// Applies `event` to `session` at `now_ms`.
pub fn transition(session: &StreamSession, event: &SessionEvent, now_ms: i64) -> Transition {
    let mut next = session.clone();
    let mut stop_egress = None;
    let ignored = apply(&mut next, event, now_ms, &mut stop_egress);
    let changed = ignored.is_none() && next != *session;
    if changed {
        next.updated_at = next.updated_at.max(now_ms);
    } else {
        next = session.clone();
    }
    Transition {
        session: next,
        changed,
        stop_egress,
        ignored: ignored.or((!changed).then_some("no change")),
    }
}

/// Mutates `s`; returns why the event was ignored, if it was.
fn apply(
    s: &mut StreamSession,
    event: &SessionEvent,
    now: i64,
    stop_egress: &mut Option<String>,
) -> Option<&'static str> {
    use SessionStatus::*;
    if s.status.is_terminal() {
        // A session that is over must not leave an egress running.
        match event {
            SessionEvent::EgressStarted { egress_id } => *stop_egress = Some(egress_id.clone()),
            SessionEvent::Egress {
                egress_id, status, ..
            } if !status.is_terminal() => *stop_egress = Some(egress_id.clone()),
            _ => {}
        }
        return Some("session is already over");
    }
    match event {
        SessionEvent::EgressStarted { egress_id } => {
            if s.egress_id.as_ref().is_some_and(|own| own != egress_id) {
                *stop_egress = Some(egress_id.clone());
                return Some("session already has another egress");
            }
            s.egress_id = Some(egress_id.clone());
            s.start_uncertain = false;
            if s.status == Initializing {
                s.status = Pending;
            }
        }
        SessionEvent::StartFailed { message } => {
            if s.status != Initializing {
                return Some("egress start already succeeded");
            }
            s.error_message = Some(message.clone());
            finish(s, Error, end_reason::ERROR, now);
        }
        SessionEvent::StartUncertain => {
            if s.status != Initializing {
                return Some("egress start already confirmed");
            }
            s.start_uncertain = true;
        }
        SessionEvent::Egress {
            egress_id,
            status,
            error,
        } => {
            if s.egress_id.as_ref().is_some_and(|own| own != egress_id) {
                if !status.is_terminal() {
                    *stop_egress = Some(egress_id.clone());
                }
                return Some("event is for another egress of this session");
            }
            s.egress_id = Some(egress_id.clone());
            s.start_uncertain = false;
            match status {
                EgressStatus::Starting | EgressStatus::Ending => {
                    if s.status == Initializing {
                        s.status = Pending;
                    }
                }
                EgressStatus::Active => {
                    s.status = Live;
                    s.started_at.get_or_insert(now);
                }
                EgressStatus::Complete => finish(s, Ended, end_reason::EGRESS_COMPLETE, now),
                EgressStatus::Aborted => finish(s, Ended, end_reason::EGRESS_ABORTED, now),
                EgressStatus::LimitReached => finish(s, Ended, end_reason::LIMIT_REACHED, now),
                EgressStatus::Failed => {
                    s.error_message = Some(
                        error
                            .clone()
                            .filter(|e| !e.is_empty())
                            .unwrap_or_else(|| "egress failed".to_owned()),
                    );
                    finish(s, Error, end_reason::ERROR, now);
                }
            }
        }
        SessionEvent::Stop { reason } => {
            *stop_egress = s.egress_id.clone();
            let reason = clean_reason(reason);
            finish(s, Ended, &reason, now);
        }
        SessionEvent::StartTimedOut => {
            if !matches!(s.status, Initializing | Pending) {
                return Some("session is not starting");
            }
            *stop_egress = s.egress_id.clone();
            s.error_message = Some("egress did not become active before the start timeout".into());
            finish(s, Error, end_reason::ERROR, now);
        }
        SessionEvent::MaxDurationReached => {
            if s.status != Live {
                return Some("session is not live");
            }
            *stop_egress = s.egress_id.clone();
            finish(s, Ended, end_reason::MAX_DURATION, now);
        }
        SessionEvent::EgressVanished => {
            if s.egress_id.is_none() {
                return Some("session has no egress");
            }
            if s.status == Live {
                finish(s, Ended, end_reason::EGRESS_LOST, now);
            } else {
                s.error_message = Some("egress disappeared before going live".into());
                finish(s, Error, end_reason::ERROR, now);
            }
        }
    }
    None
}

/// Makes `s` terminal at `now` and freezes its stats.
fn finish(s: &mut StreamSession, status: SessionStatus, reason: &str, now: i64) {
    s.status = status;
    let ended = s.started_at.map_or(now, |start| now.max(start));
    s.ended_at = Some(ended);
    s.end_reason = Some(reason.to_owned());
    s.start_uncertain = false;
    s.stats = Some(s.stats_at(ended));
}

/// A stop reason as a short printable word; empty means `manual`.
fn clean_reason(reason: &str) -> String {
    let cleaned: String = reason
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REASON_CHARS)
        .collect();
    if cleaned.is_empty() {
        end_reason::MANUAL.to_owned()
    } else {
        cleaned
    }
}
