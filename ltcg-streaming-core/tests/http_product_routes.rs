//! The product's routes, one by one: a request in the product's shape gets the product's
//! response shape (with its documented bugs fixed: validation errors are 400s, not 500s;
//! webhooks without LiveKit credentials are refused with a 401).

use axum::http::{Method, StatusCode};
use ltcg_streaming_core::http::router;
use ltcg_streaming_core::{MemoryEgress, MemoryStore, StreamingService};
use ltcg_streaming_test_support::harness::*;
use ltcg_streaming_test_support::http::{app, assert_error, auth, call, AGENT_KEY, INTERNAL_KEY};
use serde_json::{json, Value};

/// An agent stream of `agent_7` (the agent key's agent) on lobby `lobby_p`.
async fn agent_stream(app: &axum::Router) -> String {
    let r = call(
        app,
        Method::POST,
        "/api/streaming/start",
        Some(AGENT_KEY),
        Some(json!({"streamType": "agent", "agentId": "agent_7", "platform": "twitch", "streamKey": TWITCH_KEY, "lobbyId": "lobby_p"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json["sessionId"].as_str().unwrap().to_owned()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[tokio::test]
async fn match_result_takes_the_product_shape_and_refuses_unknown_results_with_400() {
    let h = Harness::new();
    let app = app(&h);
    let sid = agent_stream(&app).await;
    let bad = call(
        &app,
        Method::POST,
        "/api/streaming/match-result",
        Some(INTERNAL_KEY),
        Some(json!({"sessionId": sid, "lastMatchResult": "victory"})),
    )
    .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "INVALID_INPUT", "bad result");
    assert!(bad.json["error"]
        .as_str()
        .unwrap()
        .contains("lastMatchResult"));
    let missing = call(
        &app,
        Method::POST,
        "/api/streaming/match-result",
        Some(INTERNAL_KEY),
        Some(json!({})),
    )
    .await;
    assert_error(
        &missing,
        StatusCode::BAD_REQUEST,
        "INVALID_INPUT",
        "no session",
    );
    let ok = call(&app, Method::POST, "/api/streaming/match-result", Some(INTERNAL_KEY), Some(json!({"sessionId": sid, "lastMatchResult": "win", "lastMatchSummary": "Match over: victory secured.", "clearCurrentLobby": false}))).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json["success"], true);
    assert_eq!(ok.json["lastMatch"]["result"], "win");
    let status = call(
        &app,
        Method::GET,
        &format!("/api/streaming/status?sessionId={sid}"),
        Some(INTERNAL_KEY),
        None,
    )
    .await;
    assert_eq!(
        status.json["currentLobbyId"], "lobby_p",
        "clearCurrentLobby: false keeps it"
    );
}

#[tokio::test]
async fn game_state_viewer_count_and_game_started_routes() {
    let h = Harness::new();
    let app = app(&h);
    let sid = agent_stream(&app).await;
    let state = json!({"lobbyId": "lobby_p", "gameId": "g1", "turnNumber": 2, "phase": "main1", "activePlayer": "opponent",
        "host": {"playerId": "agent_7", "name": "me", "lifePoints": 8000}, "opponent": {"name": "you", "lifePoints": 7000}});
    let ok = call(
        &app,
        Method::POST,
        "/api/streaming/game-state",
        Some(AGENT_KEY),
        Some(state.clone()),
    )
    .await;
    assert_eq!(
        (ok.status, ok.json["lobbyId"].clone()),
        (StatusCode::OK, json!("lobby_p")),
        "{}",
        ok.text
    );
    let mut bad = state.clone();
    bad["opponent"]["handCount"] = json!(5000);
    let r = call(
        &app,
        Method::POST,
        "/api/streaming/game-state",
        Some(AGENT_KEY),
        Some(bad),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "INVALID_INPUT", "bound");
    assert!(r.json["error"]
        .as_str()
        .unwrap()
        .contains("opponent.handCount"));
    let mut elsewhere = state;
    elsewhere["lobbyId"] = json!("lobby_not_mine");
    let r = call(
        &app,
        Method::POST,
        "/api/streaming/game-state",
        Some(AGENT_KEY),
        Some(elsewhere),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN", "another lobby");

    let r = call(
        &app,
        Method::POST,
        "/api/streaming/viewer-count",
        Some(AGENT_KEY),
        Some(json!({"sessionId": sid, "viewerCount": 42})),
    )
    .await;
    assert_eq!(
        (
            r.status,
            r.json["viewerCount"].clone(),
            r.json["peakViewerCount"].clone()
        ),
        (StatusCode::OK, json!(42), json!(42)),
        "{}",
        r.text
    );
    let r = call(
        &app,
        Method::POST,
        "/api/streaming/viewer-count",
        Some(AGENT_KEY),
        Some(json!({"sessionId": sid, "viewerCount": -1})),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "INVALID_INPUT", "negative");

    let r = call(
        &app,
        Method::POST,
        "/api/streaming/game-started",
        Some(INTERNAL_KEY),
        Some(json!({"agentId": "agent_7", "lobbyId": "lobby_q"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["reason"], "already_active_linked_to_lobby");
    assert_eq!(r.json["sessionId"], json!(sid));
}

#[tokio::test]
async fn configure_routes_and_the_agent_config_follow_the_product_rules() {
    let h = Harness::new();
    let app = app(&h);
    for (body, field) in [
        (
            json!({"agentId": "agent_7", "voiceTrackUrl": "ftp://x"}),
            "voiceTrackUrl",
        ),
        (
            json!({"agentId": "agent_7", "profilePictureUrl": "javascript:alert(1)"}),
            "profilePictureUrl",
        ),
        (
            json!({"agentId": "agent_7", "visualMode": "hologram"}),
            "visualMode",
        ),
        (
            json!({"agentId": "agent_7", "voiceVolume": 1.5, "platform": "twitch"}),
            "voiceVolume",
        ),
        (json!({"platform": "twitch"}), "agentId"),
        (json!({"agentId": "agent_7"}), "platform"),
        (
            json!({"agentId": "agent_7", "platform": "twitch", "streamKey": "   "}),
            "streamKey",
        ),
        (
            json!({"agentId": "agent_7", "platform": "custom", "rtmpUrl": "http://x/live"}),
            "rtmpUrl",
        ),
        (
            json!({"agentId": "agent_7", "platform": "custom"}),
            "rtmpUrl",
        ),
    ] {
        let r = call(
            &app,
            Method::POST,
            "/api/streaming/configure-agent",
            Some(AGENT_KEY),
            Some(body.clone()),
        )
        .await;
        assert_error(
            &r,
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            &body.to_string(),
        );
        assert!(
            r.json["error"].as_str().unwrap().contains(field),
            "{body}: {}",
            r.text
        );
    }
    let r = call(
        &app,
        Method::POST,
        "/api/streaming/configure-agent",
        Some(AGENT_KEY),
        Some(json!({"agentId": "agent_9", "platform": "twitch"})),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "FORBIDDEN", "another agent");
    let r = call(&app, Method::POST, "/api/streaming/configure-agent", Some(AGENT_KEY), Some(json!({"agentId": "agent_7", "platform": "twitch", "streamKey": TWITCH_KEY, "voiceVolume": 0.5, "voiceLoop": true, "visualMode": "webcam"}))).await;
    assert_eq!(
        (r.status, r.json["success"].clone()),
        (StatusCode::OK, json!(true)),
        "{}",
        r.text
    );
    let cfg = call(
        &app,
        Method::GET,
        "/api/agents/streaming-config?agentId=agent_7",
        Some(AGENT_KEY),
        None,
    )
    .await;
    assert_eq!(cfg.status, StatusCode::OK);
    assert_eq!(
        keys(&cfg.json),
        [
            "autoStart",
            "enabled",
            "hasStreamKey",
            "keepAlive",
            "platform",
            "profilePictureUrl",
            "rtmpUrl",
            "visualMode",
            "voiceLoop",
            "voiceTrackUrl",
            "voiceVolume"
        ]
    );
    assert_eq!(
        (
            cfg.json["visualMode"].clone(),
            cfg.json["hasStreamKey"].clone()
        ),
        (json!("webcam"), json!(true))
    );
    assert!(!cfg.text.contains(TWITCH_KEY));
    let r = call(
        &app,
        Method::GET,
        "/api/agents/streaming-config",
        Some(AGENT_KEY),
        None,
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "INVALID_INPUT", "no agentId");

    let r = call(
        &app,
        Method::POST,
        "/api/streaming/configure-user",
        Some(INTERNAL_KEY),
        Some(json!({"userId": "u1", "platform": "retake", "streamKey": "k"})),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "INVALID_INPUT", "retake");
    let r = call(
        &app,
        Method::POST,
        "/api/streaming/configure-user",
        Some(INTERNAL_KEY),
        Some(json!({"userId": "u1", "platform": "kick", "streamKey": "sk_0123456789"})),
    )
    .await;
    assert_eq!(
        (r.status, r.json["success"].clone()),
        (StatusCode::OK, json!(true)),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn decisions_cleanup_and_update_destinations_in_the_product_shapes() {
    let h = Harness::new();
    let app = app(&h);
    let sid = agent_stream(&app).await;
    for (game, action) in [("g1", "summon"), ("g2", "pass"), ("g1", "attack")] {
        let r = call(&app, Method::POST, "/api/agents/decisions", Some(AGENT_KEY), Some(json!({"gameId": game, "turnNumber": 1, "phase": "main1", "action": action, "reasoning": "because"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let r = call(
        &app,
        Method::GET,
        "/api/agents/decisions?gameId=g1&limit=10",
        Some(AGENT_KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let actions: Vec<&str> = r.json["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["data"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["summon", "attack"], "one game, oldest first");
    let r = call(
        &app,
        Method::GET,
        "/api/agents/decisions?limit=2",
        Some(AGENT_KEY),
        None,
    )
    .await;
    assert_eq!(r.json["decisions"].as_array().unwrap().len(), 2);
    assert_eq!(
        r.json["decisions"][0]["data"]["action"], "attack",
        "newest first"
    );
    let r = call(
        &app,
        Method::GET,
        "/api/agents/decisions?limit=abc",
        Some(AGENT_KEY),
        None,
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "INVALID_INPUT", "limit");

    // update-destinations: the product's add/remove shapes, removal by platform.
    let id = ltcg_streaming_core::SessionId::parse(&sid).unwrap();
    let egress = h.egress_of(&id).await;
    h.egress
        .set_status(&egress, ltcg_streaming_core::EgressStatus::Active)
        .unwrap();
    h.webhook(
        "EV_live",
        "egress_updated",
        &egress,
        Some("EGRESS_ACTIVE"),
        None,
    )
    .await
    .unwrap();
    let add = call(&app, Method::POST, "/api/streaming/update-destinations", Some(AGENT_KEY), Some(json!({"sessionId": sid, "addDestinations": [{"platform": "kick", "streamKey": "sk_us-west-2_abcdef"}]}))).await;
    assert_eq!(add.status, StatusCode::OK, "{}", add.text);
    assert_eq!(add.json["added"].as_array().unwrap().len(), 1);
    let remove = call(
        &app,
        Method::POST,
        "/api/streaming/update-destinations",
        Some(AGENT_KEY),
        Some(json!({"sessionId": sid, "removeDestinations": [{"platform": "kick"}]})),
    )
    .await;
    assert_eq!(remove.status, StatusCode::OK, "{}", remove.text);
    assert_eq!(remove.json["removed"].as_array().unwrap().len(), 1);
    let again = call(
        &app,
        Method::POST,
        "/api/streaming/update-destinations",
        Some(AGENT_KEY),
        Some(json!({"sessionId": sid, "removeDestinations": [{"platform": "kick"}]})),
    )
    .await;
    assert_error(
        &again,
        StatusCode::BAD_REQUEST,
        "INVALID_INPUT",
        "nothing left to remove",
    );

    let r = call(
        &app,
        Method::POST,
        "/api/streaming/cleanup",
        Some(AGENT_KEY),
        None,
    )
    .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "agents do not clean up",
    );
    let r = call(
        &app,
        Method::POST,
        "/api/streaming/cleanup",
        Some(INTERNAL_KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for k in [
        "success",
        "stoppedEgresses",
        "endedSessions",
        "errors",
        "summary",
    ] {
        assert!(r.json.get(k).is_some(), "{k}: {}", r.text);
    }
    assert_eq!(r.json["summary"], "Stopped 0 egresses, ended 0 sessions");
}

#[tokio::test]
async fn a_webhook_to_a_server_without_livekit_credentials_is_a_401() {
    let mut cfg = config();
    cfg.livekit = None;
    let service = StreamingService::new(
        cfg,
        std::sync::Arc::new(MemoryStore::new()),
        std::sync::Arc::new(MemoryEgress::new()),
        std::sync::Arc::new(ltcg_streaming_core::AesGcmVault::from_hex(KEY_HEX).unwrap()),
    )
    .unwrap();
    let app = router(service, auth());
    let r = call(
        &app,
        Method::POST,
        "/api/webhooks/livekit",
        None,
        Some(json!({"event": "egress_ended"})),
    )
    .await;
    assert_error(
        &r,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "no credentials",
    );
}
