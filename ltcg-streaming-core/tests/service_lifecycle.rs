//! `StreamingService` end to end on real in-process parts: start → webhooks → activity →
//! stop, reuse and conflicts (a live session without an egress is replaced), forged webhooks
//! (a token must carry the body's `sha256`), simulcast and failed destination additions,
//! stored credentials, auto-start (off unless turned on), listing.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ltcg_streaming_core::egress::EgressBackend;
use ltcg_streaming_core::service::{
    ConfigurePlatformRequest, CredentialTarget, DecisionInput, DestinationInput, EventInput,
    ListSessionsRequest, StartStreamRequest, StopStreamRequest, UpdateDestinationsRequest,
};
use ltcg_streaming_core::session::{end_reason, ActivityKind, DestinationStatus, Entity};
use ltcg_streaming_core::store::SessionQuery;
use ltcg_streaming_core::{
    Actor, EgressStatus, Error, ErrorCode, OverlayTokens, Platform, SecretString, SessionId,
    SessionStatus, StreamType,
};
use ltcg_streaming_test_support::harness::*;
use ltcg_streaming_test_support::http::{app, call, Reply, AGENT_KEY};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

fn agent(id: &str) -> Actor {
    Actor::agent(id).unwrap()
}

fn event(kind: &str) -> EventInput {
    EventInput {
        game_id: "game_1".into(),
        lobby_id: Some("lobby_1".into()),
        turn_number: 3,
        event_type: kind.into(),
        description: "Blaze played a card".into(),
        ..EventInput::default()
    }
}

#[tokio::test]
async fn agent_stream_full_cycle_with_accurate_stats() {
    let h = Harness::new();
    let me = agent("agent_1");
    let started = h
        .service
        .start_stream(&me, agent_start("agent_1"))
        .await
        .unwrap();
    assert!(started.success && !started.reused);
    assert_eq!(started.status, SessionStatus::Pending);
    assert_eq!(started.message, "Stream starting...");
    // The overlay URL: configured base, session id, a token for this session.
    let prefix = format!(
        "{APP_URL}/stream/overlay?sessionId={}&token=",
        started.session_id
    );
    assert!(
        started.overlay_url.starts_with(&prefix),
        "{}",
        started.overlay_url
    );
    let token = &started.overlay_url[prefix.len()..];
    let claims = OverlayTokens::new(JWT_SECRET)
        .unwrap()
        .verify_at(token, Some(started.session_id.as_str()), T0 / 1000)
        .unwrap();
    assert_eq!(
        (claims.stream_type, claims.entity_id.as_str()),
        (StreamType::Agent, "agent_1")
    );

    let session = h
        .store
        .get_session(&started.session_id)
        .await
        .unwrap()
        .unwrap();
    let egress_id = session.egress_id.clone().unwrap();
    assert_eq!(
        h.egress.outputs(&egress_id),
        ["rtmps://live.twitch.tv/app/{liv...nop}"]
    );
    assert_eq!(session.destinations.len(), 1);
    assert!(session.destinations[0].primary);
    let stored_url = h
        .vault
        .decrypt_key(&session.destinations[0].encrypted_url)
        .unwrap();
    assert_eq!(
        stored_url.expose_secret(),
        format!("rtmps://live.twitch.tv/app/{TWITCH_KEY}")
    );

    // LiveKit: egress_started (no status) then egress_updated ACTIVE.
    let url = Some(started.overlay_url.as_str());
    let out = h
        .webhook("EV_1", "egress_started", &egress_id, None, url)
        .await
        .unwrap();
    assert!(!out.applied, "already pending");
    h.clock.advance_ms(2_000);
    h.egress
        .set_status(&egress_id, EgressStatus::Active)
        .unwrap();
    let out = h
        .webhook(
            "EV_2",
            "egress_updated",
            &egress_id,
            Some("EGRESS_ACTIVE"),
            url,
        )
        .await
        .unwrap();
    assert!(out.applied);
    assert_eq!(out.session_id.as_ref(), Some(&started.session_id));
    let live = h
        .service
        .get_status(&Actor::Internal, &started.session_id)
        .await
        .unwrap();
    assert_eq!(live.status, SessionStatus::Live);
    assert_eq!(live.started_at, Some(T0 + 2_000));

    for turn in 1..=3 {
        h.service
            .record_decision(&me, decision(turn))
            .await
            .unwrap();
    }
    h.service
        .record_event(&me, event("agent_thinking"))
        .await
        .unwrap();
    let rec = h
        .service
        .record_event(&me, event("card_played"))
        .await
        .unwrap();
    assert_eq!((rec.decisions_logged, rec.events_recorded), (3, 2));
    for viewers in [10, 42, 17] {
        h.service
            .update_viewer_count(&me, &started.session_id, viewers)
            .await
            .unwrap();
    }
    let recent = h
        .service
        .recent_activity(&me, &started.session_id, ActivityKind::Decision, 2)
        .await
        .unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[0].data["turnNumber"], 3);
    assert_eq!(recent[0].data["reasoning"], "turn 3: opponent is open");

    h.clock.advance_ms(90_000);
    let status = h
        .service
        .get_status(&me, &started.session_id)
        .await
        .unwrap();
    assert_eq!(
        status.duration, 90_000,
        "live duration counts from startedAt"
    );
    assert_eq!((status.viewer_count, status.peak_viewer_count), (17, 42));

    let stopped = h
        .service
        .stop_stream(
            &me,
            StopStreamRequest {
                session_id: Some(started.session_id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let stats = stopped.stats.unwrap();
    assert_eq!(stats.duration, 90_000);
    assert_eq!(
        (
            stats.decisions_logged,
            stats.events_recorded,
            stats.peak_viewer_count
        ),
        (3, 2, 42)
    );
    assert_eq!(
        stopped.stopped_session_ids,
        std::slice::from_ref(&started.session_id)
    );
    assert_eq!(
        h.egress.status(&egress_id),
        Some(EgressStatus::Complete),
        "egress stopped"
    );
    let ended = h
        .service
        .get_status(&me, &started.session_id)
        .await
        .unwrap();
    assert_eq!(ended.status, SessionStatus::Ended);
    assert_eq!(ended.end_reason.as_deref(), Some("manual"));

    // LiveKit's egress_ended afterwards changes nothing; a second stop is idempotent.
    let out = h
        .webhook(
            "EV_3",
            "egress_ended",
            &egress_id,
            Some("EGRESS_COMPLETE"),
            url,
        )
        .await
        .unwrap();
    assert!(!out.applied);
    let again = h
        .service
        .stop_stream(
            &me,
            StopStreamRequest {
                session_id: Some(started.session_id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(again.already_ended);
    assert_eq!(
        again.already_ended_session_ids,
        std::slice::from_ref(&started.session_id)
    );
    assert_eq!(again.stats, Some(stats), "stats frozen at the stop");
    // Activity on an ended session is refused and not counted.
    let err = h
        .service
        .record_decision(
            &me,
            DecisionInput {
                session_id: Some(started.session_id.clone()),
                ..decision(9)
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
}

#[tokio::test]
async fn webhook_failure_and_limit_end_states() {
    let h = Harness::new();
    let a = h
        .service
        .start_stream(&agent("a1"), agent_start("a1"))
        .await
        .unwrap();
    let s = h.store.get_session(&a.session_id).await.unwrap().unwrap();
    let eg = s.egress_id.unwrap();
    let body = egress_body(
        "EV_f",
        "egress_ended",
        &eg,
        Some("EGRESS_FAILED"),
        None,
        Some("rtmp connection failed"),
    );
    let auth = sign_webhook(&body, T0 / 1000);
    h.service
        .handle_webhook(body.as_bytes(), &auth)
        .await
        .unwrap();
    let st = h
        .service
        .get_status(&Actor::Internal, &a.session_id)
        .await
        .unwrap();
    assert_eq!(st.status, SessionStatus::Error);
    assert_eq!(st.error_message.as_deref(), Some("rtmp connection failed"));
    assert_eq!(st.duration, 0);

    let b = h
        .service
        .start_stream(&agent("a2"), agent_start("a2"))
        .await
        .unwrap();
    let eg = h.egress_of(&b.session_id).await;
    h.webhook("EV_a", "egress_updated", &eg, Some("EGRESS_ACTIVE"), None)
        .await
        .unwrap();
    h.clock.advance_ms(1_000);
    h.webhook(
        "EV_l",
        "egress_ended",
        &eg,
        Some("EGRESS_LIMIT_REACHED"),
        None,
    )
    .await
    .unwrap();
    let st = h
        .service
        .get_status(&Actor::Internal, &b.session_id)
        .await
        .unwrap();
    assert_eq!(
        (st.status, st.end_reason.as_deref()),
        (SessionStatus::Ended, Some("limit_reached"))
    );
    assert_eq!(st.stats.unwrap().duration, 1_000);
}

#[tokio::test]
async fn webhooks_are_deduplicated_and_unknown_egresses_ignored() {
    let h = Harness::new();
    let a = h
        .service
        .start_stream(&agent("a1"), agent_start("a1"))
        .await
        .unwrap();
    let eg = h.egress_of(&a.session_id).await;
    let first = h
        .webhook(
            "EV_same",
            "egress_updated",
            &eg,
            Some("EGRESS_ACTIVE"),
            None,
        )
        .await
        .unwrap();
    assert!(first.applied && !first.duplicate);
    let second = h
        .webhook(
            "EV_same",
            "egress_updated",
            &eg,
            Some("EGRESS_ACTIVE"),
            None,
        )
        .await
        .unwrap();
    assert!(second.duplicate && !second.applied);
    let unknown = h
        .webhook(
            "EV_x",
            "egress_updated",
            "EG_unknown",
            Some("EGRESS_ACTIVE"),
            None,
        )
        .await
        .unwrap();
    assert!(unknown.received && !unknown.applied);
    assert_eq!(unknown.note.as_deref(), Some("no session for this egress"));
    // A foreign overlay URL carrying our session id is not trusted.
    let foreign = format!(
        "https://evil.example/stream/overlay?sessionId={}",
        a.session_id
    );
    let out = h
        .webhook(
            "EV_y",
            "egress_ended",
            "EG_other",
            Some("EGRESS_FAILED"),
            Some(&foreign),
        )
        .await
        .unwrap();
    assert!(!out.applied);
    assert_eq!(
        h.service
            .get_status(&Actor::Internal, &a.session_id)
            .await
            .unwrap()
            .status,
        SessionStatus::Live
    );
    // Room events are acknowledged and ignored.
    let body = r#"{"event":"room_started","id":"EV_room","createdAt":"1795478000","room":{"sid":"RM_1","name":"r"}}"#;
    let out = h
        .service
        .handle_webhook(body.as_bytes(), &sign_webhook(body, T0 / 1000))
        .await
        .unwrap();
    assert_eq!(out.note.as_deref(), Some("not an egress event"));
}

#[tokio::test]
async fn a_signed_webhook_without_an_event_name_is_refused_and_changes_nothing() {
    let h = Harness::new();
    let a = h
        .service
        .start_stream(&agent("a1"), agent_start("a1"))
        .await
        .unwrap();
    let eg = h.egress_of(&a.session_id).await;
    for blank in ["", "   "] {
        let err = expect_code(
            h.webhook("EV_blank", blank, &eg, Some("EGRESS_ACTIVE"), None)
                .await,
            ErrorCode::InvalidInput,
        );
        assert!(
            matches!(&err, Error::InvalidInput { field, .. } if field == "event"),
            "{err:?}"
        );
    }
    let status = h
        .service
        .get_status(&Actor::Internal, &a.session_id)
        .await
        .unwrap();
    assert_eq!(status.status, SessionStatus::Pending);
    // The event id was not claimed: the same id with a name applies.
    let named = h
        .webhook(
            "EV_blank",
            "egress_updated",
            &eg,
            Some("EGRESS_ACTIVE"),
            None,
        )
        .await
        .unwrap();
    assert!(named.applied && !named.duplicate, "{named:?}");
}

#[tokio::test]
async fn forged_and_stale_webhooks_are_rejected_and_change_nothing() {
    let h = Harness::new();
    let a = h
        .service
        .start_stream(&agent("a1"), agent_start("a1"))
        .await
        .unwrap();
    let eg = h.egress_of(&a.session_id).await;
    let before = h.store.get_session(&a.session_id).await.unwrap();
    let body = egress_body(
        "EV_f",
        "egress_ended",
        &eg,
        Some("EGRESS_FAILED"),
        None,
        None,
    );
    let now = T0 / 1000;
    let forged = [
        sign_webhook_with(&body, now, API_KEY, "not-the-secret"),
        sign_webhook_with(&body, now, "APIother", API_SECRET),
        sign_webhook(&body.replace("EGRESS_FAILED", "EGRESS_ACTIVE"), now),
        sign_webhook(&body, now - 3_600),
        String::new(),
    ];
    for auth in forged {
        let err = h
            .service
            .handle_webhook(body.as_bytes(), &auth)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unauthorized);
    }
    assert_eq!(h.store.get_session(&a.session_id).await.unwrap(), before);
    // The event id was not burnt: the genuine delivery still applies.
    let ok = h
        .service
        .handle_webhook(body.as_bytes(), &sign_webhook(&body, now))
        .await
        .unwrap();
    assert!(ok.applied);
}

#[tokio::test]
async fn reuse_conflict_and_force_restart() {
    let h = Harness::new();
    let me = agent("a1");
    let first = h
        .service
        .start_stream(&me, agent_start("a1"))
        .await
        .unwrap();
    let again = h
        .service
        .start_stream(
            &me,
            StartStreamRequest {
                lobby_id: Some("lobby_7".into()),
                ..agent_start("a1")
            },
        )
        .await
        .unwrap();
    assert!(again.reused);
    assert_eq!(again.session_id, first.session_id);
    assert_eq!(again.message, "Stream already active");
    let st = h.service.get_status(&me, &first.session_id).await.unwrap();
    assert_eq!(
        st.current_lobby_id.as_deref(),
        Some("lobby_7"),
        "reuse links the lobby"
    );
    assert_eq!(h.egress.started(), 1, "no second egress");

    // The same platform with another key is not silently answered with the old session.
    let other_key = StartStreamRequest {
        stream_key: Some(SecretString::from("live_999999999_otherchannelkey")),
        ..agent_start("a1")
    };
    let err = h.service.start_stream(&me, other_key).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(
        err.to_string().contains("another stream key or URL"),
        "{err}"
    );
    assert!(!err.to_string().contains("otherchannelkey"));
    assert_eq!(h.egress.started(), 1, "nothing started");
    let st = h.service.get_status(&me, &first.session_id).await.unwrap();
    assert_eq!(
        st.status,
        SessionStatus::Pending,
        "the session is untouched"
    );

    let youtube = StartStreamRequest {
        platform: Some(Platform::Youtube),
        ..agent_start("a1")
    };
    let err = h
        .service
        .start_stream(&me, youtube.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(err.to_string().contains("forceRestart"));

    let forced = h
        .service
        .start_stream(
            &me,
            StartStreamRequest {
                force_restart: true,
                ..youtube
            },
        )
        .await
        .unwrap();
    assert!(!forced.reused);
    assert_ne!(forced.session_id, first.session_id);
    let old = h.service.get_status(&me, &first.session_id).await.unwrap();
    assert_eq!(
        (old.status, old.end_reason.as_deref()),
        (SessionStatus::Ended, Some("replaced_by_new_start"))
    );
    let old_egress = h.egress_of(&first.session_id).await;
    assert_eq!(
        h.egress.status(&old_egress),
        Some(EgressStatus::Aborted),
        "old egress stopped"
    );
}

#[tokio::test]
async fn stale_starting_session_is_replaced() {
    let h = Harness::new();
    let me = agent("a1");
    let first = h
        .service
        .start_stream(&me, agent_start("a1"))
        .await
        .unwrap();
    h.clock.advance_ms(5 * 60_000 + 1);
    let second = h
        .service
        .start_stream(&me, agent_start("a1"))
        .await
        .unwrap();
    assert!(!second.reused);
    let old = h.service.get_status(&me, &first.session_id).await.unwrap();
    assert_eq!(old.status, SessionStatus::Error);
}

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    let h = Harness::new();
    let me = agent("a1");
    let cases: Vec<(StartStreamRequest, &str)> = vec![
        (
            StartStreamRequest {
                platform: None,
                ..agent_start("a1")
            },
            "platform",
        ),
        (
            StartStreamRequest {
                stream_key: None,
                ..agent_start("a1")
            },
            "streamKey",
        ),
        (
            StartStreamRequest {
                stream_key: Some(SecretString::from("a b")),
                ..agent_start("a1")
            },
            "streamKey",
        ),
        (
            StartStreamRequest {
                platform: Some(Platform::Custom),
                ..agent_start("a1")
            },
            "customRtmpUrl",
        ),
        (
            StartStreamRequest {
                custom_rtmp_url: Some("http://x/app".into()),
                ..agent_start("a1")
            },
            "customRtmpUrl",
        ),
        (
            StartStreamRequest {
                stream_title: Some("x".repeat(300)),
                ..agent_start("a1")
            },
            "streamTitle",
        ),
        (
            StartStreamRequest {
                lobby_id: Some("bad lobby".into()),
                ..agent_start("a1")
            },
            "lobbyId",
        ),
        (
            StartStreamRequest {
                base_url: Some("https://evil.example".into()),
                ..agent_start("a1")
            },
            "baseUrl",
        ),
        (
            StartStreamRequest {
                destinations: vec![DestinationInput {
                    platform: Platform::Kick,
                    stream_key: SecretString::from("k/1"),
                    custom_rtmp_url: None,
                    channel: None,
                }],
                ..agent_start("a1")
            },
            "destinations[0].streamKey",
        ),
    ];
    for (req, field) in cases {
        let err = h.service.start_stream(&me, req).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{field}: {err}");
        assert!(
            err.to_string().contains(&format!("invalid {field}")),
            "{field}: {err}"
        );
        assert!(!err.to_string().contains(TWITCH_KEY));
    }
    let overlay: ltcg_streaming_core::OverlayConfigPatch =
        serde_json::from_str(r#"{"voiceVolume":3}"#).unwrap();
    let err = h
        .service
        .start_stream(
            &me,
            StartStreamRequest {
                overlay_config: Some(overlay),
                ..agent_start("a1")
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("overlayConfig.voiceVolume"));
    let all = h
        .store
        .list_sessions(&SessionQuery::default())
        .await
        .unwrap();
    assert!(all.sessions.is_empty(), "nothing written");
    assert_eq!(h.egress.started(), 0, "no egress started");
}

#[tokio::test]
async fn simulcast_and_destination_updates() {
    let h = Harness::new();
    let me = agent("a1");
    let req = StartStreamRequest {
        destinations: vec![DestinationInput {
            platform: Platform::Youtube,
            stream_key: SecretString::from("yt-key-123456"),
            custom_rtmp_url: None,
            channel: None,
        }],
        ..agent_start("a1")
    };
    let s = h.service.start_stream(&me, req).await.unwrap();
    let session = h.store.get_session(&s.session_id).await.unwrap().unwrap();
    let eg = session.egress_id.clone().unwrap();
    assert_eq!(
        h.egress.outputs(&eg),
        [
            "rtmps://live.twitch.tv/app/{liv...nop}",
            "rtmps://a.rtmps.youtube.com:443/live2/{yt-...456}"
        ]
    );
    let yt_id = session.destinations[1].id.clone();

    let kick = DestinationInput {
        platform: Platform::Kick,
        stream_key: SecretString::from("kick-key-999"),
        custom_rtmp_url: None,
        channel: None,
    };
    let up = h
        .service
        .update_destinations(
            &me,
            UpdateDestinationsRequest {
                session_id: s.session_id.clone(),
                add: vec![kick.clone()],
                remove: vec![yt_id.clone().into()],
            },
        )
        .await
        .unwrap();
    assert_eq!(up.added.len(), 1);
    assert_eq!(up.removed, std::slice::from_ref(&yt_id));
    assert_eq!(h.egress.outputs(&eg).len(), 2);
    assert!(h
        .egress
        .outputs(&eg)
        .iter()
        .any(|u| u.contains("live-video.net")));
    let after = h.store.get_session(&s.session_id).await.unwrap().unwrap();
    let yt = after.destinations.iter().find(|d| d.id == yt_id).unwrap();
    assert_eq!(yt.status, DestinationStatus::Removed);
    assert!(yt.removed_at.is_some());
    let json = serde_json::to_string(&up).unwrap();
    assert!(!json.contains("kick-key-999") && !json.contains("encryptedUrl"));

    // Adding the same destination again, removing unknown ids, or removing everything fails.
    let dup = h
        .service
        .update_destinations(
            &me,
            UpdateDestinationsRequest {
                session_id: s.session_id.clone(),
                add: vec![kick],
                remove: vec![],
            },
        )
        .await
        .unwrap_err();
    assert!(dup.to_string().contains("add[0]"));
    let unknown = h
        .service
        .update_destinations(
            &me,
            UpdateDestinationsRequest {
                session_id: s.session_id.clone(),
                add: vec![],
                remove: vec!["dst_nope".into()],
            },
        )
        .await
        .unwrap_err();
    assert!(unknown.to_string().contains("remove[0]"));
    let active_ids: Vec<String> = after
        .destinations
        .iter()
        .filter(|d| d.status == DestinationStatus::Active)
        .map(|d| d.id.clone())
        .collect();
    let last = h
        .service
        .update_destinations(
            &me,
            UpdateDestinationsRequest {
                session_id: s.session_id.clone(),
                add: vec![],
                remove: active_ids.into_iter().map(Into::into).collect(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(last.code(), ErrorCode::Conflict);
}

#[tokio::test]
async fn stored_credentials_and_auto_start() {
    let h = Harness::new();
    let me = agent("a1");
    let outcome = h
        .service
        .on_game_started(&Actor::Internal, "a1", "lobby_1")
        .await
        .unwrap();
    assert_eq!(
        (outcome.started, outcome.reason.as_str()),
        (false, "not_configured")
    );

    let view = h
        .service
        .configure_platform(
            &me,
            ConfigurePlatformRequest {
                target: CredentialTarget::default(),
                platform: Platform::Custom,
                stream_key: Some(SecretString::from("  stored-key-1  ")),
                custom_rtmp_url: Some("rtmp://ingest.example.com:1935/live".into()),
                auto_start: Some(false),
                channel: None,
            },
        )
        .await
        .unwrap();
    assert!(view.has_stream_key);
    let json = serde_json::to_string(&view).unwrap();
    assert!(
        !json.contains("stored-key-1") && !json.contains("encrypted"),
        "{json}"
    );
    let outcome = h
        .service
        .on_game_started(&Actor::Internal, "a1", "lobby_1")
        .await
        .unwrap();
    assert_eq!(outcome.reason, "autostart_disabled");

    // Re-configure without a key: the stored key is kept.
    h.service
        .configure_platform(
            &me,
            ConfigurePlatformRequest {
                target: CredentialTarget::default(),
                platform: Platform::Custom,
                stream_key: None,
                custom_rtmp_url: Some("rtmp://ingest.example.com:1935/live".into()),
                auto_start: Some(true),
                channel: None,
            },
        )
        .await
        .unwrap();
    let outcome = h
        .service
        .on_game_started(&Actor::Internal, "a1", "lobby_1")
        .await
        .unwrap();
    assert!(outcome.started, "{outcome:?}");
    let sid = outcome.session_id.unwrap();
    let session = h.store.get_session(&sid).await.unwrap().unwrap();
    assert_eq!(session.current_lobby_id.as_deref(), Some("lobby_1"));
    let eg = session.egress_id.unwrap();
    assert_eq!(
        h.egress.outputs(&eg),
        ["rtmp://ingest.example.com:1935/live/{sto...y-1}"],
        "trimmed key"
    );
    let outcome = h
        .service
        .on_game_started(&Actor::Internal, "a1", "lobby_2")
        .await
        .unwrap();
    assert_eq!(
        (outcome.started, outcome.reason.as_str()),
        (false, "already_active_linked_to_lobby")
    );
    assert_eq!(
        h.service
            .get_status(&me, &sid)
            .await
            .unwrap()
            .current_lobby_id
            .as_deref(),
        Some("lobby_2")
    );

    let got = h
        .service
        .get_platform_config(&me, &CredentialTarget::default())
        .await
        .unwrap();
    assert!(got.auto_start && got.has_stream_key);
    assert!(h
        .service
        .delete_platform_config(&me, &CredentialTarget::default())
        .await
        .unwrap());
    let err = h
        .service
        .get_platform_config(&me, &CredentialTarget::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn start_with_stored_credentials() {
    let h = Harness::new();
    let me = Actor::user("u1").unwrap();
    h.service
        .configure_platform(
            &me,
            ConfigurePlatformRequest {
                target: CredentialTarget::default(),
                platform: Platform::Twitch,
                stream_key: Some(SecretString::from(TWITCH_KEY)),
                custom_rtmp_url: None,
                auto_start: None,
                channel: None,
            },
        )
        .await
        .unwrap();
    let s = h
        .service
        .start_stream(
            &me,
            StartStreamRequest {
                use_stored_credentials: true,
                ..StartStreamRequest::default()
            },
        )
        .await
        .unwrap();
    let session = h.store.get_session(&s.session_id).await.unwrap().unwrap();
    assert_eq!(session.platform, Platform::Twitch);
    assert_eq!(session.entity.stream_type, StreamType::User);
    assert_eq!(
        h.egress.outputs(session.egress_id.as_deref().unwrap()),
        ["rtmps://live.twitch.tv/app/{liv...nop}"]
    );
    let wrong = h
        .service
        .start_stream(
            &me,
            StartStreamRequest {
                use_stored_credentials: true,
                platform: Some(Platform::Kick),
                ..StartStreamRequest::default()
            },
        )
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("platform"));
}

#[tokio::test]
async fn list_sessions_pages_and_scopes() {
    let h = Harness::new();
    for i in 0..7 {
        let id = format!("a{i}");
        h.service
            .start_stream(&agent(&id), agent_start(&id))
            .await
            .unwrap();
        h.clock.advance_ms(10);
    }
    let mut seen = Vec::new();
    let mut req = ListSessionsRequest {
        limit: Some(3),
        ..ListSessionsRequest::default()
    };
    loop {
        let page = h
            .service
            .list_sessions(&Actor::Internal, req.clone())
            .await
            .unwrap();
        assert!(page.count <= 3);
        seen.extend(page.sessions.iter().map(|s| s.entity_id.clone()));
        match page.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["a6", "a5", "a4", "a3", "a2", "a1", "a0"],
        "newest first, no cap"
    );
    let mine = h
        .service
        .list_sessions(&agent("a3"), ListSessionsRequest::default())
        .await
        .unwrap();
    assert_eq!(mine.count, 1);
    assert_eq!(mine.sessions[0].entity_id, "a3");
    let err = h
        .service
        .list_sessions(
            &agent("a3"),
            ListSessionsRequest {
                stream_type: Some(StreamType::Agent),
                entity_id: Some("a4".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
}

#[tokio::test]
async fn stop_all_sessions_of_an_agent() {
    let h = Harness::new();
    let s = h
        .service
        .start_stream(&Actor::Internal, agent_start("a9"))
        .await
        .unwrap();
    let out = h
        .service
        .stop_stream(
            &Actor::Internal,
            StopStreamRequest {
                agent_id: Some("a9".into()),
                reason: Some("game_over".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(out.stopped_session_ids, std::slice::from_ref(&s.session_id));
    assert_eq!(out.stats_by_session.len(), 1);
    let st = h
        .service
        .get_status(&Actor::Internal, &s.session_id)
        .await
        .unwrap();
    assert_eq!(st.end_reason.as_deref(), Some("game_over"));
    let none = h
        .service
        .stop_stream(
            &Actor::Internal,
            StopStreamRequest {
                agent_id: Some("a9".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(none.code(), ErrorCode::NotFound);
    let missing = h
        .service
        .get_status(&Actor::Internal, &SessionId::generate())
        .await
        .unwrap_err();
    assert_eq!(missing.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn egress_error_texts_are_stored_redacted() {
    let h = Harness::new();
    let s = h
        .service
        .start_stream(&agent("a1"), agent_start("a1"))
        .await
        .unwrap();
    let eg = h.egress_of(&s.session_id).await;
    let leaky = format!("could not connect to rtmps://live.twitch.tv/app/{TWITCH_KEY}: refused");
    let body = egress_body(
        "EV_leak",
        "egress_ended",
        &eg,
        Some("EGRESS_FAILED"),
        None,
        Some(&leaky),
    );
    h.service
        .handle_webhook(body.as_bytes(), &sign_webhook(&body, T0 / 1000))
        .await
        .unwrap();
    let st = h
        .service
        .get_status(&Actor::Internal, &s.session_id)
        .await
        .unwrap();
    let message = st.error_message.unwrap();
    assert!(!message.contains(TWITCH_KEY), "{message}");
    assert!(
        message.contains("rtmps://live.twitch.tv/app/{liv...nop}"),
        "{message}"
    );
}

/// A live session with no egress is not reused: a new start replaces it.
#[tokio::test]
async fn a_live_session_without_an_egress_is_replaced_by_a_new_start() {
    let h = Harness::new();
    let me = Actor::agent("a1").unwrap();
    let first = h
        .service
        .start_stream(&me, agent_start("a1"))
        .await
        .unwrap();
    // A healthy live session (with its egress) is reused.
    let mut live = h
        .store
        .get_session(&first.session_id)
        .await
        .unwrap()
        .unwrap();
    live.status = SessionStatus::Live;
    live.started_at = Some(T0);
    let live = h.store.update_session(&live).await.unwrap();
    let again = h
        .service
        .start_stream(&me, agent_start("a1"))
        .await
        .unwrap();
    assert!(again.reused, "a live session with an egress is reused");
    assert_eq!(again.session_id, first.session_id);
    assert_eq!(h.egress.started(), 1);

    // The same session says `live` but has lost its egress: a new start replaces it.
    let mut lost = live;
    lost.egress_id = None;
    h.store.update_session(&lost).await.unwrap();
    h.clock.advance_ms(1_000);
    // A start for another platform is still a conflict (stop it or pass forceRestart).
    let other_platform = StartStreamRequest {
        platform: Some(Platform::Youtube),
        ..agent_start("a1")
    };
    expect_code(
        h.service.start_stream(&me, other_platform).await,
        ErrorCode::Conflict,
    );
    let unchanged = h
        .store
        .get_session(&first.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.status, SessionStatus::Live);
    let fresh = h
        .service
        .start_stream(&me, agent_start("a1"))
        .await
        .unwrap();
    assert!(!fresh.reused, "{fresh:?}");
    assert_ne!(fresh.session_id, first.session_id);
    assert_eq!(fresh.status, SessionStatus::Pending);
    assert_eq!(h.egress.started(), 2, "a new egress was started");

    let old = h
        .store
        .get_session(&first.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.status, SessionStatus::Ended);
    assert_eq!(old.end_reason.as_deref(), Some(end_reason::EGRESS_LOST));
    assert!(old.stats.is_some(), "stats frozen");
    let new = h
        .store
        .get_session(&fresh.session_id)
        .await
        .unwrap()
        .unwrap();
    assert!(new.egress_id.is_some());
    let active = h
        .store
        .active_session(&Entity::agent("a1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.id, fresh.session_id, "exactly one active session");
}

/// An HS256 token with exactly `claims`, signed with the harness's LiveKit secret.
fn sign_claims(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(API_SECRET.as_bytes()),
    )
    .unwrap()
}

/// A webhook token covers its body only through a base64 `sha256` claim of it.
#[tokio::test]
async fn webhook_tokens_without_a_matching_sha256_claim_are_rejected() {
    let h = Harness::new();
    let s = h
        .service
        .start_stream(&Actor::Internal, agent_start("a1"))
        .await
        .unwrap();
    let eg = h.egress_of(&s.session_id).await;
    let body = egress_body(
        "EV_sha",
        "egress_updated",
        &eg,
        Some("EGRESS_ACTIVE"),
        None,
        None,
    );
    let now = T0 / 1000;
    let base = json!({ "iss": API_KEY, "exp": now + 300, "nbf": now });
    let with_sha = |sha: Value| {
        let mut claims = base.clone();
        claims["sha256"] = sha;
        sign_claims(&claims)
    };
    let other_body = body.replace("EGRESS_ACTIVE", "EGRESS_FAILED");
    let digest = Sha256::digest(body.as_bytes());
    let forged = [
        ("no sha256 claim", sign_claims(&base)),
        ("null sha256", with_sha(Value::Null)),
        ("empty sha256", with_sha("".into())),
        (
            "sha256 of another body",
            with_sha(
                STANDARD
                    .encode(Sha256::digest(other_body.as_bytes()))
                    .into(),
            ),
        ),
        ("hex sha256", with_sha(hex::encode(digest).into())),
        (
            "truncated sha256",
            with_sha(STANDARD.encode(digest)[..20].to_owned().into()),
        ),
    ];
    for (what, token) in &forged {
        let err = h
            .service
            .handle_webhook(body.as_bytes(), &format!("Bearer {token}"))
            .await
            .expect_err(what);
        assert_eq!(err.code(), ErrorCode::Unauthorized, "{what}: {err}");
    }
    // A valid token for one body does not cover another body.
    let err = h
        .service
        .handle_webhook(other_body.as_bytes(), &sign_webhook(&body, now))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthorized, "{err}");
    // Over HTTP the token without the claim gets 401.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/webhooks/livekit")
        .header("content-type", "application/webhook+json")
        .header("authorization", forged[0].1.as_str())
        .body(Body::from(body.clone()))
        .unwrap();
    let resp = app(&h).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // Nothing changed, and the event id was not used up by the forgeries.
    let st = h
        .service
        .get_status(&Actor::Internal, &s.session_id)
        .await
        .unwrap();
    assert_eq!(st.status, SessionStatus::Pending);
    let genuine = with_sha(STANDARD.encode(digest).into());
    let outcome = h
        .service
        .handle_webhook(body.as_bytes(), &genuine)
        .await
        .unwrap();
    assert!(outcome.applied && !outcome.duplicate, "{outcome:?}");
    let st = h
        .service
        .get_status(&Actor::Internal, &s.session_id)
        .await
        .unwrap();
    assert_eq!(st.status, SessionStatus::Live);
}

const KICK_KEY: &str = "sk_kick_secret_key_4242";
const YT_KEY: &str = "yt-secret-key-123456";

fn kick_destination() -> DestinationInput {
    DestinationInput {
        platform: Platform::Kick,
        stream_key: SecretString::from(KICK_KEY),
        custom_rtmp_url: None,
        channel: None,
    }
}

fn with_youtube(req: StartStreamRequest) -> StartStreamRequest {
    StartStreamRequest {
        destinations: vec![DestinationInput {
            platform: Platform::Youtube,
            stream_key: SecretString::from(YT_KEY),
            custom_rtmp_url: None,
            channel: None,
        }],
        ..req
    }
}

/// A failed destination addition is recorded `failed`, with a message and no secret.
#[tokio::test]
async fn failed_destination_additions_are_recorded_failed_without_secrets() {
    let h = Harness::new();
    let me = Actor::agent("a1").unwrap();
    let s = h
        .service
        .start_stream(&me, with_youtube(agent_start("a1")))
        .await
        .unwrap();
    let session = h.store.get_session(&s.session_id).await.unwrap().unwrap();
    let eg = session.egress_id.clone().unwrap();
    let yt_id = session.destinations[1].id.clone();
    // The egress dies behind the session's back: the update call fails.
    h.egress.stop(&eg).await.unwrap();
    let err = h
        .service
        .update_destinations(
            &me,
            UpdateDestinationsRequest {
                session_id: s.session_id.clone(),
                add: vec![kick_destination()],
                remove: vec![yt_id.clone().into()],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Egress, "{err}");
    assert!(!err.to_string().contains(KICK_KEY), "{err}");

    let after = h.store.get_session(&s.session_id).await.unwrap().unwrap();
    assert_eq!(after.destinations.len(), 3, "{:?}", after.destinations);
    let added = &after.destinations[2];
    assert_eq!(added.platform, Platform::Kick);
    assert_eq!(added.status, DestinationStatus::Failed);
    assert!(!added.primary);
    let message = added.error_message.as_deref().unwrap();
    assert!(message.contains("egress is not running"), "{message}");
    assert!(!added.redacted_url.contains(KICK_KEY));
    // The removal in the same failed request was not recorded.
    let yt = after.destinations.iter().find(|d| d.id == yt_id).unwrap();
    assert_eq!(yt.status, DestinationStatus::Active);
    assert!(yt.removed_at.is_none());
    // Nothing secret in what is stored or shown.
    let stored = serde_json::to_string(&after).unwrap();
    let shown =
        serde_json::to_string(&h.service.get_status(&me, &s.session_id).await.unwrap()).unwrap();
    for text in [&stored, &shown] {
        assert!(
            !text.contains(KICK_KEY) && !text.contains(YT_KEY) && !text.contains(TWITCH_KEY),
            "{text}"
        );
    }
    assert!(shown.contains("\"status\":\"failed\""), "{shown}");
    assert!(shown.contains("egress is not running"), "{shown}");
}

/// `autoStart` is off unless explicitly turned on.
#[tokio::test]
async fn auto_start_defaults_to_false_when_not_given() {
    let h = Harness::new();
    let me = Actor::agent("a1").unwrap();
    // The JSON shape without the field.
    let req: ConfigurePlatformRequest =
        serde_json::from_value(json!({"platform": "twitch", "streamKey": TWITCH_KEY})).unwrap();
    assert_eq!(req.auto_start, None);
    let view = h.service.configure_platform(&me, req).await.unwrap();
    assert!(!view.auto_start);
    let stored = h
        .store
        .get_credential(&Entity::agent("a1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.auto_start);
    assert!(
        !h.service
            .get_platform_config(&me, &CredentialTarget::default())
            .await
            .unwrap()
            .auto_start
    );
    // A game start therefore does not start a stream.
    let outcome = h
        .service
        .on_game_started(&Actor::Internal, "a1", "lobby_1")
        .await
        .unwrap();
    assert_eq!(
        (outcome.started, outcome.reason.as_str()),
        (false, "autostart_disabled")
    );
    assert_eq!(h.egress.started(), 0);

    // Over HTTP, for agent_7.
    let app = app(&h);
    let Reply {
        status, json: view, ..
    } = call(
        &app,
        Method::PUT,
        "/api/streaming/platforms",
        Some(AGENT_KEY),
        Some(json!({"platform": "kick", "streamKey": "kick-key-123456"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["autoStart"], false);
    let outcome = h
        .service
        .on_game_started(&Actor::Internal, "agent_7", "lobby_1")
        .await
        .unwrap();
    assert_eq!(outcome.reason, "autostart_disabled");
    assert_eq!(h.egress.started(), 0);

    // Only an explicit `true` turns it on.
    let Reply { json: view, .. } = call(
        &app,
        Method::PUT,
        "/api/streaming/platforms",
        Some(AGENT_KEY),
        Some(json!({"platform": "kick", "streamKey": "kick-key-123456", "autoStart": true})),
    )
    .await;
    assert_eq!(view["autoStart"], true);
    let outcome = h
        .service
        .on_game_started(&Actor::Internal, "agent_7", "lobby_1")
        .await
        .unwrap();
    assert!(outcome.started, "{outcome:?}");
    // A later save without the field keeps the stored value.
    let Reply { json: view, .. } = call(
        &app,
        Method::PUT,
        "/api/streaming/platforms",
        Some(AGENT_KEY),
        Some(json!({"platform": "kick"})),
    )
    .await;
    assert_eq!(view["autoStart"], true, "{view}");
}

#[tokio::test]
async fn a_stop_reason_must_be_a_word_and_a_refused_one_changes_nothing() {
    let h = Harness::new();
    let s = h
        .service
        .start_stream(&agent("a1"), agent_start("a1"))
        .await
        .unwrap();
    let stop = |reason: &str| StopStreamRequest {
        session_id: Some(s.session_id.clone()),
        reason: Some(reason.into()),
        ..Default::default()
    };
    for bad in [
        "<script>alert(1)</script>",
        "Game Over",
        "game-over",
        "émoji",
        &"a".repeat(65),
    ] {
        let err = expect_code(
            h.service.stop_stream(&agent("a1"), stop(bad)).await,
            ErrorCode::InvalidInput,
        );
        assert!(
            matches!(&err, Error::InvalidInput { field, .. } if field == "reason"),
            "{err:?}"
        );
        assert!(!err.to_string().contains("script"), "{err}");
    }
    let status = h
        .service
        .get_status(&Actor::Internal, &s.session_id)
        .await
        .unwrap();
    assert_eq!(status.status, SessionStatus::Pending, "nothing written");
    h.service
        .stop_stream(&agent("a1"), stop("  game_over_2 "))
        .await
        .unwrap();
    let status = h
        .service
        .get_status(&Actor::Internal, &s.session_id)
        .await
        .unwrap();
    assert_eq!(status.end_reason.as_deref(), Some("game_over_2"));
}

#[tokio::test]
async fn destination_channels_come_from_the_request_stored_credentials_and_updates() {
    let h = Harness::new();
    let me = agent("a_chan");
    // Stored credentials carry the channel; a start with them uses it.
    let stored: ConfigurePlatformRequest = serde_json::from_value(serde_json::json!({
        "platform": "twitch", "streamKey": TWITCH_KEY, "channel": "BlazeMaster"
    }))
    .unwrap();
    let view = h.service.configure_platform(&me, stored).await.unwrap();
    assert_eq!(view.channel.as_deref(), Some("blazemaster"));
    let started = h
        .service
        .start_stream(
            &me,
            StartStreamRequest {
                use_stored_credentials: true,
                destinations: vec![DestinationInput {
                    platform: Platform::Youtube,
                    stream_key: SecretString::from("yt-key-0001"),
                    custom_rtmp_url: None,
                    channel: Some("dQw4w9WgXcQ".into()),
                }],
                ..StartStreamRequest::default()
            },
        )
        .await
        .unwrap();
    let st = h
        .service
        .get_status(&me, &started.session_id)
        .await
        .unwrap();
    let channels: Vec<Option<&str>> = st
        .destinations
        .iter()
        .map(|d| d.channel.as_deref())
        .collect();
    assert_eq!(channels, [Some("blazemaster"), Some("dQw4w9WgXcQ")]);

    // A channel that does not fit its platform names the field; nothing is written.
    let egress = h.egress_of(&started.session_id).await;
    h.webhook(
        "EV_chan",
        "egress_updated",
        &egress,
        Some("EGRESS_ACTIVE"),
        None,
    )
    .await
    .unwrap();
    let bad: UpdateDestinationsRequest = serde_json::from_value(serde_json::json!({
        "sessionId": started.session_id,
        "add": [{"platform": "kick", "streamKey": "sk_kick_0001", "channel": "no/slashes"}]
    }))
    .unwrap();
    let err = h.service.update_destinations(&me, bad).await.unwrap_err();
    assert!(
        err.to_string().starts_with("invalid add[0].channel:"),
        "{err}"
    );
    assert_eq!(
        h.service
            .get_status(&me, &started.session_id)
            .await
            .unwrap()
            .destinations
            .len(),
        2
    );
    let good: UpdateDestinationsRequest = serde_json::from_value(serde_json::json!({
        "sessionId": started.session_id,
        "add": [{"platform": "kick", "streamKey": "sk_kick_0001", "channel": "Blaze"}]
    }))
    .unwrap();
    let added = h.service.update_destinations(&me, good).await.unwrap();
    assert_eq!(added.added[0].channel.as_deref(), Some("blaze"));
    let custom = StartStreamRequest {
        channel: Some("whatever".into()),
        force_restart: true,
        ..user_start("custom_key_0001")
    };
    let err = h
        .service
        .start_stream(&Actor::user("u_chan").unwrap(), custom)
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("invalid channel:"), "{err}");
}
