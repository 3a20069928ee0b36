//! Per-destination state of a session (simulcast outputs), kept by our own ids.

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::OsRng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::platform::Platform;

/// State of one output of a session's egress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DestinationStatus {
    /// Being streamed to.
    Active,
    /// The egress refused or lost it.
    Failed,
    /// Removed on request.
    Removed,
}

impl DestinationStatus {
    /// Every status.
    pub const ALL: [DestinationStatus; 3] = [Self::Active, Self::Failed, Self::Removed];

    /// `"active"`, `"failed"` or `"removed"`, as serialized.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Failed => "failed",
            Self::Removed => "removed",
        }
    }
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
    /// The channel on the platform, for its viewer count (see [`Destination::channel_for`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// What the platform itself says is wrong while the egress streams (e.g. the channel
    /// is not live there); cleared when it no longer says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The platform's own preview image of the channel while it is live (an `https` URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<String>,
    /// A platform access token this output was set up with (Retake), encrypted by the key
    /// vault, to signal the platform again on stop and to read its viewers (never shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_access_token: Option<String>,
}

/// Longest channel reference accepted.
const MAX_CHANNEL_LEN: usize = 64;

impl Destination {
    /// Checks the channel a destination's viewers are counted on: a Twitch login (4–25 of
    /// `a-z 0-9 _`, lower-cased), a YouTube video id (11 of `A-Z a-z 0-9 _ -`), or a Kick
    /// slug (1–64 of `a-z 0-9 _ -`, lower-cased). Other platforms have no channel. The error
    /// names `field`.
    pub fn channel_for(
        field: &str,
        platform: Platform,
        channel: &str,
    ) -> crate::error::Result<String> {
        use crate::error::Error;
        let c = channel.trim();
        let ok = |len: std::ops::RangeInclusive<usize>, allowed: fn(u8) -> bool| {
            len.contains(&c.len()) && c.bytes().all(allowed)
        };
        let lower = c.to_ascii_lowercase();
        match platform {
            Platform::Twitch if ok(4..=25, |b| b.is_ascii_alphanumeric() || b == b'_') => Ok(lower),
            Platform::Twitch => Err(Error::invalid(
                field,
                "must be a Twitch login: 4-25 letters, digits or _",
            )),
            Platform::Youtube
                if ok(11..=11, |b| {
                    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
                }) =>
            {
                Ok(c.to_owned())
            }
            Platform::Youtube => Err(Error::invalid(
                field,
                "must be a YouTube video id: 11 letters, digits, _ or -",
            )),
            Platform::Kick
                if ok(1..=MAX_CHANNEL_LEN, |b| {
                    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
                }) =>
            {
                Ok(lower)
            }
            Platform::Kick => Err(Error::invalid(
                field,
                "must be a Kick channel slug: letters, digits, _ or -",
            )),
            other => Err(Error::invalid(
                field,
                format!("viewer counts are not read from {other}"),
            )),
        }
    }

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
            channel: None,
            warning: None,
            preview_url: None,
            encrypted_access_token: None,
        }
    }

    #[test]
    fn channels_are_checked_per_platform() {
        assert_eq!(
            Destination::channel_for("c", Platform::Twitch, " BlazeMaster ").unwrap(),
            "blazemaster"
        );
        assert_eq!(
            Destination::channel_for("c", Platform::Youtube, "dQw4w9WgXcQ").unwrap(),
            "dQw4w9WgXcQ"
        );
        assert_eq!(
            Destination::channel_for("c", Platform::Kick, "Blaze-1").unwrap(),
            "blaze-1"
        );
        for (platform, bad) in [
            (Platform::Twitch, "ab"),
            (Platform::Twitch, "has space"),
            (Platform::Youtube, "short"),
            (Platform::Kick, "a/b"),
            (Platform::Custom, "anything"),
        ] {
            let err =
                Destination::channel_for("destinations[0].channel", platform, bad).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("invalid destinations[0].channel:"),
                "{err}"
            );
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
