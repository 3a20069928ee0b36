//! Request bodies: bounded, JSON, with errors that name the field.

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;

use super::error::ApiError;

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

/// A JSON body of at most [`super::MAX_JSON_BODY`] bytes, decoded into `T` by
/// [`crate::json::body`]; errors name the offending field path.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_limited(req.into_body(), super::MAX_JSON_BODY).await?;
        crate::json::body(&bytes)
            .map(JsonBody)
            .map_err(|e| BodyRejection::Invalid(ApiError(e)))
    }
}
