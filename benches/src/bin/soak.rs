//! The soak benchmark: one reference server on PostgreSQL with 1,000 live sessions takes
//! distinct, signed LiveKit webhooks at a steady rate for minutes. Prints, per minute, what
//! was sent and answered, the latency (p50, p99, max, measured from each request's scheduled
//! time, so a slow server cannot hide behind a slow sender) and the server's resident memory.
//!
//! ```sh
//! benches/soak/run.sh [minutes=10] [rate=5000]   # starts PostgreSQL, builds, runs this
//! ```
//!
//! Run directly: `soak <server binary> <minutes> <rate per second>` with
//! `LTCG_TEST_POSTGRES_URL` naming a PostgreSQL server (each run uses a fresh schema).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use ltcg_streaming_benches::{egress_body, sign_webhook, API_KEY, API_SECRET};
use ltcg_streaming_core::store::{PostgresStore, SessionStore};
use ltcg_streaming_core::SessionId;
use ltcg_streaming_test_support::nginx_rtmp::free_port;
use ltcg_streaming_test_support::postgres::fresh_schema;
use ltcg_streaming_test_support::server::{Server, INTERNAL_KEY};
use serde_json::json;
use tokio::sync::mpsc;

/// Live sessions the webhooks go to.
const SESSIONS: usize = 1_000;
/// Connections the load is spread over.
const CONNECTIONS: usize = 64;

/// One answered (or failed) request: the minute it was scheduled in, its latency, success.
struct Sample {
    minute: usize,
    latency_us: u64,
    ok: bool,
}

/// Latencies from 1 µs to 60 s, to three significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The server's resident memory, MiB.
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A keep-alive HTTP/1.1 connection to the server.
async fn connect(port: u16) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to the server");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 handshake");
    tokio::spawn(connection);
    sender
}

/// POSTs one signed webhook; its status and body (`None` when the connection failed).
async fn deliver(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    body: String,
) -> Option<(u16, Bytes)> {
    let auth = sign_webhook(&body, now_secs());
    let request = hyper::Request::post("/api/webhooks/livekit")
        .header("host", "127.0.0.1")
        .header("content-type", "application/webhook+json")
        .header("authorization", auth)
        .body(Full::new(Bytes::from(body)))
        .expect("a valid request");
    sender.ready().await.ok()?;
    let response = sender.send_request(request).await.ok()?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.ok()?.to_bytes();
    Some((status, body))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, program, minutes, rate] = args.as_slice() else {
        eprintln!("usage: soak <server binary> <minutes> <rate per second>");
        std::process::exit(2);
    };
    let minutes: usize = minutes.parse().expect("minutes: a whole number");
    let rate: f64 = rate.parse().expect("rate: requests per second");
    let url = std::env::var("LTCG_TEST_POSTGRES_URL").expect("LTCG_TEST_POSTGRES_URL");
    let schema = fresh_schema();
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let server = Server::start_with(
        program,
        &dir.path().join("soak.db"),
        port,
        &[
            ("LTCG_DATABASE_URL", &url),
            ("LTCG_DATABASE_SCHEMA", &schema),
            ("LTCG_EGRESS", "memory"),
            ("LIVEKIT_API_KEY", API_KEY),
            ("LIVEKIT_API_SECRET", API_SECRET),
            ("RUST_LOG", "warn"),
        ],
    );
    eprintln!("server on 127.0.0.1:{port}, schema {schema}; starting {SESSIONS} sessions");
    let mut ids = Vec::with_capacity(SESSIONS);
    for n in 0..SESSIONS {
        let (status, body) = server.request(
            "POST",
            "/api/streaming/start",
            Some(INTERNAL_KEY),
            Some(json!({"agentId": format!("soak_{n}"), "platform": "twitch", "streamKey": "live_123456789_abcdefghijklmnop"})),
        );
        assert_eq!(status, 200, "start {n}: {body}");
        ids.push(SessionId::parse(body["sessionId"].as_str().expect("sessionId")).expect("id"));
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let egresses: Arc<Vec<String>> = Arc::new(runtime.block_on(async {
        let store = PostgresStore::connect_with_schema(&url, &schema)
            .await
            .expect("PostgreSQL");
        let mut egresses = Vec::with_capacity(SESSIONS);
        for id in &ids {
            let session = store.get_session(id).await.expect("read").expect("stored");
            egresses.push(session.egress_id.expect("an egress id"));
        }
        store.close().await;
        egresses
    }));
    runtime.block_on(async {
        let mut sender = connect(port).await;
        for (n, egress) in egresses.iter().enumerate() {
            let body = egress_body(
                &format!("EV_live_{n}"),
                "egress_updated",
                egress,
                Some("EGRESS_ACTIVE"),
            );
            let answer = deliver(&mut sender, body).await;
            assert!(matches!(&answer, Some((200, _))), "go live {n}: {answer:?}");
        }
    });
    let live = server.status(ids[SESSIONS - 1].as_str());
    assert_eq!(live["status"], "live", "{live}");
    let pid = server.pid();
    let rss_start = rss_mib(pid);
    eprintln!(
        "{SESSIONS} sessions live; RSS {rss_start:.1} MiB; {rate}/s for {minutes} min over {CONNECTIONS} connections"
    );

    let (samples, mut received) = mpsc::unbounded_channel::<Sample>();
    let start = Instant::now() + Duration::from_millis(200);
    let total = Duration::from_secs(60 * minutes as u64);
    let interval = Duration::from_secs_f64(CONNECTIONS as f64 / rate);
    let report = runtime.block_on(async move {
        for worker in 0..CONNECTIONS {
            let samples = samples.clone();
            let egresses = egresses.clone();
            tokio::spawn(async move {
                let mut sender = connect(port).await;
                let offset = interval.mul_f64(worker as f64 / CONNECTIONS as f64);
                for k in 0u64.. {
                    let due = start + offset + interval.mul_f64(k as f64);
                    if due >= start + total {
                        break;
                    }
                    tokio::time::sleep_until(due.into()).await;
                    let target = (worker as u64 * 7_919 + k * 104_729) as usize % egresses.len();
                    let body = egress_body(
                        &format!("EV_soak_{worker}_{k}"),
                        "egress_updated",
                        &egresses[target],
                        Some("EGRESS_ACTIVE"),
                    );
                    let answer = deliver(&mut sender, body).await;
                    let ok = matches!(answer, Some((200, _)));
                    if answer.is_none() {
                        sender = connect(port).await;
                    }
                    let minute = due.duration_since(start).as_secs() as usize / 60;
                    let latency_us = due.elapsed().as_micros() as u64;
                    if samples
                        .send(Sample {
                            minute,
                            latency_us,
                            ok,
                        })
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop(samples);
        let mut minutes_seen: Vec<(Histogram<u64>, u64, f64)> = Vec::new();
        let mut all = histogram();
        let mut rss_max = 0.0f64;
        let mut next_rss = Instant::now();
        while let Some(sample) = received.recv().await {
            while minutes_seen.len() <= sample.minute {
                minutes_seen.push((histogram(), 0, 0.0));
            }
            let (histogram, errors, rss) = &mut minutes_seen[sample.minute];
            if sample.ok {
                histogram.saturating_record(sample.latency_us);
                all.saturating_record(sample.latency_us);
            } else {
                *errors += 1;
            }
            if Instant::now() >= next_rss {
                next_rss = Instant::now() + Duration::from_secs(5);
                let now = rss_mib(pid);
                *rss = rss.max(now);
                rss_max = rss_max.max(now);
            }
        }
        (minutes_seen, all, rss_max)
    });
    let (per_minute, all, rss_max) = report;
    println!("| minute | answered | errors | p50 ms | p99 ms | max ms | RSS MiB (max) |");
    println!("|---|---|---|---|---|---|---|");
    let ms = |us: u64| us as f64 / 1000.0;
    for (n, (histogram, errors, rss)) in per_minute.iter().enumerate() {
        println!(
            "| {} | {} | {errors} | {:.2} | {:.2} | {:.2} | {rss:.1} |",
            n + 1,
            histogram.len(),
            ms(histogram.value_at_quantile(0.5)),
            ms(histogram.value_at_quantile(0.99)),
            ms(histogram.max()),
        );
    }
    let rss_end = rss_mib(pid);
    println!(
        "\nall: {} answered at {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms; \
         RSS {rss_start:.1} MiB after going live, {rss_max:.1} MiB at most, {rss_end:.1} MiB at the end",
        all.len(),
        all.len() as f64 / total.as_secs_f64(),
        ms(all.value_at_quantile(0.5)),
        ms(all.value_at_quantile(0.99)),
        ms(all.value_at_quantile(0.999)),
        ms(all.max()),
    );
    drop(server);
}
