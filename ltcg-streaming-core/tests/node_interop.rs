//! Interop with the product's Node code: ciphertexts and overlay tokens we produce are read
//! by `node:crypto` exactly as the product reads them, and Node's ciphertexts decrypt here.
//!
//! Needs `node` on PATH. Without it the test is skipped locally, and fails in CI (`CI=true`).

use std::io::Write;
use std::process::{Command, Stdio};

use ltcg_streaming_core::{AesGcmVault, OverlayTokens, StreamType};
use serde_json::{json, Value};

const KEY_HEX: &str = "6457ed47ba47dc9dccb72b09f27843b717aed4fcb909b4a7472fff3c46733e23";
const PLAINTEXTS: [&str; 6] = [
    "live_123456789_abcdefghijklmnop",
    "ключ-🔑-key",
    "a",
    "  padded  ",
    "sk_us-west-2_AbCdEf0123456789",
    "0123456789012345678901234567890123456789012345678901234567890123456789",
];

/// Runs the Node script on `job`, or returns `None` when Node is unavailable outside CI.
fn run_node(job: &Value) -> Option<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node/product_crypto.mjs");
    let child = Command::new("node")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "node is required in CI: {e}"
            );
            eprintln!("skipping: node not found ({e})");
            return None;
        }
    };
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(job.to_string().as_bytes())
        .expect("write job");
    let out = child.wait_with_output().expect("node runs");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("node prints JSON"))
}

#[test]
fn node_reads_ours_and_we_read_nodes() {
    let vault = AesGcmVault::from_hex(KEY_HEX).unwrap();
    let ours: Vec<String> = PLAINTEXTS
        .iter()
        .map(|p| vault.encrypt_key(p).unwrap())
        .collect();
    let tokens = OverlayTokens::new("NYOtjrGHS0TYPGdCwbzunWDexoyGXgc9").unwrap();
    let token = tokens
        .issue_at(
            "ses_0123456789abcdefghjkmnpqrs",
            StreamType::User,
            "user_42",
            1_767_225_600,
        )
        .unwrap();
    let job = json!({
        "keyHex": KEY_HEX,
        "ciphertexts": ours,
        "plaintexts": PLAINTEXTS,
        "jwtSecret": "NYOtjrGHS0TYPGdCwbzunWDexoyGXgc9",
        "tokens": [token],
        "now": 1_767_225_700,
    });
    let Some(result) = run_node(&job) else { return };

    let decrypted: Vec<&str> = result["decrypted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("node could not decrypt: {v}"))
        })
        .collect();
    assert_eq!(
        decrypted, PLAINTEXTS,
        "node:crypto decrypts our ciphertexts"
    );

    for (sealed, plain) in result["encrypted"]
        .as_array()
        .unwrap()
        .iter()
        .zip(PLAINTEXTS)
    {
        let sealed = sealed.as_str().unwrap();
        assert_eq!(
            vault.decrypt_key(sealed).unwrap().expose_secret(),
            plain,
            "we decrypt node's"
        );
    }

    let verified = &result["tokens"][0];
    assert_eq!(verified["header"], r#"{"alg":"HS256"}"#);
    assert_eq!(
        verified["payload"],
        r#"{"sessionId":"ses_0123456789abcdefghjkmnpqrs","streamType":"user","entityId":"user_42","type":"overlay_access","exp":1767312000,"iat":1767225600}"#
    );
}

#[test]
fn node_rejects_a_tampered_ciphertext_of_ours() {
    let vault = AesGcmVault::from_hex(KEY_HEX).unwrap();
    let mut sealed = vault.encrypt_key("live_123").unwrap().into_bytes();
    let last = sealed.len() - 1;
    sealed[last] = if sealed[last] == b'0' { b'1' } else { b'0' };
    let job = json!({
        "keyHex": KEY_HEX,
        "ciphertexts": [String::from_utf8(sealed).unwrap()],
        "plaintexts": [],
        "jwtSecret": "x",
        "tokens": [],
        "now": 0,
    });
    let Some(result) = run_node(&job) else { return };
    assert_eq!(
        result["decrypted"][0]["error"],
        "Unsupported state or unable to authenticate data"
    );
}
