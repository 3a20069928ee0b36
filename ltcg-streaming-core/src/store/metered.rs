//! A store that times every call into the `ltcg_streaming_store_operation_duration_seconds`
//! histogram ([`crate::telemetry`]); the service wraps the store it is given in one.

use std::sync::Arc;

use async_trait::async_trait;

use super::*;

/// Times every call of the store it wraps, labelled with the method name.
#[derive(Debug)]
pub(crate) struct MeteredStore {
    inner: Arc<dyn SessionStore>,
}

impl MeteredStore {
    /// Wraps `inner`.
    pub(crate) fn new(inner: Arc<dyn SessionStore>) -> Self {
        Self { inner }
    }
}

/// Awaits a store call and records how long it took.
macro_rules! timed_call {
    ($name:ident, $call:expr) => {{
        let began = std::time::Instant::now();
        let result = $call.await;
        crate::telemetry::store_call(stringify!($name), began.elapsed());
        result
    }};
}

delegate_session_store!([] MeteredStore, |this| this.inner, timed_call);
