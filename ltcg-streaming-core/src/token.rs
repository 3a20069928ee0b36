//! Overlay access tokens: HS256 JWTs that let the egress's browser (and only it) read one
//! session's overlay data.
//!
//! Byte layout as jose writes it in the product: header `{"alg":"HS256"}`, claims in the
//! order `sessionId`, `streamType`, `entityId`, `type`, `exp`, `iat`. The secret is the raw
//! UTF-8 bytes of `STREAMING_JWT_SECRET` (never base64-decoded).

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::redact::REDACTED;
use crate::session::StreamType;

/// The `type` claim of an overlay token.
pub const OVERLAY_TOKEN_TYPE: &str = "overlay_access";
/// Default lifetime of an overlay token: 24 hours.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 86_400;
/// Shortest overlay secret accepted, in bytes after trimming (HS256's key size).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Why `secret` is too weak to sign overlay tokens, if it is (never quoting it).
pub(crate) fn jwt_secret_problem(secret: &str) -> Option<&'static str> {
    (secret.trim().len() < MIN_JWT_SECRET_BYTES).then_some(
        "must be at least 32 bytes (after trimming); generate one with `openssl rand -hex 32`",
    )
}

/// The claims of an overlay token, in wire order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverlayClaims {
    /// The session the token opens.
    pub session_id: String,
    /// `user` or `agent`.
    pub stream_type: StreamType,
    /// The user or agent id.
    pub entity_id: String,
    /// Always `overlay_access` ([`OVERLAY_TOKEN_TYPE`]).
    #[serde(rename = "type")]
    pub token_type: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Not before, Unix seconds (never written by us; honoured when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

/// Issues and verifies overlay tokens.
///
/// ```
/// use ltcg_streaming_core::{OverlayTokens, StreamType};
/// let tokens = OverlayTokens::new("test-streaming-secret-0123456789abcdef")?;
/// let token = tokens.issue_at("k57abc", StreamType::Agent, "j97agent", 1_767_225_600)?;
/// assert!(token.starts_with("eyJhbGciOiJIUzI1NiJ9."));
/// let claims = tokens.verify_at(&token, Some("k57abc"), 1_767_225_601)?;
/// assert_eq!(claims.exp, 1_767_225_600 + 86_400);
/// assert!(tokens.verify_at(&token, Some("other"), 1_767_225_601).is_err());
/// # Ok::<(), ltcg_streaming_core::Error>(())
/// ```
#[derive(Clone)]
pub struct OverlayTokens {
    encoding: EncodingKey,
    /// HMAC-SHA256 keyed with the secret (cloned per verification; keying is done once).
    mac: Hmac<Sha256>,
    header: Header,
    ttl_secs: u64,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for OverlayTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OverlayTokens")
            .field("secret", &REDACTED)
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

impl OverlayTokens {
    /// Tokens signed with the UTF-8 bytes of `secret` (not trimmed, not base64-decoded),
    /// valid for 24 hours, on the system clock. The secret must have at least
    /// [`MIN_JWT_SECRET_BYTES`] bytes once trimmed.
    pub fn new(secret: &str) -> Result<Self> {
        if let Some(problem) = jwt_secret_problem(secret) {
            return Err(Error::invalid("secret", problem));
        }
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
            .map_err(|_| Error::invalid("secret", "cannot key HMAC-SHA256"))?;
        let mut header = Header::new(Algorithm::HS256);
        header.typ = None;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            mac,
            header,
            ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            clock: Arc::new(SystemClock),
        })
    }

    /// Sets the lifetime of issued tokens (at least one second).
    pub fn with_ttl_secs(mut self, ttl_secs: u64) -> Result<Self> {
        if ttl_secs == 0 || i64::try_from(ttl_secs).is_err() {
            return Err(Error::invalid(
                "ttlSeconds",
                "must be a positive number of seconds",
            ));
        }
        self.ttl_secs = ttl_secs;
        Ok(self)
    }

    /// Uses `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The lifetime of issued tokens in seconds.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// Issues a token for a session now.
    pub fn issue(
        &self,
        session_id: &str,
        stream_type: StreamType,
        entity_id: &str,
    ) -> Result<String> {
        self.issue_at(session_id, stream_type, entity_id, self.clock.now_secs())
    }

    /// Issues a token as if the time were `now_secs`.
    pub fn issue_at(
        &self,
        session_id: &str,
        stream_type: StreamType,
        entity_id: &str,
        now_secs: i64,
    ) -> Result<String> {
        if session_id.is_empty() {
            return Err(Error::invalid("sessionId", "must not be empty"));
        }
        if entity_id.is_empty() {
            return Err(Error::invalid("entityId", "must not be empty"));
        }
        let ttl = i64::try_from(self.ttl_secs).unwrap_or(i64::MAX);
        let claims = OverlayClaims {
            session_id: session_id.to_owned(),
            stream_type,
            entity_id: entity_id.to_owned(),
            token_type: OVERLAY_TOKEN_TYPE.to_owned(),
            exp: now_secs.saturating_add(ttl),
            iat: now_secs,
            nbf: None,
        };
        jsonwebtoken::encode(&self.header, &claims, &self.encoding)
            .map_err(|_| Error::crypto("could not sign overlay token"))
    }

    /// Verifies a token now; see [`OverlayTokens::verify_at`].
    pub fn verify(&self, token: &str, session_id: Option<&str>) -> Result<OverlayClaims> {
        self.verify_at(token, session_id, self.clock.now_secs())
    }

    /// Verifies a token as if the time were `now_secs`: HS256 only, valid signature, `exp`
    /// present and `now < exp`, `nbf <= now` when present, `type == "overlay_access"`, and
    /// (when given) the `sessionId` claim equal to `session_id`. Every failure is
    /// [`Error::Unauthorized`].
    pub fn verify_at(
        &self,
        token: &str,
        session_id: Option<&str>,
        now_secs: i64,
    ) -> Result<OverlayClaims> {
        let claims = self.authentic_claims(token.trim())?;
        if now_secs >= claims.exp {
            return Err(Error::unauthorized("overlay token has expired"));
        }
        if claims.nbf.is_some_and(|nbf| now_secs < nbf) {
            return Err(Error::unauthorized("overlay token is not valid yet"));
        }
        if claims.token_type != OVERLAY_TOKEN_TYPE {
            return Err(Error::unauthorized("token is not an overlay access token"));
        }
        if session_id.is_some_and(|expected| expected != claims.session_id) {
            return Err(Error::unauthorized("overlay token is for another session"));
        }
        Ok(claims)
    }
}

impl OverlayTokens {
    /// The claims of a compact JWS whose header pins HS256 and whose signature is ours.
    ///
    /// The signature is checked (in constant time) before the claims are parsed. This is
    /// the JWS rule set jsonwebtoken applies for HS256, done in one pass: its general path
    /// parses the claims twice and costs twice as much per token.
    fn authentic_claims(&self, token: &str) -> Result<OverlayClaims> {
        let malformed = || Error::unauthorized("token is malformed");
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let signed = &token.as_bytes()[..header.len() + 1 + payload.len()];
        let header: JwsHeader = URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or_else(malformed)?;
        if header.alg != "HS256" {
            return Err(Error::unauthorized("token algorithm is not HS256"));
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| malformed())?;
        let mut mac = self.mac.clone();
        mac.update(signed);
        mac.verify_slice(&signature)
            .map_err(|_| Error::unauthorized("token signature is invalid"))?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| malformed())?;
        serde_json::from_slice(&payload)
            .map_err(|_| Error::unauthorized("token claims are missing or malformed"))
    }
}

/// The part of a JWS header that decides how it is verified.
#[derive(Deserialize)]
struct JwsHeader {
    alg: String,
}

/// A short reason for a JWT failure, without echoing the token.
pub(crate) fn describe_jwt_error(err: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match err.kind() {
        ErrorKind::InvalidSignature => "token signature is invalid",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "token algorithm is not HS256"
        }
        ErrorKind::Json(_) => "token claims are missing or malformed",
        ErrorKind::MissingRequiredClaim(_) => "token is missing a required claim",
        _ => "token is malformed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    const SECRET: &str = "test-streaming-secret-0123456789abcdef";
    const PRODUCT_TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzZXNzaW9uSWQiOiJrNTdhYmMxMjNkZWY0NTZnaGk3ODlqa2wwbW5wcXJzIiwic3RyZWFtVHlwZSI6ImFnZW50IiwiZW50aXR5SWQiOiJqOTdhZ2VudDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAiLCJ0eXBlIjoib3ZlcmxheV9hY2Nlc3MiLCJleHAiOjE3NjczMTIwMDAsImlhdCI6MTc2NzIyNTYwMH0.NlQpsz_Sxwzlv75yMKnl1Xkm2bE75rZeAWP53LB4K_s";

    #[test]
    fn reproduces_the_products_token_byte_for_byte() {
        let tokens = OverlayTokens::new(SECRET).unwrap();
        let token = tokens
            .issue_at(
                "k57abc123def456ghi789jkl0mnpqrs",
                StreamType::Agent,
                "j97agent0000000000000000000000",
                1_767_225_600,
            )
            .unwrap();
        assert_eq!(token, PRODUCT_TOKEN);
    }

    #[test]
    fn valid_only_inside_iat_exp() {
        let tokens = OverlayTokens::new(SECRET).unwrap();
        assert!(tokens.verify_at(PRODUCT_TOKEN, None, 1_767_225_600).is_ok());
        assert!(tokens.verify_at(PRODUCT_TOKEN, None, 1_767_311_999).is_ok());
        let err = tokens
            .verify_at(PRODUCT_TOKEN, None, 1_767_312_000)
            .unwrap_err();
        assert_eq!(err.code().as_str(), "UNAUTHORIZED");
        assert!(err.to_string().contains("expired"));
    }

    #[test]
    fn injected_clock_drives_issue_and_verify() {
        let clock = Arc::new(ManualClock::new(1_000_000_000_000));
        let tokens = OverlayTokens::new(SECRET)
            .unwrap()
            .with_ttl_secs(60)
            .unwrap()
            .with_clock(clock.clone());
        let token = tokens.issue("s1", StreamType::User, "u1").unwrap();
        let claims = tokens.verify(&token, Some("s1")).unwrap();
        assert_eq!((claims.iat, claims.exp), (1_000_000_000, 1_000_000_060));
        clock.advance_ms(60_000);
        assert!(tokens.verify(&token, Some("s1")).is_err());
    }

    #[test]
    fn rejects_bad_inputs() {
        assert!(OverlayTokens::new("").is_err());
        let tokens = OverlayTokens::new(SECRET).unwrap();
        assert!(tokens.clone().with_ttl_secs(0).is_err());
        assert!(tokens.issue_at("", StreamType::User, "u", 0).is_err());
        assert!(tokens.issue_at("s", StreamType::User, "", 0).is_err());
        for junk in [
            "",
            "a.b",
            "a.b.c",
            "....",
            "eyJhbGciOiJIUzI1NiJ9..",
            "é.é.é",
        ] {
            assert_eq!(
                tokens.verify_at(junk, None, 0).unwrap_err().code().as_str(),
                "UNAUTHORIZED"
            );
        }
    }

    #[test]
    fn only_well_formed_hs256_tokens_signed_with_our_secret_pass() {
        let tokens = OverlayTokens::new(SECRET).unwrap();
        let good = tokens.issue_at("s1", StreamType::Agent, "a1", 100).unwrap();
        let parts: Vec<&str> = good.split('.').collect();
        let b64 = |json: &str| URL_SAFE_NO_PAD.encode(json);
        let sign = |signed: &str| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
            mac.update(signed.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        };
        let resigned = |header: &str, payload: &str| {
            let signed = format!("{header}.{payload}");
            format!("{signed}.{}", sign(&signed))
        };
        let reason = |token: &str| tokens.verify_at(token, None, 101).unwrap_err().to_string();
        // Header variants, each correctly signed with our secret.
        assert!(reason(&resigned(&b64(r#"{"alg":"none"}"#), parts[1])).contains("not HS256"));
        assert!(reason(&resigned(&b64(r#"{"alg":"HS512"}"#), parts[1])).contains("not HS256"));
        assert!(reason(&resigned(&b64(r#"{"typ":"JWT"}"#), parts[1])).contains("malformed"));
        assert!(reason(&resigned(&b64("[]"), parts[1])).contains("malformed"));
        // Padding is not base64url-without-padding.
        assert!(reason(&resigned(&format!("{}=", parts[0]), parts[1])).contains("malformed"));
        // Claims that are signed but not an overlay token's.
        assert!(reason(&resigned(parts[0], &b64(r#"{"sessionId":"s1"}"#))).contains("claims"));
        // Extra parts, unsigned and mis-signed tokens.
        assert!(reason(&format!("{good}.x")).contains("malformed"));
        assert!(reason(&format!("{}.{}.", parts[0], parts[1])).contains("signature"));
        let swapped = format!("{}.{}.{}", parts[0], b64(r#"{"sessionId":"s2"}"#), parts[2]);
        assert!(reason(&swapped).contains("signature"));
        // A header with extra members (as other libraries write it) still verifies.
        let typed = resigned(&b64(r#"{"alg":"HS256","typ":"JWT"}"#), parts[1]);
        assert_eq!(
            tokens.verify_at(&typed, Some("s1"), 101).unwrap().entity_id,
            "a1"
        );
    }

    #[test]
    fn debug_hides_secret() {
        let tokens = OverlayTokens::new(SECRET).unwrap();
        assert!(!format!("{tokens:?}").contains(SECRET));
    }
}
