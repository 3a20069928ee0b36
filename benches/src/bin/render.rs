//! The render benchmark: the browser egress streaming the overlay to nginx-rtmp on 127.0.0.1,
//! measured as an operator would.
//!
//! ```sh
//! cargo run --release -p ltcg-streaming-benches --bin render -- H264_720P_30 60 20 1
//! #                                                             preset    seconds decisions streams
//! ```
//!
//! For `seconds` (at least 60) it samples, once a second, the CPU time and memory (PSS) of
//! everything that renders (Chromium and its children, Xvfb, ffmpeg, and this process, which
//! publishes the stream) and ffmpeg's own speed; it counts the frames nginx delivers over 10 s;
//! then it posts `decisions` agent decisions, 2.5–3.5 s apart, and times each until the decision
//! panel changes in the picture read back from nginx (decoded as it arrives). Prints one
//! Markdown table row per stream. Needs Debian's chromium, xvfb, pulseaudio, ffmpeg and nginx
//! with libnginx-mod-rtmp.

use std::collections::HashSet;
use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ltcg_streaming_core::egress::{
    BrowserEgress, BrowserEgressOptions, EgressBackend, EncodingPreset, EncodingSettings,
};
use ltcg_streaming_core::http::{router, ApiAuth};
use ltcg_streaming_core::service::{DecisionInput, RateLimitConfig, StartStreamRequest};
use ltcg_streaming_core::{
    Actor, IngestUrl, KeyVault, MemoryStore, Platform, SecretString, ServiceOptions, SessionId,
    SessionStatus, StreamingConfig, StreamingService,
};

use ltcg_streaming_test_support::media::video_packet_times;
use ltcg_streaming_test_support::nginx_rtmp::NginxRtmp;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Mean absolute difference (0–255) in the decision panel between two frames that counts as
/// the panel changing; a static page gives 0.00–0.02, a new decision about 2.
const CHANGED: f64 = 0.5;
/// Decisions of visibly different shapes.
const ACTIONS: [&str; 4] = [
    "ATTACK",
    "SUMMON A MONSTER IN DEFENSE POSITION",
    "SET TRAP",
    "END THE TURN NOW",
];
const REASONS: [&str; 3] = [
    "lethal on board",
    "the opponent has two face-down cards and no monsters; wait for a safer turn",
    "hold the trap for their strongest attacker",
];
/// Width and height of the picture the latency probe decodes.
const PROBE_W: usize = 320;
const PROBE_H: usize = 180;

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let preset: EncodingPreset = serde_json::from_value(serde_json::Value::String(
        args.first()
            .cloned()
            .unwrap_or_else(|| "H264_720P_30".into()),
    ))?;
    let seconds: u64 = args.get(1).map_or(Ok(60), |s| s.parse())?;
    let decisions: usize = args.get(2).map_or(Ok(20), |s| s.parse())?;
    let streams: usize = args.get(3).map_or(Ok(1), |s| s.parse())?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(preset, seconds.max(60), decisions, streams.max(1)))
}

/// CPU ticks (user + system) and proportional memory (PSS: shared pages split among the
/// processes that share them, so a sum over Chromium's processes is honest) of a process.
fn usage(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after: Vec<&str> = stat[stat.rfind(')')? + 2..].split_whitespace().collect();
    let ticks = after.get(11)?.parse::<u64>().ok()? + after.get(12)?.parse::<u64>().ok()?;
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let pss_kib: u64 = rollup
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    Some((ticks, pss_kib * 1024))
}

/// The process group of a process.
fn group_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..]
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

/// Every process of the render groups recorded in `render_dir`, and this process.
fn render_processes(render_dirs: &[std::path::PathBuf]) -> Vec<u32> {
    let mut groups = HashSet::new();
    for dir in render_dirs {
        let record = std::fs::read_to_string(dir.join("record")).unwrap_or_default();
        for line in record.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let ["group", pid, _] = fields.as_slice() {
                if let Ok(pid) = pid.parse::<u32>() {
                    groups.insert(pid);
                }
            }
        }
    }
    let mut pids = vec![std::process::id()];
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() {
            if group_of(pid).is_some_and(|g| groups.contains(&g)) {
                pids.push(pid);
            }
        }
    }
    pids
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

async fn run(
    preset: EncodingPreset,
    seconds: u64,
    decisions: usize,
    streams: usize,
) -> Result<(), BoxError> {
    let nginx = NginxRtmp::start().ok_or("nginx with libnginx-mod-rtmp is required")?;
    let work = tempfile::tempdir()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api: SocketAddr = listener.local_addr()?;
    let mut config = StreamingConfig::new(
        &"42".repeat(32),
        "render-benchmark-overlay-secret-0123456789",
    )?;
    config.app_url = format!("http://{api}");
    let egress = BrowserEgress::new(BrowserEgressOptions {
        work_dir: work.path().to_owned(),
        max_concurrent: streams,
        ..BrowserEgressOptions::default()
    });
    let vault: Arc<dyn KeyVault> = Arc::new(config.vault()?);
    let service = StreamingService::with_options(
        config,
        Arc::new(MemoryStore::new()),
        Arc::new(egress.clone()) as Arc<dyn EgressBackend>,
        vault,
        ServiceOptions {
            rate_limits: RateLimitConfig::disabled(),
            encoding: EncodingSettings::preset(preset),
            ..ServiceOptions::default()
        },
    )?;
    service.follow_backend_events();
    let app = router(service.clone(), ApiAuth::dev_mode())
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut sessions: Vec<(SessionId, String)> = Vec::new();
    for i in 0..streams {
        let key = format!("bench{i}");
        let started = service
            .start_stream(
                &Actor::Internal,
                StartStreamRequest {
                    agent_id: Some(format!("agent_bench{i}")),
                    platform: Some(Platform::Custom),
                    custom_rtmp_url: Some(IngestUrl::new(format!(
                        "rtmp://127.0.0.1:{}/live",
                        nginx.port
                    ))),
                    stream_key: Some(SecretString::from(key.as_str())),
                    stream_title: Some(format!("Render benchmark {i}")),
                    ..StartStreamRequest::default()
                },
            )
            .await?;
        sessions.push((started.session_id, key));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for (sid, _) in &sessions {
        while service.get_status(&Actor::Internal, sid).await?.status != SessionStatus::Live {
            if Instant::now() > deadline {
                return Err("the streams did not go live".into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let active = egress.list_active().await?;
    let mut egress_ids = Vec::new();
    for (sid, _) in &sessions {
        let egress = active
            .iter()
            .find(|e| e.session_id() == Some(sid.as_str()))
            .ok_or("every session has its egress")?;
        egress_ids.push(egress.egress_id.clone());
    }
    let render_dirs: Vec<_> = egress_ids.iter().map(|id| work.path().join(id)).collect();
    eprintln!("live; warming up 5 s");
    tokio::time::sleep(Duration::from_secs(5)).await;

    // 1. CPU, memory and encoder speed over `seconds`.
    let tick = 100.0; // USER_HZ on Linux
    let began = Instant::now();
    let mut peak_rss = 0u64;
    let mut speeds: Vec<f64> = Vec::new();
    let mut seen: std::collections::HashMap<u32, u64> = std::collections::HashMap::new();
    let mut ticks_used = 0u64;
    for pid in render_processes(&render_dirs) {
        if let Some((t, _)) = usage(pid) {
            seen.insert(pid, t);
        }
    }
    let fps_url = format!("rtmp://127.0.0.1:{}/live/{}", nginx.port, sessions[0].1);
    let fps_probe = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_secs(20));
        video_packet_times(&fps_url, 10)
    });
    while began.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut rss = 0;
        for pid in render_processes(&render_dirs) {
            if let Some((t, r)) = usage(pid) {
                let before = seen.insert(pid, t).unwrap_or(t);
                ticks_used += t.saturating_sub(before);
                rss += r;
            }
        }
        peak_rss = peak_rss.max(rss);
        for id in &egress_ids {
            if let Some(stats) = egress.encoder_stats(id) {
                speeds.push(stats.speed);
            }
        }
    }
    let elapsed = began.elapsed().as_secs_f64();
    let cores = ticks_used as f64 / tick / elapsed;
    let times = fps_probe.await?;
    let fps = match (times.first(), times.last()) {
        (Some(a), Some(b)) if b > a => (times.len() - 1) as f64 / (b - a),
        _ => 0.0,
    };
    speeds.sort_by(f64::total_cmp);
    let min_speed = speeds.first().copied().unwrap_or(0.0);
    let median_speed = percentile(&speeds, 0.5);

    // 2. Decision to stream: the decision panel changes in the picture nginx delivers.
    let url = format!("rtmp://127.0.0.1:{}/live/{}", nginx.port, sessions[0].1);
    let mut reader = Command::new("ffmpeg")
        .args(["-v", "error", "-fflags", "nobuffer", "-flags", "low_delay"])
        .args([
            "-probesize",
            "32768",
            "-analyzeduration",
            "0",
            "-rtmp_buffer",
            "100",
        ])
        .args(["-rw_timeout", "5000000", "-i", &url])
        .args(["-vf", &format!("scale={PROBE_W}:{PROBE_H},format=gray")])
        .args(["-f", "rawvideo", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdout = reader.stdout.take().ok_or("reader stdout")?;
    let (frames_tx, mut frames_rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, f64)>();
    std::thread::spawn(move || {
        let mut prev = vec![0u8; PROBE_W * PROBE_H];
        let mut frame = vec![0u8; PROBE_W * PROBE_H];
        let (x0, x1) = (PROBE_W * 76 / 100, PROBE_W * 99 / 100);
        let (y0, y1) = (PROBE_H * 15 / 100, PROBE_H * 85 / 100);
        while stdout.read_exact(&mut frame).is_ok() {
            let now = Instant::now();
            let mut diff = 0u64;
            for y in y0..y1 {
                for x in x0..x1 {
                    let i = y * PROBE_W + x;
                    diff += u64::from(frame[i].abs_diff(prev[i]));
                }
            }
            let mean = diff as f64 / ((x1 - x0) * (y1 - y0)) as f64;
            if let Some(path) = std::env::var_os("RENDER_BENCH_LAST_FRAME") {
                let mut pgm = format!("P5\n{PROBE_W} {PROBE_H}\n255\n").into_bytes();
                pgm.extend_from_slice(&frame);
                let _ = std::fs::write(path, pgm);
            }
            std::mem::swap(&mut prev, &mut frame);
            if frames_tx.send((now, mean)).is_err() {
                break;
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut latencies = Vec::new();
    for n in 0..decisions {
        while frames_rx.try_recv().is_ok() {}
        let posted = Instant::now();
        service
            .record_decision(
                &Actor::Internal,
                DecisionInput {
                    session_id: Some(sessions[0].0.clone()),
                    game_id: "bench".into(),
                    turn_number: n as u32 + 1,
                    phase: "main".into(),
                    // Lines of different lengths: the panel visibly changes when the
                    // list shifts by one.
                    action: ACTIONS[n % ACTIONS.len()].to_owned(),
                    reasoning: REASONS[n % REASONS.len()].to_owned(),
                    ..DecisionInput::default()
                },
            )
            .await?;
        let wait_until = posted + Duration::from_secs(10);
        loop {
            let left = wait_until.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, frames_rx.recv()).await {
                Ok(Some((at, diff))) if at >= posted && diff > CHANGED => {
                    latencies.push(at.duration_since(posted).as_secs_f64());
                    break;
                }
                Ok(Some((at, diff))) => {
                    if std::env::var_os("RENDER_BENCH_DEBUG").is_some() {
                        eprintln!(
                            "  frame +{:.2}s diff {diff:.2}",
                            at.saturating_duration_since(posted).as_secs_f64()
                        );
                    }
                }
                _ => {
                    eprintln!("decision {n}: no change seen within 10 s");
                    break;
                }
            }
        }
        // 2.5 s and a different fraction of the overlay's 1 s poll each time (golden ratio
        // steps), so the decisions do not all land at the same point of it.
        let phase = (n as f64 * 0.618_034).fract();
        tokio::time::sleep(Duration::from_secs_f64(2.5 + phase)).await;
    }
    let _ = reader.kill();
    let _ = reader.wait();
    latencies.sort_by(f64::total_cmp);

    let e = EncodingSettings::preset(preset);
    println!("| preset | streams | seconds | CPU cores (tree) | peak memory (PSS) | ffmpeg speed min / median | fps at nginx | decision → stream p50 / p95 (n) |");
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {}x{}@{} | {streams} | {elapsed:.0} | {cores:.2} | {:.0} MiB | {min_speed:.2}× / {median_speed:.2}× | {fps:.2} | {:.2} s / {:.2} s ({}) |",
        e.width,
        e.height,
        e.framerate,
        peak_rss as f64 / (1024.0 * 1024.0),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        latencies.len()
    );
    for (sid, _) in &sessions {
        service
            .stop_stream(
                &Actor::Internal,
                ltcg_streaming_core::service::StopStreamRequest {
                    session_id: Some(sid.clone()),
                    ..Default::default()
                },
            )
            .await?;
    }
    Ok(())
}
