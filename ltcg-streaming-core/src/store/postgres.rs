//! [`PostgresStore`]: a [`SessionStore`] in PostgreSQL, on sqlx.
//!
//! Layout: `streaming_sessions` (the session JSON plus the queried columns; `version` and
//! the four counters only in their own columns), `streaming_activities`,
//! `streaming_processed_events`, `streaming_credentials`, `streaming_game_states`,
//! `streaming_viewer_samples`, `streaming_timeline`, `streaming_leases`; created by the embedded migrations
//! in `migrations/postgres` (tracked in the schema's `_sqlx_migrations` table, so give the
//! store its own schema with [`PostgresStore::connect_with_schema`] when the database is
//! shared with an application that runs its own sqlx migrations).
//!
//! Concurrency: every compare-and-swap and counter change is one conditional `UPDATE` (row
//! locks plus PostgreSQL's re-check of the `WHERE` clause after a concurrent write make it
//! atomic under READ COMMITTED); an activity's counter bump and its feed row are written in
//! one transaction. The one-active-session rule is a partial unique index, and inserts use
//! `ON CONFLICT DO NOTHING`, so a lost race is a no-op, not an error.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Postgres, QueryBuilder};

use super::agent_keys::{check_prefix, AgentKey, AgentKeyStore};
use super::sql::{
    self, decode_session, encode, is_unique_violation, overlay, store_error_msg, to_i64,
    SessionRow, FEED_CAPACITY, INSERT_ATTEMPTS,
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

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections in the pool made by [`PostgresStore::connect`].
const MAX_CONNECTIONS: u32 = 10;
/// How long a call waits for a free connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts at a lease claim whose row changed hands between the upsert and the read.
const LEASE_CLAIM_ATTEMPTS: usize = 3;
/// Longest schema name accepted (PostgreSQL's identifier limit).
const MAX_SCHEMA_LEN: usize = 63;

/// The columns a session is read from, in [`SessionRow`] order.
const SESSION_COLUMNS: &str =
    "data::text, version, viewer_count, peak_viewer_count, decisions_logged, events_recorded";

/// A [`SessionStore`] in PostgreSQL: durable and shared by any number of service instances.
///
/// Built with [`PostgresStore::connect`], [`PostgresStore::connect_with_schema`] (its own
/// schema, created if missing) or [`PostgresStore::from_pool`]; each applies the embedded
/// migrations. `Debug` shows the schema and pool size, never the connection URL.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    schema: Option<String>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.schema)
            .field("connections", &self.pool.size())
            .finish()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`; the
    /// password never appears in errors or `Debug`) and applies the migrations in the
    /// connection's default schema (normally `public`).
    pub async fn connect(url: &str) -> Result<Self> {
        let options = parse_url(url)?;
        // One plain connection first: a wrong address or password fails at once instead
        // of after the pool's acquire timeout.
        connect_once(&options)
            .await?
            .close()
            .await
            .map_err(|e| store_error("connect to PostgreSQL", e))?;
        let pool = pool_options()
            .connect_with(options)
            .await
            .map_err(|e| store_error("connect to PostgreSQL", e))?;
        Self::from_pool(pool).await
    }

    /// Connects to the database at `url` and keeps every table in `schema`, which is created
    /// if missing and set as the `search_path` of every pooled connection. `schema` must be
    /// a plain identifier: 1–63 characters of `[a-z0-9_]`, not starting with a digit
    /// (error field `schema`).
    pub async fn connect_with_schema(url: &str, schema: &str) -> Result<Self> {
        validate_schema(schema)?;
        let options = parse_url(url)?;
        let mut conn = connect_once(&options).await?;
        // The name is a checked identifier, so quoting it is enough.
        let created = sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .execute(&mut conn)
            .await;
        // Two concurrent creations of one schema may still collide; the loser's schema
        // exists all the same.
        if let Err(e) = created {
            if !is_unique_violation(&e) {
                return Err(store_error("create the schema", e));
            }
        }
        conn.close()
            .await
            .map_err(|e| store_error("connect to PostgreSQL", e))?;
        let pool = pool_options()
            .connect_with(options.options([("search_path", schema)]))
            .await
            .map_err(|e| store_error("connect to PostgreSQL", e))?;
        let mut store = Self::from_pool(pool).await?;
        store.schema = Some(schema.to_owned());
        Ok(store)
    }

    /// A store on an existing pool, after applying the migrations in the pool's current
    /// schema (the first of its `search_path`).
    pub async fn from_pool(pool: PgPool) -> Result<Self> {
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| store_error("migrate the PostgreSQL database", e.into()))?;
        tracing::debug!("PostgreSQL session store ready");
        Ok(Self { pool, schema: None })
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The schema given to [`PostgresStore::connect_with_schema`], if any.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
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
        match sqlx::query_scalar::<_, i32>("SELECT 1 FROM streaming_sessions WHERE id = $1")
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

async fn connect_once(options: &PgConnectOptions) -> Result<PgConnection> {
    PgConnection::connect_with(options)
        .await
        .map_err(|e| store_error("connect to PostgreSQL", e))
}

fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // No ping before each use: it doubles the round trips. A connection the server
        // dropped fails its next statement (a retryable store error) and is discarded.
        .test_before_acquire(false)
}

/// Parses a connection URL; the error names `url` and never echoes it.
fn parse_url(url: &str) -> Result<PgConnectOptions> {
    PgConnectOptions::from_str(url)
        .map_err(|_| Error::invalid("url", "is not a valid PostgreSQL connection URL"))
}

fn validate_schema(schema: &str) -> Result<()> {
    let valid = !schema.is_empty()
        && schema.len() <= MAX_SCHEMA_LEN
        && !schema.starts_with(|c: char| c.is_ascii_digit())
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            "schema",
            "must be 1-63 characters of a-z, 0-9 and '_', not starting with a digit",
        ))
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn insert_session(&self, session: &StreamSession) -> Result<Insert> {
        let mut stored = session.clone();
        stored.version = 1;
        let data = encode(&stored)?;
        let columns = sql::AnalyticsColumns::of(&stored);
        for _ in 0..INSERT_ATTEMPTS {
            // The partial unique index turns a second active session into a no-op.
            let inserted = sqlx::query(
                "INSERT INTO streaming_sessions (id, stream_type, entity_id, status, egress_id, \
                 created_at, updated_at, version, viewer_count, peak_viewer_count, \
                 decisions_logged, events_recorded, data, platform, dry_run, duration_ms, \
                 end_reason, created_day) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10, $11, $12::json, $13, $14, \
                 $15, $16, $17) ON CONFLICT DO NOTHING",
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
            .bind(columns.platform)
            .bind(columns.dry_run)
            .bind(columns.duration_ms)
            .bind(columns.end_reason.as_deref())
            .bind(columns.created_day)
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
            "SELECT data::text, version, viewer_count, peak_viewer_count, decisions_logged, \
             events_recorded FROM streaming_sessions WHERE id = $1",
            &[id.as_str()],
        )
        .await
    }

    async fn find_by_egress(&self, egress_id: &str) -> Result<Option<StreamSession>> {
        self.fetch_session(
            "SELECT data::text, version, viewer_count, peak_viewer_count, decisions_logged, \
             events_recorded FROM streaming_sessions WHERE egress_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT 1",
            &[egress_id],
        )
        .await
    }

    async fn active_session(&self, entity: &Entity) -> Result<Option<StreamSession>> {
        self.fetch_session(
            "SELECT data::text, version, viewer_count, peak_viewer_count, decisions_logged, \
             events_recorded FROM streaming_sessions \
             WHERE stream_type = $1 AND entity_id = $2 AND status NOT IN ('ended', 'error')",
            &[entity.stream_type.as_str(), &entity.entity_id],
        )
        .await
    }

    async fn update_session(&self, session: &StreamSession) -> Result<StreamSession> {
        self.update_session_noting(session, &[]).await
    }

    async fn update_session_noting(
        &self,
        session: &StreamSession,
        entries: &[TimelineEntry],
    ) -> Result<StreamSession> {
        let data = encode(session)?;
        let columns = sql::AnalyticsColumns::of(session);
        // A version that does not fit never matches: the update reports a conflict.
        let expected = i64::try_from(session.version).unwrap_or(-1);
        let timeline = TimelineArrays::of(entries);
        // One statement: the timeline rows are inserted only when the update matched
        // (joined to its result), so both are written or neither.
        let row = sqlx::query_as::<_, (i64, i64, i64, i64, i64)>(
            "WITH updated AS ( \
               UPDATE streaming_sessions SET stream_type = $1, entity_id = $2, status = $3, \
               egress_id = $4, created_at = $5, updated_at = $6, data = $7::json, \
               platform = $10, dry_run = $11, duration_ms = $12, end_reason = $13, \
               created_day = $14, version = version + 1 \
               WHERE id = $8 AND version = $9 \
               RETURNING version, viewer_count, peak_viewer_count, decisions_logged, \
               events_recorded), \
             noted AS ( \
               INSERT INTO streaming_timeline (session_id, at, kind, status, cause) \
               SELECT s, a, k, st, c FROM updated, UNNEST($15::text[], $16::bigint[], \
               $17::text[], $18::text[], $19::text[]) WITH ORDINALITY AS t(s, a, k, st, c, n) \
               ORDER BY n) \
             SELECT version, viewer_count, peak_viewer_count, decisions_logged, \
             events_recorded FROM updated",
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
        .bind(columns.platform)
        .bind(columns.dry_run)
        .bind(columns.duration_ms)
        .bind(columns.end_reason.as_deref())
        .bind(columns.created_day)
        .bind(&timeline.sessions)
        .bind(&timeline.ats)
        .bind(&timeline.kinds)
        .bind(&timeline.statuses)
        .bind(&timeline.causes)
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
            Some(columns) => {
                let mut next = session.clone();
                overlay(&mut next, columns);
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
        let mut sql = QueryBuilder::<Postgres>::new(format!(
            "SELECT {SESSION_COLUMNS} FROM streaming_sessions WHERE TRUE"
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
        if let Some(platform) = query.platform {
            sql.push(" AND data->>'platform' = ")
                .push_bind(platform.as_str());
        }
        if let Some(from) = query.created_from {
            sql.push(" AND created_at >= ").push_bind(from);
        }
        if let Some(before) = query.created_before {
            sql.push(" AND created_at < ").push_bind(before);
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
                 version = version + 1 WHERE id = $1 AND status NOT IN ('ended', 'error') \
                 RETURNING data::text, version, viewer_count, peak_viewer_count, \
                 decisions_logged, events_recorded"
            }
            ActivityKind::Event => {
                "UPDATE streaming_sessions SET events_recorded = events_recorded + 1, \
                 version = version + 1 WHERE id = $1 AND status NOT IN ('ended', 'error') \
                 RETURNING data::text, version, viewer_count, peak_viewer_count, \
                 decisions_logged, events_recorded"
            }
        };
        let data = serde_json::to_string(&activity.data)
            .map_err(|e| store_error_msg(format!("could not encode an activity: {e}")))?;
        let failed = |e| store_error("record an activity", e);
        let mut tx = self.pool.begin().await.map_err(failed)?;
        // The UPDATE locks the session row until commit, so concurrent activities of one
        // session queue here and the feed below is written in counter order.
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
            "INSERT INTO streaming_activities (session_id, kind, at, data) \
             VALUES ($1, $2, $3, $4::json)",
        )
        .bind(id.as_str())
        .bind(activity.kind.as_str())
        .bind(activity.at)
        .bind(&data)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        sqlx::query(
            "DELETE FROM streaming_activities WHERE session_id = $1 AND kind = $2 AND id <= \
             (SELECT id FROM streaming_activities WHERE session_id = $1 AND kind = $2 \
              ORDER BY id DESC LIMIT 1 OFFSET $3)",
        )
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
            "SELECT at, data::text FROM streaming_activities WHERE session_id = $1 AND kind = $2 \
             ORDER BY id DESC LIMIT $3",
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
            "UPDATE streaming_sessions SET viewer_count = $1, \
             peak_viewer_count = GREATEST(peak_viewer_count, $1), version = version + 1 \
             WHERE id = $2 AND status NOT IN ('ended', 'error') \
             RETURNING data::text, version, viewer_count, peak_viewer_count, \
             decisions_logged, events_recorded",
        )
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
            "INSERT INTO streaming_processed_events (event_id, claimed_at) VALUES ($1, $2) \
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
        sqlx::query("DELETE FROM streaming_processed_events WHERE event_id = $1")
            .bind(event_id)
            .execute(&self.pool)
            .await
            .map_err(|e| store_error("release an event", e))?;
        Ok(())
    }

    async fn prune_events(&self, claimed_before_ms: i64) -> Result<u64> {
        let pruned = sqlx::query("DELETE FROM streaming_processed_events WHERE claimed_at < $1")
            .bind(claimed_before_ms)
            .execute(&self.pool)
            .await
            .map_err(|e| store_error("prune events", e))?
            .rows_affected();
        Ok(pruned)
    }

    async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Lease> {
        check_claim(name, holder, ttl_ms)?;
        // One statement: the upsert takes or renews the lease when it may, and otherwise the
        // row as it stands is read. When the row was inserted by a transaction that
        // committed after this statement's snapshot, neither part returns it: try again.
        for _ in 0..LEASE_CLAIM_ATTEMPTS {
            let row: Option<(String, i64)> = sqlx::query_as(
                "WITH claimed AS ( \
                   INSERT INTO streaming_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, \
                   expires_at = EXCLUDED.expires_at \
                   WHERE streaming_leases.holder = EXCLUDED.holder \
                   OR streaming_leases.expires_at <= $4 \
                   RETURNING holder, expires_at) \
                 SELECT holder, expires_at FROM claimed \
                 UNION ALL \
                 SELECT holder, expires_at FROM streaming_leases \
                 WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM claimed)",
            )
            .bind(name)
            .bind(holder)
            .bind(now_ms.saturating_add(ttl_ms))
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error("claim a lease", e))?;
            if let Some((holder, expires_at)) = row {
                return Ok(Lease {
                    name: name.to_owned(),
                    holder,
                    expires_at,
                });
            }
        }
        Err(store_error_msg(format!(
            "could not claim a lease: it changed hands {LEASE_CLAIM_ATTEMPTS} times"
        )))
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool> {
        check_name(name)?;
        let released = sqlx::query("DELETE FROM streaming_leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(|e| store_error("release a lease", e))?
            .rows_affected();
        Ok(released == 1)
    }

    async fn put_credential(&self, credential: &PlatformCredential) -> Result<()> {
        let data = serde_json::to_string(credential)
            .map_err(|e| store_error_msg(format!("could not encode a credential: {e}")))?;
        sqlx::query(
            "INSERT INTO streaming_credentials (stream_type, entity_id, updated_at, data) \
             VALUES ($1, $2, $3, $4::json) ON CONFLICT (stream_type, entity_id) \
             DO UPDATE SET updated_at = EXCLUDED.updated_at, data = EXCLUDED.data",
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
            "SELECT data::text FROM streaming_credentials \
             WHERE stream_type = $1 AND entity_id = $2",
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
            "DELETE FROM streaming_credentials WHERE stream_type = $1 AND entity_id = $2",
        )
        .bind(entity.stream_type.as_str())
        .bind(&entity.entity_id)
        .execute(&self.pool)
        .await
        .map_err(|e| store_error("delete a credential", e))?
        .rows_affected();
        Ok(deleted > 0)
    }

    async fn list_credentials(
        &self,
        after: Option<&Entity>,
        limit: usize,
    ) -> Result<Vec<PlatformCredential>> {
        // Byte order ("C" collation), as every store pages.
        let rows = sqlx::query_scalar::<_, String>(
            "SELECT data::text FROM streaming_credentials \
             WHERE $1::TEXT IS NULL \
             OR (stream_type COLLATE \"C\", entity_id COLLATE \"C\") > ($1, $2) \
             ORDER BY stream_type COLLATE \"C\", entity_id COLLATE \"C\" LIMIT $3",
        )
        .bind(after.map(|e| e.stream_type.as_str()))
        .bind(after.map(|e| e.entity_id.as_str()))
        .bind(i64::try_from(page_size(limit)).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| store_error("list credentials", e))?;
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
        sqlx::query(
            "INSERT INTO streaming_game_states (lobby_id, updated_at, data) \
             VALUES ($1, $2, $3::json) ON CONFLICT (lobby_id) \
             DO UPDATE SET updated_at = EXCLUDED.updated_at, data = EXCLUDED.data",
        )
        .bind(&state.state.lobby_id)
        .bind(state.updated_at)
        .bind(&data)
        .execute(&self.pool)
        .await
        .map_err(|e| store_error("store a game state", e))?;
        Ok(())
    }

    async fn get_game_state(&self, lobby_id: &str) -> Result<Option<StoredGameState>> {
        let data = sqlx::query_scalar::<_, String>(
            "SELECT data::text FROM streaming_game_states WHERE lobby_id = $1",
        )
        .bind(lobby_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| store_error("read a game state", e))?;
        data.map(|data| {
            serde_json::from_str(&data)
                .map_err(|e| store_error_msg(format!("a stored game state is not valid JSON: {e}")))
        })
        .transpose()
    }

    async fn record_viewer_samples(&self, samples: &[ViewerSample]) -> Result<()> {
        if samples.is_empty() {
            return Ok(());
        }
        let rows = sql::sample_columns(samples);
        let mut sessions = Vec::with_capacity(rows.len());
        let mut ats = Vec::with_capacity(rows.len());
        let mut destinations = Vec::with_capacity(rows.len());
        let mut platforms = Vec::with_capacity(rows.len());
        let mut viewers = Vec::with_capacity(rows.len());
        for (session, at, destination, platform, count) in rows {
            sessions.push(session);
            ats.push(at);
            destinations.push(destination);
            platforms.push(platform);
            viewers.push(count);
        }
        let failed = |e| store_error("store viewer samples", e);
        let mut touched = sessions.clone();
        touched.sort();
        touched.dedup();
        let mut tx = self.pool.begin().await.map_err(failed)?;
        // The sessions' rows first, in id order: a concurrent batch for the same session
        // waits here, then recounts with these samples in view.
        sqlx::query("SELECT id FROM streaming_sessions WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(&touched)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        // One statement for the whole batch.
        sqlx::query(
            "INSERT INTO streaming_viewer_samples \
             (session_id, at, destination_id, platform, viewers) \
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[]) \
             ON CONFLICT (session_id, at, destination_id) \
             DO UPDATE SET platform = EXCLUDED.platform, viewers = EXCLUDED.viewers",
        )
        .bind(&sessions)
        .bind(&ats)
        .bind(&destinations)
        .bind(&platforms)
        .bind(&viewers)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        // The rollups, recounted from the samples (a sample written again replaces the old
        // one, so adding would count it twice).
        sqlx::query(
            "UPDATE streaming_sessions s SET viewer_sum = r.total, viewer_readings = r.readings \
             FROM (SELECT session_id, SUM(viewers)::bigint AS total, \
                   COUNT(DISTINCT at) AS readings FROM streaming_viewer_samples \
                   WHERE session_id = ANY($1) GROUP BY session_id) r \
             WHERE s.id = r.session_id",
        )
        .bind(&touched)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)
    }

    async fn viewer_samples(
        &self,
        session_id: &SessionId,
        limit: usize,
    ) -> Result<Vec<ViewerSample>> {
        let limit = i64::try_from(limit.min(MAX_VIEWER_SAMPLES)).unwrap_or(0);
        let rows = sqlx::query_as::<_, (String, String, i64, i64)>(
            "SELECT destination_id, platform, at, viewers FROM streaming_viewer_samples \
             WHERE session_id = $1 ORDER BY at, destination_id LIMIT $2",
        )
        .bind(session_id.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| store_error("read viewer samples", e))?;
        rows.into_iter()
            .map(|(destination_id, platform, at, viewers)| {
                sql::sample_row(session_id, destination_id, &platform, at, viewers)
            })
            .collect()
    }

    async fn append_timeline(&self, entries: &[TimelineEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let timeline = TimelineArrays::of(entries);
        // One statement; WITH ORDINALITY keeps the entries' order in `seq`.
        sqlx::query(
            "INSERT INTO streaming_timeline (session_id, at, kind, status, cause) \
             SELECT s, a, k, st, c FROM UNNEST($1::text[], $2::bigint[], $3::text[], \
             $4::text[], $5::text[]) WITH ORDINALITY AS t(s, a, k, st, c, n) ORDER BY n",
        )
        .bind(&timeline.sessions)
        .bind(&timeline.ats)
        .bind(&timeline.kinds)
        .bind(&timeline.statuses)
        .bind(&timeline.causes)
        .execute(&self.pool)
        .await
        .map_err(|e| store_error("append to a timeline", e))?;
        Ok(())
    }

    async fn timeline(&self, session_id: &SessionId, limit: usize) -> Result<Vec<TimelineEntry>> {
        let limit = i64::try_from(limit.min(MAX_TIMELINE_ENTRIES)).unwrap_or(0);
        let rows = sqlx::query_as::<_, (i64, String, String, String)>(
            "SELECT at, kind, status, cause FROM streaming_timeline \
             WHERE session_id = $1 ORDER BY seq LIMIT $2",
        )
        .bind(session_id.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| store_error("read a timeline", e))?;
        rows.into_iter()
            .map(|row| sql::timeline_row(session_id, row))
            .collect()
    }

    async fn analytics(&self, filter: &AnalyticsFilter) -> Result<Vec<GroupTotals>> {
        let statement = analytics_statement(filter.group);
        let (stream_type, entity_id) = match &filter.entity {
            Some(e) => (Some(e.stream_type.as_str()), Some(e.entity_id.as_str())),
            None => (None, None),
        };
        let rows = analytics_query(&statement, filter, stream_type, entity_id)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error("compute analytics", e))?;
        Ok(sql::analytics_groups(filter.group, rows))
    }
}

/// The analytics statement for `group`: one index-only pass over
/// `streaming_sessions_analytics` (created_at, the summed columns included) for the time
/// range, per bucket, status and end reason.
fn analytics_statement(group: AnalyticsGroup) -> String {
    format!(
        "SELECT {bucket}, status, end_reason, COUNT(*), SUM(duration_ms)::bigint, \
         MAX(peak_viewer_count), SUM(decisions_logged)::bigint, \
         SUM(events_recorded)::bigint, SUM(viewer_sum)::bigint, \
         SUM(viewer_readings)::bigint \
         FROM streaming_sessions WHERE created_at >= $1 AND created_at < $2 \
         AND ($3 OR NOT dry_run) \
         AND ($4::text IS NULL OR (stream_type = $4 AND entity_id = $5)) \
         GROUP BY 1, 2, 3",
        bucket = sql::analytics_bucket(group)
    )
}

/// The analytics statement (or its `EXPLAIN`) with the filter's five parameters bound.
fn analytics_query<'q, O>(
    statement: &'q str,
    filter: &AnalyticsFilter,
    stream_type: Option<&'q str>,
    entity_id: Option<&'q str>,
) -> sqlx::query::QueryAs<'q, Postgres, O, sqlx::postgres::PgArguments>
where
    O: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    sqlx::query_as(statement)
        .bind(filter.from_ms)
        .bind(filter.to_ms)
        .bind(filter.include_dry_runs)
        .bind(stream_type)
        .bind(entity_id)
}

/// A [`sql::store_error`] for this backend.
fn store_error(op: &str, err: sqlx::Error) -> Error {
    sql::store_error("PostgreSQL", op, err)
}

/// Timeline entries as the column arrays one `UNNEST` inserts, in order.
struct TimelineArrays {
    sessions: Vec<String>,
    ats: Vec<i64>,
    kinds: Vec<&'static str>,
    statuses: Vec<&'static str>,
    causes: Vec<String>,
}

impl TimelineArrays {
    fn of(entries: &[TimelineEntry]) -> Self {
        let rows = sql::timeline_columns(entries);
        let mut arrays = Self {
            sessions: Vec::with_capacity(rows.len()),
            ats: Vec::with_capacity(rows.len()),
            kinds: Vec::with_capacity(rows.len()),
            statuses: Vec::with_capacity(rows.len()),
            causes: Vec::with_capacity(rows.len()),
        };
        for (session, at, kind, status, cause) in rows {
            arrays.sessions.push(session);
            arrays.ats.push(at);
            arrays.kinds.push(kind);
            arrays.statuses.push(status);
            arrays.causes.push(cause);
        }
        arrays
    }
}

/// An agent key row (`prefix, agent_id, hash, label, created_at, revoked_at`).
type AgentKeyRow = (String, String, String, Option<String>, i64, Option<i64>);

fn agent_key_from_row(
    (prefix, agent_id, hash, label, created_at, revoked_at): AgentKeyRow,
) -> AgentKey {
    AgentKey {
        prefix,
        agent_id,
        hash,
        label,
        created_at,
        revoked_at,
    }
}

#[async_trait]
impl AgentKeyStore for PostgresStore {
    async fn insert_agent_key(&self, key: &AgentKey) -> Result<bool> {
        check_prefix(&key.prefix)?;
        let inserted = sqlx::query(
            "INSERT INTO streaming_agent_keys \
             (prefix, agent_id, hash, label, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (prefix) DO NOTHING",
        )
        .bind(&key.prefix)
        .bind(&key.agent_id)
        .bind(&key.hash)
        .bind(&key.label)
        .bind(key.created_at)
        .bind(key.revoked_at)
        .execute(&self.pool)
        .await
        .map_err(|e| store_error("store an agent key", e))?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn agent_key(&self, prefix: &str) -> Result<Option<AgentKey>> {
        let row: Option<AgentKeyRow> = sqlx::query_as(
            "SELECT prefix, agent_id, hash, label, created_at, revoked_at \
             FROM streaming_agent_keys WHERE prefix = $1",
        )
        .bind(prefix)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| store_error("read an agent key", e))?;
        Ok(row.map(agent_key_from_row))
    }

    async fn revoke_agent_key(&self, prefix: &str, now_ms: i64) -> Result<Option<AgentKey>> {
        let row: Option<AgentKeyRow> = sqlx::query_as(
            "UPDATE streaming_agent_keys SET revoked_at = COALESCE(revoked_at, $2) \
             WHERE prefix = $1 \
             RETURNING prefix, agent_id, hash, label, created_at, revoked_at",
        )
        .bind(prefix)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| store_error("revoke an agent key", e))?;
        Ok(row.map(agent_key_from_row))
    }

    async fn list_agent_keys(&self, agent_id: Option<&str>) -> Result<Vec<AgentKey>> {
        let rows: Vec<AgentKeyRow> = sqlx::query_as(
            "SELECT prefix, agent_id, hash, label, created_at, revoked_at \
             FROM streaming_agent_keys WHERE $1::TEXT IS NULL OR agent_id = $1 \
             ORDER BY created_at, prefix",
        )
        .bind(agent_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| store_error("list agent keys", e))?;
        Ok(rows.into_iter().map(agent_key_from_row).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_checked() {
        for good in ["ltcg", "t_0123abc", "_x", &"a".repeat(63)] {
            assert!(validate_schema(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1abc",
            "Upper",
            "a-b",
            "a\"b",
            "a;drop",
            "é",
            &"a".repeat(64),
        ] {
            let err = validate_schema(bad).unwrap_err();
            assert!(err.to_string().contains("schema"), "{bad}");
        }
    }

    /// A time range of analytics reads the `created_at` index, not the whole table
    /// (20,000 sessions, one day of them asked for). Needs `LTCG_TEST_POSTGRES_URL`.
    #[tokio::test]
    async fn analytics_over_a_time_range_reads_the_created_at_index() {
        let Some(url) = std::env::var("LTCG_TEST_POSTGRES_URL").ok() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true needs LTCG_TEST_POSTGRES_URL"
            );
            eprintln!("skipping: LTCG_TEST_POSTGRES_URL is not set (scripts/test sets it)");
            return;
        };
        let schema = crate::session::random_id("ltcg_plan_");
        let store = PostgresStore::connect_with_schema(&url, &schema)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO streaming_sessions (id, stream_type, entity_id, status, created_at, \
             updated_at, version, created_day, platform, data) SELECT 'ses_' || g, 'agent', \
             'agent_' || (g % 500), 'ended', 1796083200000 + g * 60000, \
             1796083200000 + g * 60000, 1, (1796083200000 + g * 60000) / 86400000, 'twitch', \
             json_build_object('platform', 'twitch', 'endReason', 'manual', \
             'stats', json_build_object('duration', 60000)) \
             FROM generate_series(1, 20000) AS g",
        )
        .execute(store.pool())
        .await
        .unwrap();
        sqlx::query("VACUUM ANALYZE streaming_sessions")
            .execute(store.pool())
            .await
            .unwrap();
        let groups = analytics_statement(AnalyticsGroup::Day);
        let filter = AnalyticsFilter {
            from_ms: 1_796_083_200_000 + 86_400_000,
            to_ms: 1_796_083_200_000 + 2 * 86_400_000,
            group: AnalyticsGroup::Day,
            entity: None,
            include_dry_runs: false,
        };
        let explain = format!("EXPLAIN {groups}");
        let plan: Vec<(String,)> = analytics_query(&explain, &filter, None, None)
            .fetch_all(store.pool())
            .await
            .unwrap();
        let plan: String = plan.into_iter().map(|(line,)| line + "\n").collect();
        let sums = store.analytics(&filter).await.unwrap();
        sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
        assert!(
            plan.contains("Index Only Scan using streaming_sessions_analytics"),
            "{plan}"
        );
        assert!(!plan.contains("Seq Scan on streaming_sessions"), "{plan}");
        assert_eq!(sums.len(), 1, "{sums:?}");
        assert_eq!(sums[0].sessions, 1_440);
    }

    #[test]
    fn bad_urls_are_not_echoed() {
        let err = parse_url("postgres://user:hunter2@[bad").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("url"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
