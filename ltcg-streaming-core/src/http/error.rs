//! Errors as HTTP responses: `{ "error": message, "code": CODE }` with the code's status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::Error;

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
        let body = serde_json::json!({ "error": self.0.to_string(), "code": code.as_str() });
        let mut response = (status, Json(body)).into_response();
        if let Error::RateLimited { retry_after, .. } = &self.0 {
            let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// Handler result.
pub type ApiResult<T> = std::result::Result<T, ApiError>;
