//! Fault injection (mockall): failed, uncertain and slow egress starts; a store that fails
//! after the egress started; a webhook that arrives before the egress id is saved; a crash
//! and restart over the same database; a key rotation whose session update loses a race.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use futures::executor::block_on;
use ltcg_streaming_core::egress::{EgressBackend, EgressRequest, EgressSummary};
use ltcg_streaming_core::platform::Platform;
use ltcg_streaming_core::service::{RateLimitConfig, StopStreamRequest};
use ltcg_streaming_core::session::{
    Activity, ActivityKind, Entity, SessionId, StoredGameState, StreamSession, TimelineEntry,
    ViewerSample,
};
use ltcg_streaming_core::session::{Destination, DestinationStatus};
use ltcg_streaming_core::store::conformance::sample_session;
use ltcg_streaming_core::store::{
    Insert, Lease, PlatformCredential, SessionPage, SessionQuery, SessionStore, SqliteStore,
};
use ltcg_streaming_core::vault::rotation::{
    rotate_stored_keys, RotationCheckpoint, RotationOptions,
};
use ltcg_streaming_core::vault::{generate_key_hex, AesGcmVault};
use ltcg_streaming_core::{
    Actor, EgressStatus, Error, ErrorCode, MemoryEgress, MemoryStore, Result, SecretString,
    SessionStatus, StreamingService,
};
use ltcg_streaming_test_support::harness::*;
use mockall::mock;

mock! {
    #[derive(Debug)]
    pub Egress {}
    #[async_trait]
    impl EgressBackend for Egress {
        async fn start(&self, request: &EgressRequest) -> Result<String>;
        async fn update_outputs(&self, egress_id: &str, add: &[SecretString], remove: &[SecretString]) -> Result<()>;
        async fn stop(&self, egress_id: &str) -> Result<()>;
        async fn list_active(&self) -> Result<Vec<EgressSummary>>;
    }
}

mock! {
    #[derive(Debug)]
    pub Store {}
    #[async_trait]
    impl SessionStore for Store {
        async fn insert_session(&self, session: &StreamSession) -> Result<Insert>;
        async fn get_session(&self, id: &SessionId) -> Result<Option<StreamSession>>;
        async fn find_by_egress(&self, egress_id: &str) -> Result<Option<StreamSession>>;
        async fn active_session(&self, entity: &Entity) -> Result<Option<StreamSession>>;
        async fn update_session(&self, session: &StreamSession) -> Result<StreamSession>;
        async fn list_sessions(&self, query: &SessionQuery) -> Result<SessionPage>;
        async fn record_activity(&self, id: &SessionId, activity: &Activity) -> Result<StreamSession>;
        async fn recent_activity(&self, id: &SessionId, kind: ActivityKind, limit: usize) -> Result<Vec<Activity>>;
        async fn set_viewer_count(&self, id: &SessionId, viewers: u64) -> Result<StreamSession>;
        async fn claim_event(&self, event_id: &str, now_ms: i64) -> Result<bool>;
        async fn release_event(&self, event_id: &str) -> Result<()>;
        async fn claim_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<Lease>;
        async fn release_lease(&self, name: &str, holder: &str) -> Result<bool>;
        async fn put_credential(&self, credential: &PlatformCredential) -> Result<()>;
        async fn get_credential(&self, entity: &Entity) -> Result<Option<PlatformCredential>>;
        async fn delete_credential(&self, entity: &Entity) -> Result<bool>;
        async fn put_game_state(&self, state: &StoredGameState) -> Result<()>;
        async fn get_game_state(&self, lobby_id: &str) -> Result<Option<StoredGameState>>;
        async fn record_viewer_samples(&self, samples: &[ViewerSample]) -> Result<()>;
        async fn viewer_samples(&self, session_id: &SessionId, limit: usize) -> Result<Vec<ViewerSample>>;
        async fn append_timeline(&self, entries: &[TimelineEntry]) -> Result<()>;
        async fn timeline(&self, session_id: &SessionId, limit: usize) -> Result<Vec<TimelineEntry>>;
    }
}

fn egress_error(retryable: bool) -> Error {
    Error::Egress {
        retryable,
        message: if retryable {
            "unavailable: no response from servers"
        } else {
            "invalid_argument: bad url"
        }
        .into(),
    }
}

/// A mock egress whose list/stop go to `memory` (the record of what really runs).
fn mock_over(memory: &Arc<MemoryEgress>) -> MockEgress {
    let mut mock = MockEgress::new();
    let m = memory.clone();
    mock.expect_stop().returning(move |id| block_on(m.stop(id)));
    let m = memory.clone();
    mock.expect_list_active()
        .returning(move || block_on(m.list_active()));
    mock
}

fn harness_with(mock: MockEgress, memory: Arc<MemoryEgress>) -> Harness {
    Harness::with_parts(
        Arc::new(MemoryStore::new()),
        Arc::new(mock),
        memory,
        RateLimitConfig::disabled(),
    )
}

#[tokio::test]
async fn failed_start_leaves_error_and_nothing_running() {
    let memory = Arc::new(MemoryEgress::new());
    let mut mock = mock_over(&memory);
    mock.expect_start()
        .times(1)
        .returning(|_| Err(egress_error(false)));
    let h = harness_with(mock, memory.clone());
    let err = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Egress);
    assert!(!err.is_retryable());
    let page = h
        .store
        .list_sessions(&SessionQuery::default())
        .await
        .unwrap();
    assert_eq!(page.sessions.len(), 1);
    let s = &page.sessions[0];
    assert_eq!(s.status, SessionStatus::Error);
    assert_eq!(
        s.error_message.as_deref(),
        Some("egress error: invalid_argument: bad url")
    );
    assert!(
        memory.list_active().await.unwrap().is_empty(),
        "nothing running"
    );
    // The entity is free to start again.
    assert!(h.store.active_session(&s.entity).await.unwrap().is_none());
}

#[tokio::test]
async fn uncertain_start_is_adopted_by_the_reconciler() {
    let memory = Arc::new(MemoryEgress::new());
    let mut mock = mock_over(&memory);
    // The egress really starts, but the answer is lost (503 after the fact).
    let (m, started) = (memory.clone(), Arc::new(OnceLock::new()));
    let slot = started.clone();
    mock.expect_start().times(1).returning(move |req| {
        slot.set(block_on(m.start(req))?).unwrap();
        Err(egress_error(true))
    });
    let h = harness_with(mock, memory.clone());
    let resp = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    assert_eq!(resp.status, SessionStatus::Initializing);
    let s = h
        .store
        .get_session(&resp.session_id)
        .await
        .unwrap()
        .unwrap();
    assert!(s.start_uncertain && s.egress_id.is_none());

    let report = h.service.reconcile(&Actor::Internal).await.unwrap();
    assert_eq!(report.adopted, std::slice::from_ref(&resp.session_id));
    assert!(report.stopped_egresses.is_empty());
    let s = h
        .store
        .get_session(&resp.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.status, SessionStatus::Pending);
    assert_eq!(s.egress_id.as_ref(), started.get());
    assert!(!s.start_uncertain);
}

#[tokio::test]
async fn uncertain_start_without_an_egress_times_out() {
    let memory = Arc::new(MemoryEgress::new());
    let mut mock = mock_over(&memory);
    mock.expect_start()
        .times(1)
        .returning(|_| Err(egress_error(true)));
    let h = harness_with(mock, memory);
    let resp = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    assert!(
        h.service
            .reconcile(&Actor::Internal)
            .await
            .unwrap()
            .timed_out
            .is_empty(),
        "not yet"
    );
    h.clock.advance_ms(5 * 60_000 + 1);
    let report = h.service.reconcile(&Actor::Internal).await.unwrap();
    assert_eq!(report.timed_out, std::slice::from_ref(&resp.session_id));
    let s = h
        .store
        .get_session(&resp.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.status, SessionStatus::Error);
    assert!(!s.start_uncertain);
}

/// An egress backend whose start never answers in time (fault injection for timeouts).
#[derive(Debug)]
struct Hanging(Arc<MemoryEgress>);

#[async_trait]
impl EgressBackend for Hanging {
    async fn start(&self, request: &EgressRequest) -> Result<String> {
        let id = self.0.start(request).await?;
        tokio::time::sleep(Duration::from_secs(3_600)).await;
        Ok(id)
    }
    async fn update_outputs(
        &self,
        egress_id: &str,
        add: &[SecretString],
        remove: &[SecretString],
    ) -> Result<()> {
        self.0.update_outputs(egress_id, add, remove).await
    }
    async fn stop(&self, egress_id: &str) -> Result<()> {
        self.0.stop(egress_id).await
    }
    async fn list_active(&self) -> Result<Vec<EgressSummary>> {
        self.0.list_active().await
    }
}

#[tokio::test(start_paused = true)]
async fn start_call_timeout_is_uncertain_and_reconciled() {
    let memory = Arc::new(MemoryEgress::new());
    let h = Harness::with_parts(
        Arc::new(MemoryStore::new()),
        Arc::new(Hanging(memory.clone())),
        memory.clone(),
        RateLimitConfig::disabled(),
    );
    let resp = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    assert_eq!(resp.status, SessionStatus::Initializing);
    assert_eq!(
        resp.message,
        "Egress start not confirmed yet; the status will update"
    );
    let report = h.service.reconcile(&Actor::Internal).await.unwrap();
    assert_eq!(report.adopted, [resp.session_id]);
}

#[tokio::test]
async fn store_failure_after_egress_start_stops_the_egress() {
    let memory = Arc::new(MemoryEgress::new());
    let inner = Arc::new(MemoryStore::new());
    let mut store = MockStore::new();
    let i = inner.clone();
    store
        .expect_active_session()
        .returning(move |e| block_on(i.active_session(e)));
    let i = inner.clone();
    store
        .expect_insert_session()
        .returning(move |s| block_on(i.insert_session(s)));
    let i = inner.clone();
    store
        .expect_get_session()
        .returning(move |id| block_on(i.get_session(id)));
    store.expect_update_session().returning(|_| {
        Err(Error::Store {
            message: "database is unavailable".into(),
        })
    });
    // The timeline is down too: the start still ends cleanly.
    store.expect_append_timeline().returning(|_| {
        Err(Error::Store {
            message: "database is unavailable".into(),
        })
    });
    let mut egress = MockEgress::new();
    let (m, started) = (memory.clone(), Arc::new(OnceLock::<String>::new()));
    let slot = started.clone();
    egress.expect_start().times(1).returning(move |req| {
        let id = block_on(m.start(req))?;
        slot.set(id.clone()).unwrap();
        Ok(id)
    });
    let (m, slot) = (memory.clone(), started.clone());
    egress
        .expect_stop()
        .withf(move |id| slot.get().is_some_and(|started| started == id))
        .times(1)
        .returning(move |id| block_on(m.stop(id)));
    let h = Harness::with_parts(
        Arc::new(store),
        Arc::new(egress),
        memory.clone(),
        RateLimitConfig::disabled(),
    );
    let err = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Store);
    assert_eq!(
        memory.status(started.get().unwrap()),
        Some(EgressStatus::Aborted),
        "egress stopped"
    );
    assert!(memory.list_active().await.unwrap().is_empty());
}

#[tokio::test]
async fn webhook_before_the_egress_id_is_saved_matches_by_session_id() {
    let memory = Arc::new(MemoryEgress::new());
    let service_slot: Arc<OnceLock<StreamingService>> = Arc::new(OnceLock::new());
    let mut mock = mock_over(&memory);
    let started: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
    let (m, slot, egress_slot) = (memory.clone(), service_slot.clone(), started.clone());
    mock.expect_start().times(1).returning(move |req| {
        let id = block_on(m.start(req))?;
        egress_slot.set(id.clone()).unwrap();
        // LiveKit's egress_started and egress_updated(ACTIVE) overtake the start answer.
        let service = slot.get().expect("service is set");
        let url = req.page_url.expose_secret();
        for (n, status) in [(1, None), (2, Some("EGRESS_ACTIVE"))] {
            let body = egress_body(
                &format!("EV_early{n}"),
                "egress_updated",
                &id,
                status,
                Some(url),
                None,
            );
            let auth = sign_webhook(&body, T0 / 1000);
            let out =
                block_on(service.handle_webhook(body.as_bytes(), &auth)).expect("webhook accepted");
            assert!(
                out.applied,
                "matched through the sessionId in the overlay URL"
            );
        }
        Ok(id)
    });
    let h = harness_with(mock, memory);
    service_slot.set(h.service.clone()).unwrap();
    let resp = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    assert_eq!(
        resp.status,
        SessionStatus::Live,
        "the webhook got there first"
    );
    let s = h
        .store
        .get_session(&resp.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.egress_id.as_ref(), started.get());
    assert_eq!(s.started_at, Some(T0));
}

#[tokio::test]
async fn backend_errors_quoting_rtmp_urls_are_stored_redacted() {
    // A third-party backend whose errors quote the full output URL (key included).
    let memory = Arc::new(MemoryEgress::new());
    let mut mock = mock_over(&memory);
    mock.expect_start().times(1).returning(|req| {
        Err(Error::Egress {
            retryable: false,
            message: format!("cannot push to {}", req.outputs[0].expose_secret()),
        })
    });
    let m = memory.clone();
    mock.expect_start()
        .returning(move |req| block_on(m.start(req)));
    mock.expect_update_outputs().returning(|_, add, _| {
        Err(Error::Egress {
            retryable: false,
            message: format!("refused output {}", add[0].expose_secret()),
        })
    });
    let h = harness_with(mock, memory.clone());
    h.service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap_err();
    let page = h
        .store
        .list_sessions(&SessionQuery::default())
        .await
        .unwrap();
    let failed = page.sessions[0].error_message.clone().unwrap();
    assert!(failed.contains("rtmps://live.twitch.tv/app/{"), "{failed}");
    assert!(!failed.contains(TWITCH_KEY), "{failed}");

    let started = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    let extra_key = "live_extra_destination_key_0123";
    h.service
        .update_destinations(
            &Actor::Internal,
            ltcg_streaming_core::service::UpdateDestinationsRequest {
                session_id: started.session_id.clone(),
                add: vec![ltcg_streaming_core::service::DestinationInput {
                    platform: ltcg_streaming_core::Platform::Kick,
                    stream_key: SecretString::from(extra_key),
                    custom_rtmp_url: None,
                    channel: None,
                }],
                remove: vec![],
            },
        )
        .await
        .unwrap_err();
    let session = h
        .store
        .get_session(&started.session_id)
        .await
        .unwrap()
        .unwrap();
    let stored = serde_json::to_string(&session).unwrap();
    assert!(!stored.contains(extra_key), "{stored}");
    let failed = session
        .destinations
        .iter()
        .find_map(|d| d.error_message.clone())
        .unwrap();
    assert!(
        failed.starts_with("egress error: refused output rtmps://"),
        "{failed}"
    );
}

#[tokio::test]
async fn after_a_restart_stopping_an_old_session_spares_the_new_sessions_egress() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let open = || async { Arc::new(SqliteStore::open(&db).await.unwrap()) };
    let before = Harness::with(open().await, RateLimitConfig::disabled());
    let old = before
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    let old_egress = before.egress_of(&old.session_id).await;
    // A crash: the service and its memory egress are gone, the database stays.
    drop(before);
    let after = Harness::with(open().await, RateLimitConfig::disabled());
    let new = after
        .service
        .start_stream(&Actor::Internal, agent_start("a2"))
        .await
        .unwrap();
    let new_egress = after.egress_of(&new.session_id).await;
    assert_ne!(old_egress, new_egress, "egress ids never repeat");

    after
        .service
        .stop_stream(
            &Actor::Internal,
            StopStreamRequest {
                session_id: Some(old.session_id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        after.egress.status(&new_egress),
        Some(EgressStatus::Starting),
        "the new session's egress still runs"
    );
    let status = after
        .service
        .get_status(&Actor::Internal, &new.session_id)
        .await
        .unwrap()
        .status;
    assert_eq!(status, SessionStatus::Pending);
}

#[tokio::test]
async fn key_rotation_rereads_a_session_changed_under_it_and_keeps_the_change() {
    let old_hex = generate_key_hex();
    let old = AesGcmVault::from_hex(&old_hex).unwrap();
    let new_hex = generate_key_hex();
    let both = AesGcmVault::with_previous_hex(&new_hex, &[old_hex.as_str()]).unwrap();
    let mut session = sample_session(&Entity::agent("rotating").unwrap(), 1_000);
    session.version = 1;
    session.destinations.push(Destination {
        id: "dst_0011223344556677".into(),
        platform: Platform::Custom,
        redacted_url: "rtmp://127.0.0.1/live/{abc...xyz}".into(),
        encrypted_url: old.encrypt_key("rtmp://127.0.0.1/live/secret_one").unwrap(),
        status: DestinationStatus::Active,
        primary: true,
        added_at: 1_000,
        removed_at: None,
        error_message: None,
        channel: None,
        warning: None,
        preview_url: None,
        encrypted_access_token: Some(old.encrypt_key("token_secret_two").unwrap()),
    });
    // Meanwhile the service counted decisions: the stored session is at version 2.
    let mut changed = session.clone();
    changed.version = 2;
    changed.decisions_logged = 5;

    let mut store = MockStore::new();
    let listed = session.clone();
    store.expect_list_sessions().times(1).returning(move |_| {
        Ok(SessionPage {
            sessions: vec![listed.clone()],
            next_cursor: None,
        })
    });
    let fresh = changed.clone();
    store
        .expect_get_session()
        .times(1)
        .returning(move |_| Ok(Some(fresh.clone())));
    let written = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = written.clone();
    store.expect_update_session().times(2).returning(move |s| {
        log.lock().unwrap().push(s.clone());
        if s.version == 1 {
            Err(Error::conflict("session was changed concurrently"))
        } else {
            Ok(s.clone())
        }
    });

    // Credentials are done (this mock has none to list); the sessions are next.
    let report = rotate_stored_keys(
        &store,
        &both,
        RotationCheckpoint {
            credentials_done: true,
            ..RotationCheckpoint::default()
        },
        &RotationOptions::default(),
        |_| {},
    )
    .await
    .unwrap();
    assert!(report.finished, "{report:?}");
    assert_eq!(report.destination_urls.rotated, 1, "{report:?}");
    assert_eq!(report.access_tokens.rotated, 1, "{report:?}");
    assert!(!report.has_failures(), "{report:?}");
    let written = written.lock().unwrap();
    let last = written.last().unwrap();
    assert_eq!(
        last.version, 2,
        "the second write is based on the re-read session"
    );
    assert_eq!(last.decisions_logged, 5, "the concurrent change is kept");
    let new_only = AesGcmVault::from_hex(&new_hex).unwrap();
    let destination = &last.destinations[0];
    assert_eq!(
        new_only
            .decrypt_key(&destination.encrypted_url)
            .unwrap()
            .expose_secret(),
        "rtmp://127.0.0.1/live/secret_one"
    );
    assert_eq!(
        new_only
            .decrypt_key(destination.encrypted_access_token.as_deref().unwrap())
            .unwrap()
            .expose_secret(),
        "token_secret_two"
    );
}
