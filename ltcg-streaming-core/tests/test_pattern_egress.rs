//! `TestPatternEgress` end to end: ffmpeg encodes a real H.264/AAC stream that this process
//! publishes to nginx-rtmp on 127.0.0.1, `ffprobe` reads it back, the session goes live
//! through the egress events, stops with a positive duration, and no ffmpeg is left running;
//! no process ever has the stream key on its command line. An unreachable output becomes
//! `error` with the category of its failure. A restarted egress over the same database has its
//! events applied, one per state change. Outputs of callers that are not internal are checked
//! again right before each connects, and plain RTMP outputs connect to the checked address.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ltcg_streaming_core::destination_policy::DestinationPolicy;
use ltcg_streaming_core::egress::{EgressBackend, TestPatternEgress, TestPatternEgressOptions};
use ltcg_streaming_core::service::{
    RateLimitConfig, StartStreamRequest, StartStreamResponse, StopStreamRequest, StopStreamResponse,
};
use ltcg_streaming_core::store::{SessionStore, SqliteStore};
use ltcg_streaming_core::{
    Actor, EgressStatus, Error, ErrorCode, KeyVault, MemoryStore, Platform, SecretString,
    ServiceOptions, SessionId, SessionStatus, StreamingService,
};
use ltcg_streaming_test_support::dns::{policy_with, FixedResolver, PUBLIC_TEST_ADDR};
use ltcg_streaming_test_support::harness::config;
use ltcg_streaming_test_support::nginx_rtmp::*;

struct Local {
    service: StreamingService,
    store: Arc<dyn SessionStore>,
    /// Feeds the egress events to the service.
    follower: tokio::task::JoinHandle<()>,
}

/// The service on the system clock (ffmpeg reports real times) with a `TestPatternEgress`.
fn local_harness() -> Option<(Local, TestPatternEgress)> {
    local_harness_on(Arc::new(MemoryStore::new()))
}

/// Like [`local_harness`] over `store`.
fn local_harness_on(store: Arc<dyn SessionStore>) -> Option<(Local, TestPatternEgress)> {
    local_harness_with(store, None)
}

/// Like [`local_harness_on`], with the destination policy `policy`.
fn local_harness_with(
    store: Arc<dyn SessionStore>,
    policy: Option<DestinationPolicy>,
) -> Option<(Local, TestPatternEgress)> {
    if !have("ffmpeg") || !have("ffprobe") {
        missing("ffmpeg");
        return None;
    }
    let local = TestPatternEgress::new(TestPatternEgressOptions::default());
    let config = config();
    let vault: Arc<dyn KeyVault> = Arc::new(config.vault().unwrap());
    let options = ServiceOptions {
        rate_limits: RateLimitConfig::disabled(),
        destination_policy: policy,
        ..ServiceOptions::default()
    };
    let service = StreamingService::with_options(
        config,
        store.clone(),
        Arc::new(local.clone()) as Arc<dyn EgressBackend>,
        vault,
        options,
    )
    .unwrap();
    let follower = service.follow_egress_events(local.events());
    Some((
        Local {
            service,
            store,
            follower,
        },
        local,
    ))
}

/// The egress id of session `id`.
async fn egress_of(h: &Local, id: &SessionId) -> String {
    h.store
        .get_session(id)
        .await
        .unwrap()
        .unwrap()
        .egress_id
        .expect("the session has an egress")
}

/// Starts agent `agent`'s stream to the RTMP server `rtmp_url` with stream key `key`.
async fn start_custom(h: &Local, agent: &str, rtmp_url: &str, key: &str) -> StartStreamResponse {
    start_as(h, &Actor::Internal, agent, rtmp_url, key)
        .await
        .unwrap()
}

/// Like [`start_custom`], asked by `actor`.
async fn start_as(
    h: &Local,
    actor: &Actor,
    agent: &str,
    rtmp_url: &str,
    key: &str,
) -> Result<StartStreamResponse, Error> {
    h.service
        .start_stream(
            actor,
            StartStreamRequest {
                agent_id: Some(agent.into()),
                platform: Some(Platform::Custom),
                stream_key: Some(SecretString::from(key)),
                custom_rtmp_url: Some(rtmp_url.into()),
                stream_title: Some("E2E: BlazeMaster vs The Field".into()),
                ..StartStreamRequest::default()
            },
        )
        .await
}

/// Stops session `id`.
async fn stop(h: &Local, id: &SessionId) -> StopStreamResponse {
    h.service
        .stop_stream(
            &Actor::Internal,
            StopStreamRequest {
                session_id: Some(id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

async fn wait_for(h: &Local, id: &SessionId, want: SessionStatus) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let st = h
            .service
            .get_status(&Actor::Internal, id)
            .await
            .unwrap()
            .status;
        if st == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "status stayed {st}, wanted {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_to_nginx_rtmp_and_stops_cleanly() {
    let Some(nginx) = NginxRtmp::start() else {
        return;
    };
    let Some((h, local)) = local_harness() else {
        return;
    };
    let key = format!("e2e{}", free_port());
    let started = start_custom(&h, "agent_e2e", &nginx.base_url(), &key).await;
    let url = format!("{}/{key}", nginx.base_url());
    let codecs = tokio::task::spawn_blocking(move || probe_codecs(&url))
        .await
        .unwrap();
    assert!(
        codecs.contains(&"h264".to_owned()) && codecs.contains(&"aac".to_owned()),
        "{codecs:?}"
    );
    wait_for(&h, &started.session_id, SessionStatus::Live).await;
    let egress = egress_of(&h, &started.session_id).await;
    // The overlay text file ffmpeg reads is named after the egress.
    assert_eq!(processes_with(&egress).len(), 1, "one ffmpeg");
    assert!(
        processes_with(&key).is_empty(),
        "no command line holds the stream key"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    let stopped = stop(&h, &started.session_id).await;
    assert!(stopped.stats.unwrap().duration > 0);
    let st = h
        .service
        .get_status(&Actor::Internal, &started.session_id)
        .await
        .unwrap();
    assert_eq!(st.status, SessionStatus::Ended);
    assert!(
        processes_with(&egress).is_empty(),
        "ffmpeg exited and was reaped"
    );
    assert_eq!(
        local.status(&egress).map(|s| s.as_str()),
        Some("EGRESS_COMPLETE")
    );
    // Stop is idempotent.
    local.stop(&egress).await.unwrap();
    assert!(local.list_active().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twitch_dry_run_publishes_under_its_key_with_the_bandwidth_test_query() {
    let Some(nginx) = NginxRtmp::start() else {
        return;
    };
    let Some((h, _local)) = local_harness() else {
        return;
    };
    // Twitch's ingest override pointed at nginx-rtmp, which reads `?bandwidthtest=true` as
    // publish arguments and serves the stream under the bare key.
    let key = format!("live_dry{}_abcdefghij", free_port());
    let started = h
        .service
        .start_stream(
            &Actor::Internal,
            StartStreamRequest {
                agent_id: Some("agent_dry_rtmp".into()),
                platform: Some(Platform::Twitch),
                stream_key: Some(SecretString::from(key.as_str())),
                custom_rtmp_url: Some(nginx.base_url().as_str().into()),
                dry_run: true,
                ..StartStreamRequest::default()
            },
        )
        .await
        .unwrap();
    let url = format!("{}/{key}", nginx.base_url());
    let codecs = tokio::task::spawn_blocking(move || probe_codecs(&url))
        .await
        .unwrap();
    assert!(codecs.contains(&"h264".to_owned()), "{codecs:?}");
    wait_for(&h, &started.session_id, SessionStatus::Live).await;
    let st = h
        .service
        .get_status(&Actor::Internal, &started.session_id)
        .await
        .unwrap();
    assert!(st.dry_run);
    assert!(
        st.destinations[0].url.ends_with("?{...}"),
        "{:?}",
        st.destinations[0].url
    );
    stop(&h, &started.session_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_output_becomes_an_error_with_its_category() {
    let Some((h, _local)) = local_harness() else {
        return;
    };
    // Nothing listens on this port: the output cannot connect and fails at once.
    let port = free_port();
    let rtmp_url = format!("rtmp://127.0.0.1:{port}/live");
    let started = start_custom(&h, "agent_dead", &rtmp_url, "dead-key-123456").await;
    wait_for(&h, &started.session_id, SessionStatus::Error).await;
    let st = h
        .service
        .get_status(&Actor::Internal, &started.session_id)
        .await
        .unwrap();
    let reason = st.error_message.unwrap();
    // A category, not ffmpeg's words (which would tell open ports from closed ones).
    assert!(
        reason.ends_with("the destination is unreachable"),
        "{reason}"
    );
    assert!(!reason.contains("refused"), "{reason}");
    assert!(!reason.contains("dead-key-123456"), "{reason}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        processes_with(&egress_of(&h, &started.session_id).await).is_empty(),
        "the encoder was stopped"
    );
}

/// Event ids the store has claimed (its processed-event rows).
fn processed_events(db: &std::path::Path) -> usize {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM streaming_processed_events", [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap() as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_local_egress_has_its_events_applied_one_per_state_change() {
    let Some(nginx) = NginxRtmp::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let mut claimed = 0;
    for run in 0..2 {
        // Each run is a fresh process: a new store connection, service and egress.
        let store = Arc::new(SqliteStore::open(&db).await.unwrap());
        let Some((h, local)) = local_harness_on(store) else {
            return;
        };
        let mut events = local.events();
        let key = format!("restart{run}k{}", free_port());
        let agent = format!("agent_restart{run}");
        let started = start_custom(&h, &agent, &nginx.base_url(), &key).await;
        wait_for(&h, &started.session_id, SessionStatus::Live).await;
        // ffmpeg reports progress twice a second meanwhile.
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop(&h, &started.session_id).await;
        // Each event is a change of the egress's status or of an output's.
        let mut states = Vec::new();
        while let Ok(event) = events.try_recv() {
            let outputs: Vec<String> = event
                .stream_results
                .iter()
                .map(|r| r.status.clone())
                .collect();
            states.push((event.status.unwrap(), outputs));
        }
        assert!(
            states.windows(2).all(|w| w[0] != w[1]),
            "run {run}: one event per state change: {states:?}"
        );
        let mut statuses: Vec<EgressStatus> = states.iter().map(|s| s.0).collect();
        statuses.dedup();
        assert_eq!(
            statuses,
            [
                EgressStatus::Starting,
                EgressStatus::Active,
                EgressStatus::Complete
            ],
            "run {run}"
        );
        assert!(states.len() <= 6, "run {run}: {states:?}");
        // Every event is claimed once: none was taken for one of the first run's.
        claimed += states.len();
        let deadline = Instant::now() + Duration::from_secs(10);
        while processed_events(&db) < claimed && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(processed_events(&db), claimed, "run {run}");
        h.follower.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_turns_into_loopback_is_refused_before_the_output_connects() {
    let Some(nginx) = NginxRtmp::start() else {
        return;
    };
    // Public when the service checks the start, loopback when the egress connects.
    let dns = FixedResolver::with_ingest_names();
    dns.answer("rebind.example.com", &[PUBLIC_TEST_ADDR]);
    dns.answer("rebind.example.com", &["127.0.0.1"]);
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let Some((h, local)) = local_harness_with(store, Some(policy_with(dns))) else {
        return;
    };
    let agent = Actor::agent("agent_rebind").unwrap();
    let url = format!("rtmp://rebind.example.com:{}/live", nginx.port);
    let key = format!("rebind{}", free_port());
    let err = start_as(&h, &agent, "agent_rebind", &url, &key)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Egress, "{err}");
    assert!(!err.is_retryable(), "{err}");
    assert!(
        err.to_string()
            .contains("output 1 is refused by the destination policy: the host is a loopback"),
        "{err}"
    );
    let page = h.store.list_sessions(&Default::default()).await.unwrap();
    assert_eq!(page.sessions[0].status, SessionStatus::Error);
    assert!(
        processes_with(&key).is_empty(),
        "no command line holds the key"
    );
    assert!(local.list_active().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_rtmp_outputs_connect_to_the_checked_address_without_a_second_lookup() {
    let Some(nginx) = NginxRtmp::start() else {
        return;
    };
    // The operator allows loopback; the name exists only in the policy's resolver, so the
    // output reaches nginx only if it connects to the checked address instead of the name.
    let dns = FixedResolver::with_ingest_names();
    dns.answer("pinned-ingest.example.com", &["127.0.0.1"]);
    let policy = policy_with(dns).allow("127.0.0.0/8").unwrap();
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let Some((h, _local)) = local_harness_with(store, Some(policy)) else {
        return;
    };
    let agent = Actor::agent("agent_pinned").unwrap();
    let url = format!("rtmp://pinned-ingest.example.com:{}/live", nginx.port);
    let key = format!("pinned{}", free_port());
    let started = start_as(&h, &agent, "agent_pinned", &url, &key)
        .await
        .unwrap();
    let read_back = format!("{}/{key}", nginx.base_url());
    let codecs = tokio::task::spawn_blocking(move || probe_codecs(&read_back))
        .await
        .unwrap();
    assert!(codecs.contains(&"h264".to_owned()), "{codecs:?}");
    wait_for(&h, &started.session_id, SessionStatus::Live).await;
    stop(&h, &started.session_id).await;
    assert!(processes_with(&egress_of(&h, &started.session_id).await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_not_rtmp_is_reported_as_a_rejection_without_its_words() {
    let Some((h, _local)) = local_harness() else {
        return;
    };
    // An open port that closes every connection at once.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            drop(conn);
        }
    });
    let rtmp_url = format!("rtmp://127.0.0.1:{port}/live");
    let started = start_custom(&h, "agent_closed", &rtmp_url, "closed-key-123456").await;
    wait_for(&h, &started.session_id, SessionStatus::Error).await;
    let st = h
        .service
        .get_status(&Actor::Internal, &started.session_id)
        .await
        .unwrap();
    let reason = st.error_message.unwrap();
    assert!(
        reason.ends_with("the destination rejected the stream"),
        "{reason}"
    );
    for raw in ["End of file", "reset", "Input/output"] {
        assert!(!reason.contains(raw), "{reason}");
    }
}
