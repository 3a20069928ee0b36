//! Stream-key encryption, overlay access tokens and LiveKit webhook verification.

use std::sync::Arc;

use ltcg_streaming_core::{AesGcmVault, Error, StreamType};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::OrThrow;
use crate::json::{to_js, whole_number};

/// Unix seconds from an optional JavaScript number (fractions are dropped); `None` means now.
fn unix_seconds(now: Option<f64>) -> ltcg_streaming_core::Result<Option<i64>> {
    match now {
        None => Ok(None),
        Some(secs) if secs.is_finite() && secs.abs() < 1e15 => Ok(Some(secs.floor() as i64)),
        Some(_) => Err(Error::invalid(
            "now",
            "must be a finite number of Unix seconds",
        )),
    }
}

/// AES-256-GCM stream-key vault, byte-compatible with the product's Node code:
/// `<iv hex>:<tag hex>:<ciphertext hex>` with a 16-byte IV. Decrypt also accepts 12-byte IVs
/// and tries every previous key, so keys can be rotated with `reencrypt`.
#[derive(Debug)]
#[napi]
pub struct StreamKeyVault {
    pub(crate) inner: Arc<AesGcmVault>,
}

#[napi]
impl StreamKeyVault {
    /// A vault with the current key (64 hex characters, like `STREAM_KEY_ENCRYPTION_KEY`) and
    /// older keys still accepted on decrypt. Throws `INVALID_INPUT` naming `keyHex` or
    /// `previousKeys[i]`; never echoes a key.
    #[napi(constructor)]
    pub fn new(env: &Env, key_hex: String, previous_keys: Option<Vec<String>>) -> Result<Self> {
        AesGcmVault::with_previous_hex(&key_hex, &previous_keys.unwrap_or_default())
            .map(|vault| Self {
                inner: Arc::new(vault),
            })
            .or_throw(env)
    }

    /// Encrypts a stream key under the current key (fresh random IV). Synchronous: it is
    /// about a microsecond of CPU work, cheaper than any Promise.
    #[napi]
    pub fn encrypt(&self, env: &Env, plaintext: String) -> Result<String> {
        self.inner.encrypt_key(&plaintext).or_throw(env)
    }

    /// Decrypts a value made by `encrypt` (or by the product) under the current or a previous
    /// key. Throws `CRYPTO` (wrong key, tampered) or `INVALID_INPUT` (malformed).
    #[napi]
    pub fn decrypt(&self, env: &Env, ciphertext: String) -> Result<String> {
        self.inner
            .decrypt_key(&ciphertext)
            .map(|plain| plain.expose_secret().to_owned())
            .or_throw(env)
    }

    /// Moves a ciphertext to the current key; a value already under it is returned unchanged.
    #[napi]
    pub fn reencrypt(&self, env: &Env, ciphertext: String) -> Result<String> {
        self.inner.reencrypt_key(&ciphertext).or_throw(env)
    }
}

/// Issues and verifies overlay access tokens: HS256 JWTs signed with the UTF-8 bytes of the
/// secret (`STREAMING_JWT_SECRET`), laid out as jose writes them in the product.
#[derive(Debug)]
#[napi]
pub struct OverlayTokens {
    inner: ltcg_streaming_core::OverlayTokens,
}

#[napi]
impl OverlayTokens {
    /// Tokens signed with `secret`, valid for `ttlSeconds` (default 86400).
    #[napi(constructor)]
    pub fn new(env: &Env, secret: String, ttl_seconds: Option<f64>) -> Result<Self> {
        let tokens =
            ltcg_streaming_core::OverlayTokens::new(&secret).and_then(|tokens| match ttl_seconds {
                None => Ok(tokens),
                Some(ttl) => whole_number("ttlSeconds", ttl, i64::MAX as u64)
                    .and_then(|ttl| tokens.with_ttl_secs(ttl)),
            });
        tokens.map(|inner| Self { inner }).or_throw(env)
    }

    /// A token for a session's overlay page, issued at `now` (Unix seconds; default now).
    #[napi(
        ts_args_type = "sessionId: string, streamType: StreamType, entityId: string, now?: number"
    )]
    pub fn issue(
        &self,
        env: &Env,
        session_id: String,
        stream_type: String,
        entity_id: String,
        now: Option<f64>,
    ) -> Result<String> {
        stream_type
            .parse::<StreamType>()
            .and_then(|stream_type| match unix_seconds(now)? {
                Some(at) => self
                    .inner
                    .issue_at(&session_id, stream_type, &entity_id, at),
                None => self.inner.issue(&session_id, stream_type, &entity_id),
            })
            .or_throw(env)
    }

    /// The claims of a valid token, checked at `now` (Unix seconds; default now): HS256,
    /// signature, `exp`, `type: "overlay_access"` and, when given, `sessionId`. Throws
    /// `UNAUTHORIZED` otherwise.
    #[napi(ts_return_type = "OverlayClaims")]
    pub fn verify<'env>(
        &self,
        env: &'env Env,
        token: String,
        session_id: Option<String>,
        now: Option<f64>,
    ) -> Result<Unknown<'env>> {
        let claims = unix_seconds(now)
            .and_then(|now| match now {
                Some(at) => self.inner.verify_at(&token, session_id.as_deref(), at),
                None => self.inner.verify(&token, session_id.as_deref()),
            })
            .or_throw(env)?;
        to_js(env, &claims)
    }
}

/// Verifies LiveKit webhooks for one API key: the `Authorization` JWT (HS256 with the API
/// secret, `iss` = API key, `exp` with leeway) and its `sha256` claim over the raw body.
#[derive(Debug)]
#[napi]
pub struct WebhookVerifier {
    pub(crate) inner: ltcg_streaming_core::WebhookVerifier,
}

#[napi]
impl WebhookVerifier {
    /// A verifier for `apiKey`/`apiSecret` with `leewaySeconds` of clock leeway (default 10).
    #[napi(constructor)]
    pub fn new(
        env: &Env,
        api_key: String,
        api_secret: String,
        leeway_seconds: Option<f64>,
    ) -> Result<Self> {
        let verifier =
            ltcg_streaming_core::WebhookVerifier::new(&api_key, &api_secret).and_then(|v| {
                match leeway_seconds {
                    None => Ok(v),
                    Some(leeway) => whole_number("leewaySeconds", leeway, 3600)
                        .and_then(|leeway| v.with_leeway_secs(leeway)),
                }
            });
        verifier.map(|inner| Self { inner }).or_throw(env)
    }

    /// The event of an authentic webhook: `body` exactly as received (`await req.text()`) and
    /// the `Authorization` header, checked at `now` (Unix seconds; default now). Throws
    /// `UNAUTHORIZED` for forged, tampered or expired webhooks and `INVALID_INPUT` for an
    /// authentic body that is not a LiveKit event.
    #[napi(
        ts_args_type = "body: string | Buffer, authorization: string | null | undefined, now?: number",
        ts_return_type = "EgressEvent"
    )]
    pub fn verify<'env>(
        &self,
        env: &'env Env,
        body: Either<String, Buffer>,
        authorization: Option<String>,
        now: Option<f64>,
    ) -> Result<Unknown<'env>> {
        let body: &[u8] = match &body {
            Either::A(text) => text.as_bytes(),
            Either::B(bytes) => bytes,
        };
        let authorization = authorization.unwrap_or_default();
        let event = unix_seconds(now)
            .and_then(|now| match now {
                Some(at) => self.inner.verify_at(body, &authorization, at),
                None => self.inner.verify(body, &authorization),
            })
            .or_throw(env)?;
        to_js(env, &event)
    }
}
