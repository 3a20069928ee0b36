//! Regression tests for the LTCG weaknesses that SECURITY.md §6 says are closed and that no
//! other test proved: exact API-key matching (#4), replacing a live session that has no
//! egress (#7), webhook tokens without or with a wrong `sha256` (#10), events written into
//! another actor's session (#14), failed destination additions (#15), the `autoStart`
//! default (#17) and malformed session ids (#18).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ltcg_streaming_core::config::LiveKitConfig;
use ltcg_streaming_core::egress::{EgressBackend, LiveKitEgress, LiveKitEgressOptions};
use ltcg_streaming_core::service::{
    ConfigurePlatformRequest, CredentialTarget, DestinationInput, EventInput, RateLimitConfig,
    StartStreamRequest, StopStreamRequest, UpdateDestinationsRequest,
};
use ltcg_streaming_core::session::{end_reason, ActivityKind, DestinationStatus, Entity};
use ltcg_streaming_core::{
    Actor, AesGcmVault, Error, ErrorCode, MemoryStore, Platform, SecretString, ServiceOptions,
    SessionId, SessionStatus, StreamingConfig, StreamingService,
};
use ltcg_streaming_test_support::harness::*;
use ltcg_streaming_test_support::http::{app, auth, call, Reply, AGENT_KEY, INTERNAL_KEY};
use ltcg_streaming_test_support::livekit_twirp::{FakeLiveKit, TwirpMethod};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

/// How a key is put into a header's value.
type Present = fn(&str) -> String;

fn swap_case(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

/// Near misses of `key`: last character changed, a prefix, the key plus a suffix, the key in
/// another case (all-upper, all-lower, swapped).
fn near_misses(key: &str) -> Vec<String> {
    let mut last_changed = key.to_owned();
    let last = last_changed.pop().unwrap();
    last_changed.push(if last == '9' { '8' } else { '9' });
    let variants = vec![
        last_changed,
        key[..key.len() - 1].to_owned(),
        key[..key.len() / 2].to_owned(),
        format!("{key}0"),
        format!("{key}-extra"),
        key.to_ascii_uppercase(),
        key.to_ascii_lowercase(),
        swap_case(key),
    ];
    for v in &variants {
        assert_ne!(v, key, "each variant differs from the key");
    }
    variants
}

// ----- #4: API keys must match exactly (compared with subtle::ConstantTimeEq) -----

#[tokio::test]
async fn api_keys_must_match_exactly_in_every_header() {
    let auth = auth();
    let headers = |name: &'static str, value: String| {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(&value).unwrap());
        h
    };
    let presentations: [(&'static str, Present); 3] = [
        ("authorization", |k| format!("Bearer {k}")),
        ("x-api-key", str::to_owned),
        ("x-internal-auth", str::to_owned),
    ];
    for (name, present) in presentations {
        // The right keys are accepted (surrounding spaces are trimmed).
        assert_eq!(
            auth.authenticate(&headers(name, present(INTERNAL_KEY)))
                .await
                .unwrap(),
            Actor::Internal,
            "{name}"
        );
        assert_eq!(
            auth.authenticate(&headers(name, format!(" {} ", present(AGENT_KEY))))
                .await
                .unwrap(),
            Actor::Agent("agent_7".into()),
            "{name}"
        );
        // Anything else is refused.
        for key in [INTERNAL_KEY, AGENT_KEY] {
            for wrong in near_misses(key) {
                let err = auth
                    .authenticate(&headers(name, present(&wrong)))
                    .await
                    .expect_err(&format!("{name}: {wrong:?} must be refused"));
                assert_eq!(err.code(), ErrorCode::Unauthorized, "{name}: {wrong:?}");
            }
        }
    }
    // Over HTTP: 401 for a near miss, 200 for the key.
    let h = Harness::new();
    let app = app(&h);
    for wrong in near_misses(AGENT_KEY) {
        let Reply {
            status, json: body, ..
        } = call(
            &app,
            Method::GET,
            "/api/streaming/sessions",
            Some(&wrong),
            None,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("UNAUTHORIZED")),
            "{wrong:?}"
        );
    }
    let Reply { status, .. } = call(
        &app,
        Method::GET,
        "/api/streaming/sessions",
        Some(AGENT_KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

// ----- #7: a live session with no egress is not reused -----

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

// ----- #10: the webhook body must match a base64 `sha256` claim -----

/// An HS256 token with exactly `claims`, signed with the harness's LiveKit secret.
fn sign_claims(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(API_SECRET.as_bytes()),
    )
    .unwrap()
}

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

// ----- #14: events go only into the caller's own session -----

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

// ----- #15: failed additions are recorded `failed`, with a message and no secret -----

const KICK_KEY: &str = "sk_kick_secret_key_4242";
const YT_KEY: &str = "yt-secret-key-123456";

fn kick() -> DestinationInput {
    DestinationInput {
        platform: Platform::Kick,
        stream_key: SecretString::from(KICK_KEY),
        custom_rtmp_url: None,
    }
}

fn with_youtube(req: StartStreamRequest) -> StartStreamRequest {
    StartStreamRequest {
        destinations: vec![DestinationInput {
            platform: Platform::Youtube,
            stream_key: SecretString::from(YT_KEY),
            custom_rtmp_url: None,
        }],
        ..req
    }
}

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
                add: vec![kick()],
                remove: vec![yt_id.clone()],
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

#[tokio::test]
async fn a_livekit_update_error_quoting_the_url_is_stored_redacted() {
    let fake = FakeLiveKit::start().await;
    let mut config = StreamingConfig::new(KEY_HEX, JWT_SECRET).unwrap();
    config.app_url = APP_URL.into();
    config.livekit =
        Some(LiveKitConfig::new(&fake.ws_url(), &fake.api_key, &fake.api_secret).unwrap());
    let egress =
        LiveKitEgress::new(LiveKitEgressOptions::from(config.livekit.as_ref().unwrap())).unwrap();
    let service = StreamingService::with_options(
        config,
        Arc::new(MemoryStore::new()),
        Arc::new(egress),
        Arc::new(AesGcmVault::from_hex(KEY_HEX).unwrap()),
        ServiceOptions {
            rate_limits: RateLimitConfig::disabled(),
            ..ServiceOptions::default()
        },
    )
    .unwrap();
    let me = Actor::agent("a1").unwrap();
    let s = service.start_stream(&me, agent_start("a1")).await.unwrap();
    // LiveKit refuses the update and quotes the full output URL, key included.
    let kick_url =
        format!("rtmps://fa723fc1b171.global-contribute.live-video.net:443/app/{KICK_KEY}");
    fake.fail_next(
        TwirpMethod::UpdateStream,
        "invalid_argument",
        &format!("could not add output {kick_url}: key {KICK_KEY} rejected"),
    );
    let err = service
        .update_destinations(
            &me,
            UpdateDestinationsRequest {
                session_id: s.session_id.clone(),
                add: vec![kick()],
                remove: vec![],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Egress, "{err}");
    assert_eq!(fake.update_requests()[0].add_output_urls, [kick_url]);
    let after = service
        .store()
        .get_session(&s.session_id)
        .await
        .unwrap()
        .unwrap();
    let added = after.destinations.last().unwrap();
    assert_eq!(added.status, DestinationStatus::Failed);
    let message = added.error_message.as_deref().unwrap();
    assert!(message.contains("invalid_argument") || message.contains("could not add output"));
    assert!(!message.contains(KICK_KEY), "{message}");
    let stored = serde_json::to_string(&after).unwrap();
    assert!(!stored.contains(KICK_KEY), "{stored}");
    assert!(!err.to_string().contains(KICK_KEY), "{err}");
}

// ----- #17: `autoStart` defaults to false -----

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

// ----- #18: a malformed session id is 400 INVALID_INPUT, not 500 -----

/// Malformed ids, as they appear decoded and URL-encoded in a query string.
const MALFORMED: [(&str, &str); 6] = [
    ("a b", "a%20b"),
    ("../etc/passwd", "..%2Fetc%2Fpasswd"),
    ("ses_1&token=x", "ses_1%26token%3Dx"),
    ("ses_é", "ses_%C3%A9"),
    ("ses_1\n", "ses_1%0A"),
    ("", ""),
];

fn assert_session_id_error(err: &Error) {
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
    match err {
        Error::InvalidInput { field, .. } => assert_eq!(field, "sessionId"),
        other => panic!("not an input error: {other}"),
    }
}

#[tokio::test]
async fn malformed_session_ids_are_input_errors_in_the_service() {
    let too_long = "s".repeat(129);
    for bad in MALFORMED
        .iter()
        .map(|(raw, _)| *raw)
        .chain([too_long.as_str()])
    {
        assert_session_id_error(&SessionId::parse(bad).unwrap_err());
        assert_session_id_error(&bad.parse::<SessionId>().unwrap_err());
        // Request types the service and the bindings decode refuse it too.
        let err = serde_json::from_value::<StopStreamRequest>(json!({ "sessionId": bad }))
            .expect_err(bad);
        assert!(err.to_string().contains("sessionId"), "{bad:?}: {err}");
    }
    // A well-formed id that does not exist is NOT_FOUND, not an input error.
    let h = Harness::new();
    let unknown = SessionId::parse("ses_unknown").unwrap();
    expect_code(
        h.service.get_status(&Actor::Internal, &unknown).await,
        ErrorCode::NotFound,
    );
}

#[tokio::test]
async fn malformed_session_ids_are_400_over_http() {
    let h = Harness::new();
    let app = app(&h);
    let k = Some(INTERNAL_KEY);
    let too_long = "s".repeat(129);
    let queries = MALFORMED
        .iter()
        .map(|(_, encoded)| (*encoded).to_owned())
        .chain([too_long.clone()]);
    for encoded in queries {
        let Reply {
            status, json: body, ..
        } = call(
            &app,
            Method::GET,
            &format!("/api/streaming/status?sessionId={encoded}"),
            k,
            None,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_INPUT")),
            "{encoded:?}: {body}"
        );
        assert!(
            body["error"].as_str().unwrap().contains("sessionId"),
            "{body}"
        );
    }
    // JSON bodies of every route that takes a session id.
    let routes: [(&str, Value); 5] = [
        ("/api/streaming/stop", json!({})),
        ("/api/streaming/link-game", json!({"lobbyId": "lobby_1"})),
        ("/api/streaming/destinations", json!({"remove": ["dst_x"]})),
        (
            "/api/agents/decisions",
            json!({"gameId": "g", "turnNumber": 1, "phase": "p", "action": "a", "reasoning": "r"}),
        ),
        (
            "/api/agents/events",
            json!({"gameId": "g", "turnNumber": 1, "eventType": "card_played", "description": "d"}),
        ),
    ];
    for (uri, base) in routes {
        for bad in MALFORMED
            .iter()
            .map(|(raw, _)| *raw)
            .chain([too_long.as_str()])
        {
            let mut body = base.clone();
            body["sessionId"] = bad.into();
            let Reply {
                status,
                json: answer,
                ..
            } = call(&app, Method::POST, uri, k, Some(body)).await;
            assert_eq!(
                (status, answer["code"].as_str()),
                (StatusCode::BAD_REQUEST, Some("INVALID_INPUT")),
                "{uri} {bad:?}: {answer}"
            );
            assert!(
                answer["error"].as_str().unwrap().contains("sessionId"),
                "{uri}: {answer}"
            );
        }
    }
    // The overlay page answers a malformed id with its 401 page, without data.
    let req = Request::builder()
        .uri("/stream/overlay?sessionId=a%20b&token=x")
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // A well-formed unknown id: 404.
    let Reply {
        status, json: body, ..
    } = call(
        &app,
        Method::GET,
        "/api/streaming/status?sessionId=ses_unknown",
        k,
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
    );
}
