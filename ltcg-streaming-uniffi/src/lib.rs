//! The pure API of `ltcg-streaming-core` for uniffi languages (Kotlin, Swift, Python, ...):
//! RTMP(S) URLs, the stream-key vault, overlay tokens, LiveKit webhook verification, overlay
//! defaults and cost estimates. Thin wrappers: every rule lives in the core.
//!
//! The exports live in this crate, not behind a feature of the core, because uniffi's
//! scaffolding is `#[no_mangle] extern "C"` code and the core forbids `unsafe_code`.
//! Errors are one [`StreamingError`] enum whose variants are the core's stable codes.

mod crypto;
mod error;
mod functions;

pub use crate::crypto::{OverlayTokens, StreamKeyVault, WebhookVerifier};
pub use crate::error::StreamingError;
pub use crate::functions::{
    build_rtmp_url, default_overlay_config, estimate_cost, CostEstimate, EgressEvent,
    OverlayClaims, StreamResult,
};

uniffi::setup_scaffolding!();
