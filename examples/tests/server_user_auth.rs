//! The reference server verifies users' JWTs against a JWKS URL (a local JWKS server with
//! throw-away keys): a valid token acts as that user, a refused one gets the 401 of the
//! error contract, and the internal key keeps working beside them.

use jsonwebtoken::Algorithm;
use ltcg_streaming_test_support::nginx_rtmp::free_port;
use ltcg_streaming_test_support::server::*;
use ltcg_streaming_test_support::user_jwt::*;

/// The reference server binary.
const SERVER: &str = env!("CARGO_BIN_EXE_ltcg-streaming-server");

#[test]
fn the_server_accepts_users_by_their_jwks_signed_tokens() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let jwks = runtime.block_on(JwksServer::start(vec![jwk("rsa-1"), jwk("ec-1")]));
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        SERVER,
        &dir.path().join("users.db"),
        free_port(),
        &[
            ("LTCG_EGRESS", "memory"),
            ("LTCG_USER_JWKS_URL", &jwks.url),
            ("LTCG_USER_JWT_ISSUER", ISSUER),
            ("LTCG_USER_JWT_AUDIENCE", AUDIENCE),
        ],
    );
    let sessions = "/api/streaming/sessions?streamType=user&entityId=user_42";

    for (alg, key) in [(Algorithm::RS256, "rsa-1"), (Algorithm::ES256, "ec-1")] {
        let token = signed(key, alg, key, &claims("user_42"));
        server.watch_secret(&token);
        let (status, body) = server.request("GET", sessions, Some(&token), None);
        assert_eq!(status, 200, "{alg:?}: {body}");
        assert_eq!(body["sessions"], serde_json::json!([]), "{body}");
        // A user sees only their own sessions.
        let (status, body) = server.request(
            "GET",
            "/api/streaming/sessions?streamType=user&entityId=user_other",
            Some(&token),
            None,
        );
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["code"], "FORBIDDEN", "{body}");
    }

    let mut expired = claims("user_42");
    expired["exp"] = (expired["iat"].as_i64().unwrap() - 3600).into();
    let mut foreign = claims("user_42");
    foreign["aud"] = "someone-else".into();
    for token in [
        signed("rsa-1", Algorithm::RS256, "rsa-1", &expired),
        signed("rsa-1", Algorithm::RS256, "rsa-1", &foreign),
        signed("rsa-2", Algorithm::RS256, "rsa-2", &claims("user_42")),
    ] {
        let (status, body) = server.request("GET", sessions, Some(&token), None);
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["code"], "UNAUTHORIZED", "{body}");
        assert_eq!(body["error"], "unauthorized: invalid credentials", "{body}");
    }
    let (status, body) = server.request("GET", sessions, Some(INTERNAL_KEY), None);
    assert_eq!(status, 200, "{body}");
    assert!(jwks.reads() >= 1, "the server read the JWKS");
    server.scan_for_leaks();
}
