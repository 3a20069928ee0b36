//! Request bodies: JSON by content type, bounded, with errors that name the field.

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::error::{reply, ApiError};
use crate::error::ErrorCode;

/// Why a body was refused.
#[derive(Debug)]
pub(crate) enum BodyRejection {
    /// Not sent as JSON (415).
    NotJson,
    /// Larger than allowed (413).
    TooLarge(usize),
    /// Not the expected JSON (400).
    Invalid(ApiError),
}

impl IntoResponse for BodyRejection {
    fn into_response(self) -> Response {
        match self {
            BodyRejection::NotJson => reply(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::InvalidInput,
                "the body must be sent with Content-Type: application/json",
            ),
            BodyRejection::TooLarge(limit) => reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::InvalidInput,
                format!("request body is larger than {limit} bytes"),
            ),
            BodyRejection::Invalid(err) => err.into_response(),
        }
    }
}

/// Whether `headers` declare a JSON body: `application/json` or a structured-syntax
/// `application/<name>+json` (LiveKit's `application/webhook+json`), in any case, with any
/// parameters. The types a cross-site form may send without a CORS preflight (`text/plain`,
/// forms) are not JSON, so a web page cannot post to the API unasked.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let subtype = subtype.to_ascii_lowercase();
    let named_json = subtype
        .strip_suffix("+json")
        .is_some_and(|name| !name.is_empty() && !name.contains(['/', ' ', '\t']));
    kind.eq_ignore_ascii_case("application") && (subtype == "json" || named_json)
}

/// Reads at most `limit` bytes of a JSON body (see [`is_json`]).
pub(crate) async fn read_json(req: Request, limit: usize) -> Result<Bytes, BodyRejection> {
    if !is_json(req.headers()) {
        return Err(BodyRejection::NotJson);
    }
    read_limited(req.into_body(), limit).await
}

/// Reads at most `limit` bytes of body.
async fn read_limited(body: Body, limit: usize) -> Result<Bytes, BodyRejection> {
    to_bytes(body, limit)
        .await
        .map_err(|_| BodyRejection::TooLarge(limit))
}

/// A JSON body of at most [`super::MAX_JSON_BODY`] bytes, decoded into `T` by
/// [`crate::json::body`]; errors name the offending field path.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_json(req, super::MAX_JSON_BODY).await?;
        crate::json::body(&bytes)
            .map(JsonBody)
            .map_err(|e| BodyRejection::Invalid(ApiError(e)))
    }
}
