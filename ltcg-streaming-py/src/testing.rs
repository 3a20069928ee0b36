//! The core's store conformance suite for stores written in Python, shipped in every wheel
//! and imported on request as `ltcg_streaming.testing` (`import ltcg_streaming` leaves it out).
//! The doc comments below are the functions' Python docstrings.

use std::sync::{Arc, Mutex};

use ltcg_streaming_core::store::conformance::{run_all, CHECKS};
use ltcg_streaming_core::SessionStore;
use pyo3::prelude::*;

use crate::runtime::spawn;
use crate::stores::session_store;

/// The names of the store conformance checks, in the order
/// ``run_session_store_conformance`` runs them (e.g. ``"insert_and_get"``,
/// ``"concurrent_updates_lose_nothing"``). Checks are added as the store contract is
/// sharpened, so the list may grow between releases.
#[pyfunction]
pub(crate) fn session_store_conformance_checks() -> Vec<&'static str> {
    CHECKS.iter().map(|(name, _)| *name).collect()
}

/// Checks a session store against the core's conformance suite.
///
/// ``factory`` is called with no arguments once per check, before any check runs, and must
/// return a fresh, empty store: an object with the methods of
/// ``ltcg_streaming.SessionStore`` (``prune_events`` included), or one of the built-in
/// stores. Returns an awaitable (call it on a running event loop, e.g. from a test) that
/// resolves to the ``(check, failure)`` pairs of the failed checks, in the order of
/// ``session_store_conformance_checks()``: ``[]`` when the store conforms. An exception the
/// store raises is reported as its check's failure; one that ``factory`` raises propagates
/// from this call.
///
/// Example::
///
///     failures = await run_session_store_conformance(MyStore)
///     assert failures == [], failures
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
