//! [`AgentKeys`]: agents' API keys (`ltcg_…`) kept in a store as Argon2id hashes only, the
//! core's [`ltcg_streaming_core::agent_keys::AgentKeys`]: made, checked, listed, revoked.

use std::sync::Arc;

use ltcg_streaming_core::agent_keys::AgentKeys as CoreAgentKeys;
use ltcg_streaming_core::store::AgentKey;
use ltcg_streaming_core::{Clock, SystemClock};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{json, Value};

use crate::json::to_json;
use crate::store::{agent_key_store, StoreArg};
use crate::task::spawn;

/// Agents' API keys kept in a store: a key is shown once, when made; the store keeps its
/// Argon2id hash under the key's first 12 characters (its prefix). Pass it to `HttpApi` to
/// accept the keys; a revoked key is refused at once.
#[napi]
#[derive(Debug)]
pub struct AgentKeys {
    pub(crate) inner: Arc<CoreAgentKeys>,
}

#[napi]
impl AgentKeys {
    /// The keys kept in `store`: a `MemoryStore`, `SqliteStore`, `PostgresStore`, or a store
    /// written in JavaScript with `insertAgentKey`, `agentKey`, `revokeAgentKey` and
    /// `listAgentKeys` (else `INVALID_INPUT` naming `store`).
    #[napi(
        constructor,
        ts_args_type = "store: MemoryStore | SqliteStore | PostgresStore | SessionStore"
    )]
    pub fn new(env: &Env, store: StoreArg) -> Result<Self> {
        Ok(Self {
            inner: Arc::new(CoreAgentKeys::new(agent_key_store(env, store)?)),
        })
    }

    /// Makes a key for `agentId` (with an optional `label`): `{ key, record }`, where `key`
    /// is the key itself (give it to the agent; it cannot be read back) and `record` what is
    /// kept, without its hash.
    #[napi(ts_return_type = "Promise<NewAgentKey>")]
    pub fn create<'env>(
        &self,
        env: &'env Env,
        agent_id: String,
        label: Option<String>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let keys = self.inner.clone();
        spawn(env, async move {
            let made = keys
                .create(&agent_id, label.as_deref(), SystemClock.now_ms())
                .await?;
            Ok(json!({ "key": made.key.expose_secret(), "record": to_json(&made.record.view())? }))
        })
    }

    /// The agent `key` belongs to, or `null` when it is no live key.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn verify<'env>(
        &self,
        env: &'env Env,
        key: String,
    ) -> Result<PromiseRaw<'env, Option<String>>> {
        let keys = self.inner.clone();
        spawn(env, async move { keys.verify(&key).await })
    }

    /// Revokes the key with this prefix (or the whole key); its record afterwards.
    /// `NOT_FOUND` when no key has it.
    #[napi(ts_return_type = "Promise<AgentKeyView>")]
    pub fn revoke<'env>(&self, env: &'env Env, prefix: String) -> Result<PromiseRaw<'env, Value>> {
        let keys = self.inner.clone();
        spawn(env, async move {
            to_json(&keys.revoke(&prefix, SystemClock.now_ms()).await?.view())
        })
    }

    /// Every key, or `agentId`'s, oldest first (without their hashes).
    #[napi(ts_return_type = "Promise<AgentKeyView[]>")]
    pub fn list<'env>(
        &self,
        env: &'env Env,
        agent_id: Option<String>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let keys = self.inner.clone();
        spawn(env, async move {
            let list = keys.list(agent_id.as_deref()).await?;
            to_json(&list.iter().map(AgentKey::view).collect::<Vec<_>>())
        })
    }
}
