//! Errors as HTTP responses: [`WireError`] (`{ "error": message, "code": CODE, ... }`) with
//! the code's status.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::{Error, ErrorCode, WireError};

/// An [`Error`] answering an HTTP request.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        Self(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.0.code();
        let status =
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(code = code.as_str(), error = %self.0, "request failed");
        }
        let response = (status, Json(self.0.to_wire())).into_response();
        match &self.0 {
            Error::RateLimited { retry_after, .. } => with_retry_after(response, *retry_after),
            _ => response,
        }
    }
}

/// The error contract with a status of its own (405, 408, 413, 414, 415, 431, …).
pub(super) fn reply(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Response {
    let body = WireError {
        error: message.into(),
        code: code.as_str().to_owned(),
        field: None,
        retryable: false,
        retry_after_ms: None,
        var: None,
    };
    (status, Json(body)).into_response()
}

/// Whole seconds to wait, at least 1 (the unit of `Retry-After`).
fn retry_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// `response` with `Retry-After: <wait in whole seconds, at least 1>`.
pub(super) fn with_retry_after(mut response: Response, wait: Duration) -> Response {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_secs(wait)));
    response
}

/// Handler result.
pub type ApiResult<T> = std::result::Result<T, ApiError>;
