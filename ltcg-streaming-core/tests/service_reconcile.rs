//! The reconciler against the in-process egress: orphans, foreign egresses, timeouts,
//! maximum duration, vanished egresses, missed webhooks.

use ltcg_streaming_core::egress::{EgressBackend, EgressRequest, EncodingSettings};
use ltcg_streaming_core::store::SessionStore as _;
use ltcg_streaming_core::{Actor, EgressStatus, SecretString, SessionId, SessionStatus};
use ltcg_streaming_test_support::harness::*;

fn request(page_url: &str) -> EgressRequest {
    EgressRequest {
        title: "Test stream".into(),
        session_id: SessionId::generate(),
        page_url: SecretString::from(page_url),
        outputs: vec![SecretString::from("rtmp://127.0.0.1/live/k")],
        encoding: EncodingSettings::default(),
        destination_policy: None,
    }
}

#[tokio::test]
async fn stops_orphans_but_never_foreign_egresses() {
    let h = Harness::new();
    let ours = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    let our_egress = h.egress_of(&ours.session_id).await;
    // An egress rendering our overlay for a session that does not exist (left by a crash).
    let orphan_url = format!(
        "{APP_URL}/stream/overlay?sessionId={}&token=t",
        SessionId::generate()
    );
    let orphan = h.egress.start(&request(&orphan_url)).await.unwrap();
    // An egress of some other application in the same LiveKit project.
    let foreign = h
        .egress
        .start(&request("https://other.app/render?sessionId=x"))
        .await
        .unwrap();
    // An egress rendering our overlay for a session that already ended.
    let ended = h
        .service
        .start_stream(&Actor::Internal, agent_start("a2"))
        .await
        .unwrap();
    let ended_egress = h.egress_of(&ended.session_id).await;
    let mut s = h
        .store
        .get_session(&ended.session_id)
        .await
        .unwrap()
        .unwrap();
    s.status = SessionStatus::Ended;
    s.egress_id = Some("EG_replaced".into());
    h.store.update_session(&s).await.unwrap();

    let report = h.service.reconcile(&Actor::Internal).await.unwrap();
    let mut stopped = report.stopped_egresses.clone();
    stopped.sort();
    let mut expected = vec![orphan.clone(), ended_egress.clone()];
    expected.sort();
    assert_eq!(stopped, expected, "{report:?}");
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(h.egress.status(&orphan), Some(EgressStatus::Aborted));
    assert_eq!(
        h.egress.status(&foreign),
        Some(EgressStatus::Starting),
        "foreign egress untouched"
    );
    assert_eq!(
        h.egress.status(&our_egress),
        Some(EgressStatus::Starting),
        "healthy egress untouched"
    );
    // A second pass has nothing to do.
    let again = h.service.reconcile(&Actor::Internal).await.unwrap();
    assert!(again.stopped_egresses.is_empty(), "{again:?}");
}

#[tokio::test]
async fn a_second_egress_of_one_session_is_stopped() {
    let h = Harness::new();
    let s = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    let url = h
        .service
        .overlay_url(&Actor::Internal, &s.session_id)
        .await
        .unwrap();
    let first = h.egress_of(&s.session_id).await;
    let duplicate = h.egress.start(&request(&url)).await.unwrap();
    let report = h.service.reconcile(&Actor::Internal).await.unwrap();
    assert_eq!(report.stopped_egresses, [duplicate]);
    let session = h.store.get_session(&s.session_id).await.unwrap().unwrap();
    assert_eq!(session.egress_id, Some(first));
    assert_eq!(session.status, SessionStatus::Pending);
}

#[tokio::test]
async fn missed_active_webhook_is_caught_up() {
    let h = Harness::new();
    let s = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    let eg = h.egress_of(&s.session_id).await;
    h.egress.set_status(&eg, EgressStatus::Active).unwrap();
    let report = h.service.reconcile(&Actor::Internal).await.unwrap();
    assert_eq!(report.caught_up, std::slice::from_ref(&s.session_id));
    assert_eq!(
        h.service
            .get_status(&Actor::Internal, &s.session_id)
            .await
            .unwrap()
            .status,
        SessionStatus::Live
    );
}

#[tokio::test]
async fn stuck_starts_time_out_and_stop_their_egress() {
    let h = Harness::new();
    let s = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    let eg = h.egress_of(&s.session_id).await;
    h.clock.advance_ms(4 * 60_000);
    assert!(h
        .service
        .reconcile(&Actor::Internal)
        .await
        .unwrap()
        .timed_out
        .is_empty());
    h.clock.advance_ms(60_001);
    let report = h.service.reconcile(&Actor::Internal).await.unwrap();
    assert_eq!(report.timed_out, std::slice::from_ref(&s.session_id));
    assert_eq!(report.stopped_egresses, std::slice::from_ref(&eg));
    assert_eq!(h.egress.status(&eg), Some(EgressStatus::Aborted));
    let st = h
        .service
        .get_status(&Actor::Internal, &s.session_id)
        .await
        .unwrap();
    assert_eq!(st.status, SessionStatus::Error);
}

#[tokio::test]
async fn max_duration_ends_live_sessions_and_stops_the_egress() {
    let h = Harness::new();
    let s = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    let eg = h.egress_of(&s.session_id).await;
    h.egress.set_status(&eg, EgressStatus::Active).unwrap();
    h.webhook("EV_a", "egress_updated", &eg, Some("EGRESS_ACTIVE"), None)
        .await
        .unwrap();
    h.clock.advance_ms(12 * 3_600_000 - 1);
    assert!(h
        .service
        .reconcile(&Actor::Internal)
        .await
        .unwrap()
        .max_duration_ended
        .is_empty());
    h.clock.advance_ms(1);
    let report = h.service.reconcile(&Actor::Internal).await.unwrap();
    assert_eq!(
        report.max_duration_ended,
        std::slice::from_ref(&s.session_id)
    );
    assert_eq!(
        h.egress.status(&eg),
        Some(EgressStatus::Complete),
        "billing stops too"
    );
    let st = h
        .service
        .get_status(&Actor::Internal, &s.session_id)
        .await
        .unwrap();
    assert_eq!(
        (st.status, st.end_reason.as_deref()),
        (SessionStatus::Ended, Some("max_duration"))
    );
    assert_eq!(
        st.stats.unwrap().duration,
        12 * 3_600_000,
        "cron-ended sessions get stats"
    );
}

#[tokio::test]
async fn vanished_egress_ends_the_session_after_a_grace_period() {
    let h = Harness::new();
    let s = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    let eg = h.egress_of(&s.session_id).await;
    h.egress.set_status(&eg, EgressStatus::Active).unwrap();
    h.webhook("EV_a", "egress_updated", &eg, Some("EGRESS_ACTIVE"), None)
        .await
        .unwrap();
    // The egress dies and its egress_ended webhook is lost.
    h.egress.set_status(&eg, EgressStatus::Failed).unwrap();
    assert!(
        h.service
            .reconcile(&Actor::Internal)
            .await
            .unwrap()
            .vanished
            .is_empty(),
        "grace period"
    );
    h.clock.advance_ms(60_001);
    let report = h.service.reconcile(&Actor::Internal).await.unwrap();
    assert_eq!(report.vanished, std::slice::from_ref(&s.session_id));
    let st = h
        .service
        .get_status(&Actor::Internal, &s.session_id)
        .await
        .unwrap();
    assert_eq!(
        (st.status, st.end_reason.as_deref()),
        (SessionStatus::Ended, Some("egress_lost"))
    );
    assert_eq!(st.duration, 60_001);
}

#[tokio::test]
async fn a_pass_defers_to_the_replica_holding_the_reconciler_lease() {
    let h = Harness::new();
    let orphan_url = format!(
        "{APP_URL}/stream/overlay?sessionId={}&token=t",
        SessionId::generate()
    );
    let orphan = h.egress.start(&request(&orphan_url)).await.unwrap();
    let ttl_ms = 30_000;
    let other = h
        .store
        .claim_lease("reconciler", "replica-b", T0, ttl_ms)
        .await
        .unwrap();
    assert_eq!(other.holder, "replica-b");

    let deferred = h.service.reconcile(&Actor::Internal).await.unwrap();
    assert_eq!(deferred.lease_held_by.as_deref(), Some("replica-b"));
    assert!(deferred.stopped_egresses.is_empty(), "{deferred:?}");
    assert_eq!(h.egress.status(&orphan), Some(EgressStatus::Starting));

    // The other replica died: once its lease lapses, this replica's pass does the work and
    // then lets the lease go.
    h.clock.advance_ms(ttl_ms);
    let acting = h.service.reconcile(&Actor::Internal).await.unwrap();
    assert_eq!(acting.lease_held_by, None);
    assert_eq!(acting.stopped_egresses, vec![orphan.clone()]);
    let next = h
        .store
        .claim_lease("reconciler", "replica-b", T0 + ttl_ms, ttl_ms)
        .await
        .unwrap();
    assert_eq!(
        next.holder, "replica-b",
        "the lease was released after the pass"
    );
}
