//! The call glue of a session store written in Python: the core's [`HostStore`] does the
//! rest (method table, argument and result shapes, error meanings).
//!
//! Each call invokes the Python method of the store's snake_case name with JSON-shaped
//! arguments (camelCase dicts), awaits the coroutine on the caller's event loop without
//! holding the GIL, and reads the result back as JSON. A Python store works only through the
//! async API: its coroutines run on the awaiting caller's loop (pyo3-async-runtimes' task
//! locals), and a blocking call on the loop's own thread would wait for itself.

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use ltcg_streaming_core::store::host::{HostCall, HostStore, StoreMethod};
use ltcg_streaming_core::{Error, Result};
use pyo3::exceptions::PyRuntimeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;
use serde_json::Value;

use crate::convert::{from_py, to_py};
use crate::errors::{from_host_exception, OrRaise};
use crate::runtime::attach;

type Awaiting = Pin<Box<dyn Future<Output = PyResult<Py<PyAny>>> + Send>>;

/// A call's result: a plain value (already read), or an awaitable run on the event loop.
enum Pending {
    Ready(Value),
    Awaiting(Awaiting),
}

/// A Python object implementing the `SessionStore` protocol.
struct PythonObject(Py<PyAny>);

/// The core store over the Python object `obj` (its missing methods are named).
pub(crate) fn python_store(obj: &Bound<'_, PyAny>) -> PyResult<HostStore> {
    let class = obj.get_type().name()?.to_string();
    HostStore::new(
        PythonObject(obj.clone().unbind()),
        class,
        |m| obj.hasattr(m.snake_name()).unwrap_or(false),
        StoreMethod::snake_name,
    )
    .or_raise()
}

impl PythonObject {
    fn start(&self, py: Python<'_>, method: &str, args: &[Value]) -> PyResult<Pending> {
        static IS_AWAITABLE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let args = args
            .iter()
            .map(|a| to_py(py, a))
            .collect::<PyResult<Vec<_>>>()?;
        let result = self
            .0
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
        // A task of our own, so that a call abandoned by the core (its caller was cancelled
        // before the call committed) cancels the Python side too.
        let event_loop = locals.event_loop(py);
        let task = event_loop.call_method1(intern!(py, "create_task"), (result,))?;
        let guard = CancelOnDrop {
            task: task.clone().unbind(),
            event_loop: event_loop.unbind(),
        };
        let future = pyo3_async_runtimes::into_future_with_locals(&locals, task)?;
        Ok(Pending::Awaiting(Box::pin(async move {
            let out = future.await;
            drop(guard);
            out
        })))
    }
}

/// Cancels a Python task when dropped before it finished (a no-op once it is done).
struct CancelOnDrop {
    task: Py<PyAny>,
    event_loop: Py<PyAny>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        // A closed loop refuses the call: nothing is left to cancel then.
        let _ = attach(|py| -> PyResult<()> {
            let task = self.task.bind(py);
            if !task.call_method0(intern!(py, "done"))?.is_truthy()? {
                let cancel = task.getattr(intern!(py, "cancel"))?;
                self.event_loop
                    .bind(py)
                    .call_method1(intern!(py, "call_soon_threadsafe"), (cancel,))?;
            }
            Ok(())
        });
    }
}

#[async_trait]
impl HostCall for PythonObject {
    /// Calls the method, holding the GIL only to start the call and to read the result.
    async fn call(&self, method: StoreMethod, args: Vec<Value>) -> Result<Value> {
        let name = method.snake_name();
        let failed = |py: Python<'_>, e: PyErr| from_host_exception(py, name, e);
        let pending = attach(|py| self.start(py, name, &args).map_err(|e| failed(py, e)))
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
}

/// The error of a store call made while the interpreter exits.
fn exiting() -> Error {
    Error::Store {
        message: "the Python interpreter is shutting down".into(),
    }
}
