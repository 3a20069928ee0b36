//! The HTTP API's JSON request bodies, through the real axum router (`http::router`) over a
//! `StreamingService` with `MemoryStore` + `MemoryEgress`.
//!
//! Input: `[route, body...]`. `route & 0x07` picks the route, `route & 0x80` sends the
//! agent key (agent `agent_7`) instead of the internal key:
//!
//! | `route & 7` | request |
//! |---|---|
//! | 0 | `POST /api/streaming/start` |
//! | 1 | `POST /api/streaming/stop` |
//! | 2 | `POST /api/streaming/destinations` |
//! | 3 | `POST /api/streaming/link-game` |
//! | 4 | `POST /api/agents/decisions` |
//! | 5 | `POST /api/agents/events` |
//! | 6 | `PUT /api/streaming/platforms` |
//! | 7 | `POST /api/webhooks/livekit`, the body signed as LiveKit signs it |
//!
//! Each input gets a fresh service (so state never grows and a crash reproduces from its
//! input alone) holding one live session of `agent_7` on Twitch and `agent_7`'s stored
//! credentials. In the body, `$SID` becomes that session's id, `$EGRESS` its egress id and
//! `$DEST` its primary destination's id, so the fuzzer reaches past "not found" answers.
//!
//! Checked: no panic; the status is never 5xx (a 500 is a bug: the service's errors for
//! bad input are 4xx); every answer is JSON; no answer contains the stream keys set up
//! above (unless the request itself carried them: ids such as `lobbyId` are echoed).
//!
//! `HTTP_JSON_DEBUG=1 fuzz/target/<triple>/release/http_json <files>` prints the answers.
#![no_main]

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::http::{Method, Request};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use libfuzzer_sys::fuzz_target;
use ltcg_streaming_core::config::LiveKitConfig;
use ltcg_streaming_core::http::{router, ApiAuth};
use ltcg_streaming_core::service::{ConfigurePlatformRequest, RateLimitConfig, StartStreamRequest};
use ltcg_streaming_core::{
    Actor, AesGcmVault, KeyVault, ManualClock, MemoryEgress, MemoryStore, ServiceOptions,
    StreamingConfig, StreamingService,
};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

const KEY_HEX: &str = "6457ed47ba47dc9dccb72b09f27843b717aed4fcb909b4a7472fff3c46733e23";
const JWT_SECRET: &str = "fuzz-overlay-secret-0123456789abcdef";
const API_KEY: &str = "APIfuzz";
const API_SECRET: &str = "fuzz-livekit-secret-0123456789";
const INTERNAL_KEY: &str = "internal-key-0123456789";
const AGENT_KEY: &str = "ltcg_agent_key_0123456789";
const AGENT: &str = "agent_7";
/// The stream keys of the set-up session and stored credentials: never in an answer.
const SETUP_KEY: &str = "live_fuzzsetup_9f8e7d6c5b4a3210";
const STORED_KEY: &str = "stored_fuzzsetup_0a1b2c3d4e5f";
const T0_MS: i64 = 1_795_478_000_000;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
});

/// `HTTP_JSON_DEBUG=1` prints each request's route, status and answer (to check seeds).
static DEBUG: LazyLock<bool> = LazyLock::new(|| std::env::var_os("HTTP_JSON_DEBUG").is_some());

const ROUTES: [(Method, &str); 8] = [
    (Method::POST, "/api/streaming/start"),
    (Method::POST, "/api/streaming/stop"),
    (Method::POST, "/api/streaming/destinations"),
    (Method::POST, "/api/streaming/link-game"),
    (Method::POST, "/api/agents/decisions"),
    (Method::POST, "/api/agents/events"),
    (Method::PUT, "/api/streaming/platforms"),
    (Method::POST, "/api/webhooks/livekit"),
];

/// A fresh service with agent_7's stored credentials and live session; returns it with the
/// placeholders and their values: the session id, its egress id, its primary destination id.
async fn fresh_service() -> (StreamingService, Vec<(&'static str, String)>) {
    let mut config = StreamingConfig::new(KEY_HEX, JWT_SECRET).expect("config");
    config.app_url = "https://lunchtable.test".into();
    config.livekit =
        Some(LiveKitConfig::new("wss://fuzz.livekit.cloud", API_KEY, API_SECRET).expect("livekit"));
    let options = ServiceOptions {
        clock: Arc::new(ManualClock::new(T0_MS)),
        rate_limits: RateLimitConfig::disabled(),
        egress_start_timeout: Duration::from_secs(5),
        ..ServiceOptions::default()
    };
    let vault = Arc::new(AesGcmVault::from_hex(KEY_HEX).expect("vault"));
    let service = StreamingService::with_options(
        config,
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryEgress::new()),
        vault as Arc<dyn KeyVault>,
        options,
    )
    .expect("service");
    let credentials: ConfigurePlatformRequest = serde_json::from_value(serde_json::json!({
        "agentId": AGENT, "platform": "kick", "streamKey": STORED_KEY, "autoStart": true
    }))
    .expect("credentials request");
    service
        .configure_platform(&Actor::Internal, credentials)
        .await
        .expect("stored credentials");
    let start: StartStreamRequest = serde_json::from_value(serde_json::json!({
        "agentId": AGENT, "platform": "twitch", "streamKey": SETUP_KEY,
        "streamTitle": "fuzz", "lobbyId": "lobby_1"
    }))
    .expect("start request");
    let started = service
        .start_stream(&Actor::Internal, start)
        .await
        .expect("set-up session");
    let session = service
        .store()
        .get_session(&started.session_id)
        .await
        .expect("store")
        .expect("the set-up session");
    let placeholders = vec![
        ("$SID", session.id.as_str().to_owned()),
        ("$EGRESS", session.egress_id.clone().unwrap_or_default()),
        (
            "$DEST",
            session
                .destinations
                .first()
                .map(|d| d.id.clone())
                .unwrap_or_default(),
        ),
    ];
    (service, placeholders)
}

fn replace(body: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

/// The `Authorization` header the LiveKit server sends for `body` at `now_secs`.
fn sign_webhook(body: &[u8], now_secs: i64) -> String {
    let claims = serde_json::json!({
        "sha256": STANDARD.encode(Sha256::digest(body)),
        "iss": API_KEY,
        "exp": now_secs + 300,
        "nbf": now_secs,
    });
    let mut header = Header::new(Algorithm::HS256);
    header.typ = None;
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(API_SECRET.as_bytes()),
    )
    .expect("HS256 signing")
}

fuzz_target!(|data: &[u8]| {
    let [selector, body @ ..] = data else {
        return;
    };
    let (method, path) = ROUTES[usize::from(selector & 0x07)].clone();
    let key = if selector & 0x80 == 0 {
        INTERNAL_KEY
    } else {
        AGENT_KEY
    };
    RUNTIME.block_on(async {
        let (service, placeholders) = fresh_service().await;
        let auth = ApiAuth::new()
            .with_internal_key(INTERNAL_KEY)
            .expect("internal key")
            .with_agent_key(AGENT_KEY, AGENT)
            .expect("agent key");
        let app = router(service, auth);
        let mut body = body.to_vec();
        for (name, value) in &placeholders {
            body = replace(&body, name.as_bytes(), value.as_bytes());
        }
        let mut request = Request::builder().method(method).uri(path);
        if path == "/api/webhooks/livekit" {
            request = request
                .header("content-type", "application/webhook+json")
                .header("authorization", sign_webhook(&body, T0_MS / 1000));
        } else {
            request = request
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {key}"));
        }
        let sent = String::from_utf8_lossy(&body).into_owned();
        let request = request.body(Body::from(body)).expect("request");
        let response = app.oneshot(request).await.expect("infallible router");
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("response body");
        let text = String::from_utf8_lossy(&bytes);
        if *DEBUG {
            eprintln!("{path} -> {status}: {text}");
        }
        assert!(
            !status.is_server_error(),
            "{path} answered {status}: {text}"
        );
        assert!(
            serde_json::from_slice::<serde_json::Value>(&bytes).is_ok(),
            "{path} answered {status} with a non-JSON body: {text}"
        );
        // No answer shows the set-up stream keys, unless the request itself carried them
        // (ids such as `lobbyId` are echoed, and libFuzzer learns the keys from comparisons).
        for secret in [SETUP_KEY, STORED_KEY] {
            if !sent.contains(secret) {
                assert!(
                    !text.contains(secret),
                    "{path} answered with a stream key: {text}"
                );
            }
        }
    });
});
