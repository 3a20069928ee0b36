//! Objects: the stream-key vault, overlay tokens and the webhook verifier.

use std::sync::Arc;

use ltcg_streaming_core as core;

use crate::error::Result;
use crate::functions::{EgressEvent, OverlayClaims};

/// AES-256-GCM stream-key vault, byte-compatible with the product's Node code
/// (`<iv hex>:<tag hex>:<ciphertext hex>`, 16-byte IV); decrypt also tries previous keys.
#[derive(Debug, uniffi::Object)]
pub struct StreamKeyVault {
    inner: core::AesGcmVault,
}

#[uniffi::export]
impl StreamKeyVault {
    /// A vault with the current key (64 hex characters) and older keys still accepted on
    /// decrypt. `INVALID_INPUT` names `keyHex` or `previousKeys[i]`; a key is never echoed.
    #[uniffi::constructor]
    pub fn new(key_hex: String, previous_keys: Vec<String>) -> Result<Arc<Self>> {
        let inner = core::AesGcmVault::with_previous_hex(&key_hex, &previous_keys)?;
        Ok(Arc::new(Self { inner }))
    }

    /// Encrypts a stream key under the current key (fresh random IV).
    pub fn encrypt(&self, plaintext: String) -> Result<String> {
        Ok(self.inner.encrypt_key(&plaintext)?)
    }

    /// Decrypts a value made by `encrypt` (or the product) with the current or a previous key.
    pub fn decrypt(&self, ciphertext: String) -> Result<String> {
        Ok(self
            .inner
            .decrypt_key(&ciphertext)?
            .expose_secret()
            .to_owned())
    }

    /// Moves a ciphertext to the current key; one already under it is returned unchanged.
    pub fn reencrypt(&self, ciphertext: String) -> Result<String> {
        Ok(self.inner.reencrypt_key(&ciphertext)?)
    }
}

/// Issues and verifies overlay access tokens (HS256 JWTs, byte-identical to the product's
/// jose tokens).
#[derive(Debug, uniffi::Object)]
pub struct OverlayTokens {
    inner: core::OverlayTokens,
}

#[uniffi::export]
impl OverlayTokens {
    /// Tokens signed with the UTF-8 bytes of `secret`, valid for `ttl_seconds` (default
    /// 86400).
    #[uniffi::constructor(default(ttl_seconds = None))]
    pub fn new(secret: String, ttl_seconds: Option<u64>) -> Result<Arc<Self>> {
        let mut inner = core::OverlayTokens::new(&secret)?;
        if let Some(ttl) = ttl_seconds {
            inner = inner.with_ttl_secs(ttl)?;
        }
        Ok(Arc::new(Self { inner }))
    }

    /// A token for a session's overlay page; `stream_type` is `user` or `agent`; issued at
    /// `now` (Unix seconds; default: the current time).
    #[uniffi::method(default(now = None))]
    pub fn issue(
        &self,
        session_id: String,
        stream_type: String,
        entity_id: String,
        now: Option<i64>,
    ) -> Result<String> {
        let stream_type: core::StreamType = stream_type.parse()?;
        Ok(match now {
            Some(at) => self
                .inner
                .issue_at(&session_id, stream_type, &entity_id, at)?,
            None => self.inner.issue(&session_id, stream_type, &entity_id)?,
        })
    }

    /// The claims of a valid token (for `session_id` when given), checked at `now`;
    /// `UNAUTHORIZED` otherwise.
    #[uniffi::method(default(session_id = None, now = None))]
    pub fn verify(
        &self,
        token: String,
        session_id: Option<String>,
        now: Option<i64>,
    ) -> Result<OverlayClaims> {
        let claims = match now {
            Some(at) => self.inner.verify_at(&token, session_id.as_deref(), at)?,
            None => self.inner.verify(&token, session_id.as_deref())?,
        };
        Ok(claims.into())
    }
}

/// Verifies LiveKit webhooks for one API key: the `Authorization` JWT (HS256, `iss` = API
/// key, `exp` with leeway) and its `sha256` claim over the raw body.
#[derive(Debug, uniffi::Object)]
pub struct WebhookVerifier {
    inner: core::WebhookVerifier,
}

#[uniffi::export]
impl WebhookVerifier {
    /// A verifier for `api_key`/`api_secret` with `leeway_seconds` of clock leeway
    /// (default 10).
    #[uniffi::constructor(default(leeway_seconds = None))]
    pub fn new(
        api_key: String,
        api_secret: String,
        leeway_seconds: Option<u64>,
    ) -> Result<Arc<Self>> {
        let mut inner = core::WebhookVerifier::new(&api_key, &api_secret)?;
        if let Some(leeway) = leeway_seconds {
            inner = inner.with_leeway_secs(leeway)?;
        }
        Ok(Arc::new(Self { inner }))
    }

    /// The event of an authentic webhook: `body` exactly as received and the
    /// `Authorization` header, checked at `now` (Unix seconds; default: the current time).
    #[uniffi::method(default(now = None))]
    pub fn verify(
        &self,
        body: Vec<u8>,
        authorization: String,
        now: Option<i64>,
    ) -> Result<EgressEvent> {
        let event = match now {
            Some(at) => self.inner.verify_at(&body, &authorization, at)?,
            None => self.inner.verify(&body, &authorization)?,
        };
        Ok(event.into())
    }
}
