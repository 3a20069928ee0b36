//! The library's log records reach Python's `logging`: the core logs through `tracing`,
//! whose events become `log` records when no `tracing` subscriber is installed (as in a
//! Python process), and `pyo3-log` hands those to the logger named after their module
//! (`ltcg_streaming_core.service.start`, under `ltcg_streaming_core`).
//!
//! Which records are offered is the core's rule ([`ltcg_streaming_core::host_logs`]). Loggers are looked up once; their levels are asked on every record, so a
//! configuration made after import (`logging.basicConfig`, `caplog`) takes effect at once.

use log::LevelFilter;
use ltcg_streaming_core::host_logs::{LIBRARY_LEVEL, LIBRARY_TARGET, OTHER_LEVEL};
use pyo3::prelude::*;
use pyo3_log::{Caching, Logger};

/// Installs the bridge (once per process; a logger installed before is left in place).
pub(crate) fn install(py: Python<'_>) -> PyResult<()> {
    let logger = Logger::new(py, Caching::Loggers)?
        .filter(filter(OTHER_LEVEL))
        .filter_target(LIBRARY_TARGET.to_owned(), filter(LIBRARY_LEVEL));
    // Err: another logger (an embedding program's) is installed; it keeps the records.
    let _ = logger.install();
    Ok(())
}

fn filter(level: tracing::Level) -> LevelFilter {
    match level {
        tracing::Level::ERROR => LevelFilter::Error,
        tracing::Level::WARN => LevelFilter::Warn,
        tracing::Level::INFO => LevelFilter::Info,
        tracing::Level::DEBUG => LevelFilter::Debug,
        tracing::Level::TRACE => LevelFilter::Trace,
    }
}
