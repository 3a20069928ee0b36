//! Races through the whole service on every store backend: concurrent starts for one
//! entity, concurrent duplicate webhooks, a webhook racing a stop; and the pruning of old
//! webhook event ids.
//!
//! PostgreSQL runs when `LTCG_TEST_POSTGRES_URL` is set (the test script starts a
//! throw-away cluster); in CI (`CI=true`) a missing URL fails instead of skipping.

use std::collections::HashSet;
use std::sync::Arc;

use ltcg_streaming_core::service::{RateLimitConfig, StopStreamRequest};
use ltcg_streaming_core::store::{SessionQuery, SessionStore};
use ltcg_streaming_core::{Actor, EgressStatus, Entity, MemoryStore, SessionStatus};
use ltcg_streaming_test_support::harness::*;

async fn concurrent_starts_give_one_session(store: Arc<dyn SessionStore>) {
    let h = Harness::with(store, RateLimitConfig::disabled());
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let service = h.service.clone();
            tokio::spawn(async move {
                service
                    .start_stream(&Actor::agent("racer").unwrap(), agent_start("racer"))
                    .await
            })
        })
        .collect();
    let mut ids = HashSet::new();
    let mut created = 0;
    for t in tasks {
        let resp = t.await.unwrap().unwrap();
        created += usize::from(!resp.reused);
        ids.insert(resp.session_id);
    }
    assert_eq!(ids.len(), 1, "every caller got the same session");
    assert_eq!(created, 1, "exactly one start created it");
    let page = h
        .store
        .list_sessions(&SessionQuery {
            entity: Some(Entity::agent("racer").unwrap()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.sessions.len(), 1, "exactly one session stored");
    assert_eq!(h.egress.started(), 1, "exactly one egress started");
}

async fn duplicate_webhooks_apply_once(store: Arc<dyn SessionStore>) {
    let h = Harness::with(store, RateLimitConfig::disabled());
    let s = h
        .service
        .start_stream(&Actor::Internal, agent_start("hooked"))
        .await
        .unwrap();
    let before = h.store.get_session(&s.session_id).await.unwrap().unwrap();
    let eg = before.egress_id.clone().unwrap();
    let body = egress_body(
        "EV_dup",
        "egress_updated",
        &eg,
        Some("EGRESS_ACTIVE"),
        None,
        None,
    );
    let auth = sign_webhook(&body, T0 / 1000);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (service, body, auth) = (h.service.clone(), body.clone(), auth.clone());
            tokio::spawn(async move { service.handle_webhook(body.as_bytes(), &auth).await })
        })
        .collect();
    let mut applied = 0;
    let mut duplicates = 0;
    for t in tasks {
        let out = t.await.unwrap().unwrap();
        applied += usize::from(out.applied);
        duplicates += usize::from(out.duplicate);
    }
    assert_eq!((applied, duplicates), (1, 49));
    let after = h.store.get_session(&s.session_id).await.unwrap().unwrap();
    assert_eq!(after.status, SessionStatus::Live);
    assert_eq!(after.version, before.version + 1, "one write");
}

async fn webhook_racing_a_stop_ends_consistently(store: Arc<dyn SessionStore>) {
    let h = Harness::with(store, RateLimitConfig::disabled());
    for round in 0..10 {
        let agent = format!("stopper{round}");
        let s = h
            .service
            .start_stream(&Actor::Internal, agent_start(&agent))
            .await
            .unwrap();
        let eg = h.egress_of(&s.session_id).await;
        h.egress.set_status(&eg, EgressStatus::Active).unwrap();
        h.webhook(
            &format!("EV_live{round}"),
            "egress_updated",
            &eg,
            Some("EGRESS_ACTIVE"),
            None,
        )
        .await
        .unwrap();
        h.clock.advance_ms(1_000);
        let status = if round % 2 == 0 {
            "EGRESS_COMPLETE"
        } else {
            "EGRESS_FAILED"
        };
        let body = egress_body(
            &format!("EV_end{round}"),
            "egress_ended",
            &eg,
            Some(status),
            None,
            Some("boom"),
        );
        let auth = sign_webhook(&body, T0 / 1000);
        let (svc1, svc2, id) = (h.service.clone(), h.service.clone(), s.session_id.clone());
        let hook = tokio::spawn(async move { svc1.handle_webhook(body.as_bytes(), &auth).await });
        let stop = tokio::spawn(async move {
            svc2.stop_stream(
                &Actor::Internal,
                StopStreamRequest {
                    session_id: Some(id),
                    ..Default::default()
                },
            )
            .await
        });
        let hook = hook.await.unwrap().unwrap();
        let stop = stop.await.unwrap().unwrap();
        let end = h.store.get_session(&s.session_id).await.unwrap().unwrap();
        assert!(end.status.is_terminal());
        let stats = end.stats.expect("stats frozen once");
        assert_eq!(stats.duration, 1_000);
        assert_eq!(end.ended_at, Some(end.started_at.unwrap() + 1_000));
        // Exactly one of the two made the session terminal.
        assert_ne!(
            hook.applied, !stop.already_ended,
            "round {round}: {hook:?} {stop:?}"
        );
        match end.end_reason.as_deref() {
            Some("manual") => assert!(!stop.already_ended),
            Some("egress_complete") => assert_eq!(status, "EGRESS_COMPLETE"),
            Some("error") => assert_eq!(
                (end.status, status),
                (SessionStatus::Error, "EGRESS_FAILED")
            ),
            other => panic!("unexpected end reason {other:?}"),
        }
        // Whatever comes later changes nothing.
        let late = h
            .webhook(
                &format!("EV_late{round}"),
                "egress_ended",
                &eg,
                Some("EGRESS_FAILED"),
                None,
            )
            .await
            .unwrap();
        assert!(!late.applied);
        assert_eq!(
            h.store.get_session(&s.session_id).await.unwrap().unwrap(),
            end
        );
    }
}

/// Webhook event ids are remembered for a day, then forgotten by the reconciler; a recent
/// id still de-duplicates after the pass.
async fn old_event_ids_are_pruned_by_reconcile(store: Arc<dyn SessionStore>) {
    let h = Harness::with(store.clone(), RateLimitConfig::disabled());
    let started = h
        .service
        .start_stream(&Actor::Internal, agent_start("pruned"))
        .await
        .unwrap();
    let egress = {
        use ltcg_streaming_core::EgressBackend;
        h.egress.list_active().await.unwrap()[0].egress_id.clone()
    };
    let old = h
        .webhook("EV_old", "egress_started", &egress, None, None)
        .await
        .unwrap();
    assert_eq!(old.session_id.as_ref(), Some(&started.session_id));
    h.clock
        .advance_ms(ltcg_streaming_core::service::EVENT_ID_RETENTION_MS + 1_000);
    let recent = h
        .webhook(
            "EV_recent",
            "egress_updated",
            &egress,
            Some("EGRESS_ACTIVE"),
            None,
        )
        .await
        .unwrap();
    assert!(recent.applied);
    let report = h.service.reconcile(&Actor::Internal).await.unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    let now = {
        use ltcg_streaming_core::Clock;
        h.clock.now_ms()
    };
    // The old id was forgotten (a fresh claim wins); the recent one is still claimed.
    assert!(store.claim_event("EV_old", now).await.unwrap());
    assert!(!store.claim_event("EV_recent", now).await.unwrap());
    let again = h
        .webhook(
            "EV_recent",
            "egress_updated",
            &egress,
            Some("EGRESS_ACTIVE"),
            None,
        )
        .await
        .unwrap();
    assert!(again.duplicate);
    // Nothing else is pruned by a second pass.
    assert_eq!(store.prune_events(now - 1).await.unwrap(), 0);
    assert_eq!(store.prune_events(now + 1).await.unwrap(), 2);
}

macro_rules! race_tests {
    ($module:ident, $make:expr) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_starts() {
                if let Some(store) = $make.await {
                    concurrent_starts_give_one_session(store).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn duplicate_webhooks() {
                if let Some(store) = $make.await {
                    duplicate_webhooks_apply_once(store).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn old_event_ids_are_pruned() {
                if let Some(store) = $make.await {
                    old_event_ids_are_pruned_by_reconcile(store).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn webhook_vs_stop() {
                if let Some(store) = $make.await {
                    webhook_racing_a_stop_ends_consistently(store).await;
                }
            }
        }
    };
}

async fn memory() -> Option<Arc<dyn SessionStore>> {
    Some(Arc::new(MemoryStore::new()))
}

race_tests!(memory_store, memory());

#[cfg(feature = "sqlite")]
async fn sqlite() -> Option<Arc<dyn SessionStore>> {
    let dir = tempfile::tempdir().unwrap().keep();
    let store = ltcg_streaming_core::store::SqliteStore::open(dir.join("races.db"))
        .await
        .unwrap();
    Some(Arc::new(store))
}

#[cfg(feature = "sqlite")]
race_tests!(sqlite_store, sqlite());

#[cfg(feature = "postgres")]
async fn postgres() -> Option<Arc<dyn SessionStore>> {
    use ltcg_streaming_test_support::postgres::{fresh_schema, test_url};
    let url = test_url("the race checks on PostgreSQL")?;
    let schema = fresh_schema();
    let store = ltcg_streaming_core::store::PostgresStore::connect_with_schema(&url, &schema)
        .await
        .unwrap();
    Some(Arc::new(store))
}

#[cfg(feature = "postgres")]
race_tests!(postgres_store, postgres());
