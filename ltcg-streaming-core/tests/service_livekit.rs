//! The whole service through the real `LiveKitEgress` against an in-process LiveKit Twirp
//! endpoint (real protocol messages, checked tokens): start, webhooks, simulcast change (and
//! a refused one whose error quotes the URL, stored redacted), reconcile across pages, stop.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ltcg_streaming_core::config::LiveKitConfig;
use ltcg_streaming_core::egress::{LiveKitEgress, LiveKitEgressOptions};
use ltcg_streaming_core::service::{
    DestinationInput, RateLimitConfig, StartStreamRequest, StopStreamRequest,
    UpdateDestinationsRequest,
};
use ltcg_streaming_core::session::DestinationStatus;
use ltcg_streaming_core::{
    Actor, AesGcmVault, ErrorCode, MemoryStore, Platform, SecretString, ServiceOptions,
    SessionStatus, StreamingConfig, StreamingService,
};
use ltcg_streaming_test_support::harness::agent_start;
use ltcg_streaming_test_support::livekit_twirp::{FakeLiveKit, ProtoEgressStatus, TwirpMethod};
use sha2::{Digest, Sha256};

const APP_URL: &str = "https://lunchtable.test";

async fn service(fake: &FakeLiveKit) -> StreamingService {
    let mut config =
        StreamingConfig::new(&"42".repeat(32), "overlay-secret-0123456789abcdef-livekit").unwrap();
    config.app_url = APP_URL.into();
    config.livekit =
        Some(LiveKitConfig::new(&fake.ws_url(), &fake.api_key, &fake.api_secret).unwrap());
    let egress =
        LiveKitEgress::new(LiveKitEgressOptions::from(config.livekit.as_ref().unwrap())).unwrap();
    let vault = Arc::new(AesGcmVault::from_hex(&"42".repeat(32)).unwrap());
    let options = ServiceOptions {
        rate_limits: RateLimitConfig::disabled(),
        destination_policy: Some(ltcg_streaming_test_support::dns::test_policy()),
        ..ServiceOptions::default()
    };
    StreamingService::with_options(
        config,
        Arc::new(MemoryStore::new()),
        Arc::new(egress),
        vault,
        options,
    )
    .unwrap()
}

/// The webhook LiveKit would send for the fake server's current view of `egress_id`.
async fn deliver(
    service: &StreamingService,
    fake: &FakeLiveKit,
    event_id: &str,
    event: &str,
    egress_id: &str,
) -> bool {
    let info = fake.egress(egress_id).unwrap();
    let status = ProtoEgressStatus::try_from(info.status).unwrap();
    let mut body = serde_json::json!({
        "event": event, "id": event_id, "createdAt": "1795478000",
        "egressInfo": {"egressId": egress_id},
    });
    if status != ProtoEgressStatus::EgressStarting {
        body["egressInfo"]["status"] = status.as_str_name().into();
    }
    let body = body.to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = serde_json::json!({
        "sha256": STANDARD.encode(Sha256::digest(body.as_bytes())),
        "iss": fake.api_key, "exp": now + 300, "nbf": now,
    });
    let auth = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(fake.api_secret.as_bytes()),
    )
    .unwrap();
    service
        .handle_webhook(body.as_bytes(), &auth)
        .await
        .unwrap()
        .applied
}

#[tokio::test]
async fn stream_lifecycle_through_livekit() {
    let fake = FakeLiveKit::start().await;
    let service = service(&fake).await;
    let agent = Actor::agent("agent_lk").unwrap();
    let started = service
        .start_stream(
            &agent,
            StartStreamRequest {
                platform: Some(Platform::Twitch),
                stream_key: Some(SecretString::from("live_123456789_abcdefghijklmnop")),
                destinations: vec![DestinationInput {
                    platform: Platform::Custom,
                    stream_key: SecretString::from("backup-key-77"),
                    custom_rtmp_url: Some("rtmp://ingest.example.com:1935/live".into()),
                    channel: None,
                }],
                ..StartStreamRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(started.status, SessionStatus::Pending);

    // LiveKit received one StartWebEgress with the overlay page and both outputs.
    let requests = fake.start_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].url, started.overlay_url);
    assert_eq!(
        requests[0].stream_outputs[0].urls,
        [
            "rtmps://live.twitch.tv/app/live_123456789_abcdefghijklmnop",
            "rtmp://ingest.example.com:1935/live/backup-key-77"
        ]
    );
    let session = service
        .store()
        .get_session(&started.session_id)
        .await
        .unwrap()
        .unwrap();
    let egress_id = session.egress_id.clone().unwrap();
    assert!(fake.egress(&egress_id).is_some());

    fake.set_status(&egress_id, ProtoEgressStatus::EgressActive);
    assert!(deliver(&service, &fake, "EV_active", "egress_updated", &egress_id).await);
    assert_eq!(
        service
            .get_status(&agent, &started.session_id)
            .await
            .unwrap()
            .status,
        SessionStatus::Live
    );

    // Swap the backup output for Kick while live.
    let backup = session.destinations[1].id.clone();
    service
        .update_destinations(
            &agent,
            UpdateDestinationsRequest {
                session_id: started.session_id.clone(),
                add: vec![DestinationInput {
                    platform: Platform::Kick,
                    stream_key: SecretString::from("kick-key-1"),
                    custom_rtmp_url: None,
                    channel: None,
                }],
                remove: vec![backup.into()],
            },
        )
        .await
        .unwrap();
    let update = &fake.update_requests()[0];
    assert_eq!(update.egress_id, egress_id);
    assert_eq!(
        update.remove_output_urls,
        ["rtmp://ingest.example.com:1935/live/backup-key-77"]
    );
    assert_eq!(
        update.add_output_urls,
        ["rtmps://fa723fc1b171.global-contribute.live-video.net:443/app/kick-key-1"]
    );

    let stopped = service
        .stop_stream(
            &agent,
            StopStreamRequest {
                session_id: Some(started.session_id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(stopped.stopped_session_ids.len(), 1);
    assert_eq!(fake.stop_requests().len(), 1);
    assert_eq!(
        fake.status(&egress_id),
        Some(ProtoEgressStatus::EgressComplete)
    );
    // LiveKit's egress_ended afterwards is acknowledged and changes nothing.
    assert!(!deliver(&service, &fake, "EV_ended", "egress_ended", &egress_id).await);
}

#[tokio::test]
async fn reconcile_reads_every_page_and_stops_orphans() {
    let fake = FakeLiveKit::start().await;
    fake.set_page_size(Some(2));
    let service = service(&fake).await;
    let mut orphans = Vec::new();
    for i in 0..5 {
        let url = format!("{APP_URL}/stream/overlay?sessionId=ses_orphan{i}&token=t");
        orphans.push(fake.add_egress(
            &url,
            &["rtmp://127.0.0.1:1935/live/k"],
            ProtoEgressStatus::EgressActive,
        ));
    }
    let foreign = fake.add_egress(
        "https://elsewhere.example/page",
        &["rtmp://127.0.0.1:1935/live/k"],
        ProtoEgressStatus::EgressActive,
    );
    let report = service.reconcile(&Actor::Internal).await.unwrap();
    let mut stopped = report.stopped_egresses.clone();
    stopped.sort();
    orphans.sort();
    assert_eq!(stopped, orphans, "{report:?}");
    assert!(
        fake.call_count(TwirpMethod::ListEgress) >= 3,
        "followed the pages"
    );
    assert_eq!(fake.status(&foreign), Some(ProtoEgressStatus::EgressActive));
}

#[tokio::test]
async fn livekit_refusing_the_start_leaves_an_error_session() {
    let fake = FakeLiveKit::start().await;
    fake.fail_next(
        TwirpMethod::StartWebEgress,
        "resource_exhausted",
        "concurrent egress limit reached",
    );
    let service = service(&fake).await;
    let err = service
        .start_stream(
            &Actor::Internal,
            StartStreamRequest {
                agent_id: Some("agent_lk".into()),
                platform: Some(Platform::Twitch),
                stream_key: Some(SecretString::from("live_123456789_abcdefghijklmnop")),
                ..StartStreamRequest::default()
            },
        )
        .await
        .unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("concurrent egress limit reached"));
    let page = service
        .store()
        .list_sessions(&Default::default())
        .await
        .unwrap();
    assert_eq!(page.sessions[0].status, SessionStatus::Error);
}

#[tokio::test]
async fn an_unreachable_livekit_fails_the_start_at_once_and_a_retry_starts_afresh() {
    let fake = FakeLiveKit::start().await;
    let service = service(&fake).await;
    drop(fake); // nothing listens on its port any more: connections are refused
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let err = service
            .start_stream(&Actor::Internal, agent_start("agent_lk"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Egress, "{err}");
        assert!(err.is_retryable(), "the caller may try again: {err}");
        assert!(err.to_string().contains("could not connect"), "{err}");
        let page = service
            .store()
            .list_sessions(&Default::default())
            .await
            .unwrap();
        // The session this start made (two starts may share a millisecond, so not by order).
        let newest = page
            .sessions
            .iter()
            .find(|s| !ids.contains(&s.id))
            .expect("this start made a session");
        assert_eq!(newest.status, SessionStatus::Error);
        let message = newest.error_message.as_deref().unwrap_or_default();
        assert!(message.contains("could not connect"), "{message}");
        ids.push(newest.id.clone());
    }
    // The failed session is not reused: the retry made a new one.
    assert_ne!(ids[0], ids[1]);
}

/// A Kick stream key the fake LiveKit quotes back in an error.
const KICK_KEY: &str = "sk_kick_secret_key_4242";

/// A LiveKit error that quotes an output URL is stored and returned redacted.
#[tokio::test]
async fn a_livekit_update_error_quoting_the_url_is_stored_redacted() {
    let fake = FakeLiveKit::start().await;
    let service = service(&fake).await;
    let me = Actor::agent("a1").unwrap();
    let s = service.start_stream(&me, agent_start("a1")).await.unwrap();
    // LiveKit refuses the update and quotes the full output URL, key included.
    let kick_url =
        format!("rtmps://fa723fc1b171.global-contribute.live-video.net:443/app/{KICK_KEY}");
    fake.fail_next(
        TwirpMethod::UpdateStream,
        "invalid_argument",
        &format!("could not add output {kick_url}: key {KICK_KEY} rejected"),
    );
    let err = service
        .update_destinations(
            &me,
            UpdateDestinationsRequest {
                session_id: s.session_id.clone(),
                add: vec![DestinationInput {
                    platform: Platform::Kick,
                    stream_key: SecretString::from(KICK_KEY),
                    custom_rtmp_url: None,
                    channel: None,
                }],
                remove: vec![],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Egress, "{err}");
    assert_eq!(fake.update_requests()[0].add_output_urls, [kick_url]);
    let after = service
        .store()
        .get_session(&s.session_id)
        .await
        .unwrap()
        .unwrap();
    let added = after.destinations.last().unwrap();
    assert_eq!(added.status, DestinationStatus::Failed);
    let message = added.error_message.as_deref().unwrap();
    assert!(message.contains("invalid_argument") || message.contains("could not add output"));
    assert!(!message.contains(KICK_KEY), "{message}");
    let stored = serde_json::to_string(&after).unwrap();
    assert!(!stored.contains(KICK_KEY), "{stored}");
    assert!(!err.to_string().contains(KICK_KEY), "{err}");
}
