//! Every caller-facing method answers with public view types: no ciphertext (`encryptedUrl`,
//! `encryptedKey`, any `iv:tag:ciphertext` value), no stream key, no internal record fields
//! (`version`). Every method of `ServiceMethod::ALL` is called through `call_json`, the entry
//! point both bindings use, so this covers every binding method's output.

use ltcg_streaming_core::service::ServiceMethod;
use ltcg_streaming_core::Actor;
use ltcg_streaming_test_support::harness::{Harness, T0, TWITCH_KEY};
use serde_json::{json, Value};

/// Whether `s` looks like a vault ciphertext (`<iv hex>:<tag hex>:<ciphertext hex>`).
fn is_ciphertext(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| p.len() >= 8 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Panics at the first secret or internal field in `value`.
fn assert_public(what: &str, value: &Value, secrets: &[&str]) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                assert!(
                    !["encryptedUrl", "encryptedKey", "version", "streamKeyHash"]
                        .contains(&key.as_str()),
                    "{what} shows {key}: {value}"
                );
                assert_public(what, item, secrets);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| assert_public(what, i, secrets)),
        Value::String(s) => {
            assert!(!is_ciphertext(s), "{what} shows a ciphertext: {s}");
            for secret in secrets {
                assert!(!s.contains(secret), "{what} shows a secret: {s}");
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_service_method_answers_with_public_views_only() {
    let h = Harness::new();
    let agent = Actor::agent("agent_views").unwrap();
    let extra_key = "live_extra_destination_key_123";
    let secrets = [TWITCH_KEY, extra_key];
    let call = |method: ServiceMethod, args: Vec<Value>| {
        let (service, actor) = (h.service.clone(), agent.clone());
        async move {
            let out = service.call_json(&actor, method, args).await;
            out.unwrap_or_else(|e| panic!("{}: {e}", method.snake_name()))
        }
    };
    let mut seen = Vec::new();
    let mut run = |method: ServiceMethod| {
        seen.push(method);
        method
    };

    let configured = call(
        run(ServiceMethod::ConfigurePlatform),
        vec![json!({"platform": "twitch", "streamKey": TWITCH_KEY, "autoStart": true})],
    )
    .await;
    let started = call(
        run(ServiceMethod::StartStream),
        vec![json!({
            "useStoredCredentials": true,
            "destinations": [{"platform": "custom", "streamKey": extra_key,
                              "customRtmpUrl": "rtmp://ingest.example.com/live"}],
        })],
    )
    .await;
    let sid = started["sessionId"].clone();
    let egress = h
        .egress_of(&serde_json::from_value(sid.clone()).unwrap())
        .await;
    h.webhook(
        "EV_views_1",
        "egress_updated",
        &egress,
        Some("EGRESS_ACTIVE"),
        None,
    )
    .await
    .unwrap();
    let status = call(run(ServiceMethod::GetStatus), vec![sid.clone()]).await;
    let dest_id = status["destinations"][1]["id"].clone();
    let outputs = [
        ("configure_platform", configured),
        ("start_stream", started),
        ("get_status", status),
        (
            "list_sessions",
            call(run(ServiceMethod::ListSessions), vec![Value::Null]).await,
        ),
        (
            "update_destinations",
            call(
                run(ServiceMethod::UpdateDestinations),
                vec![json!({"sessionId": sid, "remove": [dest_id]})],
            )
            .await,
        ),
        (
            "link_lobby",
            call(
                run(ServiceMethod::LinkLobby),
                vec![sid.clone(), json!("lobby_1")],
            )
            .await,
        ),
        (
            "record_decision",
            call(
                run(ServiceMethod::RecordDecision),
                vec![json!({"gameId": "g", "turnNumber": 1, "phase": "main",
                            "action": "attack", "reasoning": "lethal"})],
            )
            .await,
        ),
        (
            "record_event",
            call(
                run(ServiceMethod::RecordEvent),
                vec![
                    json!({"gameId": "g", "turnNumber": 1, "eventType": "card_played",
                            "description": "played"}),
                ],
            )
            .await,
        ),
        (
            "session_timeline",
            call(run(ServiceMethod::SessionTimeline), vec![sid.clone()]).await,
        ),
        (
            "session_viewer_samples",
            call(run(ServiceMethod::SessionViewerSamples), vec![sid.clone()]).await,
        ),
        (
            "analytics",
            call(run(ServiceMethod::Analytics), vec![json!({"since": T0 - 1})]).await,
        ),
        (
            "update_viewer_count",
            call(
                run(ServiceMethod::UpdateViewerCount),
                vec![sid.clone(), json!(7)],
            )
            .await,
        ),
        (
            "recent_activity",
            call(
                run(ServiceMethod::RecentActivity),
                vec![sid.clone(), json!("decision")],
            )
            .await,
        ),
        (
            "overlay_url",
            call(run(ServiceMethod::OverlayUrl), vec![sid.clone()]).await,
        ),
        (
            "get_platform_config",
            call(run(ServiceMethod::GetPlatformConfig), vec![]).await,
        ),
        (
            "on_game_started",
            call(
                run(ServiceMethod::OnGameStarted),
                vec![json!("agent_views"), json!("lobby_2")],
            )
            .await,
        ),
        (
            "update_game_state",
            call(
                run(ServiceMethod::UpdateGameState),
                vec![json!({"lobbyId": "lobby_2", "gameId": "g", "turnNumber": 1, "phase": "main",
                            "activePlayer": "host",
                            "host": {"playerId": "agent_views", "name": "a", "lifePoints": 1},
                            "opponent": {"name": "b", "lifePoints": 1}})],
            )
            .await,
        ),
        (
            "record_match_result",
            call(
                run(ServiceMethod::RecordMatchResult),
                vec![json!({"sessionId": sid, "lastMatchResult": "win"})],
            )
            .await,
        ),
        (
            "configure_agent",
            call(
                run(ServiceMethod::ConfigureAgent),
                vec![json!({"agentId": "agent_views", "platform": "twitch", "streamKey": TWITCH_KEY})],
            )
            .await,
        ),
        (
            "agent_streaming_config",
            call(
                run(ServiceMethod::AgentStreamingConfig),
                vec![json!("agent_views")],
            )
            .await,
        ),
        (
            "agent_decisions",
            call(run(ServiceMethod::AgentDecisions), vec![]).await,
        ),
        (
            "stop_stream",
            call(
                run(ServiceMethod::StopStream),
                vec![json!({"sessionId": sid})],
            )
            .await,
        ),
        (
            "delete_platform_config",
            call(run(ServiceMethod::DeletePlatformConfig), vec![]).await,
        ),
    ];
    let mut internal = Vec::new();
    for (method, args) in [
        (ServiceMethod::Reconcile, vec![]),
        (ServiceMethod::Cleanup, vec![]),
        (ServiceMethod::PollViewerCounts, vec![]),
        (
            ServiceMethod::ConfigureUser,
            vec![json!({"userId": "u_views", "platform": "kick", "streamKey": extra_key})],
        ),
        (
            ServiceMethod::NotifyChanged,
            vec![json!({"sessionId": sid})],
        ),
    ] {
        let out = h
            .service
            .call_json(&Actor::Internal, run(method), args)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", method.snake_name()));
        internal.push((method.snake_name(), out));
    }
    for (what, value) in outputs.iter().chain(internal.iter()) {
        assert_public(what, value, &secrets);
    }
    let mut untested: Vec<&str> = ServiceMethod::ALL
        .into_iter()
        .filter(|m| !seen.contains(m))
        .map(|m| m.snake_name())
        .collect();
    untested.sort_unstable();
    assert!(untested.is_empty(), "methods not checked: {untested:?}");
}

#[test]
fn the_ciphertext_check_recognises_vault_output() {
    let vault = ltcg_streaming_core::AesGcmVault::from_hex(&"42".repeat(32)).unwrap();
    let stored = vault.encrypt_key("live_secret").unwrap();
    assert!(is_ciphertext(&stored));
    assert!(!is_ciphertext("rtmps://live.twitch.tv/app/{liv...nop}"));
}
