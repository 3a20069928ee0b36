//! Test-only helpers (cargo feature `testing`): the core's store conformance suite, for
//! stores written in Python.

use std::sync::{Arc, Mutex};

use ltcg_streaming_core::store::conformance::{run_all, CHECKS};
use ltcg_streaming_core::SessionStore;
use pyo3::prelude::*;

use crate::runtime::spawn;
use crate::stores::session_store;

/// The names of the conformance checks, in the order they run.
#[pyfunction]
pub(crate) fn session_store_conformance_checks() -> Vec<&'static str> {
    CHECKS.iter().map(|(name, _)| *name).collect()
}

/// Runs every conformance check against a fresh store from `factory` (called once per check,
/// before the run); resolves to the `(check, failure)` pairs, empty when the store conforms.
#[pyfunction]
pub(crate) fn run_session_store_conformance<'py>(
    py: Python<'py>,
    factory: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let stores = (0..CHECKS.len())
        .map(|_| session_store(&factory.call0()?))
        .collect::<PyResult<Vec<Arc<dyn SessionStore>>>>()?;
    let stores = Mutex::new(stores.into_iter());
    spawn(py, async move {
        let failures = run_all(|| {
            let store = stores
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .next();
            async move { store.unwrap_or_else(|| unreachable!("run_all takes one store per check")) }
        })
        .await;
        Ok(failures)
    })
}
