//! Users' JWTs through `JwtUserTokens`: keys served by a local JWKS server (RSA and P-256,
//! rotated while the service runs) and an HS256 shared secret; issuer, audience, expiry and
//! the algorithm checked; every refusal the same 401 of the error contract.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, Method, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ltcg_streaming_core::http::{
    router_with, ApiAuth, JwksCaching, JwtRules, JwtUserTokens, RouterOptions,
};
use ltcg_streaming_core::{Actor, ErrorCode, SecretString};
use ltcg_streaming_test_support::harness::Harness;
use ltcg_streaming_test_support::http::{assert_error, call};
use ltcg_streaming_test_support::user_jwt::*;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn rules() -> JwtRules {
    JwtRules::new(ISSUER, AUDIENCE).unwrap()
}

fn auth_with(tokens: JwtUserTokens) -> ApiAuth {
    ApiAuth::new()
        .with_internal_key("Internal-Key-For-User-Token-Tests")
        .unwrap()
        .with_user_tokens(Arc::new(tokens))
}

async fn actor(auth: &ApiAuth, token: &str) -> Result<Actor, ErrorCode> {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    auth.authenticate(&headers).await.map_err(|e| e.code())
}

#[tokio::test]
async fn jwks_tokens_pass_only_with_the_right_key_algorithm_issuer_audience_and_time() {
    let jwks = JwksServer::start(vec![jwk("rsa-1"), jwk("ec-1")]).await;
    let tokens = JwtUserTokens::jwks(&jwks.url, rules(), JwksCaching::default()).unwrap();
    let auth = auth_with(tokens);

    let rs256 = signed("rsa-1", Algorithm::RS256, "rsa-1", &claims("user_rs"));
    assert_eq!(
        actor(&auth, &rs256).await,
        Ok(Actor::User("user_rs".into()))
    );
    let es256 = signed("ec-1", Algorithm::ES256, "ec-1", &claims("user_ec"));
    assert_eq!(
        actor(&auth, &es256).await,
        Ok(Actor::User("user_ec".into()))
    );

    let mut wrong_issuer = claims("user_rs");
    wrong_issuer["iss"] = "https://evil.example".into();
    let mut wrong_audience = claims("user_rs");
    wrong_audience["aud"] = "another-app".into();
    let mut expired = claims("user_rs");
    expired["exp"] = (now() - 3600).into();
    let mut not_yet = claims("user_rs");
    not_yet["nbf"] = (now() + 3600).into();
    let mut no_expiry = claims("user_rs");
    no_expiry.as_object_mut().unwrap().remove("exp");
    let payload = URL_SAFE_NO_PAD.encode(claims("user_rs").to_string());
    let unsigned = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"rsa-1"}"#)
    );
    // The classic confusion: HMAC keyed with the RSA public key.
    let public_pem = fixture("rsa-1.pub.pem");
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some("rsa-1".into());
    let hs256_with_public_key = jsonwebtoken::encode(
        &hs_header,
        &claims("user_rs"),
        &EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .unwrap();
    let refused = [
        (
            "wrong issuer",
            signed("rsa-1", Algorithm::RS256, "rsa-1", &wrong_issuer),
        ),
        (
            "wrong audience",
            signed("rsa-1", Algorithm::RS256, "rsa-1", &wrong_audience),
        ),
        (
            "expired",
            signed("rsa-1", Algorithm::RS256, "rsa-1", &expired),
        ),
        (
            "not yet valid",
            signed("rsa-1", Algorithm::RS256, "rsa-1", &not_yet),
        ),
        (
            "no expiry",
            signed("rsa-1", Algorithm::RS256, "rsa-1", &no_expiry),
        ),
        ("alg none", unsigned),
        ("HS256 with the public key", hs256_with_public_key),
        (
            "signed by another key",
            signed("rsa-2", Algorithm::RS256, "rsa-1", &claims("user_rs")),
        ),
        (
            "an RSA algorithm on the EC key",
            signed("rsa-1", Algorithm::RS256, "ec-1", &claims("user_rs")),
        ),
        (
            "RS384 on an RS256 key",
            signed("rsa-1", Algorithm::RS384, "rsa-1", &claims("user_rs")),
        ),
        (
            "unknown key",
            signed("rsa-1", Algorithm::RS256, "nobody", &claims("user_rs")),
        ),
        ("not a JWT", "not.a.jwt".to_owned()),
    ];
    for (why, token) in &refused {
        assert_eq!(
            actor(&auth, token).await,
            Err(ErrorCode::Unauthorized),
            "{why}"
        );
    }

    // Over HTTP every refusal reads the same (the failure throttle, tested elsewhere, off).
    let h = Harness::new();
    let options = RouterOptions {
        auth_failure_limit: 0,
        ..RouterOptions::default()
    };
    let app = router_with(h.service.clone(), auth, options);
    let mut messages = std::collections::HashSet::new();
    for (why, token) in &refused {
        let reply = call(
            &app,
            Method::GET,
            "/api/streaming/sessions",
            Some(token),
            None,
        )
        .await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", why);
        messages.insert(reply.json["error"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        messages.len(),
        1,
        "one message for every refusal: {messages:?}"
    );
    let reply = call(
        &app,
        Method::GET,
        "/api/streaming/sessions",
        Some(&rs256),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[tokio::test]
async fn rotated_jwks_keys_are_picked_up_and_withdrawn_ones_refused() {
    let jwks = JwksServer::start(vec![jwk("rsa-1")]).await;
    let caching = JwksCaching {
        min_refetch_interval: Duration::ZERO,
        ..JwksCaching::default()
    };
    let auth = auth_with(JwtUserTokens::jwks(&jwks.url, rules(), caching).unwrap());
    let old = signed("rsa-1", Algorithm::RS256, "rsa-1", &claims("user_1"));
    let new = signed("rsa-2", Algorithm::RS256, "rsa-2", &claims("user_1"));
    assert_eq!(actor(&auth, &old).await, Ok(Actor::User("user_1".into())));
    assert_eq!(actor(&auth, &old).await, Ok(Actor::User("user_1".into())));
    assert_eq!(jwks.reads(), 1, "the keys are cached");

    jwks.publish(vec![jwk("rsa-2")]);
    assert_eq!(actor(&auth, &new).await, Ok(Actor::User("user_1".into())));
    assert_eq!(jwks.reads(), 2, "an unknown key id reads the JWKS again");
    assert_eq!(
        actor(&auth, &old).await,
        Err(ErrorCode::Unauthorized),
        "a withdrawn key no longer verifies"
    );
}

#[tokio::test]
async fn unknown_key_ids_do_not_make_the_service_hammer_the_jwks_url() {
    let jwks = JwksServer::start(vec![jwk("rsa-1")]).await;
    let auth = auth_with(JwtUserTokens::jwks(&jwks.url, rules(), JwksCaching::default()).unwrap());
    let good = signed("rsa-1", Algorithm::RS256, "rsa-1", &claims("user_1"));
    assert!(actor(&auth, &good).await.is_ok());
    for n in 0..20 {
        let kid = format!("random-{n}");
        let token = signed("rsa-1", Algorithm::RS256, &kid, &claims("user_1"));
        assert_eq!(actor(&auth, &token).await, Err(ErrorCode::Unauthorized));
    }
    assert_eq!(
        jwks.reads(),
        1,
        "within the refetch interval the JWKS is read once"
    );
}

#[tokio::test]
async fn hs256_user_tokens_verify_with_the_shared_secret_only() {
    let secret = SecretString::from("a-shared-user-token-secret-0123456789abcdef");
    let auth = auth_with(JwtUserTokens::hs256(&secret, rules()).unwrap());
    let mut header = Header::new(Algorithm::HS256);
    header.kid = None;
    let good = jsonwebtoken::encode(
        &header,
        &claims("user_hs"),
        &EncodingKey::from_secret(secret.expose_secret().as_bytes()),
    )
    .unwrap();
    assert_eq!(actor(&auth, &good).await, Ok(Actor::User("user_hs".into())));
    let other_secret = jsonwebtoken::encode(
        &header,
        &claims("user_hs"),
        &EncodingKey::from_secret(b"another-secret-of-enough-length-0123456789"),
    )
    .unwrap();
    let rs256 = signed("rsa-1", Algorithm::RS256, "rsa-1", &claims("user_hs"));
    for token in [other_secret, rs256] {
        assert_eq!(actor(&auth, &token).await, Err(ErrorCode::Unauthorized));
    }

    let short = JwtUserTokens::hs256(&SecretString::from("too-short"), rules()).unwrap_err();
    assert_eq!(short.code(), ErrorCode::InvalidInput);
    assert!(short.to_string().contains("userJwtSecret"), "{short}");
    let plain_http = JwtUserTokens::jwks(
        "http://auth.example/.well-known/jwks.json",
        rules(),
        JwksCaching::default(),
    )
    .unwrap_err();
    assert!(plain_http.to_string().contains("jwksUrl"), "{plain_http}");
    let no_issuer = JwtRules::new(" ", AUDIENCE).unwrap_err();
    assert!(no_issuer.to_string().contains("issuer"), "{no_issuer}");
}
