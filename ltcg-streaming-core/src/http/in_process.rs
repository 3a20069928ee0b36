//! The API served by a host's own HTTP server: a Next.js route handler (or any framework)
//! hands each request to [`InProcessApi::handle`] and sends back the answer, so every route,
//! its authentication, limits and error contract are this crate's, not rewritten in the
//! host's language. Event streams (`text/event-stream`, the overlay's) come back as a
//! [`BodyStream`] read chunk by chunk.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use axum::Router;
use futures::StreamExt;
use serde::Deserialize;
use tower::ServiceExt;

use super::auth::{AgentKeyLookup, ApiAuth};
use super::user_tokens::{JwksCaching, JwtRules, JwtUserTokens};
use super::{router_with, RouterOptions};
use crate::error::{Error, Result};
use crate::service::StreamingService;
use crate::vault::SecretString;

/// Largest answer collected whole, in bytes (the overlay page and its assets are smaller).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Who may call the API (JSON, camelCase): the bindings' way to build an [`ApiAuth`].
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthSettings {
    /// The internal (server-to-server) key.
    #[serde(default)]
    pub internal_key: Option<SecretString>,
    /// Static agent keys: each `{ key, agentId }`.
    #[serde(default)]
    pub agent_keys: Vec<AgentKeySetting>,
    /// Users' JWTs, checked with a shared HS256 `secret` or the keys at `jwksUrl`.
    #[serde(default)]
    pub user_jwt: Option<UserJwtSettings>,
    /// Development mode: no keys, loopback callers only.
    #[serde(default)]
    pub development: bool,
}

/// One static agent key.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentKeySetting {
    /// The key.
    pub key: SecretString,
    /// The agent it names.
    pub agent_id: String,
}

/// How users' JWTs are verified.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserJwtSettings {
    /// HS256 shared secret (or `jwksUrl`, not both).
    #[serde(default)]
    pub secret: Option<SecretString>,
    /// The JWKS URL of RS256/ES256 keys (or `secret`, not both).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// The required `iss`.
    pub issuer: String,
    /// The required `aud`.
    pub audience: String,
}

impl AuthSettings {
    /// The authentication these settings describe, with the host's agent-key `lookup` when
    /// it gives one (see [`ApiAuth::with_agent_key_lookup`]); a missing or contradictory part
    /// is `INVALID_INPUT` naming it.
    pub fn into_auth(self, lookup: Option<Arc<dyn AgentKeyLookup>>) -> Result<ApiAuth> {
        let mut auth = if self.development {
            ApiAuth::dev_mode()
        } else {
            ApiAuth::new()
        };
        if let Some(key) = &self.internal_key {
            auth = auth.with_internal_key(key.expose_secret())?;
        }
        for agent in &self.agent_keys {
            auth = auth.with_agent_key(agent.key.expose_secret(), &agent.agent_id)?;
        }
        if let Some(jwt) = self.user_jwt {
            let rules = JwtRules::new(&jwt.issuer, &jwt.audience)?;
            let tokens = match (jwt.secret, jwt.jwks_url) {
                (Some(secret), None) => JwtUserTokens::hs256(&secret, rules)?,
                (None, Some(url)) => JwtUserTokens::jwks(&url, rules, JwksCaching::default())?,
                _ => {
                    return Err(Error::invalid(
                        "userJwt",
                        "needs exactly one of secret and jwksUrl",
                    ))
                }
            };
            auth = auth.with_user_tokens(Arc::new(tokens));
        }
        if let Some(lookup) = lookup {
            auth = auth.with_agent_key_lookup(lookup);
        }
        if !self.development && !auth.has_credentials() {
            return Err(Error::invalid(
                "auth",
                "names no credential (internalKey, agentKeys, userJwt or an agent-key lookup), and development is off",
            ));
        }
        Ok(auth)
    }
}

/// A request as the host received it.
#[derive(Debug, Default)]
pub struct HostRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path and query, e.g. `/api/streaming/status?sessionId=ses_…` (an absolute URL's
    /// path and query are taken, and its host becomes `Host` when none is given).
    pub url: String,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
    /// The client's address, when the host knows it (failed authentications are counted
    /// per address).
    pub client: Option<IpAddr>,
}

/// An answer for the host to send.
#[derive(Debug)]
pub struct HostResponse {
    /// The status code.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body: whole, or (an event stream) to be read as it comes.
    pub body: HostBody,
}

/// The body of a [`HostResponse`].
#[derive(Debug)]
pub enum HostBody {
    /// The whole body.
    Full(Vec<u8>),
    /// An event stream, read with [`BodyStream::next`].
    Stream(BodyStream),
}

/// A body read chunk by chunk.
pub struct BodyStream(axum::body::BodyDataStream);

impl std::fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BodyStream")
    }
}

impl BodyStream {
    /// The next chunk; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Bytes>> {
        self.0.next().await.map(|chunk| {
            chunk.map_err(|e| Error::External {
                message: format!("the answer's body failed: {e}"),
                source: std::sync::Arc::new(std::io::Error::other(e.to_string())),
            })
        })
    }
}

/// The API for a host to serve (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct InProcessApi {
    router: Router,
}

impl std::fmt::Debug for InProcessApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcessApi")
    }
}

impl InProcessApi {
    /// The API of `service`, authenticated by `auth`.
    pub fn new(service: StreamingService, auth: ApiAuth, options: RouterOptions) -> Self {
        Self {
            router: router_with(service, auth, options),
        }
    }

    /// Answers `request`; a request that is not HTTP (bad method, URL or header) is
    /// `INVALID_INPUT` naming the part.
    pub async fn handle(&self, request: HostRequest) -> Result<HostResponse> {
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|_| Error::invalid("method", "is not an HTTP method"))?;
        let (target, host) = match request.url.split_once("://") {
            Some((_, rest)) => {
                let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                (if path.is_empty() { "/" } else { path }, Some(host))
            }
            None => (request.url.as_str(), None),
        };
        let mut builder = Request::builder().method(method).uri(target);
        let mut has_host = false;
        for (name, value) in &request.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::invalid("headers", "holds a name that is not a header name"))?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                Error::invalid(
                    "headers",
                    format!("{name} holds a value that is not a header value"),
                )
            })?;
            has_host |= name == axum::http::header::HOST;
            builder = builder.header(name, value);
        }
        if let (false, Some(host)) = (has_host, host) {
            builder = builder.header(axum::http::header::HOST, host);
        }
        let mut http_request = builder
            .body(Body::from(request.body))
            .map_err(|_| Error::invalid("url", "is not a path and query"))?;
        if let Some(ip) = request.client {
            http_request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(ip, 0)));
        }
        let response = match self.router.clone().oneshot(http_request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect::<Vec<_>>();
        let streaming = headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("text/event-stream"));
        let body = response.into_body();
        let body = if streaming {
            HostBody::Stream(BodyStream(body.into_data_stream()))
        } else {
            let bytes = axum::body::to_bytes(body, MAX_ANSWER_BYTES)
                .await
                .map_err(|e| Error::External {
                    message: format!("the answer's body failed: {e}"),
                    source: std::sync::Arc::new(std::io::Error::other(e.to_string())),
                })?;
            HostBody::Full(bytes.to_vec())
        };
        Ok(HostResponse {
            status,
            headers,
            body,
        })
    }
}
