//! The HTTP router in process, through `tower::ServiceExt::oneshot`: the test API keys,
//! requests, replies, the `{error, code}` error contract, and a snapshot of everything the API
//! can write.

use axum::body::{to_bytes, Body};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use ltcg_streaming_core::http::{router, ApiAuth};
use ltcg_streaming_core::store::SessionQuery;
use ltcg_streaming_core::{Actor, Entity, SessionId};
use serde_json::Value;
use tower::ServiceExt;

use crate::harness::{agent_start, Harness};

/// The internal key of [`auth`]. Mixed case, so that the key in another case is a near miss.
pub const INTERNAL_KEY: &str = "Internal-Key-AbCdEf-0123456789";
/// The agent key of [`auth`] for `agent_7` (mixed case, like [`INTERNAL_KEY`]).
pub const AGENT_KEY: &str = "ltcg_Agent_Key_XyZ_0123456789";
/// The agent key of [`auth`] for `agent_9`.
pub const OTHER_AGENT_KEY: &str = "ltcg_Other_Agent_Key_987654";

/// The title of [`started_session`]'s stream: no answer without a valid overlay token may
/// contain it.
pub const SESSION_TITLE: &str = "Title behind the overlay token";

/// [`INTERNAL_KEY`], and the agent keys [`AGENT_KEY`] (`agent_7`) and [`OTHER_AGENT_KEY`]
/// (`agent_9`).
pub fn auth() -> ApiAuth {
    ApiAuth::new()
        .with_internal_key(INTERNAL_KEY)
        .unwrap()
        .with_agent_key(AGENT_KEY, "agent_7")
        .unwrap()
        .with_agent_key(OTHER_AGENT_KEY, "agent_9")
        .unwrap()
}

/// The router over `h`'s service with [`auth`].
pub fn app(h: &Harness) -> Router {
    router(h.service.clone(), auth())
}

/// An answer: status, headers, the body as JSON (`Null` when it is not JSON) and as text.
#[derive(Debug, Default)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body as JSON; `Null` when it is not JSON.
    pub json: Value,
    /// The body as (lossy) UTF-8 text.
    pub text: String,
}

/// Sends `req` through `app` and reads the whole answer (up to 1 MiB).
pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    Reply {
        status,
        headers,
        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A request with a JSON content type and, when `key` is given, `Authorization: Bearer <key>`.
pub fn request(
    method: Method,
    uri: &str,
    key: Option<&str>,
    body: impl Into<Body>,
) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(key) = key {
        req = req.header("authorization", format!("Bearer {key}"));
    }
    req.body(body.into()).unwrap()
}

/// POSTs a raw `body` to `uri` with `key`.
pub async fn post(app: &Router, uri: &str, key: &str, body: impl Into<Body>) -> Reply {
    send(app, request(Method::POST, uri, Some(key), body)).await
}

/// One call with an optional bearer `key` and an optional JSON `body` (the content type is
/// set only with a body).
pub async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(key) = key {
        req = req.header("authorization", format!("Bearer {key}"));
    }
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    send(app, req.body(body).unwrap()).await
}

/// A session's status view, read with the internal key.
pub async fn status_of(app: &Router, session_id: &str) -> Value {
    let uri = format!("/api/streaming/status?sessionId={session_id}");
    let reply = call(app, Method::GET, &uri, Some(INTERNAL_KEY), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json
}

/// Asserts the error contract: `status`, a body of `{error, code, retryable}` with only the
/// details [`ltcg_streaming_core::error::WireError`] defines, and `code`.
pub fn assert_error(reply: &Reply, status: StatusCode, code: &str, ctx: &str) {
    assert_eq!(reply.status, status, "{ctx}: {}", reply.text);
    let obj = reply
        .json
        .as_object()
        .unwrap_or_else(|| panic!("{ctx}: not a JSON object: {}", reply.text));
    for key in obj.keys() {
        assert!(
            ["error", "code", "retryable", "field", "retryAfterMs", "var"].contains(&key.as_str()),
            "{ctx}: unexpected member {key}: {}",
            reply.text
        );
    }
    assert!(obj["retryable"].is_boolean(), "{ctx}: {}", reply.text);
    if let Some(field) = obj.get("field") {
        assert_eq!(code, "INVALID_INPUT", "{ctx}: {}", reply.text);
        assert!(!field.as_str().unwrap_or_default().is_empty(), "{ctx}");
    }
    if code == "RATE_LIMITED" {
        assert!(
            obj["retryAfterMs"].as_u64().is_some(),
            "{ctx}: {}",
            reply.text
        );
    }
    assert_eq!(reply.json["code"], code, "{ctx}");
    assert!(
        !reply.json["error"].as_str().unwrap_or_default().is_empty(),
        "{ctx}"
    );
}

/// The `error` message of an error reply (empty when there is none).
pub fn error_text(reply: &Reply) -> &str {
    reply.json["error"].as_str().unwrap_or_default()
}

/// Everything the API can write: every session, the stored credentials of `agent_7`,
/// `agent_8` and `agent_9`, and how many egresses were started.
pub async fn snapshot(h: &Harness) -> String {
    let sessions = h
        .store
        .list_sessions(&SessionQuery {
            limit: 500,
            ..SessionQuery::default()
        })
        .await
        .unwrap();
    let mut out = serde_json::to_string(&sessions.sessions).unwrap();
    for entity in [
        Entity::agent("agent_7").unwrap(),
        Entity::agent("agent_8").unwrap(),
        Entity::agent("agent_9").unwrap(),
    ] {
        let credential = h.store.get_credential(&entity).await.unwrap();
        out.push_str(&format!("\n{entity}: {credential:?}"));
    }
    out.push_str(&format!("\negresses started: {}", h.egress.started()));
    out
}

/// A started `agent_7` session titled [`SESSION_TITLE`], and its egress id.
pub async fn started_session(h: &Harness) -> (SessionId, String) {
    let started = h
        .service
        .start_stream(&Actor::Internal, {
            let mut req = agent_start("agent_7");
            req.stream_title = Some(SESSION_TITLE.into());
            req
        })
        .await
        .unwrap();
    let egress = h.egress_of(&started.session_id).await;
    (started.session_id, egress)
}

/// User tokens accepted by [`dashboard_auth`]: token → user id.
pub const USER_TOKENS: [(&str, &str); 2] = [
    ("user-token-alice-0123456789", "alice"),
    ("user-token-bob-0123456789ab", "bob"),
];

/// Bearer tokens that stand for users, from a fixed table.
#[derive(Debug)]
pub struct FixedUserTokens(pub Vec<(String, String)>);

#[async_trait::async_trait]
impl ltcg_streaming_core::http::UserTokens for FixedUserTokens {
    async fn user_for(&self, token: &str) -> ltcg_streaming_core::Result<Option<String>> {
        Ok(self
            .0
            .iter()
            .find(|(t, _)| t == token)
            .map(|(_, user)| user.clone()))
    }
}

/// [`auth`] plus the users of [`USER_TOKENS`].
pub fn dashboard_auth() -> ApiAuth {
    let users = USER_TOKENS
        .iter()
        .map(|(t, u)| ((*t).to_owned(), (*u).to_owned()))
        .collect();
    auth().with_user_tokens(std::sync::Arc::new(FixedUserTokens(users)))
}

/// A dashboard login: the cookie to send back and the CSRF token of its pages.
#[derive(Debug, Clone)]
pub struct DashboardLogin {
    /// `ltcg_dashboard=<value>`.
    pub cookie: String,
    /// The login's CSRF token (from the pages' `csrf-token` meta tag).
    pub csrf: String,
}

/// Signs in on `app`'s login form with `key`; panics unless it worked.
pub async fn dashboard_login(app: &Router, key: &str) -> DashboardLogin {
    let form = serde_urlencoded::to_string([("key", key)]).unwrap();
    let reply = send(
        app,
        Request::builder()
            .method(Method::POST)
            .uri("/dashboard/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "login: {}", reply.text);
    let set = reply.headers["set-cookie"].to_str().unwrap();
    let cookie = set.split(';').next().unwrap().to_owned();
    let page = send(
        app,
        with_cookie(Method::GET, "/dashboard", &cookie, None, None),
    )
    .await;
    let csrf = page
        .text
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert_eq!(csrf.len(), 64, "a CSRF token on the page");
    DashboardLogin { cookie, csrf }
}

/// A request carrying `cookie`, the CSRF token `csrf` if given, and a JSON `body` if given.
pub fn with_cookie(
    method: Method,
    uri: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("cookie", cookie);
    if let Some(csrf) = csrf {
        req = req.header("x-csrf-token", csrf);
    }
    match body {
        Some(v) => req
            .header("content-type", "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    }
}
