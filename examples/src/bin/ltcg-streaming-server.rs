//! The reference server (the variables it reads: `ltcg_streaming_examples::server`).

use ltcg_streaming_examples::server::{init_logging, run, BoxError};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    init_logging();
    run().await
}
