//! The operator CLI (see `ltcg_streaming_examples::cli`).

use clap::Parser as _;
use ltcg_streaming_examples::cli::{main_with, Cli};
use ltcg_streaming_examples::server::init_logging;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Before the runtime: the OTLP exporter's client runs on threads of its own.
    let _telemetry = init_logging();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(main_with(cli)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
