//! The viewer-count pass: one batched call per platform for the live sessions' channels, the
//! session's count as the sum over its destinations, the peak kept as the maximum, a rate
//! limited or hung platform skipped without holding up the others, ended sessions and dry
//! runs not asked about; every answer kept as a sample; the platform's preview image and
//! "not live there" warning on the destination; the thumbnail route's redirect.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use ltcg_streaming_core::egress::EgressBackend;
use ltcg_streaming_core::http::router;
use ltcg_streaming_core::service::{RateLimitConfig, StartStreamRequest, StopStreamRequest};
use ltcg_streaming_core::store::SessionStore;
use ltcg_streaming_core::viewers::{
    AppCredentials, KickViewerCounts, MemoryViewerCounts, TwitchViewerCounts, ViewerCounts,
};
use ltcg_streaming_core::{
    Actor, AesGcmVault, Clock, EgressStatus, KeyVault, ManualClock, MemoryEgress, MemoryStore,
    Platform, SecretString, ServiceOptions, SessionId, StreamingService, SystemClock,
};
use ltcg_streaming_test_support::harness::{config, egress_body, sign_webhook, KEY_HEX};
use ltcg_streaming_test_support::http::{auth, call, INTERNAL_KEY};
use ltcg_streaming_test_support::platform_apis::*;
use serde_json::json;

struct Rig {
    service: StreamingService,
    egress: Arc<MemoryEgress>,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
}

fn rig(sources: Vec<Arc<dyn ViewerCounts>>) -> Rig {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let store = Arc::new(MemoryStore::new());
    let egress = Arc::new(MemoryEgress::new());
    let vault: Arc<dyn KeyVault> = Arc::new(AesGcmVault::from_hex(KEY_HEX).unwrap());
    let service = StreamingService::with_options(
        config(),
        store.clone(),
        egress.clone() as Arc<dyn EgressBackend>,
        vault,
        ServiceOptions {
            rate_limits: RateLimitConfig::disabled(),
            destination_policy: Some(ltcg_streaming_test_support::dns::test_policy()),
            viewer_counts: sources,
            clock: clock.clone(),
            ..ServiceOptions::default()
        },
    )
    .unwrap();
    Rig {
        service,
        egress,
        store,
        clock,
    }
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
    let now = r.clock.now_ms() / 1000;
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

/// `GET /api/streaming/thumbnail` for `id`, as an internal caller.
async fn thumbnail(app: &axum::Router, id: &SessionId) -> ltcg_streaming_test_support::http::Reply {
    let uri = format!("/api/streaming/thumbnail?sessionId={id}");
    call(app, Method::GET, &uri, Some(INTERNAL_KEY), None).await
}

/// The primary destination of session `id` as the store holds it.
async fn primary(r: &Rig, id: &SessionId) -> ltcg_streaming_core::session::Destination {
    let session = r.store.get_session(id).await.unwrap().unwrap();
    session
        .destinations
        .into_iter()
        .find(|d| d.primary)
        .unwrap()
}

#[tokio::test]
async fn every_answer_is_a_sample_and_the_platform_side_feeds_the_destination() {
    let fake = FakePlatforms::start().await;
    let twitch = TwitchViewerCounts::with_bases(
        AppCredentials {
            client_id: FAKE_CLIENT_ID.into(),
            client_secret: SecretString::from(FAKE_CLIENT_SECRET),
        },
        &fake.base,
        &fake.base,
        Duration::from_secs(5),
    )
    .unwrap();
    let r = rig(vec![Arc::new(twitch)]);
    let id = live_stream(&r, "agent_side", "blaze", None).await;
    let mut peak_seen = 0;
    for (step, count) in [30u64, 75, 41].into_iter().enumerate() {
        fake.set_live(Api::Twitch, "blaze", Some(count));
        r.service
            .poll_viewer_counts(&Actor::Internal)
            .await
            .unwrap();
        peak_seen = peak_seen.max(count);
        assert_eq!(viewers(&r, &id).await.0, count, "pass {step}");
        r.clock.advance_ms(60_000);
    }
    let samples = r.store.viewer_samples(&id, 100).await.unwrap();
    assert_eq!(
        samples.iter().map(|s| s.viewers).collect::<Vec<_>>(),
        [30, 75, 41],
        "one sample per pass, oldest first"
    );
    let peak = r
        .service
        .get_status(&Actor::Internal, &id)
        .await
        .unwrap()
        .peak_viewer_count;
    assert_eq!(peak, samples.iter().map(|s| s.viewers).max().unwrap());
    assert_eq!(peak, peak_seen);
    let d = primary(&r, &id).await;
    assert!(samples
        .iter()
        .all(|s| s.destination_id == d.id && s.platform == Platform::Twitch));
    assert_eq!(
        d.preview_url.as_deref(),
        Some("https://static-cdn.jtvnw.net/previews-ttv/live_user_blaze-1280x720.jpg")
    );
    assert_eq!(d.warning, None);
    // The memory egress makes no pictures: the thumbnail route sends people to Twitch's.
    let app = router(r.service.clone(), auth());
    let reply = thumbnail(&app, &id).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text);
    assert_eq!(
        reply.headers.get("location").unwrap(),
        "https://static-cdn.jtvnw.net/previews-ttv/live_user_blaze-1280x720.jpg"
    );
    assert_eq!(reply.headers.get("cache-control").unwrap(), "no-store");

    // Twitch says the channel is not live while the egress streams: a warning (the stream
    // has been live for three minutes, past the grace a new stream gets).
    fake.set_offline(Api::Twitch, "blaze");
    r.service
        .poll_viewer_counts(&Actor::Internal)
        .await
        .unwrap();
    let view = r.service.get_status(&Actor::Internal, &id).await.unwrap();
    let warning = view.destinations[0].warning.clone().unwrap();
    assert!(
        warning.contains("twitch") && warning.contains("blaze") && warning.contains("not live"),
        "{warning}"
    );
    assert_eq!(
        view.destinations[0].preview_url, None,
        "no preview while offline"
    );
    let reply = thumbnail(&app, &id).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    assert_eq!(view.viewer_count, 0);

    // Back on the platform: the warning clears.
    fake.set_live(Api::Twitch, "blaze", Some(9));
    r.service
        .poll_viewer_counts(&Actor::Internal)
        .await
        .unwrap();
    assert_eq!(primary(&r, &id).await.warning, None);
}

#[tokio::test]
async fn a_new_stream_is_not_warned_about_and_a_dry_run_is_not_counted() {
    let twitch = Arc::new(MemoryViewerCounts::new(Platform::Twitch));
    let r = rig(vec![twitch.clone()]);
    // Just live: Twitch has not noticed yet, which is no warning.
    let id = live_stream(&r, "agent_new", "fresh_channel", None).await;
    r.clock.advance_ms(30_000);
    r.service
        .poll_viewer_counts(&Actor::Internal)
        .await
        .unwrap();
    assert_eq!(primary(&r, &id).await.warning, None);

    let dry = start_live(
        &r,
        json!({"agentId": "agent_dry", "platform": "twitch", "streamKey": "live_dry_0123456789",
               "channel": "dry_channel", "dryRun": true}),
    )
    .await;
    twitch.set("dry_channel", Some(500));
    r.clock.advance_ms(600_000);
    let report = r
        .service
        .poll_viewer_counts(&Actor::Internal)
        .await
        .unwrap();
    assert!(!report.updated.contains(&dry), "{report:?}");
    assert!(r.store.viewer_samples(&dry, 10).await.unwrap().is_empty());
    assert_eq!(
        primary(&r, &dry).await.warning,
        None,
        "a bandwidth test is never live"
    );
}

#[tokio::test]
async fn counts_set_by_the_host_app_are_samples_of_the_primary_destination() {
    let r = rig(Vec::new());
    let id = live_stream(&r, "agent_manual", "manual_channel", None).await;
    for viewers in [5, 8] {
        r.service
            .update_viewer_count(&Actor::Internal, &id, viewers)
            .await
            .unwrap();
        r.clock.advance_ms(1_000);
    }
    let d = primary(&r, &id).await;
    let samples = r.store.viewer_samples(&id, 10).await.unwrap();
    assert_eq!(
        samples
            .iter()
            .map(|s| (s.destination_id.as_str(), s.viewers))
            .collect::<Vec<_>>(),
        [(d.id.as_str(), 5), (d.id.as_str(), 8)]
    );
    assert_eq!(samples[1].at - samples[0].at, 1_000);
}
