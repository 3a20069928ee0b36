//! [`SqliteStore`]: a [`SessionStore`] in one SQLite file (WAL), on rusqlite.
//!
//! Layout: `streaming_sessions` (the session JSON plus the queried columns; `version` and
//! the four counters only in their own columns), `streaming_activities`,
//! `streaming_processed_events`, `streaming_credentials`, `streaming_game_states`,
//! `streaming_viewer_samples`, `streaming_timeline`, `streaming_leases`; created by the schema in
//! `migrations/sqlite`, tracked by `PRAGMA user_version`.
//!
//! Execution: one connection per store, used under a mutex on the calling task's thread.
//! A statement on a WAL file takes microseconds and never waits for `fsync` (synchronous =
//! NORMAL), so running it inline is cheaper than handing it to a worker thread (which costs
//! two thread wake-ups per statement). Lock waits never block the thread: the busy timeout
//! is zero and a locked database (another process writing) is retried after an
//! asynchronous pause, for up to ten seconds.
//!
//! Concurrency: every change is one statement, or a transaction opened with
//! `BEGIN IMMEDIATE` (the write lock is taken up front). Other processes may share the
//! file. The one-active-session rule is a partial unique index.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension, Row};

use super::agent_keys::{check_prefix, AgentKey, AgentKeyStore};
use super::sql::{
    self, decode_session, encode, overlay, store_error_msg, to_i64, SessionRow, FEED_CAPACITY,
};
use super::{
    lease::{check_claim, check_name},
    page_size, AnalyticsFilter, AnalyticsGroup, Cursor, GroupTotals, Insert, Lease,
    PlatformCredential, SessionPage, SessionQuery, SessionStore,
};
use crate::error::{Error, Result};
use crate::session::{
    Activity, ActivityKind, Entity, SessionId, StoredGameState, StreamSession, TimelineEntry,
    ViewerSample, MAX_TIMELINE_ENTRIES, MAX_VIEWER_SAMPLES,
};

/// The schema, version 1.
const SCHEMA_V1: &str =
    include_str!("../../migrations/sqlite/20250601000000_ltcg_streaming_init.sql");
/// The upgrades, in order: `UPGRADES[n]` takes version `n + 1` to version `n + 2`.
const UPGRADES: &[&str] = &[
    // 2: game states.
    include_str!("../../migrations/sqlite/20261201000000_ltcg_streaming_game_states.sql"),
    // 3: viewer samples.
    include_str!("../../migrations/sqlite/20261202000000_ltcg_streaming_viewer_samples.sql"),
    // 4: session timelines.
    include_str!("../../migrations/sqlite/20261203000000_ltcg_streaming_timeline.sql"),
    // 5: the columns analytics sums, and their covering index.
    include_str!("../../migrations/sqlite/20261204000000_ltcg_streaming_analytics_columns.sql"),
    // 6: leases.
    include_str!("../../migrations/sqlite/20261205000000_ltcg_streaming_leases.sql"),
    // 7: agent API keys (hashed).
    include_str!("../../migrations/sqlite/20261206000000_ltcg_streaming_agent_keys.sql"),
];
/// The schema version this library writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = UPGRADES.len() as i64 + 1;
/// How long an operation keeps retrying while another process holds the write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest pause between two attempts on a locked database.
const MAX_BUSY_PAUSE: Duration = Duration::from_millis(50);
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 64;

/// The columns a session is read from, in [`SessionRow`] order.
const SESSION_COLUMNS: &str =
    "data, version, viewer_count, peak_viewer_count, decisions_logged, events_recorded";

/// A [`SessionStore`] in a SQLite file: durable, single-machine, no server to run.
///
/// Opened with [`SqliteStore::open`] (WAL journal, synchronous = NORMAL, foreign keys on),
/// which creates the file and the schema if missing. Clones share the connection; several
/// processes may share the file.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None` once closed.
    conn: Mutex<Option<Connection>>,
    path: PathBuf,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("open", &self.lock().is_some())
            .finish()
    }
}

/// Why a conditional write of one session touched nothing.
enum Missed {
    /// The session does not exist.
    NotFound,
    /// The session exists but the write's condition did not hold.
    Conflict,
    /// The write would make a second active session of its entity.
    ActiveExists,
}

impl Missed {
    fn into_error(self, reason: &str) -> Error {
        match self {
            Missed::NotFound => Error::not_found("session"),
            Missed::Conflict => Error::conflict(reason),
            Missed::ActiveExists => Error::conflict("the entity already has an active session"),
        }
    }
}

impl SqliteStore {
    /// Opens (creating it if missing) the database file at `path` and creates or checks
    /// the schema. The parent directory must exist.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        // Another process (the one this one replaces, say) may hold a lock for a moment.
        let mut backoff = Backoff::new();
        let conn = loop {
            let opened = {
                let path = path.clone();
                tokio::task::spawn_blocking(move || connect(&path))
                    .await
                    .map_err(|_| store_error_msg("could not open the SQLite database".into()))?
            };
            match opened {
                Ok(conn) => break conn,
                Err(e) => {
                    if !backoff.wait_to_retry(&e).await {
                        return Err(store_error("open the SQLite database", e));
                    }
                }
            }
        };
        let store = Self {
            inner: Arc::new(Inner {
                conn: Mutex::new(Some(conn)),
                path,
            }),
        };
        store.run("migrate the SQLite database", migrate).await?;
        tracing::debug!("SQLite session store ready");
        Ok(store)
    }

    /// Closes the connection; later calls fail with a store error.
    pub async fn close(&self) {
        let conn = self.lock().take();
        if let Some(conn) = conn {
            if let Err((_, e)) = conn.close() {
                tracing::warn!(error = %describe(&e), "closing the SQLite database failed");
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Connection>> {
        // A panic while the lock was held leaves nothing half-done: an open transaction
        // is rolled back when its guard drops.
        self.inner
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `op` on the connection, retrying (after an asynchronous pause) while another
    /// process holds the lock it needs.
    async fn run<T>(
        &self,
        what: &str,
        mut op: impl FnMut(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut backoff = Backoff::new();
        loop {
            let result = {
                let mut guard = self.lock();
                let Some(conn) = guard.as_mut() else {
                    return Err(store_error_msg(format!(
                        "could not {what}: the store is closed"
                    )));
                };
                op(conn)
            };
            match result {
                Ok(value) => return Ok(value),
                Err(e) => {
                    if !backoff.wait_to_retry(&e).await {
                        return Err(store_error(what, e));
                    }
                }
            }
        }
    }

    /// Reads one session with `sql` and `binds`.
    async fn fetch_session(&self, sql: &str, binds: &[&str]) -> Result<Option<StreamSession>> {
        self.run("read a session", |conn| {
            conn.prepare_cached(sql)?
                .query_row(params_from_iter(binds), session_row)
                .optional()
        })
        .await?
        .map(decode_session)
        .transpose()
    }

    /// Runs a conditional `UPDATE ... RETURNING` of one session; when it touches nothing,
    /// tells whether the session exists.
    async fn update_returning(
        &self,
        what: &str,
        sql: &str,
        binds: &[Value],
        id: &str,
    ) -> Result<std::result::Result<SessionRow, Missed>> {
        self.run(what, |conn| {
            let row = conn
                .prepare_cached(sql)?
                .query_row(params_from_iter(binds), session_row)
                .optional()?;
            match row {
                Some(row) => Ok(Ok(row)),
                None => Ok(Err(missing(conn, id)?)),
            }
        })
        .await
    }
}

/// Opens the file with the store's settings.
fn connect(path: &Path) -> rusqlite::Result<Connection> {
    create_private(path).map_err(|e| {
        rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!("cannot create the database file: {e}")),
        )
    })?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::ZERO)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // WAL may be refused while another process recovers the file: retried like any lock.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "SQLite did not switch to WAL");
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    // Sorts and groupings (analytics over a range) stay in memory instead of spilling to
    // temporary files, with a 16 MiB page cache (the default is 2 MiB).
    conn.execute_batch("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384;")?;
    Ok(conn)
}

/// Creates a missing database file readable and writable by its owner only (mode 0600: it
/// holds stream-key ciphertexts). SQLite gives the `-wal`, `-shm` and journal files it
/// creates the database file's mode. An existing file keeps its mode.
#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map(drop),
    }
}

#[cfg(not(unix))]
fn create_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Creates the schema in a new file, or checks an existing one.
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let from = match version {
        0 => {
            // Files written by earlier releases have the tables but no version.
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master \
                 WHERE type = 'table' AND name = 'streaming_sessions')",
                [],
                |r| r.get(0),
            )?;
            if !exists {
                tx.execute_batch(SCHEMA_V1)?;
            }
            1
        }
        v if (1..=SCHEMA_VERSION).contains(&v) => v,
        newer => {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                Some(format!(
                    "the database has schema version {newer}; this library knows up to \
                     {SCHEMA_VERSION}"
                )),
            ))
        }
    };
    if version != SCHEMA_VERSION {
        for upgrade in &UPGRADES[(from - 1) as usize..] {
            tx.execute_batch(upgrade)?;
        }
        tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?;
    }
    tx.commit()
}

/// The analytics statement for `group`: one pass over the covering index
/// `streaming_sessions_analytics` for the time range, per bucket, status and end reason.
fn analytics_statement(group: AnalyticsGroup) -> String {
    format!(
        "SELECT {bucket}, status, end_reason, COUNT(*), SUM(duration_ms), \
         MAX(peak_viewer_count), SUM(decisions_logged), SUM(events_recorded), \
         SUM(viewer_sum), SUM(viewer_readings) \
         FROM streaming_sessions INDEXED BY streaming_sessions_analytics \
         WHERE created_at >= ?1 AND created_at < ?2 AND (?3 OR dry_run = 0) \
         AND (?4 IS NULL OR (stream_type = ?4 AND entity_id = ?5)) \
         GROUP BY 1, 2, 3",
        bucket = sql::analytics_bucket(group)
    )
}

/// A session row in [`SESSION_COLUMNS`] order.
fn session_row(row: &Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

/// Whether a session that a conditional write missed exists.
fn missing(conn: &Connection, id: &str) -> rusqlite::Result<Missed> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM streaming_sessions WHERE id = ?")?
        .exists([id])?;
    Ok(if exists {
        Missed::Conflict
    } else {
        Missed::NotFound
    })
}

/// Pauses between attempts at a busy database: 1 ms, doubling up to [`MAX_BUSY_PAUSE`], for
/// [`BUSY_TIMEOUT`] in all.
struct Backoff {
    deadline: Instant,
    pause: Duration,
}

impl Backoff {
    fn new() -> Self {
        Self {
            deadline: Instant::now() + BUSY_TIMEOUT,
            pause: Duration::from_millis(1),
        }
    }

    /// After `err`: waits and says `true` when it is worth another attempt (the database
    /// was busy and time is left), else `false` at once.
    async fn wait_to_retry(&mut self, err: &rusqlite::Error) -> bool {
        if !is_busy(err) || Instant::now() >= self.deadline {
            return false;
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(MAX_BUSY_PAUSE);
        true
    }
}

/// Whether `err` means "locked by another connection: try again later".
fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Whether `err` is a unique-constraint violation.
fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// What went wrong, in SQLite's own words (which never quote the file's path).
fn describe(err: &rusqlite::Error) -> String {
    match err {
        rusqlite::Error::SqliteFailure(e, Some(message)) => format!("{message} ({:?})", e.code),
        rusqlite::Error::SqliteFailure(e, None) => e.to_string(),
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => {
            "a stored value could not be decoded".to_owned()
        }
        _ => "database error".to_owned(),
    }
}

/// An [`Error::Store`] for a failure while trying to `op`.
fn store_error(op: &str, err: rusqlite::Error) -> Error {
    let detail = describe(&err);
    tracing::debug!(backend = "SQLite", operation = op, error = %detail, "store error");
    store_error_msg(format!("could not {op}: {detail}"))
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn insert_session(&self, session: &StreamSession) -> Result<Insert> {
        let mut stored = session.clone();
        stored.version = 1;
        let data = encode(&stored)?;
        let columns = sql::AnalyticsColumns::of(&stored);
        let counters = [
            to_i64("viewerCount", stored.viewer_count)?,
            to_i64("peakViewerCount", stored.peak_viewer_count)?,
            to_i64("decisionsLogged", stored.decisions_logged)?,
            to_i64("eventsRecorded", stored.events_recorded)?,
        ];
        let existing = self
            .run("insert a session", |conn| {
                // One transaction: the partial unique index turns a second active session
                // into a no-op, and the one that blocked it is read under the same lock.
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let inserted = tx
                    .prepare_cached(
                        "INSERT INTO streaming_sessions (id, stream_type, entity_id, status, \
                         egress_id, created_at, updated_at, version, viewer_count, \
                         peak_viewer_count, decisions_logged, events_recorded, data, \
                         created_day, platform, dry_run, duration_ms, end_reason) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                         ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![
                        stored.id.as_str(),
                        stored.entity.stream_type.as_str(),
                        stored.entity.entity_id,
                        stored.status.as_str(),
                        stored.egress_id,
                        stored.created_at,
                        stored.updated_at,
                        counters[0],
                        counters[1],
                        counters[2],
                        counters[3],
                        data,
                        columns.created_day,
                        columns.platform,
                        columns.dry_run,
                        columns.duration_ms,
                        columns.end_reason,
                    ])?;
                let outcome = if inserted == 1 {
                    None
                } else {
                    let active = match stored.status.is_active() {
                        true => tx
                            .prepare_cached(&format!(
                                "SELECT {SESSION_COLUMNS} FROM streaming_sessions \
                                 WHERE stream_type = ? AND entity_id = ? \
                                 AND status NOT IN ('ended', 'error')"
                            ))?
                            .query_row(
                                params![
                                    stored.entity.stream_type.as_str(),
                                    stored.entity.entity_id
                                ],
                                session_row,
                            )
                            .optional()?,
                        false => None,
                    };
                    Some(active)
                };
                tx.commit()?;
                Ok(outcome)
            })
            .await?;
        match existing {
            None => Ok(Insert::Created(stored)),
            Some(Some(row)) => Ok(Insert::Existing(decode_session(row)?)),
            Some(None) => Err(Error::conflict("session id already exists")),
        }
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<StreamSession>> {
        self.fetch_session(
            &format!("SELECT {SESSION_COLUMNS} FROM streaming_sessions WHERE id = ?"),
            &[id.as_str()],
        )
        .await
    }

    async fn find_by_egress(&self, egress_id: &str) -> Result<Option<StreamSession>> {
        self.fetch_session(
            &format!(
                "SELECT {SESSION_COLUMNS} FROM streaming_sessions WHERE egress_id = ? \
                 ORDER BY created_at DESC, id DESC LIMIT 1"
            ),
            &[egress_id],
        )
        .await
    }

    async fn active_session(&self, entity: &Entity) -> Result<Option<StreamSession>> {
        self.fetch_session(
            &format!(
                "SELECT {SESSION_COLUMNS} FROM streaming_sessions \
                 WHERE stream_type = ? AND entity_id = ? AND status NOT IN ('ended', 'error')"
            ),
            &[entity.stream_type.as_str(), &entity.entity_id],
        )
        .await
    }

    async fn update_session(&self, session: &StreamSession) -> Result<StreamSession> {
        let data = encode(session)?;
        let columns = sql::AnalyticsColumns::of(session);
        // A version that does not fit never matches: the update reports a conflict.
        let expected = i64::try_from(session.version).unwrap_or(-1);
        let id = session.id.as_str();
        let row = self
            .run("update a session", |conn| {
                let row = conn
                    .prepare_cached(
                        "UPDATE streaming_sessions SET stream_type = ?, entity_id = ?, \
                         status = ?, egress_id = ?, created_at = ?, updated_at = ?, data = ?, \
                         created_day = ?, platform = ?, dry_run = ?, duration_ms = ?, \
                         end_reason = ?, \
                         version = version + 1 WHERE id = ? AND version = ? \
                         RETURNING version, viewer_count, peak_viewer_count, \
                         decisions_logged, events_recorded",
                    )?
                    .query_row(
                        params![
                            session.entity.stream_type.as_str(),
                            session.entity.entity_id,
                            session.status.as_str(),
                            session.egress_id,
                            session.created_at,
                            session.updated_at,
                            data,
                            columns.created_day,
                            columns.platform,
                            columns.dry_run,
                            columns.duration_ms,
                            columns.end_reason,
                            id,
                            expected,
                        ],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                    )
                    .optional();
                match row {
                    Ok(Some(columns)) => Ok(Ok(columns)),
                    Ok(None) => Ok(Err(missing(conn, id)?)),
                    Err(e) if is_unique_violation(&e) => Ok(Err(Missed::ActiveExists)),
                    Err(e) => Err(e),
                }
            })
            .await?;
        match row {
            Ok(columns) => {
                let mut next = session.clone();
                overlay(&mut next, columns);
                Ok(next)
            }
            Err(missing) => Err(missing.into_error("session was changed concurrently")),
        }
    }

    async fn list_sessions(&self, query: &SessionQuery) -> Result<SessionPage> {
        let cursor = query.cursor.as_deref().map(Cursor::decode).transpose()?;
        let size = query.page_size();
        let mut sql = format!("SELECT {SESSION_COLUMNS} FROM streaming_sessions WHERE 1 = 1");
        let mut binds: Vec<Value> = Vec::new();
        if let Some(entity) = &query.entity {
            sql.push_str(" AND stream_type = ? AND entity_id = ?");
            binds.push(Value::Text(entity.stream_type.as_str().to_owned()));
            binds.push(Value::Text(entity.entity_id.clone()));
        }
        if let Some(status) = query.status {
            sql.push_str(" AND status = ?");
            binds.push(Value::Text(status.as_str().to_owned()));
        }
        if query.active_only {
            sql.push_str(" AND status NOT IN ('ended', 'error')");
        }
        if let Some(platform) = query.platform {
            sql.push_str(" AND json_extract(data, '$.platform') = ?");
            binds.push(Value::Text(platform.as_str().to_owned()));
        }
        if let Some(from) = query.created_from {
            sql.push_str(" AND created_at >= ?");
            binds.push(Value::Integer(from));
        }
        if let Some(before) = query.created_before {
            sql.push_str(" AND created_at < ?");
            binds.push(Value::Integer(before));
        }
        if let Some(cursor) = &cursor {
            sql.push_str(" AND (created_at, id) < (?, ?)");
            binds.push(Value::Integer(cursor.created_at));
            binds.push(Value::Text(cursor.id.clone()));
        }
        sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT ?");
        binds.push(Value::Integer(i64::try_from(size + 1).unwrap_or(i64::MAX)));
        let rows = self
            .run("list sessions", |conn| {
                conn.prepare_cached(&sql)?
                    .query_map(params_from_iter(&binds), session_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        let more = rows.len() > size;
        let sessions = rows
            .into_iter()
            .take(size)
            .map(decode_session)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = more
            .then(|| sessions.last().map(|s| Cursor::after(s).encode()))
            .flatten();
        Ok(SessionPage {
            sessions,
            next_cursor,
        })
    }

    async fn record_activity(&self, id: &SessionId, activity: &Activity) -> Result<StreamSession> {
        let bump = match activity.kind {
            ActivityKind::Decision => {
                "UPDATE streaming_sessions SET decisions_logged = decisions_logged + 1, \
                 version = version + 1 WHERE id = ? AND status NOT IN ('ended', 'error') \
                 RETURNING data, version, viewer_count, peak_viewer_count, decisions_logged, \
                 events_recorded"
            }
            ActivityKind::Event => {
                "UPDATE streaming_sessions SET events_recorded = events_recorded + 1, \
                 version = version + 1 WHERE id = ? AND status NOT IN ('ended', 'error') \
                 RETURNING data, version, viewer_count, peak_viewer_count, decisions_logged, \
                 events_recorded"
            }
        };
        let data = serde_json::to_string(&activity.data)
            .map_err(|e| store_error_msg(format!("could not encode an activity: {e}")))?;
        let kind = activity.kind.as_str();
        let row = self
            .run("record an activity", |conn| {
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let row = tx
                    .prepare_cached(bump)?
                    .query_row([id.as_str()], session_row)
                    .optional()?;
                let Some(row) = row else {
                    return Ok(Err(missing(&tx, id.as_str())?));
                };
                tx.prepare_cached(
                    "INSERT INTO streaming_activities (session_id, kind, at, data) \
                     VALUES (?, ?, ?, ?)",
                )?
                .execute(params![id.as_str(), kind, activity.at, data])?;
                tx.prepare_cached(
                    "DELETE FROM streaming_activities WHERE session_id = ? AND kind = ? \
                     AND id <= (SELECT id FROM streaming_activities WHERE session_id = ? \
                     AND kind = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                )?
                .execute(params![
                    id.as_str(),
                    kind,
                    id.as_str(),
                    kind,
                    FEED_CAPACITY
                ])?;
                tx.commit()?;
                Ok(Ok(row))
            })
            .await?;
        match row {
            Ok(row) => decode_session(row),
            Err(missing) => Err(missing.into_error("session is over")),
        }
    }

    async fn recent_activity(
        &self,
        id: &SessionId,
        kind: ActivityKind,
        limit: usize,
    ) -> Result<Vec<Activity>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .run("read activities", |conn| {
                conn.prepare_cached(
                    "SELECT at, data FROM streaming_activities WHERE session_id = ? \
                     AND kind = ? ORDER BY id DESC LIMIT ?",
                )?
                .query_map(params![id.as_str(), kind.as_str(), limit], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        rows.into_iter()
            .map(|(at, data)| {
                Ok(Activity {
                    kind,
                    at,
                    data: serde_json::from_str(&data).map_err(|e| {
                        store_error_msg(format!("a stored activity is not valid JSON: {e}"))
                    })?,
                })
            })
            .collect()
    }

    async fn set_viewer_count(&self, id: &SessionId, viewers: u64) -> Result<StreamSession> {
        let viewers = to_i64("viewerCount", viewers)?;
        let row = self
            .update_returning(
                "set the viewer count",
                "UPDATE streaming_sessions SET viewer_count = ?1, \
                 peak_viewer_count = MAX(peak_viewer_count, ?1), version = version + 1 \
                 WHERE id = ?2 AND status NOT IN ('ended', 'error') \
                 RETURNING data, version, viewer_count, peak_viewer_count, decisions_logged, \
                 events_recorded",
                &[Value::Integer(viewers), Value::Text(id.as_str().to_owned())],
                id.as_str(),
            )
            .await?;
        match row {
            Ok(row) => decode_session(row),
            Err(missing) => Err(missing.into_error("session is over")),
        }
    }

    async fn claim_event(&self, event_id: &str, now_ms: i64) -> Result<bool> {
        let inserted = self
            .run("claim an event", |conn| {
                conn.prepare_cached(
                    "INSERT INTO streaming_processed_events (event_id, claimed_at) \
                     VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING",
                )?
                .execute(params![event_id, now_ms])
            })
            .await?;
        Ok(inserted == 1)
    }

    async fn release_event(&self, event_id: &str) -> Result<()> {
        self.run("release an event", |conn| {
            conn.prepare_cached("DELETE FROM streaming_processed_events WHERE event_id = ?")?
                .execute([event_id])
        })
        .await?;
        Ok(())
    }

    async fn prune_events(&self, claimed_before_ms: i64) -> Result<u64> {
        let pruned = self
            .run("prune events", |conn| {
                conn.prepare_cached("DELETE FROM streaming_processed_events WHERE claimed_at < ?")?
                    .execute([claimed_before_ms])
            })
            .await?;
        Ok(pruned as u64)
    }

    async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Lease> {
        check_claim(name, holder, ttl_ms)?;
        let expires_at = now_ms.saturating_add(ttl_ms);
        self.run("claim a lease", |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.prepare_cached(
                "INSERT INTO streaming_leases (name, holder, expires_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                 expires_at = excluded.expires_at \
                 WHERE streaming_leases.holder = excluded.holder \
                 OR streaming_leases.expires_at <= ?4",
            )?
            .execute(params![name, holder, expires_at, now_ms])?;
            let lease = tx
                .prepare_cached("SELECT holder, expires_at FROM streaming_leases WHERE name = ?")?
                .query_row([name], |r| {
                    Ok(Lease {
                        name: name.to_owned(),
                        holder: r.get(0)?,
                        expires_at: r.get(1)?,
                    })
                })?;
            tx.commit()?;
            Ok(lease)
        })
        .await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool> {
        check_name(name)?;
        let released = self
            .run("release a lease", |conn| {
                conn.prepare_cached("DELETE FROM streaming_leases WHERE name = ? AND holder = ?")?
                    .execute([name, holder])
            })
            .await?;
        Ok(released == 1)
    }

    async fn put_credential(&self, credential: &PlatformCredential) -> Result<()> {
        let data = serde_json::to_string(credential)
            .map_err(|e| store_error_msg(format!("could not encode a credential: {e}")))?;
        self.run("store a credential", |conn| {
            conn.prepare_cached(
                "INSERT INTO streaming_credentials (stream_type, entity_id, updated_at, data) \
                 VALUES (?, ?, ?, ?) ON CONFLICT (stream_type, entity_id) \
                 DO UPDATE SET updated_at = excluded.updated_at, data = excluded.data",
            )?
            .execute(params![
                credential.entity.stream_type.as_str(),
                credential.entity.entity_id,
                credential.updated_at,
                data,
            ])
        })
        .await?;
        Ok(())
    }

    async fn get_credential(&self, entity: &Entity) -> Result<Option<PlatformCredential>> {
        let data = self
            .run("read a credential", |conn| {
                conn.prepare_cached(
                    "SELECT data FROM streaming_credentials WHERE stream_type = ? \
                     AND entity_id = ?",
                )?
                .query_row(
                    params![entity.stream_type.as_str(), entity.entity_id],
                    |r| r.get::<_, String>(0),
                )
                .optional()
            })
            .await?;
        data.map(|data| {
            serde_json::from_str(&data)
                .map_err(|e| store_error_msg(format!("a stored credential is not valid JSON: {e}")))
        })
        .transpose()
    }

    async fn delete_credential(&self, entity: &Entity) -> Result<bool> {
        let deleted = self
            .run("delete a credential", |conn| {
                conn.prepare_cached(
                    "DELETE FROM streaming_credentials WHERE stream_type = ? AND entity_id = ?",
                )?
                .execute(params![entity.stream_type.as_str(), entity.entity_id])
            })
            .await?;
        Ok(deleted > 0)
    }

    async fn list_credentials(
        &self,
        after: Option<&Entity>,
        limit: usize,
    ) -> Result<Vec<PlatformCredential>> {
        let (after_type, after_id) = match after {
            Some(e) => (Some(e.stream_type.as_str()), Some(e.entity_id.as_str())),
            None => (None, None),
        };
        let limit = i64::try_from(page_size(limit)).unwrap_or(i64::MAX);
        let rows = self
            .run("list credentials", |conn| {
                conn.prepare_cached(
                    "SELECT data FROM streaming_credentials \
                     WHERE ?1 IS NULL OR (stream_type, entity_id) > (?1, ?2) \
                     ORDER BY stream_type, entity_id LIMIT ?3",
                )?
                .query_map(params![after_type, after_id, limit], |r| {
                    r.get::<_, String>(0)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        rows.iter()
            .map(|data| {
                serde_json::from_str(data).map_err(|e| {
                    store_error_msg(format!("a stored credential is not valid JSON: {e}"))
                })
            })
            .collect()
    }

    async fn put_game_state(&self, state: &StoredGameState) -> Result<()> {
        let data = serde_json::to_string(state)
            .map_err(|e| store_error_msg(format!("could not encode a game state: {e}")))?;
        self.run("store a game state", |conn| {
            conn.prepare_cached(
                "INSERT INTO streaming_game_states (lobby_id, updated_at, data) \
                 VALUES (?, ?, ?) ON CONFLICT (lobby_id) \
                 DO UPDATE SET updated_at = excluded.updated_at, data = excluded.data",
            )?
            .execute(params![state.state.lobby_id, state.updated_at, data])
        })
        .await?;
        Ok(())
    }

    async fn get_game_state(&self, lobby_id: &str) -> Result<Option<StoredGameState>> {
        let data = self
            .run("read a game state", |conn| {
                conn.prepare_cached("SELECT data FROM streaming_game_states WHERE lobby_id = ?")?
                    .query_row([lobby_id], |r| r.get::<_, String>(0))
                    .optional()
            })
            .await?;
        data.map(|data| {
            serde_json::from_str(&data)
                .map_err(|e| store_error_msg(format!("a stored game state is not valid JSON: {e}")))
        })
        .transpose()
    }

    async fn record_viewer_samples(&self, samples: &[ViewerSample]) -> Result<()> {
        let rows = sql::sample_columns(samples);
        self.run("store viewer samples", move |conn| {
            let tx = conn.transaction()?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO streaming_viewer_samples \
                     (session_id, at, destination_id, platform, viewers) VALUES (?, ?, ?, ?, ?) \
                     ON CONFLICT (session_id, at, destination_id) \
                     DO UPDATE SET platform = excluded.platform, viewers = excluded.viewers",
                )?;
                for (session, at, destination, platform, viewers) in &rows {
                    insert.execute(params![session, at, destination, platform, viewers])?;
                }
                // The sessions' rollups, recounted from their samples (a sample written
                // again replaces the old one, so adding would count it twice).
                let mut rollup = tx.prepare_cached(
                    "UPDATE streaming_sessions SET \
                     viewer_sum = (SELECT COALESCE(SUM(viewers), 0) \
                                   FROM streaming_viewer_samples WHERE session_id = ?1), \
                     viewer_readings = (SELECT COUNT(DISTINCT at) \
                                        FROM streaming_viewer_samples WHERE session_id = ?1) \
                     WHERE id = ?1",
                )?;
                let sessions: std::collections::BTreeSet<&String> =
                    rows.iter().map(|row| &row.0).collect();
                for session in sessions {
                    rollup.execute(params![session])?;
                }
            }
            tx.commit()
        })
        .await
    }

    async fn viewer_samples(
        &self,
        session_id: &SessionId,
        limit: usize,
    ) -> Result<Vec<ViewerSample>> {
        let id = session_id.as_str().to_owned();
        let limit = i64::try_from(limit.min(MAX_VIEWER_SAMPLES)).unwrap_or(0);
        let rows = self
            .run("read viewer samples", move |conn| {
                conn.prepare_cached(
                    "SELECT destination_id, platform, at, viewers FROM streaming_viewer_samples \
                     WHERE session_id = ? ORDER BY at, destination_id LIMIT ?",
                )?
                .query_map(params![id, limit], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        rows.into_iter()
            .map(|(destination_id, platform, at, viewers)| {
                sql::sample_row(session_id, destination_id, &platform, at, viewers)
            })
            .collect()
    }

    async fn append_timeline(&self, entries: &[TimelineEntry]) -> Result<()> {
        let rows = sql::timeline_columns(entries);
        self.run("append to a timeline", move |conn| {
            let tx = conn.transaction()?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO streaming_timeline (session_id, at, kind, status, cause) \
                     VALUES (?, ?, ?, ?, ?)",
                )?;
                for (session, at, kind, status, cause) in &rows {
                    insert.execute(params![session, at, kind, status, cause])?;
                }
            }
            tx.commit()
        })
        .await
    }

    async fn timeline(&self, session_id: &SessionId, limit: usize) -> Result<Vec<TimelineEntry>> {
        let id = session_id.as_str().to_owned();
        let limit = i64::try_from(limit.min(MAX_TIMELINE_ENTRIES)).unwrap_or(0);
        let rows = self
            .run("read a timeline", move |conn| {
                conn.prepare_cached(
                    "SELECT at, kind, status, cause FROM streaming_timeline \
                     WHERE session_id = ? ORDER BY seq LIMIT ?",
                )?
                .query_map(params![id, limit], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<rusqlite::Result<Vec<(i64, String, String, String)>>>()
            })
            .await?;
        rows.into_iter()
            .map(|row| sql::timeline_row(session_id, row))
            .collect()
    }

    async fn analytics(&self, filter: &AnalyticsFilter) -> Result<Vec<GroupTotals>> {
        let statement = analytics_statement(filter.group);
        let (stream_type, entity_id) = match &filter.entity {
            Some(e) => (Some(e.stream_type.as_str()), Some(e.entity_id.clone())),
            None => (None, None),
        };
        let args = (
            filter.from_ms,
            filter.to_ms,
            filter.include_dry_runs,
            stream_type,
            entity_id,
        );
        let rows = self
            .run("compute analytics", move |conn| {
                conn.prepare_cached(&statement)?
                    .query_map(params![args.0, args.1, args.2, args.3, args.4], |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                            r.get(6)?,
                            r.get(7)?,
                            r.get(8)?,
                            r.get(9)?,
                        ))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        Ok(sql::analytics_groups(filter.group, rows))
    }
}

/// Reads an agent key row (`prefix, agent_id, hash, label, created_at, revoked_at`).
fn agent_key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AgentKey> {
    Ok(AgentKey {
        prefix: r.get(0)?,
        agent_id: r.get(1)?,
        hash: r.get(2)?,
        label: r.get(3)?,
        created_at: r.get(4)?,
        revoked_at: r.get(5)?,
    })
}

const AGENT_KEY_COLUMNS: &str = "prefix, agent_id, hash, label, created_at, revoked_at";

#[async_trait]
impl AgentKeyStore for SqliteStore {
    async fn insert_agent_key(&self, key: &AgentKey) -> Result<bool> {
        check_prefix(&key.prefix)?;
        let inserted = self
            .run("store an agent key", |conn| {
                conn.prepare_cached(
                    "INSERT INTO streaming_agent_keys \
                     (prefix, agent_id, hash, label, created_at, revoked_at) \
                     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (prefix) DO NOTHING",
                )?
                .execute(params![
                    key.prefix,
                    key.agent_id,
                    key.hash,
                    key.label,
                    key.created_at,
                    key.revoked_at
                ])
            })
            .await?;
        Ok(inserted == 1)
    }

    async fn agent_key(&self, prefix: &str) -> Result<Option<AgentKey>> {
        self.run("read an agent key", |conn| {
            conn.prepare_cached(&format!(
                "SELECT {AGENT_KEY_COLUMNS} FROM streaming_agent_keys WHERE prefix = ?"
            ))?
            .query_row([prefix], agent_key_row)
            .optional()
        })
        .await
    }

    async fn revoke_agent_key(&self, prefix: &str, now_ms: i64) -> Result<Option<AgentKey>> {
        self.run("revoke an agent key", |conn| {
            conn.prepare_cached(&format!(
                "UPDATE streaming_agent_keys SET revoked_at = COALESCE(revoked_at, ?) \
                 WHERE prefix = ? RETURNING {AGENT_KEY_COLUMNS}"
            ))?
            .query_row(params![now_ms, prefix], agent_key_row)
            .optional()
        })
        .await
    }

    async fn list_agent_keys(&self, agent_id: Option<&str>) -> Result<Vec<AgentKey>> {
        self.run("list agent keys", |conn| {
            conn.prepare_cached(&format!(
                "SELECT {AGENT_KEY_COLUMNS} FROM streaming_agent_keys \
                 WHERE ?1 IS NULL OR agent_id = ?1 ORDER BY created_at, prefix"
            ))?
            .query_map([agent_id], agent_key_row)?
            .collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analytics_read_only_the_covering_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        for group in [
            AnalyticsGroup::Day,
            AnalyticsGroup::Platform,
            AnalyticsGroup::Entity,
        ] {
            let plan: Vec<String> = conn
                .prepare(&format!(
                    "EXPLAIN QUERY PLAN {}",
                    analytics_statement(group)
                ))
                .unwrap()
                .query_map(params![0, 10, false, None::<String>, None::<String>], |r| {
                    r.get::<_, String>(3)
                })
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(
                plan.iter().any(|line| line
                    .contains("USING COVERING INDEX streaming_sessions_analytics (created_at>? AND created_at<?)")),
                "{group:?}: {plan:?}"
            );
        }
    }
}
