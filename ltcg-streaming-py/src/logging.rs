//! The library's log records reach Python's `logging`: the core logs through `tracing`,
//! whose events become `log` records when no `tracing` subscriber is installed (as in a
//! Python process), and `pyo3-log` hands those to the logger named after their module
//! (`ltcg_streaming_core.service.start`, under `ltcg_streaming_core`).
//!
//! The library's own records are offered from INFO up, other crates' (HTTP, SQL) from WARNING
//! up. Loggers are looked up once; their levels are asked on every record, so a
//! configuration made after import (`logging.basicConfig`, `caplog`) takes effect at once.

use log::LevelFilter;
use pyo3::prelude::*;
use pyo3_log::{Caching, Logger};

/// Installs the bridge (once per process; a logger installed before is left in place).
pub(crate) fn install(py: Python<'_>) -> PyResult<()> {
    let logger = Logger::new(py, Caching::Loggers)?
        .filter(LevelFilter::Warn)
        .filter_target("ltcg_streaming_core".to_owned(), LevelFilter::Info);
    // Err: another logger (an embedding program's) is installed; it keeps the records.
    let _ = logger.install();
    Ok(())
}
