//! The operator CLI (see `ltcg_streaming_examples::cli`).

use clap::Parser as _;
use ltcg_streaming_examples::cli::{main_with, Cli};
use ltcg_streaming_examples::server::init_logging;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging();
    main_with(cli).await
}
