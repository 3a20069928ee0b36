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

/// What a session adds to analytics, kept in columns of its own (written with the session)
/// so that a range is summed from one covering index, never from the JSON.
pub(super) struct AnalyticsColumns {
    /// The UTC day it was created, days since 1970-01-01 (`created_day`).
    pub created_day: i64,
    /// The primary platform (`platform`).
    pub platform: &'static str,
    /// A dry run (`dry_run`).
    pub dry_run: bool,
    /// Milliseconds on air once ended, else 0 (`duration_ms`).
    pub duration_ms: i64,
    /// Why it ended (`end_reason`).
    pub end_reason: Option<String>,
}

impl AnalyticsColumns {
    /// The columns of `session`.
    pub(super) fn of(session: &StreamSession) -> Self {
        Self {
            created_day: session.created_at.div_euclid(DAY_MS),
            platform: session.platform.as_str(),
            dry_run: session.dry_run,
            duration_ms: session.stats.as_ref().map_or(0, |s| s.duration),
            end_reason: session.end_reason.clone(),
        }
    }
}

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The SQL (the same in SQLite and PostgreSQL) of the group a session row falls in, as
/// text: the UTC day number (`created_day`) for days and months, which
/// [`analytics_groups`] names and merges; the platform; or `streamType:entityId`.
pub(super) fn analytics_bucket(group: super::AnalyticsGroup) -> &'static str {
    match group {
        super::AnalyticsGroup::Day | super::AnalyticsGroup::Month => "CAST(created_day AS TEXT)",
        super::AnalyticsGroup::Platform => "platform",
        super::AnalyticsGroup::Entity => "stream_type || ':' || entity_id",
    }
}

/// One analytics result row, per bucket, status and end reason: `(bucket, status,
/// end_reason, sessions, streamed_ms, peak, decisions, events, viewer_sum, readings)`.
pub(super) type AnalyticsRow = (
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// The groups from the database's rows (see [`AnalyticsRow`]), in key order.
pub(super) fn analytics_groups(
    group: super::AnalyticsGroup,
    rows: Vec<AnalyticsRow>,
) -> Vec<super::GroupTotals> {
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let mut out: std::collections::BTreeMap<String, super::GroupTotals> =
        std::collections::BTreeMap::new();
    for (bucket, status, reason, sessions, streamed, peak, decisions, events, viewers, readings) in
        rows
    {
        let key = match group {
            super::AnalyticsGroup::Day | super::AnalyticsGroup::Month => {
                let Ok(day) = bucket.parse::<i64>() else {
                    continue;
                };
                let mut name = super::analytics::utc_day(day.saturating_mul(DAY_MS));
                if group == super::AnalyticsGroup::Month {
                    name.truncate(name.len() - 3);
                }
                name
            }
            _ => bucket,
        };
        let g = out
            .entry(key.clone())
            .or_insert_with(|| super::GroupTotals {
                key,
                ..super::GroupTotals::default()
            });
        let sessions = count(sessions);
        g.sessions += sessions;
        g.streamed_ms += streamed;
        g.peak_viewers = g.peak_viewers.max(count(peak));
        g.decisions += count(decisions);
        g.events += count(events);
        g.viewer_sum += count(viewers);
        g.readings += count(readings);
        let terminal = status == "ended" || status == "error";
        if status == "error" {
            g.errors += sessions;
        }
        if let (true, Some(reason)) = (terminal, reason) {
            *g.end_reasons.entry(reason).or_default() += sessions;
        }
    }
    out.into_values().collect()
}
