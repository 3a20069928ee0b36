//! Code shared by the ltcg-streaming test suites (a dev-dependency of the core and of the
//! examples; never published).
//!
//! - [`browser`]: headless Chromium over the DevTools protocol (pages, screenshots).
//! - [`dns`]: a fixed name table for the destination policy (the suites run offline).
//! - [`harness`]: a [`StreamingService`](ltcg_streaming_core::StreamingService) on real
//!   in-process parts (memory store and egress, AES-GCM vault, manual clock) and LiveKit-style
//!   webhook signing.
//! - [`http`]: the HTTP router in process: API keys, requests, replies and the error
//!   contract.
//! - [`live_router`]: the router on 127.0.0.1 on the real clock, for browsers and sockets.
//! - [`livekit_twirp`]: an in-process fake of LiveKit's `livekit.Egress` Twirp service.
//! - [`logs`]: the `tracing` log captured as text.
//! - [`media`]: what an RTMP server received, read back: frames, codecs, frame rate,
//!   loudness, OCR, pixels.
//! - [`nginx_rtmp`]: a private nginx-rtmp on 127.0.0.1, `ffprobe`, free ports, and the rule
//!   for tools that are missing (skip locally, fail in CI).
//! - [`postgres`]: the test run's PostgreSQL server and fresh schemas.
//! - [`platform_apis`]: local Twitch, YouTube and Kick APIs that check what the real ones check.
//! - [`server`]: the reference server as a child process, with a scan for leaked secrets.
//! - [`user_jwt`]: users' JWTs signed with fixture keys, and a local JWKS server.

pub mod browser;
pub mod dns;
pub mod harness;
pub mod http;
pub mod live_router;
pub mod livekit_twirp;
pub mod logs;
pub mod media;
pub mod nginx_rtmp;
pub mod platform_apis;
pub mod postgres;
pub mod server;
pub mod user_jwt;
