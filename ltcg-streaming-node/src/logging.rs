//! `setLogger`: the library's log records handed to a JavaScript function (the host's
//! logger), instead of nowhere. The core logs through `tracing`, whose events become `log`
//! records when no `tracing` subscriber is installed (as in a Node process); which records
//! are handed over is the core's rule ([`ltcg_streaming_core::host_logs`]).

use std::sync::RwLock;

use ltcg_streaming_core::host_logs::{forwarded, level_name, LIBRARY_LEVEL, OTHER_LEVEL};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

/// One log record of the library.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct LogRecord {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: String,
    /// The Rust module that wrote it, e.g. `ltcg_streaming_core::service::start`.
    pub target: String,
    /// The message with its fields (`session created session=ses_… platform=twitch`).
    pub message: String,
}

/// The host's function, called on the JavaScript thread; weak, so it never keeps the
/// process alive.
type Sink = ThreadsafeFunction<LogRecord, (), LogRecord, Status, false, true>;

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static BRIDGE: Bridge = Bridge;

struct Bridge;

fn tracing_level(level: log::Level) -> tracing::Level {
    match level {
        log::Level::Error => tracing::Level::ERROR,
        log::Level::Warn => tracing::Level::WARN,
        log::Level::Info => tracing::Level::INFO,
        log::Level::Debug => tracing::Level::DEBUG,
        log::Level::Trace => tracing::Level::TRACE,
    }
}

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        forwarded(tracing_level(metadata.level()), metadata.target())
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let Ok(sink) = SINK.read() else { return };
        if let Some(sink) = sink.as_ref() {
            let record = LogRecord {
                level: level_name(tracing_level(record.level())).to_owned(),
                target: record.target().to_owned(),
                message: record.args().to_string(),
            };
            sink.call(record, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    fn flush(&self) {}
}

/// Hands the library's log records to `logger` (`null` stops): errors and warnings of every
/// part, the library's own records from `info` up. The records never contain a secret.
///
/// ```js
/// setLogger(({ level, target, message }) => console[level === 'trace' ? 'debug' : level](`[${target}] ${message}`))
/// ```
#[napi(ts_args_type = "logger: ((record: LogRecord) => void) | null")]
pub fn set_logger(logger: Option<Function<LogRecord, ()>>) -> Result<()> {
    let sink = match logger {
        Some(logger) => Some(
            logger
                .build_threadsafe_function()
                .callee_handled::<false>()
                .weak::<true>()
                .build()?,
        ),
        None => None,
    };
    // Err: another `log` logger is installed in this process; it keeps the records.
    if log::set_logger(&BRIDGE).is_ok() {
        log::set_max_level(match LIBRARY_LEVEL.max(OTHER_LEVEL) {
            tracing::Level::ERROR => log::LevelFilter::Error,
            tracing::Level::WARN => log::LevelFilter::Warn,
            tracing::Level::INFO => log::LevelFilter::Info,
            tracing::Level::DEBUG => log::LevelFilter::Debug,
            tracing::Level::TRACE => log::LevelFilter::Trace,
        });
    }
    *SINK
        .write()
        .map_err(|_| Error::from_reason("the logger lock is poisoned"))? = sink;
    Ok(())
}
