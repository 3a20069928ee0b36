//! Streaming platforms and RTMP(S) ingest URLs. Their redaction lives in [`crate::redact`];
//! [`redact_url`], [`redact_identifier`] and [`redact_urls_in_text`] are re-exported here.
//!
//! [`build_rtmp_url`] joins a platform's ingest base (or a validated custom URL) with a
//! stream key. The result is an [`RtmpUrl`], which holds a secret: its `Debug` and `Display`
//! show the LiveKit-style redacted form (`rtmps://live.twitch.tv/app/{liv...nop}`).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::redact::split_rtmp_scheme;
pub use crate::redact::{redact_identifier, redact_url, redact_urls_in_text};
use crate::vault::SecretString;

/// Longest stream key accepted, in bytes.
pub const MAX_STREAM_KEY_BYTES: usize = 512;
/// Longest custom ingest URL accepted, in bytes.
pub const MAX_RTMP_URL_BYTES: usize = 2048;

/// A streaming destination platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Platform {
    /// Twitch (`rtmps://live.twitch.tv/app`).
    Twitch,
    /// YouTube Live (`rtmps://a.rtmps.youtube.com:443/live2`).
    Youtube,
    /// Kick (Amazon IVS ingest).
    Kick,
    /// Facebook Live (`rtmps://live-api-s.facebook.com:443/rtmp`).
    Facebook,
    /// Any RTMP(S) server; needs a custom URL.
    Custom,
    /// Retake.tv; needs a custom URL.
    Retake,
    /// X (Twitter); needs a custom URL.
    X,
    /// pump.fun; needs a custom URL.
    Pumpfun,
}

impl Platform {
    /// Every platform.
    pub const ALL: [Platform; 8] = [
        Platform::Twitch,
        Platform::Youtube,
        Platform::Kick,
        Platform::Facebook,
        Platform::Custom,
        Platform::Retake,
        Platform::X,
        Platform::Pumpfun,
    ];

    /// The wire name, e.g. `"twitch"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Platform::Twitch => "twitch",
            Platform::Youtube => "youtube",
            Platform::Kick => "kick",
            Platform::Facebook => "facebook",
            Platform::Custom => "custom",
            Platform::Retake => "retake",
            Platform::X => "x",
            Platform::Pumpfun => "pumpfun",
        }
    }

    /// The platform's RTMPS ingest base, if it has a fixed one.
    pub const fn default_ingest(self) -> Option<&'static str> {
        match self {
            Platform::Twitch => Some("rtmps://live.twitch.tv/app"),
            Platform::Youtube => Some("rtmps://a.rtmps.youtube.com:443/live2"),
            Platform::Kick => Some("rtmps://fa723fc1b171.global-contribute.live-video.net:443/app"),
            Platform::Facebook => Some("rtmps://live-api-s.facebook.com:443/rtmp"),
            Platform::Custom | Platform::Retake | Platform::X | Platform::Pumpfun => None,
        }
    }

    /// Whether a custom ingest URL is required (no default ingest).
    pub const fn requires_custom_url(self) -> bool {
        self.default_ingest().is_none()
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = Error;

    /// Parses a wire name (surrounding whitespace and ASCII case ignored).
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim();
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                Error::invalid(
                    "platform",
                    "unsupported platform; expected one of twitch, youtube, kick, facebook, \
                     custom, retake, x, pumpfun",
                )
            })
    }
}

impl Serialize for Platform {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Platform {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One of the wire names of [`Platform::ALL`].
impl JsonSchema for Platform {
    fn schema_name() -> Cow<'static, str> {
        "Platform".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A streaming platform. `custom`, `retake`, `x` and `pumpfun` need a custom ingest URL.",
            "type": "string",
            "enum": Platform::ALL.map(Platform::as_str),
        })
    }
}

/// A complete RTMP(S) URL including the stream key: a secret.
///
/// `Debug` and `Display` show [`RtmpUrl::redacted`]; read the real URL with
/// [`RtmpUrl::expose_secret`] only to hand it to the egress.
#[derive(Clone, PartialEq, Eq)]
pub struct RtmpUrl {
    full: SecretString,
    redacted: String,
}

impl RtmpUrl {
    /// The full URL, key included. Do not log it.
    pub fn expose_secret(&self) -> &str {
        self.full.expose_secret()
    }

    /// The LiveKit-style redacted URL, safe for logs and responses.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// The full URL as a [`SecretString`].
    pub fn into_secret(self) -> SecretString {
        self.full
    }

    /// The same output as a test stream that no viewer sees, for a dry run: Twitch's
    /// `bandwidthtest=true` query on the stream key. Other platforms have no test mode:
    /// `INVALID_INPUT` naming `dryRun`.
    ///
    /// ```
    /// use ltcg_streaming_core::{build_rtmp_url, Platform};
    /// let url = build_rtmp_url(Platform::Twitch, "live_123456789_abcdefghijklmnop", None)?;
    /// let test = url.dry_run(Platform::Twitch)?;
    /// assert_eq!(test.expose_secret(), "rtmps://live.twitch.tv/app/live_123456789_abcdefghijklmnop?bandwidthtest=true");
    /// assert!(url.dry_run(Platform::Kick).is_err());
    /// # Ok::<(), ltcg_streaming_core::Error>(())
    /// ```
    pub fn dry_run(&self, platform: Platform) -> Result<RtmpUrl> {
        if platform != Platform::Twitch {
            return Err(Error::invalid(
                "dryRun",
                format!("{platform} has no test mode: only twitch outputs can be dry runs"),
            ));
        }
        let full = self.full.expose_secret();
        let sep = if full.contains('?') { '&' } else { '?' };
        let full = format!("{full}{sep}{DRY_RUN_QUERY}");
        Ok(RtmpUrl {
            redacted: redact_url(&full),
            full: SecretString::new(full),
        })
    }
}

/// What Twitch reads, on the stream key, as "a bandwidth test that viewers do not see".
const DRY_RUN_QUERY: &str = "bandwidthtest=true";

impl fmt::Debug for RtmpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RtmpUrl").field(&self.redacted).finish()
    }
}

impl fmt::Display for RtmpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

/// An ingest URL as a caller or a stored credential gives it. It may embed a stream key, so
/// `Debug` shows it redacted ([`redact_url`]); JSON carries it unchanged.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IngestUrl(String);

impl IngestUrl {
    /// Wraps `url` (validated later, by [`build_rtmp_url`] or [`validate_ingest_url`]).
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }
}

impl std::ops::Deref for IngestUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for IngestUrl {
    fn from(url: &str) -> Self {
        Self::new(url)
    }
}

impl From<String> for IngestUrl {
    fn from(url: String) -> Self {
        Self(url)
    }
}

/// A plain string, inlined where it is used.
impl JsonSchema for IngestUrl {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "IngestUrl".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        String::json_schema(generator)
    }
}

impl fmt::Debug for IngestUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IngestUrl")
            .field(&redact_url(&self.0))
            .finish()
    }
}

/// Builds the ingest URL for `platform` with `stream_key`.
///
/// - The key is trimmed and must be 1–512 bytes of printable ASCII without `/`, `?` or `#`.
/// - `custom_rtmp_url` (trimmed; empty counts as absent) is required for `custom`, `retake`,
///   `x` and `pumpfun`, and overrides the default ingest of the others. It must be
///   `rtmp://` or `rtmps://` (any case; written lower-case), have a host, no user info, no
///   whitespace or control characters, and an application path segment; trailing `/` are
///   removed.
/// - The key is appended as the last path segment (before any query) unless it already is
///   the last segment after an application segment.
///
/// Errors name the field (`streamKey` or `customRtmpUrl`) and never contain the key or URL.
///
/// ```
/// use ltcg_streaming_core::{build_rtmp_url, Platform};
/// let url = build_rtmp_url(Platform::Twitch, "live_123456789_abcdefghijklmnop", None)?;
/// assert_eq!(url.expose_secret(), "rtmps://live.twitch.tv/app/live_123456789_abcdefghijklmnop");
/// assert_eq!(url.to_string(), "rtmps://live.twitch.tv/app/{liv...nop}");
/// # Ok::<(), ltcg_streaming_core::Error>(())
/// ```
pub fn build_rtmp_url(
    platform: Platform,
    stream_key: &str,
    custom_rtmp_url: Option<&str>,
) -> Result<RtmpUrl> {
    let key = validate_stream_key(stream_key)?;
    let custom = custom_rtmp_url.map(str::trim).filter(|s| !s.is_empty());
    let base: Cow<'_, str> = match (custom, platform.default_ingest()) {
        (Some(url), _) => Cow::Owned(validate_ingest_url(url)?),
        (None, Some(default)) => Cow::Borrowed(default),
        (None, None) => {
            return Err(Error::invalid(
                "customRtmpUrl",
                format!("is required for the {platform} platform"),
            ))
        }
    };
    let full = with_stream_key(&base, key);
    let redacted = redact_url(&full);
    Ok(RtmpUrl {
        full: SecretString::new(full),
        redacted,
    })
}

/// Trims and checks a stream key; the error names `streamKey` and never shows the key.
pub fn validate_stream_key(stream_key: &str) -> Result<&str> {
    const FIELD: &str = "streamKey";
    let key = stream_key.trim();
    if key.is_empty() {
        return Err(Error::invalid(FIELD, "is required"));
    }
    if key.len() > MAX_STREAM_KEY_BYTES {
        return Err(Error::invalid(
            FIELD,
            format!("must be at most {MAX_STREAM_KEY_BYTES} bytes"),
        ));
    }
    let allowed = |b: u8| b.is_ascii_graphic() && !matches!(b, b'/' | b'?' | b'#');
    if !key.bytes().all(allowed) {
        return Err(Error::invalid(
            FIELD,
            "must contain only printable ASCII characters, without whitespace, '/', '?' or '#'",
        ));
    }
    Ok(key)
}

/// Validates a custom ingest URL and returns it normalized (lower-case scheme, no trailing
/// `/`). The error names `customRtmpUrl` and never shows the URL.
pub fn validate_ingest_url(url: &str) -> Result<String> {
    const FIELD: &str = "customRtmpUrl";
    let bad = |reason: &str| Error::invalid(FIELD, reason);
    let url = url.trim();
    if url.len() > MAX_RTMP_URL_BYTES {
        return Err(Error::invalid(
            FIELD,
            format!("must be at most {MAX_RTMP_URL_BYTES} bytes"),
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("must not contain whitespace or control characters"));
    }
    let (scheme, rest) =
        split_rtmp_scheme(url).ok_or_else(|| bad("must start with rtmp:// or rtmps://"))?;
    let rest = rest.trim_end_matches('/');
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Err(bad("must not contain user credentials"));
    }
    parse_authority(authority).map_err(bad)?;
    let path = after.split(['?', '#']).next().unwrap_or_default();
    if !path.split('/').any(|segment| !segment.is_empty()) {
        return Err(bad(
            "must include an application path segment, e.g. rtmp://host/live",
        ));
    }
    Ok(format!("{scheme}://{rest}"))
}

/// Where an RTMP(S) URL connects to: its host and port, for the destination policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestEndpoint {
    /// The host as written, lower-cased: a DNS name or an IP literal (IPv6 without brackets).
    pub host: String,
    /// The port, or the scheme's default (1935 for `rtmp`, 443 for `rtmps`).
    pub port: u16,
    /// Whether the scheme is `rtmps`.
    pub tls: bool,
}

/// The endpoint of a well-formed RTMP(S) URL (as [`validate_ingest_url`] accepts), or `None`.
/// The URL may carry a stream key; nothing of it is kept but host and port.
pub fn ingest_endpoint(url: &str) -> Option<IngestEndpoint> {
    let (scheme, rest) = split_rtmp_scheme(url.trim())?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return None;
    }
    let (host, port) = parse_authority(authority).ok()?;
    let tls = scheme.eq_ignore_ascii_case("rtmps");
    Some(IngestEndpoint {
        host: host.to_ascii_lowercase(),
        port: port.unwrap_or(if tls { 443 } else { 1935 }),
        tls,
    })
}

/// Splits and checks `host[:port]` (or `[v6]:port`): the host is an IPv6 address in
/// brackets or a DNS name (or IPv4 literal) of 1–63 character labels of letters, digits,
/// `-` and `_`, not starting or ending with `-`, at most 253 characters, one trailing `.`
/// allowed.
fn parse_authority(authority: &str) -> std::result::Result<(&str, Option<u16>), &'static str> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inner, after) = v6
            .split_once(']')
            .ok_or("has an unterminated IPv6 address")?;
        if inner.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("has an invalid IPv6 address");
        }
        match after {
            "" => (inner, None),
            p => (
                inner,
                Some(p.strip_prefix(':').ok_or("has an invalid port")?),
            ),
        }
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        if host.is_empty() {
            return Err("must include a host");
        }
        if !is_host_name(host) {
            return Err("has an invalid host name");
        }
        (host, port)
    };
    let port = match port {
        None => None,
        Some(port) => match port.parse::<u16>() {
            Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Some(p),
            _ => return Err("has an invalid port"),
        },
    };
    Ok((host, port))
}

/// Whether `host` is a syntactically valid DNS name (or dotted IPv4 literal).
fn is_host_name(host: &str) -> bool {
    let name = host.strip_suffix('.').unwrap_or(host);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && label.bytes().any(|b| b.is_ascii_alphanumeric())
        })
}

/// Appends `/<key>` to the path of `base` unless the key already is its last segment after
/// an application segment. A query or fragment on `base` stays at the end.
fn with_stream_key(base: &str, key: &str) -> String {
    let (scheme_end, rest) = match base.find("://") {
        Some(i) => (i + 3, &base[i + 3..]),
        None => (0, base),
    };
    let tail_start = rest.find(['?', '#']).map_or(base.len(), |i| scheme_end + i);
    let (head, tail) = base.split_at(tail_start);
    let path_segments: Vec<&str> = head[scheme_end..]
        .split('/')
        .skip(1)
        .filter(|s| !s.is_empty())
        .collect();
    let head = head.trim_end_matches('/');
    if path_segments.len() >= 2 && path_segments.last() == Some(&key) {
        // Already there; a `/` left after it (`.../app/key/?q`) would make the key a middle
        // segment, which `redact_url` does not hide.
        return format!("{head}{tail}");
    }
    let mut out = String::with_capacity(base.len() + key.len() + 1);
    out.push_str(head);
    out.push('/');
    out.push_str(key);
    out.push_str(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_names_round_trip() {
        for p in Platform::ALL {
            assert_eq!(p.as_str().parse::<Platform>().unwrap(), p);
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Platform>(&json).unwrap(), p);
        }
        assert_eq!(" Twitch ".parse::<Platform>().unwrap(), Platform::Twitch);
        let err = "myspace".parse::<Platform>().unwrap_err();
        assert!(err.to_string().contains("platform"));
        assert!(serde_json::from_str::<Platform>("\"myspace\"").is_err());
    }

    #[test]
    fn requires_custom_url_matches_defaults() {
        let needing: Vec<_> = Platform::ALL
            .into_iter()
            .filter(|p| p.requires_custom_url())
            .collect();
        assert_eq!(
            needing,
            [
                Platform::Custom,
                Platform::Retake,
                Platform::X,
                Platform::Pumpfun
            ]
        );
    }

    #[test]
    fn appends_before_query() {
        assert_eq!(
            with_stream_key("rtmp://h/live?token=1", "k"),
            "rtmp://h/live/k?token=1"
        );
        assert_eq!(
            with_stream_key("rtmp://h/live/k#x", "k"),
            "rtmp://h/live/k#x"
        );
        assert_eq!(
            with_stream_key("rtmp://h/live/k//?x", "k"),
            "rtmp://h/live/k?x"
        );
    }

    #[test]
    fn a_key_already_in_the_url_before_a_slash_is_still_redacted() {
        // Found by the rtmp_url fuzz target: the key stayed a middle segment, unredacted.
        let key = "live_secret_key_123";
        let url = build_rtmp_url(
            Platform::Custom,
            key,
            Some(&format!("rtmp://h/app/{key}/?x=1")),
        )
        .unwrap();
        assert_eq!(url.expose_secret(), format!("rtmp://h/app/{key}?x=1"));
        assert_eq!(url.redacted(), "rtmp://h/app/{liv...123}?{...}");
    }
}
