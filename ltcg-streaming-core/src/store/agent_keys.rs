//! Where agents' API keys are kept: only a hash of each key, under the key's public prefix
//! (its first [`AGENT_KEY_PREFIX_LEN`] characters, the product's `keyPrefix`). Making,
//! checking and revoking keys is [`crate::agent_keys::AgentKeys`]'s job; stores only keep
//! the records.

use std::fmt;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Length of a key's public prefix (`ltcg_` and seven more characters).
pub const AGENT_KEY_PREFIX_LEN: usize = 12;

/// Longest label accepted, in bytes.
pub const MAX_AGENT_KEY_LABEL_BYTES: usize = 200;

/// A stored agent API key: who it belongs to and its Argon2id hash, never the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentKey {
    /// The key's first [`AGENT_KEY_PREFIX_LEN`] characters; names the key in lists and
    /// revocations, and finds its record when it is presented.
    pub prefix: String,
    /// The agent the key acts as.
    pub agent_id: String,
    /// The key's Argon2id hash in PHC form (`$argon2id$v=19$...`).
    pub hash: String,
    /// What the operator called it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Made at, Unix ms.
    pub created_at: i64,
    /// Revoked at, Unix ms; a revoked key is never accepted again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

/// What an operator is shown of a stored key: everything but its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentKeyView {
    /// The key's first [`AGENT_KEY_PREFIX_LEN`] characters.
    pub prefix: String,
    /// The agent the key acts as.
    pub agent_id: String,
    /// What the operator called it.
    pub label: Option<String>,
    /// Made at, Unix ms.
    pub created_at: i64,
    /// Revoked at, Unix ms.
    pub revoked_at: Option<i64>,
}

impl AgentKey {
    /// The key as an operator sees it (no hash).
    pub fn view(&self) -> AgentKeyView {
        AgentKeyView {
            prefix: self.prefix.clone(),
            agent_id: self.agent_id.clone(),
            label: self.label.clone(),
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        }
    }
}

impl fmt::Debug for AgentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentKey")
            .field("prefix", &self.prefix)
            .field("agent_id", &self.agent_id)
            .field("hash", &"<argon2id>")
            .field("label", &self.label)
            .field("created_at", &self.created_at)
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}

impl AgentKey {
    /// Whether the key is revoked.
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// Checks a prefix's shape, naming the field at fault.
pub(crate) fn check_prefix(prefix: &str) -> Result<()> {
    if prefix.len() != AGENT_KEY_PREFIX_LEN
        || !prefix.starts_with(crate::agent_keys::AGENT_KEY_MARK)
        || !prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Error::invalid(
            "keyPrefix",
            format!("must be the first {AGENT_KEY_PREFIX_LEN} characters of an agent key (ltcg_…)"),
        ));
    }
    Ok(())
}

/// Agent API key records, kept by the SQL stores and [`crate::MemoryStore`].
#[async_trait]
pub trait AgentKeyStore: Send + Sync + fmt::Debug {
    /// Stores a new key; `false` (and nothing written) when its prefix is taken.
    async fn insert_agent_key(&self, key: &AgentKey) -> Result<bool>;

    /// The key with this prefix.
    async fn agent_key(&self, prefix: &str) -> Result<Option<AgentKey>>;

    /// Marks the key revoked at `now_ms` (a key revoked before keeps its first time); the
    /// record afterwards, `None` when there is no such key.
    async fn revoke_agent_key(&self, prefix: &str, now_ms: i64) -> Result<Option<AgentKey>>;

    /// Every key, or one agent's, oldest first (then by prefix).
    async fn list_agent_keys(&self, agent_id: Option<&str>) -> Result<Vec<AgentKey>>;
}

#[async_trait]
impl<T: AgentKeyStore + ?Sized> AgentKeyStore for std::sync::Arc<T> {
    async fn insert_agent_key(&self, key: &AgentKey) -> Result<bool> {
        (**self).insert_agent_key(key).await
    }
    async fn agent_key(&self, prefix: &str) -> Result<Option<AgentKey>> {
        (**self).agent_key(prefix).await
    }
    async fn revoke_agent_key(&self, prefix: &str, now_ms: i64) -> Result<Option<AgentKey>> {
        (**self).revoke_agent_key(prefix, now_ms).await
    }
    async fn list_agent_keys(&self, agent_id: Option<&str>) -> Result<Vec<AgentKey>> {
        (**self).list_agent_keys(agent_id).await
    }
}
