//! [`PythonStore`]: a session store written in Python, as a core [`SessionStore`].
//!
//! Each trait method calls the Python method of the same name with JSON-shaped arguments
//! (sessions, activities and credentials as the core serializes them: camelCase dicts),
//! awaits the coroutine on the caller's event loop without holding the GIL, and
//! deserializes the result with the core's types. Exceptions are mapped by
//! [`from_store_exception`].
//!
//! The coroutines run on the event loop of the awaiting caller (pyo3-async-runtimes' task
//! locals), so a Python store works only through the async API: a blocking call on the
//! loop's own thread would wait for itself.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use ltcg_streaming_core::session::{Activity, ActivityKind};
use ltcg_streaming_core::store::{Insert, PlatformCredential, SessionPage, SessionQuery};
use ltcg_streaming_core::{Entity, Error, Result, SessionId, SessionStore, StreamSession};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::convert::{from_py, parse, to_py};
use crate::errors::from_store_exception;
use crate::runtime::attach;

/// The methods a Python store must have (the `SessionStore` protocol).
const METHODS: [&str; 14] = [
    "insert_session",
    "get_session",
    "find_by_egress",
    "active_session",
    "update_session",
    "list_sessions",
    "record_activity",
    "recent_activity",
    "set_viewer_count",
    "claim_event",
    "release_event",
    "put_credential",
    "get_credential",
    "delete_credential",
];

/// What `insert_session` returns: `{"created": bool, "session": {...}}`.
#[derive(Deserialize)]
struct Inserted {
    created: bool,
    session: StreamSession,
}

type Awaiting = Pin<Box<dyn Future<Output = PyResult<Py<PyAny>>> + Send>>;

/// A call's result: a plain value (already read), or an awaitable run on the event loop.
enum Pending {
    Ready(Value),
    Awaiting(Awaiting),
}

/// A Python object implementing the `SessionStore` protocol.
pub(crate) struct PythonStore {
    obj: Py<PyAny>,
    class: String,
}

impl fmt::Debug for PythonStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PythonStore({})", self.class)
    }
}

impl PythonStore {
    /// Wraps `obj` after checking it has every store method.
    pub(crate) fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let class = obj.get_type().name()?.to_string();
        let missing: Vec<&str> = METHODS
            .into_iter()
            .filter(|m| !obj.hasattr(*m).unwrap_or(false))
            .collect();
        if !missing.is_empty() {
            return Err(PyTypeError::new_err(format!(
                "{class} is not a session store: it lacks {}",
                missing.join(", ")
            )));
        }
        Ok(Self {
            obj: obj.clone().unbind(),
            class,
        })
    }

    /// Calls `method(*args)` and awaits the result, holding the GIL only to start the call
    /// and to read the result.
    async fn call(&self, method: &'static str, args: Vec<Value>) -> Result<Value> {
        let failed = |py: Python<'_>, e: PyErr| from_store_exception(py, method, e);
        let pending = attach(|py| self.start(py, method, &args).map_err(|e| failed(py, e)))
            .ok_or_else(exiting)??;
        let result = match pending {
            Pending::Ready(value) => return Ok(value),
            Pending::Awaiting(future) => future.await,
        };
        attach(|py| {
            result
                .and_then(|value| from_py(value.bind(py)))
                .map_err(|e| failed(py, e))
        })
        .ok_or_else(exiting)?
    }

    fn start(&self, py: Python<'_>, method: &str, args: &[Value]) -> PyResult<Pending> {
        static IS_AWAITABLE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let args = args
            .iter()
            .map(|a| to_py(py, a))
            .collect::<PyResult<Vec<_>>>()?;
        let result = self
            .obj
            .bind(py)
            .call_method1(method, PyTuple::new(py, args)?)?;
        let is_awaitable = IS_AWAITABLE.import(py, "inspect", "isawaitable")?;
        if !is_awaitable.call1((&result,))?.is_truthy()? {
            return Ok(Pending::Ready(from_py(&result)?));
        }
        let locals = pyo3_async_runtimes::tokio::get_current_locals(py).map_err(|_| {
            PyRuntimeError::new_err(
                "a Python session store can only be used from the async API, with an event loop running",
            )
        })?;
        let future = pyo3_async_runtimes::into_future_with_locals(&locals, result)?;
        Ok(Pending::Awaiting(Box::pin(future)))
    }

    /// [`PythonStore::call`], with the result read as a `T`.
    async fn call_as<T: DeserializeOwned>(
        &self,
        method: &'static str,
        args: Vec<Value>,
    ) -> Result<T> {
        let value = self.call(method, args).await?;
        parse(value, false).map_err(|e| {
            let at = if e.field.is_empty() {
                String::new()
            } else {
                format!(" at {}", e.field)
            };
            Error::External {
                message: format!("python store's {method} returned an invalid value"),
                source: Arc::new(PyTypeError::new_err(format!(
                    "{}.{method} returned an invalid value{at}: {}",
                    self.class, e.reason
                ))),
            }
        })
    }
}

/// The error of a store call made while the interpreter exits.
fn exiting() -> Error {
    Error::Store {
        message: "the Python interpreter is shutting down".into(),
    }
}

/// `value` as JSON (the core's types always serialize).
fn arg<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Store {
        message: format!("could not serialize a store argument: {e}"),
    })
}

#[async_trait]
impl SessionStore for PythonStore {
    async fn insert_session(&self, session: &StreamSession) -> Result<Insert> {
        let out: Inserted = self.call_as("insert_session", vec![arg(session)?]).await?;
        Ok(if out.created {
            Insert::Created(out.session)
        } else {
            Insert::Existing(out.session)
        })
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<StreamSession>> {
        self.call_as("get_session", vec![id.as_str().into()]).await
    }

    async fn find_by_egress(&self, egress_id: &str) -> Result<Option<StreamSession>> {
        self.call_as("find_by_egress", vec![egress_id.into()]).await
    }

    async fn active_session(&self, entity: &Entity) -> Result<Option<StreamSession>> {
        self.call_as("active_session", vec![arg(entity)?]).await
    }

    async fn update_session(&self, session: &StreamSession) -> Result<StreamSession> {
        self.call_as("update_session", vec![arg(session)?]).await
    }

    async fn list_sessions(&self, query: &SessionQuery) -> Result<SessionPage> {
        let query = json!({
            "entity": arg(&query.entity)?,
            "status": arg(&query.status)?,
            "activeOnly": query.active_only,
            "cursor": query.cursor,
            "limit": query.page_size(),
        });
        self.call_as("list_sessions", vec![query]).await
    }

    async fn record_activity(&self, id: &SessionId, activity: &Activity) -> Result<StreamSession> {
        let args = vec![id.as_str().into(), arg(activity)?];
        self.call_as("record_activity", args).await
    }

    async fn recent_activity(
        &self,
        id: &SessionId,
        kind: ActivityKind,
        limit: usize,
    ) -> Result<Vec<Activity>> {
        let args = vec![id.as_str().into(), kind.as_str().into(), limit.into()];
        self.call_as("recent_activity", args).await
    }

    async fn set_viewer_count(&self, id: &SessionId, viewers: u64) -> Result<StreamSession> {
        let args = vec![id.as_str().into(), viewers.into()];
        self.call_as("set_viewer_count", args).await
    }

    async fn claim_event(&self, event_id: &str, now_ms: i64) -> Result<bool> {
        let args = vec![event_id.into(), now_ms.into()];
        self.call_as("claim_event", args).await
    }

    async fn release_event(&self, event_id: &str) -> Result<()> {
        self.call("release_event", vec![event_id.into()]).await?;
        Ok(())
    }

    async fn put_credential(&self, credential: &PlatformCredential) -> Result<()> {
        self.call("put_credential", vec![arg(credential)?]).await?;
        Ok(())
    }

    async fn get_credential(&self, entity: &Entity) -> Result<Option<PlatformCredential>> {
        self.call_as("get_credential", vec![arg(entity)?]).await
    }

    async fn delete_credential(&self, entity: &Entity) -> Result<bool> {
        self.call_as("delete_credential", vec![arg(entity)?]).await
    }
}
