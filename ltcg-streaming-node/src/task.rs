//! Core futures as JavaScript Promises.

use std::future::Future;

use ltcg_streaming_core::Result;
use napi::bindgen_prelude::*;

use crate::error::js_error;

/// Runs `work` on the binding's tokio runtime and returns a Promise of its value. A core error
/// rejects the Promise with the error built by [`js_error`] (on the JavaScript thread, so it
/// keeps its `code`).
pub(crate) fn spawn<'env, T, F>(env: &'env Env, work: F) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    env.spawn_future_with_callback(async move { Ok(work.await) }, |env, outcome| {
        outcome.map_err(|err| js_error(env, err))
    })
}
