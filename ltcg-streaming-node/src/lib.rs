//! Node binding of ltcg-streaming: the npm package `@ltcg/streaming` (napi-rs).
//!
//! Thin by design: every rule lives in `ltcg-streaming-core`. Objects cross the boundary as
//! the core's camelCase JSON (parsed by the core's serde types, so bad input is the core's
//! `INVALID_INPUT` naming the field), I/O returns Promises, and every failure is a JavaScript
//! `Error` whose `code` is the core's stable code string (see [`error`]). A store written in
//! JavaScript is accepted wherever a store is (see [`host_store`]), and the core's store
//! conformance suite checks one from the package's `@ltcg/streaming/testing` subpath (see
//! [`testing`]).

pub mod actor;
pub mod agent_keys;
pub mod client;
pub mod config;
pub mod crypto;
pub mod egress;
pub mod error;
pub mod functions;
pub mod host_store;
pub mod http;
mod json;
pub mod logging;
pub mod service;
pub mod store;
mod task;
pub mod testing;
pub mod watch;
