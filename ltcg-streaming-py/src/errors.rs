//! Exceptions: `StreamingError` and one subclass per core error code, generated from
//! [`ErrorCode::ALL`], plus the conversions between core errors and Python exceptions.
//!
//! Core errors become instances of the class of their code, with the core's message and
//! `code`, `retryable` and (by kind) `field`, `retry_after` or `var` attributes. An
//! [`Error::External`] whose source is a [`PyErr`] (a Python store raised it) is re-raised as
//! that very exception object.

use std::ffi::CString;
use std::sync::Arc;

use ltcg_streaming_core::{Error, ErrorCode};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

create_exception!(
    ltcg_streaming,
    StreamingError,
    PyException,
    "Base class of every ltcg_streaming error; `code` is the stable error code."
);

/// The exception class of each code, in [`ErrorCode::ALL`] order.
static CLASSES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

/// `INVALID_INPUT` → `InvalidInputError`.
fn class_name(code: ErrorCode) -> String {
    let mut name = String::new();
    for word in code.as_str().split('_') {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.push(first);
            name.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    name + "Error"
}

fn classes(py: Python<'_>) -> PyResult<&Vec<Py<PyType>>> {
    CLASSES.get_or_try_init(py, || {
        let base = py.get_type::<StreamingError>();
        ErrorCode::ALL
            .iter()
            .map(|&code| {
                let name = CString::new(format!("ltcg_streaming.{}", class_name(code)))?;
                let doc = CString::new(format!("An error with code `{code}`."))?;
                let class = PyErr::new_type(py, &name, Some(&doc), Some(&base), None)?;
                class.bind(py).setattr("code", code.as_str())?;
                Ok(class)
            })
            .collect()
    })
}

/// The class raised for `code` (the base class for a code this binding does not know).
fn class_of(py: Python<'_>, code: ErrorCode) -> PyResult<Bound<'_, PyType>> {
    Ok(match ErrorCode::ALL.iter().position(|c| *c == code) {
        Some(i) => classes(py)?[i].bind(py).clone(),
        None => py.get_type::<StreamingError>(),
    })
}

/// Adds `StreamingError` and its subclasses to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("StreamingError", py.get_type::<StreamingError>())?;
    for (&code, class) in ErrorCode::ALL.iter().zip(classes(py)?) {
        m.add(class_name(code).as_str(), class.clone_ref(py))?;
    }
    Ok(())
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
    let exc = class_of(py, code)?.call1((err.to_string(),))?;
    exc.setattr("code", code.as_str())?;
    exc.setattr("retryable", err.is_retryable())?;
    match err {
        Error::InvalidInput { field, .. } => exc.setattr("field", field)?,
        Error::RateLimited { retry_after } => {
            exc.setattr("retry_after", retry_after.as_secs_f64())?
        }
        Error::Config { var, .. } => exc.setattr("var", var)?,
        _ => {}
    }
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

/// The core error for an exception raised by a Python store's `method`.
///
/// `ConflictError`, `NotFoundError` and `InvalidInputError` carry their meaning to the core
/// (which retries on conflicts, answers 404s and rejects bad cursors); every other exception
/// travels as [`Error::External`] and reaches the caller unchanged.
pub(crate) fn from_store_exception(py: Python<'_>, method: &str, err: PyErr) -> Error {
    let value = err.value(py);
    let message = value.str().map(|s| s.to_string()).unwrap_or_default();
    let is =
        |code| class_of(py, code).is_ok_and(|class| value.is_instance(&class).unwrap_or(false));
    if is(ErrorCode::Conflict) {
        let reason = message.strip_prefix("conflict: ").unwrap_or(&message);
        return Error::conflict(reason);
    }
    if is(ErrorCode::NotFound) {
        let what = message.strip_suffix(" not found").unwrap_or(&message);
        return Error::not_found(what);
    }
    if is(ErrorCode::InvalidInput) {
        let field = value
            .getattr("field")
            .and_then(|f| f.extract::<String>())
            .unwrap_or_else(|_| "input".to_owned());
        let prefix = format!("invalid {field}: ");
        let reason = message.strip_prefix(&prefix).unwrap_or(&message);
        return Error::invalid(field.as_str(), reason);
    }
    Error::External {
        message: format!("python store's {method} raised {err}"),
        source: Arc::new(err),
    }
}
