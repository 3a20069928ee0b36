//! The core's session stores, and the choice of store for a service.

use std::path::PathBuf;
use std::sync::Arc;

use ltcg_streaming_core::store::{PostgresStore, SqliteStore};
use ltcg_streaming_core::{MemoryStore, SessionStore};
use pyo3::prelude::*;

use crate::host_store::python_store;
use crate::runtime::spawn;

/// Sessions in process memory: fast, exact, gone when the process exits.
#[pyclass(name = "MemoryStore", module = "ltcg_streaming", frozen)]
pub(crate) struct PyMemoryStore {
    store: Arc<MemoryStore>,
}

#[pymethods]
impl PyMemoryStore {
    #[new]
    fn new() -> Self {
        Self {
            store: Arc::new(MemoryStore::new()),
        }
    }

    fn __repr__(&self) -> &'static str {
        "MemoryStore()"
    }
}

/// Sessions in a SQLite file; open with `await SqliteStore.open(path)`.
#[pyclass(name = "SqliteStore", module = "ltcg_streaming", frozen)]
pub(crate) struct PySqliteStore {
    store: Arc<SqliteStore>,
    path: PathBuf,
}

#[pymethods]
impl PySqliteStore {
    /// Opens (creating if needed) the database at `path` and applies the migrations.
    #[staticmethod]
    fn open(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyAny>> {
        spawn(py, async move {
            let store = SqliteStore::open(&path).await?;
            Ok(Self {
                store: Arc::new(store),
                path,
            })
        })
    }

    fn __aenter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, PyAny>> {
        crate::runtime::ready(slf.into_any())
    }

    /// Closes the store.
    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.close(py)
    }

    /// Closes the connections (calls made afterwards fail).
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store.clone();
        spawn(py, async move {
            store.close().await;
            Ok(())
        })
    }

    /// The database file.
    #[getter]
    fn path(&self) -> &PathBuf {
        &self.path
    }

    fn __repr__(&self) -> String {
        format!("SqliteStore('{}')", self.path.display())
    }
}

/// Sessions in PostgreSQL; connect with `await PostgresStore.connect(url)`.
#[pyclass(name = "PostgresStore", module = "ltcg_streaming", frozen)]
pub(crate) struct PyPostgresStore {
    store: Arc<PostgresStore>,
}

#[pymethods]
impl PyPostgresStore {
    /// Connects to `url` and applies the migrations (in `schema` when given).
    #[staticmethod]
    #[pyo3(signature = (url, schema=None))]
    fn connect(py: Python<'_>, url: String, schema: Option<String>) -> PyResult<Bound<'_, PyAny>> {
        spawn(py, async move {
            let store = match schema {
                Some(schema) => PostgresStore::connect_with_schema(&url, &schema).await,
                None => PostgresStore::connect(&url).await,
            }?;
            Ok(Self {
                store: Arc::new(store),
            })
        })
    }

    fn __aenter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, PyAny>> {
        crate::runtime::ready(slf.into_any())
    }

    /// Closes the store.
    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.close(py)
    }

    /// Closes the connections (calls made afterwards fail).
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store.clone();
        spawn(py, async move {
            store.close().await;
            Ok(())
        })
    }

    /// The schema the tables live in, when one was given.
    #[getter]
    fn schema(&self) -> Option<&str> {
        self.store.schema()
    }

    fn __repr__(&self) -> String {
        // Never the URL: it may carry a password.
        match self.store.schema() {
            Some(schema) => format!("PostgresStore(schema='{schema}')"),
            None => "PostgresStore()".to_owned(),
        }
    }
}

/// The store behind `obj`: one of ours, or any object with the store's async methods.
pub(crate) fn session_store(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn SessionStore>> {
    if let Ok(s) = obj.cast::<PyMemoryStore>() {
        return Ok(s.get().store.clone());
    }
    if let Ok(s) = obj.cast::<PySqliteStore>() {
        return Ok(s.get().store.clone());
    }
    if let Ok(s) = obj.cast::<PyPostgresStore>() {
        return Ok(s.get().store.clone());
    }
    Ok(Arc::new(python_store(obj)?))
}
