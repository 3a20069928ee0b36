//! [`SqliteStore`]: a [`SessionStore`] in one SQLite file (WAL), on sqlx.
//!
//! Layout: `streaming_sessions` (the session JSON plus the queried columns; `version` and
//! the four counters only in their own columns), `streaming_activities`,
//! `streaming_processed_events`, `streaming_credentials`; created by the embedded migrations
//! in `migrations/sqlite`.
//!
//! Concurrency: every change is one statement, or a transaction opened with
//! `BEGIN IMMEDIATE` (which takes the write lock up front, so two writers never deadlock
//! upgrading read locks). Writers queue on SQLite's busy timeout; readers never block
//! writers (WAL). The one-active-session rule is a partial unique index.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite};

use super::sql::{
    self, decode_session, encode, is_unique_violation, overlay, store_error_msg, to_i64,
    SessionRow, FEED_CAPACITY, INSERT_ATTEMPTS,
};
use super::{Cursor, Insert, PlatformCredential, SessionPage, SessionQuery, SessionStore};
use crate::error::{Error, Result};
use crate::session::{Activity, ActivityKind, Entity, SessionId, StreamSession};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// Connections in the pool made by [`SqliteStore::open`].
const MAX_CONNECTIONS: u32 = 8;
/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The columns a session is read from, in [`SessionRow`] order.
const SESSION_COLUMNS: &str =
    "data, version, viewer_count, peak_viewer_count, decisions_logged, events_recorded";

/// A [`SessionStore`] in a SQLite file: durable, single-machine, no server to run.
///
/// Opened with [`SqliteStore::open`] (WAL journal, 10 s busy timeout, foreign keys on, a
/// pool of 8 connections) or built on an existing pool with [`SqliteStore::from_pool`];
/// both apply the embedded migrations. Several processes may share the file.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: Option<PathBuf>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("connections", &self.pool.size())
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating it if missing) the database file at `path` and applies the
    /// migrations. The parent directory must exist.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        // A local file needs no liveness ping before each use (it would double the
        // round trips to the connection's worker thread).
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| store_error("open the SQLite database", e))?;
        let mut store = Self::from_pool(pool).await?;
        store.path = Some(path.to_owned());
        Ok(store)
    }

    /// A store on an existing pool, after applying the migrations. The pool's connections
    /// should use WAL, a busy timeout and foreign keys, as [`SqliteStore::open`] sets them.
    pub async fn from_pool(pool: SqlitePool) -> Result<Self> {
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| store_error("migrate the SQLite database", e.into()))?;
        tracing::debug!("SQLite session store ready");
        Ok(Self { pool, path: None })
    }

    /// The connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection (waiting for those in use); later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn fetch_session(&self, sql: &str, binds: &[&str]) -> Result<Option<StreamSession>> {
        let mut query = sqlx::query_as::<_, SessionRow>(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        query
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error("read a session", e))?
            .map(decode_session)
            .transpose()
    }

    /// The error for a session a conditional write did not touch: `NotFound` when it does
    /// not exist, else `Conflict` with `reason`.
    async fn missing_or(&self, id: &str, reason: &str) -> Error {
        match sqlx::query_scalar::<_, i64>("SELECT 1 FROM streaming_sessions WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
        {
            Ok(Some(_)) => Error::conflict(reason),
            Ok(None) => Error::not_found("session"),
            Err(e) => store_error("read a session", e),
        }
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn insert_session(&self, session: &StreamSession) -> Result<Insert> {
        let mut stored = session.clone();
        stored.version = 1;
        let data = encode(&stored)?;
        for _ in 0..INSERT_ATTEMPTS {
            // The partial unique index turns a second active session into a no-op.
            let inserted = sqlx::query(
                "INSERT INTO streaming_sessions (id, stream_type, entity_id, status, egress_id, \
                 created_at, updated_at, version, viewer_count, peak_viewer_count, \
                 decisions_logged, events_recorded, data) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(stored.id.as_str())
            .bind(stored.entity.stream_type.as_str())
            .bind(&stored.entity.entity_id)
            .bind(stored.status.as_str())
            .bind(stored.egress_id.as_deref())
            .bind(stored.created_at)
            .bind(stored.updated_at)
            .bind(to_i64("viewerCount", stored.viewer_count)?)
            .bind(to_i64("peakViewerCount", stored.peak_viewer_count)?)
            .bind(to_i64("decisionsLogged", stored.decisions_logged)?)
            .bind(to_i64("eventsRecorded", stored.events_recorded)?)
            .bind(&data)
            .execute(&self.pool)
            .await
            .map_err(|e| store_error("insert a session", e))?
            .rows_affected();
            if inserted == 1 {
                return Ok(Insert::Created(stored));
            }
            if stored.status.is_active() {
                if let Some(existing) = self.active_session(&stored.entity).await? {
                    return Ok(Insert::Existing(existing));
                }
            }
            if self.get_session(&stored.id).await?.is_some() {
                return Err(Error::conflict("session id already exists"));
            }
            // The active session ended between the two statements: try again.
        }
        Err(Error::conflict(
            "the entity's sessions are changing; try again",
        ))
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<StreamSession>> {
        self.fetch_session(
            "SELECT data, version, viewer_count, peak_viewer_count, decisions_logged, \
             events_recorded FROM streaming_sessions WHERE id = ?",
            &[id.as_str()],
        )
        .await
    }

    async fn find_by_egress(&self, egress_id: &str) -> Result<Option<StreamSession>> {
        self.fetch_session(
            "SELECT data, version, viewer_count, peak_viewer_count, decisions_logged, \
             events_recorded FROM streaming_sessions WHERE egress_id = ? \
             ORDER BY created_at DESC, id DESC LIMIT 1",
            &[egress_id],
        )
        .await
    }

    async fn active_session(&self, entity: &Entity) -> Result<Option<StreamSession>> {
        self.fetch_session(
            "SELECT data, version, viewer_count, peak_viewer_count, decisions_logged, \
             events_recorded FROM streaming_sessions \
             WHERE stream_type = ? AND entity_id = ? AND status NOT IN ('ended', 'error')",
            &[entity.stream_type.as_str(), &entity.entity_id],
        )
        .await
    }

    async fn update_session(&self, session: &StreamSession) -> Result<StreamSession> {
        let data = encode(session)?;
        // A version that does not fit never matches: the update reports a conflict.
        let expected = i64::try_from(session.version).unwrap_or(-1);
        let row = sqlx::query_as::<_, (i64, i64, i64, i64, i64)>(
            "UPDATE streaming_sessions SET stream_type = ?, entity_id = ?, status = ?, \
             egress_id = ?, created_at = ?, updated_at = ?, data = ?, version = version + 1 \
             WHERE id = ? AND version = ? \
             RETURNING version, viewer_count, peak_viewer_count, decisions_logged, \
             events_recorded",
        )
        .bind(session.entity.stream_type.as_str())
        .bind(&session.entity.entity_id)
        .bind(session.status.as_str())
        .bind(session.egress_id.as_deref())
        .bind(session.created_at)
        .bind(session.updated_at)
        .bind(&data)
        .bind(session.id.as_str())
        .bind(expected)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                Error::conflict("the entity already has an active session")
            } else {
                store_error("update a session", e)
            }
        })?;
        match row {
            Some((version, viewers, peak, decisions, events)) => {
                let mut next = session.clone();
                overlay(&mut next, (version, viewers, peak, decisions, events));
                Ok(next)
            }
            None => Err(self
                .missing_or(session.id.as_str(), "session was changed concurrently")
                .await),
        }
    }

    async fn list_sessions(&self, query: &SessionQuery) -> Result<SessionPage> {
        let cursor = query.cursor.as_deref().map(Cursor::decode).transpose()?;
        let size = query.page_size();
        let mut sql = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {SESSION_COLUMNS} FROM streaming_sessions WHERE 1 = 1"
        ));
        if let Some(entity) = &query.entity {
            sql.push(" AND stream_type = ")
                .push_bind(entity.stream_type.as_str())
                .push(" AND entity_id = ")
                .push_bind(entity.entity_id.as_str());
        }
        if let Some(status) = query.status {
            sql.push(" AND status = ").push_bind(status.as_str());
        }
        if query.active_only {
            sql.push(" AND status NOT IN ('ended', 'error')");
        }
        if let Some(cursor) = &cursor {
            sql.push(" AND (created_at, id) < (")
                .push_bind(cursor.created_at)
                .push(", ")
                .push_bind(cursor.id.as_str())
                .push(")");
        }
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::try_from(size + 1).unwrap_or(i64::MAX));
        let rows: Vec<SessionRow> = sql
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error("list sessions", e))?;
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
        let failed = |e| store_error("record an activity", e);
        // IMMEDIATE: the write lock is taken before the first read, so concurrent writers
        // queue on the busy timeout instead of failing to upgrade.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(failed)?;
        let row = sqlx::query_as::<_, SessionRow>(bump)
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(failed)?;
        let Some(row) = row else {
            tx.rollback().await.map_err(failed)?;
            return Err(self.missing_or(id.as_str(), "session is over").await);
        };
        sqlx::query(
            "INSERT INTO streaming_activities (session_id, kind, at, data) VALUES (?, ?, ?, ?)",
        )
        .bind(id.as_str())
        .bind(activity.kind.as_str())
        .bind(activity.at)
        .bind(&data)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        sqlx::query(
            "DELETE FROM streaming_activities WHERE session_id = ? AND kind = ? AND id <= \
             (SELECT id FROM streaming_activities WHERE session_id = ? AND kind = ? \
              ORDER BY id DESC LIMIT 1 OFFSET ?)",
        )
        .bind(id.as_str())
        .bind(activity.kind.as_str())
        .bind(id.as_str())
        .bind(activity.kind.as_str())
        .bind(FEED_CAPACITY)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        decode_session(row)
    }

    async fn recent_activity(
        &self,
        id: &SessionId,
        kind: ActivityKind,
        limit: usize,
    ) -> Result<Vec<Activity>> {
        let rows = sqlx::query_as::<_, (i64, String)>(
            "SELECT at, data FROM streaming_activities WHERE session_id = ? AND kind = ? \
             ORDER BY id DESC LIMIT ?",
        )
        .bind(id.as_str())
        .bind(kind.as_str())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| store_error("read activities", e))?;
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
        let row = sqlx::query_as::<_, SessionRow>(
            "UPDATE streaming_sessions SET viewer_count = ?, \
             peak_viewer_count = MAX(peak_viewer_count, ?), version = version + 1 \
             WHERE id = ? AND status NOT IN ('ended', 'error') \
             RETURNING data, version, viewer_count, peak_viewer_count, decisions_logged, \
             events_recorded",
        )
        .bind(viewers)
        .bind(viewers)
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| store_error("set the viewer count", e))?;
        match row {
            Some(row) => decode_session(row),
            None => Err(self.missing_or(id.as_str(), "session is over").await),
        }
    }

    async fn claim_event(&self, event_id: &str, now_ms: i64) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO streaming_processed_events (event_id, claimed_at) VALUES (?, ?) \
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| store_error("claim an event", e))?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn release_event(&self, event_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM streaming_processed_events WHERE event_id = ?")
            .bind(event_id)
            .execute(&self.pool)
            .await
            .map_err(|e| store_error("release an event", e))?;
        Ok(())
    }

    async fn put_credential(&self, credential: &PlatformCredential) -> Result<()> {
        let data = serde_json::to_string(credential)
            .map_err(|e| store_error_msg(format!("could not encode a credential: {e}")))?;
        sqlx::query(
            "INSERT INTO streaming_credentials (stream_type, entity_id, updated_at, data) \
             VALUES (?, ?, ?, ?) ON CONFLICT (stream_type, entity_id) \
             DO UPDATE SET updated_at = excluded.updated_at, data = excluded.data",
        )
        .bind(credential.entity.stream_type.as_str())
        .bind(&credential.entity.entity_id)
        .bind(credential.updated_at)
        .bind(&data)
        .execute(&self.pool)
        .await
        .map_err(|e| store_error("store a credential", e))?;
        Ok(())
    }

    async fn get_credential(&self, entity: &Entity) -> Result<Option<PlatformCredential>> {
        let data = sqlx::query_scalar::<_, String>(
            "SELECT data FROM streaming_credentials WHERE stream_type = ? AND entity_id = ?",
        )
        .bind(entity.stream_type.as_str())
        .bind(&entity.entity_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| store_error("read a credential", e))?;
        data.map(|data| {
            serde_json::from_str(&data)
                .map_err(|e| store_error_msg(format!("a stored credential is not valid JSON: {e}")))
        })
        .transpose()
    }

    async fn delete_credential(&self, entity: &Entity) -> Result<bool> {
        let deleted = sqlx::query(
            "DELETE FROM streaming_credentials WHERE stream_type = ? AND entity_id = ?",
        )
        .bind(entity.stream_type.as_str())
        .bind(&entity.entity_id)
        .execute(&self.pool)
        .await
        .map_err(|e| store_error("delete a credential", e))?
        .rows_affected();
        Ok(deleted > 0)
    }
}

/// A [`sql::store_error`] for this backend.
fn store_error(op: &str, err: sqlx::Error) -> Error {
    sql::store_error("SQLite", op, err)
}
