//! The reference server (the variables it reads: `ltcg_streaming_examples::server`).

use ltcg_streaming_examples::server::{init_logging, run, BoxError};

fn main() -> Result<(), BoxError> {
    // Before the runtime: the OTLP exporter's client runs on threads of its own.
    let _telemetry = init_logging();
    tokio::runtime::Runtime::new()?.block_on(run())
}
