//! Stream-key encryption at rest.
//!
//! [`KeyVault`] is the seam (an async trait, so a KMS-backed vault fits); [`AesGcmVault`] is
//! the default, byte-compatible with the product's Node code: AES-256-GCM, 16-byte IV,
//! 16-byte tag, `<iv hex>:<tag hex>:<ciphertext hex>`.

mod aes_gcm;
pub mod rotation;
mod secret;

use std::fmt::Debug;

use async_trait::async_trait;

pub(crate) use self::aes_gcm::parse_key_hex;
pub use self::aes_gcm::{generate_key_hex, AesGcmVault};
pub use self::secret::SecretString;
use crate::error::Result;
pub use crate::redact::REDACTED;

/// Encrypts stream keys for storage and decrypts them for use.
///
/// Implementations must never log or return plaintext except through
/// [`KeyVault::decrypt`], and must fail with [`crate::Error::Crypto`] (or
/// [`crate::Error::InvalidInput`] for malformed input) instead of panicking.
#[async_trait]
pub trait KeyVault: Send + Sync + Debug {
    /// Encrypts `plaintext` under the current key.
    async fn encrypt(&self, plaintext: &SecretString) -> Result<String>;

    /// Decrypts a value made by [`KeyVault::encrypt`] under the current or a previous key.
    async fn decrypt(&self, ciphertext: &str) -> Result<SecretString>;

    /// Moves a ciphertext to the current key (for key rotation). The default decrypts and
    /// encrypts again.
    async fn reencrypt(&self, ciphertext: &str) -> Result<String> {
        let plaintext = self.decrypt(ciphertext).await?;
        self.encrypt(&plaintext).await
    }
}

#[async_trait]
impl<T: KeyVault + ?Sized> KeyVault for std::sync::Arc<T> {
    async fn encrypt(&self, plaintext: &SecretString) -> Result<String> {
        (**self).encrypt(plaintext).await
    }

    async fn decrypt(&self, ciphertext: &str) -> Result<SecretString> {
        (**self).decrypt(ciphertext).await
    }

    async fn reencrypt(&self, ciphertext: &str) -> Result<String> {
        (**self).reencrypt(ciphertext).await
    }
}
