//! `WebhookVerifier::verify_at(body, authorization, now)` on arbitrary input.
//!
//! The verifier uses the API key and secret of `tests/fixtures/livekit_webhooks.json`.
//! Input: `[mode, selector, rest...]`.
//! - mode 0 (raw): `rest` is `authorization \n body` (the header up to the first newline,
//!   lossy UTF-8); `now` is the fixture's `verifyAt`. The fixture's signed webhooks are the
//!   seeds.
//! - mode 1 (signed body): `rest` is the body, signed as the LiveKit server signs it (HS256,
//!   `iss` = API key, `nbf` = T, `exp` = T + 300, `sha256` = base64(SHA-256(body))), so the
//!   LiveKit event JSON parser behind the signature gets fuzzed. `selector & 0b111` moves
//!   `now` around the validity window, `selector & 0x08` adds a `Bearer ` prefix.
//! - mode 2 (signed claims): `rest` is `claims JSON \0 body`, the claims signed with the
//!   API secret under `{"alg":"HS256"}` (claim types and values get fuzzed).
//!
//! Checked: no panic; a bad signature, issuer, time or body hash is `UNAUTHORIZED`; a good
//! signature over an unparsable body is `INVALID_INPUT`; in mode 1 the outcome follows the
//! window exactly (T - leeway <= now < T + 300 + leeway); anything accepted has `iss` = API
//! key and `sha256` = the body's hash, and its event equals `EgressEvent::parse(body)` and
//! survives a JSON round trip.
#![no_main]

use std::sync::LazyLock;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::crypto::sign;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use libfuzzer_sys::fuzz_target;
use ltcg_streaming_core::webhook::{DEFAULT_WEBHOOK_LEEWAY_SECS, MAX_WEBHOOK_BODY_BYTES};
use ltcg_streaming_core::{EgressEvent, WebhookVerifier};
use sha2::{Digest, Sha256};

/// `tests/fixtures/livekit_webhooks.json`'s credentials and clock.
const API_KEY: &str = "APIa31c2d4cd083";
const API_SECRET: &str = "93RwJsZHbMVpGS52EIKeRuD3STWpeIwN";
const VERIFY_AT: i64 = 1_795_478_362;
/// Signing time of mode 1 (the fixture's `nbf`).
const T: i64 = 1_795_478_332;
const LEEWAY: i64 = DEFAULT_WEBHOOK_LEEWAY_SECS as i64;

static VERIFIER: LazyLock<WebhookVerifier> =
    LazyLock::new(|| WebhookVerifier::new(API_KEY, API_SECRET).expect("valid credentials"));
static KEY: LazyLock<EncodingKey> =
    LazyLock::new(|| EncodingKey::from_secret(API_SECRET.as_bytes()));

fn body_hash(body: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(body))
}

/// The `Authorization` header the LiveKit server sends for `body` at time `T`.
fn livekit_signature(body: &[u8]) -> String {
    let claims = serde_json::json!({
        "sha256": body_hash(body),
        "iss": API_KEY,
        "exp": T + 300,
        "nbf": T,
    });
    let mut header = Header::new(Algorithm::HS256);
    header.typ = None;
    jsonwebtoken::encode(&header, &claims, &KEY).expect("HS256 signing")
}

/// A compact JWS of raw `claims` bytes under `{"alg":"HS256"}`, signed with the API secret.
fn signed_claims(claims: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = sign(message.as_bytes(), &KEY, Algorithm::HS256).expect("HS256 signing");
    format!("{message}.{signature}")
}

/// The claims of `authorization` (already verified), as JSON.
fn claims_of(authorization: &str) -> serde_json::Value {
    let token = authorization.trim();
    let token = match token.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => token[7..].trim_start(),
        _ => token,
    };
    let payload = token
        .split('.')
        .nth(1)
        .expect("a verified token has a payload");
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .expect("a verified payload is base64url");
    serde_json::from_slice(&json).expect("verified claims are JSON")
}

/// Runs the verifier; returns whether it accepted. Checks the invariants of both outcomes.
fn check(body: &[u8], authorization: &str, now: i64) -> Result<(), &'static str> {
    match VERIFIER.verify_at(body, authorization, now) {
        Ok(event) => {
            let claims = claims_of(authorization);
            assert_eq!(claims["iss"], API_KEY, "accepted another issuer");
            assert_eq!(
                claims["sha256"],
                body_hash(body).as_str(),
                "accepted a wrong body hash"
            );
            let exp = claims["exp"]
                .as_f64()
                .expect("accepted without a numeric exp");
            assert!(((now - LEEWAY) as f64) < exp, "accepted an expired token");
            if let Some(nbf) = claims.get("nbf").filter(|v| !v.is_null()) {
                let nbf = nbf.as_f64().expect("accepted a non-numeric nbf");
                assert!(nbf <= (now + LEEWAY) as f64, "accepted a token before nbf");
            }
            let parsed = EgressEvent::parse(body).expect("an accepted body parses");
            assert_eq!(parsed, event);
            assert_eq!(event.is_egress_event(), event.egress_id.is_some());
            if let Some(sid) = event.session_id_from_url() {
                assert!(!sid.is_empty());
                assert!(event.web_url.as_deref().is_some_and(|u| u.contains(sid)));
            }
            let json = serde_json::to_string(&event).expect("event serializes");
            let back: EgressEvent = serde_json::from_str(&json).expect("event deserializes");
            assert_eq!(back, event, "JSON round trip");
            Ok(())
        }
        Err(err) => {
            let code = err.code().as_str();
            assert!(
                code == "UNAUTHORIZED" || code == "INVALID_INPUT",
                "{code}: {err}"
            );
            if code == "INVALID_INPUT" && body.len() <= MAX_WEBHOOK_BODY_BYTES {
                // Only a verified body (or an oversized one) gets past authentication.
                let verified = claims_of(authorization);
                assert_eq!(verified["sha256"], body_hash(body).as_str());
            }
            Err(if code == "UNAUTHORIZED" {
                "unauthorized"
            } else {
                "invalid"
            })
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, selector, rest @ ..] = data else {
        return;
    };
    match mode % 3 {
        0 => {
            let (header, body) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &b""[..]),
            };
            let _ = check(body, &String::from_utf8_lossy(header), VERIFY_AT);
        }
        1 => {
            let offset = match selector & 0b111 {
                0 => 30,
                1 => -LEEWAY,
                2 => -LEEWAY - 1,
                3 => 300 + LEEWAY - 1,
                4 => 300 + LEEWAY,
                5 => 300,
                6 => -3600,
                _ => 86_400,
            };
            let mut authorization = livekit_signature(rest);
            if selector & 0x08 != 0 {
                authorization.insert_str(0, "Bearer ");
            }
            let now = T + offset;
            let in_window = now >= T - LEEWAY && now < T + 300 + LEEWAY;
            match check(rest, &authorization, now) {
                Ok(()) => assert!(in_window, "accepted outside the validity window"),
                Err("unauthorized") => {
                    assert!(!in_window, "refused a valid LiveKit signature")
                }
                Err(_) => assert!(in_window, "parsed a body outside the validity window"),
            }
        }
        _ => {
            let (claims, body) = match rest.iter().position(|&b| b == 0) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &b"{}"[..]),
            };
            let _ = check(body, &signed_claims(claims), VERIFY_AT);
        }
    }
});
