//! The core's store conformance suite for stores written in JavaScript, in every build.
//!
//! Its documented entry point is the package's subpath `@ltcg/streaming/testing` (`testing.js`,
//! typed by `testing.d.ts`). The native function is left out of the generated `index.d.ts` and
//! `index.js` exports (`skip_typescript`), so the main entry point neither declares nor names it.

use ltcg_streaming_core::store::conformance::{agent_keys, CHECKS};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{json, Value};

use crate::host_store::js_store;
use crate::task::spawn;

/// Runs every check of the core's store conformance suite (`CHECKS`, as `run_all` does)
/// against stores written in JavaScript, and the agent-key check (`agent_keys`) when the
/// store has the agent-key methods: `makeStore` is called once per check, up front, for a
/// fresh, empty store. Resolves to the names of the checks run and the failures (empty when
/// the store conforms). Declared in `testing.d.ts`.
#[napi(skip_typescript)]
pub fn run_session_store_conformance<'env>(
    env: &'env Env,
    make_store: Function<'env, (), Object<'env>>,
) -> Result<PromiseRaw<'env, Value>> {
    let stores = CHECKS
        .iter()
        .map(|_| js_store(env, make_store.call(())?))
        .collect::<Result<Vec<_>>>()?;
    let key_store = match stores.first() {
        Some(store) if store.keeps_agent_keys() => Some(js_store(env, make_store.call(())?)?),
        _ => None,
    };
    spawn(env, async move {
        let mut failures = Vec::new();
        let mut checks: Vec<&str> = CHECKS.iter().map(|(name, _)| *name).collect();
        for ((name, check), store) in CHECKS.iter().zip(&stores) {
            if let Err(failure) = check(store).await {
                failures.push(json!({ "check": name, "failure": failure }));
            }
        }
        if let Some(store) = &key_store {
            checks.push("agent_keys");
            if let Err(failure) = agent_keys(store).await {
                failures.push(json!({ "check": "agent_keys", "failure": failure }));
            }
        }
        Ok(json!({ "checks": checks, "failures": failures }))
    })
}
