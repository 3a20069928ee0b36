//! A service wired to real in-process parts (memory store, memory egress, AES-GCM vault),
//! a manual clock, and LiveKit-style webhook signing.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ltcg_streaming_core::config::LiveKitConfig;
use ltcg_streaming_core::egress::EgressBackend;
use ltcg_streaming_core::service::{RateLimitConfig, StartStreamRequest};
use ltcg_streaming_core::store::SessionStore;
use ltcg_streaming_core::{
    AesGcmVault, Error, ErrorCode, KeyVault, ManualClock, MemoryEgress, MemoryStore, Platform,
    SecretString, ServiceOptions, StreamingConfig, StreamingService,
};
use sha2::{Digest, Sha256};

/// The stream-key encryption key (hex) of the harness's vault and configuration.
pub const KEY_HEX: &str = "6457ed47ba47dc9dccb72b09f27843b717aed4fcb909b4a7472fff3c46733e23";
/// The overlay-token secret of the harness's configuration.
pub const JWT_SECRET: &str = "harness-overlay-secret-0123456789abcdef";
/// The LiveKit API key webhooks are signed with (`iss`).
pub const API_KEY: &str = "APIharness";
/// The LiveKit API secret webhooks are signed with.
pub const API_SECRET: &str = "harness-livekit-secret-0123456789";
/// The overlay base URL (`app_url`) of the harness's configuration.
pub const APP_URL: &str = "https://lunchtable.test";
/// The manual clock's start, Unix ms.
pub const T0: i64 = 1_795_478_000_000;
/// The Twitch stream key of [`agent_start`].
pub const TWITCH_KEY: &str = "live_123456789_abcdefghijklmnop";

/// The harness's configuration: [`KEY_HEX`], [`JWT_SECRET`], [`APP_URL`] and LiveKit with
/// [`API_KEY`] / [`API_SECRET`].
pub fn config() -> StreamingConfig {
    let mut config = StreamingConfig::new(KEY_HEX, JWT_SECRET).unwrap();
    config.app_url = APP_URL.into();
    config.livekit =
        Some(LiveKitConfig::new("wss://harness.livekit.cloud", API_KEY, API_SECRET).unwrap());
    config
}

/// A service and the parts it runs on, for tests to drive and inspect.
#[derive(Debug)]
pub struct Harness {
    /// The service under test.
    pub service: StreamingService,
    /// Its store.
    pub store: Arc<dyn SessionStore>,
    /// The in-memory egress tests inspect (usually the one the service uses).
    pub egress: Arc<MemoryEgress>,
    /// Its clock, starting at [`T0`].
    pub clock: Arc<ManualClock>,
    /// Its vault (key [`KEY_HEX`]).
    pub vault: Arc<AesGcmVault>,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A memory store, a memory egress and no rate limits.
    pub fn new() -> Self {
        Self::with(Arc::new(MemoryStore::new()), RateLimitConfig::disabled())
    }

    /// `store` and `limits` with a memory egress.
    pub fn with(store: Arc<dyn SessionStore>, limits: RateLimitConfig) -> Self {
        let egress = Arc::new(MemoryEgress::new());
        Self::with_parts(store, egress.clone(), egress, limits)
    }

    /// `egress` is what the service uses; `memory` is inspected by tests (often the same).
    pub fn with_parts(
        store: Arc<dyn SessionStore>,
        egress: Arc<dyn EgressBackend>,
        memory: Arc<MemoryEgress>,
        limits: RateLimitConfig,
    ) -> Self {
        Self::assembled(store, egress, memory, limits, |_| {})
    }

    /// A memory store and egress, no rate limits, and service options as `edit` sets them
    /// (over the harness's clock, limits and destination policy).
    pub fn with_options(edit: impl FnOnce(&mut ServiceOptions)) -> Self {
        let egress = Arc::new(MemoryEgress::new());
        Self::assembled(
            Arc::new(MemoryStore::new()),
            egress.clone(),
            egress,
            RateLimitConfig::disabled(),
            edit,
        )
    }

    fn assembled(
        store: Arc<dyn SessionStore>,
        egress: Arc<dyn EgressBackend>,
        memory: Arc<MemoryEgress>,
        limits: RateLimitConfig,
        edit: impl FnOnce(&mut ServiceOptions),
    ) -> Self {
        let clock = Arc::new(ManualClock::new(T0));
        let vault = Arc::new(AesGcmVault::from_hex(KEY_HEX).unwrap());
        let mut options = ServiceOptions {
            clock: clock.clone(),
            rate_limits: limits,
            egress_start_timeout: Duration::from_secs(5),
            destination_policy: Some(crate::dns::test_policy()),
            ..ServiceOptions::default()
        };
        edit(&mut options);
        let service = StreamingService::with_options(
            config(),
            store.clone(),
            egress,
            vault.clone() as Arc<dyn KeyVault>,
            options,
        )
        .unwrap();
        Self {
            service,
            store,
            egress: memory,
            clock,
            vault,
        }
    }

    /// The egress id stored for a session (the session must exist and have one).
    pub async fn egress_of(&self, id: &ltcg_streaming_core::SessionId) -> String {
        self.store
            .get_session(id)
            .await
            .unwrap()
            .expect("session exists")
            .egress_id
            .expect("session has an egress")
    }

    /// Makes session `id` live: its egress reports `EGRESS_ACTIVE` by webhook (always with
    /// the same event id, so a second call is a duplicate delivery).
    pub async fn go_live(
        &self,
        id: &ltcg_streaming_core::SessionId,
    ) -> ltcg_streaming_core::service::WebhookOutcome {
        let egress = self.egress_of(id).await;
        let event = format!("EV_live_{id}");
        self.webhook(
            &event,
            "egress_updated",
            &egress,
            Some("EGRESS_ACTIVE"),
            None,
        )
        .await
        .unwrap()
    }

    /// Session `id`'s egress ends in `EGRESS_FAILED`, reported by webhook.
    pub async fn egress_fails(&self, id: &ltcg_streaming_core::SessionId) {
        let egress = self.egress_of(id).await;
        let event = format!("EV_failed_{id}");
        self.webhook(&event, "egress_ended", &egress, Some("EGRESS_FAILED"), None)
            .await
            .unwrap();
    }

    /// Stops session `id` as `actor`.
    pub async fn stop(
        &self,
        actor: &ltcg_streaming_core::Actor,
        id: &ltcg_streaming_core::SessionId,
    ) -> ltcg_streaming_core::Result<ltcg_streaming_core::service::StopStreamResponse> {
        let req = ltcg_streaming_core::service::StopStreamRequest {
            session_id: Some(id.clone()),
            ..Default::default()
        };
        self.service.stop_stream(actor, req).await
    }

    /// Signs and delivers an egress webhook as LiveKit would.
    pub async fn webhook(
        &self,
        event_id: &str,
        event: &str,
        egress_id: &str,
        status: Option<&str>,
        web_url: Option<&str>,
    ) -> ltcg_streaming_core::Result<ltcg_streaming_core::service::WebhookOutcome> {
        let body = egress_body(event_id, event, egress_id, status, web_url, None);
        let auth = sign_webhook(&body, self.clock.now_secs_value());
        self.service.handle_webhook(body.as_bytes(), &auth).await
    }
}

trait NowSecs {
    fn now_secs_value(&self) -> i64;
}

impl NowSecs for ManualClock {
    fn now_secs_value(&self) -> i64 {
        use ltcg_streaming_core::Clock;
        self.now_secs()
    }
}

/// A protojson `WebhookEvent` body for an egress event.
pub fn egress_body(
    event_id: &str,
    event: &str,
    egress_id: &str,
    status: Option<&str>,
    web_url: Option<&str>,
    error: Option<&str>,
) -> String {
    let mut info = serde_json::json!({ "egressId": egress_id });
    if let Some(status) = status {
        info["status"] = status.into();
    }
    if let Some(url) = web_url {
        info["web"] = serde_json::json!({ "url": url, "streamOutputs": [{"protocol": "RTMP", "urls": ["rtmps://live.twitch.tv/app/{liv...nop}"]}] });
    }
    if let Some(error) = error {
        info["error"] = error.into();
    }
    serde_json::json!({ "event": event, "id": event_id, "createdAt": "1795478000", "egressInfo": info }).to_string()
}

/// The `Authorization` header LiveKit sends for `body`: HS256 with the API secret,
/// `iss` = API key, `sha256` = base64(SHA-256(body)), valid for 5 minutes.
pub fn sign_webhook(body: &str, now_secs: i64) -> String {
    sign_webhook_with(body, now_secs, API_KEY, API_SECRET)
}

/// Like [`sign_webhook`] with another API key and secret (forgeries).
pub fn sign_webhook_with(body: &str, now_secs: i64, key: &str, secret: &str) -> String {
    let claims = serde_json::json!({
        "sha256": STANDARD.encode(Sha256::digest(body.as_bytes())),
        "iss": key,
        "exp": now_secs + 300,
        "nbf": now_secs,
    });
    let mut header = Header::new(Algorithm::HS256);
    header.typ = None;
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// The error of a refused call, after checking its code.
pub fn expect_code<T: std::fmt::Debug>(
    r: ltcg_streaming_core::Result<T>,
    code: ErrorCode,
) -> Error {
    let err = r.expect_err("must be refused");
    assert_eq!(err.code(), code, "{err}");
    err
}

/// An agent decision of turn `turn` in game `game_1`.
pub fn decision(turn: u32) -> ltcg_streaming_core::service::DecisionInput {
    ltcg_streaming_core::service::DecisionInput {
        game_id: "game_1".into(),
        turn_number: turn,
        phase: "main".into(),
        action: "attack".into(),
        reasoning: format!("turn {turn}: opponent is open"),
        ..Default::default()
    }
}

/// A start request for agent `agent_id` to Twitch.
pub fn agent_start(agent_id: &str) -> StartStreamRequest {
    StartStreamRequest {
        agent_id: Some(agent_id.into()),
        platform: Some(Platform::Twitch),
        stream_key: Some(SecretString::from(TWITCH_KEY)),
        stream_title: Some("AI Agent Playing LTCG".into()),
        ..StartStreamRequest::default()
    }
}

/// A start request with stream key `key` to a custom RTMP server on a public host (the actor is
/// the user).
pub fn user_start(key: &str) -> StartStreamRequest {
    StartStreamRequest {
        platform: Some(Platform::Custom),
        stream_key: Some(SecretString::from(key)),
        custom_rtmp_url: Some("rtmp://ingest.example.com:1935/live".into()),
        ..StartStreamRequest::default()
    }
}
