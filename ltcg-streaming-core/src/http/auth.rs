//! Who is calling the HTTP API: API keys from configuration mapped to [`Actor`]s.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use axum::http::{header, HeaderMap};
use subtle::ConstantTimeEq;

use crate::agent_keys::{AgentKeys, AGENT_KEY_MARK};
use crate::error::{Error, Result};
use crate::loopback::{is_loopback_host, is_loopback_origin};
use crate::service::Actor;
use crate::vault::SecretString;

/// Resolves a bearer token that is not an API key (e.g. a user's session JWT) to a user id.
#[async_trait]
pub trait UserTokens: Send + Sync + fmt::Debug {
    /// The user id the token belongs to, or `None` when it is not valid.
    async fn user_for(&self, token: &str) -> Result<Option<String>>;
}

/// Finds the agent an agent key (`ltcg_…`) belongs to: the keys a store keeps as hashes
/// ([`AgentKeys`]), or the host's own lookup (e.g. the key table an app already has).
#[async_trait]
pub trait AgentKeyLookup: Send + Sync + fmt::Debug {
    /// The agent `key` belongs to, or `None` when it is no live key.
    async fn agent_for(&self, key: &str) -> Result<Option<String>>;
}

#[async_trait]
impl AgentKeyLookup for AgentKeys {
    async fn agent_for(&self, key: &str) -> Result<Option<String>> {
        self.verify(key).await
    }
}

/// The credentials the HTTP API accepts.
///
/// Keys are read from `Authorization: Bearer <key>`, `x-api-key: <key>` or the product's
/// `X-Internal-Auth: <key>`, and compared in constant time against every configured key.
#[derive(Clone, Default)]
pub struct ApiAuth {
    internal_keys: Vec<SecretString>,
    agent_keys: Vec<(SecretString, String)>,
    agent_key_lookup: Option<Arc<dyn AgentKeyLookup>>,
    user_tokens: Option<Arc<dyn UserTokens>>,
    dev_mode: bool,
}

impl fmt::Debug for ApiAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiAuth")
            .field("internal_keys", &self.internal_keys.len())
            .field("agent_keys", &self.agent_keys.len())
            .field("agent_key_lookup", &self.agent_key_lookup.is_some())
            .field("user_tokens", &self.user_tokens.is_some())
            .field("dev_mode", &self.dev_mode)
            .finish()
    }
}

/// Shortest API key accepted.
pub const MIN_KEY_LEN: usize = 16;

impl ApiAuth {
    /// No credentials yet: every request is refused until keys are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Development mode: every request acts as [`Actor::Internal`] without credentials.
    /// Only for a server bound to 127.0.0.1. So that no web page can drive it (cross-site
    /// requests, DNS rebinding), a request is refused (`FORBIDDEN`) unless its `Host` is a
    /// loopback name (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`, any port) and its
    /// `Origin`, when it has one, is a loopback origin. A request without `Host` (not from a
    /// browser) is not refused for that.
    pub fn dev_mode() -> Self {
        Self {
            dev_mode: true,
            ..Self::default()
        }
    }

    /// Whether this is development mode.
    pub fn is_dev_mode(&self) -> bool {
        self.dev_mode
    }

    /// Whether any credential is configured.
    pub fn has_credentials(&self) -> bool {
        !self.internal_keys.is_empty()
            || !self.agent_keys.is_empty()
            || self.agent_key_lookup.is_some()
            || self.user_tokens.is_some()
    }

    /// Accepts `key` as the internal (server-to-server) key.
    pub fn with_internal_key(mut self, key: &str) -> Result<Self> {
        self.internal_keys.push(check_key("internalKey", key)?);
        Ok(self)
    }

    /// Accepts `key` as the API key of agent `agent_id`.
    pub fn with_agent_key(mut self, key: &str, agent_id: &str) -> Result<Self> {
        crate::session::validate_entity_id("agentId", agent_id)?;
        self.agent_keys
            .push((check_key("agentKey", key)?, agent_id.to_owned()));
        Ok(self)
    }

    /// Accepts the agent keys kept in a store (`ltcg_…`, checked against their Argon2id
    /// hashes, see [`AgentKeys`]).
    pub fn with_stored_agent_keys(self, keys: Arc<AgentKeys>) -> Self {
        self.with_agent_key_lookup(keys)
    }

    /// Accepts the agent keys `lookup` knows. It is asked about every presented value that
    /// starts with `ltcg_` and matched no configured key; what it does not know is refused
    /// (not tried as a user token).
    pub fn with_agent_key_lookup(mut self, lookup: Arc<dyn AgentKeyLookup>) -> Self {
        self.agent_key_lookup = Some(lookup);
        self
    }

    /// Resolves other bearer tokens to users through `tokens`.
    pub fn with_user_tokens(mut self, tokens: Arc<dyn UserTokens>) -> Self {
        self.user_tokens = Some(tokens);
        self
    }

    /// The actor making a request, from its headers.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Actor> {
        self.authenticate_request(headers, None).await
    }

    /// Like [`ApiAuth::authenticate`], with the request URI's authority, which stands for a
    /// missing `Host` header (HTTP/2).
    pub(super) async fn authenticate_request(
        &self,
        headers: &HeaderMap,
        authority: Option<&str>,
    ) -> Result<Actor> {
        if self.dev_mode {
            loopback_only(headers, authority)?;
        }
        let Some(presented) = presented_key(headers) else {
            return if self.dev_mode {
                Ok(Actor::Internal)
            } else {
                Err(Error::unauthorized(
                    "missing credentials (Authorization: Bearer <key>)",
                ))
            };
        };
        if let Some(actor) = self.actor_for_key(presented).await? {
            return Ok(actor);
        }
        if self.dev_mode {
            return Ok(Actor::Internal);
        }
        Err(Error::unauthorized("invalid credentials"))
    }

    /// The actor a key (or user token) stands for, `None` when it matches nothing (even in
    /// development mode).
    pub(super) async fn actor_for_key(&self, presented: &str) -> Result<Option<Actor>> {
        // Compare against every key so the time taken does not depend on which matched.
        let mut actor = None;
        for key in &self.internal_keys {
            if bool::from(key.expose_secret().as_bytes().ct_eq(presented.as_bytes())) {
                actor = Some(Actor::Internal);
            }
        }
        for (key, agent) in &self.agent_keys {
            if bool::from(key.expose_secret().as_bytes().ct_eq(presented.as_bytes())) {
                actor = actor.or_else(|| Some(Actor::Agent(agent.clone())));
            }
        }
        if actor.is_some() {
            return Ok(actor);
        }
        if let Some(lookup) = self
            .agent_key_lookup
            .as_ref()
            .filter(|_| presented.starts_with(AGENT_KEY_MARK))
        {
            if let Some(agent) = lookup.agent_for(presented).await? {
                return Actor::agent(&agent).map(Some);
            }
            return Ok(None);
        }
        if let Some(tokens) = &self.user_tokens {
            if let Some(user) = tokens.user_for(presented).await? {
                return Actor::user(&user).map(Some);
            }
        }
        Ok(None)
    }
}

fn check_key(field: &str, key: &str) -> Result<SecretString> {
    let key = key.trim();
    if key.len() < MIN_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(
            field,
            format!("must be at least {MIN_KEY_LEN} printable characters"),
        ));
    }
    Ok(SecretString::from(key))
}

/// The key a request presents, if any: `Authorization: Bearer <key>` (the scheme in any
/// case, any ASCII whitespace around the key), else `x-api-key`, else `X-Internal-Auth`.
pub(super) fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim_matches(|c: char| c.is_ascii_whitespace()))
            .filter(|v| !v.is_empty())
    };
    let bearer = header("authorization").and_then(|auth| {
        let (scheme, rest) = auth.split_at_checked(6)?;
        let separated = rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_whitespace());
        (scheme.eq_ignore_ascii_case("bearer") && separated)
            .then(|| rest.trim_matches(|c: char| c.is_ascii_whitespace()))
            .filter(|token| !token.is_empty())
    });
    bearer.or_else(|| header("x-api-key").or_else(|| header("x-internal-auth")))
}

/// Development mode's guard: `Host` (or else `authority`) must be a loopback name and
/// `Origin`, if sent, a loopback origin.
fn loopback_only(headers: &HeaderMap, authority: Option<&str>) -> Result<()> {
    let host = match headers.get(header::HOST) {
        Some(value) => Some(value.to_str().unwrap_or_default()),
        None => authority,
    };
    if host.is_some_and(|host| !is_loopback_host(host)) {
        return Err(Error::forbidden(
            "development mode only answers requests addressed to localhost, 127.0.0.1 or [::1]",
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        if !origin.to_str().ok().is_some_and(is_loopback_origin) {
            return Err(Error::forbidden(
                "development mode only answers web pages served from localhost, 127.0.0.1 or [::1]",
            ));
        }
    }
    Ok(())
}
