//! Python binding of `ltcg-streaming`: the native module `ltcg_streaming._ltcg_streaming`.
//!
//! Thin by design: arguments are converted to the core's types, the core does the work
//! (async calls on a shared tokio runtime, without the GIL), and results come back as plain
//! dicts with the seed's camelCase keys. The Python package (`python/ltcg_streaming`)
//! re-exports everything with typing stubs.

mod actor;
mod client;
mod config;
mod convert;
mod crypto;
mod egress;
mod errors;
mod functions;
mod host_store;
mod logging;
mod runtime;
mod service;
mod stores;
mod testing;
mod watch;

use pyo3::prelude::*;

#[pymodule]
fn _ltcg_streaming(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    logging::install(m.py())?;
    let wait = wrap_pyfunction!(runtime::wait_for_runtime_threads, m)?;
    m.py().import("atexit")?.call_method1("register", (wait,))?;
    errors::register(m)?;
    m.add_class::<actor::PyActor>()?;
    m.add_class::<config::PyStreamingConfig>()?;
    m.add_class::<crypto::PyStreamKeyVault>()?;
    m.add_class::<crypto::PyOverlayTokens>()?;
    m.add_class::<crypto::PyWebhookVerifier>()?;
    m.add_class::<stores::PyMemoryStore>()?;
    m.add_class::<stores::PySqliteStore>()?;
    m.add_class::<stores::PyPostgresStore>()?;
    m.add_class::<egress::PyLiveKitEgress>()?;
    m.add_class::<egress::PyMemoryEgress>()?;
    m.add_class::<egress::PyBrowserEgress>()?;
    m.add_class::<service::PyStreamingService>()?;
    m.add_class::<client::PyClient>()?;
    m.add_class::<watch::PyStatusWatch>()?;
    m.add_function(wrap_pyfunction!(functions::build_rtmp_url, m)?)?;
    m.add_function(wrap_pyfunction!(functions::redact_url, m)?)?;
    m.add_function(wrap_pyfunction!(functions::default_overlay_config, m)?)?;
    m.add_function(wrap_pyfunction!(functions::estimate_cost, m)?)?;
    // `ltcg_streaming.testing` re-exports these; `import ltcg_streaming` does not.
    m.add_function(wrap_pyfunction!(testing::run_session_store_conformance, m)?)?;
    m.add_function(wrap_pyfunction!(
        testing::session_store_conformance_checks,
        m
    )?)?;
    Ok(())
}
