//! `PostgresStore` against the store conformance suite, each test in a fresh schema of the
//! server named by `LTCG_TEST_POSTGRES_URL` (`scripts/test` starts a throw-away cluster, see
//! `scripts/postgres.sh`). Without that variable the tests print "skipping" and pass, except
//! in CI (`CI=true`), where they fail.
#![cfg(feature = "postgres")]

use ltcg_streaming_core::session::{Activity, ActivityKind, Entity, StreamType};
use ltcg_streaming_core::store::conformance::{sample_session, CHECKS};
use ltcg_streaming_core::store::{Insert, PostgresStore, SessionStore};
use ltcg_streaming_core::ErrorCode;

use ltcg_streaming_test_support::postgres::{fresh_schema, test_url, URL_VAR};

/// A store in a fresh schema.
async fn fresh_store(url: &str) -> PostgresStore {
    PostgresStore::connect_with_schema(url, &fresh_schema())
        .await
        .unwrap_or_else(|e| panic!("connecting to {URL_VAR} failed: {e}"))
}

/// Drops the store's schema (so a long-lived server does not collect test schemas) and
/// closes its pool.
async fn drop_store(store: PostgresStore) {
    if let Some(schema) = store.schema() {
        sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .execute(store.pool())
            .await
            .unwrap_or_else(|e| panic!("dropping schema {schema} failed: {e}"));
    }
    store.close().await;
}

// One `#[tokio::test]` per conformance check, each on a fresh schema that is dropped
// afterwards, and skipped (or failed in CI) without a server.
ltcg_streaming_core::session_store_conformance!(|name, check| {
    let Some(url) = test_url(name) else { return };
    let store = fresh_store(&url).await;
    let result = check(&store).await;
    drop_store(store).await;
    if let Err(failure) = result {
        panic!("{}: {}", name, failure);
    }
});

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_keys_conform() {
    let Some(url) = test_url("agent_keys_conform") else {
        return;
    };
    let store = fresh_store(&url).await;
    let result = ltcg_streaming_core::store::conformance::agent_keys(&store).await;
    drop_store(store).await;
    assert_eq!(result, Ok(()));
}

/// The checks this file runs as tests, by name.
const COVERED: &[&str] = ltcg_streaming_core::session_store_conformance!(@names);

#[test]
fn every_conformance_check_runs_here() {
    let all: Vec<_> = CHECKS.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        COVERED,
        all.as_slice(),
        "the tests and CHECKS come from the list in session_store_conformance!"
    );
}

fn agent(id: &str) -> Entity {
    Entity {
        stream_type: StreamType::Agent,
        entity_id: id.to_owned(),
    }
}

#[tokio::test]
async fn connection_errors_never_show_the_password() {
    // Nothing listens on port 1: the connection is refused.
    let url = "postgres://ltcg:hunter2-secret@127.0.0.1:1/ltcg";
    let err = PostgresStore::connect(url).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Store);
    let text = format!("{err} {err:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains("postgres://"), "{text}");

    let err = PostgresStore::connect_with_schema(url, "good_name")
        .await
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("hunter2"));

    let err = PostgresStore::connect("postgres://ltcg:hunter2-secret@[::1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}

#[tokio::test]
async fn bad_schema_names_are_refused_before_connecting() {
    for bad in ["", "Public", "a-b", "x\"; DROP SCHEMA public; --", "9lives"] {
        let err = PostgresStore::connect_with_schema("postgres://127.0.0.1:1/x", bad)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{bad:?}");
        assert!(err.to_string().contains("schema"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_reconnecting_and_migrations_are_idempotent() {
    let Some(url) = test_url("data_survives_reconnecting_and_migrations_are_idempotent") else {
        return;
    };
    let schema = fresh_schema();
    let session = sample_session(&agent("durable"), 1_000);
    {
        let store = PostgresStore::connect_with_schema(&url, &schema)
            .await
            .unwrap();
        assert!(matches!(
            store.insert_session(&session).await.unwrap(),
            Insert::Created(_)
        ));
        assert!(store.claim_event("EV_durable", 1).await.unwrap());
        let debug = format!("{store:?}");
        assert!(
            debug.contains(&schema) && !debug.contains("postgres://"),
            "{debug}"
        );
        store.close().await;
    }
    // Reconnecting migrates again (a no-op) and finds everything.
    let store = PostgresStore::connect_with_schema(&url, &schema)
        .await
        .unwrap();
    let got = store.get_session(&session.id).await.unwrap().unwrap();
    assert_eq!(got.version, 1);
    assert_eq!(got.stream_title, session.stream_title);
    assert!(!store.claim_event("EV_durable", 2).await.unwrap());
    drop_store(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_service_instances_share_the_one_active_session_rule() {
    let Some(url) = test_url("two_service_instances_share_the_one_active_session_rule") else {
        return;
    };
    let schema = fresh_schema();
    let a = PostgresStore::connect_with_schema(&url, &schema)
        .await
        .unwrap();
    let b = PostgresStore::connect_with_schema(&url, &schema)
        .await
        .unwrap();
    let entity = agent("shared");
    let sessions: Vec<_> = (0..20)
        .map(|i| sample_session(&entity, 1_000 + i))
        .collect();
    let inserts = sessions.iter().enumerate().map(|(i, s)| {
        let store = if i % 2 == 0 { &a } else { &b };
        store.insert_session(s)
    });
    let results = futures::future::join_all(inserts).await;
    let created = results
        .into_iter()
        .filter(|r| matches!(r, Ok(Insert::Created(_))))
        .count();
    assert_eq!(created, 1);
    b.close().await;
    drop_store(a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_keep_the_newest_thousand_and_counters_keep_counting() {
    let Some(url) = test_url("feeds_keep_the_newest_thousand_and_counters_keep_counting") else {
        return;
    };
    let store = fresh_store(&url).await;
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
    drop_store(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding_a_session_by_egress_reads_the_egress_index() {
    let Some(url) = test_url("finding_a_session_by_egress_reads_the_egress_index") else {
        return;
    };
    let store = fresh_store(&url).await;
    for n in 0..2_000 {
        let Insert::Created(mut session) = store
            .insert_session(&sample_session(&agent(&format!("egress_{n}")), 1_000 + n))
            .await
            .unwrap()
        else {
            panic!("not created");
        };
        session.egress_id = Some(format!("EG_{n}"));
        store.update_session(&session).await.unwrap();
    }
    // The plan a prepared statement falls back to after a few executions (generic plan).
    let mut conn = store.pool().acquire().await.unwrap();
    sqlx::query("SET plan_cache_mode = force_generic_plan")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query(
        "PREPARE by_egress(text) AS SELECT data::text FROM streaming_sessions \
         WHERE egress_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    let plan: Vec<String> = sqlx::query_scalar("EXPLAIN EXECUTE by_egress('EG_7')")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let plan = plan.join("\n");
    assert!(
        plan.contains("streaming_sessions_egress") && !plan.contains("Filter"),
        "find_by_egress scans instead of seeking:\n{plan}"
    );
    assert_eq!(
        store
            .find_by_egress("EG_7")
            .await
            .unwrap()
            .map(|s| s.egress_id),
        Some(Some("EG_7".to_owned()))
    );
    drop(conn);
    drop_store(store).await;
}
