//! Inputs shared by the benchmarks: signed LiveKit webhooks and sample keys.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// API key used by the benchmark webhooks.
pub const API_KEY: &str = "APIbenchkey";
/// API secret used by the benchmark webhooks.
pub const API_SECRET: &str = "bench-secret-0123456789abcdefghij";
/// A stream-key encryption key (64 hex characters).
pub const KEY_HEX: &str = "6457ed47ba47dc9dccb72b09f27843b717aed4fcb909b4a7472fff3c46733e23";

#[derive(Serialize)]
struct Claims<'a> {
    sha256: &'a str,
    iss: &'a str,
    exp: i64,
    nbf: i64,
}

/// Signs `body` the way the LiveKit server does: HS256 with the API secret, `iss` = API
/// key, five-minute validity from `now_secs`, `sha256` = base64(SHA-256(body)).
pub fn sign_webhook(body: &str, now_secs: i64) -> String {
    let hash = STANDARD.encode(Sha256::digest(body.as_bytes()));
    let claims = Claims {
        sha256: &hash,
        iss: API_KEY,
        exp: now_secs + 300,
        nbf: now_secs,
    };
    let mut header = Header::new(Algorithm::HS256);
    header.typ = None;
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(API_SECRET.as_bytes()),
    )
    .expect("HS256 signing with an in-memory key cannot fail")
}

/// A minimal egress event body as LiveKit sends it (protojson; a missing status means
/// `EGRESS_STARTING`).
pub fn egress_body(event_id: &str, event: &str, egress_id: &str, status: Option<&str>) -> String {
    let status = status
        .map(|s| format!(r#","status":"{s}""#))
        .unwrap_or_default();
    format!(
        r#"{{"event":"{event}","id":"{event_id}","createdAt":"1795478332","egressInfo":{{"egressId":"{egress_id}"{status}}}}}"#
    )
}

/// An `egress_updated` body as LiveKit sends it (protojson).
pub fn egress_updated_body(egress_id: &str, session_id: &str) -> String {
    format!(
        r#"{{"event":"egress_updated","id":"EV_{egress_id}","createdAt":"1795478332","egressInfo":{{"egressId":"{egress_id}","status":"EGRESS_ACTIVE","startedAt":"1795478332000000000","web":{{"url":"https://lunchtable.cards/stream/overlay?sessionId={session_id}&token=x","streamOutputs":[{{"protocol":"RTMP","urls":["rtmps://live.twitch.tv/app/{{liv...nop}}"]}}]}},"streamResults":[{{"url":"rtmps://live.twitch.tv/app/{{liv...nop}}","startedAt":"1795478332000000000"}}],"updatedAt":"1795478332000000000"}}}}"#
    )
}
