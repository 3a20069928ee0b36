//! [`AesGcmVault`]: AES-256-GCM with a key ring, in the product's wire format.

use std::fmt;

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use async_trait::async_trait;
use zeroize::Zeroizing;

use super::{KeyVault, SecretString};
use crate::error::{Error, Result};
use crate::redact::REDACTED;

/// AES-256-GCM with the 16-byte IV the product writes.
type Gcm16 = AesGcm<Aes256, U16>;
/// AES-256-GCM with the standard 12-byte IV (accepted on decrypt).
type Gcm12 = AesGcm<Aes256, U12>;

const TAG_LEN: usize = 16;

/// One key of the ring, ready for both IV lengths.
struct KeySlot {
    iv16: Gcm16,
    iv12: Gcm12,
}

impl KeySlot {
    fn new(key: &[u8; 32]) -> Self {
        Self {
            iv16: Gcm16::new(key.into()),
            iv12: Gcm12::new(key.into()),
        }
    }

    fn open(&self, iv: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        match iv.len() {
            16 => self.iv16.decrypt(Nonce::<U16>::from_slice(iv), sealed).ok(),
            12 => self.iv12.decrypt(Nonce::<U12>::from_slice(iv), sealed).ok(),
            _ => None,
        }
    }
}

/// Stream-key vault: AES-256-GCM, no AAD, output `<iv hex>:<tag hex>:<ciphertext hex>` in
/// lowercase hex with a 16-byte IV and a 16-byte tag, exactly as the product's
/// `encryptStreamKey` writes it.
///
/// Decrypt accepts 12- or 16-byte IVs (any hex case), requires a 16-byte tag (Node accepts
/// truncated tags; we do not), rejects empty parts and bad hex, and tries the current key
/// and then each previous key, so keys can be rotated: see [`AesGcmVault::reencrypt_key`].
///
/// Stricter than Node, on purpose: the key must be exactly 64 hex characters after trimming
/// (Node silently stops at the first non-hex pair), the value must have exactly three parts,
/// and the plaintext must be valid UTF-8 (Node substitutes U+FFFD).
///
/// ```
/// use ltcg_streaming_core::AesGcmVault;
/// let vault = AesGcmVault::from_hex(&"00".repeat(32))?;
/// let sealed = vault.encrypt_key("live_123")?;
/// assert_eq!(sealed.split(':').map(str::len).collect::<Vec<_>>(), [32, 32, 16]);
/// assert_eq!(vault.decrypt_key(&sealed)?.expose_secret(), "live_123");
/// # Ok::<(), ltcg_streaming_core::Error>(())
/// ```
pub struct AesGcmVault {
    current: KeySlot,
    previous: Vec<KeySlot>,
}

impl fmt::Debug for AesGcmVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AesGcmVault")
            .field("key", &REDACTED)
            .field("previous_keys", &self.previous.len())
            .finish()
    }
}

impl AesGcmVault {
    /// A vault with one 32-byte key.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            current: KeySlot::new(key),
            previous: Vec::new(),
        }
    }

    /// A vault from the `STREAM_KEY_ENCRYPTION_KEY` form: 64 hex characters, whitespace
    /// around them ignored. The error names `keyHex` and never echoes the value.
    pub fn from_hex(key_hex: &str) -> Result<Self> {
        Ok(Self::new(&parse_key_hex(key_hex, "keyHex")?))
    }

    /// A vault with a current key and older keys that are still accepted on decrypt.
    pub fn with_previous_hex<S: AsRef<str>>(key_hex: &str, previous_hex: &[S]) -> Result<Self> {
        let mut vault = Self::from_hex(key_hex)?;
        for (i, hex) in previous_hex.iter().enumerate() {
            let key = parse_key_hex(hex.as_ref(), &format!("previousKeys[{i}]"))?;
            vault.previous.push(KeySlot::new(&key));
        }
        Ok(vault)
    }

    /// Adds an older key that decrypt still tries after the current one.
    pub fn with_previous_key(mut self, key: &[u8; 32]) -> Self {
        self.previous.push(KeySlot::new(key));
        self
    }

    /// Encrypts under the current key with a fresh random 16-byte IV.
    pub fn encrypt_key(&self, plaintext: &str) -> Result<String> {
        if plaintext.is_empty() {
            return Err(Error::invalid("plaintext", "must not be empty"));
        }
        let iv = Gcm16::generate_nonce(&mut OsRng);
        let sealed = self
            .current
            .iv16
            .encrypt(&iv, plaintext.as_bytes())
            .map_err(|_| Error::crypto("encryption failed"))?;
        let (body, tag) = sealed.split_at(sealed.len() - TAG_LEN);
        Ok(format!(
            "{}:{}:{}",
            hex::encode(iv),
            hex::encode(tag),
            hex::encode(body)
        ))
    }

    /// Decrypts `<iv>:<tag>:<ciphertext>` with the current key, then each previous key.
    pub fn decrypt_key(&self, value: &str) -> Result<SecretString> {
        self.open_with_slot(value).map(|(plain, _)| plain)
    }

    /// Re-encrypts a value under the current key. A value already under the current key is
    /// returned unchanged, so a rotation job can skip the write.
    pub fn reencrypt_key(&self, value: &str) -> Result<String> {
        let (plain, slot) = self.open_with_slot(value)?;
        if slot == 0 {
            return Ok(value.to_owned());
        }
        self.encrypt_key(plain.expose_secret())
    }

    /// Decrypts and reports which key matched (0 = current).
    fn open_with_slot(&self, value: &str) -> Result<(SecretString, usize)> {
        let parts = SealedParts::parse(value)?;
        let mut sealed = Zeroizing::new(Vec::with_capacity(parts.body.len() + TAG_LEN));
        sealed.extend_from_slice(&parts.body);
        sealed.extend_from_slice(&parts.tag);
        for (slot_index, slot) in std::iter::once(&self.current)
            .chain(&self.previous)
            .enumerate()
        {
            if let Some(plain) = slot.open(&parts.iv, &sealed) {
                let plain = Zeroizing::new(plain);
                let text = std::str::from_utf8(&plain)
                    .map_err(|_| Error::crypto("decrypted stream key is not valid UTF-8"))?;
                return Ok((SecretString::from(text), slot_index));
            }
        }
        Err(Error::crypto(
            "unable to authenticate encrypted stream key (wrong key or tampered value)",
        ))
    }
}

/// The three decoded parts of `<iv>:<tag>:<ciphertext>`.
struct SealedParts {
    iv: Vec<u8>,
    tag: Vec<u8>,
    body: Vec<u8>,
}

impl SealedParts {
    fn parse(value: &str) -> Result<Self> {
        const FIELD: &str = "encryptedKey";
        let mut split = value.split(':');
        let (Some(iv), Some(tag), Some(body), None) =
            (split.next(), split.next(), split.next(), split.next())
        else {
            return Err(Error::invalid(
                FIELD,
                "must have three parts <iv>:<tag>:<ciphertext>",
            ));
        };
        if iv.is_empty() || tag.is_empty() || body.is_empty() {
            return Err(Error::invalid(FIELD, "has an empty part"));
        }
        let decode = |part: &str, name: &str| {
            hex::decode(part).map_err(|_| Error::invalid(FIELD, format!("{name} is not valid hex")))
        };
        let iv = decode(iv, "iv")?;
        let tag = decode(tag, "tag")?;
        let body = decode(body, "ciphertext")?;
        if iv.len() != 16 && iv.len() != 12 {
            return Err(Error::invalid(FIELD, "iv must be 12 or 16 bytes"));
        }
        if tag.len() != TAG_LEN {
            return Err(Error::invalid(FIELD, "tag must be 16 bytes"));
        }
        Ok(Self { iv, tag, body })
    }
}

/// A fresh random 32-byte key as 64 lowercase hex characters (like `openssl rand -hex 32`),
/// for `STREAM_KEY_ENCRYPTION_KEY` or a JWT secret.
///
/// ```
/// let key = ltcg_streaming_core::vault::generate_key_hex();
/// assert_eq!(key.len(), 64);
/// assert!(ltcg_streaming_core::AesGcmVault::from_hex(&key).is_ok());
/// ```
pub fn generate_key_hex() -> String {
    use aes_gcm::aead::rand_core::RngCore;
    let mut key = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(key.as_mut());
    hex::encode(key.as_ref())
}

/// Parses a 32-byte key from 64 hex characters (trimmed); errors name `field`, not the value.
pub(crate) fn parse_key_hex(key_hex: &str, field: &str) -> Result<[u8; 32]> {
    let trimmed = key_hex.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(field, "is empty"));
    }
    let mut key = [0u8; 32];
    if trimmed.len() != 64 || hex::decode_to_slice(trimmed, &mut key).is_err() {
        return Err(Error::invalid(
            field,
            "must be 64 hex characters (32 bytes); generate one with `openssl rand -hex 32`",
        ));
    }
    Ok(key)
}

#[async_trait]
impl KeyVault for AesGcmVault {
    async fn encrypt(&self, plaintext: &SecretString) -> Result<String> {
        self.encrypt_key(plaintext.expose_secret())
    }

    async fn decrypt(&self, ciphertext: &str) -> Result<SecretString> {
        self.decrypt_key(ciphertext)
    }

    async fn reencrypt(&self, ciphertext: &str) -> Result<String> {
        self.reencrypt_key(ciphertext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn reference_vectors_from_the_product() {
        let vault = AesGcmVault::from_hex(KEY).unwrap();
        let cases = [
            ("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf:4c60e854273c972455807e592f99a967:46ca55d947fcff45f7ab2986d52dd2f1e026271c185339c5977906db775a56", "live_123456789_abcdefghijklmnop"),
            ("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf:816c7fa476be6a60cecc25a0f19d0b9a:fa19f307c9431cf1ee6e80257c", "ключ-🔑"),
            ("a0a1a2a3a4a5a6a7a8a9aaab:980dd730b25cb2903ece45a08c1eec24:877a1f", "abc"),
        ];
        for (sealed, plain) in cases {
            assert_eq!(vault.decrypt_key(sealed).unwrap().expose_secret(), plain);
            assert_eq!(
                vault
                    .decrypt_key(&sealed.to_uppercase())
                    .unwrap()
                    .expose_secret(),
                plain,
                "hex case does not matter"
            );
        }
    }

    #[test]
    fn key_is_trimmed_and_strict() {
        assert!(AesGcmVault::from_hex(&format!("  {KEY}\n")).is_ok());
        for bad in [
            "",
            "   ",
            &KEY[..62],
            &format!("{KEY}00"),
            &format!("{KEY}XYZ"),
        ] {
            let err = AesGcmVault::from_hex(bad).unwrap_err();
            assert_eq!(err.code().as_str(), "INVALID_INPUT");
            assert!(err.to_string().contains("keyHex"));
            if !bad.trim().is_empty() {
                assert!(!err.to_string().contains(&bad.trim()[..20]));
            }
        }
    }

    #[test]
    fn empty_plaintext_is_refused() {
        let vault = AesGcmVault::from_hex(KEY).unwrap();
        assert_eq!(
            vault.encrypt_key("").unwrap_err().code().as_str(),
            "INVALID_INPUT"
        );
    }

    #[test]
    fn reencrypt_moves_to_current_key_and_keeps_current_values() {
        let old = AesGcmVault::new(&[7u8; 32]);
        let sealed_old = old.encrypt_key("rotate-me").unwrap();
        let ring = AesGcmVault::new(&[9u8; 32]).with_previous_key(&[7u8; 32]);
        assert_eq!(
            ring.decrypt_key(&sealed_old).unwrap().expose_secret(),
            "rotate-me"
        );
        let moved = ring.reencrypt_key(&sealed_old).unwrap();
        assert_ne!(moved, sealed_old);
        let current_only = AesGcmVault::new(&[9u8; 32]);
        assert_eq!(
            current_only.decrypt_key(&moved).unwrap().expose_secret(),
            "rotate-me"
        );
        assert!(current_only.decrypt_key(&sealed_old).is_err());
        assert_eq!(ring.reencrypt_key(&moved).unwrap(), moved);
    }

    #[test]
    fn malformed_values_are_input_errors_not_panics() {
        let vault = AesGcmVault::from_hex(KEY).unwrap();
        let good = vault.encrypt_key("k").unwrap();
        let parts: Vec<&str> = good.split(':').collect();
        let cases = [
            String::new(),
            ":::".into(),
            format!("{}:{}", parts[0], parts[1]),
            format!("{good}:extra"),
            format!("{}:{}:", parts[0], parts[1]),
            format!("{}::{}", parts[0], parts[2]),
            format!("{}:{}:{}", &parts[0][..30], parts[1], parts[2]),
            format!("{}:{}:{}", parts[0], &parts[1][..24], parts[2]),
            format!("{}:{}:{}", parts[0], parts[1], "0"),
            format!("{}:{}:{}", parts[0], parts[1], "zz"),
            format!("{}:{}:{}", "ab", parts[1], parts[2]),
            "é:é:é".into(),
        ];
        for case in cases {
            let err = vault.decrypt_key(&case).unwrap_err();
            assert_eq!(err.code().as_str(), "INVALID_INPUT", "{case:?}");
        }
    }

    #[test]
    fn invalid_utf8_plaintext_is_a_crypto_error() {
        let key = [3u8; 32];
        let gcm = Gcm16::new((&key).into());
        let iv = [1u8; 16];
        let sealed = gcm
            .encrypt(Nonce::<U16>::from_slice(&iv), &[0xff, 0xfe, 0x41][..])
            .unwrap();
        let (body, tag) = sealed.split_at(sealed.len() - 16);
        let value = format!(
            "{}:{}:{}",
            hex::encode(iv),
            hex::encode(tag),
            hex::encode(body)
        );
        let err = AesGcmVault::new(&key).decrypt_key(&value).unwrap_err();
        assert_eq!(err.code().as_str(), "CRYPTO");
    }

    #[test]
    fn debug_hides_key() {
        let vault = AesGcmVault::from_hex(KEY).unwrap();
        let dbg = format!("{vault:?}");
        assert!(!dbg.contains("0001020304"));
        assert!(dbg.contains("[redacted]"));
    }
}
