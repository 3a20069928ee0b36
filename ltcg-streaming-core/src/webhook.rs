//! LiveKit webhook verification and parsing.
//!
//! LiveKit signs each webhook with a JWT in the `Authorization` header (no `Bearer `
//! prefix, though one is accepted): HS256 with the API secret, `iss` = API key, `exp`, and a
//! `sha256` claim = base64(SHA-256(raw body)). The body is protojson (camelCase, int64 as
//! strings, zero values left out) and is decoded with the real `livekit-protocol` types.
//!
//! [`EgressStatus`] lives in [`crate::session`] (re-exported here); its protobuf conversion,
//! [`EgressStatus::from_proto`], is here with the other protobuf decoding.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use livekit_protocol as proto;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::overlay_url::session_id_in_url;
use crate::redact::REDACTED;
pub use crate::session::EgressStatus;
use crate::token::describe_jwt_error;

/// Default clock leeway for webhook tokens, in seconds.
pub const DEFAULT_WEBHOOK_LEEWAY_SECS: u64 = 10;
/// Largest webhook body accepted, in bytes.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 1024 * 1024;

impl EgressStatus {
    /// From the protobuf number; unknown numbers give `None`.
    pub fn from_proto(value: i32) -> Option<Self> {
        Some(match proto::EgressStatus::try_from(value).ok()? {
            proto::EgressStatus::EgressStarting => EgressStatus::Starting,
            proto::EgressStatus::EgressActive => EgressStatus::Active,
            proto::EgressStatus::EgressEnding => EgressStatus::Ending,
            proto::EgressStatus::EgressComplete => EgressStatus::Complete,
            proto::EgressStatus::EgressFailed => EgressStatus::Failed,
            proto::EgressStatus::EgressAborted => EgressStatus::Aborted,
            proto::EgressStatus::EgressLimitReached => EgressStatus::LimitReached,
        })
    }
}

/// The outcome of one stream output (`livekit.StreamInfo`), URL redacted by LiveKit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamResult {
    /// The output URL as LiveKit reports it (stream key redacted).
    pub url: String,
    /// `ACTIVE`, `FINISHED` or `FAILED`.
    pub status: String,
    /// Error text when the output failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Start time, Unix nanoseconds (0 when unknown).
    pub started_at_ns: i64,
    /// End time, Unix nanoseconds (0 while running).
    pub ended_at_ns: i64,
}

/// A verified LiveKit webhook event, reduced to what session tracking needs.
///
/// Non-egress events (room, participant, track) have no egress id and no status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EgressEvent {
    /// Event name, e.g. `egress_started`.
    pub event: String,
    /// LiveKit's unique event id (`EV_…`), the de-duplication key; may be empty.
    pub id: String,
    /// When LiveKit created the event, Unix seconds.
    pub created_at: i64,
    /// The egress the event is about.
    pub egress_id: Option<String>,
    /// The egress status; a missing status in an egress event reads as `EGRESS_STARTING`.
    pub status: Option<EgressStatus>,
    /// The egress error message, when it failed.
    pub error: Option<String>,
    /// LiveKit's human-readable details (e.g. `StopEgress API`).
    pub details: Option<String>,
    /// The web egress's page URL (it carries our `sessionId`).
    pub web_url: Option<String>,
    /// Egress start, Unix nanoseconds (0 when unknown).
    pub started_at_ns: i64,
    /// Egress end, Unix nanoseconds (0 while running).
    pub ended_at_ns: i64,
    /// Per-output results.
    pub stream_results: Vec<StreamResult>,
}

impl EgressEvent {
    /// Whether this is an `egress_*` event with an egress id.
    pub fn is_egress_event(&self) -> bool {
        self.egress_id.is_some()
    }

    /// The `sessionId` query parameter of the web egress URL, if any.
    pub fn session_id_from_url(&self) -> Option<&str> {
        self.web_url.as_deref().and_then(session_id_in_url)
    }

    /// Parses a protojson `WebhookEvent` body (camelCase or snake_case; unknown fields
    /// ignored). An event without a name is `INVALID_INPUT` naming `event`. Does **not**
    /// check the signature: use [`WebhookVerifier::verify`].
    pub fn parse(body: &[u8]) -> Result<Self> {
        let event: proto::WebhookEvent = serde_json::from_slice(body)
            .map_err(|e| Error::invalid("body", format!("not a LiveKit webhook event: {e}")))?;
        if event.event.trim().is_empty() {
            return Err(Error::invalid(
                "event",
                "is required (a LiveKit event name such as egress_updated)",
            ));
        }
        Ok(Self::from_proto(event))
    }

    fn from_proto(event: proto::WebhookEvent) -> Self {
        let non_empty = |s: String| (!s.is_empty()).then_some(s);
        let info = event.egress_info;
        let web_url = info.as_ref().and_then(|i| match &i.request {
            Some(proto::egress_info::Request::Web(web)) => non_empty(web.url.clone()),
            _ => None,
        });
        let (egress_id, status, error, details, started, ended, results) = match info {
            Some(i) => (
                non_empty(i.egress_id),
                EgressStatus::from_proto(i.status),
                non_empty(i.error),
                non_empty(i.details),
                i.started_at,
                i.ended_at,
                i.stream_results
                    .into_iter()
                    .map(|s| StreamResult {
                        url: s.url,
                        status: proto::stream_info::Status::try_from(s.status)
                            .map(|st| st.as_str_name().to_owned())
                            .unwrap_or_else(|_| s.status.to_string()),
                        error: non_empty(s.error),
                        started_at_ns: s.started_at,
                        ended_at_ns: s.ended_at,
                    })
                    .collect(),
            ),
            None => (None, None, None, None, 0, 0, Vec::new()),
        };
        EgressEvent {
            event: event.event,
            id: event.id,
            created_at: event.created_at,
            egress_id,
            status,
            error,
            details,
            web_url,
            started_at_ns: started,
            ended_at_ns: ended,
            stream_results: results,
        }
    }
}

/// The claims of a LiveKit webhook token that we check.
#[derive(Deserialize)]
struct WebhookClaims {
    iss: String,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    sha256: Option<String>,
}

/// Verifies LiveKit webhooks for one API key.
///
/// ```
/// use ltcg_streaming_core::WebhookVerifier;
/// let verifier = WebhookVerifier::new("APIa31c2d4cd083", "93RwJsZHbMVpGS52EIKeRuD3STWpeIwN")?;
/// let err = verifier.verify(b"{}", "").unwrap_err();
/// assert_eq!(err.code().as_str(), "UNAUTHORIZED");
/// # Ok::<(), ltcg_streaming_core::Error>(())
/// ```
#[derive(Clone)]
pub struct WebhookVerifier {
    api_key: String,
    decoding: DecodingKey,
    validation: Validation,
    leeway_secs: i64,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("api_key", &self.api_key)
            .field("api_secret", &REDACTED)
            .field("leeway_secs", &self.leeway_secs)
            .finish()
    }
}

impl WebhookVerifier {
    /// A verifier for tokens issued by `api_key` and signed with `api_secret`, with a 10 s
    /// leeway, on the system clock.
    pub fn new(api_key: &str, api_secret: &str) -> Result<Self> {
        let api_key = api_key.trim();
        let api_secret = api_secret.trim();
        if api_key.is_empty() {
            return Err(Error::invalid("apiKey", "must not be empty"));
        }
        if api_secret.is_empty() {
            return Err(Error::invalid("apiSecret", "must not be empty"));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        Ok(Self {
            api_key: api_key.to_owned(),
            decoding: DecodingKey::from_secret(api_secret.as_bytes()),
            validation,
            leeway_secs: DEFAULT_WEBHOOK_LEEWAY_SECS as i64,
            clock: Arc::new(SystemClock),
        })
    }

    /// Sets the clock leeway for `exp` and `nbf`.
    pub fn with_leeway_secs(mut self, leeway_secs: u64) -> Result<Self> {
        self.leeway_secs = i64::try_from(leeway_secs)
            .ok()
            .filter(|l| *l <= 3600)
            .ok_or_else(|| Error::invalid("leewaySeconds", "must be at most 3600"))?;
        Ok(self)
    }

    /// Uses `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Verifies `authorization` against `body` now and parses the event.
    pub fn verify(&self, body: &[u8], authorization: &str) -> Result<EgressEvent> {
        self.verify_at(body, authorization, self.clock.now_secs())
    }

    /// Verifies as if the time were `now_secs`: HS256 signature with the API secret,
    /// `iss` equal to the API key, `exp` present and not past (with leeway), `nbf` not in the
    /// future (with leeway), and `sha256` equal to base64(SHA-256(body)), compared in
    /// constant time. Any failure is [`Error::Unauthorized`]; a verified but unparsable
    /// body is [`Error::InvalidInput`].
    pub fn verify_at(
        &self,
        body: &[u8],
        authorization: &str,
        now_secs: i64,
    ) -> Result<EgressEvent> {
        let token = strip_bearer(authorization.trim());
        if token.is_empty() {
            return Err(Error::unauthorized("missing webhook authorization header"));
        }
        if body.len() > MAX_WEBHOOK_BODY_BYTES {
            return Err(Error::invalid("body", "webhook body is too large"));
        }
        let claims = jsonwebtoken::decode::<WebhookClaims>(token, &self.decoding, &self.validation)
            .map_err(|e| Error::unauthorized(format!("webhook {}", describe_jwt_error(&e))))?
            .claims;
        if !bool::from(claims.iss.as_bytes().ct_eq(self.api_key.as_bytes())) {
            return Err(Error::unauthorized(
                "webhook token was issued for another API key",
            ));
        }
        if now_secs.saturating_sub(self.leeway_secs) >= claims.exp {
            return Err(Error::unauthorized("webhook token has expired"));
        }
        if claims
            .nbf
            .is_some_and(|nbf| now_secs.saturating_add(self.leeway_secs) < nbf)
        {
            return Err(Error::unauthorized("webhook token is not valid yet"));
        }
        let claimed = claims
            .sha256
            .ok_or_else(|| Error::unauthorized("webhook token has no sha256 claim"))?;
        let actual = STANDARD.encode(Sha256::digest(body));
        if !bool::from(claimed.as_bytes().ct_eq(actual.as_bytes())) {
            return Err(Error::unauthorized(
                "webhook body does not match its signature",
            ));
        }
        EgressEvent::parse(body)
    }
}

/// Removes a leading `Bearer ` (any case).
fn strip_bearer(header: &str) -> &str {
    match header.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => header[7..].trim_start(),
        _ => header,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_prefix_is_optional() {
        assert_eq!(strip_bearer("Bearer abc"), "abc");
        assert_eq!(strip_bearer("bearer   abc"), "abc");
        assert_eq!(strip_bearer("abc"), "abc");
        assert_eq!(strip_bearer("Bearé"), "Bearé");
    }

    #[test]
    fn parses_snake_case_and_ignores_unknown_fields() {
        let body = br#"{"event":"egress_updated","id":"EV_1","created_at":"17",
            "egress_info":{"egress_id":"EG_1","status":"EGRESS_ACTIVE","brand_new_field":{"x":1},
            "web":{"url":"https://a/stream/overlay?token=t&sessionId=ses_1"}},"future":true}"#;
        let ev = EgressEvent::parse(body).unwrap();
        assert_eq!(ev.egress_id.as_deref(), Some("EG_1"));
        assert_eq!(ev.status, Some(EgressStatus::Active));
        assert_eq!(ev.created_at, 17);
        assert_eq!(ev.session_id_from_url(), Some("ses_1"));
    }

    #[test]
    fn junk_bodies_are_input_errors() {
        for body in [&b""[..], b"[]", b"{", b"\xff\xfe", b"{\"createdAt\":\"x\"}"] {
            assert_eq!(
                EgressEvent::parse(body).unwrap_err().code().as_str(),
                "INVALID_INPUT"
            );
        }
    }

    #[test]
    fn status_names_match_protobuf() {
        for n in 0..7 {
            let st = EgressStatus::from_proto(n).unwrap();
            assert_eq!(
                proto::EgressStatus::try_from(n).unwrap().as_str_name(),
                st.as_str()
            );
            let json = serde_json::to_string(&st).unwrap();
            assert_eq!(json, format!("\"{}\"", st.as_str()));
        }
        assert_eq!(EgressStatus::from_proto(99), None);
    }
}
