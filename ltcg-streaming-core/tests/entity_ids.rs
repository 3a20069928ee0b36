//! Entity ids (`userId`, `agentId`) in the identity formats products issue: Privy DIDs and
//! e-mail-like ids, through the service (memory and SQLite stores) and over HTTP. Session
//! ids stay strict.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use ltcg_streaming_core::http::{router, ApiAuth};
use ltcg_streaming_core::service::{
    ListSessionsRequest, RateLimitConfig, StartStreamRequest, StopStreamRequest,
};
use ltcg_streaming_core::store::SqliteStore;
use ltcg_streaming_core::{
    Actor, Entity, Error, ErrorCode, MemoryStore, SessionId, SessionStatus, StreamType,
};
use ltcg_streaming_test_support::harness::*;
use ltcg_streaming_test_support::http::call;
use serde_json::json;

const PRIVY_USER: &str = "did:privy:cm3np4u9j0abcdefghijklmnop";
const EMAIL_AGENT: &str = "a.b+c@example.com";

/// Starts, reads and stops one user's and one agent's stream on `h`.
async fn start_status_stop(h: &Harness) {
    let user = Actor::user(PRIVY_USER).unwrap();
    let agent = Actor::agent(EMAIL_AGENT).unwrap();
    let u = h
        .service
        .start_stream(&user, user_start("k1"))
        .await
        .unwrap();
    let a = h
        .service
        .start_stream(&agent, agent_start(EMAIL_AGENT))
        .await
        .unwrap();
    let again = h
        .service
        .start_stream(&agent, agent_start(EMAIL_AGENT))
        .await
        .unwrap();
    assert!(again.reused && again.session_id == a.session_id);
    let status = h.service.get_status(&user, &u.session_id).await.unwrap();
    assert_eq!(status.entity_id, PRIVY_USER);
    let mine = h
        .service
        .list_sessions(
            &Actor::Internal,
            ListSessionsRequest {
                stream_type: Some(StreamType::Agent),
                entity_id: Some(EMAIL_AGENT.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(mine.count, 1);
    // The overlay token carries the id as it is.
    let url = h.service.overlay_url(&user, &u.session_id).await.unwrap();
    let token = url.split("token=").nth(1).unwrap();
    let claims = h
        .service
        .overlay_tokens()
        .verify(token, Some(u.session_id.as_str()))
        .unwrap();
    assert_eq!(claims.entity_id, PRIVY_USER);
    for (actor, id) in [(&user, &u.session_id), (&agent, &a.session_id)] {
        let stop = StopStreamRequest {
            session_id: Some(id.clone()),
            ..Default::default()
        };
        h.service.stop_stream(actor, stop).await.unwrap();
        let done = h.service.get_status(actor, id).await.unwrap();
        assert_eq!(done.status, SessionStatus::Ended);
    }
    let stopped_by_agent_id = StopStreamRequest {
        agent_id: Some(EMAIL_AGENT.into()),
        ..Default::default()
    };
    expect_code(
        h.service.stop_stream(&agent, stopped_by_agent_id).await,
        ErrorCode::NotFound,
    );
}

#[tokio::test]
async fn privy_and_email_like_ids_start_and_stop_on_the_memory_store() {
    start_status_stop(&Harness::new()).await;
}

#[tokio::test]
async fn privy_and_email_like_ids_start_and_stop_on_the_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("ids.db")).await.unwrap();
    start_status_stop(&Harness::with(Arc::new(store), RateLimitConfig::disabled())).await;
}

#[tokio::test]
async fn privy_and_email_like_ids_work_over_http() {
    let h = Harness::with(Arc::new(MemoryStore::new()), RateLimitConfig::default());
    let agent_key = "ltcg_Email_Agent_Key_0123456789";
    let internal = "Internal-Key-For-Entity-Ids-0123";
    let auth = ApiAuth::new()
        .with_internal_key(internal)
        .unwrap()
        .with_agent_key(agent_key, EMAIL_AGENT)
        .unwrap();
    let app = router(h.service.clone(), auth);
    let started = call(
        &app,
        Method::POST,
        "/api/streaming/start",
        Some(agent_key),
        Some(json!({"platform": "twitch", "streamKey": TWITCH_KEY})),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let sid = started.json["sessionId"].as_str().unwrap().to_owned();
    let user = call(
        &app,
        Method::POST,
        "/api/streaming/start",
        Some(internal),
        Some(
            json!({"streamType": "user", "userId": PRIVY_USER, "platform": "custom",
            "streamKey": "k1", "customRtmpUrl": "rtmp://127.0.0.1:1935/live"}),
        ),
    )
    .await;
    assert_eq!(user.status, StatusCode::OK, "{}", user.text);
    let status = call(
        &app,
        Method::GET,
        &format!("/api/streaming/status?sessionId={sid}"),
        Some(agent_key),
        None,
    )
    .await;
    assert_eq!(status.json["entityId"], EMAIL_AGENT, "{}", status.text);
    // In a query string `+`, `@` and `:` travel percent-encoded.
    for (stream_type, encoded) in [
        ("agent", "a.b%2Bc%40example.com"),
        ("user", "did%3Aprivy%3Acm3np4u9j0abcdefghijklmnop"),
    ] {
        let listed = call(
            &app,
            Method::GET,
            &format!("/api/streaming/sessions?streamType={stream_type}&entityId={encoded}"),
            Some(internal),
            None,
        )
        .await;
        assert_eq!(listed.json["count"], 1, "{}", listed.text);
    }
    let stopped = call(
        &app,
        Method::POST,
        "/api/streaming/stop",
        Some(agent_key),
        Some(json!({"sessionId": sid})),
    )
    .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.text);
    assert_eq!(stopped.json["stoppedSessionIds"], json!([sid]));
}

#[test]
fn entity_ids_are_bounded_and_free_of_whitespace_and_markup() {
    for good in [PRIVY_USER, EMAIL_AGENT, "agent_7", "auth0|abc123"] {
        assert!(Entity::agent(good).is_ok(), "{good}");
        assert!(Actor::user(good).is_ok(), "{good}");
    }
    let too_long = "a".repeat(129);
    for bad in [
        "",
        "a b",
        "tab\there",
        "line\nbreak",
        "nul\0",
        "<script>",
        "quote\"d",
        "émile@example.com",
        too_long.as_str(),
    ] {
        for (field, result) in [
            ("agentId", Entity::agent(bad).map(drop)),
            ("userId", Actor::user(bad).map(drop)),
        ] {
            match result {
                Err(Error::InvalidInput { field: f, reason }) => {
                    assert_eq!(f, field);
                    assert!(bad.is_empty() || !reason.contains(bad), "{reason}");
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }
    // Session ids stay strict.
    assert!(SessionId::parse(PRIVY_USER).is_err());
    assert!(SessionId::parse(EMAIL_AGENT).is_err());
}

#[tokio::test]
async fn a_start_for_a_malformed_entity_id_writes_nothing() {
    let h = Harness::new();
    let req = StartStreamRequest {
        agent_id: Some("a b@example.com".into()),
        ..agent_start("x")
    };
    let err = expect_code(
        h.service.start_stream(&Actor::Internal, req).await,
        ErrorCode::InvalidInput,
    );
    assert!(err.to_string().contains("agentId"), "{err}");
    let all = h
        .service
        .list_sessions(&Actor::Internal, ListSessionsRequest::default())
        .await
        .unwrap();
    assert_eq!(all.count, 0);
}
