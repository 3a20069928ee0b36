//! `platform::build_rtmp_url(platform, key, custom_url)` on arbitrary input.
//!
//! Input: `[platform, flags, rest...]`: `platform % 8` indexes `Platform::ALL`; `flags & 1`
//! passes a custom URL; `rest` (lossy UTF-8) is `stream key \n custom URL`.
//!
//! Checked: no panic. On success (what `build_rtmp_url`, `RtmpUrl::redacted` and
//! `redact_url` document):
//! - the URL starts with lower-case `rtmp://` / `rtmps://` and has no whitespace or control
//!   character (so no CR/LF), and neither has its redacted form;
//! - the trimmed key is the last path segment (before any query or fragment);
//! - `redacted()`, `Display` and `Debug` all show `redact_url(url)`, which is exactly the
//!   URL up to the key segment, then `redact_identifier(key)` (`{abc...xyz}`: at most 3
//!   characters of each end, only for keys of at least 9), then `?{...}` / `#{...}` for a
//!   query or fragment;
//! - so a key of 12 or more characters never appears in the redacted form unless it is
//!   already spelled out in the ingest URL it was added to;
//! - a platform without a default ingest only succeeds with a custom URL.
//!
//! On failure the error is `INVALID_INPUT` naming `streamKey` or `customRtmpUrl`, and never
//! contains the key or the URL (unless the text is a fragment of a fixed message).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use ltcg_streaming_core::platform::{redact_identifier, MAX_RTMP_URL_BYTES, MAX_STREAM_KEY_BYTES};
use ltcg_streaming_core::{build_rtmp_url, redact_url, Platform};

/// Every fixed error text `build_rtmp_url` can produce, collected from inputs that hit each
/// rule: a key or URL that occurs in one of them is not an echo.
static MESSAGES: LazyLock<String> = LazyLock::new(|| {
    let long_key = "k".repeat(MAX_STREAM_KEY_BYTES + 1);
    let long_url = format!("rtmp://h/{}", "a".repeat(MAX_RTMP_URL_BYTES));
    let mut cases: Vec<(Platform, &str, Option<&str>)> = vec![
        (Platform::Twitch, "", None),
        (Platform::Twitch, &long_key, None),
        (Platform::Twitch, "a b", None),
        (Platform::Custom, "k", Some(&long_url)),
        (Platform::Custom, "k", Some("rtmp://h/a b")),
        (Platform::Custom, "k", Some("http://h/app")),
        (Platform::Custom, "k", Some("rtmp://u@h/app")),
        (Platform::Custom, "k", Some("rtmp://[::1/app")),
        (Platform::Custom, "k", Some("rtmp://[zz]/app")),
        (Platform::Custom, "k", Some("rtmp://[::1]x/app")),
        (Platform::Custom, "k", Some("rtmp://h:0/app")),
        (Platform::Custom, "k", Some("rtmp://:1/app")),
        (Platform::Custom, "k", Some("rtmp://h!/app")),
        (Platform::Custom, "k", Some("rtmp://h")),
    ];
    for p in Platform::ALL {
        cases.push((p, "k", None));
    }
    let mut all = String::new();
    for (p, key, url) in cases {
        if let Err(e) = build_rtmp_url(p, key, url) {
            all.push_str(&e.to_string());
            all.push('\n');
        }
    }
    all
});

/// Splits `rtmp(s)://rest` into (URL up to and including the last `/` of the path, the
/// last path segment, the query/fragment tail).
fn split_key_segment(url: &str) -> (&str, &str, &str) {
    let scheme_end = url.find("://").expect("a scheme") + 3;
    let tail_start = url[scheme_end..]
        .find(['?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    let (path, tail) = url.split_at(tail_start);
    let slash = path.rfind('/').expect("a path");
    assert!(slash >= scheme_end, "the key is not in the path");
    (&path[..=slash], &path[slash + 1..], tail)
}

fuzz_target!(|data: &[u8]| {
    let [platform, flags, rest @ ..] = data else {
        return;
    };
    let platform = Platform::ALL[usize::from(*platform) % Platform::ALL.len()];
    let text = String::from_utf8_lossy(rest);
    let (key, custom) = match text.split_once('\n') {
        Some((key, url)) => (key, Some(url)),
        None => (&*text, None),
    };
    let custom = if flags & 1 == 1 {
        custom.or(Some(""))
    } else {
        None
    };

    let url = match build_rtmp_url(platform, key, custom) {
        Ok(url) => url,
        Err(err) => {
            assert_eq!(err.code().as_str(), "INVALID_INPUT", "{err}");
            let msg = err.to_string();
            assert!(
                msg.contains("streamKey") || msg.contains("customRtmpUrl"),
                "error names no field: {msg}"
            );
            for secret in [Some(key.trim()), custom.map(str::trim)]
                .into_iter()
                .flatten()
            {
                if secret.len() >= 4 && msg.contains(secret) {
                    assert!(MESSAGES.contains(secret), "error echoes its input: {msg}");
                }
            }
            return;
        }
    };
    let full = url.expose_secret();
    let key = key.trim();
    assert!(
        full.starts_with("rtmp://") || full.starts_with("rtmps://"),
        "scheme is not lower-case rtmp(s)"
    );
    assert!(
        !full.chars().any(|c| c.is_whitespace() || c.is_control()),
        "URL has whitespace or control characters"
    );
    if platform.requires_custom_url() {
        assert!(custom.is_some_and(|c| !c.trim().is_empty()));
    }

    let (base, last, tail) = split_key_segment(full);
    assert_eq!(last, key, "the key is not the last path segment");
    let redacted = url.redacted();
    assert_eq!(redacted, redact_url(full));
    assert_eq!(url.to_string(), redacted);
    assert_eq!(format!("{url:?}"), format!("RtmpUrl({redacted:?})"));
    let mut expected = format!("{base}{}", redact_identifier(key));
    if let Some(marker) = tail.chars().next() {
        expected.push(marker);
        expected.push_str("{...}");
    }
    assert_eq!(
        redacted, expected,
        "redaction differs from its documented form"
    );
    let id = redact_identifier(key);
    let keep = match key.chars().count() {
        9.. => 3,
        6..=8 => 2,
        3..=5 => 1,
        _ => 0,
    };
    let shown: usize = id.chars().count() - "{...}".chars().count();
    assert_eq!(shown, 2 * keep, "redacted identifier shows too much");
    assert!(!redacted
        .chars()
        .any(|c| c.is_whitespace() || c.is_control()));
    if key.chars().count() >= 12 && !base.contains(key) {
        assert!(!redacted.contains(key), "the key survives redaction");
    }
});
