//! The call glue of a session store written in JavaScript (e.g. backed by Convex mutations):
//! the core's [`HostStore`] does the rest (method table, argument and result shapes, error
//! meanings; see `ltcg_streaming_core::store::host`).
//!
//! Any object with the store's camelCase methods is accepted wherever a store is; the
//! methods may be `async` or plain, and `pruneEvents` is optional. Each becomes a weak
//! threadsafe function (it never keeps Node alive), called from the service's tokio tasks and
//! awaited there, so the store only runs while the JavaScript thread is free: drive it
//! through the Promise-returning API. A method reports an outcome of the contract by throwing
//! an error whose `code` is `CONFLICT`, `NOT_FOUND`, `INVALID_INPUT` (with `field`) or
//! `STORE`; any other exception becomes `EXTERNAL` with the exception as `cause`.

use std::sync::Arc;

use async_trait::async_trait;
use ltcg_streaming_core::store::host::{HostCall, HostStore, StoreMethod, HOST_ERROR_CODES};
use ltcg_streaming_core::{Error, Result};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use serde::Deserialize;
use serde_json::Value;

use crate::error::OrThrow;
use crate::json::{from_js_numbers, to_js_numbers};

/// Wraps `store[name]` into `async (args) => outcome`: `{ value }` on success, `{ code,
/// message, field }` for an error carrying one of the codes a store may report; any other
/// exception rejects unchanged. Calling through `store[name]` keeps `this` bound.
const ADAPTER: &str = r#"(store, name, codes) => async (args) => {
  try {
    return { value: await store[name](...args) };
  } catch (error) {
    const code = error !== null && typeof error === "object" ? error.code : undefined;
    if (codes.includes(code)) {
      const field = typeof error.field === "string" ? error.field : null;
      return { code, message: String(error.message ?? ""), field };
    }
    throw error;
  }
}"#;

/// One adapted store method: called with the argument array, resolves to the outcome.
type StoreFn = ThreadsafeFunction<Value, Promise<Value>, Value, Status, false, true>;

/// [`ADAPTER`] as a function of the store, a method name and the codes passed through.
type Adapter<'env> = Function<
    'env,
    FnArgs<(Object<'env>, &'static str, Vec<&'static str>)>,
    Function<'env, Value, Promise<Value>>,
>;

/// What the adapter resolves to.
#[derive(Deserialize)]
struct Outcome {
    #[serde(default)]
    value: Value,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    field: Option<String>,
}

/// The adapted methods of a JavaScript store, by [`StoreMethod::ALL`] position (`None`: the
/// object lacks that optional method).
struct JsObject(Vec<Option<StoreFn>>);

/// The core store over the JavaScript object `store`. Throws `INVALID_INPUT` (field `store`)
/// naming the methods it lacks.
pub(crate) fn js_store(env: &Env, store: Object) -> napi::Result<HostStore> {
    let adapt: Adapter = env.run_script(ADAPTER)?;
    let codes: Vec<&'static str> = HOST_ERROR_CODES.iter().map(|c| c.as_str()).collect();
    let mut methods = Vec::with_capacity(StoreMethod::ALL.len());
    for method in StoreMethod::ALL {
        let value: Unknown = store.get_named_property(method.camel_name())?;
        methods.push(if value.get_type()? == ValueType::Function {
            let adapted = adapt.call(FnArgs::from((store, method.camel_name(), codes.clone())))?;
            Some(
                adapted
                    .build_threadsafe_function()
                    .callee_handled::<false>()
                    .weak::<true>()
                    .build()?,
            )
        } else {
            None
        });
    }
    let present: Vec<bool> = methods.iter().map(Option::is_some).collect();
    HostStore::new(
        JsObject(methods),
        "JS store",
        |m| present[position(m)],
        StoreMethod::camel_name,
    )
    .or_throw(env)
}

/// The index of `method` in [`StoreMethod::ALL`].
fn position(method: StoreMethod) -> usize {
    StoreMethod::ALL
        .iter()
        .position(|m| *m == method)
        .unwrap_or_default()
}

#[async_trait]
impl HostCall for JsObject {
    async fn call(&self, method: StoreMethod, mut args: Vec<Value>) -> Result<Value> {
        let name = method.camel_name();
        let Some(function) = &self.0[position(method)] else {
            return Err(Error::invalid("store", format!("has no {name}() method")));
        };
        args.iter_mut().for_each(to_js_numbers);
        let outcome = match function.call_async_catch(Value::Array(args)).await {
            Ok(promise) => promise.await,
            Err(err) => Err(err),
        }
        .map_err(|err| Error::External {
            message: format!("JS store {name}() failed: {}", err.reason),
            source: Arc::new(err),
        })?;
        let mut outcome: Outcome =
            serde_json::from_value(outcome).map_err(|err| Error::External {
                message: format!("JS store {name}() gave an unreadable outcome: {err}"),
                source: Arc::new(err),
            })?;
        match outcome.code {
            None => {
                from_js_numbers(&mut outcome.value);
                Ok(outcome.value)
            }
            Some(code) => Err(Error::from_code(
                &code,
                &HOST_ERROR_CODES,
                &outcome.message,
                outcome.field.as_deref(),
            )
            .unwrap_or_else(|| Error::Store {
                message: format!("JS store {name}(): {}", outcome.message),
            })),
        }
    }
}
