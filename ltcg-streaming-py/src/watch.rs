//! `StatusWatch`: the core's [`StatusWatch`] as an async iterator of status dicts.

use std::sync::Arc;

use ltcg_streaming_core::service::StatusWatch;
use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;
use tokio::sync::Mutex;

use crate::convert::Json;
use crate::runtime::{self, Failure};

/// A session's status now and after each change (``async for status in watch``); the
/// iteration ends after a terminal status.
#[pyclass(name = "StatusWatch", module = "ltcg_streaming", frozen)]
pub(crate) struct PyStatusWatch {
    inner: Arc<Mutex<StatusWatch>>,
}

impl PyStatusWatch {
    /// Wraps `watch`.
    pub(crate) fn new(watch: StatusWatch) -> Self {
        Self {
            inner: Arc::new(Mutex::new(watch)),
        }
    }
}

#[pymethods]
impl PyStatusWatch {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next status view (raises the read's error; ``StopAsyncIteration`` at the end).
    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let inner = self.inner.clone();
        runtime::spawn(py, async move {
            match inner.lock().await.next().await {
                Some(view) => Ok(Json(ltcg_streaming_core::json::to_value(&view?)?)),
                None => Err(Failure::Py(PyStopAsyncIteration::new_err(()))),
            }
        })
    }
}
