//! Agents' API keys, the product's way: `ltcg_` followed by 32 random characters, stored
//! only as an Argon2id hash under the key's first 12 characters (its prefix), which is how
//! a presented key finds its record.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use ltcg_streaming_core::agent_keys::AgentKeys;
//! use ltcg_streaming_core::MemoryStore;
//!
//! let keys = AgentKeys::new(Arc::new(MemoryStore::new()));
//! let made = keys.create("agent_7", Some("laptop"), 1_700_000_000_000).await?;
//! let key = made.key.expose_secret().to_owned(); // shown to the operator once
//! assert_eq!(keys.verify(&key).await?.as_deref(), Some("agent_7"));
//! keys.revoke(&made.record.prefix, 1_700_000_001_000).await?;
//! assert_eq!(keys.verify(&key).await?, None);
//! # Ok::<(), ltcg_streaming_core::Error>(())
//! # }).unwrap();
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::session::validate_entity_id;
use crate::store::agent_keys::{check_prefix, MAX_AGENT_KEY_LABEL_BYTES};
use crate::store::{AgentKey, AgentKeyStore};
use crate::vault::SecretString;

pub use crate::store::agent_keys::AGENT_KEY_PREFIX_LEN;

/// What every agent key starts with.
pub const AGENT_KEY_MARK: &str = "ltcg_";

/// Random characters after the mark (5 bits each: 160 bits).
const RANDOM_CHARS: usize = 32;

/// Length of an agent key.
pub const AGENT_KEY_LEN: usize = AGENT_KEY_MARK.len() + RANDOM_CHARS;

/// The characters after the mark: lower-case letters and digits without `i`, `l`, `o`, `u`.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Most verified keys remembered (their SHA-256), so a key is run through Argon2id once
/// per process rather than on every request.
const VERIFIED_CAPACITY: usize = 4_096;

/// Prefix-collision retries when making a key.
const CREATE_ATTEMPTS: usize = 8;

/// A key just made: the key itself (shown once, never stored) and its stored record.
#[derive(Debug)]
pub struct NewAgentKey {
    /// The full key, `ltcg_…`; give it to the agent, it cannot be read back.
    pub key: SecretString,
    /// What the store keeps.
    pub record: AgentKey,
}

/// Makes, checks, lists and revokes agent API keys on an [`AgentKeyStore`].
///
/// Checking a key reads its record on every call (so a revocation takes effect at once, on
/// every replica) but runs Argon2id only the first time this process sees the key. A key
/// whose prefix is unknown or revoked is still checked against a hash, so the time taken
/// does not tell whether a prefix exists.
pub struct AgentKeys {
    store: Arc<dyn AgentKeyStore>,
    /// SHA-256 of keys that verified → the hash they verified against.
    verified: Mutex<HashMap<[u8; 32], String>>,
}

impl fmt::Debug for AgentKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentKeys")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// A hash no key matches, checked when a prefix is unknown so that takes as long as a
/// wrong key for a known prefix.
static DECOY_HASH: LazyLock<Option<String>> = LazyLock::new(|| hash_key(&random_key()).ok());

impl AgentKeys {
    /// Keys kept in `store`.
    pub fn new(store: Arc<dyn AgentKeyStore>) -> Self {
        Self {
            store,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// Makes a key for `agent_id` (with an optional `label`), stores its hash and returns
    /// it; the key is in the result only.
    pub async fn create(
        &self,
        agent_id: &str,
        label: Option<&str>,
        now_ms: i64,
    ) -> Result<NewAgentKey> {
        validate_entity_id("agentId", agent_id)?;
        let label = label.map(str::trim).filter(|l| !l.is_empty());
        if let Some(label) = label {
            if label.len() > MAX_AGENT_KEY_LABEL_BYTES || label.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "label",
                    format!("must be at most {MAX_AGENT_KEY_LABEL_BYTES} bytes, without control characters"),
                ));
            }
        }
        for _ in 0..CREATE_ATTEMPTS {
            let key = random_key();
            let hash = {
                let key = key.clone();
                blocking(move || hash_key(&key)).await?
            };
            let record = AgentKey {
                prefix: key[..AGENT_KEY_PREFIX_LEN].to_owned(),
                agent_id: agent_id.to_owned(),
                hash,
                label: label.map(str::to_owned),
                created_at: now_ms,
                revoked_at: None,
            };
            if self.store.insert_agent_key(&record).await? {
                return Ok(NewAgentKey {
                    key: SecretString::from(key),
                    record,
                });
            }
        }
        Err(Error::conflict(
            "could not find a free key prefix; try again",
        ))
    }

    /// The agent `presented` belongs to, or `None` when it is not a live key of ours.
    pub async fn verify(&self, presented: &str) -> Result<Option<String>> {
        if !is_agent_key(presented) {
            return Ok(None);
        }
        let record = self
            .store
            .agent_key(&presented[..AGENT_KEY_PREFIX_LEN])
            .await?;
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let live = record.filter(|r| !r.is_revoked());
        if let Some(record) = &live {
            let known = self
                .verified
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&digest)
                .is_some_and(|hash| *hash == record.hash);
            if known {
                return Ok(Some(record.agent_id.clone()));
            }
        }
        // A live record's hash, else the decoy: the same work either way.
        let hash = live
            .as_ref()
            .map(|record| record.hash.clone())
            .or_else(|| DECOY_HASH.clone());
        let matches = match hash {
            Some(hash) => {
                let presented = presented.to_owned();
                blocking(move || Ok(key_matches(&presented, &hash))).await?
            }
            None => false,
        };
        match live {
            Some(record) if matches => {
                let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
                if verified.len() >= VERIFIED_CAPACITY {
                    verified.clear();
                }
                verified.insert(digest, record.hash);
                Ok(Some(record.agent_id))
            }
            _ => Ok(None),
        }
    }

    /// Revokes the key with this prefix (the first 12 characters of the key, or the whole
    /// key); the record afterwards.
    pub async fn revoke(&self, prefix: &str, now_ms: i64) -> Result<AgentKey> {
        let prefix = prefix.get(..AGENT_KEY_PREFIX_LEN).unwrap_or(prefix);
        check_prefix(prefix)?;
        self.store
            .revoke_agent_key(prefix, now_ms)
            .await?
            .ok_or_else(|| Error::not_found(format!("agent key {prefix}")))
    }

    /// Every key, or one agent's, oldest first.
    pub async fn list(&self, agent_id: Option<&str>) -> Result<Vec<AgentKey>> {
        if let Some(agent) = agent_id {
            validate_entity_id("agentId", agent)?;
        }
        self.store.list_agent_keys(agent_id).await
    }
}

/// Whether `s` has the shape of an agent key (`ltcg_` and 32 characters of the alphabet).
pub fn is_agent_key(s: &str) -> bool {
    s.len() == AGENT_KEY_LEN
        && s.starts_with(AGENT_KEY_MARK)
        && s.as_bytes()[AGENT_KEY_MARK.len()..]
            .iter()
            .all(|b| ALPHABET.contains(b))
}

fn random_key() -> String {
    let mut bytes = [0u8; RANDOM_CHARS];
    OsRng.fill_bytes(&mut bytes);
    let mut key = String::with_capacity(AGENT_KEY_LEN);
    key.push_str(AGENT_KEY_MARK);
    // Each byte picks one of 32 characters: 256 is a multiple of 32, so no bias.
    key.extend(bytes.iter().map(|b| ALPHABET[usize::from(b % 32)] as char));
    key
}

fn hash_key(key: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| Error::crypto(format!("could not make a salt: {e}")))?;
    Argon2::default()
        .hash_password(key.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::crypto(format!("could not hash an agent key: {e}")))
}

fn key_matches(key: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(key.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Runs CPU-heavy hashing off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::crypto(format!("agent key hashing stopped: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    #[test]
    fn made_keys_have_the_products_shape() {
        let key = random_key();
        assert_eq!(key.len(), 37);
        assert!(is_agent_key(&key), "{key}");
        assert!(!is_agent_key(&key[..36]));
        assert!(!is_agent_key(&key.replace("ltcg_", "ltcx_")));
        assert!(!is_agent_key(&format!("{}I", &key[..36])));
        assert_ne!(random_key(), key);
    }

    #[tokio::test]
    async fn only_the_hash_is_stored_and_only_the_key_verifies() {
        let store = Arc::new(MemoryStore::new());
        let keys = AgentKeys::new(store.clone());
        let made = keys.create("agent_a", None, 5).await.unwrap();
        let key = made.key.expose_secret().to_owned();
        let stored = store.agent_key(&key[..12]).await.unwrap().unwrap();
        assert!(stored.hash.starts_with("$argon2id$"), "{}", stored.hash);
        assert!(!stored.hash.contains(&key[12..]));
        assert_eq!(keys.verify(&key).await.unwrap().as_deref(), Some("agent_a"));
        // Same prefix, other characters: the hash decides.
        let forged = format!("{}{}", &key[..12], "0".repeat(25));
        assert_eq!(keys.verify(&forged).await.unwrap(), None);
        assert_eq!(keys.verify(&random_key()).await.unwrap(), None);
        assert!(!format!("{made:?}").contains(&key));
    }
}
