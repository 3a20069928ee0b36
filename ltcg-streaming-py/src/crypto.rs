//! The stream-key vault, overlay tokens and webhook verification. Their reprs never show a
//! key or secret.

use std::sync::Arc;

use ltcg_streaming_core::{AesGcmVault, OverlayTokens, StreamType, WebhookVerifier};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::convert::json;
use crate::errors::OrRaise;

/// AES-256-GCM stream-key encryption in the product's `<iv>:<tag>:<ciphertext>` format.
#[pyclass(name = "StreamKeyVault", module = "ltcg_streaming", frozen)]
pub(crate) struct PyStreamKeyVault {
    pub(crate) vault: Arc<AesGcmVault>,
    previous_keys: usize,
}

#[pymethods]
impl PyStreamKeyVault {
    #[new]
    #[pyo3(signature = (key_hex, previous_keys=None))]
    fn new(key_hex: &str, previous_keys: Option<Vec<String>>) -> PyResult<Self> {
        let previous = previous_keys.unwrap_or_default();
        Ok(Self {
            vault: Arc::new(AesGcmVault::with_previous_hex(key_hex, &previous).or_raise()?),
            previous_keys: previous.len(),
        })
    }

    /// Encrypts a stream key under the current key.
    fn encrypt(&self, plaintext: &str) -> PyResult<String> {
        self.vault.encrypt_key(plaintext).or_raise()
    }

    /// Decrypts a value made by `encrypt` (or the product) under any key of the ring.
    fn decrypt(&self, ciphertext: &str) -> PyResult<String> {
        Ok(self
            .vault
            .decrypt_key(ciphertext)
            .or_raise()?
            .expose_secret()
            .to_owned())
    }

    /// Moves a value to the current key (unchanged when it already is under it).
    fn reencrypt(&self, ciphertext: &str) -> PyResult<String> {
        self.vault.reencrypt_key(ciphertext).or_raise()
    }

    fn __repr__(&self) -> String {
        format!("StreamKeyVault(previous_keys={})", self.previous_keys)
    }
}

/// Issues and verifies overlay access tokens (HS256 JWTs).
#[pyclass(name = "OverlayTokens", module = "ltcg_streaming", frozen)]
pub(crate) struct PyOverlayTokens {
    tokens: OverlayTokens,
}

#[pymethods]
impl PyOverlayTokens {
    #[new]
    #[pyo3(signature = (secret, ttl_seconds=86_400))]
    fn new(secret: &str, ttl_seconds: u64) -> PyResult<Self> {
        let tokens = OverlayTokens::new(secret)
            .and_then(|t| t.with_ttl_secs(ttl_seconds))
            .or_raise()?;
        Ok(Self { tokens })
    }

    /// Lifetime of issued tokens, in seconds.
    #[getter]
    fn ttl_seconds(&self) -> u64 {
        self.tokens.ttl_secs()
    }

    /// A token for a session, issued at `now` (Unix seconds; default: the current time).
    #[pyo3(signature = (session_id, stream_type, entity_id, now=None))]
    fn issue(
        &self,
        session_id: &str,
        stream_type: &str,
        entity_id: &str,
        now: Option<i64>,
    ) -> PyResult<String> {
        let stream_type: StreamType = stream_type.parse().or_raise()?;
        match now {
            Some(now) => self
                .tokens
                .issue_at(session_id, stream_type, entity_id, now),
            None => self.tokens.issue(session_id, stream_type, entity_id),
        }
        .or_raise()
    }

    /// The claims of a valid token (for `session_id` when given), checked at `now`.
    #[pyo3(signature = (token, session_id=None, now=None))]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        token: &str,
        session_id: Option<&str>,
        now: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let claims = match now {
            Some(now) => self.tokens.verify_at(token, session_id, now),
            None => self.tokens.verify(token, session_id),
        };
        json(py, &claims.or_raise()?)
    }

    fn __repr__(&self) -> String {
        format!("OverlayTokens(ttl_seconds={})", self.tokens.ttl_secs())
    }
}

/// Verifies LiveKit webhooks signed with one API key and secret.
#[pyclass(name = "WebhookVerifier", module = "ltcg_streaming", frozen)]
pub(crate) struct PyWebhookVerifier {
    pub(crate) verifier: WebhookVerifier,
    api_key: String,
    leeway_seconds: u64,
}

#[pymethods]
impl PyWebhookVerifier {
    #[new]
    #[pyo3(signature = (api_key, api_secret, leeway_seconds=10))]
    fn new(api_key: &str, api_secret: &str, leeway_seconds: u64) -> PyResult<Self> {
        let verifier = WebhookVerifier::new(api_key, api_secret)
            .and_then(|v| v.with_leeway_secs(leeway_seconds))
            .or_raise()?;
        Ok(Self {
            verifier,
            api_key: api_key.trim().to_owned(),
            leeway_seconds,
        })
    }

    /// The event of an authentic webhook: `body` exactly as received and its
    /// `Authorization` header, checked at `now` (Unix seconds; default: the current time).
    #[pyo3(signature = (body, authorization, now=None))]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        body: &Bound<'py, PyAny>,
        authorization: &str,
        now: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let body = body_bytes(body)?;
        let event = match now {
            Some(now) => self.verifier.verify_at(&body, authorization, now),
            None => self.verifier.verify(&body, authorization),
        };
        json(py, &event.or_raise()?)
    }

    fn __repr__(&self) -> String {
        format!(
            "WebhookVerifier(api_key='{}', leeway_seconds={})",
            self.api_key, self.leeway_seconds
        )
    }
}

/// A webhook body given as `bytes` or `str`.
pub(crate) fn body_bytes(body: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(bytes) = body.cast::<PyBytes>() {
        return Ok(bytes.as_bytes().to_vec());
    }
    if let Ok(text) = body.cast::<PyString>() {
        return Ok(text.to_cow()?.as_bytes().to_vec());
    }
    Err(PyTypeError::new_err(
        "the webhook body must be bytes or str",
    ))
}
