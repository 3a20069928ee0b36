//! The one error type of the library: an enum of meanings, each with a stable code.
//!
//! Messages are written for people and never contain a secret (stream key, API secret,
//! JWT secret, encryption key, full RTMP URL). Bindings and the HTTP API branch on
//! [`Error::code`], whose strings never change.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, by meaning.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A caller-supplied value is missing or malformed; `field` names it (camelCase, as in
    /// the JSON API). Nothing was written.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The offending field, e.g. `streamKey` or `customRtmpUrl`.
        field: String,
        /// What is wrong with it (never its value when the value may be secret).
        reason: String,
    },
    /// The caller could not be authenticated (bad signature, expired token, no credentials).
    #[error("unauthorized: {reason}")]
    Unauthorized {
        /// Why authentication failed.
        reason: String,
    },
    /// The caller is known but may not do this.
    #[error("forbidden: {reason}")]
    Forbidden {
        /// Why the action is not allowed.
        reason: String,
    },
    /// The thing asked for does not exist (or is not visible to the caller).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. `session`.
        what: String,
    },
    /// The request clashes with the current state (an active session on another platform,
    /// a concurrent update that won).
    #[error("conflict: {reason}")]
    Conflict {
        /// What it clashes with.
        reason: String,
    },
    /// Too many requests; try again after `retry_after`.
    #[error("rate limited: {limit}; retry in {} s", retry_after.as_secs_f64().ceil().max(1.0))]
    RateLimited {
        /// The limit that was reached, with its unit (e.g. `at most 10 starts per minute per
        /// stream entity`).
        limit: String,
        /// How long to wait before the next attempt.
        retry_after: Duration,
    },
    /// Encryption or decryption failed (wrong key, tampered or malformed ciphertext).
    #[error("crypto error: {reason}")]
    Crypto {
        /// What failed, without key material.
        reason: String,
    },
    /// The egress backend (LiveKit, local ffmpeg) refused or failed.
    #[error("egress error: {message}")]
    Egress {
        /// Whether the same call may succeed when repeated later.
        retryable: bool,
        /// The backend's message, with URLs redacted.
        message: String,
    },
    /// The egress backend could not be reached (connection refused, host name not
    /// resolved): nothing was sent, so nothing started, and the same call may succeed later.
    /// Its code is `EGRESS`, retryable.
    #[error("egress unreachable: {message}")]
    EgressUnreachable {
        /// What failed, with URLs redacted.
        message: String,
    },
    /// The egress has no room for another stream now (every render slot is taken):
    /// nothing was started, and the same call may succeed once a stream ends. Its code is
    /// `EGRESS`, retryable.
    #[error("egress at capacity: {message}")]
    EgressBusy {
        /// How many streams run and the limit.
        message: String,
    },
    /// The session store failed.
    #[error("store error: {message}")]
    Store {
        /// What failed.
        message: String,
    },
    /// Code supplied by the host application failed (a store or vault written in Python or
    /// JavaScript). `source` is the original failure, so a binding can hand the host's own
    /// exception back unchanged.
    #[error("{message}")]
    External {
        /// What failed, e.g. `python store raised ValueError: ...`.
        message: String,
        /// The original failure.
        source: Arc<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A configuration variable is missing or invalid. `var` names it (several are
    /// comma-separated); the value is never echoed.
    #[error("configuration error: {problem}")]
    Config {
        /// The variable name(s), e.g. `STREAM_KEY_ENCRYPTION_KEY`.
        var: String,
        /// What is wrong, one clause per variable.
        problem: String,
    },
}

/// The stable code of an [`Error`], shared by the bindings and the HTTP API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `INVALID_INPUT`
    InvalidInput,
    /// `UNAUTHORIZED`
    Unauthorized,
    /// `FORBIDDEN`
    Forbidden,
    /// `NOT_FOUND`
    NotFound,
    /// `CONFLICT`
    Conflict,
    /// `RATE_LIMITED`
    RateLimited,
    /// `CRYPTO`
    Crypto,
    /// `EGRESS`
    Egress,
    /// `STORE`
    Store,
    /// `CONFIG`
    Config,
    /// `EXTERNAL`
    External,
}

impl ErrorCode {
    /// Every code, in declaration order (bindings generate one exception class per code).
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::InvalidInput,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::RateLimited,
        ErrorCode::Crypto,
        ErrorCode::Egress,
        ErrorCode::Store,
        ErrorCode::Config,
        ErrorCode::External,
    ];

    /// The code string, e.g. `"INVALID_INPUT"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "INVALID_INPUT",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Crypto => "CRYPTO",
            ErrorCode::Egress => "EGRESS",
            ErrorCode::Store => "STORE",
            ErrorCode::Config => "CONFIG",
            ErrorCode::External => "EXTERNAL",
        }
    }

    /// The HTTP status the reference API answers with for this code.
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidInput => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::RateLimited => 429,
            ErrorCode::Crypto => 400,
            ErrorCode::Egress => 502,
            ErrorCode::Store => 503,
            ErrorCode::Config => 500,
            ErrorCode::External => 500,
        }
    }
}

/// One of the strings of [`ErrorCode::ALL`].
impl JsonSchema for ErrorCode {
    fn schema_name() -> Cow<'static, str> {
        "ErrorCode".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The stable code of every error the library reports.",
            "type": "string",
            "enum": ErrorCode::ALL.map(ErrorCode::as_str),
        })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidInput { .. } => ErrorCode::InvalidInput,
            Error::Unauthorized { .. } => ErrorCode::Unauthorized,
            Error::Forbidden { .. } => ErrorCode::Forbidden,
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::Conflict { .. } => ErrorCode::Conflict,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::Crypto { .. } => ErrorCode::Crypto,
            Error::Egress { .. } | Error::EgressUnreachable { .. } | Error::EgressBusy { .. } => {
                ErrorCode::Egress
            }
            Error::Store { .. } => ErrorCode::Store,
            Error::Config { .. } => ErrorCode::Config,
            Error::External { .. } => ErrorCode::External,
        }
    }

    /// Whether repeating the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. }
            | Error::Store { .. }
            | Error::EgressUnreachable { .. }
            | Error::EgressBusy { .. } => true,
            Error::Egress { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// For an egress `start` that failed: whether an egress may exist all the same (a
    /// timeout, a 5xx, an answer lost on the way), so the outcome is uncertain. `false`
    /// when the backend refused, was never reached ([`Error::EgressUnreachable`]) or had
    /// no capacity ([`Error::EgressBusy`]).
    pub fn egress_may_exist(&self) -> bool {
        self.is_retryable()
            && !matches!(
                self,
                Error::EgressUnreachable { .. } | Error::EgressBusy { .. }
            )
    }

    /// An [`Error::InvalidInput`] for `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The error a host language's code (a store written in Python or JavaScript) reports
    /// with `code`, `message` and, for `INVALID_INPUT`, `field`; `None` for a code that is
    /// not one of `codes`, or unknown. A message carrying this library's own prefix (an
    /// error of ours passed through) keeps only its reason.
    pub fn from_code(
        code: &str,
        codes: &[ErrorCode],
        message: &str,
        field: Option<&str>,
    ) -> Option<Self> {
        let code = *codes.iter().find(|c| c.as_str() == code)?;
        let strip = |prefix: &str| message.strip_prefix(prefix).unwrap_or(message).to_owned();
        Some(match code {
            ErrorCode::InvalidInput => {
                let field = field.filter(|f| !f.is_empty()).unwrap_or("input");
                Error::invalid(field, strip(&format!("invalid {field}: ")))
            }
            ErrorCode::Unauthorized => Error::unauthorized(strip("unauthorized: ")),
            ErrorCode::Forbidden => Error::forbidden(strip("forbidden: ")),
            ErrorCode::NotFound => {
                Error::not_found(message.strip_suffix(" not found").unwrap_or(message))
            }
            ErrorCode::Conflict => Error::conflict(strip("conflict: ")),
            ErrorCode::Crypto => Error::crypto(strip("crypto error: ")),
            ErrorCode::Store => Error::Store {
                message: strip("store error: "),
            },
            ErrorCode::Egress => Error::Egress {
                retryable: false,
                message: strip("egress error: "),
            },
            ErrorCode::RateLimited | ErrorCode::Config | ErrorCode::External => return None,
        })
    }

    /// An [`Error::Unauthorized`].
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        Error::Unauthorized {
            reason: reason.into(),
        }
    }

    /// An [`Error::Forbidden`].
    pub fn forbidden(reason: impl Into<String>) -> Self {
        Error::Forbidden {
            reason: reason.into(),
        }
    }

    /// An [`Error::NotFound`].
    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound { what: what.into() }
    }

    /// An [`Error::Conflict`].
    pub fn conflict(reason: impl Into<String>) -> Self {
        Error::Conflict {
            reason: reason.into(),
        }
    }

    /// An [`Error::Crypto`].
    pub fn crypto(reason: impl Into<String>) -> Self {
        Error::Crypto {
            reason: reason.into(),
        }
    }
}

/// An [`Error`] as the HTTP API sends it: `{ "error": message, "code": CODE }`, with the
/// details a caller needs to act on it: `field` (`INVALID_INPUT`), `retryable` (every code),
/// `retryAfterMs` (`RATE_LIMITED`) and `var` (`CONFIG`). None of them carries a value the
/// caller sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireError {
    /// The error's message.
    pub error: String,
    /// Its stable code.
    pub code: String,
    /// The field at fault (`INVALID_INPUT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Whether repeating the call later may succeed.
    #[serde(default)]
    pub retryable: bool,
    /// How long to wait before the next attempt (`RATE_LIMITED`), in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// The configuration variable(s) at fault (`CONFIG`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub var: Option<String>,
}

impl Error {
    /// This error as the HTTP API sends it.
    pub fn to_wire(&self) -> WireError {
        WireError {
            error: self.to_string(),
            code: self.code().as_str().to_owned(),
            field: match self {
                Error::InvalidInput { field, .. } => Some(field.clone()),
                _ => None,
            },
            retryable: self.is_retryable(),
            retry_after_ms: match self {
                Error::RateLimited { retry_after, .. } => {
                    Some(u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX))
                }
                _ => None,
            },
            var: match self {
                Error::Config { var, .. } => Some(var.clone()),
                _ => None,
            },
        }
    }

    /// The error a server reported as `wire` (see [`Error::to_wire`]): the same variant with
    /// the same message, so a remote caller branches on it as on a local one. `retry_after`
    /// (the `Retry-After` header) is used when the body gives no `retryAfterMs`; an unknown
    /// code is [`Error::External`].
    pub fn from_wire(wire: WireError, retry_after: Option<Duration>) -> Self {
        let message = wire.error.as_str();
        let strip = |prefix: &str| message.strip_prefix(prefix).unwrap_or(message).to_owned();
        match wire.code.as_str() {
            "RATE_LIMITED" => {
                let limit = strip("rate limited: ");
                let limit = match limit.rsplit_once("; retry in ") {
                    Some((limit, _)) => limit.to_owned(),
                    None => limit,
                };
                let wait = wire
                    .retry_after_ms
                    .map(Duration::from_millis)
                    .or(retry_after)
                    .unwrap_or(Duration::from_secs(1));
                Error::RateLimited {
                    limit,
                    retry_after: wait,
                }
            }
            "EGRESS" => {
                if let Some(rest) = message.strip_prefix("egress at capacity: ") {
                    Error::EgressBusy {
                        message: rest.to_owned(),
                    }
                } else if let Some(rest) = message.strip_prefix("egress unreachable: ") {
                    Error::EgressUnreachable {
                        message: rest.to_owned(),
                    }
                } else {
                    Error::Egress {
                        retryable: wire.retryable,
                        message: strip("egress error: "),
                    }
                }
            }
            "CONFIG" => Error::Config {
                var: wire.var.unwrap_or_default(),
                problem: strip("configuration error: "),
            },
            code => Error::from_code(code, &ErrorCode::ALL, message, wire.field.as_deref())
                .unwrap_or_else(|| Error::External {
                    message: message.to_owned(),
                    source: Arc::new(std::io::Error::other(format!(
                        "the server reported {code}: {message}"
                    ))),
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_upper_snake() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
        }
        assert_eq!(seen.len(), 11);
    }

    #[test]
    fn each_variant_maps_to_its_code() {
        let cases = [
            (
                Error::invalid("streamKey", "is required"),
                "INVALID_INPUT",
                400,
            ),
            (Error::unauthorized("bad signature"), "UNAUTHORIZED", 401),
            (Error::forbidden("not yours"), "FORBIDDEN", 403),
            (Error::not_found("session"), "NOT_FOUND", 404),
            (Error::conflict("active session"), "CONFLICT", 409),
            (
                Error::RateLimited {
                    limit: "at most 1 call per minute per caller".into(),
                    retry_after: Duration::from_millis(1500),
                },
                "RATE_LIMITED",
                429,
            ),
            (Error::crypto("tag mismatch"), "CRYPTO", 400),
            (
                Error::Egress {
                    retryable: true,
                    message: "unavailable".into(),
                },
                "EGRESS",
                502,
            ),
            (
                Error::Store {
                    message: "locked".into(),
                },
                "STORE",
                503,
            ),
            (
                Error::Config {
                    var: "LIVEKIT_URL".into(),
                    problem: "LIVEKIT_URL is missing".into(),
                },
                "CONFIG",
                500,
            ),
            (
                Error::External {
                    message: "python store raised ValueError".into(),
                    source: Arc::new(std::io::Error::other("boom")),
                },
                "EXTERNAL",
                500,
            ),
        ];
        for (err, code, status) in cases {
            assert_eq!(err.code().as_str(), code);
            assert_eq!(err.code().http_status(), status);
        }
    }

    #[test]
    fn errors_cross_the_wire_unchanged() {
        let cases = [
            Error::invalid("streamKey", "is required"),
            Error::unauthorized("bad signature"),
            Error::forbidden("not yours"),
            Error::not_found("session"),
            Error::conflict("active session"),
            Error::RateLimited {
                limit: "at most 10 starts per minute per stream entity".into(),
                retry_after: Duration::from_millis(1500),
            },
            Error::crypto("tag mismatch"),
            Error::Egress {
                retryable: true,
                message: "unavailable".into(),
            },
            Error::Egress {
                retryable: false,
                message: "bad request".into(),
            },
            Error::EgressBusy {
                message: "2 of 2 streams run".into(),
            },
            Error::EgressUnreachable {
                message: "connection refused".into(),
            },
            Error::Store {
                message: "locked".into(),
            },
            Error::Config {
                var: "LIVEKIT_URL".into(),
                problem: "LIVEKIT_URL is missing".into(),
            },
        ];
        for err in cases {
            let wire = err.to_wire();
            let json = serde_json::to_string(&wire).unwrap();
            let back = Error::from_wire(serde_json::from_str(&json).unwrap(), None);
            assert_eq!(back.to_string(), err.to_string(), "{json}");
            assert_eq!(back.code(), err.code());
            assert_eq!(back.is_retryable(), err.is_retryable(), "{json}");
            assert_eq!(back.to_wire(), wire);
        }
    }

    #[test]
    fn a_wire_error_without_details_still_has_its_meaning() {
        let wire: WireError =
            serde_json::from_str(r#"{"error":"rate limited: calls","code":"RATE_LIMITED"}"#)
                .unwrap();
        match Error::from_wire(wire, Some(Duration::from_secs(3))) {
            Error::RateLimited { retry_after, limit } => {
                assert_eq!(retry_after, Duration::from_secs(3));
                assert_eq!(limit, "calls");
            }
            other => panic!("{other:?}"),
        }
        let wire: WireError =
            serde_json::from_str(r#"{"error":"teapot","code":"TEAPOT"}"#).unwrap();
        let err = Error::from_wire(wire, None);
        assert_eq!(err.code(), ErrorCode::External);
        assert_eq!(err.to_string(), "teapot");
    }

    #[test]
    fn host_errors_map_back_by_code() {
        let codes = &ErrorCode::ALL;
        let err = Error::from_code("CONFLICT", codes, "conflict: stale version", None).unwrap();
        assert_eq!(err.to_string(), "conflict: stale version");
        let err = Error::from_code("NOT_FOUND", codes, "session not found", None).unwrap();
        assert_eq!(err.to_string(), "session not found");
        let err = Error::from_code(
            "INVALID_INPUT",
            codes,
            "invalid cursor: bad",
            Some("cursor"),
        )
        .unwrap();
        assert_eq!(err.to_string(), "invalid cursor: bad");
        let err = Error::from_code("STORE", codes, "disk full", None).unwrap();
        assert!(err.is_retryable());
        assert!(Error::from_code("CONFLICT", &[ErrorCode::Store], "x", None).is_none());
        assert!(Error::from_code("NOPE", codes, "x", None).is_none());
        assert!(Error::from_code("CONFIG", codes, "x", None).is_none());
    }

    #[test]
    fn messages_name_the_field() {
        let err = Error::invalid("customRtmpUrl", "must start with rtmp:// or rtmps://");
        assert_eq!(
            err.to_string(),
            "invalid customRtmpUrl: must start with rtmp:// or rtmps://"
        );
        let err = Error::RateLimited {
            limit: "at most 10 starts per minute per stream entity".into(),
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!(
            err.to_string(),
            "rate limited: at most 10 starts per minute per stream entity; retry in 2 s"
        );
        assert!(err.is_retryable());
        assert!(!Error::not_found("session").is_retryable());
    }
}
