//! Size and rate limits of the HTTP router, in process through `tower::ServiceExt::oneshot`
//! with an internal key and agent keys:
//! - a body one byte over the limit (64 KiB for JSON routes, 1 MiB for LiveKit webhooks) is
//!   refused with 413 and the `{error, code}` shape on every route that takes a body, and
//!   nothing is written; the same body at exactly the limit is accepted (so the bodies are
//!   otherwise valid and the limit is exact); an endless chunked body without
//!   `Content-Length` is refused after reading little more than the limit;
//! - a burst of 10,000 start requests from one agent key is answered 429 with `Retry-After`
//!   for nearly all of them, another agent and the internal key are served normally during
//!   and after the burst, and the sessions created stay within the per-entity start limit.
//!
//! No wall-clock time is asserted; the burst's bounds allow for the limiter's refill over
//! however long the burst took.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode};
use futures::StreamExt as _;
use ltcg_streaming_core::http::{MAX_JSON_BODY, MAX_WEBHOOK_BODY};
use ltcg_streaming_core::service::RateLimitConfig;
use ltcg_streaming_core::store::SessionQuery;
use ltcg_streaming_core::{
    Clock, EgressBackend as _, Entity, MemoryStore, SessionId, SessionStatus,
};
use ltcg_streaming_test_support::harness::*;
use ltcg_streaming_test_support::http::*;
use serde_json::{json, Value};

/// `value` with a `padding` field that makes its JSON exactly `total` bytes.
fn padded(value: Value, total: usize) -> String {
    let base = value.to_string().len();
    assert!(base <= total, "{base} > {total}");
    // Whitespace after the value: the same request at exactly `total` bytes (unknown fields
    // would be refused).
    let text = format!("{value}{}", " ".repeat(total - base));
    assert_eq!(text.len(), total);
    text
}

/// One route taking a body, and a body it would accept.
struct BodyRoute {
    method: Method,
    uri: &'static str,
    limit: usize,
    body: Value,
}

fn body_routes(sid: &SessionId, egress_id: &str) -> Vec<BodyRoute> {
    let json_route = |method: Method, uri: &'static str, body: Value| BodyRoute {
        method,
        uri,
        limit: MAX_JSON_BODY,
        body,
    };
    vec![
        json_route(
            Method::POST,
            "/api/streaming/start",
            json!({"agentId": "agent_8", "streamType": "agent", "platform": "twitch", "streamKey": TWITCH_KEY}),
        ),
        json_route(
            Method::POST,
            "/api/streaming/link-game",
            json!({"sessionId": sid, "lobbyId": "lobby_9"}),
        ),
        json_route(
            Method::POST,
            "/api/agents/decisions",
            json!({"sessionId": sid, "gameId": "g1", "turnNumber": 1, "phase": "main", "action": "attack", "reasoning": "open board"}),
        ),
        json_route(
            Method::POST,
            "/api/agents/events",
            json!({"sessionId": sid, "gameId": "g1", "turnNumber": 1, "eventType": "card_played", "description": "a card"}),
        ),
        json_route(
            Method::POST,
            "/api/streaming/destinations",
            json!({"sessionId": sid, "addDestinations": [{"platform": "kick", "streamKey": "kick-key-123"}]}),
        ),
        json_route(
            Method::PUT,
            "/api/streaming/platforms",
            json!({"agentId": "agent_9", "platform": "custom", "streamKey": "stored-key-99", "customRtmpUrl": "rtmp://ingest.example.com:1935/live"}),
        ),
        BodyRoute {
            method: Method::POST,
            uri: "/api/webhooks/livekit",
            limit: MAX_WEBHOOK_BODY,
            body: json!({"event": "egress_updated", "id": "EV_padded000001", "createdAt": "1795478000",
                "egressInfo": {"egressId": egress_id, "status": "EGRESS_ACTIVE", "startedAt": "1795478001000000000"}}),
        },
        // Last: it ends the session the others need.
        json_route(
            Method::POST,
            "/api/streaming/stop",
            json!({"sessionId": sid, "reason": "manual"}),
        ),
    ]
}

/// The request for `route` with `body`: the internal key, or LiveKit's signature.
fn route_request(h: &Harness, route: &BodyRoute, body: String) -> Request<Body> {
    if route.uri == "/api/webhooks/livekit" {
        let auth = sign_webhook(&body, h.clock.now_secs());
        Request::builder()
            .method(route.method.clone())
            .uri(route.uri)
            .header("content-type", "application/webhook+json")
            .header("authorization", auth)
            .body(body.into())
            .unwrap()
    } else {
        request(route.method.clone(), route.uri, Some(INTERNAL_KEY), body)
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_on_every_route_and_write_nothing() {
    let h = Harness::new();
    let app = app(&h);
    let (sid, egress) = started_session(&h).await;
    let routes = body_routes(&sid, &egress);
    let before = snapshot(&h).await;
    for route in &routes {
        let ctx = format!("{} {}", route.method, route.uri);
        let body = padded(route.body.clone(), route.limit + 1);
        let reply = send(&app, route_request(&h, route, body)).await;
        assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "INVALID_INPUT", &ctx);
        assert!(
            error_text(&reply).contains(&format!("larger than {} bytes", route.limit)),
            "{ctx}: {}",
            reply.text
        );
        assert_eq!(snapshot(&h).await, before, "{ctx}: nothing written");
    }
    // The same bodies at exactly the limit are accepted and do their work: the 413s above
    // were about size alone.
    for route in &routes {
        let ctx = format!("{} {} at the limit", route.method, route.uri);
        let body = padded(route.body.clone(), route.limit);
        let reply = send(&app, route_request(&h, route, body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{ctx}: {}", reply.text);
        if route.uri == "/api/webhooks/livekit" {
            assert_eq!(reply.json["applied"], true, "{ctx}: {}", reply.text);
        }
    }
    let session = h.store.get_session(&sid).await.unwrap().unwrap();
    assert_eq!(session.status, SessionStatus::Ended);
    assert_eq!((session.decisions_logged, session.events_recorded), (1, 1));
    assert_eq!(session.current_lobby_id.as_deref(), Some("lobby_9"));
    assert_eq!(session.destinations.len(), 2);
    assert!(h
        .store
        .active_session(&Entity::agent("agent_8").unwrap())
        .await
        .unwrap()
        .is_some());
    assert!(h
        .store
        .get_credential(&Entity::agent("agent_9").unwrap())
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn endless_chunked_bodies_are_cut_off_near_the_limit() {
    let h = Harness::new();
    let app = app(&h);
    let (sid, egress) = started_session(&h).await;
    let before = snapshot(&h).await;
    const CHUNK: usize = 16 * 1024;
    for route in body_routes(&sid, &egress) {
        let ctx = format!("{} {}", route.method, route.uri);
        // A body without Content-Length that would go on for 64 MiB; count what is read.
        let pulled = Arc::new(AtomicUsize::new(0));
        let counter = pulled.clone();
        let chunks = futures::stream::iter(0..4096).map(move |i| {
            counter.fetch_add(1, Ordering::SeqCst);
            let chunk = if i == 0 {
                let mut first = b"{\"padding\":\"".to_vec();
                first.resize(CHUNK, b'x');
                first
            } else {
                vec![b'x'; CHUNK]
            };
            Ok::<_, std::io::Error>(Bytes::from(chunk))
        });
        // (For the webhook, the signature covers an empty body: the size check comes first.)
        let mut req = route_request(&h, &route, String::new());
        *req.body_mut() = Body::from_stream(chunks);
        let reply = send(&app, req).await;
        assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "INVALID_INPUT", &ctx);
        let read = pulled.load(Ordering::SeqCst) * CHUNK;
        assert!(
            read <= route.limit + 2 * CHUNK,
            "{ctx}: read {read} bytes for a {} byte limit",
            route.limit
        );
        assert_eq!(snapshot(&h).await, before, "{ctx}: nothing written");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_from_one_agent_is_limited_without_starving_others() {
    let limits = RateLimitConfig::default();
    let h = Harness::with(Arc::new(MemoryStore::new()), limits);
    let app = app(&h);
    const BURST: usize = 10_000;
    const WAVE: usize = 200;
    let start_body =
        json!({"platform": "twitch", "streamKey": TWITCH_KEY, "forceRestart": true}).to_string();
    let began = Instant::now();
    let mut ok = 0usize;
    let mut reused = 0usize;
    let mut limited = 0usize;
    let mut conflicts = 0usize;
    let mut other_agent_served = 0usize;
    let mut internal_served = 0usize;
    for wave in 0..BURST / WAVE {
        let replies = futures::future::join_all((0..WAVE).map(|_| {
            let app = app.clone();
            let body = start_body.clone();
            tokio::spawn(async move {
                send(
                    &app,
                    request(Method::POST, "/api/streaming/start", Some(AGENT_KEY), body),
                )
                .await
            })
        }))
        .await;
        for reply in replies {
            let reply = reply.unwrap();
            match reply.status {
                // A start that replaced the session and then met one created by a
                // concurrent start answers with that newer session (`reused`).
                StatusCode::OK if reply.json["reused"] == true => reused += 1,
                StatusCode::OK => ok += 1,
                StatusCode::TOO_MANY_REQUESTS => {
                    limited += 1;
                    assert_error(
                        &reply,
                        StatusCode::TOO_MANY_REQUESTS,
                        "RATE_LIMITED",
                        "burst",
                    );
                    let retry_after: u64 = reply
                        .headers
                        .get("retry-after")
                        .expect("429 without Retry-After")
                        .to_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
                }
                // Two starts let through together race: the later one replaces the
                // earlier session (forceRestart) before its egress is recorded, and the
                // earlier caller is told so. Both passed the start limiter.
                StatusCode::CONFLICT => {
                    assert_error(&reply, StatusCode::CONFLICT, "CONFLICT", "burst");
                    conflicts += 1;
                }
                other => panic!("unexpected {other}: {}", reply.text),
            }
        }
        // Others during the burst: another agent (its own bucket) and the internal key.
        let reply = send(
            &app,
            request(
                Method::GET,
                "/api/streaming/sessions",
                Some(OTHER_AGENT_KEY),
                Body::empty(),
            ),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "agent_9 during wave {wave}: {}",
            reply.text
        );
        other_agent_served += 1;
        let reply = send(
            &app,
            request(
                Method::GET,
                "/api/streaming/sessions?streamType=agent&entityId=agent_7",
                Some(INTERNAL_KEY),
                Body::empty(),
            ),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "internal during wave {wave}: {}",
            reply.text
        );
        internal_served += 1;
    }
    let elapsed = began.elapsed().as_secs_f64();
    assert_eq!(ok + reused + limited + conflicts, BURST);
    assert_eq!(
        (other_agent_served, internal_served),
        (BURST / WAVE, BURST / WAVE)
    );

    // Limits: per-actor calls (burst 60, 120/min) and per-entity starts (burst 3, 6/min),
    // plus whatever the buckets refilled while the burst ran.
    let refill = |per_minute: u32| (elapsed * f64::from(per_minute) / 60.0).ceil() as usize;
    let max_calls = limits.call_burst as usize + refill(limits.calls_per_minute);
    let max_starts = limits.start_burst as usize + refill(limits.starts_per_minute);
    assert!(
        limited >= BURST - max_calls,
        "only {limited} of {BURST} limited"
    );
    assert!(
        limited > BURST * 9 / 10,
        "most of the burst is limited: {limited}"
    );
    assert!(ok >= 1, "the first start gets through");
    assert!(
        ok + reused + conflicts <= max_starts,
        "{ok} + {reused} + {conflicts} starts passed the limiter > {max_starts}"
    );
    let agent_7 = h
        .store
        .list_sessions(&SessionQuery {
            entity: Some(Entity::agent("agent_7").unwrap()),
            limit: 500,
            ..SessionQuery::default()
        })
        .await
        .unwrap()
        .sessions;
    assert!(
        (ok..=max_starts).contains(&agent_7.len()),
        "{} sessions for {ok} accepted starts, at most {max_starts}",
        agent_7.len()
    );
    let active: Vec<_> = agent_7.iter().filter(|s| s.status.is_active()).collect();
    assert_eq!(active.len(), 1, "one active session per entity");
    // Every session created started one egress; only the active one's is still running.
    assert_eq!(h.egress.started() as usize, agent_7.len());
    let running = h.egress.list_active().await.unwrap();
    assert_eq!(
        running
            .iter()
            .map(|e| e.egress_id.as_str())
            .collect::<Vec<_>>(),
        [active[0].egress_id.as_deref().unwrap()]
    );

    // After the burst: the other agent and the internal key still start streams.
    let reply = post(
        &app,
        "/api/streaming/start",
        OTHER_AGENT_KEY,
        json!({"platform": "twitch", "streamKey": TWITCH_KEY}).to_string(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["reused"], false);
    let reply = post(
        &app,
        "/api/streaming/start",
        INTERNAL_KEY,
        json!({"agentId": "agent_42", "platform": "twitch", "streamKey": TWITCH_KEY}).to_string(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = send(
        &app,
        request(
            Method::GET,
            "/api/streaming/sessions?active=true",
            Some(INTERNAL_KEY),
            Body::empty(),
        ),
    )
    .await;
    assert_eq!(
        reply.json["count"], 3,
        "agent_7, agent_9 and agent_42 each stream once"
    );
    // The limited agent itself is still refused right after its burst.
    let reply = post(&app, "/api/streaming/start", AGENT_KEY, start_body).await;
    assert_error(
        &reply,
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        "after the burst",
    );
}
