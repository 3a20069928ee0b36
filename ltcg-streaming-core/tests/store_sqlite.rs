//! `SqliteStore` against the store conformance suite, on real files; plus durability across
//! reopening and idempotent migrations.

#![cfg(feature = "sqlite")]
use async_trait::async_trait;
use ltcg_streaming_core::platform::Platform;
use ltcg_streaming_core::session::{Activity, ActivityKind, Entity, SessionStatus, StreamType};
use ltcg_streaming_core::store::conformance::sample_session;
use ltcg_streaming_core::store::{
    AgentKeyStore, Insert, Lease, PlatformCredential, SessionPage, SessionQuery, SessionStore,
    SqliteStore,
};
use ltcg_streaming_core::{Result, SessionId, StreamSession};
use tempfile::TempDir;

/// The schema version this release writes (`PRAGMA user_version`).
const CURRENT_VERSION: i64 = 7;

/// A [`SqliteStore`] on a fresh file, together with the temporary directory holding it (the
/// directory is removed only after the store is dropped).
#[derive(Debug)]
struct TempSqlite {
    store: SqliteStore,
    _dir: TempDir,
}

async fn temp_store() -> TempSqlite {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("sessions.db"))
        .await
        .expect("open the SQLite store");
    TempSqlite { store, _dir: dir }
}

ltcg_streaming_core::session_store_conformance!(temp_store());

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_keys_conform() {
    let store = temp_store().await;
    let result = ltcg_streaming_core::store::conformance::agent_keys(&store.store).await;
    assert_eq!(result, Ok(()));
}

#[async_trait]
impl SessionStore for TempSqlite {
    async fn insert_session(&self, session: &StreamSession) -> Result<Insert> {
        self.store.insert_session(session).await
    }
    async fn get_session(&self, id: &SessionId) -> Result<Option<StreamSession>> {
        self.store.get_session(id).await
    }
    async fn find_by_egress(&self, egress_id: &str) -> Result<Option<StreamSession>> {
        self.store.find_by_egress(egress_id).await
    }
    async fn active_session(&self, entity: &Entity) -> Result<Option<StreamSession>> {
        self.store.active_session(entity).await
    }
    async fn update_session(&self, session: &StreamSession) -> Result<StreamSession> {
        self.store.update_session(session).await
    }
    async fn list_sessions(&self, query: &SessionQuery) -> Result<SessionPage> {
        self.store.list_sessions(query).await
    }
    async fn record_activity(&self, id: &SessionId, activity: &Activity) -> Result<StreamSession> {
        self.store.record_activity(id, activity).await
    }
    async fn recent_activity(
        &self,
        id: &SessionId,
        kind: ActivityKind,
        limit: usize,
    ) -> Result<Vec<Activity>> {
        self.store.recent_activity(id, kind, limit).await
    }
    async fn set_viewer_count(&self, id: &SessionId, viewers: u64) -> Result<StreamSession> {
        self.store.set_viewer_count(id, viewers).await
    }
    async fn claim_event(&self, event_id: &str, now_ms: i64) -> Result<bool> {
        self.store.claim_event(event_id, now_ms).await
    }
    async fn release_event(&self, event_id: &str) -> Result<()> {
        self.store.release_event(event_id).await
    }
    async fn prune_events(&self, claimed_before_ms: i64) -> Result<u64> {
        self.store.prune_events(claimed_before_ms).await
    }
    async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Lease> {
        self.store.claim_lease(name, holder, now_ms, ttl_ms).await
    }
    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool> {
        self.store.release_lease(name, holder).await
    }
    async fn put_credential(&self, credential: &PlatformCredential) -> Result<()> {
        self.store.put_credential(credential).await
    }
    async fn get_credential(&self, entity: &Entity) -> Result<Option<PlatformCredential>> {
        self.store.get_credential(entity).await
    }
    async fn delete_credential(&self, entity: &Entity) -> Result<bool> {
        self.store.delete_credential(entity).await
    }
    async fn list_credentials(
        &self,
        after: Option<&Entity>,
        limit: usize,
    ) -> Result<Vec<PlatformCredential>> {
        self.store.list_credentials(after, limit).await
    }
    async fn put_game_state(&self, state: &ltcg_streaming_core::StoredGameState) -> Result<()> {
        self.store.put_game_state(state).await
    }
    async fn get_game_state(
        &self,
        lobby_id: &str,
    ) -> Result<Option<ltcg_streaming_core::StoredGameState>> {
        self.store.get_game_state(lobby_id).await
    }
    async fn record_viewer_samples(
        &self,
        samples: &[ltcg_streaming_core::session::ViewerSample],
    ) -> Result<()> {
        self.store.record_viewer_samples(samples).await
    }
    async fn viewer_samples(
        &self,
        session_id: &SessionId,
        limit: usize,
    ) -> Result<Vec<ltcg_streaming_core::session::ViewerSample>> {
        self.store.viewer_samples(session_id, limit).await
    }
    async fn append_timeline(
        &self,
        entries: &[ltcg_streaming_core::session::TimelineEntry],
    ) -> Result<()> {
        self.store.append_timeline(entries).await
    }
    async fn timeline(
        &self,
        session_id: &SessionId,
        limit: usize,
    ) -> Result<Vec<ltcg_streaming_core::session::TimelineEntry>> {
        self.store.timeline(session_id, limit).await
    }
}

fn agent(id: &str) -> Entity {
    Entity {
        stream_type: StreamType::Agent,
        entity_id: id.to_owned(),
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_wal_files_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .insert_session(&sample_session(&agent("a1"), 1))
        .await
        .unwrap();
    let mut checked = 0;
    for file in ["private.db", "private.db-wal", "private.db-shm"] {
        let file = dir.path().join(file);
        if let Ok(meta) = std::fs::metadata(&file) {
            let mode = meta.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} has mode {mode:o}", file.display());
            checked += 1;
        }
    }
    assert!(checked >= 2, "the database and its WAL exist");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("durable.db");
    let entity = agent("durable");
    let credential = PlatformCredential {
        entity: entity.clone(),
        platform: Platform::Custom,
        encrypted_key: Some("00:11:22".into()),
        custom_rtmp_url: Some("rtmp://127.0.0.1/live".into()),
        auto_start: true,
        enabled: true,
        keep_alive: true,
        overlay: Default::default(),
        channel: None,
        updated_at: 42,
    };
    let session = sample_session(&entity, 1_000);
    let ended = sample_session(&agent("other"), 900);

    let expected = {
        let store = SqliteStore::open(&path).await.unwrap();
        let Insert::Created(stored) = store.insert_session(&session).await.unwrap() else {
            panic!("not created");
        };
        let Insert::Created(other) = store.insert_session(&ended).await.unwrap() else {
            panic!("not created");
        };
        let mut other = other;
        other.status = SessionStatus::Ended;
        other.ended_at = Some(950);
        store.update_session(&other).await.unwrap();
        let mut live = stored.clone();
        live.status = SessionStatus::Live;
        live.egress_id = Some("EG_durable".into());
        live.started_at = Some(1_100);
        store.update_session(&live).await.unwrap();
        for n in 0..3 {
            let activity = Activity {
                kind: ActivityKind::Decision,
                at: 1_200 + n,
                data: serde_json::json!({"n": n, "text": "played a card"}),
            };
            store.record_activity(&session.id, &activity).await.unwrap();
        }
        store.set_viewer_count(&session.id, 7).await.unwrap();
        store.put_credential(&credential).await.unwrap();
        assert!(store.claim_event("EV_durable", 5).await.unwrap());
        let expected = store.get_session(&session.id).await.unwrap().unwrap();
        store.close().await;
        expected
    };
    assert_eq!(expected.version, 6);
    assert_eq!(expected.decisions_logged, 3);
    assert_eq!(expected.viewer_count, 7);

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        store.get_session(&session.id).await.unwrap().as_ref(),
        Some(&expected)
    );
    assert_eq!(
        store
            .find_by_egress("EG_durable")
            .await
            .unwrap()
            .map(|s| s.id),
        Some(session.id.clone())
    );
    assert_eq!(
        store.active_session(&entity).await.unwrap().map(|s| s.id),
        Some(session.id.clone())
    );
    let recent = store
        .recent_activity(&session.id, ActivityKind::Decision, 10)
        .await
        .unwrap();
    let ns: Vec<_> = recent.iter().map(|a| a.data["n"].as_i64()).collect();
    assert_eq!(ns, [Some(2), Some(1), Some(0)]);
    assert_eq!(
        store.get_credential(&entity).await.unwrap().as_ref(),
        Some(&credential)
    );
    assert!(!store.claim_event("EV_durable", 6).await.unwrap());
    let page = store.list_sessions(&SessionQuery::default()).await.unwrap();
    let ids: Vec<_> = page.sessions.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, [session.id.clone(), ended.id.clone()]);
    // The one-active-session rule still holds after reopening.
    match store
        .insert_session(&sample_session(&entity, 2_000))
        .await
        .unwrap()
    {
        Insert::Existing(existing) => assert_eq!(existing.id, session.id),
        Insert::Created(_) => panic!("second active session created after reopening"),
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_another_process_holds_locked_for_a_moment_still_opens() {
    // The process being replaced still holds a lock while the new one starts.
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("busy.db");
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder
        .execute_batch("CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);")
        .unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        holder.execute_batch("COMMIT").unwrap();
    });
    let store = SqliteStore::open(&path).await;
    release.join().unwrap();
    let store = store.expect("opened once the lock was released");
    assert!(store
        .get_session(&SessionId::generate())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twice.db");
    let session = sample_session(&agent("twice"), 1_000);
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.insert_session(&session).await.unwrap();
        store.close().await;
    }
    for _ in 0..2 {
        let store = SqliteStore::open(&path).await.unwrap();
        let got = store.get_session(&session.id).await.unwrap().unwrap();
        assert_eq!(got.version, 1);
        store.close().await;
    }
    // Two stores on one file at the same time (both migrate on open) also work.
    let a = SqliteStore::open(&path).await.unwrap();
    let b = SqliteStore::open(&path).await.unwrap();
    assert!(a.claim_event("EV_shared", 1).await.unwrap());
    assert!(!b.claim_event("EV_shared", 2).await.unwrap());
}

#[tokio::test]
async fn open_creates_the_file_and_reports_a_bad_path_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    assert!(!path.exists());
    let store = SqliteStore::open(&path).await.unwrap();
    assert!(path.exists());
    let debug = format!("{store:?}");
    assert!(debug.contains("SqliteStore"), "{debug}");
    store.close().await;

    let missing_dir = dir.path().join("no-such-dir").join("x.db");
    let err = SqliteStore::open(&missing_dir).await.unwrap_err();
    assert_eq!(err.code(), ltcg_streaming_core::ErrorCode::Store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_keep_the_newest_thousand_and_counters_keep_counting() {
    let temp = temp_store().await;
    let store = &temp.store;
    let Insert::Created(session) = store
        .insert_session(&sample_session(&agent("long"), 1_000))
        .await
        .unwrap()
    else {
        panic!("not created");
    };
    for n in 0..1_005 {
        let activity = Activity {
            kind: ActivityKind::Event,
            at: n,
            data: serde_json::json!({ "n": n }),
        };
        store.record_activity(&session.id, &activity).await.unwrap();
    }
    let feed = store
        .recent_activity(&session.id, ActivityKind::Event, 5_000)
        .await
        .unwrap();
    assert_eq!(feed.len(), 1_000);
    assert_eq!(feed[0].at, 1_004);
    assert_eq!(feed[999].at, 5);
    let got = store.get_session(&session.id).await.unwrap().unwrap();
    assert_eq!(got.events_recorded, 1_005);
    assert_eq!(got.version, 1_006);
}

#[tokio::test]
async fn files_without_a_schema_version_are_adopted_and_newer_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A file written by an earlier release: the tables exist, `user_version` is 0.
    let legacy = dir.path().join("legacy.db");
    let session = sample_session(&agent("legacy"), 1_000);
    {
        let store = SqliteStore::open(&legacy).await.unwrap();
        store.insert_session(&session).await.unwrap();
        store.close().await;
        let conn = rusqlite::Connection::open(&legacy).unwrap();
        conn.execute_batch(&format!("{BACK_TO_V4}PRAGMA user_version = 0"))
            .unwrap();
    }
    let store = SqliteStore::open(&legacy).await.unwrap();
    assert_eq!(
        store.get_session(&session.id).await.unwrap().map(|s| s.id),
        Some(session.id.clone())
    );
    store.close().await;
    let version: i64 = rusqlite::Connection::open(&legacy)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, CURRENT_VERSION);

    // A file from a newer release is refused, not rewritten.
    rusqlite::Connection::open(&legacy)
        .unwrap()
        .execute_batch("PRAGMA user_version = 9")
        .unwrap();
    let err = SqliteStore::open(&legacy).await.unwrap_err();
    assert_eq!(err.code(), ltcg_streaming_core::ErrorCode::Store);
    assert!(err.to_string().contains("schema version 9"), "{err}");
}

/// What schema versions 5 (the analytics columns), 6 (leases) and 7 (agent keys) added,
/// taken away again.
const BACK_TO_V4: &str = "DROP TABLE streaming_agent_keys; DROP TABLE streaming_leases; \
    DROP INDEX streaming_sessions_analytics; \
    ALTER TABLE streaming_sessions DROP COLUMN created_day; \
    ALTER TABLE streaming_sessions DROP COLUMN platform; \
    ALTER TABLE streaming_sessions DROP COLUMN dry_run; \
    ALTER TABLE streaming_sessions DROP COLUMN duration_ms; \
    ALTER TABLE streaming_sessions DROP COLUMN end_reason; \
    ALTER TABLE streaming_sessions DROP COLUMN viewer_sum; \
    ALTER TABLE streaming_sessions DROP COLUMN viewer_readings; ";

/// A file as an earlier release left it: one session written, then `downgrade` run on it
/// (dropping what that release did not have; [`BACK_TO_V4`] and more for releases before
/// version 5). Reopened: the store, the session, and a
/// reader of the file's schema version.
async fn reopened_after(
    dir: &tempfile::TempDir,
    name: &str,
    downgrade: &str,
) -> (
    SqliteStore,
    ltcg_streaming_core::StreamSession,
    impl Fn() -> i64,
) {
    let path = dir.path().join(name);
    let session = sample_session(&agent(name), 1_000);
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.insert_session(&session).await.unwrap();
        store.close().await;
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(downgrade)
            .unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    assert!(store.get_session(&session.id).await.unwrap().is_some());
    let version = move || {
        rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    (store, session, version)
}

#[tokio::test]
async fn a_version_1_file_gains_the_game_state_table_and_keeps_its_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, version) = reopened_after(
        &dir,
        "v1.db",
        &format!("{BACK_TO_V4}DROP TABLE streaming_game_states; PRAGMA user_version = 1"),
    )
    .await;
    let state: ltcg_streaming_core::GameState = serde_json::from_value(serde_json::json!({
        "lobbyId": "lobby_v1", "gameId": "g", "turnNumber": 1, "phase": "main1",
        "activePlayer": "host",
        "host": {"name": "a", "lifePoints": 8000}, "opponent": {"name": "b", "lifePoints": 8000}
    }))
    .unwrap();
    let stored = ltcg_streaming_core::StoredGameState {
        state,
        updated_at: 5,
    };
    store.put_game_state(&stored).await.unwrap();
    assert_eq!(
        store.get_game_state("lobby_v1").await.unwrap(),
        Some(stored)
    );
    store.close().await;
    assert_eq!(version(), CURRENT_VERSION);
}

#[tokio::test]
async fn a_version_2_file_gains_the_viewer_sample_table_and_keeps_its_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (store, session, version) = reopened_after(
        &dir,
        "v2.db",
        &format!(
            "{BACK_TO_V4}DROP INDEX streaming_viewer_samples_at; \
             DROP TABLE streaming_viewer_samples; PRAGMA user_version = 2"
        ),
    )
    .await;
    let sample = ltcg_streaming_core::session::ViewerSample {
        session_id: session.id.clone(),
        destination_id: "dst_0123456789abcdef".into(),
        platform: ltcg_streaming_core::Platform::Twitch,
        at: 2_000,
        viewers: 17,
    };
    store
        .record_viewer_samples(std::slice::from_ref(&sample))
        .await
        .unwrap();
    assert_eq!(
        store.viewer_samples(&session.id, 10).await.unwrap(),
        vec![sample]
    );
    store.close().await;
    assert_eq!(version(), CURRENT_VERSION);
}

#[tokio::test]
async fn a_version_3_file_gains_the_timeline_table_and_keeps_its_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (store, session, version) = reopened_after(
        &dir,
        "v3.db",
        &format!(
            "{BACK_TO_V4}DROP INDEX streaming_timeline_session; DROP TABLE streaming_timeline; \
             PRAGMA user_version = 3"
        ),
    )
    .await;
    let entry = ltcg_streaming_core::session::TimelineEntry::new(
        &session.id,
        2_000,
        ltcg_streaming_core::session::TimelineKind::Created,
        ltcg_streaming_core::SessionStatus::Initializing,
        "started",
    );
    store
        .append_timeline(std::slice::from_ref(&entry))
        .await
        .unwrap();
    assert_eq!(store.timeline(&session.id, 10).await.unwrap(), vec![entry]);
    store.close().await;
    assert_eq!(version(), CURRENT_VERSION);
}

#[tokio::test]
async fn a_version_4_file_gains_the_analytics_columns_filled_from_its_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.db");
    let mut session = sample_session(&agent("v4"), 1_000);
    session.platform = ltcg_streaming_core::Platform::Kick;
    session.dry_run = true;
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.insert_session(&session).await.unwrap();
        let sample = |at, destination: &str, viewers| ltcg_streaming_core::session::ViewerSample {
            session_id: session.id.clone(),
            destination_id: destination.into(),
            platform: ltcg_streaming_core::Platform::Kick,
            at,
            viewers,
        };
        store
            .record_viewer_samples(&[
                sample(2_000, "dst_a", 5),
                sample(2_000, "dst_b", 3),
                sample(3_000, "dst_a", 9),
            ])
            .await
            .unwrap();
        store.close().await;
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(&format!("{BACK_TO_V4}PRAGMA user_version = 4"))
            .unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    store.close().await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    let row: (String, i64, i64, i64, i64) = conn
        .query_row(
            "SELECT platform, dry_run, duration_ms, viewer_sum, viewer_readings \
             FROM streaming_sessions WHERE id = ?",
            [session.id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(row, ("kick".into(), 1, 0, 17, 2));
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, CURRENT_VERSION);
}

#[tokio::test]
async fn a_version_5_file_gains_the_lease_table_and_keeps_its_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, version) = reopened_after(
        &dir,
        "v5.db",
        "DROP TABLE streaming_agent_keys; DROP TABLE streaming_leases; PRAGMA user_version = 5",
    )
    .await;
    let lease = store.claim_lease("reconciler", "a", 10, 20).await.unwrap();
    assert_eq!((lease.holder.as_str(), lease.expires_at), ("a", 30));
    store.close().await;
    assert_eq!(version(), CURRENT_VERSION);
}

#[tokio::test]
async fn a_version_6_file_gains_the_agent_key_table_and_keeps_its_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, version) = reopened_after(
        &dir,
        "v6.db",
        "DROP TABLE streaming_agent_keys; PRAGMA user_version = 6",
    )
    .await;
    assert_eq!(store.list_agent_keys(None).await.unwrap(), vec![]);
    store.close().await;
    assert_eq!(version(), CURRENT_VERSION);
}

#[tokio::test]
async fn a_rewritten_viewer_sample_is_counted_once_with_its_new_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let session = sample_session(&agent("plan"), 1_000);
    store.insert_session(&session).await.unwrap();
    let sample = |viewers| ltcg_streaming_core::session::ViewerSample {
        session_id: session.id.clone(),
        destination_id: "dst_a".into(),
        platform: ltcg_streaming_core::Platform::Twitch,
        at: 2_000,
        viewers,
    };
    store.record_viewer_samples(&[sample(5)]).await.unwrap();
    // The same reading written again replaces the first: counted once, with its new value.
    store.record_viewer_samples(&[sample(8)]).await.unwrap();
    let totals = store
        .analytics(&ltcg_streaming_core::store::AnalyticsFilter {
            from_ms: 0,
            to_ms: 10_000,
            group: ltcg_streaming_core::store::AnalyticsGroup::Day,
            entity: None,
            include_dry_runs: false,
        })
        .await
        .unwrap();
    assert_eq!((totals[0].viewer_sum, totals[0].readings), (8, 1));
    store.close().await;
}

#[tokio::test]
async fn a_write_lock_held_by_another_process_is_waited_for_without_blocking_the_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    let store = SqliteStore::open(&path).await.unwrap();
    // Another connection (as another process would) holds the write lock for a while.
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = {
        let path = path.clone();
        std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            locked_tx.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
            conn.execute_batch("COMMIT").unwrap();
        })
    };
    locked_rx.recv().unwrap();
    // On this single-threaded runtime, a ticker only advances if the store's wait yields.
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let ticker = {
        let ticks = ticks.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        })
    };
    assert!(store.claim_event("EV_locked", 1).await.unwrap());
    ticker.abort();
    holder.join().unwrap();
    assert!(
        ticks.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "the runtime was blocked while the store waited for the lock"
    );
    assert!(!store.claim_event("EV_locked", 2).await.unwrap());
}
