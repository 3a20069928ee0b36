//! Test-only entry points (cargo feature `testing`, built by `npm run build:test`).

use ltcg_streaming_core::store::conformance::CHECKS;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{json, Value};

use crate::host_store::js_store;
use crate::task::spawn;

/// Runs every check of the core's store conformance suite (`CHECKS`, as `run_all` does)
/// against stores written in JavaScript: `makeStore` is called once per check, up front, for a
/// fresh, empty store. Resolves to the names of the checks run and the failures (empty when
/// the store conforms).
#[napi(
    ts_args_type = "makeStore: () => object",
    ts_return_type = "Promise<{ checks: string[]; failures: { check: string; failure: string }[] }>"
)]
pub fn run_session_store_conformance<'env>(
    env: &'env Env,
    make_store: Function<'env, (), Object<'env>>,
) -> Result<PromiseRaw<'env, Value>> {
    let stores = CHECKS
        .iter()
        .map(|_| js_store(env, make_store.call(())?))
        .collect::<Result<Vec<_>>>()?;
    spawn(env, async move {
        let mut failures = Vec::new();
        for ((name, check), store) in CHECKS.iter().zip(&stores) {
            if let Err(failure) = check(store).await {
                failures.push(json!({ "check": name, "failure": failure }));
            }
        }
        let checks: Vec<&str> = CHECKS.iter().map(|(name, _)| *name).collect();
        Ok(json!({ "checks": checks, "failures": failures }))
    })
}
