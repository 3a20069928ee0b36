//! The viewer-count pass: one batched call per platform for the live sessions' channels, the
//! session's count as the sum over its destinations, the peak kept as the maximum, a rate
//! limited or hung platform skipped without holding up the others, ended sessions no longer
//! asked about.

use std::sync::Arc;
use std::time::Duration;

use ltcg_streaming_core::egress::EgressBackend;
use ltcg_streaming_core::service::{RateLimitConfig, StartStreamRequest, StopStreamRequest};
use ltcg_streaming_core::viewers::{
    AppCredentials, KickViewerCounts, MemoryViewerCounts, TwitchViewerCounts, ViewerCounts,
};
use ltcg_streaming_core::{
    Actor, AesGcmVault, EgressStatus, KeyVault, MemoryEgress, MemoryStore, Platform, SecretString,
    ServiceOptions, SessionId, StreamingService,
};
use ltcg_streaming_test_support::harness::{config, egress_body, sign_webhook, KEY_HEX};
use ltcg_streaming_test_support::platform_apis::*;
use serde_json::json;

struct Rig {
    service: StreamingService,
    egress: Arc<MemoryEgress>,
}

fn rig(sources: Vec<Arc<dyn ViewerCounts>>) -> Rig {
    let egress = Arc::new(MemoryEgress::new());
    let vault: Arc<dyn KeyVault> = Arc::new(AesGcmVault::from_hex(KEY_HEX).unwrap());
    let service = StreamingService::with_options(
        config(),
        Arc::new(MemoryStore::new()),
        egress.clone() as Arc<dyn EgressBackend>,
        vault,
        ServiceOptions {
            rate_limits: RateLimitConfig::disabled(),
            destination_policy: Some(ltcg_streaming_test_support::dns::test_policy()),
            viewer_counts: sources,
            ..ServiceOptions::default()
        },
    )
    .unwrap();
    Rig { service, egress }
}

/// A live agent stream to Twitch channel `login`, plus a YouTube destination on `video`.
async fn live_stream(r: &Rig, agent: &str, login: &str, video: Option<&str>) -> SessionId {
    let mut body = json!({"agentId": agent, "platform": "twitch", "streamKey": format!("live_{agent}_0123456789"), "channel": login});
    if let Some(video) = video {
        body["destinations"] = json!([{"platform": "youtube", "streamKey": format!("yt-{agent}-key"), "channel": video}]);
    }
    start_live(r, body).await
}

/// Starts the stream `body` asks for and makes it live by its egress's webhook.
async fn start_live(r: &Rig, body: serde_json::Value) -> SessionId {
    let req: StartStreamRequest = serde_json::from_value(body).unwrap();
    let started = r.service.start_stream(&Actor::Internal, req).await.unwrap();
    let egress = r
        .egress
        .list_active()
        .await
        .unwrap()
        .into_iter()
        .find(|e| {
            e.web_url
                .as_deref()
                .is_some_and(|u| u.contains(started.session_id.as_str()))
        })
        .unwrap()
        .egress_id;
    r.egress.set_status(&egress, EgressStatus::Active).unwrap();
    let now = ltcg_streaming_core::Clock::now_ms(&ltcg_streaming_core::SystemClock) / 1000;
    let event = format!("EV_{}", started.session_id);
    let body = egress_body(
        &event,
        "egress_updated",
        &egress,
        Some("EGRESS_ACTIVE"),
        None,
        None,
    );
    r.service
        .handle_webhook(body.as_bytes(), &sign_webhook(&body, now))
        .await
        .unwrap();
    started.session_id
}

async fn viewers(r: &Rig, id: &SessionId) -> (u64, u64) {
    let st = r.service.get_status(&Actor::Internal, id).await.unwrap();
    (st.viewer_count, st.peak_viewer_count)
}

#[tokio::test]
async fn a_pass_sums_destinations_and_keeps_the_true_peak() {
    let twitch = Arc::new(MemoryViewerCounts::new(Platform::Twitch));
    let youtube = Arc::new(MemoryViewerCounts::new(Platform::Youtube));
    let r = rig(vec![twitch.clone(), youtube.clone()]);
    let id = live_stream(&r, "agent_sum", "blazemaster", Some("dQw4w9WgXcQ")).await;
    twitch.set("blazemaster", Some(40));
    youtube.set("dQw4w9WgXcQ", Some(10));
    let report = r
        .service
        .poll_viewer_counts(&Actor::Internal)
        .await
        .unwrap();
    assert_eq!(report.updated, std::slice::from_ref(&id));
    assert_eq!(viewers(&r, &id).await, (50, 50));
    twitch.set("blazemaster", Some(12));
    youtube.set("dQw4w9WgXcQ", None);
    r.service
        .poll_viewer_counts(&Actor::Internal)
        .await
        .unwrap();
    assert_eq!(viewers(&r, &id).await, (12, 50), "peak is the maximum seen");
    assert!(r
        .service
        .poll_viewer_counts(&Actor::agent("agent_sum").unwrap())
        .await
        .is_err());

    // An ended session is not asked about any more.
    r.service
        .stop_stream(
            &Actor::Internal,
            StopStreamRequest {
                session_id: Some(id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let report = r
        .service
        .poll_viewer_counts(&Actor::Internal)
        .await
        .unwrap();
    assert!(
        report.updated.is_empty() && report.platforms.is_empty(),
        "{report:?}"
    );
}

#[tokio::test]
async fn a_rate_limited_or_hung_platform_holds_up_only_itself() {
    let fake = FakePlatforms::start().await;
    fake.set_live(Api::Twitch, "blaze", Some(21));
    fake.set_live(Api::Kick, "blaze", Some(5));
    let creds = || AppCredentials {
        client_id: FAKE_CLIENT_ID.into(),
        client_secret: SecretString::from(FAKE_CLIENT_SECRET),
    };
    let twitch =
        TwitchViewerCounts::with_bases(creds(), &fake.base, &fake.base, Duration::from_secs(5))
            .unwrap();
    let kick =
        KickViewerCounts::with_bases(creds(), &fake.base, &fake.base, Duration::from_millis(700))
            .unwrap();
    let r = rig(vec![Arc::new(twitch), Arc::new(kick)]);
    let on_twitch = live_stream(&r, "agent_tw", "blaze", None).await;
    let on_kick = start_live(
        &r,
        json!({"agentId": "agent_kick", "platform": "kick", "streamKey": "sk_kick_0123456789", "channel": "blaze"}),
    )
    .await;

    // Kick hangs: the pass ends at Kick's timeout and Twitch is counted.
    fake.set_mode(Api::Kick, Mode::Hung);
    let report = r
        .service
        .poll_viewer_counts(&Actor::Internal)
        .await
        .unwrap();
    assert_eq!(report.updated, std::slice::from_ref(&on_twitch));
    let kick_poll = report
        .platforms
        .iter()
        .find(|p| p.platform == Platform::Kick)
        .unwrap();
    assert_eq!(kick_poll.outcome, "unavailable");
    assert_eq!(viewers(&r, &on_twitch).await.0, 21);

    // Kick is now left alone for its back-off; Twitch rate limited: skipped until its reset.
    fake.set_mode(Api::Kick, Mode::Normal);
    fake.set_mode(Api::Twitch, Mode::RateLimited(120));
    let report = r
        .service
        .poll_viewer_counts(&Actor::Internal)
        .await
        .unwrap();
    let outcome = |p: Platform| {
        report
            .platforms
            .iter()
            .find(|x| x.platform == p)
            .unwrap()
            .outcome
            .clone()
    };
    assert_eq!(
        (
            outcome(Platform::Kick).as_str(),
            outcome(Platform::Twitch).as_str()
        ),
        ("skipped", "rate_limited")
    );
    let twitch_calls = fake.requests(Api::Twitch).len();
    let report = r
        .service
        .poll_viewer_counts(&Actor::Internal)
        .await
        .unwrap();
    assert_eq!(
        fake.requests(Api::Twitch).len(),
        twitch_calls,
        "no call while rate limited"
    );
    assert!(
        report.platforms.iter().all(|p| p.outcome == "skipped"),
        "{report:?}"
    );
    assert_eq!(viewers(&r, &on_kick).await.0, 0, "never counted while down");
}
