//! Users' JSON Web Tokens, verified: HS256 with a shared secret, or RS256/ES256 (and their
//! longer variants) with the keys of a JWKS URL, cached and re-read when a token names a key
//! the cache does not have (so rotated keys are picked up). Issuer, audience and expiry are
//! always checked; `alg: none`, a symmetric algorithm with JWKS keys, or an algorithm other
//! than the key's, fail.
//!
//! A token that fails any check resolves to no user (the API answers 401 "invalid
//! credentials", whatever the reason, so a caller learns nothing about which check failed).

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use tokio::sync::Mutex;

use super::auth::UserTokens;
use crate::error::{Error, Result};
use crate::vault::SecretString;

/// Shortest HS256 secret accepted, in bytes.
pub const MIN_HS256_SECRET_BYTES: usize = 32;
/// Largest JWKS document read, in bytes.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// What every token must carry, and how strictly time is read.
#[derive(Debug, Clone)]
pub struct JwtRules {
    /// The required `iss`.
    pub issuer: String,
    /// The required `aud` (one of the token's audiences).
    pub audience: String,
    /// The claim holding the user id. Default `sub`.
    pub user_claim: String,
    /// Clock skew allowed on `exp` and `nbf`. Default 30 s.
    pub leeway: Duration,
}

impl JwtRules {
    /// `issuer` and `audience` with the defaults; both must be non-empty (fields `issuer`,
    /// `audience`).
    pub fn new(issuer: &str, audience: &str) -> Result<Self> {
        for (field, value) in [("issuer", issuer), ("audience", audience)] {
            if value.trim().is_empty() {
                return Err(Error::invalid(field, "is required to verify user tokens"));
            }
        }
        Ok(Self {
            issuer: issuer.trim().to_owned(),
            audience: audience.trim().to_owned(),
            user_claim: "sub".into(),
            leeway: Duration::from_secs(30),
        })
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        v.leeway = self.leeway.as_secs();
        v.validate_nbf = true;
        v
    }
}

/// How the JWKS is cached.
#[derive(Debug, Clone, Copy)]
pub struct JwksCaching {
    /// How long fetched keys are used before they are read again. Default 10 minutes.
    pub max_age: Duration,
    /// Least time between two reads prompted by unknown key ids (so that tokens naming
    /// random keys cannot make the service hammer the JWKS URL). Default 30 s.
    pub min_refetch_interval: Duration,
    /// Timeout of one read. Default 5 s.
    pub timeout: Duration,
}

impl Default for JwksCaching {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(600),
            min_refetch_interval: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Verifies users' JWTs ([`UserTokens`] for [`super::ApiAuth::with_user_tokens`]).
pub struct JwtUserTokens {
    rules: JwtRules,
    keys: Keys,
}

enum Keys {
    Shared(DecodingKey),
    Jwks(Box<Jwks>),
}

impl fmt::Debug for JwtUserTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = match &self.keys {
            Keys::Shared(_) => "HS256 shared secret".to_owned(),
            Keys::Jwks(jwks) => format!("JWKS {}", jwks.url),
        };
        f.debug_struct("JwtUserTokens")
            .field("issuer", &self.rules.issuer)
            .field("audience", &self.rules.audience)
            .field("keys", &keys)
            .finish()
    }
}

impl JwtUserTokens {
    /// Tokens signed with HS256 and `secret` (at least [`MIN_HS256_SECRET_BYTES`] bytes;
    /// field `userJwtSecret`).
    pub fn hs256(secret: &SecretString, rules: JwtRules) -> Result<Self> {
        let bytes = secret.expose_secret().as_bytes();
        if bytes.len() < MIN_HS256_SECRET_BYTES {
            return Err(Error::invalid(
                "userJwtSecret",
                format!("must be at least {MIN_HS256_SECRET_BYTES} bytes"),
            ));
        }
        Ok(Self {
            rules,
            keys: Keys::Shared(DecodingKey::from_secret(bytes)),
        })
    }

    /// Tokens signed with the RSA or EC keys published at `url` (`https://`, or `http://` on
    /// a loopback address; field `jwksUrl`), read on first use.
    pub fn jwks(url: &str, rules: JwtRules, caching: JwksCaching) -> Result<Self> {
        let parsed = url::Url::parse(url).map_err(|_| Error::invalid("jwksUrl", "is not a URL"))?;
        let loopback = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name == "localhost",
            None => false,
        };
        let allowed = parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback);
        if !allowed {
            return Err(Error::invalid(
                "jwksUrl",
                "must be https:// (http:// only on a loopback address)",
            ));
        }
        let client = crate::https_client::https_client(Some(caching.timeout))
            .map_err(|_| Error::invalid("jwksUrl", "no HTTPS client could be set up"))?;
        Ok(Self {
            rules,
            keys: Keys::Jwks(Box::new(Jwks {
                url: parsed.to_string(),
                client,
                caching,
                cache: Mutex::new(Cache::default()),
            })),
        })
    }

    fn user_in(&self, claims: &serde_json::Value) -> Option<String> {
        claims
            .get(&self.rules.user_claim)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    }
}

#[async_trait]
impl UserTokens for JwtUserTokens {
    async fn user_for(&self, token: &str) -> Result<Option<String>> {
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return Ok(None);
        };
        let claims = match &self.keys {
            Keys::Shared(key) => {
                if header.alg != Algorithm::HS256 {
                    return Ok(None);
                }
                jsonwebtoken::decode::<serde_json::Value>(
                    token,
                    key,
                    &self.rules.validation(Algorithm::HS256),
                )
            }
            Keys::Jwks(jwks) => {
                let Some(kid) = header.kid.as_deref() else {
                    return Ok(None);
                };
                let Some((key, alg)) = jwks.key(kid).await else {
                    return Ok(None);
                };
                if header.alg != alg {
                    return Ok(None);
                }
                jsonwebtoken::decode::<serde_json::Value>(token, &key, &self.rules.validation(alg))
            }
        };
        match claims {
            Ok(data) => Ok(self.user_in(&data.claims)),
            Err(e) => {
                tracing::debug!(error = %e, "a user token was refused");
                Ok(None)
            }
        }
    }
}

/// The keys of a JWKS URL and when they were read.
struct Jwks {
    url: String,
    client: reqwest::Client,
    caching: JwksCaching,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    fetched: Option<Instant>,
}

impl Jwks {
    /// The key named `kid` and its algorithm, reading the JWKS again when the cache is old,
    /// or lacks the key and was not read within the refetch interval.
    async fn key(&self, kid: &str) -> Option<(DecodingKey, Algorithm)> {
        let mut cache = self.cache.lock().await;
        let age = cache.fetched.map(|at| at.elapsed());
        let stale = age.is_none_or(|age| age >= self.caching.max_age);
        let unknown = !cache.keys.contains_key(kid)
            && age.is_none_or(|age| age >= self.caching.min_refetch_interval);
        if stale || unknown {
            match self.fetch().await {
                Ok(keys) => {
                    tracing::debug!(keys = keys.len(), url = %self.url, "read the JWKS");
                    cache.keys = keys;
                    cache.fetched = Some(Instant::now());
                }
                Err(why) => {
                    tracing::warn!(url = %self.url, why, "could not read the JWKS; keeping the keys read before");
                    // Do not retry on every request while it is down.
                    cache.fetched = Some(Instant::now());
                }
            }
        }
        cache.keys.get(kid).cloned()
    }

    async fn fetch(
        &self,
    ) -> std::result::Result<HashMap<String, (DecodingKey, Algorithm)>, String> {
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| format!("request failed: {}", e.without_url()))?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err("the document is too large".into());
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("reading failed: {}", e.without_url()))?;
        if body.len() > MAX_JWKS_BYTES {
            return Err("the document is too large".into());
        }
        let set: JwkSet =
            serde_json::from_slice(&body).map_err(|e| format!("not a JWKS document: {e}"))?;
        Ok(set
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                let alg = signing_algorithm(jwk)?;
                let key = DecodingKey::from_jwk(jwk).ok()?;
                Some((kid, (key, alg)))
            })
            .collect())
    }
}

/// The algorithm a JWKS key verifies: its `alg` when given, else RS256 for RSA keys and
/// ES256 / ES384 for P-256 / P-384 keys. Symmetric and other keys are never used.
fn signing_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    let asymmetric = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        _ => None,
    }?;
    let Some(declared) = jwk.common.key_algorithm else {
        return Some(asymmetric);
    };
    let declared = match declared {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        _ => return None,
    };
    // The declared algorithm must fit the key's type.
    let fits = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            declared,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        _ => declared == asymmetric,
    };
    fits.then_some(declared)
}
