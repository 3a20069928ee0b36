//! [`StatusWatch`]: the core's status watch, one Promise per view.

use std::sync::Arc;

use ltcg_streaming_core::service::{watch_refresh, StatusWatch as CoreWatch};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::json::to_js_numbers;
use crate::task::spawn;

/// A session's status now and after each change, from `client.watchStatus(sessionId)` or
/// `service.watchStatus(actor, sessionId)`:
///
/// ```js
/// for (let status; (status = await watch.next()) !== null; ) console.log(status.status)
/// ```
///
/// `next()` resolves with `null` after a terminal status has been given. A refused first
/// read (unknown session, not allowed) rejects and ends the watch; a later failed read
/// rejects and the watch goes on.
#[napi]
#[derive(Debug)]
pub struct StatusWatch {
    inner: Arc<Mutex<CoreWatch>>,
}

impl StatusWatch {
    /// Wraps `watch`.
    pub(crate) fn new(watch: CoreWatch) -> Self {
        Self {
            inner: Arc::new(Mutex::new(watch)),
        }
    }
}

#[napi]
impl StatusWatch {
    /// The next status view, or `null` once the session has ended.
    #[napi(ts_return_type = "Promise<SessionStatusView | null>")]
    pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Value>> {
        let inner = self.inner.clone();
        spawn(env, async move {
            match inner.lock().await.next().await {
                Some(view) => {
                    let mut out = ltcg_streaming_core::json::to_value(&view?)?;
                    to_js_numbers(&mut out);
                    Ok(out)
                }
                None => Ok::<Value, ltcg_streaming_core::Error>(Value::Null),
            }
        })
    }
}

/// A refresh period from milliseconds (the core's rule), or the default.
pub(crate) fn refresh(ms: Option<f64>) -> ltcg_streaming_core::Result<Option<std::time::Duration>> {
    ms.map(|ms| watch_refresh("refreshMs", ms / 1000.0))
        .transpose()
}
