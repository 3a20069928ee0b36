//! Per-destination state of a session (simulcast outputs), kept by our own ids.

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::OsRng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::platform::Platform;

/// State of one output of a session's egress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DestinationStatus {
    /// Being streamed to.
    Active,
    /// The egress refused or lost it.
    Failed,
    /// Removed on request.
    Removed,
}

/// One RTMP output of a session.
///
/// The full URL (with the stream key) is kept only encrypted, so the output can be removed
/// later; LiveKit reports outputs by redacted URL, so we never match on URLs, only on `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    /// Our id, `dst_` + 16 hex characters.
    pub id: String,
    /// The platform.
    pub platform: Platform,
    /// The ingest URL with its key redacted, safe to show.
    pub redacted_url: String,
    /// The full URL, encrypted by the key vault (never shown).
    pub encrypted_url: String,
    /// Output state.
    pub status: DestinationStatus,
    /// Whether this is the session's primary destination (from the start request).
    #[serde(default)]
    pub primary: bool,
    /// Added, Unix ms.
    pub added_at: i64,
    /// Removed, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at: Option<i64>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl Destination {
    /// A fresh random destination id.
    pub fn generate_id() -> String {
        let mut bytes = [0u8; 8];
        OsRng.fill_bytes(&mut bytes);
        format!("dst_{}", hex::encode(bytes))
    }
}
