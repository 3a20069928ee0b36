//! `Client::remote` against the core's router served on 127.0.0.1, beside `Client::embedded`
//! on the same service: the same methods give the same JSON and the same errors.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ltcg_streaming_core::client::{Client, RemoteOptions};
use ltcg_streaming_core::http::router;
use ltcg_streaming_core::service::{
    EventInput, MatchResultRequest, RateLimitConfig, ServiceMethod, StopStreamRequest,
};
use ltcg_streaming_core::session::MatchOutcome;
use ltcg_streaming_core::store::SessionStore;
use ltcg_streaming_core::vault::SecretString;
use ltcg_streaming_core::{Actor, Error, ErrorCode, MemoryStore};
use ltcg_streaming_test_support::harness::{agent_start, decision, Harness, T0};
use ltcg_streaming_test_support::http::{auth, AGENT_KEY};
use serde_json::{json, Value};

/// Serves `h`'s router on 127.0.0.1; its base URL.
async fn serve(h: &Harness) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(h.service.clone(), auth());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    format!("http://{addr}")
}

fn remote(base: &str, key: &str) -> Client {
    Client::remote(RemoteOptions::new(base, SecretString::from(key))).unwrap()
}

/// The embedded and the remote client of agent `agent_7` on one service.
async fn pair(h: &Harness) -> (Client, Client) {
    let base = serve(h).await;
    (
        Client::embedded(h.service.clone(), Actor::agent("agent_7").unwrap()),
        remote(&base, AGENT_KEY),
    )
}

async fn both(
    embedded: &Client,
    remote: &Client,
    method: ServiceMethod,
    args: Vec<Value>,
) -> (Value, Value) {
    let local = embedded.call_json(method, args.clone()).await.unwrap();
    let over_http = remote.call_json(method, args).await.unwrap();
    (local, over_http)
}

#[tokio::test]
async fn a_remote_agent_runs_a_whole_stream_and_reads_what_an_embedded_one_reads() {
    let h = Harness::new();
    let (embedded, remote) = pair(&h).await;
    assert!(remote.is_remote() && !embedded.is_remote());

    let started = remote.start_stream(agent_start("agent_7")).await.unwrap();
    assert!(!started.reused);
    let id = started.session_id.clone();
    let again = embedded.start_stream(agent_start("agent_7")).await.unwrap();
    assert!(
        again.reused,
        "the embedded start reuses the remote one's session"
    );
    assert_eq!(again.session_id, id);
    h.go_live(&id).await;

    let (local, over_http) = both(
        &embedded,
        &remote,
        ServiceMethod::GetStatus,
        vec![json!(id.as_str())],
    )
    .await;
    assert_eq!(local, over_http);
    assert_eq!(over_http["status"], "live");

    let linked = remote.link_lobby(&id, "lobby_1").await.unwrap();
    assert_eq!(linked.session_id, id);

    let recorded = remote.record_decision(decision(1)).await.unwrap();
    assert_eq!(recorded.session_id, id);
    embedded.record_decision(decision(2)).await.unwrap();
    remote
        .record_event(EventInput {
            game_id: "game_1".into(),
            event_type: "attack".into(),
            description: "Ember Drake attacks".into(),
            ..EventInput::default()
        })
        .await
        .unwrap();
    let state = serde_json::from_value(json!({
        "lobbyId": "lobby_1", "gameId": "game_1", "turnNumber": 2, "phase": "battle",
        "activePlayer": "host",
        "host": {"playerId": "agent_7", "name": "agent_7", "lifePoints": 8000},
        "opponent": {"name": "TidalQueen", "lifePoints": 3100}
    }))
    .unwrap();
    remote.update_game_state(state).await.unwrap();
    let result = remote
        .record_match_result(MatchResultRequest {
            session_id: Some(id.clone()),
            last_match_result: Some(MatchOutcome::Win),
            last_match_summary: Some("Won on turn 2".into()),
            ..MatchResultRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(result.session_id, id);

    for method in [ServiceMethod::GetStatus, ServiceMethod::SessionTimeline] {
        let (local, over_http) = both(&embedded, &remote, method, vec![json!(id.as_str())]).await;
        assert_eq!(local, over_http, "{method:?}");
    }
    let (local, over_http) = both(
        &embedded,
        &remote,
        ServiceMethod::ListSessions,
        vec![json!({"limit": 5})],
    )
    .await;
    assert_eq!(local, over_http);
    let status = remote.get_status(&id).await.unwrap();
    assert_eq!(status.decisions_logged, 2);
    assert_eq!(status.events_recorded, 1);

    let stopped = remote
        .stop_stream(StopStreamRequest {
            session_id: Some(id.clone()),
            ..StopStreamRequest::default()
        })
        .await
        .unwrap();
    assert!(stopped.success);
    let session = h.store.get_session(&id).await.unwrap().unwrap();
    assert!(session.status.is_terminal(), "{:?}", session.status);
    assert_eq!(session.decisions_logged, 2);
}

/// The same refusal both ways: same code, message and details.
async fn same_refusal(
    embedded: &Client,
    remote: &Client,
    method: ServiceMethod,
    args: Vec<Value>,
) -> Error {
    let local = embedded.call_json(method, args.clone()).await.unwrap_err();
    let over_http = remote.call_json(method, args).await.unwrap_err();
    assert_eq!(local.to_wire(), over_http.to_wire(), "{method:?}");
    over_http
}

#[tokio::test]
async fn refusals_arrive_as_the_same_errors_with_their_details() {
    let h = Harness::new();
    let (embedded, remote) = pair(&h).await;
    let bad =
        json!({"agentId": "agent_7", "platform": "myspace", "streamKey": "live_secret_key_value"});
    match same_refusal(&embedded, &remote, ServiceMethod::StartStream, vec![bad]).await {
        Error::InvalidInput { field, reason } => {
            assert_eq!(field, "platform");
            assert!(!reason.contains("live_secret_key_value"));
        }
        other => panic!("{other:?}"),
    }
    let unknown = json!("sess_0000000000000000000000");
    let err = same_refusal(&embedded, &remote, ServiceMethod::GetStatus, vec![unknown]).await;
    assert!(
        matches!(err.code(), ErrorCode::NotFound | ErrorCode::InvalidInput),
        "{err}"
    );

    let other = h
        .service
        .start_stream(&Actor::Internal, agent_start("agent_9"))
        .await
        .unwrap();
    let err = same_refusal(
        &embedded,
        &remote,
        ServiceMethod::StopStream,
        vec![json!({"sessionId": other.session_id.as_str()})],
    )
    .await;
    assert!(
        matches!(err.code(), ErrorCode::Forbidden | ErrorCode::NotFound),
        "{err}"
    );

    match remote
        .call_json(ServiceMethod::OverlayUrl, vec![json!("sess_x")])
        .await
        .unwrap_err()
    {
        Error::InvalidInput { field, .. } => assert_eq!(field, "method"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_rate_limited_start_says_when_to_retry_over_http_too() {
    let limits = RateLimitConfig {
        starts_per_minute: 1,
        start_burst: 1,
        ..RateLimitConfig::disabled()
    };
    let h = Harness::with(
        Arc::new(MemoryStore::new()) as Arc<dyn SessionStore>,
        limits,
    );
    let (embedded, remote) = pair(&h).await;
    let first = remote.start_stream(agent_start("agent_7")).await.unwrap();
    remote
        .stop_stream(StopStreamRequest {
            session_id: Some(first.session_id),
            ..StopStreamRequest::default()
        })
        .await
        .unwrap();
    let err = remote
        .start_stream(agent_start("agent_7"))
        .await
        .unwrap_err();
    match &err {
        Error::RateLimited { retry_after, limit } => {
            assert!(*retry_after > Duration::ZERO && *retry_after <= Duration::from_secs(60));
            assert!(limit.contains("start"), "{limit}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
    let local = embedded
        .start_stream(agent_start("agent_7"))
        .await
        .unwrap_err();
    assert_eq!(local.code(), ErrorCode::RateLimited);
}

#[tokio::test]
async fn a_wrong_key_or_a_dead_server_is_a_clear_error_without_the_key() {
    let h = Harness::new();
    let base = serve(&h).await;
    let wrong = remote(&base, "ltcg_not_a_key_anyone_has_00000");
    let err = wrong
        .start_stream(agent_start("agent_7"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthorized, "{err}");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let dead = remote(&closed, AGENT_KEY);
    let err = dead.start_stream(agent_start("agent_7")).await.unwrap_err();
    let text = err.to_string();
    assert_eq!(err.code(), ErrorCode::External, "{text}");
    assert!(text.contains("could not be reached"), "{text}");
    assert!(!text.contains(AGENT_KEY) && !format!("{err:?}").contains(AGENT_KEY));
}

#[tokio::test]
async fn a_remote_status_watch_rereads_until_the_session_ends() {
    let h = Harness::new();
    let (_, remote) = pair(&h).await;
    let started = remote.start_stream(agent_start("agent_7")).await.unwrap();
    let mut watch = remote.watch_status_every(&started.session_id, Duration::from_millis(50));
    assert_eq!(next_view(&mut watch).await.status.as_str(), "pending");
    h.go_live(&started.session_id).await;
    assert_eq!(next_view(&mut watch).await.status.as_str(), "live");
    h.stop(&Actor::Internal, &started.session_id).await.unwrap();
    assert!(next_view(&mut watch).await.status.is_terminal());
    assert!(watch.next().await.is_none());
}

/// The watch's next view, within 5 s.
async fn next_view(
    watch: &mut ltcg_streaming_core::service::StatusWatch,
) -> ltcg_streaming_core::service::SessionStatusView {
    tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn every_method_the_api_serves_answers_over_http_as_it_does_in_process() {
    let h = Harness::new();
    let base = serve(&h).await;
    let embedded = Client::embedded(h.service.clone(), Actor::Internal);
    let remote = remote(&base, test_support_internal_key());
    let agent = Client::embedded(h.service.clone(), Actor::agent("agent_7").unwrap());
    let started = agent.start_stream(agent_start("agent_7")).await.unwrap();
    let id = started.session_id.as_str().to_owned();
    h.go_live(&started.session_id).await;
    agent.record_decision(decision(1)).await.unwrap();

    // Reads: the same JSON both ways.
    let reads: Vec<(ServiceMethod, Vec<Value>)> = vec![
        (ServiceMethod::GetStatus, vec![json!(id)]),
        (
            ServiceMethod::ListSessions,
            vec![json!({"streamType": "agent", "entityId": "agent_7", "active": true, "limit": 3})],
        ),
        (ServiceMethod::SessionTimeline, vec![json!(id)]),
        (ServiceMethod::SessionViewerSamples, vec![json!(id)]),
        (
            ServiceMethod::AgentDecisions,
            vec![json!({"agentId": "agent_7"})],
        ),
        (ServiceMethod::AgentStreamingConfig, vec![json!("agent_7")]),
        (
            ServiceMethod::Analytics,
            vec![json!({"since": T0 - 86_400_000, "groupBy": "platform"})],
        ),
    ];
    for (method, args) in reads {
        let (local, over_http) = both(&embedded, &remote, method, args).await;
        assert_eq!(local, over_http, "{method:?}");
    }

    // Writes: each through HTTP, then read back in process.
    let viewers = remote
        .call_json(ServiceMethod::UpdateViewerCount, vec![json!(id), json!(17)])
        .await
        .unwrap();
    assert_eq!(viewers["viewerCount"], 17);
    let added = remote
        .call_json(
            ServiceMethod::UpdateDestinations,
            vec![json!({"sessionId": id, "add": [{"platform": "youtube", "streamKey": "yt-key-0001"}]})],
        )
        .await
        .unwrap();
    assert_eq!(added["success"], true, "{added}");
    let configured = remote
        .call_json(
            ServiceMethod::ConfigureAgent,
            vec![json!({"agentId": "agent_8", "enabled": true, "platform": "twitch", "streamKey": "live_987654321_zyxwvutsrqponm", "autoStart": true})],
        )
        .await
        .unwrap();
    assert_eq!(
        (&configured["platform"], &configured["autoStart"]),
        (&json!("twitch"), &json!(true)),
        "{configured}"
    );
    let local_config = embedded
        .call_json(ServiceMethod::AgentStreamingConfig, vec![json!("agent_8")])
        .await
        .unwrap();
    assert_eq!(configured, local_config);
    let stored = remote
        .call_json(
            ServiceMethod::GetPlatformConfig,
            vec![json!({"agentId": "agent_8"})],
        )
        .await
        .unwrap();
    assert_eq!(stored["platform"], "twitch", "{stored}");
    let auto = remote
        .call_json(
            ServiceMethod::OnGameStarted,
            vec![json!("agent_8"), json!("lobby_9")],
        )
        .await
        .unwrap();
    assert!(auto.is_object(), "{auto}");
    let deleted = remote
        .call_json(
            ServiceMethod::DeletePlatformConfig,
            vec![json!({"agentId": "agent_8"})],
        )
        .await
        .unwrap();
    assert_eq!(deleted, json!(true));
    let cleanup = remote
        .call_json(ServiceMethod::Cleanup, vec![])
        .await
        .unwrap();
    assert!(cleanup.is_object(), "{cleanup}");
}

fn test_support_internal_key() -> &'static str {
    ltcg_streaming_test_support::http::INTERNAL_KEY
}
