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
    /// Marks the one active destination whose redacted URL is `redacted_url` failed, with
    /// `error` (an egress reports its outputs by redacted URL). `false`, changing nothing,
    /// when none or several match: several outputs to one ingest with keys that redact
    /// alike cannot be told apart.
    pub fn fail_by_output(
        destinations: &mut [Destination],
        redacted_url: &str,
        error: Option<&str>,
    ) -> bool {
        let mut matching = destinations
            .iter_mut()
            .filter(|d| d.status == DestinationStatus::Active && d.redacted_url == redacted_url);
        let (Some(only), None) = (matching.next(), matching.next()) else {
            return false;
        };
        only.status = DestinationStatus::Failed;
        only.error_message = Some(
            error
                .map(crate::redact::redact_urls_in_text)
                .unwrap_or_else(|| "the egress reported this output failed".into()),
        );
        true
    }

    /// A fresh random destination id.
    pub fn generate_id() -> String {
        let mut bytes = [0u8; 8];
        OsRng.fill_bytes(&mut bytes);
        format!("dst_{}", hex::encode(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination(url: &str) -> Destination {
        Destination {
            id: Destination::generate_id(),
            platform: Platform::Custom,
            redacted_url: url.into(),
            encrypted_url: "enc".into(),
            status: DestinationStatus::Active,
            primary: false,
            added_at: 0,
            removed_at: None,
            error_message: None,
        }
    }

    #[test]
    fn a_failed_output_fails_only_its_own_destination() {
        let mut list = vec![
            destination("rtmp://a.example/live/{k1...23}"),
            destination("rtmp://b.example/live/{k4...56}"),
        ];
        assert!(Destination::fail_by_output(
            &mut list,
            "rtmp://b.example/live/{k4...56}",
            Some("the destination is unreachable")
        ));
        assert_eq!(list[0].status, DestinationStatus::Active);
        assert_eq!(list[1].status, DestinationStatus::Failed);
        assert_eq!(
            list[1].error_message.as_deref(),
            Some("the destination is unreachable")
        );
        // Already failed, unknown, or ambiguous: nothing changes.
        assert!(!Destination::fail_by_output(
            &mut list,
            "rtmp://b.example/live/{k4...56}",
            None
        ));
        assert!(!Destination::fail_by_output(
            &mut list,
            "rtmp://c.example/live/{x...y}",
            None
        ));
        let mut twins = vec![
            destination("rtmp://a/live/{k...1}"),
            destination("rtmp://a/live/{k...1}"),
        ];
        assert!(!Destination::fail_by_output(
            &mut twins,
            "rtmp://a/live/{k...1}",
            None
        ));
        assert!(twins.iter().all(|d| d.status == DestinationStatus::Active));
    }
}
