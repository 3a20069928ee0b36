//! Test vectors produced by the real peer libraries (Node crypto, jose, jsonwebtoken,
//! livekit-server-sdk), copied into `tests/fixtures/`.

use ltcg_streaming_core::{
    AesGcmVault, EgressStatus, ErrorCode, KeyVault, OverlayTokens, SecretString, StreamType,
    WebhookVerifier,
};
use serde_json::Value;

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

fn s(v: &Value) -> &str {
    v.as_str().expect("string field")
}

fn list(v: &Value) -> &Vec<Value> {
    v.as_array().expect("array field")
}

#[tokio::test]
async fn vault_vectors_behave_as_labelled() {
    let fx = fixture(include_str!("fixtures/stream_key_aes_gcm.json"));
    let vault = AesGcmVault::from_hex(s(&fx["keyHex"])).unwrap();
    let valid: Vec<&Value> = list(&fx["valid"])
        .iter()
        .chain(list(&fx["valid12ByteIv"]))
        .collect();
    assert_eq!(valid.len(), 10);
    for case in valid {
        let plain = vault.decrypt(s(&case["ciphertext"])).await.unwrap();
        assert_eq!(plain.expose_secret(), s(&case["plaintext"]));
    }
    let invalid = list(&fx["invalid"]);
    assert_eq!(invalid.len(), 8);
    for case in invalid {
        let why = s(&case["why"]);
        let err = vault.decrypt(s(&case["ciphertext"])).await.unwrap_err();
        assert!(
            matches!(err.code(), ErrorCode::Crypto | ErrorCode::InvalidInput),
            "{why}: {err}"
        );
        let expected = if why.contains("flipped") || why == "wrong key" {
            ErrorCode::Crypto
        } else {
            ErrorCode::InvalidInput
        };
        assert_eq!(err.code(), expected, "{why}");
    }
}

#[tokio::test]
async fn our_ciphertexts_have_the_products_shape_and_round_trip() {
    let fx = fixture(include_str!("fixtures/stream_key_aes_gcm.json"));
    let vault = AesGcmVault::from_hex(s(&fx["keyHex"])).unwrap();
    for case in list(&fx["valid"]) {
        let plain = s(&case["plaintext"]);
        let sealed = vault.encrypt(&SecretString::from(plain)).await.unwrap();
        let parts: Vec<&str> = sealed.split(':').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].len(), 32, "16-byte IV");
        assert_eq!(parts[1].len(), 32, "16-byte tag");
        assert_eq!(parts[2].len(), plain.len() * 2);
        assert!(sealed
            .chars()
            .all(|c| c == ':' || matches!(c, '0'..='9' | 'a'..='f')));
        assert_eq!(vault.decrypt(&sealed).await.unwrap().expose_secret(), plain);
        assert_ne!(sealed, s(&case["ciphertext"]), "fresh random IV");
    }
}

#[test]
fn overlay_jwt_vectors_behave_as_labelled() {
    let fx = fixture(include_str!("fixtures/overlay_jwt.json"));
    let tokens = OverlayTokens::new(s(&fx["secret"])).unwrap();
    let at = fx["verifyAt"].as_i64().unwrap();
    let valid = list(&fx["valid"]);
    assert_eq!(valid.len(), 3);
    for case in valid {
        let claims = tokens
            .verify_at(s(&case["token"]), Some(s(&case["claims"]["sessionId"])), at)
            .unwrap_or_else(|e| panic!("{}: {e}", s(&case["by"])));
        assert_eq!(claims.entity_id, s(&case["claims"]["entityId"]));
        assert_eq!(
            claims.stream_type.as_str(),
            s(&case["claims"]["streamType"])
        );
        assert_eq!(claims.token_type, "overlay_access");
        assert!(tokens
            .verify_at(s(&case["token"]), Some("someone_else"), at)
            .is_err());
    }
    let invalid = list(&fx["invalid"]);
    assert_eq!(invalid.len(), 8);
    for case in invalid {
        let err = tokens.verify_at(s(&case["token"]), None, at).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unauthorized, "{}", s(&case["why"]));
    }
}

#[test]
fn our_tokens_equal_jose_byte_for_byte() {
    let fx = fixture(include_str!("fixtures/overlay_jwt.json"));
    let tokens = OverlayTokens::new(s(&fx["secret"])).unwrap();
    for case in list(&fx["valid"])
        .iter()
        .filter(|c| s(&c["by"]).starts_with("jose"))
    {
        let claims = &case["claims"];
        let stream_type = match s(&claims["streamType"]) {
            "agent" => StreamType::Agent,
            _ => StreamType::User,
        };
        let ours = tokens
            .issue_at(
                s(&claims["sessionId"]),
                stream_type,
                s(&claims["entityId"]),
                1_767_225_600,
            )
            .unwrap();
        assert_eq!(ours, s(&case["token"]));
    }
}

#[test]
fn livekit_webhook_vectors_behave_as_labelled() {
    let fx = fixture(include_str!("fixtures/livekit_webhooks.json"));
    let verifier = WebhookVerifier::new(s(&fx["apiKey"]), s(&fx["apiSecret"])).unwrap();
    let at = fx["verifyAt"].as_i64().unwrap();
    let valid = list(&fx["valid"]);
    assert_eq!(valid.len(), 6);
    for case in valid {
        let body = s(&case["body"]).as_bytes();
        let auth = s(&case["authorization"]);
        let event = verifier.verify_at(body, auth, at).unwrap();
        assert_eq!(event.event, s(&case["event"]));
        assert_eq!(event.egress_id.as_deref(), case["egressId"].as_str());
        assert_eq!(
            event.status.map(EgressStatus::as_str),
            case["status"].as_str()
        );
        assert!(event.id.starts_with("EV_"));
        assert_eq!(event.created_at, 1_795_478_332);
        // The same token with a `Bearer ` prefix is accepted too.
        let bearer = verifier
            .verify_at(body, &format!("Bearer {auth}"), at)
            .unwrap();
        assert_eq!(bearer, event);
        // Past exp + leeway the same request is refused.
        let late = verifier
            .verify_at(body, auth, 1_795_478_632 + 10)
            .unwrap_err();
        assert_eq!(late.code(), ErrorCode::Unauthorized);
    }
    let failed = verifier
        .verify_at(
            s(&valid[3]["body"]).as_bytes(),
            s(&valid[3]["authorization"]),
            at,
        )
        .unwrap();
    assert_eq!(failed.error.as_deref(), Some("rtmp connection failed"));
    let started = verifier
        .verify_at(
            s(&valid[0]["body"]).as_bytes(),
            s(&valid[0]["authorization"]),
            at,
        )
        .unwrap();
    assert_eq!(
        started.status,
        Some(EgressStatus::Starting),
        "missing status reads STARTING"
    );
    assert_eq!(started.session_id_from_url(), Some("session_123"));
    assert_eq!(
        started
            .web_url
            .as_deref()
            .map(|u| u.contains("/stream/overlay")),
        Some(true)
    );

    let invalid = list(&fx["invalid"]);
    assert_eq!(invalid.len(), 6);
    for case in invalid {
        let err = verifier
            .verify_at(s(&case["body"]).as_bytes(), s(&case["authorization"]), at)
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unauthorized, "{}", s(&case["why"]));
    }
}

#[test]
fn webhook_leeway_and_nbf_are_enforced() {
    let fx = fixture(include_str!("fixtures/livekit_webhooks.json"));
    let case = &list(&fx["valid"])[1];
    let (body, auth) = (s(&case["body"]).as_bytes(), s(&case["authorization"]));
    // exp = 1795478632, nbf = 1795478332 in the vector.
    let strict = WebhookVerifier::new(s(&fx["apiKey"]), s(&fx["apiSecret"]))
        .unwrap()
        .with_leeway_secs(0)
        .unwrap();
    assert!(strict.verify_at(body, auth, 1_795_478_631).is_ok());
    assert!(strict.verify_at(body, auth, 1_795_478_632).is_err());
    assert!(
        strict.verify_at(body, auth, 1_795_478_331).is_err(),
        "before nbf"
    );
    let lenient = strict.clone().with_leeway_secs(10).unwrap();
    assert!(lenient.verify_at(body, auth, 1_795_478_641).is_ok());
    assert!(lenient.verify_at(body, auth, 1_795_478_322).is_ok());
    assert!(lenient.verify_at(body, auth, 1_795_478_321).is_err());
    let other_key = WebhookVerifier::new("APIother", s(&fx["apiSecret"])).unwrap();
    assert!(other_key.verify_at(body, auth, 1_795_478_400).is_err());
}
