//! `StatusWatch`: a session's status now and at each change, woken by the service's own
//! notices, re-reading for changes made by another replica, ending after a terminal status.

use std::time::Duration;

use ltcg_streaming_core::service::StatusWatch;
use ltcg_streaming_core::{Actor, ErrorCode, SessionId, SessionStatus};
use ltcg_streaming_test_support::harness::{agent_start, decision, Harness};

/// The next view, within 5 s.
async fn next_status(watch: &mut StatusWatch) -> ltcg_streaming_core::service::SessionStatusView {
    tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .expect("a view within 5 s")
        .expect("the watch goes on")
        .expect("the read succeeds")
}

async fn started(h: &Harness) -> SessionId {
    h.service
        .start_stream(&Actor::Internal, agent_start("agent_7"))
        .await
        .unwrap()
        .session_id
}

#[tokio::test]
async fn a_watch_wakes_on_each_change_the_service_makes_and_ends_with_the_session() {
    let h = Harness::new();
    let id = started(&h).await;
    let agent = Actor::agent("agent_7").unwrap();
    // A refresh of an hour: every view below arrives because a notice woke the watch.
    let mut watch = h
        .service
        .watch_status_every(&agent, &id, Duration::from_secs(3600));
    assert_eq!(next_status(&mut watch).await.status, SessionStatus::Pending);
    h.go_live(&id).await;
    assert_eq!(next_status(&mut watch).await.status, SessionStatus::Live);
    h.service
        .record_decision(&agent, decision(1))
        .await
        .unwrap();
    let view = next_status(&mut watch).await;
    assert_eq!(
        (view.status, view.decisions_logged),
        (SessionStatus::Live, 1)
    );
    h.stop(&agent, &id).await.unwrap();
    let last = next_status(&mut watch).await;
    assert!(last.status.is_terminal(), "{:?}", last.status);
    assert!(
        watch.next().await.is_none(),
        "the watch ends after a terminal status"
    );
}

#[tokio::test]
async fn a_watch_sees_a_change_made_by_another_replica_on_its_refresh() {
    let h = Harness::new();
    let other_replica = Harness::with(h.store.clone(), Default::default());
    let id = started(&h).await;
    let mut watch = h
        .service
        .watch_status_every(&Actor::Internal, &id, Duration::from_millis(50));
    assert_eq!(next_status(&mut watch).await.status, SessionStatus::Pending);
    other_replica.stop(&Actor::Internal, &id).await.unwrap();
    assert!(next_status(&mut watch).await.status.is_terminal());
    assert!(watch.next().await.is_none());
}

#[tokio::test]
async fn a_watch_of_a_session_the_caller_may_not_read_ends_with_the_refusal() {
    let h = Harness::new();
    let unknown = SessionId::generate();
    let mut watch = h.service.watch_status(&Actor::Internal, &unknown);
    let err = watch.next().await.unwrap().unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound, "{err}");
    assert!(watch.next().await.is_none());
}

#[test]
fn refresh_periods_from_host_numbers_are_at_least_a_millisecond() {
    use ltcg_streaming_core::service::{watch_refresh, MIN_WATCH_REFRESH};
    assert_eq!(
        watch_refresh("refreshMs", 0.25).unwrap(),
        Duration::from_millis(250)
    );
    assert_eq!(
        watch_refresh("refreshMs", 0.001).unwrap(),
        MIN_WATCH_REFRESH
    );
    for bad in [0.0, 0.0009, -1.0, f64::NAN, f64::INFINITY] {
        let err = watch_refresh("refresh_seconds", bad).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{bad}");
        assert!(err.to_string().contains("refresh_seconds"), "{err}");
    }
}
