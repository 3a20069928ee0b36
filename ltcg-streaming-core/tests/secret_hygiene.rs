//! No secret (stream key, API secret, JWT secret, encryption key, full RTMP URL) appears in
//! `Debug`, `Display`, `serde` output or error messages of any type that holds one.

use std::collections::HashMap;

use ltcg_streaming_core::{
    build_rtmp_url, AesGcmVault, LiveKitConfig, OverlayTokens, Platform, SecretString,
    StreamingConfig, WebhookVerifier,
};

const STREAM_KEY: &str = "live_SECRETSTREAMKEY_0123456789";
const ENC_KEY: &str = "deadbeefcafebabe0011223344556677deadbeefcafebabe0011223344556677";
const JWT_SECRET: &str = "JWTSECRET-do-not-print-me-0123456789";
const API_SECRET: &str = "APISECRET-do-not-print-me";

fn assert_clean(what: &str, text: &str) {
    for secret in [
        STREAM_KEY,
        "SECRETSTREAMKEY",
        ENC_KEY,
        &ENC_KEY[..16],
        JWT_SECRET,
        API_SECRET,
    ] {
        assert!(!text.contains(secret), "{what} leaks {secret}: {text}");
    }
}

fn env() -> HashMap<&'static str, String> {
    HashMap::from([
        ("STREAM_KEY_ENCRYPTION_KEY", ENC_KEY.to_owned()),
        ("STREAMING_JWT_SECRET", JWT_SECRET.to_owned()),
        ("LIVEKIT_URL", "wss://demo.livekit.cloud".to_owned()),
        ("LIVEKIT_API_KEY", "APIdemo".to_owned()),
        ("LIVEKIT_API_SECRET", API_SECRET.to_owned()),
        ("NEXT_PUBLIC_APP_URL", "https://lunchtable.test".to_owned()),
    ])
}

#[test]
fn secret_string() {
    let s = SecretString::from(STREAM_KEY);
    assert_clean("Debug", &format!("{s:?}"));
    assert_clean("Display", &format!("{s}"));
    assert_clean("serde", &serde_json::to_string(&s).unwrap());
}

#[test]
fn rtmp_url() {
    let url = build_rtmp_url(Platform::Custom, STREAM_KEY, Some("rtmp://127.0.0.1/live")).unwrap();
    assert_clean("Debug", &format!("{url:?}"));
    assert_clean("Display", &format!("{url}"));
    assert_clean("redacted", url.redacted());
    assert_clean(
        "into_secret Debug",
        &format!("{:?}", url.clone().into_secret()),
    );
    assert!(url.expose_secret().ends_with(STREAM_KEY));
}

#[test]
fn vault_tokens_verifier_and_config() {
    let vault = AesGcmVault::from_hex(ENC_KEY).unwrap();
    assert_clean("vault Debug", &format!("{vault:?}"));
    let tokens = OverlayTokens::new(JWT_SECRET).unwrap();
    assert_clean("tokens Debug", &format!("{tokens:?}"));
    let verifier = WebhookVerifier::new("APIdemo", API_SECRET).unwrap();
    assert_clean("verifier Debug", &format!("{verifier:?}"));
    let lk = LiveKitConfig::new("wss://demo.livekit.cloud", "APIdemo", API_SECRET).unwrap();
    assert_clean("livekit Debug", &format!("{lk:?}"));
    let env = env();
    let config = StreamingConfig::from_lookup(|k| env.get(k).cloned()).unwrap();
    let dbg = format!("{config:?}");
    assert_clean("config Debug", &dbg);
    assert!(dbg.contains("[redacted]"));
}

#[test]
fn error_messages() {
    let vault = AesGcmVault::from_hex(ENC_KEY).unwrap();
    let sealed = vault.encrypt_key(STREAM_KEY).unwrap();
    let mut errors = Vec::new();
    // Wrong key, tampered value, bad key material.
    errors.push(AesGcmVault::new(&[1; 32]).decrypt_key(&sealed).unwrap_err());
    errors.push(vault.decrypt_key(&sealed.replace(':', "::")).unwrap_err());
    errors.push(AesGcmVault::from_hex(&format!("{ENC_KEY}ff")).unwrap_err());
    errors.push(AesGcmVault::with_previous_hex(ENC_KEY, &[&ENC_KEY[1..]]).unwrap_err());
    // Bad keys and URLs carrying the key.
    errors.push(build_rtmp_url(Platform::Twitch, &format!("{STREAM_KEY} x"), None).unwrap_err());
    errors.push(
        build_rtmp_url(
            Platform::Custom,
            STREAM_KEY,
            Some(&format!("http://h/app/{STREAM_KEY}")),
        )
        .unwrap_err(),
    );
    // Tokens signed with the secret but rejected.
    let tokens = OverlayTokens::new(JWT_SECRET).unwrap();
    let token = tokens
        .issue_at("s", ltcg_streaming_core::StreamType::User, "u", 0)
        .unwrap();
    errors.push(tokens.verify_at(&token, None, 10_000_000).unwrap_err());
    errors.push(
        OverlayTokens::new("another-overlay-secret-0123456789abc")
            .unwrap()
            .verify_at(&token, None, 1)
            .unwrap_err(),
    );
    // Webhooks.
    let verifier = WebhookVerifier::new("APIdemo", API_SECRET).unwrap();
    errors.push(verifier.verify_at(b"{}", API_SECRET, 0).unwrap_err());
    // Configuration with secrets in the wrong shape.
    let mut env = env();
    env.insert(
        "STREAM_KEY_ENCRYPTION_KEY",
        format!("{ENC_KEY}{JWT_SECRET}"),
    );
    env.insert("LIVEKIT_URL", format!("ftp://{API_SECRET}"));
    errors.push(StreamingConfig::from_lookup(|k| env.get(k).cloned()).unwrap_err());
    for err in &errors {
        assert_clean("error Display", &err.to_string());
        assert_clean("error Debug", &format!("{err:?}"));
    }
    assert_eq!(errors.len(), 10);
}

#[test]
fn requests_and_stored_credentials() {
    use ltcg_streaming_core::service::{DestinationInput, StartStreamRequest};
    use ltcg_streaming_core::store::PlatformCredential;
    use ltcg_streaming_core::{Entity, IngestUrl};

    let url_with_key = format!("rtmps://example.com/live/{STREAM_KEY}");
    let req = StartStreamRequest {
        stream_key: Some(SecretString::from(STREAM_KEY)),
        custom_rtmp_url: Some(IngestUrl::from(url_with_key.as_str())),
        destinations: vec![DestinationInput {
            platform: Platform::Custom,
            stream_key: SecretString::from(STREAM_KEY),
            custom_rtmp_url: Some(url_with_key.as_str().into()),
            channel: None,
        }],
        ..StartStreamRequest::default()
    };
    assert_clean("request Debug", &format!("{req:?}"));
    let cred = PlatformCredential {
        entity: Entity::agent("a1").unwrap(),
        platform: Platform::Custom,
        encrypted_key: None,
        custom_rtmp_url: Some(url_with_key.as_str().into()),
        auto_start: false,
        enabled: true,
        keep_alive: true,
        overlay: Default::default(),
        channel: None,
        updated_at: 0,
    };
    assert_clean("credential Debug", &format!("{cred:?}"));
    // JSON keeps the URL as given (it is what the store must write back).
    let json: serde_json::Value = serde_json::to_value(&cred).unwrap();
    assert_eq!(json["customRtmpUrl"], url_with_key.as_str());
}
