//! The session timeline: every status change, egress report, destination change, stop,
//! reconciler action and error is appended in order, with causes that hold no secret, and
//! read back by the session's owner (and internal callers) only, also over HTTP.

use axum::http::{Method, StatusCode};
use ltcg_streaming_core::service::{DestinationInput, UpdateDestinationsRequest};
use ltcg_streaming_core::session::{SessionStatus, TimelineKind};
use ltcg_streaming_core::{Actor, ErrorCode, SessionId};
use ltcg_streaming_test_support::harness::{agent_start, expect_code, Harness, TWITCH_KEY};
use ltcg_streaming_test_support::http::{app, call, AGENT_KEY, OTHER_AGENT_KEY};

/// The (kind, status) pairs of `id`'s timeline, and all its causes joined.
async fn read(h: &Harness, id: &SessionId) -> (Vec<(TimelineKind, SessionStatus)>, String) {
    let entries = h
        .service
        .session_timeline(&Actor::Internal, id)
        .await
        .unwrap();
    let causes = entries
        .iter()
        .map(|e| e.cause.as_str())
        .collect::<Vec<_>>()
        .join(" | ");
    (entries.iter().map(|e| (e.kind, e.status)).collect(), causes)
}

#[tokio::test]
async fn a_streams_life_is_its_timeline_in_order_without_secrets() {
    let h = Harness::new();
    let agent = Actor::agent("agent_7").unwrap();
    let started = h
        .service
        .start_stream(&agent, agent_start("agent_7"))
        .await
        .unwrap();
    let id = started.session_id;
    h.go_live(&id).await;
    let second_key = "live_555555555_secondsecondsec";
    let add: DestinationInput = serde_json::from_value(serde_json::json!({
        "platform": "twitch", "streamKey": second_key,
        "customRtmpUrl": "rtmps://custom.twitch.ingest/app"
    }))
    .unwrap();
    let added = h
        .service
        .update_destinations(
            &agent,
            UpdateDestinationsRequest {
                session_id: id.clone(),
                add: vec![add],
                remove: Vec::new(),
            },
        )
        .await
        .unwrap();
    h.service
        .update_destinations(
            &agent,
            UpdateDestinationsRequest {
                session_id: id.clone(),
                add: Vec::new(),
                remove: vec![added.added[0].id.clone().into()],
            },
        )
        .await
        .unwrap();
    h.clock.advance_ms(60_000);
    h.stop(&agent, &id).await.unwrap();

    let (kinds, causes) = read(&h, &id).await;
    use SessionStatus::*;
    use TimelineKind::*;
    assert_eq!(
        kinds,
        [
            (Created, Initializing),
            (Started, Pending),
            (EgressUpdate, Live),
            (DestinationAdded, Live),
            (DestinationRemoved, Live),
            (Stopped, Ended),
        ],
        "{causes}"
    );
    assert!(
        causes.starts_with("started by the agent: twitch"),
        "{causes}"
    );
    assert!(causes.contains("EGRESS_ACTIVE"), "{causes}");
    assert!(
        causes.contains("twitch rtmps://custom.twitch.ingest/app/{liv"),
        "{causes}"
    );
    assert!(causes.ends_with("manual"), "{causes}");
    for secret in [TWITCH_KEY, second_key] {
        assert!(!causes.contains(secret), "{causes}");
    }
    let entries = h.store.timeline(&id, 100).await.unwrap();
    assert!(
        entries.windows(2).all(|w| w[0].at <= w[1].at),
        "times follow the order"
    );
}

#[tokio::test]
async fn failed_starts_and_the_reconcilers_actions_are_on_the_timeline() {
    let h = Harness::new();
    // A start whose egress never reports: the reconciler times it out.
    let stuck = h
        .service
        .start_stream(&Actor::Internal, agent_start("agent_stuck"))
        .await
        .unwrap();
    h.clock.advance_ms(5 * 60_000 + 1);
    h.service.reconcile(&Actor::Internal).await.unwrap();
    let (kinds, causes) = read(&h, &stuck.session_id).await;
    assert_eq!(
        kinds.last(),
        Some(&(TimelineKind::Reconciled, SessionStatus::Error)),
        "{causes}"
    );
    assert!(causes.ends_with("the start timed out"), "{causes}");

    // An egress that fails: an error status with its (redacted) reason.
    let failing = h
        .service
        .start_stream(&Actor::Internal, agent_start("agent_failing"))
        .await
        .unwrap();
    h.egress_fails(&failing.session_id).await;
    let (kinds, causes) = read(&h, &failing.session_id).await;
    assert_eq!(
        kinds.last(),
        Some(&(TimelineKind::EgressUpdate, SessionStatus::Error)),
        "{causes}"
    );
    assert!(causes.contains("EGRESS_FAILED"), "{causes}");
}

#[tokio::test]
async fn only_the_owner_and_internal_callers_read_a_timeline() {
    let h = Harness::new();
    let started = h
        .service
        .start_stream(&Actor::agent("agent_7").unwrap(), agent_start("agent_7"))
        .await
        .unwrap();
    let id = started.session_id;
    expect_code(
        h.service
            .session_timeline(&Actor::agent("agent_9").unwrap(), &id)
            .await,
        ErrorCode::Forbidden,
    );
    let router = app(&h);
    let uri = format!("/api/streaming/timeline?sessionId={id}");
    let own = call(&router, Method::GET, &uri, Some(AGENT_KEY), None).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.json["sessionId"], id.as_str());
    assert_eq!(own.json["timeline"][0]["kind"], "created");
    assert_eq!(own.json["timeline"][1]["kind"], "started");
    let other = call(&router, Method::GET, &uri, Some(OTHER_AGENT_KEY), None).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.text);
    let missing = call(
        &router,
        Method::GET,
        "/api/streaming/timeline",
        Some(AGENT_KEY),
        None,
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
}
