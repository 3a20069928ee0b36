#![doc = include_str!("../README.md")]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod agent_keys;
pub mod api_paths;
#[cfg(feature = "client")]
pub mod client;
pub mod clock;
pub mod config;
pub mod cost;
pub mod destination_policy;
pub mod egress;
pub mod error;
pub mod host_logs;
#[cfg(feature = "http")]
pub mod http;
#[cfg(any(
    feature = "livekit",
    feature = "platforms",
    feature = "http",
    feature = "client"
))]
mod https_client;
pub mod json;
#[cfg(any(feature = "http", feature = "client"))]
mod loopback;
pub mod overlay_url;
pub mod platform;
pub mod redact;
#[cfg(feature = "platforms")]
pub mod retake;
pub mod schema;
pub mod service;
pub mod session;
pub mod store;
pub mod telemetry;
pub mod token;
pub mod vault;
#[cfg(feature = "platforms")]
pub mod viewers;
pub mod webhook;

pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::config::{ConfigMode, LiveKitConfig, LiveKitCredentials, StreamingConfig};
pub use crate::cost::{estimate_cost, estimate_cost_with, CostEstimate, CostRates};
pub use crate::egress::{EgressBackend, MemoryEgress};
pub use crate::error::{Error, ErrorCode, Result};
pub use crate::overlay_url::OverlayUrl;
pub use crate::platform::{build_rtmp_url, IngestUrl, Platform, RtmpUrl};
pub use crate::redact::redact_url;
pub use crate::service::{Actor, ReplicaOptions, ServiceOptions, StreamingService};
pub use crate::session::{
    transition, EgressStatus, Entity, GameState, MatchOutcome, MatchResult, OverlayConfig,
    OverlayConfigPatch, Scene, SessionEvent, SessionId, SessionStats, SessionStatus,
    StoredGameState, StreamSession, StreamType, Transition,
};
pub use crate::store::{MemoryStore, SessionStore};
pub use crate::token::{OverlayClaims, OverlayTokens};
pub use crate::vault::{AesGcmVault, KeyVault, SecretString};
pub use crate::webhook::{EgressEvent, WebhookVerifier};

/// The repository README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct RepositoryReadme;
