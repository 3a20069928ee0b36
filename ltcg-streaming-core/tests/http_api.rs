//! The seed's REST API (`http` feature): authentication, every route, the error contract
//! (`{error, code}` with 400/401/403/404/409/413/429), webhooks with LiveKit's content type,
//! and API keys that must match exactly.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use ltcg_streaming_core::http::{router, ApiAuth};
use ltcg_streaming_core::service::RateLimitConfig;
use ltcg_streaming_core::{Actor, Clock, ErrorCode, MemoryStore};
use ltcg_streaming_test_support::harness::*;
use ltcg_streaming_test_support::http::{
    app, assert_error, auth, call, error_text, send, snapshot, started_session, status_of, Reply,
    AGENT_KEY, INTERNAL_KEY,
};
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
        .header("content-type", "application/json")
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

/// Starts `agent_7`'s stream ([`start_body`]) with its key: the answer, and the path of
/// its overlay URL.
async fn start_with_overlay(app: &axum::Router) -> (Value, String) {
    let Reply { json: started, .. } = call(
        app,
        Method::POST,
        "/api/streaming/start",
        Some(AGENT_KEY),
        Some(start_body()),
    )
    .await;
    let path = started["overlayUrl"].as_str().unwrap()[APP_URL.len()..].to_owned();
    (started, path)
}

#[tokio::test]
async fn overlay_page_and_events_need_the_sessions_token() {
    use futures::StreamExt;
    let h = Harness::new();
    let app = app(&h);
    let (started, path) = start_with_overlay(&app).await;
    let path = path.as_str();
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
    assert!(text.starts_with("event: snapshot\nid: "), "{text}");
    let data = text.split_once("\ndata: ").unwrap().1;
    let snapshot: Value = serde_json::from_str(data.trim()).unwrap();
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

/// An app's own agent-key table (keys in its own format), counting what it is asked.
#[derive(Debug, Default)]
struct AppKeyTable {
    asked: std::sync::Mutex<Vec<String>>,
}

const APP_AGENT_KEY: &str = "ltcg_AppKeyFromItsOwnTable0123456789XYZ";

#[async_trait::async_trait]
impl ltcg_streaming_core::http::AgentKeyLookup for AppKeyTable {
    async fn agent_for(&self, key: &str) -> ltcg_streaming_core::Result<Option<String>> {
        self.asked.lock().unwrap().push(key.to_owned());
        Ok((key == APP_AGENT_KEY).then(|| "agent_from_app".to_owned()))
    }
}

/// User tokens: every token is a user's.
#[derive(Debug)]
struct EveryTokenAUser;

#[async_trait::async_trait]
impl ltcg_streaming_core::http::UserTokens for EveryTokenAUser {
    async fn user_for(&self, _token: &str) -> ltcg_streaming_core::Result<Option<String>> {
        Ok(Some("anyone".to_owned()))
    }
}

#[tokio::test]
async fn agent_keys_resolve_through_the_hosts_lookup() {
    let h = Harness::new();
    let table = Arc::new(AppKeyTable::default());
    let app = router(
        h.service.clone(),
        auth()
            .with_agent_key_lookup(table.clone())
            .with_user_tokens(Arc::new(EveryTokenAUser)),
    );
    let body = json!({"platform": "twitch", "streamKey": "live_123456789_abcdefghijklmnop"});
    let start = "/api/streaming/start";
    let started = call(&app, Method::POST, start, Some(APP_AGENT_KEY), Some(body)).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let st = status_of(&app, started.json["sessionId"].as_str().unwrap()).await;
    assert_eq!(
        (st["streamType"].as_str(), st["entityId"].as_str()),
        (Some("agent"), Some("agent_from_app"))
    );
    // An `ltcg_` value the table does not know is refused, not tried as a user token.
    let unknown = "ltcg_NotInTheTable000000000000000000000";
    let Reply { status, .. } = call(
        &app,
        Method::GET,
        "/api/streaming/sessions",
        Some(unknown),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Configured keys and user tokens never reach the table.
    for key in [INTERNAL_KEY, "a-user-session-token"] {
        let Reply { status, .. } = call(
            &app,
            Method::GET,
            "/api/streaming/sessions",
            Some(key),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{key}");
    }
    assert_eq!(
        *table.asked.lock().unwrap(),
        [APP_AGENT_KEY, unknown],
        "the table is asked only about ltcg_ values"
    );
    assert!(!format!("{:?}", auth().with_agent_key_lookup(table.clone())).contains("ltcg_"));
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

/// Every route taking a JSON body, with a body it would accept from the internal key.
fn json_routes(sid: &str) -> Vec<(Method, &'static str, Value)> {
    vec![
        (Method::POST, "/api/streaming/start", start_body()),
        (
            Method::POST,
            "/api/streaming/stop",
            json!({"sessionId": sid, "reason": "manual"}),
        ),
        (
            Method::POST,
            "/api/streaming/destinations",
            json!({"sessionId": sid, "add": [{"platform": "youtube", "streamKey": "yt-key-123456"}]}),
        ),
        (
            Method::POST,
            "/api/streaming/link-game",
            json!({"sessionId": sid, "lobbyId": "lobby_1"}),
        ),
        (
            Method::POST,
            "/api/agents/decisions",
            json!({"sessionId": sid, "gameId": "g1", "turnNumber": 1, "phase": "main", "action": "draw", "reasoning": "card advantage"}),
        ),
        (
            Method::POST,
            "/api/agents/events",
            json!({"sessionId": sid, "type": "game_start", "description": "go"}),
        ),
        (
            Method::PUT,
            "/api/streaming/platforms",
            json!({"agentId": "agent_8", "platform": "twitch", "streamKey": "live_abcdefghijk"}),
        ),
        (
            Method::POST,
            "/api/webhooks/livekit",
            json!({"event": "room_started"}),
        ),
    ]
}

/// A request to `uri` with the internal key (or, for the webhook, LiveKit's signature over
/// `body`) and `content_type`, if any.
fn typed_request(
    h: &Harness,
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: String,
) -> Request<Body> {
    let auth = if uri == "/api/webhooks/livekit" {
        sign_webhook(&body, h.clock.now_secs())
    } else {
        format!("Bearer {INTERNAL_KEY}")
    };
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", auth);
    if let Some(content_type) = content_type {
        req = req.header("content-type", content_type);
    }
    req.body(Body::from(body)).unwrap()
}

/// What a cross-site form or `fetch` may send without a CORS preflight is not JSON: every
/// route reading a body answers 415 with the error contract and writes nothing, whatever the
/// mode; `application/json` (any case, with parameters) and `application/<name>+json` are
/// read; routes without a body need no content type.
#[tokio::test]
async fn bodies_must_be_sent_as_json_on_every_route() {
    let h = Harness::new();
    let (sid, _) = started_session(&h).await;
    let keyed = app(&h);
    let dev = router(h.service.clone(), ApiAuth::dev_mode());
    let before = snapshot(&h).await;
    for app in [&keyed, &dev] {
        for (method, uri, body) in json_routes(sid.as_str()) {
            for content_type in [
                None,
                Some("text/plain"),
                Some("text/plain; charset=utf-8"),
                Some("application/x-www-form-urlencoded"),
                Some("multipart/form-data; boundary=x"),
                Some("text/json"),
                Some("application/jsonp"),
                Some("application/+json"),
                Some("application/json-seq"),
            ] {
                let ctx = format!("{method} {uri} as {content_type:?}");
                let req = typed_request(&h, method.clone(), uri, content_type, body.to_string());
                let reply = send(app, req).await;
                assert_error(
                    &reply,
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "INVALID_INPUT",
                    &ctx,
                );
                assert!(
                    reply.json["error"]
                        .as_str()
                        .unwrap()
                        .contains("application/json"),
                    "{ctx}: {}",
                    reply.text
                );
            }
        }
    }
    assert_eq!(snapshot(&h).await, before, "nothing was written");
    // JSON by any of its names is read (here: refused for its content, not its type).
    for content_type in [
        "application/json",
        "Application/JSON; charset=UTF-8",
        "application/json;charset=utf-8",
        "application/webhook+json",
        "application/vnd.ltcg+json",
    ] {
        for (method, uri, _) in json_routes(sid.as_str()) {
            let req = typed_request(&h, method.clone(), uri, Some(content_type), "[]".into());
            let reply = send(&keyed, req).await;
            assert_ne!(
                reply.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{method} {uri} as {content_type}: {}",
                reply.text
            );
        }
    }
    // A real request with a JSON type works; so do the routes that read no body, without one.
    let req = typed_request(
        &h,
        Method::POST,
        "/api/agents/decisions",
        Some("application/json; charset=utf-8"),
        json_routes(sid.as_str())[4].2.to_string(),
    );
    let decided = send(&keyed, req).await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.text);
    let (method, uri, body) = json_routes(sid.as_str()).swap_remove(6);
    let req = typed_request(&h, method, uri, Some("application/json"), body.to_string());
    let stored = send(&keyed, req).await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.text);
    for uri in [
        format!("/api/streaming/status?sessionId={sid}"),
        "/api/streaming/sessions".to_owned(),
        "/api/streaming/platforms?agentId=agent_8".to_owned(),
    ] {
        for app in [&keyed, &dev] {
            let reply = call(app, Method::GET, &uri, Some(INTERNAL_KEY), None).await;
            assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.text);
        }
    }
    let reply = call(
        &keyed,
        Method::DELETE,
        "/api/streaming/platforms?agentId=agent_8",
        Some(INTERNAL_KEY),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

/// [`start_body`] for an internal caller: the agent named.
fn dev_start_body() -> Value {
    let mut body = start_body();
    body["agentId"] = "agent_7".into();
    body
}

/// A request to the development-mode router with these `Host` and `Origin` headers.
async fn dev_request(app: &axum::Router, host: Option<&str>, origin: Option<&str>) -> Reply {
    let mut req = Request::builder()
        .method(Method::GET)
        .uri("/api/streaming/sessions");
    if let Some(host) = host {
        req = req.header("host", host);
    }
    if let Some(origin) = origin {
        req = req.header("origin", origin);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

/// Development mode trusts every request, so it answers only requests addressed to a
/// loopback name (DNS rebinding sends the attacker's host name) and, when a web page sends
/// them, from a loopback origin (a cross-site request sends its own); refusals are 403 with
/// the error contract and write nothing. The overlay, which carries its own token, is served
/// under any name (a tunnel for LiveKit); keyed mode does not look at the host.
#[tokio::test]
async fn development_mode_answers_only_loopback_hosts_and_origins() {
    let h = Harness::new();
    let dev = router(h.service.clone(), ApiAuth::dev_mode());
    for host in [
        "localhost",
        "localhost:3334",
        "LOCALHOST:3334",
        "localhost.:3334",
        "app.localhost:3334",
        "127.0.0.1",
        "127.0.0.1:3334",
        "127.12.0.1:80",
        "[::1]",
        "[::1]:3334",
    ] {
        let reply = dev_request(&dev, Some(host), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{host}: {}", reply.text);
    }
    for origin in [
        "http://localhost:3334",
        "https://localhost",
        "http://app.localhost:3000",
        "http://127.0.0.1:3334",
        "http://[::1]:3334",
    ] {
        let reply = dev_request(&dev, Some("localhost:3334"), Some(origin)).await;
        assert_eq!(reply.status, StatusCode::OK, "{origin}: {}", reply.text);
    }
    // No Host at all: not a browser.
    assert_eq!(dev_request(&dev, None, None).await.status, StatusCode::OK);
    for host in [
        "evil.example",
        "rebind.evil.example:3334",
        "localhost.evil.example",
        "localhost.evil.example:3334",
        "127.0.0.1.evil.example",
        "evil.localhost.example",
        "10.0.0.5:3334",
        "0.0.0.0:3334",
        "[::ffff:7f00:1]:3334",
        "[::1]evil",
        "localhost:3334:80",
        "localhost:abc",
        "",
    ] {
        let reply = dev_request(&dev, Some(host), None).await;
        assert_error(&reply, StatusCode::FORBIDDEN, "FORBIDDEN", host);
        assert!(error_text(&reply).contains("development mode"), "{host}");
        if !host.is_empty() {
            assert!(!reply.text.contains(host), "{host}: echoed");
        }
    }
    for origin in [
        "https://evil.example",
        "null",
        "http://localhost.evil.example",
        "http://localhost:3334.evil.example",
        "http://localhost:3334/path",
        "file://",
        "localhost:3334",
    ] {
        let reply = dev_request(&dev, Some("localhost:3334"), Some(origin)).await;
        assert_error(&reply, StatusCode::FORBIDDEN, "FORBIDDEN", origin);
        assert!(!reply.text.contains(origin), "{origin}: echoed");
    }
    // The cross-site form post of a CSRF attack: refused, nothing started.
    let before = snapshot(&h).await;
    for content_type in ["text/plain", "application/json"] {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/streaming/start")
            .header("host", "localhost:3334")
            .header("origin", "https://evil.example")
            .header("content-type", content_type)
            .body(Body::from(dev_start_body().to_string()))
            .unwrap();
        assert_error(
            &send(&dev, req).await,
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            content_type,
        );
    }
    assert_eq!(snapshot(&h).await, before, "nothing was started");
    // The same request from the server's own page starts the stream.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/streaming/start")
        .header("host", "localhost:3334")
        .header("origin", "http://localhost:3334")
        .header("content-type", "application/json")
        .body(Body::from(dev_start_body().to_string()))
        .unwrap();
    let started = send(&dev, req).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    // The overlay page and its events carry their own token: served under a tunnel's name.
    let overlay = started.json["overlayUrl"].as_str().unwrap();
    let path = &overlay[APP_URL.len()..];
    let events = path.replacen("/stream/overlay?", "/stream/overlay/events?", 1);
    for uri in [path.to_owned(), events] {
        let req = Request::builder()
            .uri(uri.as_str())
            .header("host", "overlay.tunnel.example")
            .body(Body::empty())
            .unwrap();
        let resp = dev.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{uri}");
    }
    // With keys, the host is the deployment's business.
    let reply = send(
        &app(&h),
        Request::builder()
            .uri("/api/streaming/sessions")
            .header("host", "api.example.com")
            .header("origin", "https://app.example.com")
            .header("authorization", format!("Bearer {INTERNAL_KEY}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

/// The errors the HTTP layer itself produces follow the contract too: 405 (with `Allow`),
/// 408, 414 and 431; a URI or header block at the limit is served.
#[tokio::test]
async fn http_layer_errors_use_the_error_contract() {
    use ltcg_streaming_core::http::{router_with, RouterOptions, MAX_HEADER_BYTES, MAX_URI_BYTES};
    let h = Harness::new();
    let app = app(&h);
    for (method, uri) in [
        (Method::GET, "/api/streaming/start"),
        (Method::DELETE, "/healthz"),
        (Method::POST, "/api/streaming/status"),
        (Method::PATCH, "/api/streaming/platforms"),
        (Method::GET, "/api/webhooks/livekit"),
    ] {
        let reply = call(&app, method.clone(), uri, Some(INTERNAL_KEY), None).await;
        let ctx = format!("{method} {uri}");
        assert_error(
            &reply,
            StatusCode::METHOD_NOT_ALLOWED,
            "INVALID_INPUT",
            &ctx,
        );
        assert!(reply.headers.contains_key("allow"), "{ctx}");
    }
    // 414: a URI over the limit; one at the limit is read (here: an unknown session).
    let padded_uri = |len: usize| {
        let base = "/api/streaming/status?sessionId=ses_unknown&pad=";
        format!("{base}{}", "x".repeat(len - base.len()))
    };
    let long = call(
        &app,
        Method::GET,
        &padded_uri(MAX_URI_BYTES + 1),
        Some(INTERNAL_KEY),
        None,
    )
    .await;
    assert_error(&long, StatusCode::URI_TOO_LONG, "INVALID_INPUT", "414");
    assert!(error_text(&long).contains(&MAX_URI_BYTES.to_string()));
    let at_limit = call(
        &app,
        Method::GET,
        &padded_uri(MAX_URI_BYTES),
        Some(INTERNAL_KEY),
        None,
    )
    .await;
    assert_ne!(at_limit.status, StatusCode::URI_TOO_LONG);
    // 431: headers over the limit, counted as on the wire.
    let with_header_block = |total: usize| {
        let auth = format!("Bearer {INTERNAL_KEY}");
        let used = "authorization".len() + auth.len() + 4 + "x-pad".len() + 4;
        Request::builder()
            .uri("/api/streaming/sessions")
            .header("authorization", auth)
            .header("x-pad", "p".repeat(total - used))
            .body(Body::empty())
            .unwrap()
    };
    let big = send(&app, with_header_block(MAX_HEADER_BYTES + 1)).await;
    assert_error(
        &big,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "INVALID_INPUT",
        "431",
    );
    assert!(!big.text.contains("ppppppppp"));
    let fits = send(&app, with_header_block(MAX_HEADER_BYTES)).await;
    assert_eq!(fits.status, StatusCode::OK, "{}", fits.text);
    // 408: a body that never finishes.
    let slow = router_with(
        h.service.clone(),
        auth(),
        RouterOptions {
            request_timeout: std::time::Duration::from_millis(200),
            ..RouterOptions::default()
        },
    );
    let never = futures::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
    let mut req = ltcg_streaming_test_support::http::request(
        Method::POST,
        "/api/streaming/start",
        Some(INTERNAL_KEY),
        Body::from_stream(never),
    );
    req.headers_mut()
        .insert("content-length", HeaderValue::from_static("100"));
    let timed_out = send(&slow, req).await;
    assert_error(
        &timed_out,
        StatusCode::REQUEST_TIMEOUT,
        "INVALID_INPUT",
        "408",
    );
    assert!(timed_out.headers.contains_key("x-request-id"));
}

/// `Authorization: Bearer` takes the key after any ASCII whitespace (spaces, tabs, both), with
/// the scheme in any case; `x-api-key` and `X-Internal-Auth` trim the same whitespace.
#[tokio::test]
async fn keys_are_read_after_any_ascii_whitespace_in_every_header() {
    let auth = auth();
    let headers = |name: &'static str, value: String| {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(&value).unwrap());
        h
    };
    let mut presentations: Vec<(&str, String)> = Vec::new();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        for gap in [" ", "\t", "  ", "\t\t", " \t", "\t "] {
            presentations.push(("authorization", format!("{scheme}{gap}{INTERNAL_KEY}")));
            presentations.push((
                "authorization",
                format!("{gap}{scheme}{gap}{INTERNAL_KEY}{gap}"),
            ));
        }
    }
    for name in ["x-api-key", "x-internal-auth"] {
        for gap in ["", " ", "\t", " \t", "\t "] {
            presentations.push((name, format!("{gap}{INTERNAL_KEY}{gap}")));
        }
    }
    for (name, value) in presentations {
        assert_eq!(
            auth.authenticate(&headers(name, value.clone())).await.ok(),
            Some(Actor::Internal),
            "{name}: {value:?}"
        );
    }
    // Not the Bearer scheme: nothing is presented.
    for value in [
        format!("Bearer{INTERNAL_KEY}"),
        format!("Basic {INTERNAL_KEY}"),
        format!("Bearerx {INTERNAL_KEY}"),
        "Bearer".to_owned(),
        "Bearer \t ".to_owned(),
    ] {
        let err = auth
            .authenticate(&headers("authorization", value.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unauthorized, "{value:?}");
    }
}

/// A request from `client` (as `ConnectInfo`) with bearer `key`.
fn from_client(client: Option<[u8; 4]>, key: &str) -> Request<Body> {
    let mut req = ltcg_streaming_test_support::http::request(
        Method::GET,
        "/api/streaming/sessions",
        Some(key),
        Body::empty(),
    );
    if let Some(ip) = client {
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                ip, 40_000,
            ))));
    }
    req
}

/// Failed authentication is throttled per client address: after a burst of wrong keys the
/// client is answered 429 with `Retry-After` and the wait in the message, the correct key
/// included (so guessing cannot go on), while other clients and correct keys are served
/// without limit; requests whose address is unknown share one budget.
#[tokio::test]
async fn failed_authentication_is_throttled_per_client() {
    let h = Harness::new();
    let app = app(&h);
    let attacker = Some([192, 0, 2, 1]);
    let other = Some([192, 0, 2, 2]);
    // Correct keys are never throttled.
    for _ in 0..200 {
        assert_eq!(
            send(&app, from_client(attacker, INTERNAL_KEY)).await.status,
            StatusCode::OK
        );
    }
    let mut statuses = Vec::new();
    let mut last = Reply::default();
    for i in 0..500 {
        last = send(&app, from_client(attacker, &format!("wrong-key-{i:010}"))).await;
        statuses.push(last.status);
    }
    let unauthorized = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        (1..=20).contains(&unauthorized),
        "{unauthorized} of 500 wrong keys were checked"
    );
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_error(
        &last,
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        "throttled",
    );
    let retry: u64 = last.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        error_text(&last),
        format!("rate limited: too many failed authentication attempts; retry in {retry} s")
    );
    // While throttled, the correct key from that address waits too.
    let blocked = send(&app, from_client(attacker, INTERNAL_KEY)).await;
    assert_error(
        &blocked,
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        "correct key",
    );
    // Another address is served, and its own failures are still 401.
    assert_eq!(
        send(&app, from_client(other, AGENT_KEY)).await.status,
        StatusCode::OK
    );
    let miss = send(&app, from_client(other, "wrong-key-other-0123")).await;
    assert_error(
        &miss,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "other client",
    );
    // Without an address, requests share one budget (and are throttled too).
    let shared: Vec<StatusCode> = futures::future::join_all(
        (0..100).map(|i| send(&app, from_client(None, &format!("wrong-key-{i:010}")))),
    )
    .await
    .into_iter()
    .map(|r| r.status)
    .collect();
    assert!(shared.contains(&StatusCode::TOO_MANY_REQUESTS));
    assert!(send(&app, from_client(other, INTERNAL_KEY)).await.status == StatusCode::OK);
}

/// The throttle's budget and window are options: once the wait is over the client's correct
/// key is served again; a limit of 0 turns the throttle off.
#[tokio::test]
async fn throttled_clients_are_served_again_after_the_wait() {
    use ltcg_streaming_core::http::{router_with, RouterOptions};
    let h = Harness::new();
    let client = Some([198, 51, 100, 7]);
    let app = router_with(
        h.service.clone(),
        auth(),
        RouterOptions {
            auth_failure_limit: 2,
            auth_failure_window: std::time::Duration::from_millis(400),
            ..RouterOptions::default()
        },
    );
    let statuses: Vec<StatusCode> = futures::future::join_all(
        (0..4).map(|_| send(&app, from_client(client, "wrong-key-0123456789"))),
    )
    .await
    .into_iter()
    .map(|r| r.status)
    .collect();
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    tokio::time::sleep(std::time::Duration::from_millis(450)).await;
    assert_eq!(
        send(&app, from_client(client, INTERNAL_KEY)).await.status,
        StatusCode::OK
    );
    let off = router_with(
        h.service.clone(),
        auth(),
        RouterOptions {
            auth_failure_limit: 0,
            ..RouterOptions::default()
        },
    );
    for _ in 0..50 {
        assert_eq!(
            send(&off, from_client(client, "wrong-key-0123456789"))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
}

/// Reads `body` until it ends (or 10 s pass); the events it carried, as (name, data).
async fn read_events(body: Body) -> (Vec<(String, Value)>, bool) {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut text = String::new();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(chunk) = stream.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
    })
    .await
    .is_ok();
    let events = text
        .split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name.to_owned(), serde_json::from_str(data).unwrap()))
        })
        .collect();
    (events, ended)
}

/// The overlay's event stream ends once the session has ended, after the snapshot showing it
/// (so the page shows the end); a new connection for an ended session gets that final
/// snapshot and ends too.
#[tokio::test]
async fn overlay_events_end_after_the_final_snapshot_of_an_ended_session() {
    use futures::StreamExt;
    use ltcg_streaming_core::service::StopStreamRequest;
    let h = Harness::new();
    let app = app(&h);
    let (started, path) = start_with_overlay(&app).await;
    let events = path.replacen("/stream/overlay?", "/stream/overlay/events?", 1);
    let get = |uri: String| {
        let app = app.clone();
        async move {
            app.oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
                .await
                .unwrap()
        }
    };
    let live = get(events.clone()).await;
    assert_eq!(live.status(), StatusCode::OK);
    let mut body = live.into_body().into_data_stream();
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), body.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&first).contains("\"status\":\"pending\""));
    let sid = started["sessionId"].as_str().unwrap().parse().unwrap();
    h.service
        .stop_stream(
            &Actor::Internal,
            StopStreamRequest {
                session_id: Some(sid),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (rest, ended) = read_events(Body::from_stream(body)).await;
    assert!(ended, "the stream did not end after the session ended");
    let last = rest.last().expect("a final snapshot");
    assert_eq!(last.0, "snapshot");
    assert_eq!(last.1["status"], "ended");
    // A new connection: the final snapshot, then the end.
    let again = get(events).await;
    assert_eq!(again.status(), StatusCode::OK);
    let (events, ended) = read_events(again.into_body()).await;
    assert!(ended, "a stream for an ended session stayed open");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0].0.as_str(), events[0].1["status"].as_str()),
        ("snapshot", Some("ended"))
    );
}
