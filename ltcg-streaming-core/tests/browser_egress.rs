//! `BrowserEgress` end to end with real parts: Chromium on Xvfb with a PulseAudio sink,
//! ffmpeg, and nginx-rtmp on 127.0.0.1, read back as a viewer would (ffprobe, frames, OCR,
//! loudness). Renders run one test at a time (2 cores), at the small preset unless a test
//! needs legible text.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use ltcg_streaming_core::egress::{
    BrowserEgress, BrowserEgressOptions, EgressBackend, EgressRequest, EncodingPreset,
    EncodingSettings,
};
use ltcg_streaming_core::service::{
    DecisionInput, DestinationInput, Preview, StartStreamRequest, StopStreamRequest,
    UpdateDestinationsRequest,
};
use ltcg_streaming_core::store::SessionStore;
use ltcg_streaming_core::{
    Actor, EgressStatus, ErrorCode, IngestUrl, Platform, SecretString, SessionId, SessionStatus,
    StreamingService,
};
use ltcg_streaming_test_support::http::{auth, INTERNAL_KEY};
use ltcg_streaming_test_support::live_router::BrowserRig;
use ltcg_streaming_test_support::media::{
    artifacts_dir, grab_frame, ocr, probe, probe_once, read_seconds, video_packet_times, Picture,
};
use ltcg_streaming_test_support::nginx_rtmp::*;
use tokio::sync::{Mutex, MutexGuard};

/// One render at a time: the machine has 2 cores.
static RENDERS: Mutex<()> = Mutex::const_new(());

/// Takes the render lock, or `None` (outside CI) when a program is missing.
async fn renders() -> Option<MutexGuard<'static, ()>> {
    let missing_now = BrowserEgressOptions::default().missing_programs();
    if !missing_now.is_empty() {
        missing(&missing_now.join(", "));
        return None;
    }
    if !have("tesseract") && missing("tesseract-ocr") {
        return None;
    }
    Some(RENDERS.lock().await)
}

/// Options for tests: a private work directory, thumbnails every second, outputs given up
/// after 5 s without progress, 10 s page loads.
fn options(work: &Path) -> BrowserEgressOptions {
    BrowserEgressOptions {
        work_dir: work.to_owned(),
        thumbnail_interval: Some(Duration::from_secs(1)),
        reconnect_window: Duration::from_secs(5),
        page_load_timeout: Duration::from_secs(10),
        page_load_attempts: 2,
        ..BrowserEgressOptions::default()
    }
}

/// Test pages on 127.0.0.1: `/tone` plays 440 Hz, `/silent` plays nothing, `/signal`
/// logs `START_RECORDING` after 5 s and `END_RECORDING` after 11 s, `/missing` is a 404.
async fn page_server() -> SocketAddr {
    const TONE: &str = "<!doctype html><body style='background:#204080'><h1>tone</h1><script>\
        const c = new AudioContext(); const o = c.createOscillator(); const g = c.createGain();\
        o.frequency.value = 440; g.gain.value = 0.5; o.connect(g); g.connect(c.destination);\
        o.start(); c.resume();</script></body>";
    const SILENT: &str = "<!doctype html><body style='background:#208040'><h1>silent</h1></body>";
    const SIGNAL: &str = "<!doctype html><body style='background:#802040'><h1>signal</h1><script>\
        setTimeout(() => console.log('START_RECORDING'), 5000);\
        setTimeout(() => console.log('END_RECORDING'), 11000);</script></body>";
    let app = Router::new()
        .route("/tone", get(|| async { Html(TONE) }))
        .route("/silent", get(|| async { Html(SILENT) }))
        .route("/signal", get(|| async { Html(SIGNAL) }))
        .route(
            "/missing",
            get(|| async { (StatusCode::NOT_FOUND, "no such page").into_response() }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// What a backend-level test renders with: the render lock, nginx-rtmp, the test pages,
/// a work directory and the egress (with `adjust`ed [`options`]).
struct Rig {
    _one: MutexGuard<'static, ()>,
    nginx: NginxRtmp,
    pages: SocketAddr,
    _work: tempfile::TempDir,
    egress: BrowserEgress,
}

impl Rig {
    /// `None` (outside CI) when a program is missing.
    async fn new(
        adjust: impl FnOnce(BrowserEgressOptions) -> BrowserEgressOptions,
    ) -> Option<Self> {
        let one = renders().await?;
        let nginx = NginxRtmp::start()?;
        let pages = page_server().await;
        let work = tempfile::tempdir().unwrap();
        let egress = BrowserEgress::new(adjust(options(work.path())));
        Some(Self {
            _one: one,
            nginx,
            pages,
            _work: work,
            egress,
        })
    }

    /// Starts rendering test page `page` to `outputs` at the small preset.
    async fn start(&self, page: &str, outputs: &[String]) -> String {
        self.egress
            .start(&request(
                &format!("http://{}/{page}", self.pages),
                outputs,
                EncodingPreset::H264_540P_30,
            ))
            .await
            .unwrap()
    }

    /// A fresh output URL on the `live` application.
    fn output(&self, name: &str) -> String {
        format!("{}/{name}k{}", self.nginx.base_url(), free_port())
    }
}

/// A request rendering `page` to `outputs` at `preset`.
fn request(page: &str, outputs: &[String], preset: EncodingPreset) -> EgressRequest {
    EgressRequest {
        session_id: SessionId::generate(),
        title: "test".into(),
        page_url: SecretString::from(page),
        outputs: outputs
            .iter()
            .map(|o| SecretString::from(o.as_str()))
            .collect(),
        encoding: EncodingSettings::preset(preset),
        destination_policy: None,
    }
}

/// Waits up to `within` for egress `id` to reach `want`.
async fn wait_egress(egress: &BrowserEgress, id: &str, want: EgressStatus, within: Duration) {
    let deadline = Instant::now() + within;
    while egress.status(id) != Some(want) {
        assert!(
            Instant::now() < deadline,
            "egress {id} is {:?}, not {want:?}",
            egress.status(id)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The last error an egress reported, from its events.
async fn ended_with(
    events: &mut tokio::sync::broadcast::Receiver<ltcg_streaming_core::EgressEvent>,
    id: &str,
) -> (EgressStatus, Option<String>) {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(60), events.recv())
            .await
            .expect("the egress ends")
            .unwrap();
        if event.egress_id.as_deref() == Some(id) && event.status.unwrap().is_terminal() {
            return (event.status.unwrap(), event.error);
        }
    }
}

/// Our audio sinks on the PulseAudio server.
fn our_sinks() -> Vec<String> {
    let out = std::process::Command::new("pactl")
        .args(["list", "short", "sinks"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split('\t').nth(1).map(str::to_owned))
        .filter(|name| name.starts_with("ltcg_"))
        .collect()
}

/// Waits (up to 10 s) until nothing of egress `id` runs: no process names it (the browser
/// profile and thumbnail live in its directory), no sink is named after it.
async fn assert_nothing_left(id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let procs = processes_with(id);
        let sinks: Vec<String> = our_sinks().into_iter().filter(|s| s.contains(id)).collect();
        if procs.is_empty() && sinks.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "left behind: processes {procs:?}, sinks {sinks:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// This process's children that render (X servers, browsers, encoders): none once every
/// render of this test has ended. (Test binaries run one at a time, and renders in this one
/// one test at a time.)
async fn assert_no_renders_left() {
    let me = std::process::id().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut left = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let name = &stat[open + 1..close];
            let mut rest = stat[close + 2..].split_whitespace();
            let (state, ppid) = (rest.next(), rest.next());
            if ppid == Some(me.as_str())
                && state != Some("Z")
                && ["Xvfb", "chromium", "ffmpeg"].contains(&name)
            {
                left.push(name.to_owned());
            }
        }
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "still running: {left:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The main process of egress `id`'s browser (its process-group leader) and its encoder.
fn browser_and_encoder(id: &str) -> (Option<u32>, Option<u32>) {
    let mut browser = None;
    let mut encoder = None;
    for pid in processes_with(id) {
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd);
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let after = stat.rsplit(')').next().unwrap_or_default();
        let pgid = after.split_whitespace().nth(2);
        if cmd.contains("--remote-debugging-pipe") && pgid == Some(pid.to_string().as_str()) {
            browser = Some(pid);
        }
        if cmd.starts_with("ffmpeg") {
            encoder = Some(pid);
        }
    }
    (browser, encoder)
}

/// A service over a `BrowserEgress`, its overlay served by the core's router on 127.0.0.1.
struct Live {
    service: StreamingService,
    store: Arc<dyn SessionStore>,
    egress: BrowserEgress,
    api: SocketAddr,
}

async fn live_service(work: &Path, encoding: EncodingSettings) -> Live {
    let rig = BrowserRig::start(BrowserEgress::new(options(work)), encoding, auth()).await;
    Live {
        service: rig.service,
        store: rig.store,
        egress: rig.egress,
        api: rig.addr,
    }
}

impl Live {
    /// Starts `req` as the internal caller; returns the session id.
    async fn start(&self, req: StartStreamRequest) -> SessionId {
        self.service
            .start_stream(&Actor::Internal, req)
            .await
            .unwrap()
            .session_id
    }

    /// Stops the session and waits until it has ended.
    async fn stop(&self, id: &SessionId) {
        self.service
            .stop_stream(
                &Actor::Internal,
                StopStreamRequest {
                    session_id: Some(id.clone()),
                    ..StopStreamRequest::default()
                },
            )
            .await
            .unwrap();
        wait_session(self, id, SessionStatus::Ended, Duration::from_secs(20)).await;
    }

    /// The session's egress id.
    async fn egress_of(&self, id: &SessionId) -> String {
        self.store
            .get_session(id)
            .await
            .unwrap()
            .unwrap()
            .egress_id
            .unwrap()
    }
}

/// Agent `agent`'s start to the custom RTMP server `base` with `key`.
fn agent_stream(agent: &str, base: String, key: &str) -> StartStreamRequest {
    StartStreamRequest {
        agent_id: Some(agent.into()),
        platform: Some(Platform::Custom),
        custom_rtmp_url: custom(base),
        stream_key: Some(SecretString::from(key)),
        ..StartStreamRequest::default()
    }
}

async fn wait_session(live: &Live, id: &SessionId, want: SessionStatus, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let st = live.service.get_status(&Actor::Internal, id).await.unwrap();
        if st.status == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "session is {:?} ({:?}), not {want:?}",
            st.status,
            st.error_message
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn custom(url: String) -> Option<IngestUrl> {
    Some(IngestUrl::new(url))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overlay_page_is_what_is_streamed() {
    let Some(_one) = renders().await else { return };
    let Some(nginx) = NginxRtmp::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    // The service's picture is the small one; this stream asks for 720p (legible text).
    let live = live_service(
        work.path(),
        EncodingSettings::preset(EncodingPreset::H264_540P_30),
    )
    .await;
    let key = format!("overlay{}", free_port());
    let sid = live
        .start(StartStreamRequest {
            stream_title: Some("Browser egress".into()),
            encoding: Some(EncodingPreset::H264_720P_30),
            ..agent_stream("agent_page", nginx.base_url(), &key)
        })
        .await;
    wait_session(&live, &sid, SessionStatus::Live, Duration::from_secs(40)).await;
    // A word nobody typed before this run.
    const WORDS: [&str; 10] = [
        "GRANITE", "HARBOR", "LANTERN", "MEADOW", "ORCHID", "PEBBLE", "QUARTZ", "SAFFRON",
        "TIMBER", "VELVET",
    ];
    let word = WORDS[free_port() as usize % WORDS.len()];
    live.service
        .record_decision(
            &Actor::Internal,
            DecisionInput {
                session_id: Some(sid.clone()),
                game_id: "game_1".into(),
                turn_number: 3,
                phase: "main".into(),
                action: format!("PLAY {word}"),
                reasoning: "the board is open".into(),
                ..DecisionInput::default()
            },
        )
        .await
        .unwrap();
    let url = format!("{}/{key}", nginx.base_url());
    let frame = artifacts_dir("browser-egress").join("overlay-frame.png");
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let path = frame.clone();
        let u = url.clone();
        assert!(tokio::task::spawn_blocking(move || grab_frame(&u, &path))
            .await
            .unwrap());
        let path = frame.clone();
        let text = tokio::task::spawn_blocking(move || ocr(&path))
            .await
            .unwrap();
        if text.to_uppercase().contains(word) || Instant::now() > deadline {
            break text;
        }
    };
    assert!(
        text.to_uppercase().contains(word),
        "{word} is not in the frame read back from nginx (kept at {}): {text}",
        frame.display()
    );
    // The dark theme: a navy-to-black arena behind, the decision's action in amber.
    let picture = Picture::open(&frame);
    assert_eq!((picture.width, picture.height), (1280, 720));
    let [r, g, b] = picture.pixel(picture.width * 3 / 10, picture.height * 3 / 4);
    assert!(
        b > r && b > g && b < 90,
        "arena background at 30%/75%: {r},{g},{b}"
    );
    let amber = picture.count_in((0.75, 0.1, 1.0, 0.5), |[r, g, b]| {
        r > 200 && g > 150 && b < 130
    });
    assert!(
        amber > 50,
        "amber action text in the decision panel: {amber} pixels"
    );

    // The thumbnail, from the service and over HTTP.
    let deadline = Instant::now() + Duration::from_secs(10);
    let thumb = loop {
        if let Some(preview) = live
            .service
            .thumbnail(&Actor::Internal, &sid)
            .await
            .unwrap()
        {
            match preview {
                Preview::Picture(t) => break t,
                other => panic!("a local render serves its own picture, not {other:?}"),
            }
        }
        assert!(Instant::now() < deadline, "no thumbnail");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(&thumb.jpeg[..2], &[0xff, 0xd8], "a JPEG");
    assert!(thumb.taken_at_ms > 0);
    let reply = reqwest_get(
        live.api,
        &format!("/api/streaming/thumbnail?sessionId={}", sid),
    )
    .await;
    assert_eq!(reply.0, 200);
    assert_eq!(
        reply.1.get("content-type").map(String::as_str),
        Some("image/jpeg")
    );
    assert_eq!(
        reply.1.get("cache-control").map(String::as_str),
        Some("no-store")
    );
    assert_eq!(&reply.2[..2], &[0xff, 0xd8]);
    let thumb_file = artifacts_dir("browser-egress").join("thumbnail.jpg");
    std::fs::write(&thumb_file, &reply.2).unwrap();

    let egress_id = live.egress_of(&sid).await;
    assert!(
        processes_with(&key).is_empty(),
        "no command line holds the key"
    );
    live.stop(&sid).await;
    assert_nothing_left(&egress_id).await;
    // Stop again: nothing to do, no error.
    live.egress.stop(&egress_id).await.unwrap();
    let after = live
        .service
        .thumbnail(&Actor::Internal, &sid)
        .await
        .unwrap();
    assert!(after.is_none(), "an ended session has no thumbnail");
    assert_no_renders_left().await;
}

/// A minimal HTTP GET with the internal key: status, lower-cased headers, body.
async fn reqwest_get(
    addr: SocketAddr,
    path: &str,
) -> (u16, std::collections::HashMap<String, String>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {INTERNAL_KEY}\r\nConnection: close\r\n\r\n"
    );
    conn.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_come_and_go_while_live_and_a_lost_one_fails_alone() {
    let Some(_one) = renders().await else { return };
    let (Some(first), Some(second)) = (NginxRtmp::start(), NginxRtmp::start()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let live = live_service(
        work.path(),
        EncodingSettings::preset(EncodingPreset::H264_540P_30),
    )
    .await;
    let keys: Vec<String> = (0..3)
        .map(|i| format!("multi{i}k{}", free_port()))
        .collect();
    let sid = live
        .start(StartStreamRequest {
            destinations: vec![DestinationInput {
                platform: Platform::Custom,
                stream_key: SecretString::from(keys[1].as_str()),
                custom_rtmp_url: custom(format!("rtmp://127.0.0.1:{}/backup", first.port)),
                channel: None,
            }],
            ..agent_stream("agent_multi", first.base_url(), &keys[0])
        })
        .await;
    wait_session(&live, &sid, SessionStatus::Live, Duration::from_secs(40)).await;
    let a = format!("{}/{}", first.base_url(), keys[0]);
    let b = format!("rtmp://127.0.0.1:{}/backup/{}", first.port, keys[1]);
    for url in [a.clone(), b.clone()] {
        let info = tokio::task::spawn_blocking(move || probe(&url, Duration::from_secs(20)))
            .await
            .unwrap();
        assert!(info.is_some(), "both applications receive the stream");
    }

    // Watch A's packets while B is removed and C (on the second server) is added.
    let watch_a = {
        let a = a.clone();
        tokio::task::spawn_blocking(move || video_packet_times(&a, 8))
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let view = live
        .service
        .get_status(&Actor::Internal, &sid)
        .await
        .unwrap();
    let backup = view
        .destinations
        .iter()
        .find(|d| d.url.contains("/backup/"))
        .unwrap()
        .id
        .clone();
    live.service
        .update_destinations(
            &Actor::Internal,
            UpdateDestinationsRequest {
                session_id: sid.clone(),
                remove: vec![backup.into()],
                add: vec![DestinationInput {
                    platform: Platform::Custom,
                    stream_key: SecretString::from(keys[2].as_str()),
                    custom_rtmp_url: custom(second.base_url()),
                    channel: None,
                }],
            },
        )
        .await
        .unwrap();
    let times = watch_a.await.unwrap();
    assert!(
        times.len() > 100,
        "A kept receiving: {} packets",
        times.len()
    );
    let gap = times.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    assert!(
        gap <= 1.0,
        "largest gap on A while B left and C joined: {gap} s"
    );
    let c_probe = format!("{}/{}", second.base_url(), keys[2]);
    let info = tokio::task::spawn_blocking(move || probe(&c_probe, Duration::from_secs(20)))
        .await
        .unwrap();
    assert!(info.is_some(), "the added destination receives the stream");
    let b_probe = b.clone();
    let gone = tokio::task::spawn_blocking(move || probe_once(&b_probe, Duration::from_secs(3)))
        .await
        .unwrap();
    assert!(gone.is_none(), "the removed destination no longer receives");

    // The second server goes away: C fails on its own (after the 5 s reconnect window),
    // A goes on.
    let second_base = second.base_url();
    drop(second);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let view = live
            .service
            .get_status(&Actor::Internal, &sid)
            .await
            .unwrap();
        let c_dest = view
            .destinations
            .iter()
            .find(|d| d.url.starts_with(&second_base))
            .cloned();
        if c_dest
            .as_ref()
            .is_some_and(|d| d.status == ltcg_streaming_core::session::DestinationStatus::Failed)
        {
            assert_eq!(view.status, SessionStatus::Live, "the session goes on");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the lost destination is not failed: {view:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let a_probe = a.clone();
    let frames = tokio::task::spawn_blocking(move || video_packet_times(&a_probe, 3))
        .await
        .unwrap()
        .len();
    assert!(frames > 60, "A still receives: {frames} frames in 3 s");
    let egress_id = live.egress_of(&sid).await;
    live.stop(&sid).await;
    assert_nothing_left(&egress_id).await;
    assert_no_renders_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_has_the_presets_size_and_rate_and_the_pages_sound() {
    let Some(rig) = Rig::new(|o| o).await else {
        return;
    };
    for (page, loud) in [("silent", false), ("tone", true)] {
        let url = rig.output(page);
        let id = rig.start(page, std::slice::from_ref(&url)).await;
        wait_egress(
            &rig.egress,
            &id,
            EgressStatus::Active,
            Duration::from_secs(40),
        )
        .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let encoder = rig.egress.encoder_stats(&id).unwrap();
        assert!(encoder.frames > 0 && encoder.speed > 0.0, "{encoder:?}");
        let u = url.clone();
        let info = tokio::task::spawn_blocking(move || probe(&u, Duration::from_secs(20)))
            .await
            .unwrap()
            .expect("the stream arrives");
        assert_eq!(
            (info.video_codec.as_str(), info.width, info.height),
            ("h264", 960, 540),
            "{page}"
        );
        assert_eq!(
            info.audio_codec.as_deref(),
            Some("aac"),
            "{page}: an audio track"
        );
        let u = url.clone();
        let times = tokio::task::spawn_blocking(move || video_packet_times(&u, 6))
            .await
            .unwrap();
        let span = times.last().unwrap() - times.first().unwrap();
        let fps = (times.len() - 1) as f64 / span;
        assert!(span >= 5.0, "{page}: read {span} s");
        assert!(
            (29.0..=31.0).contains(&fps),
            "{page}: {fps} frames per second"
        );
        let (_, rms) = tokio::task::spawn_blocking(move || read_seconds(&url, 4))
            .await
            .unwrap();
        let rms = rms.expect("audio measured");
        if loud {
            assert!(rms > -30.0, "the tone is heard: {rms} dB");
        } else {
            assert!(rms < -60.0, "the silent page is silent: {rms} dB");
        }
        rig.egress.stop(&id).await.unwrap();
        assert_eq!(rig.egress.status(&id), Some(EgressStatus::Complete));
        assert_nothing_left(&id).await;
    }
    assert_no_renders_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_application_fails_fast_and_a_missing_page_names_its_url_redacted() {
    let Some(rig) = Rig::new(|o| BrowserEgressOptions {
        reconnect_window: Duration::from_secs(30),
        ..o
    })
    .await
    else {
        return;
    };
    let mut events = rig.egress.events();
    let began = Instant::now();
    let wrong_app = format!("rtmp://127.0.0.1:{}/nosuchapp/key123456", rig.nginx.port);
    let id = rig.start("silent", &[wrong_app]).await;
    let (status, error) = ended_with(&mut events, &id).await;
    assert_eq!(status, EgressStatus::Failed);
    assert_eq!(
        error.as_deref(),
        Some("the destination rejected the stream")
    );
    assert!(
        began.elapsed() < Duration::from_secs(25),
        "failed without waiting out the 30 s reconnect window"
    );
    assert_nothing_left(&id).await;

    let id = rig
        .start("missing?token=secret-token-value", &[rig.output("missing")])
        .await;
    let (status, error) = ended_with(&mut events, &id).await;
    assert_eq!(status, EgressStatus::Failed);
    let error = error.unwrap();
    assert!(error.contains("HTTP 404"), "{error}");
    assert!(
        error.contains(&format!("http://{}/missing?{{...}}", rig.pages)),
        "{error}"
    );
    assert!(!error.contains("secret-token-value"), "{error}");
    assert_nothing_left(&id).await;
    assert_no_renders_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_signal_gates_the_stream_and_end_recording_ends_it() {
    let Some(rig) = Rig::new(|o| BrowserEgressOptions {
        await_start_signal: true,
        ..o
    })
    .await
    else {
        return;
    };
    let mut events = rig.egress.events();
    let url = rig.output("signal");
    let id = rig.start("signal", std::slice::from_ref(&url)).await;
    // The page logs START_RECORDING 5 s after it loads: nothing is pushed before.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rig.egress.status(&id), Some(EgressStatus::Starting));
    assert_eq!(
        browser_and_encoder(&id).1,
        None,
        "no encoder before the signal"
    );
    let u = url.clone();
    assert!(
        tokio::task::spawn_blocking(move || probe_once(&u, Duration::from_secs(1)))
            .await
            .unwrap()
            .is_none(),
        "nothing at the server before the signal"
    );
    wait_egress(
        &rig.egress,
        &id,
        EgressStatus::Active,
        Duration::from_secs(20),
    )
    .await;
    let u = url.clone();
    let info = tokio::task::spawn_blocking(move || probe(&u, Duration::from_secs(10)))
        .await
        .unwrap();
    assert!(info.is_some(), "the stream arrives after the signal");
    // END_RECORDING at 11 s ends the stream as complete.
    let (status, error) = ended_with(&mut events, &id).await;
    assert_eq!((status, error), (EgressStatus::Complete, None));
    assert_nothing_left(&id).await;
    assert_no_renders_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_browser_or_encoder_fails_the_egress_naming_it() {
    let Some(rig) = Rig::new(|o| o).await else {
        return;
    };
    let mut events = rig.egress.events();
    for (victim, name) in [(0, "Chromium"), (1, "ffmpeg")] {
        let id = rig.start("silent", &[rig.output("kill")]).await;
        wait_egress(
            &rig.egress,
            &id,
            EgressStatus::Active,
            Duration::from_secs(40),
        )
        .await;
        let (browser, encoder) = browser_and_encoder(&id);
        let pid = if victim == 0 { browser } else { encoder }.expect("the process runs");
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        let (status, error) = ended_with(&mut events, &id).await;
        assert_eq!(status, EgressStatus::Failed);
        let error = error.unwrap();
        assert!(
            error.starts_with(&format!("{name} exited unexpectedly")),
            "{error}"
        );
        assert_nothing_left(&id).await;
    }
    assert_no_renders_left().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_render_more_than_the_maximum_is_refused_at_once() {
    let Some(rig) = Rig::new(|o| BrowserEgressOptions {
        max_concurrent: 2,
        ..o
    })
    .await
    else {
        return;
    };
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.push(rig.start("silent", &[rig.output("cap")]).await);
    }
    let err = rig
        .egress
        .start(&request(
            &format!("http://{}/silent", rig.pages),
            &[rig.output("cap")],
            EncodingPreset::H264_540P_30,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Egress);
    assert!(err.is_retryable() && !err.egress_may_exist(), "{err}");
    assert!(err.to_string().contains("2 of 2 browser renders"), "{err}");
    for id in &ids {
        wait_egress(
            &rig.egress,
            id,
            EgressStatus::Active,
            Duration::from_secs(40),
        )
        .await;
    }
    assert_eq!(rig.egress.list_active().await.unwrap().len(), 2);
    rig.egress.stop(&ids[0]).await.unwrap();
    // A slot is free again.
    let third = rig.start("silent", &[rig.output("cap")]).await;
    for id in [&ids[1], &third] {
        rig.egress.stop(id).await.unwrap();
        assert_nothing_left(id).await;
    }
    assert_no_renders_left().await;
}
