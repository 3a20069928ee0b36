//! `build_rtmp_url`: the product's 11 vectors (YouTube's default corrected to its RTMPS host)
//! and the edge cases: default ingests, overrides with trailing slashes, a key already in the
//! URL, scheme case, trimming, missing app segments, userinfo, bad hosts, ports and
//! characters, key separators and length, and redaction in errors, `Display` and `Debug`.

use ltcg_streaming_core::{build_rtmp_url, ErrorCode, Platform};

fn ok(platform: Platform, key: &str, custom: Option<&str>) -> String {
    build_rtmp_url(platform, key, custom)
        .unwrap_or_else(|e| panic!("{platform} {custom:?}: {e}"))
        .expose_secret()
        .to_owned()
}

fn err(platform: Platform, key: &str, custom: Option<&str>) -> (ErrorCode, String) {
    let e = build_rtmp_url(platform, key, custom).expect_err("must be rejected");
    (e.code(), e.to_string())
}

#[test]
fn the_products_eleven_vectors() {
    use Platform::*;
    assert_eq!(
        ok(Twitch, "abc123", None),
        "rtmps://live.twitch.tv/app/abc123"
    );
    assert_eq!(
        ok(Youtube, "yt-key", None),
        "rtmps://a.rtmps.youtube.com:443/live2/yt-key",
        "YouTube's documented RTMPS ingest"
    );
    assert_eq!(
        ok(Kick, "kick-key", None),
        "rtmps://fa723fc1b171.global-contribute.live-video.net:443/app/kick-key"
    );
    assert_eq!(
        ok(
            Twitch,
            "override-key",
            Some("rtmps://custom.twitch.ingest/app")
        ),
        "rtmps://custom.twitch.ingest/app/override-key"
    );
    assert_eq!(
        ok(Kick, "override-kick", Some("rtmp://ingest.kick.alt/live")),
        "rtmp://ingest.kick.alt/live/override-kick"
    );
    assert_eq!(
        ok(Retake, "k1", Some("rtmps://global-live.mux.com:443/app")),
        "rtmps://global-live.mux.com:443/app/k1"
    );
    assert_eq!(
        ok(Custom, "k2", Some("rtmp://example.com/live")),
        "rtmp://example.com/live/k2"
    );
    assert_eq!(
        ok(X, "stream-key", Some("rtmps://example.com/live/stream-key")),
        "rtmps://example.com/live/stream-key"
    );
    let (code, msg) = err(Twitch, "   ", None);
    assert_eq!(code, ErrorCode::InvalidInput);
    assert_eq!(msg, "invalid streamKey: is required");
    let (code, msg) = err(Custom, "abc", None);
    assert_eq!(code, ErrorCode::InvalidInput);
    assert_eq!(
        msg,
        "invalid customRtmpUrl: is required for the custom platform"
    );
    let (code, msg) = err(Pumpfun, "abc", Some("https://example.com/live"));
    assert_eq!(code, ErrorCode::InvalidInput);
    assert!(msg.contains("customRtmpUrl") && msg.contains("must start with rtmp:// or rtmps://"));
}

#[test]
fn facebook_has_a_default_and_others_require_a_url() {
    assert_eq!(
        ok(Platform::Facebook, "FB-1", None),
        "rtmps://live-api-s.facebook.com:443/rtmp/FB-1"
    );
    for p in [
        Platform::Custom,
        Platform::Retake,
        Platform::X,
        Platform::Pumpfun,
    ] {
        assert!(err(p, "k", Some("   ")).1.contains("is required for the"));
    }
}

#[test]
fn override_with_trailing_slashes() {
    assert_eq!(
        ok(
            Platform::Twitch,
            "k",
            Some("rtmps://custom.twitch.ingest/app///")
        ),
        "rtmps://custom.twitch.ingest/app/k"
    );
}

#[test]
fn key_already_present_followed_by_a_query() {
    assert_eq!(
        ok(
            Platform::Custom,
            "stream-key",
            Some("rtmps://example.com/live/stream-key?x=1")
        ),
        "rtmps://example.com/live/stream-key?x=1"
    );
    assert_eq!(
        ok(
            Platform::Custom,
            "stream-key",
            Some("rtmps://example.com/live/stream-key#frag")
        ),
        "rtmps://example.com/live/stream-key#frag"
    );
    // A query on a base without the key stays at the end.
    assert_eq!(
        ok(Platform::Custom, "k", Some("rtmp://example.com/live?x=1")),
        "rtmp://example.com/live/k?x=1"
    );
    // The key alone as the only segment is the app, not the key: it is appended.
    assert_eq!(
        ok(Platform::Custom, "live", Some("rtmp://h/live")),
        "rtmp://h/live/live"
    );
}

#[test]
fn upper_case_scheme_is_accepted_and_written_lower_case() {
    assert_eq!(
        ok(Platform::Custom, "k", Some("RTMPS://Example.com:443/Live")),
        "rtmps://Example.com:443/Live/k"
    );
    assert_eq!(
        ok(Platform::Custom, "k", Some("Rtmp://h/app")),
        "rtmp://h/app/k"
    );
}

#[test]
fn key_with_surrounding_spaces_is_trimmed() {
    assert_eq!(
        ok(Platform::Twitch, "  abc123 \n", None),
        "rtmps://live.twitch.tv/app/abc123"
    );
}

#[test]
fn url_without_an_app_segment_is_rejected() {
    for url in [
        "rtmp://example.com",
        "rtmp://example.com/",
        "rtmp://example.com///",
        "rtmp://example.com?x=1",
    ] {
        let (code, msg) = err(Platform::Custom, "k", Some(url));
        assert_eq!(code, ErrorCode::InvalidInput, "{url}");
        assert!(msg.contains("application path"), "{url}: {msg}");
    }
}

#[test]
fn userinfo_is_rejected() {
    let (code, msg) = err(
        Platform::Custom,
        "k",
        Some("rtmp://user:pass@example.com/live"),
    );
    assert_eq!(code, ErrorCode::InvalidInput);
    assert!(msg.contains("user credentials"));
    assert!(!msg.contains("pass"));
}

#[test]
fn bad_hosts_ports_and_characters_are_rejected() {
    for url in [
        "rtmp:///live",
        "rtmp://:1935/live",
        "rtmp://h:0/live",
        "rtmp://h:99999/live",
        "rtmp://h:x/live",
        "rtmp://h$/live",
        "rtmp://h/li ve",
        "rtmp://h/live\r\nX-Injected: 1",
        "rtmp://h/live\u{0}",
        "rtmp://[::1/live",
        "rtmpx://h/live",
        "//h/live",
    ] {
        let (code, msg) = err(Platform::Custom, "k", Some(url));
        assert_eq!(code, ErrorCode::InvalidInput, "{url:?}");
        assert!(msg.starts_with("invalid customRtmpUrl"), "{url:?}: {msg}");
    }
    assert_eq!(
        ok(Platform::Custom, "k", Some("rtmp://[::1]:1935/live")),
        "rtmp://[::1]:1935/live/k"
    );
    assert_eq!(
        ok(Platform::Custom, "k", Some("rtmp://127.0.0.1:1935/live")),
        "rtmp://127.0.0.1:1935/live/k"
    );
    let long = format!("rtmp://h/{}", "a".repeat(2100));
    assert!(err(Platform::Custom, "k", Some(&long))
        .1
        .contains("at most 2048"));
}

#[test]
fn keys_with_separators_whitespace_or_controls_are_rejected() {
    for key in [
        "a/b", "a?b", "a#b", "a b", "a\tb", "a\u{7}b", "a\r\nb", "ключ", "a\u{a0}b",
    ] {
        let (code, msg) = err(Platform::Twitch, key, None);
        assert_eq!(code, ErrorCode::InvalidInput, "{key:?}");
        assert!(msg.starts_with("invalid streamKey"), "{key:?}");
        assert!(!msg.contains(key.trim()), "error must not echo the key");
    }
}

#[test]
fn key_length_limit_is_512_bytes() {
    let max = "k".repeat(512);
    assert!(build_rtmp_url(Platform::Twitch, &max, None).is_ok());
    let (code, msg) = err(Platform::Twitch, &"k".repeat(513), None);
    assert_eq!(code, ErrorCode::InvalidInput);
    assert!(msg.contains("at most 512 bytes"));
}

#[test]
fn errors_never_contain_the_key_or_url() {
    let key = "sk_live_SUPERSECRET_123";
    let cases = [
        (
            Platform::Custom,
            Some("https://evil.example/app/sk_live_SUPERSECRET_123"),
        ),
        (Platform::Custom, Some("rtmp://evil.example")),
        (
            Platform::Custom,
            Some("rtmp://u:sk_live_SUPERSECRET_123@evil.example/app"),
        ),
    ];
    for (p, url) in cases {
        let msg = err(p, key, url).1;
        assert!(!msg.contains("SUPERSECRET"), "{msg}");
        assert!(!msg.contains("evil.example"), "{msg}");
    }
}

#[test]
fn display_and_debug_are_redacted() {
    let url = build_rtmp_url(Platform::Twitch, "live_123456789_abcdefghijklmnop", None).unwrap();
    assert_eq!(url.to_string(), "rtmps://live.twitch.tv/app/{liv...nop}");
    assert_eq!(url.redacted(), "rtmps://live.twitch.tv/app/{liv...nop}");
    assert!(!format!("{url:?}").contains("123456789"));
}
