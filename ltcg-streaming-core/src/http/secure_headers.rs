//! The headers every page and asset we serve carries: its type, its content security
//! policy, no referrer, no caching, no type sniffing.

use axum::http::{header, HeaderValue};
use axum::response::Response;

/// `response` as `content_type` under `csp`, not cached, sent without a referrer and never
/// sniffed as another type.
pub(super) fn secured(mut response: Response, content_type: &'static str, csp: &str) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(csp) = HeaderValue::from_str(csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
