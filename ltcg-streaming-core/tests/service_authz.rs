//! Authorization, one test per rule: who may see, stop and change what (events go only into
//! the caller's own session), where keys may come from and go to, and that the overlay base
//! URL is configuration only.

use axum::http::{Method, StatusCode};
use ltcg_streaming_core::service::{
    ConfigurePlatformRequest, CredentialTarget, DecisionInput, EventInput, ListSessionsRequest,
    RateLimitConfig, StartStreamRequest, StopStreamRequest, UpdateDestinationsRequest,
};
use ltcg_streaming_core::session::ActivityKind;
use ltcg_streaming_core::store::SessionQuery;
use ltcg_streaming_core::{
    Actor, Error, ErrorCode, MemoryStore, Platform, SecretString, SessionId, SessionStatus,
    StreamType,
};
use ltcg_streaming_test_support::harness::*;
use ltcg_streaming_test_support::http::{app, call, Reply, AGENT_KEY};
use serde_json::json;

fn user(id: &str) -> Actor {
    Actor::user(id).unwrap()
}

fn agent(id: &str) -> Actor {
    Actor::agent(id).unwrap()
}

fn forbidden<T: std::fmt::Debug>(r: Result<T, Error>) {
    let err = r.expect_err("must be refused");
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
}

#[tokio::test]
async fn a_user_cannot_stop_or_alter_another_users_session() {
    let h = Harness::new();
    let alice = user("alice");
    let mallory = user("mallory");
    let s = h
        .service
        .start_stream(&alice, user_start("alice-key-1"))
        .await
        .unwrap();
    let id = s.session_id.clone();
    forbidden(
        h.service
            .stop_stream(
                &mallory,
                StopStreamRequest {
                    session_id: Some(id.clone()),
                    ..Default::default()
                },
            )
            .await,
    );
    forbidden(h.service.link_lobby(&mallory, &id, Some("lobby_x")).await);
    forbidden(
        h.service
            .update_viewer_count(&mallory, &id, 1_000_000)
            .await,
    );
    forbidden(h.service.overlay_url(&mallory, &id).await);
    forbidden(
        h.service
            .recent_activity(&mallory, &id, ActivityKind::Event, 10)
            .await,
    );
    forbidden(
        h.service
            .update_destinations(
                &mallory,
                UpdateDestinationsRequest {
                    session_id: id.clone(),
                    add: vec![],
                    remove: vec!["dst_x".into()],
                },
            )
            .await,
    );
    // Others see only the public status (no key, URL or token in it).
    let status = h.service.get_status(&mallory, &id).await.unwrap();
    assert_eq!(status.status, SessionStatus::Pending);
    let json = serde_json::to_string(&status).unwrap();
    assert!(
        !json.contains("alice-key-1") && !json.contains("token=") && !json.contains("encrypted"),
        "{json}"
    );
    // The owner can do all of it.
    assert!(h
        .service
        .overlay_url(&alice, &id)
        .await
        .unwrap()
        .contains("token="));
    h.service
        .stop_stream(
            &alice,
            StopStreamRequest {
                session_id: Some(id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_user_cannot_start_for_another_user_or_as_an_agent() {
    let h = Harness::new();
    forbidden(
        h.service
            .start_stream(
                &user("u1"),
                StartStreamRequest {
                    user_id: Some("u2".into()),
                    ..user_start("k")
                },
            )
            .await,
    );
    forbidden(
        h.service
            .start_stream(
                &user("u1"),
                StartStreamRequest {
                    stream_type: Some(StreamType::Agent),
                    ..user_start("k")
                },
            )
            .await,
    );
    forbidden(
        h.service
            .start_stream(
                &user("u1"),
                StartStreamRequest {
                    agent_id: Some("a1".into()),
                    ..user_start("k")
                },
            )
            .await,
    );
    let err = h
        .service
        .list_sessions(
            &user("u1"),
            ListSessionsRequest {
                stream_type: Some(StreamType::User),
                entity_id: Some("u2".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
}

#[tokio::test]
async fn an_agent_cannot_act_for_another_agent() {
    let h = Harness::new();
    let victim = h
        .service
        .start_stream(&agent("a1"), agent_start("a1"))
        .await
        .unwrap();
    let attacker = agent("a2");
    forbidden(h.service.start_stream(&attacker, agent_start("a1")).await);
    forbidden(
        h.service
            .start_stream(
                &attacker,
                StartStreamRequest {
                    stream_type: Some(StreamType::User),
                    ..user_start("k")
                },
            )
            .await,
    );
    forbidden(
        h.service
            .stop_stream(
                &attacker,
                StopStreamRequest {
                    session_id: Some(victim.session_id.clone()),
                    ..Default::default()
                },
            )
            .await,
    );
    forbidden(
        h.service
            .stop_stream(
                &attacker,
                StopStreamRequest {
                    agent_id: Some("a1".into()),
                    ..Default::default()
                },
            )
            .await,
    );
    forbidden(
        h.service
            .record_decision(
                &attacker,
                DecisionInput {
                    session_id: Some(victim.session_id.clone()),
                    game_id: "g".into(),
                    turn_number: 1,
                    phase: "p".into(),
                    action: "a".into(),
                    reasoning: "r".into(),
                    ..Default::default()
                },
            )
            .await,
    );
    forbidden(
        h.service
            .record_decision(
                &attacker,
                DecisionInput {
                    agent_id: Some("a1".into()),
                    game_id: "g".into(),
                    turn_number: 1,
                    phase: "p".into(),
                    action: "a".into(),
                    reasoning: "r".into(),
                    ..Default::default()
                },
            )
            .await,
    );
    forbidden(h.service.on_game_started(&attacker, "a1", "lobby_1").await);
    forbidden(
        h.service
            .configure_platform(
                &attacker,
                ConfigurePlatformRequest {
                    target: CredentialTarget {
                        agent_id: Some("a1".into()),
                        user_id: None,
                    },
                    platform: Platform::Twitch,
                    stream_key: Some(SecretString::from("k")),
                    custom_rtmp_url: None,
                    auto_start: None,
                    channel: None,
                },
            )
            .await,
    );
    forbidden(
        h.service
            .get_platform_config(
                &attacker,
                &CredentialTarget {
                    agent_id: Some("a1".into()),
                    user_id: None,
                },
            )
            .await,
    );
    let st = h
        .service
        .get_status(&Actor::Internal, &victim.session_id)
        .await
        .unwrap();
    assert_eq!(st.status, SessionStatus::Pending, "victim untouched");
    assert_eq!(st.decisions_logged, 0);
}

#[tokio::test]
async fn a_non_internal_caller_cannot_pass_a_ciphertext() {
    let h = Harness::new();
    let sealed = h.vault.encrypt_key(TWITCH_KEY).unwrap();
    let req = |_: ()| StartStreamRequest {
        stream_key: None,
        encrypted_stream_key: Some(sealed.clone()),
        ..agent_start("a1")
    };
    forbidden(h.service.start_stream(&agent("a1"), req(())).await);
    forbidden(
        h.service
            .start_stream(
                &user("u1"),
                StartStreamRequest {
                    agent_id: None,
                    ..req(())
                },
            )
            .await,
    );
    assert!(h
        .store
        .list_sessions(&SessionQuery::default())
        .await
        .unwrap()
        .sessions
        .is_empty());
    assert_eq!(h.egress.started(), 0);
    // Internal callers may (the product's auto-start path).
    let ok = h
        .service
        .start_stream(&Actor::Internal, req(()))
        .await
        .unwrap();
    let session = h.store.get_session(&ok.session_id).await.unwrap().unwrap();
    assert_eq!(
        h.egress.outputs(session.egress_id.as_deref().unwrap()),
        ["rtmps://live.twitch.tv/app/{liv...nop}"]
    );
}

#[tokio::test]
async fn a_stored_key_is_never_sent_to_a_caller_supplied_url() {
    let h = Harness::new();
    h.service
        .configure_platform(
            &Actor::Internal,
            ConfigurePlatformRequest {
                target: CredentialTarget {
                    agent_id: Some("a1".into()),
                    user_id: None,
                },
                platform: Platform::Twitch,
                stream_key: Some(SecretString::from(TWITCH_KEY)),
                custom_rtmp_url: None,
                auto_start: Some(true),
                channel: None,
            },
        )
        .await
        .unwrap();
    for actor in [agent("a1"), Actor::Internal] {
        let err = h
            .service
            .start_stream(
                &actor,
                StartStreamRequest {
                    agent_id: Some("a1".into()),
                    use_stored_credentials: true,
                    custom_rtmp_url: Some("rtmp://evil.example/app".into()),
                    ..StartStreamRequest::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Forbidden, "{actor}");
    }
    assert_eq!(h.egress.started(), 0);
    // A user cannot use an agent's stored key by naming it either.
    forbidden(
        h.service
            .start_stream(
                &user("u1"),
                StartStreamRequest {
                    agent_id: Some("a1".into()),
                    use_stored_credentials: true,
                    ..Default::default()
                },
            )
            .await,
    );
}

#[tokio::test]
async fn the_overlay_base_url_is_configuration_only() {
    let h = Harness::new();
    let err = h
        .service
        .start_stream(
            &agent("a1"),
            StartStreamRequest {
                base_url: Some("https://evil.example".into()),
                ..agent_start("a1")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("baseUrl"));
    let ok = h
        .service
        .start_stream(&agent("a1"), agent_start("a1"))
        .await
        .unwrap();
    assert!(ok
        .overlay_url
        .starts_with(&format!("{APP_URL}/stream/overlay?")));
}

#[tokio::test]
async fn reconcile_is_internal_only() {
    let h = Harness::new();
    forbidden(h.service.reconcile(&agent("a1")).await);
    forbidden(h.service.reconcile(&user("u1")).await);
    assert!(h.service.reconcile(&Actor::Internal).await.is_ok());
}

#[tokio::test]
async fn stored_credentials_never_reveal_the_key() {
    let h = Harness::new();
    let me = user("u1");
    let view = h
        .service
        .configure_platform(
            &me,
            ConfigurePlatformRequest {
                target: CredentialTarget::default(),
                platform: Platform::Custom,
                stream_key: Some(SecretString::from("custom-key-123")),
                custom_rtmp_url: Some("rtmp://ingest.example/app/embedded-secret-9".into()),
                auto_start: None,
                channel: None,
            },
        )
        .await
        .unwrap();
    let json = serde_json::to_string(&view).unwrap();
    assert!(json.contains("\"hasStreamKey\":true"));
    for secret in ["custom-key-123", "embedded-secret-9"] {
        assert!(!json.contains(secret), "{json}");
        assert!(!format!("{view:?}").contains(secret));
    }
    let err = h
        .service
        .configure_platform(
            &me,
            ConfigurePlatformRequest {
                target: CredentialTarget::default(),
                platform: Platform::Retake,
                stream_key: Some(SecretString::from("k")),
                custom_rtmp_url: Some("rtmp://ingest.example/app".into()),
                auto_start: None,
                channel: None,
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("retake is agent-only"));
}

#[tokio::test]
async fn rate_limits_per_actor_and_per_entity() {
    let limits = RateLimitConfig {
        calls_per_minute: 60,
        call_burst: 5,
        starts_per_minute: 60,
        start_burst: 2,
    };
    let h = Harness::with(std::sync::Arc::new(MemoryStore::new()), limits);
    let me = user("u1");
    let s = h.service.start_stream(&me, user_start("k1")).await.unwrap();
    for _ in 0..4 {
        h.service.get_status(&me, &s.session_id).await.unwrap();
    }
    match h.service.get_status(&me, &s.session_id).await.unwrap_err() {
        Error::RateLimited { retry_after, .. } => assert!(retry_after.as_millis() > 0),
        other => panic!("{other:?}"),
    }
    // Another actor is not affected; internal callers are not limited per actor.
    h.service
        .get_status(&user("u2"), &s.session_id)
        .await
        .unwrap();
    for _ in 0..20 {
        h.service
            .get_status(&Actor::Internal, &s.session_id)
            .await
            .unwrap();
    }
    // Starts per entity: the internal caller starting for one agent over and over.
    let stop = |id| StopStreamRequest {
        session_id: Some(id),
        ..Default::default()
    };
    let a = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    h.service
        .stop_stream(&Actor::Internal, stop(a.session_id))
        .await
        .unwrap();
    let b = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    h.service
        .stop_stream(&Actor::Internal, stop(b.session_id))
        .await
        .unwrap();
    let err = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    h.service
        .start_stream(&Actor::Internal, agent_start("a2"))
        .await
        .unwrap();
}

fn event_for(session_id: Option<&SessionId>, agent_id: Option<&str>) -> EventInput {
    EventInput {
        session_id: session_id.cloned(),
        agent_id: agent_id.map(str::to_owned),
        game_id: "g1".into(),
        lobby_id: Some("lobby_1".into()),
        turn_number: 3,
        event_type: "card_played".into(),
        description: "injected".into(),
        ..Default::default()
    }
}

/// Events go only into the caller's own session.
#[tokio::test]
async fn record_event_into_another_actors_session_is_forbidden() {
    let h = Harness::new();
    let alice = Actor::user("alice").unwrap();
    let a1 = Actor::agent("a1").unwrap();
    let user_session = h
        .service
        .start_stream(&alice, user_start("alice-key-1"))
        .await
        .unwrap()
        .session_id;
    let agent_session = h
        .service
        .start_stream(&a1, agent_start("a1"))
        .await
        .unwrap()
        .session_id;
    let mallory = Actor::user("mallory").unwrap();
    let a2 = Actor::agent("a2").unwrap();
    // Another user, another agent, and each kind into the other kind's session.
    for (actor, input) in [
        (&mallory, event_for(Some(&user_session), None)),
        (&mallory, event_for(Some(&agent_session), None)),
        (&mallory, event_for(None, Some("a1"))),
        (&a2, event_for(Some(&agent_session), None)),
        (&a2, event_for(Some(&user_session), None)),
        (&a2, event_for(None, Some("a1"))),
        (&a1, event_for(Some(&user_session), None)),
        (&alice, event_for(Some(&agent_session), None)),
        (&alice, event_for(None, Some("a1"))),
    ] {
        let what = format!("{actor} -> {:?}/{:?}", input.session_id, input.agent_id);
        let err = h.service.record_event(actor, input).await.expect_err(&what);
        assert_eq!(err.code(), ErrorCode::Forbidden, "{what}: {err}");
    }
    // Over HTTP with an agent key bound to another agent.
    let Reply {
        status, json: body, ..
    } = call(
        &app(&h),
        Method::POST,
        "/api/agents/events",
        Some(AGENT_KEY),
        Some(
            json!({"sessionId": agent_session, "gameId": "g1", "turnNumber": 1,
                    "eventType": "card_played", "description": "injected"}),
        ),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("FORBIDDEN"))
    );
    // Nothing was written.
    for id in [&user_session, &agent_session] {
        let st = h.service.get_status(&Actor::Internal, id).await.unwrap();
        assert_eq!(st.events_recorded, 0, "{id}");
        let feed = h
            .service
            .recent_activity(&Actor::Internal, id, ActivityKind::Event, 10)
            .await
            .unwrap();
        assert!(feed.is_empty(), "{id}: {feed:?}");
    }
    // The owners can.
    let mine = h
        .service
        .record_event(&alice, event_for(Some(&user_session), None))
        .await
        .unwrap();
    assert_eq!((mine.session_id, mine.events_recorded), (user_session, 1));
    let mine = h
        .service
        .record_event(&a1, event_for(None, None))
        .await
        .unwrap();
    assert_eq!((mine.session_id, mine.events_recorded), (agent_session, 1));
}

/// The default limits against the product's traffic: an agent posts a decision and an event
/// every turn and calls start again before each game (reusing its stream).
#[tokio::test]
async fn default_limits_let_a_talkative_agent_play_and_reuse_its_stream() {
    let h = Harness::with(
        std::sync::Arc::new(MemoryStore::new()),
        RateLimitConfig::default(),
    );
    let me = Actor::agent("a1").unwrap();
    let first = h
        .service
        .start_stream(&me, agent_start("a1"))
        .await
        .unwrap();
    for _ in 0..10 {
        let again = h
            .service
            .start_stream(&me, agent_start("a1"))
            .await
            .unwrap();
        assert!(again.reused, "{again:?}");
    }
    for turn in 0..50 {
        let mut decision = DecisionInput {
            game_id: "g1".into(),
            turn_number: turn,
            phase: "main".into(),
            action: "attack".into(),
            reasoning: "open board".into(),
            ..DecisionInput::default()
        };
        decision.session_id = Some(first.session_id.clone());
        h.service.record_decision(&me, decision).await.unwrap();
        h.service
            .record_event(&me, event_for(Some(&first.session_id), None))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn rate_limit_messages_say_the_limit_and_its_unit() {
    let limits = RateLimitConfig {
        calls_per_minute: 60,
        call_burst: 1,
        starts_per_minute: 10,
        start_burst: 1,
    };
    let h = Harness::with(std::sync::Arc::new(MemoryStore::new()), limits);
    let me = user("u1");
    let s = h.service.start_stream(&me, user_start("k1")).await.unwrap();
    let err = expect_code(
        h.service.get_status(&me, &s.session_id).await,
        ErrorCode::RateLimited,
    );
    let text = err.to_string();
    assert!(
        text.contains("at most 60 calls per minute per caller"),
        "{text}"
    );
    assert!(text.contains("retry in 1 s"), "{text}");
    let stop = StopStreamRequest {
        session_id: Some(s.session_id.clone()),
        ..Default::default()
    };
    h.service.stop_stream(&Actor::Internal, stop).await.unwrap();
    let err = expect_code(
        h.service
            .start_stream(
                &Actor::Internal,
                StartStreamRequest {
                    stream_type: Some(StreamType::User),
                    user_id: Some("u1".into()),
                    ..user_start("k1")
                },
            )
            .await,
        ErrorCode::RateLimited,
    );
    let text = err.to_string();
    assert!(
        text.contains("at most 10 starts per minute per stream entity"),
        "{text}"
    );
    assert!(text.contains("retry in 6 s"), "{text}");
}

/// `statusReads`: any authenticated caller by default (the product's status route is
/// public); `"owner"` hides other people's sessions as `NOT_FOUND`.
#[tokio::test]
async fn status_reads_are_open_to_any_caller_by_default_and_owner_only_on_request() {
    let open = Harness::new();
    let s = open
        .service
        .start_stream(&user("u1"), user_start("k1"))
        .await
        .unwrap();
    let read = open.service.get_status(&user("u2"), &s.session_id).await;
    assert_eq!(read.unwrap().session_id, s.session_id);

    let options = ltcg_streaming_core::service::ServiceSettings::from_json(
        json!({"statusReads": "owner", "rateLimits": false}),
    )
    .unwrap()
    .into_options()
    .unwrap();
    let options = ltcg_streaming_core::ServiceOptions {
        destination_policy: Some(ltcg_streaming_test_support::dns::test_policy()),
        ..options
    };
    let store = std::sync::Arc::new(MemoryStore::new());
    let service = ltcg_streaming_core::StreamingService::with_options(
        config(),
        store,
        std::sync::Arc::new(ltcg_streaming_core::MemoryEgress::new()),
        std::sync::Arc::new(ltcg_streaming_core::AesGcmVault::from_hex(KEY_HEX).unwrap()),
        options,
    )
    .unwrap();
    let s = service
        .start_stream(&user("u1"), user_start("k1"))
        .await
        .unwrap();
    expect_code(
        service.get_status(&user("u2"), &s.session_id).await,
        ErrorCode::NotFound,
    );
    expect_code(
        service
            .get_status(&Actor::agent("a1").unwrap(), &s.session_id)
            .await,
        ErrorCode::NotFound,
    );
    for reader in [user("u1"), Actor::Internal] {
        let view = service.get_status(&reader, &s.session_id).await.unwrap();
        assert_eq!(view.session_id, s.session_id);
    }
}
