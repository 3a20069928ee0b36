//! Whole-service benchmarks: one full session cycle (start → egress_started → ACTIVE → stop
//! → egress_ended) per store, and webhook ingest with 1,000 live sessions; then what a fleet
//! puts on one PostgreSQL: cycles from 32 concurrent callers spread over three service
//! replicas (each with its own connection pool), and webhook ingest with 32 concurrent
//! deliveries.
//!
//! PostgreSQL runs when `LTCG_TEST_POSTGRES_URL` is set (e.g. from `scripts/postgres.sh`).
#![allow(missing_docs)] // criterion_group! generates an undocumented public fn

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ltcg_streaming_benches::{egress_body, sign_webhook, API_KEY, API_SECRET, KEY_HEX};
use ltcg_streaming_core::config::LiveKitConfig;
use ltcg_streaming_core::service::{RateLimitConfig, StartStreamRequest, StopStreamRequest};
use ltcg_streaming_core::store::{PostgresStore, SessionStore, SqliteStore};
use ltcg_streaming_core::{
    Actor, KeyVault, MemoryEgress, MemoryStore, Platform, SecretString, ServiceOptions, SessionId,
    StreamingConfig, StreamingService,
};
use tokio::runtime::Runtime;

const APP_URL: &str = "https://bench.example";

fn service(store: Arc<dyn SessionStore>) -> StreamingService {
    let mut config =
        StreamingConfig::new(KEY_HEX, "bench-overlay-secret-0123456789abcdef").expect("config");
    config.app_url = APP_URL.into();
    config.livekit = Some(
        LiveKitConfig::new("wss://bench.livekit.cloud", API_KEY, API_SECRET).expect("livekit"),
    );
    let vault: Arc<dyn KeyVault> = Arc::new(config.vault().expect("vault"));
    let options = ServiceOptions {
        rate_limits: RateLimitConfig::disabled(),
        ..ServiceOptions::default()
    };
    StreamingService::with_options(config, store, Arc::new(MemoryEgress::new()), vault, options)
        .expect("service")
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn start_request(agent: &str) -> StartStreamRequest {
    StartStreamRequest {
        agent_id: Some(agent.to_owned()),
        platform: Some(Platform::Twitch),
        stream_key: Some(SecretString::from("live_123456789_abcdefghijklmnop")),
        ..StartStreamRequest::default()
    }
}

/// One signed webhook: (body, authorization).
fn signed(event_id: &str, event: &str, egress: &str, status: Option<&str>) -> (String, String) {
    let body = egress_body(event_id, event, egress, status);
    let auth = sign_webhook(&body, now_secs());
    (body, auth)
}

/// The egress id the backend gave a session.
async fn egress_of(store: &dyn SessionStore, id: &SessionId) -> String {
    store
        .get_session(id)
        .await
        .expect("get")
        .expect("session")
        .egress_id
        .expect("egress")
}

/// One cycle; the time it took, without reading the egress id and signing the webhooks
/// (LiveKit's part).
async fn cycle(service: &StreamingService, store: &dyn SessionStore, n: u64) -> Duration {
    let agent = format!("bench_{n}");
    let t = Instant::now();
    let started = service
        .start_stream(&Actor::Internal, start_request(&agent))
        .await
        .expect("start");
    let timed = t.elapsed();
    let egress = egress_of(store, &started.session_id).await;
    let hooks = [
        signed(&format!("EV_s{n}"), "egress_started", &egress, None),
        signed(
            &format!("EV_a{n}"),
            "egress_updated",
            &egress,
            Some("EGRESS_ACTIVE"),
        ),
        signed(
            &format!("EV_e{n}"),
            "egress_ended",
            &egress,
            Some("EGRESS_COMPLETE"),
        ),
    ];
    let t = Instant::now();
    for (body, auth) in &hooks[..2] {
        service
            .handle_webhook(body.as_bytes(), auth)
            .await
            .expect("webhook");
    }
    service
        .stop_stream(
            &Actor::Internal,
            StopStreamRequest {
                session_id: Some(started.session_id),
                ..Default::default()
            },
        )
        .await
        .expect("stop");
    service
        .handle_webhook(hooks[2].0.as_bytes(), &hooks[2].1)
        .await
        .expect("webhook");
    timed + t.elapsed()
}

fn session_cycle(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let mut stores: Vec<(&str, Arc<dyn SessionStore>)> =
        vec![("memory", Arc::new(MemoryStore::new()))];
    let dir = tempfile::tempdir().expect("temp dir");
    stores.push((
        "sqlite",
        Arc::new(
            rt.block_on(SqliteStore::open(dir.path().join("bench.db")))
                .expect("sqlite"),
        ),
    ));
    if let Ok(url) = std::env::var("LTCG_TEST_POSTGRES_URL") {
        let schema = format!("bench_{}", std::process::id());
        stores.push((
            "postgres",
            Arc::new(
                rt.block_on(PostgresStore::connect_with_schema(&url, &schema))
                    .expect("postgres"),
            ),
        ));
    }
    let mut group = c.benchmark_group("session_cycle");
    group.throughput(Throughput::Elements(1));
    for (name, store) in stores {
        let service = service(store.clone());
        let mut next = 0u64;
        group.bench_function(name, |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let first = next;
                next += iters;
                let (service, store) = (service.clone(), store.clone());
                async move {
                    let mut timed = Duration::ZERO;
                    for n in first..first + iters {
                        timed += cycle(&service, store.as_ref(), n).await;
                    }
                    timed
                }
            })
        });
    }
    group.finish();
}

/// 1,000 live sessions of agents `<prefix>_<n>`; their egress ids.
async fn live_sessions(
    service: &StreamingService,
    store: &dyn SessionStore,
    prefix: &str,
) -> Vec<String> {
    let mut egresses = Vec::new();
    for n in 0..1_000u64 {
        let started = service
            .start_stream(&Actor::Internal, start_request(&format!("{prefix}_{n}")))
            .await
            .expect("start");
        let egress = egress_of(store, &started.session_id).await;
        let (body, auth) = signed(
            &format!("EV_{prefix}{n}"),
            "egress_updated",
            &egress,
            Some("EGRESS_ACTIVE"),
        );
        service
            .handle_webhook(body.as_bytes(), &auth)
            .await
            .expect("live");
        egresses.push(egress);
    }
    egresses
}

fn webhook_ingest(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let stores: Vec<(&str, Arc<dyn SessionStore>)> = vec![
        ("memory", Arc::new(MemoryStore::new())),
        (
            "sqlite",
            Arc::new(
                rt.block_on(SqliteStore::open(dir.path().join("ingest.db")))
                    .expect("sqlite"),
            ),
        ),
    ];
    let mut group = c.benchmark_group("webhook_ingest_1000_live");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(8));
    for (name, store) in stores {
        let service = service(store.clone());
        let egresses = rt.block_on(live_sessions(&service, store.as_ref(), "live"));
        let mut next = 0u64;
        group.bench_function(name, |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let first = next;
                next += iters;
                // Fresh event ids (each is claimed, matched and applied) spread over the sessions.
                let hooks: Vec<(String, String)> = (first..first + iters)
                    .map(|n| {
                        signed(
                            &format!("EV_i{n}"),
                            "egress_updated",
                            &egresses[(n % 1_000) as usize],
                            Some("EGRESS_ACTIVE"),
                        )
                    })
                    .collect();
                let service = service.clone();
                async move {
                    let t = Instant::now();
                    for (body, auth) in &hooks {
                        service
                            .handle_webhook(body.as_bytes(), auth)
                            .await
                            .expect("ingest");
                    }
                    t.elapsed()
                }
            })
        });
    }
    group.finish();
}

/// Concurrent callers in the fleet benchmarks.
const CALLERS: u64 = 32;
/// Service replicas in the fleet benchmarks, each with its own PostgreSQL pool.
const REPLICAS: usize = 3;

/// `REPLICAS` services on one fresh PostgreSQL schema, or `None` without a test server.
fn postgres_fleet(
    rt: &Runtime,
    name: &str,
) -> Option<Vec<(StreamingService, Arc<dyn SessionStore>)>> {
    let url = std::env::var("LTCG_TEST_POSTGRES_URL").ok()?;
    let schema = format!("bench_{name}_{}", std::process::id());
    Some(
        (0..REPLICAS)
            .map(|_| {
                let store: Arc<dyn SessionStore> = Arc::new(
                    rt.block_on(PostgresStore::connect_with_schema(&url, &schema))
                        .expect("postgres"),
                );
                (service(store.clone()), store)
            })
            .collect(),
    )
}

/// Runs `job(n)` for `iters` numbers from `next` on `CALLERS` concurrent tasks; the wall time.
async fn concurrently<F, Fut>(next: Arc<AtomicU64>, iters: u64, job: F) -> Duration
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let end = next.load(Ordering::SeqCst) + iters;
    let t = Instant::now();
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (next, job) = (next.clone(), job.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= end {
                        break;
                    }
                    job(n).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("caller");
    }
    next.store(end, Ordering::SeqCst);
    t.elapsed()
}

fn postgres_concurrent_cycles(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let Some(fleet) = postgres_fleet(&rt, "cycles") else {
        return;
    };
    let fleet = Arc::new(fleet);
    let mut group = c.benchmark_group("postgres_fleet");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(8));
    let next = Arc::new(AtomicU64::new(0));
    group.bench_function("session_cycles_32_callers", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (fleet, next) = (fleet.clone(), next.clone());
            concurrently(next, iters, move |n| {
                let fleet = fleet.clone();
                async move {
                    let (service, store) = &fleet[n as usize % REPLICAS];
                    cycle(service, store.as_ref(), n).await;
                }
            })
        })
    });
    group.finish();
}

fn postgres_concurrent_webhooks(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let Some(fleet) = postgres_fleet(&rt, "ingest") else {
        return;
    };
    let (service, store) = &fleet[0];
    let egresses = rt.block_on(live_sessions(service, store.as_ref(), "pglive"));
    let fleet = Arc::new(fleet);
    let egresses = Arc::new(egresses);
    let mut group = c.benchmark_group("postgres_fleet");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(8));
    let next = Arc::new(AtomicU64::new(0));
    group.bench_function("webhook_ingest_1000_live_32_deliveries", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (fleet, egresses, next) = (fleet.clone(), egresses.clone(), next.clone());
            // Signed ahead, outside the timed part (LiveKit's work).
            let from = next.load(Ordering::SeqCst);
            let hooks: Arc<Vec<(String, String)>> = Arc::new(
                (from..from + iters)
                    .map(|n| {
                        signed(
                            &format!("EV_pg{n}"),
                            "egress_updated",
                            &egresses[(n % 1_000) as usize],
                            Some("EGRESS_ACTIVE"),
                        )
                    })
                    .collect(),
            );
            concurrently(next, iters, move |n| {
                let (fleet, hooks) = (fleet.clone(), hooks.clone());
                async move {
                    let (service, _) = &fleet[n as usize % REPLICAS];
                    let (body, auth) = &hooks[(n - from) as usize];
                    service
                        .handle_webhook(body.as_bytes(), auth)
                        .await
                        .expect("ingest");
                }
            })
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    session_cycle,
    webhook_ingest,
    postgres_concurrent_cycles,
    postgres_concurrent_webhooks
);
criterion_main!(benches);
