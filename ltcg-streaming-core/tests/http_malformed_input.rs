//! Malformed input to the HTTP router is a 4xx that names the problem, never a panic, and
//! writes nothing (in process through `tower::ServiceExt::oneshot`):
//! - deeply nested JSON (100,000 levels of `[` or `{"a":`, tens of thousands of levels at the
//!   top, 10,000 levels inside `overlayConfig`, `parameters`, `metadata`, other routes'
//!   fields and signed webhooks) is refused by the size limit, by the recursion limit with the
//!   field, or at the first field whose value has the wrong type, without a stack overflow;
//!   deep nesting under an *unknown* field is skipped without recursion and the request is
//!   judged on its known fields;
//! - invalid UTF-8 in bodies (raw 0xff bytes, a BOM, lone surrogate escapes), in query
//!   strings (percent-encoded invalid bytes and surrogates) and in header values is a 4xx
//!   (or, for a header the API does not read, ignored);
//! - stream keys and custom RTMP URLs with CR/LF, LF, NUL, spaces, tabs and Unicode line
//!   separators are 400 `INVALID_INPUT` naming the field (`streamKey`, `customRtmpUrl`,
//!   `destinations[i].…`, `add[i].…`) on start, destination updates and stored platform
//!   credentials, nothing is stored, and the error never echoes the key or URL; whitespace
//!   around a key is trimmed, so no control character reaches the egress; `%0d%0a` is
//!   printable text that is passed on verbatim, never decoded;
//! - malformed session ids (spaces, path segments, query syntax, non-ASCII, line breaks,
//!   empty, too long) are 400 `INVALID_INPUT` naming `sessionId` in queries and in the JSON of
//!   every route that takes one, and the service's own parsers refuse them the same way.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode};
use ltcg_streaming_core::http::MAX_JSON_BODY;
use ltcg_streaming_core::service::StopStreamRequest;
use ltcg_streaming_core::{Actor, Clock, Error, ErrorCode, SessionId};
use ltcg_streaming_test_support::harness::*;
use ltcg_streaming_test_support::http::*;
use serde_json::{json, Value};
use tower::ServiceExt;

/// `depth` opening brackets of `open`, `inner`, and the matching closers.
fn nested(open: &str, close: &str, depth: usize, inner: &str) -> String {
    let mut s = String::with_capacity(depth * (open.len() + close.len()) + inner.len());
    for _ in 0..depth {
        s.push_str(open);
    }
    s.push_str(inner);
    for _ in 0..depth {
        s.push_str(close);
    }
    s
}

#[tokio::test]
async fn deeply_nested_json_is_a_clear_4xx_without_recursion() {
    let h = Harness::new();
    let app = app(&h);
    let (sid, egress) = started_session(&h).await;
    let before = snapshot(&h).await;
    let start = "/api/streaming/start";

    // 100,000 levels do not even fit in a JSON body: refused by size before parsing.
    for body in [
        "[".repeat(100_000),
        nested("[", "]", 100_000, ""),
        nested("{\"a\":", "}", 100_000, "1"),
    ] {
        let reply = post(&app, start, INTERNAL_KEY, body).await;
        assert_error(
            &reply,
            StatusCode::PAYLOAD_TOO_LARGE,
            "INVALID_INPUT",
            "100k levels",
        );
    }
    // Tens of thousands of levels within the size limit: the parser's recursion limit
    // answers, naming the problem, long before the stack is at risk.
    for (name, body) in [
        ("60k [", "[".repeat(60_000)),
        ("30k []", nested("[", "]", 30_000, "")),
        (
            "3k {\"streamTitle\":[",
            nested("{\"streamTitle\":[", "]}", 3_000, ""),
        ),
    ] {
        let reply = post(&app, start, INTERNAL_KEY, body).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_INPUT", name);
        let text = error_text(&reply);
        // A request is an object (an array is not read by position); inside an object the
        // nesting fails at its field, without quoting serde.
        let expected = if name.contains("streamTitle") {
            "invalid streamTitle: must be a string"
        } else {
            "invalid body: must be a JSON object"
        };
        assert!(text.starts_with(expected), "{name}: {text}");
    }
    // 10,000 levels inside a real field: refused at that field, by name.
    let deep_array = nested("[", "]", 10_000, "");
    let deep_object = nested("{\"a\":", "}", 10_000, "1");
    for (name, field, body) in [
        (
            "overlayConfig as a deep array",
            "overlayConfig",
            format!(
                r#"{{"agentId":"agent_8","platform":"twitch","streamKey":"{TWITCH_KEY}","overlayConfig":{deep_array}}}"#
            ),
        ),
        (
            "overlayConfig with a deep unknown member",
            "overlayConfig",
            format!(
                r#"{{"agentId":"agent_8","platform":"twitch","streamKey":"{TWITCH_KEY}","overlayConfig":{deep_object}}}"#
            ),
        ),
        (
            "overlayConfig.theme as a deep array",
            "overlayConfig.theme",
            format!(
                r#"{{"agentId":"agent_8","platform":"twitch","streamKey":"{TWITCH_KEY}","overlayConfig":{{"theme":{deep_array}}}}}"#
            ),
        ),
        (
            "overlayConfig.profilePictureUrl as a deep object",
            "overlayConfig.profilePictureUrl",
            format!(
                r#"{{"agentId":"agent_8","platform":"twitch","streamKey":"{TWITCH_KEY}","overlayConfig":{{"profilePictureUrl":{deep_object}}}}}"#
            ),
        ),
    ] {
        let reply = post(&app, start, INTERNAL_KEY, body).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_INPUT", name);
        assert!(
            error_text(&reply).starts_with(&format!("invalid {field}")),
            "{name}: {}",
            reply.text
        );
    }
    // Free-form JSON fields (decision parameters, event metadata) hit the recursion limit.
    for (uri, field, body) in [
        (
            "/api/agents/decisions",
            "parameters",
            format!(
                r#"{{"sessionId":"{sid}","gameId":"g1","turnNumber":1,"phase":"main","action":"attack","reasoning":"r","parameters":{deep_array}}}"#
            ),
        ),
        (
            "/api/agents/decisions",
            "parameters",
            format!(
                r#"{{"sessionId":"{sid}","gameId":"g1","turnNumber":1,"phase":"main","action":"attack","reasoning":"r","parameters":{deep_object}}}"#
            ),
        ),
        (
            "/api/agents/events",
            "metadata",
            format!(
                r#"{{"sessionId":"{sid}","gameId":"g1","turnNumber":1,"eventType":"card_played","description":"d","metadata":{deep_object}}}"#
            ),
        ),
    ] {
        let reply = post(&app, uri, INTERNAL_KEY, body).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_INPUT", uri);
        let text = error_text(&reply);
        assert!(
            text.starts_with(&format!("invalid {field}")) && text.contains("recursion limit"),
            "{uri}: {text}"
        );
    }
    // Other routes, 10,000 levels where a session id or string is expected.
    for uri in [
        "/api/streaming/stop",
        "/api/streaming/link-game",
        "/api/streaming/destinations",
    ] {
        let body = format!(r#"{{"sessionId":{deep_array}}}"#);
        let reply = post(&app, uri, INTERNAL_KEY, body).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_INPUT", uri);
        assert!(
            error_text(&reply).starts_with("invalid sessionId"),
            "{uri}: {}",
            reply.text
        );
    }
    let reply = send(
        &app,
        request(
            Method::PUT,
            "/api/streaming/platforms",
            Some(INTERNAL_KEY),
            format!(r#"{{"agentId":"agent_9","platform":"custom","streamKey":{deep_object}}}"#),
        ),
    )
    .await;
    assert_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "INVALID_INPUT",
        "platforms",
    );
    // LiveKit webhooks: unsigned ones are refused before the body is parsed; signed ones
    // with deep nesting (up to the 1 MiB limit) are input errors.
    let deep_webhook = [
        "[".repeat(500_000),
        nested("[", "]", 500_000, ""),
        format!(
            r#"{{"event":"egress_updated","id":"EV_deep00000001","egressInfo":{{"egressId":"{egress}","web":{{"url":{}}}}}}}"#,
            nested("[", "]", 10_000, "")
        ),
        format!(
            r#"{{"event":"egress_updated","id":"EV_deep00000002","egressInfo":{}}}"#,
            nested("[", "]", 10_000, "")
        ),
    ];
    for body in &deep_webhook {
        let unsigned = Request::builder()
            .method(Method::POST)
            .uri("/api/webhooks/livekit")
            .header("content-type", "application/webhook+json")
            .body(Body::from(body.clone()))
            .unwrap();
        assert_error(
            &send(&app, unsigned).await,
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "unsigned deep webhook",
        );
        let signed = Request::builder()
            .method(Method::POST)
            .uri("/api/webhooks/livekit")
            .header("content-type", "application/webhook+json")
            .header("authorization", sign_webhook(body, h.clock.now_secs()))
            .body(Body::from(body.clone()))
            .unwrap();
        let reply = send(&app, signed).await;
        assert_error(
            &reply,
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            "signed deep webhook",
        );
        assert!(
            error_text(&reply).contains("not a LiveKit webhook event"),
            "{}",
            reply.text
        );
    }
    assert_eq!(snapshot(&h).await, before, "nothing written");

    // Deep nesting under a field the API does not know is skipped by serde_json's
    // iterative skipper (no recursion, no stack) and the unknown field is refused by name;
    // the 64 KiB limit bounds the work.
    let body = format!(
        r#"{{"agentId":"agent_8","platform":"twitch","streamKey":"{TWITCH_KEY}","unknownField":{}}}"#,
        nested("{\"a\":[", "]}", 7_000, "")
    );
    assert!(body.len() < MAX_JSON_BODY);
    let reply = post(&app, start, INTERNAL_KEY, body).await;
    assert_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "INVALID_INPUT",
        "deep unknown",
    );
    assert_eq!(
        error_text(&reply),
        "invalid unknownField: is not a known field"
    );
    assert_eq!(snapshot(&h).await, before, "nothing written");
}

#[tokio::test]
async fn invalid_utf8_anywhere_is_a_4xx_and_writes_nothing() {
    let h = Harness::new();
    let app = app(&h);
    let (sid, _) = started_session(&h).await;
    let before = snapshot(&h).await;
    let start = "/api/streaming/start";

    // Raw invalid bytes inside and outside JSON strings, a BOM, lone surrogate escapes.
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("0xff in a string", b"{\"agentId\":\"agent_8\",\"platform\":\"twitch\",\"streamKey\":\"live_\xff\xfe_SECRETKEY\"}".to_vec()),
        ("0xc3 0x28 in a string", b"{\"agentId\":\"agent_8\",\"platform\":\"twitch\",\"streamKey\":\"live_\xc3\x28_SECRETKEY\"}".to_vec()),
        ("overlong encoding", b"{\"agentId\":\"agent_8\",\"platform\":\"twitch\",\"streamTitle\":\"\xc0\xafetc\",\"streamKey\":\"live_SECRETKEY\"}".to_vec()),
        ("encoded surrogate", b"{\"agentId\":\"agent_8\",\"platform\":\"twitch\",\"streamKey\":\"live_\xed\xa0\x80_SECRETKEY\"}".to_vec()),
        ("0xff outside strings", b"{\"agentId\":\"agent_8\",\xff\"platform\":\"twitch\"}".to_vec()),
        ("trailing 0xff", b"{\"agentId\":\"agent_8\",\"platform\":\"twitch\",\"streamKey\":\"live_SECRETKEY\"}\xff".to_vec()),
        ("BOM", b"\xef\xbb\xbf{\"agentId\":\"agent_8\",\"platform\":\"twitch\",\"streamKey\":\"live_SECRETKEY\"}".to_vec()),
        ("lone leading surrogate", br#"{"agentId":"agent_8","platform":"twitch","streamKey":"live_\ud800_SECRETKEY"}"#.to_vec()),
        ("lone trailing surrogate", br#"{"agentId":"agent_8","platform":"twitch","streamKey":"live_\udc00_SECRETKEY"}"#.to_vec()),
        ("leading surrogate then letter", br#"{"agentId":"agent_8","platform":"twitch","streamKey":"live_\ud800\u0041_SECRETKEY"}"#.to_vec()),
        ("surrogate in a title", br#"{"agentId":"agent_8","platform":"twitch","streamKey":"live_SECRETKEY","streamTitle":"\udfff"}"#.to_vec()),
        ("only garbage", vec![0xff; 512]),
    ];
    for (name, body) in &bodies {
        let reply = post(&app, start, INTERNAL_KEY, body.clone()).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_INPUT", name);
        assert!(
            !reply.text.contains("SECRETKEY"),
            "{name}: echoes the key: {}",
            reply.text
        );
    }
    // Every other body route, with garbage and with a lone surrogate where an id goes.
    for uri in [
        "/api/streaming/stop",
        "/api/streaming/link-game",
        "/api/streaming/destinations",
        "/api/agents/decisions",
        "/api/agents/events",
    ] {
        for body in [
            vec![0xffu8, 0xfe, 0xfd],
            br#"{"sessionId":"\ud800"}"#.to_vec(),
        ] {
            let reply = post(&app, uri, INTERNAL_KEY, body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_INPUT", uri);
        }
    }
    let reply = send(
        &app,
        request(
            Method::PUT,
            "/api/streaming/platforms",
            Some(INTERNAL_KEY),
            b"{\"agentId\":\"agent_9\",\"platform\":\"custom\",\"streamKey\":\"k\xff\"}".to_vec(),
        ),
    )
    .await;
    assert_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "INVALID_INPUT",
        "platforms",
    );
    // A signed webhook whose body is not UTF-8.
    let body = b"{\"event\":\"egress_updated\",\"id\":\"EV_\xff\"}".to_vec();
    let auth = {
        use base64::Engine as _;
        use sha2::Digest as _;
        let sum = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&body));
        let claims = json!({"sha256": sum, "iss": API_KEY, "exp": h.clock.now_secs() + 300, "nbf": h.clock.now_secs()});
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(API_SECRET.as_bytes()),
        )
        .unwrap()
    };
    let reply = send(
        &app,
        Request::builder()
            .method(Method::POST)
            .uri("/api/webhooks/livekit")
            .header("content-type", "application/webhook+json")
            .header("authorization", auth)
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "INVALID_INPUT",
        "non-UTF-8 webhook",
    );

    // Query strings: percent-encoded invalid bytes and encoded surrogates.
    for (uri, field) in [
        (
            "/api/streaming/status?sessionId=%ff%fe".to_owned(),
            "sessionId",
        ),
        (
            "/api/streaming/status?sessionId=ses_%ED%A0%80".to_owned(),
            "sessionId",
        ),
        (
            "/api/streaming/status?sessionId=%C0%AF".to_owned(),
            "sessionId",
        ),
        (
            "/api/streaming/sessions?streamType=%ff".to_owned(),
            "streamType",
        ),
        (
            "/api/streaming/sessions?status=live%ED%A0%80".to_owned(),
            "status",
        ),
        (
            "/api/streaming/sessions?streamType=agent&entityId=%ff".to_owned(),
            "agentId",
        ),
        (
            "/api/streaming/platforms?agentId=%ED%A0%80".to_owned(),
            "agentId",
        ),
        (
            format!("/api/streaming/status?sessionId={sid}%ff"),
            "sessionId",
        ),
    ] {
        let reply = send(
            &app,
            request(Method::GET, &uri, Some(INTERNAL_KEY), Body::empty()),
        )
        .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_INPUT", &uri);
        assert!(
            error_text(&reply).starts_with(&format!("invalid {field}")),
            "{uri}: {}",
            reply.text
        );
    }
    for uri in [
        format!("/stream/overlay?sessionId={sid}&token=%ff%fe"),
        "/stream/overlay?sessionId=%ED%A0%80&token=abc".to_owned(),
    ] {
        let reply = send(
            &app,
            Request::builder().uri(&uri).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert!(
            !reply.text.contains(SESSION_TITLE),
            "{uri}: no data without a valid token"
        );
        let events = uri.replacen("/stream/overlay?", "/stream/overlay/events?", 1);
        let reply = send(
            &app,
            Request::builder().uri(&events).body(Body::empty()).unwrap(),
        )
        .await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", &events);
    }

    // Header values with bytes that are not UTF-8 (HTTP allows obs-text): no credentials.
    let garbage = |prefix: &[u8]| {
        let mut v = prefix.to_vec();
        v.extend_from_slice(b"\xff\xfe\x80");
        v.extend_from_slice(INTERNAL_KEY.as_bytes());
        HeaderValue::from_bytes(&v).unwrap()
    };
    for (name, value) in [
        ("authorization", garbage(b"Bearer ")),
        ("authorization", garbage(b"")),
        ("x-api-key", garbage(b"")),
        ("x-internal-auth", garbage(b"")),
    ] {
        let mut req = request(
            Method::GET,
            &format!("/api/streaming/status?sessionId={sid}"),
            None,
            Body::empty(),
        );
        req.headers_mut().insert(name, value);
        let reply = send(&app, req).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", name);
        let mut req = request(
            Method::POST,
            start,
            None,
            Body::from(
                r#"{"agentId":"agent_8","platform":"twitch","streamKey":"live_abcdefghijk"}"#,
            ),
        );
        req.headers_mut().insert(name, garbage(b"Bearer "));
        assert_error(
            &send(&app, req).await,
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            name,
        );
    }
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/webhooks/livekit")
        .header("content-type", "application/webhook+json")
        .body(Body::from(r#"{"event":"egress_updated"}"#))
        .unwrap();
    req.headers_mut().insert("authorization", garbage(b""));
    assert_error(
        &send(&app, req).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "webhook auth",
    );
    // Headers the API does not read may hold anything; the request is served normally.
    let mut req = request(
        Method::GET,
        &format!("/api/streaming/status?sessionId={sid}"),
        Some(INTERNAL_KEY),
        Body::empty(),
    );
    req.headers_mut().insert(
        "x-request-id",
        HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
    );
    req.headers_mut()
        .insert("user-agent", HeaderValue::from_bytes(b"\xc3\x28").unwrap());
    req.headers_mut().insert(
        "content-type",
        HeaderValue::from_bytes(b"application/\xff").unwrap(),
    );
    let reply = send(&app, req).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["sessionId"], sid.as_str());

    assert_eq!(snapshot(&h).await, before, "nothing written");
}

/// Stream keys that smuggle line breaks, NULs, spaces or Unicode separators (the marker
/// `INJ3CT` must never be echoed).
const BAD_KEYS: [&str; 9] = [
    "live_INJ3CT\r\nX-Injected: 1",
    "live_INJ3CT\nX-Injected:1",
    "live_INJ3CT\rX-Injected:1",
    "live_INJ3CT\u{0}tail",
    "live_INJ3CT tail",
    "live_INJ3CT\ttail",
    "live_INJ3CT\u{2028}tail",
    "live_INJ3CT\u{2029}tail",
    "live_INJ3CT\u{85}tail",
];

/// Custom ingest URLs doing the same, in the host or the path.
const BAD_URLS: [&str; 9] = [
    "rtmp://ingest.inj3ct.example/live\r\nX-Injected: 1",
    "rtmp://ingest.inj3ct.example/li\nve",
    "rtmp://ingest.inj3ct.example/live\u{0}",
    "rtmp://ingest.inj3ct.example/live app",
    "rtmp://ingest.inj3ct.example/live\tapp",
    "rtmp://ingest.inj3ct.example/live\u{2028}app",
    "rtmp://ingest.inj3ct.example/live\u{85}app",
    "rtmp://ingest.inj3ct.example%0d%0aX-Injected:1/live",
    "rtmp://ingest.inj3ct.example\r\n/live",
];

fn assert_names_field_without_echo(reply: &Reply, field: &str, ctx: &str) {
    assert_error(reply, StatusCode::BAD_REQUEST, "INVALID_INPUT", ctx);
    assert!(
        error_text(reply).starts_with(&format!("invalid {field}:")),
        "{ctx}: expected the field {field}: {}",
        reply.text
    );
    let lower = reply.text.to_lowercase();
    for marker in ["inj3ct", "x-injected", "tail"] {
        assert!(
            !lower.contains(marker),
            "{ctx}: echoes the value: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn header_injection_in_keys_and_urls_is_refused_by_field() {
    let h = Harness::new();
    let app = app(&h);
    let (sid, _) = started_session(&h).await;
    let before = snapshot(&h).await;
    let start = "/api/streaming/start";
    let good_url = "rtmp://ingest.example.com:1935/live";

    for key in BAD_KEYS {
        let ctx = format!("key {key:?}");
        // The primary key.
        let reply = post(
            &app,
            start,
            INTERNAL_KEY,
            json!({"agentId": "agent_8", "platform": "twitch", "streamKey": key}).to_string(),
        )
        .await;
        assert_names_field_without_echo(&reply, "streamKey", &ctx);
        // A simulcast destination's key.
        let body = json!({"agentId": "agent_8", "platform": "twitch", "streamKey": TWITCH_KEY,
            "destinations": [{"platform": "kick", "streamKey": "kick-key-123"}, {"platform": "custom", "streamKey": key, "customRtmpUrl": good_url}]});
        let reply = post(&app, start, INTERNAL_KEY, body.to_string()).await;
        assert_names_field_without_echo(&reply, "destinations[1].streamKey", &ctx);
        // Added to a running stream.
        let body = json!({"sessionId": sid, "addDestinations": [{"platform": "youtube", "streamKey": key}]});
        let reply = post(
            &app,
            "/api/streaming/destinations",
            INTERNAL_KEY,
            body.to_string(),
        )
        .await;
        assert_names_field_without_echo(&reply, "add[0].streamKey", &ctx);
        // Stored credentials, by an agent for itself and by the internal key.
        for auth in [OTHER_AGENT_KEY, INTERNAL_KEY] {
            let body = json!({"agentId": "agent_9", "platform": "custom", "streamKey": key, "customRtmpUrl": good_url});
            let reply = send(
                &app,
                request(
                    Method::PUT,
                    "/api/streaming/platforms",
                    Some(auth),
                    body.to_string(),
                ),
            )
            .await;
            assert_names_field_without_echo(&reply, "streamKey", &ctx);
        }
    }
    for url in BAD_URLS {
        let ctx = format!("url {url:?}");
        let body = json!({"agentId": "agent_8", "platform": "custom", "streamKey": "good-key-1", "customRtmpUrl": url});
        let reply = post(&app, start, INTERNAL_KEY, body.to_string()).await;
        assert_names_field_without_echo(&reply, "customRtmpUrl", &ctx);
        // As an override of a platform with a default ingest.
        let body = json!({"agentId": "agent_8", "platform": "twitch", "streamKey": TWITCH_KEY, "customRtmpUrl": url});
        let reply = post(&app, start, INTERNAL_KEY, body.to_string()).await;
        assert_names_field_without_echo(&reply, "customRtmpUrl", &ctx);
        let body = json!({"agentId": "agent_8", "platform": "twitch", "streamKey": TWITCH_KEY,
            "destinations": [{"platform": "custom", "streamKey": "good-key-2", "customRtmpUrl": url}]});
        let reply = post(&app, start, INTERNAL_KEY, body.to_string()).await;
        assert_names_field_without_echo(&reply, "destinations[0].customRtmpUrl", &ctx);
        let body = json!({"sessionId": sid, "addDestinations": [{"platform": "custom", "streamKey": "good-key-3", "customRtmpUrl": url}]});
        let reply = post(
            &app,
            "/api/streaming/destinations",
            INTERNAL_KEY,
            body.to_string(),
        )
        .await;
        assert_names_field_without_echo(&reply, "add[0].customRtmpUrl", &ctx);
        let body = json!({"platform": "custom", "streamKey": "good-key-4", "customRtmpUrl": url});
        let reply = send(
            &app,
            request(
                Method::PUT,
                "/api/streaming/platforms",
                Some(OTHER_AGENT_KEY),
                body.to_string(),
            ),
        )
        .await;
        assert_names_field_without_echo(&reply, "customRtmpUrl", &ctx);
    }
    // There is no POST on the credentials route (it is PUT): nothing is stored that way.
    let body = json!({"platform": "custom", "streamKey": BAD_KEYS[0], "customRtmpUrl": good_url});
    let reply = post(
        &app,
        "/api/streaming/platforms",
        OTHER_AGENT_KEY,
        body.to_string(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(!reply.text.contains("INJ3CT"));
    assert_eq!(snapshot(&h).await, before, "nothing written");

    // Line breaks around a key are whitespace, which is trimmed: accepted, and the URL
    // handed to the egress has no control character in it.
    let reply = post(&app, start, INTERNAL_KEY, json!({"agentId": "agent_8", "platform": "twitch", "streamKey": "\r\n live_trimmed_key_123 \r\n"}).to_string()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let id: SessionId = reply.json["sessionId"].as_str().unwrap().parse().unwrap();
    let session = h.store.get_session(&id).await.unwrap().unwrap();
    let url = h
        .vault
        .decrypt_key(&session.destinations[0].encrypted_url)
        .unwrap();
    assert_eq!(
        url.expose_secret(),
        "rtmps://live.twitch.tv/app/live_trimmed_key_123"
    );
    // `%0d%0a` is printable text (keys and URL paths may hold any printable ASCII): it is
    // carried verbatim, never decoded into a line break.
    let body = json!({"agentId": "agent_9", "platform": "custom", "streamKey": "key%0d%0aX-Injected:1", "customRtmpUrl": "rtmp://ingest.example.com:1935/live%0d%0a"});
    let reply = post(&app, start, OTHER_AGENT_KEY, body.to_string()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(
        !reply.text.contains("%0d%0a"),
        "the response never shows the key or URL"
    );
    let id: SessionId = reply.json["sessionId"].as_str().unwrap().parse().unwrap();
    let session = h.store.get_session(&id).await.unwrap().unwrap();
    let url = h
        .vault
        .decrypt_key(&session.destinations[0].encrypted_url)
        .unwrap();
    assert_eq!(
        url.expose_secret(),
        "rtmp://ingest.example.com:1935/live%0d%0a/key%0d%0aX-Injected:1"
    );
    assert!(!url.expose_secret().chars().any(char::is_control));
}

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

/// The service's own parsers refuse the same ids, with the field named.
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

/// A malformed session id is 400 `INVALID_INPUT` on every route, never a 500.
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
