//! Users' JWTs for tests: throw-away RSA and P-256 keys (`fixtures/user_jwt/`), tokens
//! signed with them, and a local JWKS server whose key set can be replaced (rotation).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// The issuer of [`claims`].
pub const ISSUER: &str = "https://auth.ltcg.example";
/// The audience of [`claims`].
pub const AUDIENCE: &str = "ltcg-streaming";

/// A fixture file's bytes (`rsa-1.der`, `rsa-1.pub.pem`, `ec-1.jwk.json`, ...).
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/user_jwt/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A text fixture.
pub fn fixture(name: &str) -> String {
    String::from_utf8(fixture_bytes(name)).unwrap()
}

/// The public JWK of the fixture key `name` (`rsa-1`, `rsa-2`, `ec-1`; `kid` = the name).
pub fn jwk(name: &str) -> Value {
    serde_json::from_str(&fixture(&format!("{name}.jwk.json"))).unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Claims for `user` from [`ISSUER`] to [`AUDIENCE`], valid for ten minutes.
pub fn claims(user: &str) -> Value {
    json!({"sub": user, "iss": ISSUER, "aud": AUDIENCE, "iat": now(), "exp": now() + 600})
}

/// `claims` signed by the fixture key `key` as `alg` (ES256 for `ec-1`, an RSA algorithm
/// otherwise), naming `kid`.
pub fn signed(key: &str, alg: Algorithm, kid: &str, claims: &Value) -> String {
    let der = fixture_bytes(&format!("{key}.der"));
    let encoding = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_der(&der),
        _ => EncodingKey::from_rsa_der(&der),
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &encoding).unwrap()
}

/// A JWKS server on 127.0.0.1 whose key set can be replaced; counts how often it is read.
#[derive(Debug)]
pub struct JwksServer {
    /// Its `/.well-known/jwks.json` URL.
    pub url: String,
    keys: Arc<Mutex<Value>>,
    reads: Arc<AtomicUsize>,
}

impl JwksServer {
    /// Serves `keys` (on the current runtime).
    pub async fn start(keys: Vec<Value>) -> Self {
        let state = Arc::new(Mutex::new(json!({ "keys": keys })));
        let reads = Arc::new(AtomicUsize::new(0));
        let (served, counted) = (state.clone(), reads.clone());
        let app = axum::Router::new().route(
            "/.well-known/jwks.json",
            axum::routing::get(move || {
                let (served, counted) = (served.clone(), counted.clone());
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    axum::Json(served.lock().unwrap().clone())
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}/.well-known/jwks.json"),
            keys: state,
            reads,
        }
    }

    /// Replaces the key set.
    pub fn publish(&self, keys: Vec<Value>) {
        *self.keys.lock().unwrap() = json!({ "keys": keys });
    }

    /// How often the key set was read.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}
