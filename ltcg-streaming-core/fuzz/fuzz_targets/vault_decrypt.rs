//! `AesGcmVault::decrypt_key` / `reencrypt_key` on arbitrary text.
//!
//! The vault has a current key (the core's unit-test key) and one previous key (the key of
//! `tests/fixtures/stream_key_aes_gcm.json`), so the seeds exercise both ring slots, 12- and
//! 16-byte IVs and the rotation path.
//!
//! Checked: no panic; every error is `INVALID_INPUT` (malformed) or `CRYPTO` (does not
//! authenticate) and never echoes the input; on success, the plaintext round-trips through
//! `encrypt_key`, `reencrypt_key` returns a value under the current key (the same value when
//! it already was) that a current-key-only vault opens to the same plaintext.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use ltcg_streaming_core::AesGcmVault;

/// The core's unit-test key (`vault/aes_gcm.rs`): the current key.
const CURRENT_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// `stream_key_aes_gcm.json`'s `keyHex`: a previous key.
const PREVIOUS_HEX: &str = "6457ed47ba47dc9dccb72b09f27843b717aed4fcb909b4a7472fff3c46733e23";

static RING: LazyLock<AesGcmVault> = LazyLock::new(|| {
    AesGcmVault::with_previous_hex(CURRENT_HEX, &[PREVIOUS_HEX]).expect("valid keys")
});
static CURRENT_ONLY: LazyLock<AesGcmVault> =
    LazyLock::new(|| AesGcmVault::from_hex(CURRENT_HEX).expect("valid key"));
static PREVIOUS_ONLY: LazyLock<AesGcmVault> =
    LazyLock::new(|| AesGcmVault::from_hex(PREVIOUS_HEX).expect("valid key"));

fn check_error(err: &ltcg_streaming_core::Error, input: &str) {
    let code = err.code().as_str();
    assert!(
        code == "INVALID_INPUT" || code == "CRYPTO",
        "unexpected error code {code}: {err}"
    );
    // Messages are fixed texts with no run of 8 hex digits; an input with one is never
    // echoed.
    let hex_run = input
        .as_bytes()
        .windows(8)
        .any(|w| w.iter().all(u8::is_ascii_hexdigit));
    if hex_run {
        assert!(!err.to_string().contains(input), "error echoes the input");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let vault = &*RING;
    let plain = match vault.decrypt_key(value) {
        Ok(plain) => plain,
        Err(err) => {
            check_error(&err, value);
            // Whatever the ring cannot open, rotation cannot move either.
            let again = vault
                .reencrypt_key(value)
                .expect_err("reencrypt of an undecryptable value");
            check_error(&again, value);
            return;
        }
    };
    let plain = plain.expose_secret();
    assert!(!plain.is_empty(), "GCM opened an empty plaintext");
    // Which key opened it decides what rotation does.
    let under_current = CURRENT_ONLY.decrypt_key(value).ok();
    let under_previous = PREVIOUS_ONLY.decrypt_key(value).ok();
    assert!(
        under_current.is_some() || under_previous.is_some(),
        "the ring opened a value neither of its keys opens"
    );
    for opened in [&under_current, &under_previous].into_iter().flatten() {
        assert_eq!(
            opened.expose_secret(),
            plain,
            "keys disagree on the plaintext"
        );
    }

    // Fresh encryption round-trips, through the ring and the current key alone.
    let sealed = vault
        .encrypt_key(plain)
        .expect("encrypting a decrypted key");
    assert_eq!(
        vault
            .decrypt_key(&sealed)
            .expect("own ciphertext")
            .expose_secret(),
        plain
    );
    assert_eq!(
        CURRENT_ONLY
            .decrypt_key(&sealed)
            .expect("current-key ciphertext")
            .expose_secret(),
        plain
    );
    let parts: Vec<usize> = sealed.split(':').map(str::len).collect();
    assert_eq!(parts, [32, 32, plain.len() * 2], "wire format");

    // Rotation: under the current key already -> unchanged; otherwise moved to it.
    let moved = vault
        .reencrypt_key(value)
        .expect("reencrypt of a decryptable value");
    if under_current.is_some() {
        assert_eq!(moved, value, "a current-key value is returned unchanged");
    } else {
        assert_ne!(moved, value);
        assert!(
            PREVIOUS_ONLY.decrypt_key(&moved).is_err(),
            "a moved value still opens under the old key"
        );
    }
    assert_eq!(
        CURRENT_ONLY
            .decrypt_key(&moved)
            .expect("moved value")
            .expose_secret(),
        plain
    );
    assert_eq!(vault.reencrypt_key(&moved).expect("second rotation"), moved);
});
