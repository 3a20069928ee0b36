//! The core's session stores. A store written in JavaScript is accepted too: see
//! [`crate::host_store`].

use std::sync::Arc;

use ltcg_streaming_core::store::{
    AgentKeyStore, MemoryStore as CoreMemoryStore, PostgresStore as CorePostgresStore,
    SqliteStore as CoreSqliteStore,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::OrThrow;
use crate::host_store::js_store;
use crate::task::spawn;

/// A store argument: one of ours, or a JavaScript object with the store's methods.
pub(crate) type StoreArg<'env> = Either4<
    ClassInstance<'env, MemoryStore>,
    ClassInstance<'env, SqliteStore>,
    ClassInstance<'env, PostgresStore>,
    Object<'env>,
>;

/// Where a store argument keeps agent keys: ours all do; a JavaScript store needs the four
/// agent-key methods (else `INVALID_INPUT` naming `store`).
pub(crate) fn agent_key_store(env: &Env, store: StoreArg) -> Result<Arc<dyn AgentKeyStore>> {
    Ok(match store {
        Either4::A(store) => store.inner.clone(),
        Either4::B(store) => store.inner.clone(),
        Either4::C(store) => store.inner.clone(),
        Either4::D(object) => {
            let store = js_store(env, object)?;
            store.require_agent_keys().or_throw(env)?;
            Arc::new(store)
        }
    })
}

/// Sessions, activity feeds, credentials and webhook ids in process memory (development,
/// tests, single-process apps).
#[derive(Debug)]
#[napi]
pub struct MemoryStore {
    pub(crate) inner: Arc<CoreMemoryStore>,
}

#[napi]
impl MemoryStore {
    /// An empty store.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)] // a JavaScript constructor
    pub fn new() -> Self {
        Self {
            inner: Arc::new(CoreMemoryStore::new()),
        }
    }
}

/// A store in one SQLite file (WAL), with embedded migrations.
#[derive(Debug)]
#[napi]
pub struct SqliteStore {
    pub(crate) inner: Arc<CoreSqliteStore>,
}

#[napi]
impl SqliteStore {
    /// Opens (creating it if missing) the database file at `path` and migrates it. The
    /// parent directory must exist. Rejects with `STORE`.
    #[napi(ts_return_type = "Promise<SqliteStore>")]
    pub fn open(env: &Env, path: String) -> Result<PromiseRaw<'_, SqliteStore>> {
        spawn(env, async move {
            let store = CoreSqliteStore::open(path).await?;
            Ok(Self {
                inner: Arc::new(store),
            })
        })
    }

    /// Closes every connection (waiting for those in use); later calls fail.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let store = self.inner.clone();
        spawn(env, async move {
            store.close().await;
            Ok(())
        })
    }
}

/// A store in PostgreSQL, with embedded migrations.
#[derive(Debug)]
#[napi]
pub struct PostgresStore {
    pub(crate) inner: Arc<CorePostgresStore>,
}

#[napi]
impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`; the password never appears
    /// in errors) and migrates the database, in `schema` when given (created if missing).
    /// Rejects with `STORE`, or `INVALID_INPUT` for a malformed URL or schema name.
    #[napi(ts_return_type = "Promise<PostgresStore>")]
    pub fn connect(
        env: &Env,
        url: String,
        schema: Option<String>,
    ) -> Result<PromiseRaw<'_, PostgresStore>> {
        spawn(env, async move {
            let store = match schema {
                Some(schema) => CorePostgresStore::connect_with_schema(&url, &schema).await?,
                None => CorePostgresStore::connect(&url).await?,
            };
            Ok(Self {
                inner: Arc::new(store),
            })
        })
    }

    /// Closes every connection (waiting for those in use); later calls fail.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let store = self.inner.clone();
        spawn(env, async move {
            store.close().await;
            Ok(())
        })
    }
}
