//! Dashboard logins: a caller who signed in with a key on the login page gets a random
//! login id in an `HttpOnly`, `SameSite=Strict` cookie (`Secure`, and named
//! [`SECURE_COOKIE`] so that no other site can plant it, over HTTPS) and a CSRF token that
//! every state-changing request must echo in `x-csrf-token`. Logins live in this process's
//! memory (a restart signs everyone out) and expire after [`LOGIN_TTL`]; one caller keeps
//! at most [`LOGINS_PER_ACTOR`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::OsRng;
use axum::http::{header, HeaderMap, Method};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::service::Actor;

/// The cookie's name over plain HTTP.
pub const COOKIE: &str = "ltcg_dashboard";
/// The cookie's name over HTTPS: the `__Host-` prefix makes browsers refuse it unless it
/// was set by this host, `Secure`, for `Path=/` and without `Domain`.
pub const SECURE_COOKIE: &str = "__Host-ltcg_dashboard";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a login lasts.
pub const LOGIN_TTL: Duration = Duration::from_secs(12 * 3600);
/// Logins kept at most; when full (after dropping the expired ones), new logins are refused
/// rather than anyone signed out.
const MAX_LOGINS: usize = 10_000;
/// Logins one caller (key) keeps at most; another one ends its oldest.
pub const LOGINS_PER_ACTOR: usize = 16;

/// One signed-in caller.
#[derive(Clone, Debug)]
pub(crate) struct Login {
    /// Who signed in.
    pub(crate) actor: Actor,
    /// The token state-changing requests must carry.
    pub(crate) csrf: String,
    expires: Instant,
}

impl Login {
    /// Development mode's viewer: internal, no cookie, no CSRF token (the API answers
    /// loopback pages without credentials).
    pub(crate) fn development() -> Self {
        Self {
            actor: Actor::Internal,
            csrf: String::new(),
            expires: Instant::now(),
        }
    }

    /// Whether this is [`Login::development`].
    pub(crate) fn is_development(&self) -> bool {
        self.csrf.is_empty()
    }
}

/// The logins of one router, keyed by the SHA-256 of their cookie value (so that a lookup
/// does not compare the secret itself).
#[derive(Debug, Default)]
pub(crate) struct Logins {
    by_hash: Mutex<HashMap<[u8; 32], Login>>,
}

/// 32 random bytes, hex.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn digest(cookie: &str) -> [u8; 32] {
    Sha256::digest(cookie.as_bytes()).into()
}

impl Logins {
    /// Signs `actor` in; returns the cookie value and the login. `RATE_LIMITED` while
    /// [`MAX_LOGINS`] live logins exist.
    pub(crate) fn open(&self, actor: Actor) -> Result<(String, Login)> {
        let cookie = random_token();
        let login = Login {
            actor,
            csrf: random_token(),
            expires: Instant::now() + LOGIN_TTL,
        };
        let mut all = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if all.len() >= MAX_LOGINS {
            all.retain(|_, l| l.expires > now);
        }
        let mut own: Vec<([u8; 32], Instant)> = all
            .iter()
            .filter(|(_, l)| l.actor == login.actor)
            .map(|(k, l)| (*k, l.expires))
            .collect();
        if own.len() >= LOGINS_PER_ACTOR {
            own.sort_by_key(|(_, expires)| *expires);
            for (key, _) in &own[..=own.len() - LOGINS_PER_ACTOR] {
                all.remove(key);
            }
        }
        if all.len() >= MAX_LOGINS {
            return Err(Error::RateLimited {
                limit: format!("at most {MAX_LOGINS} signed-in dashboard logins"),
                retry_after: Duration::from_secs(60),
            });
        }
        all.insert(digest(&cookie), login.clone());
        Ok((cookie, login))
    }

    /// The digest a request's login is kept under, if it has a cookie.
    pub(crate) fn key_of(headers: &HeaderMap) -> Option<[u8; 32]> {
        cookie_value(headers).map(digest)
    }

    /// Whether the login kept under `key` is still live (not signed out, not expired).
    pub(crate) fn is_live(&self, key: &[u8; 32]) -> bool {
        let all = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        all.get(key).is_some_and(|l| l.expires > Instant::now())
    }

    /// The live login a request's cookie names, if any.
    pub(crate) fn find(&self, headers: &HeaderMap) -> Option<Login> {
        let cookie = cookie_value(headers)?;
        let key = digest(cookie);
        let mut all = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        match all.get(&key) {
            Some(login) if login.expires > Instant::now() => Some(login.clone()),
            Some(_) => {
                all.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Signs the request's login out; `true` if there was one.
    pub(crate) fn close(&self, headers: &HeaderMap) -> bool {
        let Some(cookie) = cookie_value(headers) else {
            return false;
        };
        let mut all = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        all.remove(&digest(cookie)).is_some()
    }

    /// The actor of a request that carries a login cookie and no key: `None` without a
    /// live login; `FORBIDDEN` for a state-changing method without the login's CSRF token.
    pub(crate) fn actor_for(&self, method: &Method, headers: &HeaderMap) -> Option<Result<Actor>> {
        let login = self.find(headers)?;
        if is_safe(method) {
            return Some(Ok(login.actor));
        }
        Some(check_csrf(&login, csrf_header(headers)).map(|()| login.actor))
    }
}

/// Methods that change nothing and need no CSRF token.
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The CSRF token a request carries in [`CSRF_HEADER`] (empty without one).
pub(crate) fn csrf_header(headers: &HeaderMap) -> &str {
    headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// `FORBIDDEN` unless `presented` is `login`'s CSRF token.
pub(crate) fn check_csrf(login: &Login, presented: &str) -> Result<()> {
    if bool::from(presented.as_bytes().ct_eq(login.csrf.as_bytes())) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "missing or wrong CSRF token (x-csrf-token); reload the dashboard",
        ))
    }
}

/// The value of our cookie in the request's `Cookie` headers; `None` when there are two
/// (one may have been planted by another site under a narrower path or a parent domain).
fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE || *name == SECURE_COOKIE)
        .map(|(_, value)| value.trim());
    let first = values.next()?;
    (values.next().is_none() && !first.is_empty()).then_some(first)
}

/// Whether the request came over HTTPS (directly, or by a proxy's `X-Forwarded-Proto` or
/// `Forwarded: proto=https`).
pub(crate) fn is_https(headers: &HeaderMap, scheme: Option<&str>) -> bool {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default()
    };
    scheme == Some("https")
        || header("x-forwarded-proto").split(',').next().map(str::trim) == Some("https")
        || header("forwarded").contains("proto=https")
}

/// The `Set-Cookie` value that signs a browser in (`secure` over HTTPS).
pub(crate) fn set_cookie(value: &str, secure: bool) -> String {
    match secure {
        true => format!(
            "{SECURE_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}; Secure",
            LOGIN_TTL.as_secs()
        ),
        false => format!(
            "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
            LOGIN_TTL.as_secs()
        ),
    }
}

/// The `Set-Cookie` value that signs a browser out.
pub(crate) fn clear_cookie(secure: bool) -> String {
    match secure {
        true => format!("{SECURE_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure"),
        false => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_login_is_found_by_its_cookie_among_others() {
        let logins = Logins::default();
        let (cookie, login) = logins.open(Actor::Internal).unwrap();
        let headers = with_cookie(&format!("theme=dark; {COOKIE}={cookie}; other=1"));
        let found = logins.find(&headers).unwrap();
        assert_eq!(found.csrf, login.csrf);
        assert!(logins
            .find(&with_cookie(&format!("{COOKIE}=nope")))
            .is_none());
        let planted = with_cookie(&format!("{COOKIE}=planted; {COOKIE}={cookie}"));
        assert!(
            logins.find(&planted).is_none(),
            "two cookies: neither is trusted"
        );
        let key = Logins::key_of(&headers).unwrap();
        assert!(logins.is_live(&key));
        assert!(logins.close(&headers));
        assert!(logins.find(&headers).is_none(), "signed out");
        assert!(!logins.is_live(&key));
    }

    #[test]
    fn one_caller_keeps_a_bounded_number_of_logins_and_others_keep_theirs() {
        let logins = Logins::default();
        let (other, _) = logins.open(Actor::user("u2").unwrap()).unwrap();
        let first = logins.open(Actor::user("u1").unwrap()).unwrap().0;
        for _ in 0..LOGINS_PER_ACTOR {
            logins.open(Actor::user("u1").unwrap()).unwrap();
        }
        assert!(
            logins
                .find(&with_cookie(&format!("{COOKIE}={first}")))
                .is_none(),
            "oldest ended"
        );
        assert!(
            logins
                .find(&with_cookie(&format!("{COOKIE}={other}")))
                .is_some(),
            "u2 kept"
        );
        let all = logins.by_hash.lock().unwrap();
        assert_eq!(all.len(), LOGINS_PER_ACTOR + 1);
    }

    #[test]
    fn state_changes_need_the_csrf_token_and_reads_do_not() {
        let logins = Logins::default();
        let (cookie, login) = logins.open(Actor::user("u1").unwrap()).unwrap();
        let mut headers = with_cookie(&format!("{COOKIE}={cookie}"));
        assert!(matches!(
            logins.actor_for(&Method::GET, &headers),
            Some(Ok(_))
        ));
        let refused = logins.actor_for(&Method::POST, &headers).unwrap();
        assert_eq!(refused.unwrap_err().code(), crate::ErrorCode::Forbidden);
        headers.insert(CSRF_HEADER, HeaderValue::from_str("wrong").unwrap());
        assert!(logins
            .actor_for(&Method::DELETE, &headers)
            .unwrap()
            .is_err());
        headers.insert(CSRF_HEADER, HeaderValue::from_str(&login.csrf).unwrap());
        let actor = logins.actor_for(&Method::POST, &headers).unwrap().unwrap();
        assert_eq!(actor, Actor::user("u1").unwrap());
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_https() {
        let plain = set_cookie("abc", false);
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(!plain.contains("Secure"));
        let secure = set_cookie("abc", true);
        assert!(
            secure.starts_with("__Host-ltcg_dashboard=abc; Path=/;")
                && secure.ends_with("; Secure")
        );
        let mut headers = HeaderMap::new();
        assert!(!is_https(&headers, None));
        assert!(is_https(&headers, Some("https")));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(is_https(&headers, None));
    }
}
