//! `StreamingConfig::from_lookup` / `from_env`: the seed's variable names, trimming, and
//! errors that name variables without echoing values.

use std::collections::HashMap;
use std::time::Duration;

use ltcg_streaming_core::config::ConfigMode;
use ltcg_streaming_core::{Error, ErrorCode, StreamingConfig};

const KEY: &str = "6457ed47ba47dc9dccb72b09f27843b717aed4fcb909b4a7472fff3c46733e23";
/// A JWT secret of the required 32 bytes.
const JWT: &str = "config-test-overlay-secret-0123456789";
const APP: (&str, &str) = ("NEXT_PUBLIC_APP_URL", "https://lunchtable.cards");

fn load(vars: &[(&str, &str)]) -> Result<StreamingConfig, Error> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    StreamingConfig::from_lookup(|k| map.get(k).cloned())
}

fn config_error(vars: &[(&str, &str)]) -> (String, String) {
    match load(vars).unwrap_err() {
        Error::Config { var, problem } => (var, problem),
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn minimal_configuration_uses_defaults() {
    let c = load(&[
        ("STREAM_KEY_ENCRYPTION_KEY", KEY),
        ("STREAMING_JWT_SECRET", JWT),
        APP,
    ])
    .unwrap();
    assert!(c.livekit.is_none());
    assert_eq!(c.app_url, "https://lunchtable.cards");
    assert_eq!(c.overlay_token_ttl_secs, 86_400);
    assert_eq!(c.start_timeout, Duration::from_secs(300));
    assert_eq!(c.max_duration, Duration::from_secs(43_200));
    assert!(c.webhook_verifier().is_none());
    assert!(c.vault().is_ok());
}

#[test]
fn values_are_trimmed_and_the_jwt_secret_is_raw_utf8() {
    let c = load(&[
        ("STREAM_KEY_ENCRYPTION_KEY", &format!("  {KEY}\n")),
        (
            "STREAMING_JWT_SECRET",
            " NYOtjrGHS0TYPGdCwbzunWDexoyGXgc9\n",
        ),
        ("LIVEKIT_URL", " wss://demo.livekit.cloud/ "),
        ("LIVEKIT_API_KEY", "APIdemo\n"),
        ("LIVEKIT_API_SECRET", " sec\n"),
        ("NEXT_PUBLIC_APP_URL", "https://lunchtable.cards/"),
    ])
    .unwrap();
    assert_eq!(
        c.jwt_secret.expose_secret(),
        "NYOtjrGHS0TYPGdCwbzunWDexoyGXgc9"
    );
    let lk = c.livekit.as_ref().unwrap();
    assert_eq!(lk.api_url, "https://demo.livekit.cloud");
    assert_eq!(lk.api_key, "APIdemo");
    assert_eq!(lk.api_secret.expose_secret(), "sec");
    assert_eq!(c.app_url, "https://lunchtable.cards");
    // The secret is used as raw bytes: a jose token made with the same string verifies.
    let jose = "eyJhbGciOiJIUzI1NiJ9.eyJzZXNzaW9uSWQiOiJzZXNzaW9uXzEyMyIsInN0cmVhbVR5cGUiOiJ1c2VyIiwiZW50aXR5SWQiOiJ1c2VyX2lkX2hlcmUiLCJ0eXBlIjoib3ZlcmxheV9hY2Nlc3MiLCJleHAiOjE3NjczMTIwMDAsImlhdCI6MTc2NzIyNTYwMH0.HXNUcQkVD8FX0HrgwokpcxuFyjipSWzI6lzdxE7P9Po";
    assert!(c
        .overlay_tokens()
        .unwrap()
        .verify_at(jose, Some("session_123"), 1_767_229_200)
        .is_ok());
    assert!(c.webhook_verifier().unwrap().is_ok());
}

#[test]
fn every_missing_required_variable_is_named() {
    let (var, problem) = config_error(&[]);
    assert_eq!(
        var,
        "STREAM_KEY_ENCRYPTION_KEY, STREAMING_JWT_SECRET, NEXT_PUBLIC_APP_URL"
    );
    assert!(problem.contains("STREAM_KEY_ENCRYPTION_KEY is missing"));
    assert!(problem.contains("STREAMING_JWT_SECRET is missing"));
    let (var, _) = config_error(&[
        ("STREAM_KEY_ENCRYPTION_KEY", "   "),
        ("STREAMING_JWT_SECRET", JWT),
        APP,
    ]);
    assert_eq!(var, "STREAM_KEY_ENCRYPTION_KEY", "blank counts as missing");
}

#[test]
fn a_livekit_url_alone_names_the_missing_key_and_secret() {
    let (var, problem) = config_error(&[
        ("STREAM_KEY_ENCRYPTION_KEY", KEY),
        ("STREAMING_JWT_SECRET", JWT),
        APP,
        ("LIVEKIT_URL", "wss://demo.livekit.cloud"),
    ]);
    assert_eq!(var, "LIVEKIT_API_KEY, LIVEKIT_API_SECRET");
    assert!(problem.contains("LIVEKIT_API_SECRET is missing"));
}

#[test]
fn invalid_values_are_named_never_echoed() {
    let bad_key = format!("{KEY}XYZ");
    let (var, problem) = config_error(&[
        ("STREAM_KEY_ENCRYPTION_KEY", &bad_key),
        ("STREAMING_JWT_SECRET", JWT),
        ("LIVEKIT_URL", "ftp://livekit.example"),
        ("LIVEKIT_API_KEY", "k"),
        ("LIVEKIT_API_SECRET", "s"),
        ("NEXT_PUBLIC_APP_URL", "javascript:alert(1)"),
        ("STREAMING_MAX_DURATION_SECS", "forever"),
        ("STREAM_KEY_ENCRYPTION_PREVIOUS_KEYS", "abcd"),
    ]);
    for name in [
        "STREAM_KEY_ENCRYPTION_KEY",
        "LIVEKIT_URL",
        "NEXT_PUBLIC_APP_URL",
        "STREAMING_MAX_DURATION_SECS",
        "STREAM_KEY_ENCRYPTION_PREVIOUS_KEYS",
    ] {
        assert!(var.contains(name), "{name} not in {var}");
    }
    for value in [
        &bad_key[..],
        &KEY[..20],
        "livekit.example",
        "alert",
        "forever",
        "abcd",
    ] {
        assert!(!problem.contains(value), "echoed {value}: {problem}");
    }
    let err = load(&[
        ("STREAM_KEY_ENCRYPTION_KEY", "zz"),
        ("STREAMING_JWT_SECRET", JWT),
        APP,
    ])
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Config);
}

#[test]
fn previous_keys_form_a_ring() {
    let old = "11".repeat(32);
    let sealed = ltcg_streaming_core::AesGcmVault::from_hex(&old)
        .unwrap()
        .encrypt_key("k")
        .unwrap();
    let c = load(&[
        ("STREAM_KEY_ENCRYPTION_KEY", KEY),
        ("STREAM_KEY_ENCRYPTION_PREVIOUS_KEYS", &format!(" {old} , ")),
        ("STREAMING_JWT_SECRET", JWT),
        APP,
    ])
    .unwrap();
    assert_eq!(c.previous_encryption_keys.len(), 1);
    assert_eq!(
        c.vault()
            .unwrap()
            .decrypt_key(&sealed)
            .unwrap()
            .expose_secret(),
        "k"
    );
}

#[test]
fn programmatic_constructor_checks_its_arguments() {
    assert!(StreamingConfig::new(KEY, JWT).is_ok());
    let err = StreamingConfig::new("nope", "").unwrap_err();
    assert!(err.to_string().contains("STREAM_KEY_ENCRYPTION_KEY"));
    assert!(err.to_string().contains("STREAMING_JWT_SECRET"));
}

#[test]
fn from_env_reads_the_process_environment() {
    // The only test in this binary that touches the process environment.
    std::env::set_var("STREAM_KEY_ENCRYPTION_KEY", KEY);
    std::env::set_var("STREAMING_JWT_SECRET", JWT);
    std::env::set_var("NEXT_PUBLIC_APP_URL", "https://from-env.test");
    let c = StreamingConfig::from_env().unwrap();
    assert_eq!(c.jwt_secret.expose_secret(), JWT);
    assert_eq!(c.app_url, "https://from-env.test");
}

#[test]
fn livekit_api_key_and_secret_alone_verify_webhooks() {
    let c = load(&[
        ("STREAM_KEY_ENCRYPTION_KEY", KEY),
        ("STREAMING_JWT_SECRET", JWT),
        ("NEXT_PUBLIC_APP_URL", "https://lunchtable.cards"),
        ("LIVEKIT_API_KEY", "APIdemo"),
        ("LIVEKIT_API_SECRET", "demo-secret"),
    ])
    .unwrap();
    assert!(c.livekit.is_none(), "no egress without LIVEKIT_URL");
    assert!(c.webhook_verifier().unwrap().is_ok());
}

#[test]
fn a_livekit_url_needs_the_api_key_and_secret() {
    let (var, problem) = config_error(&[
        ("STREAM_KEY_ENCRYPTION_KEY", KEY),
        ("STREAMING_JWT_SECRET", JWT),
        ("NEXT_PUBLIC_APP_URL", "https://lunchtable.cards"),
        ("LIVEKIT_URL", "wss://demo.livekit.cloud"),
        ("LIVEKIT_API_SECRET", "demo-secret"),
    ]);
    assert_eq!(var, "LIVEKIT_API_KEY");
    assert!(problem.contains("LIVEKIT_API_KEY is missing"), "{problem}");
    let (var, _) = config_error(&[
        ("STREAM_KEY_ENCRYPTION_KEY", KEY),
        ("STREAMING_JWT_SECRET", JWT),
        ("NEXT_PUBLIC_APP_URL", "https://lunchtable.cards"),
        ("LIVEKIT_API_KEY", "APIdemo"),
    ]);
    assert_eq!(var, "LIVEKIT_API_SECRET", "a key needs its secret");
}

#[test]
fn the_app_url_is_required_outside_development() {
    let (var, problem) = config_error(&[
        ("STREAM_KEY_ENCRYPTION_KEY", KEY),
        ("STREAMING_JWT_SECRET", JWT),
    ]);
    assert_eq!(var, "NEXT_PUBLIC_APP_URL");
    assert!(
        problem.contains("NEXT_PUBLIC_APP_URL is missing"),
        "{problem}"
    );
}

#[test]
fn a_short_jwt_secret_is_refused_without_being_echoed() {
    for short in ["short", "  thirty-one-bytes-of-secret-abc  "] {
        let (var, problem) = config_error(&[
            ("STREAM_KEY_ENCRYPTION_KEY", KEY),
            ("STREAMING_JWT_SECRET", short),
            ("NEXT_PUBLIC_APP_URL", "https://lunchtable.cards"),
        ]);
        assert_eq!(var, "STREAMING_JWT_SECRET");
        assert!(problem.contains("at least 32 bytes"), "{problem}");
        assert!(!problem.contains(short.trim()), "echoed: {problem}");
    }
    let err = StreamingConfig::new(KEY, "short").unwrap_err();
    assert_eq!(err.code(), ErrorCode::Config);
    assert!(err.to_string().contains("STREAMING_JWT_SECRET"));
    let err = ltcg_streaming_core::OverlayTokens::new("short").unwrap_err();
    assert!(err.to_string().contains("at least 32 bytes"), "{err}");
}

#[test]
fn development_mode_defaults_the_app_url_to_localhost() {
    let vars: HashMap<&str, &str> = [
        ("STREAM_KEY_ENCRYPTION_KEY", KEY),
        ("STREAMING_JWT_SECRET", JWT),
    ]
    .into();
    let c = StreamingConfig::from_lookup_in(ConfigMode::Development, |k| {
        vars.get(k).map(|v| v.to_string())
    })
    .unwrap();
    assert_eq!(c.app_url, "http://localhost:3334");
    let programmatic = StreamingConfig::new(KEY, JWT).unwrap();
    assert_eq!(programmatic.app_url, "http://localhost:3334");
    let set = programmatic
        .with_app_url("https://lunchtable.cards/")
        .unwrap();
    assert_eq!(set.app_url, "https://lunchtable.cards");
    let err = StreamingConfig::new(KEY, JWT)
        .unwrap()
        .with_app_url("javascript:alert(1)")
        .unwrap_err();
    assert!(err.to_string().contains("NEXT_PUBLIC_APP_URL"), "{err}");
    assert!(!err.to_string().contains("alert"), "{err}");
}
