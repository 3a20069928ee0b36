//! Limits on a whole request, answered with the error contract: the URI's length (414), the
//! size of the headers (431) and the time to answer (408).

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use super::error::reply;
use crate::error::ErrorCode;

/// The limits of one router.
#[derive(Debug, Clone, Copy)]
pub(super) struct RequestLimits {
    pub(super) max_uri_bytes: usize,
    pub(super) max_header_bytes: usize,
    pub(super) timeout: Duration,
}

/// Refuses a request over the size limits, as it was received (before the router adds
/// headers of its own).
pub(super) async fn sizes(
    State(limits): State<RequestLimits>,
    req: Request,
    next: Next,
) -> Response {
    let uri = req.uri();
    let uri_bytes = uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |p| p.as_str().len());
    if uri_bytes > limits.max_uri_bytes {
        return reply(
            StatusCode::URI_TOO_LONG,
            ErrorCode::InvalidInput,
            format!(
                "the request URI is longer than {} bytes",
                limits.max_uri_bytes
            ),
        );
    }
    // As on the wire: `name: value\r\n`.
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > limits.max_header_bytes {
        return reply(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorCode::InvalidInput,
            format!(
                "the request headers are larger than {} bytes",
                limits.max_header_bytes
            ),
        );
    }
    next.run(req).await
}

/// Answers 408 when the rest of the router (reading the body included) takes longer than
/// the timeout.
pub(super) async fn timeout(
    State(limits): State<RequestLimits>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limits.timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => reply(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::InvalidInput,
            format!(
                "the request was not completed within {} s",
                limits.timeout.as_secs_f64()
            ),
        ),
    }
}
