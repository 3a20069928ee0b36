//! An OAuth app access token (client credentials grant), cached until a minute before it
//! expires. There is no refresh token: a stale token is replaced by a new grant.

use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::http::PlatformHttp;
use super::PlatformFailure;
use crate::vault::SecretString;

/// A cached token is renewed this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

struct Cached {
    value: SecretString,
    renew_at: Instant,
}

#[derive(Deserialize)]
struct Grant {
    access_token: String,
    expires_in: u64,
}

/// The app token of one platform application.
pub(super) struct AppToken {
    token_url: String,
    client_id: String,
    client_secret: SecretString,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

impl AppToken {
    pub(super) fn new(token_url: String, client_id: String, client_secret: SecretString) -> Self {
        Self {
            token_url,
            client_id,
            client_secret,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// The cached token, or a new grant (`fresh`: always a new grant).
    pub(super) async fn get(
        &self,
        http: &PlatformHttp,
        fresh: bool,
    ) -> Result<SecretString, PlatformFailure> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached
            .as_ref()
            .filter(|t| !fresh && Instant::now() < t.renew_at)
        {
            return Ok(token.value.clone());
        }
        let form = serde_urlencoded::to_string([
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("grant_type", "client_credentials"),
        ])
        .map_err(|_| http.malformed("the token request could not be encoded"))?;
        let answer = http
            .send(
                http.client
                    .post(&self.token_url)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form),
            )
            .await?;
        http.check(&answer)?;
        let grant: Grant = serde_json::from_slice(&answer.body)
            .map_err(|_| http.malformed("the token answer has no access_token and expires_in"))?;
        let value = SecretString::from(grant.access_token);
        *cached = Some(Cached {
            value: value.clone(),
            renew_at: Instant::now()
                + Duration::from_secs(grant.expires_in).saturating_sub(TOKEN_MARGIN),
        });
        Ok(value)
    }

    /// `GET url` with the token as `Authorization: Bearer` (and `Client-Id` when
    /// `with_client_id`), read as JSON `T`: a 401 fetches one new token and tries once more.
    /// `shape` names the expected answer in a malformed-answer failure.
    pub(super) async fn get_json<T: DeserializeOwned>(
        &self,
        http: &PlatformHttp,
        url: &str,
        with_client_id: bool,
        shape: &str,
    ) -> Result<T, PlatformFailure> {
        let mut fresh = false;
        loop {
            let token = self.get(http, fresh).await?;
            let mut request = http
                .client
                .get(url)
                .header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()));
            if with_client_id {
                request = request.header("Client-Id", &self.client_id);
            }
            let answer = http.send(request).await?;
            if answer.status == StatusCode::UNAUTHORIZED && !fresh {
                // Expired or revoked: one new token, one more try.
                fresh = true;
                continue;
            }
            http.check(&answer)?;
            return serde_json::from_slice(&answer.body)
                .map_err(|_| http.malformed(&format!("the answer is not {shape}")));
        }
    }
}
