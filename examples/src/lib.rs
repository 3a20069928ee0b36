//! The reference server and the operator CLI of ltcg-streaming, as a library their binaries
//! share (`ltcg-streaming-server`, `ltcg-streaming`).

pub mod cli;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod server;
