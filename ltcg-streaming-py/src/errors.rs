//! Core errors ↔ Python exceptions. The exception classes are defined in Python
//! (`ltcg_streaming.exceptions`, one per code of [`ErrorCode::ALL`], which the native module
//! exports as `ERROR_CODES` for the test that keeps them in step).
//!
//! A core error becomes an instance of its code's class with the core's message and
//! `retryable`, `field`, `retry_after_ms` or `var`. An [`Error::External`] whose source is a
//! [`PyErr`] (a Python store raised it) is re-raised as that very exception object.

use std::sync::Arc;

use ltcg_streaming_core::store::host::HOST_ERROR_CODES;
use ltcg_streaming_core::{Error, ErrorCode};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

/// The module defining the exception classes.
fn exceptions(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static MODULE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("ltcg_streaming.exceptions")?.into_any().unbind())
        })
        .map(|m| m.bind(py))
}

/// Adds `ERROR_CODES` (every stable code, in the core's order) to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    m.add("ERROR_CODES", codes)
}

/// The Python exception for a core error.
pub(crate) fn to_py_err(err: Error) -> PyErr {
    Python::attach(|py| {
        if let Error::External { source, .. } = &err {
            if let Some(original) = source.downcast_ref::<PyErr>() {
                return original.clone_ref(py);
            }
        }
        exception(py, &err).unwrap_or_else(|e| e)
    })
}

fn exception(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let code = err.code();
    let class = exceptions(py)?
        .getattr("BY_CODE")?
        .get_item(code.as_str())?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("retryable", err.is_retryable())?;
    match err {
        Error::InvalidInput { field, .. } => kwargs.set_item("field", field)?,
        Error::RateLimited { retry_after, .. } => {
            kwargs.set_item("retry_after_ms", retry_after.as_millis() as u64)?
        }
        Error::Config { var, .. } => kwargs.set_item("var", var)?,
        _ => {}
    }
    let exc = class.call((err.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(exc))
}

/// `.or_raise()`: a core result as a Python result.
pub(crate) trait OrRaise<T> {
    /// Maps the core error with [`to_py_err`].
    fn or_raise(self) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, Error> {
    fn or_raise(self) -> PyResult<T> {
        self.map_err(to_py_err)
    }
}

/// The core error for an exception raised by a Python store's `method`: a `StreamingError`
/// whose code a store may report keeps its meaning ([`Error::from_code`]); every other
/// exception travels as [`Error::External`] and reaches the caller unchanged.
pub(crate) fn from_host_exception(py: Python<'_>, method: &str, err: PyErr) -> Error {
    let value = err.value(py);
    let ours = exceptions(py)
        .and_then(|m| m.getattr("StreamingError"))
        .is_ok_and(|base| value.is_instance(&base).unwrap_or(false));
    if ours {
        let text = |name: &str| value.getattr(name).and_then(|v| v.extract::<String>()).ok();
        let message = value.str().map(|s| s.to_string()).unwrap_or_default();
        if let Some(mapped) = text("code").and_then(|code| {
            Error::from_code(&code, &HOST_ERROR_CODES, &message, text("field").as_deref())
        }) {
            return mapped;
        }
    }
    Error::External {
        message: format!("python store's {method} raised {err}"),
        source: Arc::new(err),
    }
}
