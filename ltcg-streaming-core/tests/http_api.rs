//! The seed's REST API (`http` feature): authentication, every route, the error contract
//! (`{error, code}` with 400/401/403/404/409/413/429), webhooks with LiveKit's content type,
//! and API keys that must match exactly.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use ltcg_streaming_core::http::{router, ApiAuth};
use ltcg_streaming_core::service::RateLimitConfig;
use ltcg_streaming_core::{Actor, ErrorCode, MemoryStore};
use ltcg_streaming_test_support::harness::*;
use ltcg_streaming_test_support::http::{app, auth, call, Reply, AGENT_KEY, INTERNAL_KEY};
use serde_json::{json, Value};
use tower::ServiceExt;

fn start_body() -> Value {
    json!({
        "streamType": "agent",
        "platform": "twitch",
        "streamKey": TWITCH_KEY,
        "streamTitle": "AI Agent Playing LTCG"
    })
}

#[tokio::test]
async fn health_needs_no_credentials_and_requests_get_ids() {
    let h = Harness::new();
    let Reply {
        status,
        json: body,
        headers,
        ..
    } = call(&app(&h), Method::GET, "/healthz", None, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    assert!(headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn credentials_map_to_actors() {
    let h = Harness::new();
    let app = app(&h);
    let Reply {
        status, json: body, ..
    } = call(
        &app,
        Method::POST,
        "/api/streaming/start",
        None,
        Some(start_body()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "UNAUTHORIZED");
    let Reply { status, .. } = call(
        &app,
        Method::POST,
        "/api/streaming/start",
        Some("wrong-key-0123456789"),
        Some(start_body()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The agent key acts as agent_7: no agentId needed, another agent's id is refused.
    let Reply {
        status, json: body, ..
    } = call(
        &app,
        Method::POST,
        "/api/streaming/start",
        Some(AGENT_KEY),
        Some(start_body()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sid = body["sessionId"].as_str().unwrap().to_owned();
    let st = h
        .service
        .get_status(&ltcg_streaming_core::Actor::Internal, &sid.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(st.entity_id, "agent_7");
    let mut other = start_body();
    other["agentId"] = "agent_8".into();
    let Reply {
        status, json: body, ..
    } = call(
        &app,
        Method::POST,
        "/api/streaming/start",
        Some(AGENT_KEY),
        Some(other),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("FORBIDDEN"))
    );
    // The internal key, through the product's X-Internal-Auth header.
    let req = Request::builder()
        .method(Method::GET)
        .uri(format!("/api/streaming/status?sessionId={sid}"))
        .header("x-internal-auth", INTERNAL_KEY)
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::OK
    );
    // Development mode: no credentials needed.
    let dev = router(h.service.clone(), ApiAuth::dev_mode());
    let Reply { status, .. } = call(
        &dev,
        Method::GET,
        &format!("/api/streaming/status?sessionId={sid}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(ApiAuth::new().with_internal_key("short").is_err());
}

#[tokio::test]
async fn the_seed_walkthrough() {
    let h = Harness::new();
    let app = app(&h);
    let mut body = start_body();
    body["agentId"] = "agent_42".into();
    let Reply {
        status,
        json: started,
        ..
    } = call(
        &app,
        Method::POST,
        "/api/streaming/start",
        Some(INTERNAL_KEY),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["success"], true);
    assert_eq!(started["status"], "pending");
    assert_eq!(started["message"], "Stream starting...");
    assert_eq!(started["reused"], false);
    assert!(started["overlayUrl"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{APP_URL}/stream/overlay?sessionId=")));
    let sid = started["sessionId"].as_str().unwrap().to_owned();

    let Reply { status, .. } = call(
        &app,
        Method::POST,
        "/api/streaming/link-game",
        Some(INTERNAL_KEY),
        Some(json!({"sessionId": sid, "gameId": "lobby_456"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let decision = json!({"sessionId": sid, "gameId": "g1", "turnNumber": 2, "phase": "main", "action": "attack", "reasoning": "lethal on board"});
    let Reply {
        status, json: rec, ..
    } = call(
        &app,
        Method::POST,
        "/api/agents/decisions",
        Some(INTERNAL_KEY),
        Some(decision),
    )
    .await;
    assert_eq!(
        (status, rec["decisionsLogged"].as_u64()),
        (StatusCode::OK, Some(1))
    );
    let event = json!({"sessionId": sid, "gameId": "g1", "turnNumber": 2, "eventType": "agent_decided", "description": "attacks"});
    let Reply {
        status, json: rec, ..
    } = call(
        &app,
        Method::POST,
        "/api/agents/events",
        Some(INTERNAL_KEY),
        Some(event),
    )
    .await;
    assert_eq!(
        (status, rec["eventsRecorded"].as_u64()),
        (StatusCode::OK, Some(1))
    );

    let Reply {
        status, json: st, ..
    } = call(
        &app,
        Method::GET,
        &format!("/api/streaming/status?sessionId={sid}"),
        Some(INTERNAL_KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(st["status"], "pending");
    assert_eq!(st["streamType"], "agent");
    assert_eq!(st["platform"], "twitch");
    assert_eq!(st["currentLobbyId"], "lobby_456");
    assert_eq!(st["viewerCount"], 0);
    let text = st.to_string();
    assert!(!text.contains(TWITCH_KEY) && !text.contains("token="));

    let Reply {
        status, json: list, ..
    } = call(
        &app,
        Method::GET,
        "/api/streaming/sessions?active=true&limit=10",
        Some(INTERNAL_KEY),
        None,
    )
    .await;
    assert_eq!((status, list["count"].as_u64()), (StatusCode::OK, Some(1)));

    let add = json!({"sessionId": sid, "addDestinations": [{"platform": "kick", "streamKey": "kick-key-123"}]});
    let Reply {
        status, json: up, ..
    } = call(
        &app,
        Method::POST,
        "/api/streaming/destinations",
        Some(INTERNAL_KEY),
        Some(add),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{up}");
    assert_eq!(up["destinations"].as_array().unwrap().len(), 2);

    let Reply {
        status,
        json: stopped,
        ..
    } = call(
        &app,
        Method::POST,
        "/api/streaming/stop",
        Some(INTERNAL_KEY),
        Some(json!({"sessionId": sid, "reason": "manual"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stopped["stats"]["decisionsLogged"], 1);
    assert_eq!(stopped["stats"]["eventsRecorded"], 1);
}

#[tokio::test]
async fn platform_credentials_round_trip() {
    let h = Harness::new();
    let app = app(&h);
    let put = json!({"platform": "custom", "streamKey": "stored-key-99", "customRtmpUrl": "rtmp://ingest.example.com:1935/live", "autoStart": true});
    let Reply {
        status, json: view, ..
    } = call(
        &app,
        Method::PUT,
        "/api/streaming/platforms",
        Some(AGENT_KEY),
        Some(put),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["hasStreamKey"], true);
    assert!(!view.to_string().contains("stored-key-99"));
    let Reply {
        status, json: got, ..
    } = call(
        &app,
        Method::GET,
        "/api/streaming/platforms",
        Some(AGENT_KEY),
        None,
    )
    .await;
    assert_eq!(
        (status, got["autoStart"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let Reply { status, .. } = call(
        &app,
        Method::GET,
        "/api/streaming/platforms?agentId=agent_8",
        Some(AGENT_KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let Reply {
        status, json: del, ..
    } = call(
        &app,
        Method::DELETE,
        "/api/streaming/platforms",
        Some(AGENT_KEY),
        None,
    )
    .await;
    assert_eq!(
        (status, del["deleted"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let Reply { status, .. } = call(
        &app,
        Method::GET,
        "/api/streaming/platforms",
        Some(AGENT_KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_error_contract() {
    let h = Harness::with(
        Arc::new(MemoryStore::new()),
        RateLimitConfig {
            calls_per_minute: 60,
            call_burst: 8,
            ..RateLimitConfig::disabled()
        },
    );
    let app = app(&h);
    let k = Some(AGENT_KEY);
    // 400: invalid fields are named; values are not echoed.
    let mut bad = start_body();
    bad["platform"] = "myspace".into();
    let Reply {
        status, json: body, ..
    } = call(&app, Method::POST, "/api/streaming/start", k, Some(bad)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_INPUT"))
    );
    assert!(
        body["error"].as_str().unwrap().contains("platform"),
        "{body}"
    );
    assert!(!body["error"].as_str().unwrap().contains("myspace"));
    let mut bad = start_body();
    bad["streamType"] = TWITCH_KEY.into();
    let Reply {
        status, json: body, ..
    } = call(&app, Method::POST, "/api/streaming/start", k, Some(bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("streamType"),
        "{body}"
    );
    assert!(!body.to_string().contains(TWITCH_KEY), "{body}");
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/streaming/start")
        .header("authorization", format!("Bearer {AGENT_KEY}"))
        .body(Body::from("{not json"))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let Reply {
        status, json: body, ..
    } = call(&app, Method::GET, "/api/streaming/status", k, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("sessionId"));
    // 404: unknown session, unknown route.
    let Reply { status, .. } = call(
        &app,
        Method::GET,
        "/api/streaming/status?sessionId=ses_unknown",
        k,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let Reply {
        status, json: body, ..
    } = call(&app, Method::GET, "/api/nope", k, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
    );
    // 409: another platform while a stream is active.
    call(
        &app,
        Method::POST,
        "/api/streaming/start",
        k,
        Some(start_body()),
    )
    .await;
    let mut yt = start_body();
    yt["platform"] = "youtube".into();
    let Reply {
        status, json: body, ..
    } = call(&app, Method::POST, "/api/streaming/start", k, Some(yt)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("CONFLICT"))
    );
    // 413: oversized body.
    let mut huge = start_body();
    huge["streamTitle"] = "x".repeat(100_000).into();
    let Reply {
        status, json: body, ..
    } = call(&app, Method::POST, "/api/streaming/start", k, Some(huge)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("INVALID_INPUT"))
    );
    // 429 with Retry-After once the burst is spent.
    let mut last = Reply::default();
    for _ in 0..10 {
        last = call(&app, Method::GET, "/api/streaming/sessions", k, None).await;
    }
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(last.json["code"], "RATE_LIMITED");
    assert!(
        last.headers
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
}

#[tokio::test]
async fn livekit_webhooks_with_their_content_type() {
    let h = Harness::new();
    let app = app(&h);
    let Reply { json: started, .. } = call(
        &app,
        Method::POST,
        "/api/streaming/start",
        Some(AGENT_KEY),
        Some(start_body()),
    )
    .await;
    let sid: ltcg_streaming_core::SessionId =
        started["sessionId"].as_str().unwrap().parse().unwrap();
    let eg = h.egress_of(&sid).await;
    let body = egress_body(
        "EV_http",
        "egress_updated",
        &eg,
        Some("EGRESS_ACTIVE"),
        None,
        None,
    );
    let send = |auth: String, body: String| {
        let app = app.clone();
        async move {
            let req = Request::builder()
                .method(Method::POST)
                .uri("/api/webhooks/livekit")
                .header("content-type", "application/webhook+json")
                .header("authorization", auth)
                .body(Body::from(body))
                .unwrap();
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status();
            let v: Value =
                serde_json::from_slice(&to_bytes(resp.into_body(), 1 << 20).await.unwrap())
                    .unwrap();
            (status, v)
        }
    };
    let forged = sign_webhook_with(&body, T0 / 1000, API_KEY, "wrong-secret-0123456789");
    let (status, v) = send(forged, body.clone()).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("UNAUTHORIZED"))
    );
    assert_eq!(
        h.service
            .get_status(&ltcg_streaming_core::Actor::Internal, &sid)
            .await
            .unwrap()
            .status
            .as_str(),
        "pending"
    );
    let (status, v) = send(sign_webhook(&body, T0 / 1000), body.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (v["received"].as_bool(), v["applied"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(
        h.service
            .get_status(&ltcg_streaming_core::Actor::Internal, &sid)
            .await
            .unwrap()
            .status
            .as_str(),
        "live"
    );
    let (status, v) = send(String::new(), body).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("UNAUTHORIZED"))
    );
}

#[tokio::test]
async fn overlay_page_and_events_need_the_sessions_token() {
    use futures::StreamExt;
    let h = Harness::new();
    let app = app(&h);
    let Reply { json: started, .. } = call(
        &app,
        Method::POST,
        "/api/streaming/start",
        Some(AGENT_KEY),
        Some(start_body()),
    )
    .await;
    let overlay = started["overlayUrl"].as_str().unwrap();
    let path = &overlay[APP_URL.len()..];
    let sid = started["sessionId"].as_str().unwrap().to_owned();
    let decision = json!({"sessionId": sid, "gameId": "g1", "turnNumber": 4, "phase": "combat", "action": "attack", "reasoning": "<img src=x onerror=alert(1)> go face"});
    call(
        &app,
        Method::POST,
        "/api/agents/decisions",
        Some(AGENT_KEY),
        Some(decision),
    )
    .await;

    let get = |uri: String| {
        let app = app.clone();
        async move {
            app.oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
                .await
                .unwrap()
        }
    };
    let page = get(path.to_owned()).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    let html =
        String::from_utf8(to_bytes(page.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
    assert!(html.contains("/stream/overlay.js"));

    // Wrong, missing or another session's token: 401 page without data.
    let other = h
        .service
        .overlay_tokens()
        .issue(
            "ses_other000000000000000000000",
            ltcg_streaming_core::StreamType::Agent,
            "agent_7",
        )
        .unwrap();
    for uri in [
        format!("/stream/overlay?sessionId={sid}&token=garbage"),
        format!("/stream/overlay?sessionId={sid}"),
        format!("/stream/overlay?sessionId={sid}&token={other}"),
    ] {
        let resp = get(uri.clone()).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{uri}");
        let body =
            String::from_utf8(to_bytes(resp.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
        assert!(
            !body.contains("AI Agent Playing LTCG")
                && !body.contains(&sid)
                && !body.contains("overlay.js")
        );
    }

    // Events: the first event is a snapshot with the decision, as data (never markup).
    let events = path.replacen("/stream/overlay?", "/stream/overlay/events?", 1);
    let resp = get(events.clone()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.into_body().into_data_stream();
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), body.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let text = String::from_utf8(first.to_vec()).unwrap();
    assert!(text.starts_with("event: snapshot\ndata: "), "{text}");
    let snapshot: Value =
        serde_json::from_str(text.trim_start_matches("event: snapshot\ndata: ").trim()).unwrap();
    assert_eq!(snapshot["status"], "pending");
    assert_eq!(snapshot["streamTitle"], "AI Agent Playing LTCG");
    assert_eq!(snapshot["decisions"][0]["turnNumber"], 4);
    assert_eq!(snapshot["overlayConfig"]["showDecisions"], true);
    assert!(!text.contains(TWITCH_KEY));
    let denied = get(format!(
        "/stream/overlay/events?sessionId={sid}&token=garbage"
    ))
    .await;
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    // The script renders with textContent only.
    let js = get("/stream/overlay.js".into()).await;
    let js = String::from_utf8(to_bytes(js.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
    assert!(js.contains("START_RECORDING") && !js.contains("innerHTML"));
}

#[derive(Debug)]
struct PrivyLike;

#[async_trait::async_trait]
impl ltcg_streaming_core::http::UserTokens for PrivyLike {
    async fn user_for(&self, token: &str) -> ltcg_streaming_core::Result<Option<String>> {
        Ok(token.strip_prefix("user-session-").map(str::to_owned))
    }
}

#[tokio::test]
async fn user_tokens_resolve_through_the_hook() {
    let h = Harness::new();
    let app = router(
        h.service.clone(),
        auth().with_user_tokens(Arc::new(PrivyLike)),
    );
    let body = json!({"platform": "custom", "streamKey": "user-key-1", "customRtmpUrl": "rtmp://ingest.example.com:1935/live"});
    let Reply {
        status,
        json: started,
        ..
    } = call(
        &app,
        Method::POST,
        "/api/streaming/start",
        Some("user-session-alice"),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let Reply { json: st, .. } = call(
        &app,
        Method::GET,
        &format!(
            "/api/streaming/status?sessionId={}",
            started["sessionId"].as_str().unwrap()
        ),
        Some(INTERNAL_KEY),
        None,
    )
    .await;
    assert_eq!(
        (st["streamType"].as_str(), st["entityId"].as_str()),
        (Some("user"), Some("alice"))
    );
    let Reply { status, .. } = call(
        &app,
        Method::GET,
        "/api/streaming/sessions",
        Some("not-a-session-token"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

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

/// API keys match exactly (compared in constant time), in every header that carries one.
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
