//! `OverlayTokens::verify_at(token, Option<session>, now)` on arbitrary input.
//!
//! Input: `[mode, selector, rest...]`.
//! - `selector & 0b11` picks the expected session: none, the first fixture token's session,
//!   `session_123`, or `ses_fuzz`; `(selector >> 2) & 0b111` picks `now` (the fixture's
//!   `verifyAt`, around `iat`/`exp`, 0, negative, `i64::MIN`/`MAX`).
//! - mode 0: `rest` is the token (lossy UTF-8); fixture tokens are the seeds.
//! - mode 1: `rest` is the claims JSON, signed with the real secret under the product's
//!   header `{"alg":"HS256"}`, so the claims parser behind the signature gets fuzzed.
//! - mode 2: `rest` is `header JSON \0 claims JSON`, both signed with the real secret
//!   (algorithm confusion, odd headers).
//! - mode 3: `rest` is `sessionId \0 entityId`; a token issued for them must verify and
//!   round-trip (`selector & 0x80` picks agent or user).
//!
//! Checked: no panic; every failure is `UNAUTHORIZED`; anything accepted has type
//! `overlay_access`, the expected session (when one is given), `now < exp` and `nbf <= now`.
#![no_main]

use std::sync::LazyLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::crypto::sign;
use jsonwebtoken::{Algorithm, EncodingKey};
use libfuzzer_sys::fuzz_target;
use ltcg_streaming_core::{OverlayTokens, StreamType};

/// `tests/fixtures/overlay_jwt.json`'s secret and clock.
const SECRET: &str = "NYOtjrGHS0TYPGdCwbzunWDexoyGXgc9";
const VERIFY_AT: i64 = 1_767_229_200;
const IAT: i64 = 1_767_225_600;
const EXP: i64 = 1_767_312_000;

static TOKENS: LazyLock<OverlayTokens> =
    LazyLock::new(|| OverlayTokens::new(SECRET).expect("valid secret"));
static KEY: LazyLock<EncodingKey> = LazyLock::new(|| EncodingKey::from_secret(SECRET.as_bytes()));

fn session_for(selector: u8) -> Option<&'static str> {
    match selector & 0b11 {
        0 => None,
        1 => Some("k57abc123def456ghi789jkl0mnpqrs"),
        2 => Some("session_123"),
        _ => Some("ses_fuzz"),
    }
}

fn now_for(selector: u8) -> i64 {
    match (selector >> 2) & 0b111 {
        0 => VERIFY_AT,
        1 => IAT,
        2 => EXP - 1,
        3 => EXP,
        4 => 0,
        5 => -1,
        6 => i64::MIN,
        _ => i64::MAX,
    }
}

/// A compact JWS over `header` and `claims` (raw JSON bytes), signed with the real secret.
fn signed(header: &[u8], claims: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = sign(message.as_bytes(), &KEY, Algorithm::HS256).expect("HS256 signing");
    format!("{message}.{signature}")
}

fn check(token: &str, session: Option<&str>, now: i64) {
    match TOKENS.verify_at(token, session, now) {
        Ok(claims) => {
            assert_eq!(
                claims.token_type, "overlay_access",
                "accepted a non-overlay token"
            );
            if let Some(expected) = session {
                assert_eq!(
                    claims.session_id, expected,
                    "accepted another session's token"
                );
            }
            assert!(now < claims.exp, "accepted an expired token");
            assert!(
                claims.nbf.is_none_or(|nbf| nbf <= now),
                "accepted a token before nbf"
            );
            // Verification is a pure function of its inputs.
            assert_eq!(TOKENS.verify_at(token, session, now).ok(), Some(claims));
        }
        Err(err) => {
            assert_eq!(err.code().as_str(), "UNAUTHORIZED", "{err}");
            // The messages are fixed texts without dots; a token is never echoed.
            let token = token.trim();
            if token.len() >= 16 && token.contains('.') {
                assert!(!err.to_string().contains(token), "error echoes the token");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, selector, rest @ ..] = data else {
        return;
    };
    let session = session_for(*selector);
    let now = now_for(*selector);
    match mode % 4 {
        0 => check(&String::from_utf8_lossy(rest), session, now),
        1 => check(&signed(br#"{"alg":"HS256"}"#, rest), session, now),
        2 => {
            let (header, claims) = match rest.iter().position(|&b| b == 0) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &b""[..]),
            };
            check(&signed(header, claims), session, now);
        }
        _ => {
            let (sid, entity) = match rest.iter().position(|&b| b == 0) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &b"entity"[..]),
            };
            let (sid, entity) = (
                String::from_utf8_lossy(sid),
                String::from_utf8_lossy(entity),
            );
            let stream_type = if selector & 0x80 == 0 {
                StreamType::Agent
            } else {
                StreamType::User
            };
            // `now` near the i64 ends: exp saturates; iat stays `now`.
            let Ok(token) = TOKENS.issue_at(&sid, stream_type, &entity, now) else {
                assert!(
                    sid.is_empty() || entity.is_empty(),
                    "issue refused valid ids"
                );
                return;
            };
            check(&token, session, now);
            if now < i64::MAX {
                let claims = TOKENS
                    .verify_at(&token, Some(&sid), now)
                    .expect("a fresh token verifies for its own session");
                assert_eq!(
                    (
                        claims.session_id.as_str(),
                        claims.entity_id.as_str(),
                        claims.stream_type
                    ),
                    (&*sid, &*entity, stream_type)
                );
                assert_eq!((claims.iat, claims.nbf), (now, None));
            }
        }
    }
});
