//! What the SQL stores share: the row layout of a session, JSON encoding, and error mapping
//! that never reveals connection details.

use crate::error::{Error, Result};
use crate::session::{SessionId, StreamSession, TimelineEntry, TimelineKind, ViewerSample};

/// Most activities kept per session and kind (older ones are dropped; counters keep
/// counting), as in [`super::MemoryStore`].
pub(super) const FEED_CAPACITY: i64 = 1_000;
/// How often an insert retries when the active session it collided with vanished meanwhile.
#[cfg(feature = "postgres")]
pub(super) const INSERT_ATTEMPTS: usize = 5;

/// `data`, `version`, `viewer_count`, `peak_viewer_count`, `decisions_logged`,
/// `events_recorded`.
pub(super) type SessionRow = (String, i64, i64, i64, i64, i64);

/// The session's JSON as stored in `data`.
pub(super) fn encode(session: &StreamSession) -> Result<String> {
    serde_json::to_string(session)
        .map_err(|e| store_error_msg(format!("could not encode a session: {e}")))
}

/// A session from its JSON, with `version` and the counters from their columns.
pub(super) fn decode_session(row: SessionRow) -> Result<StreamSession> {
    let (data, version, viewers, peak, decisions, events) = row;
    let mut session: StreamSession = serde_json::from_str(&data)
        .map_err(|e| store_error_msg(format!("a stored session is not valid JSON: {e}")))?;
    overlay(&mut session, (version, viewers, peak, decisions, events));
    Ok(session)
}

/// Writes `version` and the counters from their columns over `session`.
pub(super) fn overlay(session: &mut StreamSession, columns: (i64, i64, i64, i64, i64)) {
    let (version, viewers, peak, decisions, events) = columns;
    let unsigned = |n: i64| u64::try_from(n).unwrap_or(0);
    session.version = unsigned(version);
    session.viewer_count = unsigned(viewers);
    session.peak_viewer_count = unsigned(peak);
    session.decisions_logged = unsigned(decisions);
    session.events_recorded = unsigned(events);
}

/// A counter as a column value; the error names `field`.
pub(super) fn to_i64(field: &str, n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| Error::invalid(field, "is too large"))
}

/// Whether `err` is a unique-constraint violation.
#[cfg(feature = "postgres")]
pub(super) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// An [`Error::Store`] with `message`.
pub(super) fn store_error_msg(message: String) -> Error {
    Error::Store { message }
}

/// A short description of a `backend` failure while trying to `op`. It names the kind of
/// failure and the database's own message (which never quotes a password), never the
/// connection URL or options.
#[cfg(feature = "postgres")]
pub(super) fn store_error(backend: &str, op: &str, err: sqlx::Error) -> Error {
    let detail = match &err {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => format!("I/O error ({})", io.kind()),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".to_owned(),
        sqlx::Error::PoolClosed => "the store is closed".to_owned(),
        sqlx::Error::Configuration(_) => "invalid connection options".to_owned(),
        sqlx::Error::Tls(_) => "TLS error".to_owned(),
        sqlx::Error::Protocol(_) => "protocol error".to_owned(),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            "a stored value could not be decoded".to_owned()
        }
        sqlx::Error::Migrate(m) => format!("migration failed ({m})"),
        _ => "database error".to_owned(),
    };
    tracing::debug!(backend, operation = op, error = %detail, "store error");
    store_error_msg(format!("could not {op}: {detail}"))
}

/// A sample's columns: `session_id`, `at`, `destination_id`, `platform`, `viewers`.
pub(super) type SampleColumns = (String, i64, String, &'static str, i64);

/// The rows `samples` are stored as, one per (session, time, destination): of several
/// samples for the same one, the last.
pub(super) fn sample_columns(samples: &[ViewerSample]) -> Vec<SampleColumns> {
    let mut rows: Vec<SampleColumns> = Vec::with_capacity(samples.len());
    for s in samples {
        let row = (
            s.session_id.as_str().to_owned(),
            s.at,
            s.destination_id.clone(),
            s.platform.as_str(),
            i64::try_from(s.viewers).unwrap_or(i64::MAX),
        );
        match rows
            .iter_mut()
            .find(|r| r.0 == row.0 && r.1 == row.1 && r.2 == row.2)
        {
            Some(same) => *same = row,
            None => rows.push(row),
        }
    }
    rows
}

/// A viewer sample read back from its columns.
pub(super) fn sample_row(
    session_id: &SessionId,
    destination_id: String,
    platform: &str,
    at: i64,
    viewers: i64,
) -> Result<ViewerSample> {
    Ok(ViewerSample {
        session_id: session_id.clone(),
        destination_id,
        platform: platform.parse().map_err(|_| {
            store_error_msg(format!(
                "a viewer sample has an unknown platform {platform:?}"
            ))
        })?,
        at,
        viewers: u64::try_from(viewers).unwrap_or(0),
    })
}

/// A timeline entry's columns: `session_id`, `at`, `kind`, `status`, `cause`.
pub(super) type TimelineColumns = (String, i64, &'static str, &'static str, String);

/// The rows `entries` are stored as, in order.
pub(super) fn timeline_columns(entries: &[TimelineEntry]) -> Vec<TimelineColumns> {
    entries
        .iter()
        .map(|e| {
            (
                e.session_id.as_str().to_owned(),
                e.at,
                e.kind.as_str(),
                e.status.as_str(),
                e.cause.clone(),
            )
        })
        .collect()
}

/// A timeline entry read back from `at`, `kind`, `status`, `cause`.
pub(super) fn timeline_row(
    session_id: &SessionId,
    (at, kind, status, cause): (i64, String, String, String),
) -> Result<TimelineEntry> {
    Ok(TimelineEntry {
        session_id: session_id.clone(),
        at,
        kind: TimelineKind::parse(&kind).ok_or_else(|| {
            store_error_msg(format!("a timeline entry has an unknown kind {kind:?}"))
        })?,
        status: status.parse().map_err(|_| {
            store_error_msg(format!("a timeline entry has an unknown status {status:?}"))
        })?,
        cause,
    })
}

/// The three result sets analytics is computed from: per group `(key, sessions,
/// streamed_ms, peak, decisions, events, errors)`, `(key, end_reason, sessions)` and
/// `(key, readings, viewer_sum)`.
pub(super) type AnalyticsRows = (
    Vec<(String, i64, i64, i64, i64, i64, i64)>,
    Vec<(String, String, i64)>,
    Vec<(String, i64, i64)>,
);

/// The groups from the database's three result sets, in key order.
pub(super) fn analytics_groups(
    (groups, reasons, readings): AnalyticsRows,
) -> Vec<super::GroupTotals> {
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let mut out: std::collections::BTreeMap<String, super::GroupTotals> = groups
        .into_iter()
        .map(
            |(key, sessions, streamed, peak, decisions, events, errors)| {
                let totals = super::GroupTotals {
                    key: key.clone(),
                    sessions: count(sessions),
                    streamed_ms: streamed,
                    peak_viewers: count(peak),
                    decisions: count(decisions),
                    events: count(events),
                    errors: count(errors),
                    ..super::GroupTotals::default()
                };
                (key, totals)
            },
        )
        .collect();
    for (key, reason, n) in reasons {
        if let Some(g) = out.get_mut(&key) {
            g.end_reasons.insert(reason, count(n));
        }
    }
    for (key, n, sum) in readings {
        if let Some(g) = out.get_mut(&key) {
            g.readings = count(n);
            g.viewer_sum = count(sum);
        }
    }
    out.into_values().collect()
}
