//! Request bodies: bounded, JSON, with errors that name the field.

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::error::Error;

/// Why a body was refused.
#[derive(Debug)]
pub(crate) enum BodyRejection {
    /// Larger than allowed (413).
    TooLarge(usize),
    /// Not the expected JSON (400).
    Invalid(ApiError),
}

impl IntoResponse for BodyRejection {
    fn into_response(self) -> Response {
        match self {
            BodyRejection::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(serde_json::json!({
                    "error": format!("request body is larger than {limit} bytes"),
                    "code": "INVALID_INPUT",
                })),
            )
                .into_response(),
            BodyRejection::Invalid(err) => err.into_response(),
        }
    }
}

/// Reads at most `limit` bytes of body.
pub(crate) async fn read_limited(body: Body, limit: usize) -> Result<Bytes, BodyRejection> {
    to_bytes(body, limit)
        .await
        .map_err(|_| BodyRejection::TooLarge(limit))
}

/// A JSON body of at most [`super::MAX_JSON_BODY`] bytes, decoded into `T`; errors name the
/// offending field path.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_limited(req.into_body(), super::MAX_JSON_BODY).await?;
        parse_json(&bytes)
            .map(JsonBody)
            .map_err(BodyRejection::Invalid)
    }
}

/// Decodes JSON, reporting the path of the field that failed.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            "body".to_owned()
        } else {
            path
        };
        ApiError(Error::invalid(
            field,
            without_value(&e.into_inner().to_string()),
        ))
    })?;
    de.end()
        .map_err(|e| ApiError(Error::invalid("body", e.to_string())))?;
    Ok(value)
}

/// serde's messages quote the offending value (`invalid type: string "…"`), which may be a
/// secret sent in the wrong field: the first quoted value of such messages is elided.
fn without_value(message: &str) -> String {
    let echoes = [
        "invalid type",
        "invalid value",
        "unknown variant",
        "invalid length",
    ];
    if !echoes.iter().any(|p| message.starts_with(p)) {
        return message.to_owned();
    }
    let Some(start) = message.find(['`', '"']) else {
        return message.to_owned();
    };
    let quote = message[start..].chars().next().unwrap_or('"');
    match message[start + 1..].find(quote) {
        Some(len) => format!("{}…{}", &message[..start], &message[start + len + 2..]),
        None => format!("{}…", &message[..start]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_elided_but_expectations_kept() {
        assert_eq!(
            without_value("unknown variant `live_secret`, expected `user` or `agent`"),
            "unknown variant …, expected `user` or `agent`"
        );
        assert_eq!(
            without_value("invalid type: string \"sk_live\", expected u32 at line 1 column 9"),
            "invalid type: string …, expected u32 at line 1 column 9"
        );
        assert_eq!(
            without_value("missing field `gameId`"),
            "missing field `gameId`"
        );
    }
}
