//! The analytics benchmark: sessions spread over 30 days with viewer samples, in SQLite and
//! (with `LTCG_TEST_POSTGRES_URL`) PostgreSQL, then `SessionStore::analytics` per day,
//! platform and entity over the whole range and over one day.
//!
//! ```sh
//! cargo run --release -p ltcg-streaming-benches --bin analytics -- 100000 1000000
//! #                                                                 sessions samples
//! ```
//!
//! Prints one Markdown table row per store and query: the median and the slowest of 5 runs.

use std::time::{Duration, Instant};

use ltcg_streaming_core::session::{NewSession, SessionStats, ViewerSample};
use ltcg_streaming_core::store::{
    AnalyticsFilter, AnalyticsGroup, PostgresStore, SessionStore, SqliteStore,
};
use ltcg_streaming_core::{
    Entity, OverlayConfig, Platform, SessionStatus, StreamSession, StreamType,
};

const DAY1: i64 = 1_796_083_200_000;
const DAY: i64 = 86_400_000;
const SPAN: i64 = 30 * DAY;
const PLATFORMS: [Platform; 3] = [Platform::Twitch, Platform::Youtube, Platform::Kick];

/// Fills `store` with `sessions` ended sessions and `samples` viewer samples.
async fn seed(store: &dyn SessionStore, sessions: usize, samples: usize) {
    let started = Instant::now();
    let per_session = samples / sessions.max(1);
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..sessions {
        let created = DAY1 + (i as i64) * (SPAN / sessions as i64);
        let entity = Entity::agent(&format!("agent_{}", i % 1_000)).unwrap();
        let mut s = StreamSession::create(
            NewSession {
                entity,
                entity_name: None,
                entity_avatar_url: None,
                platform: PLATFORMS[i % 3],
                stream_title: String::new(),
                overlay_config: OverlayConfig::default_for(StreamType::Agent),
                lobby_id: None,
                destinations: Vec::new(),
                dry_run: i % 50 == 0,
            },
            created,
        )
        .unwrap();
        let inserted = store.insert_session(&s).await.unwrap();
        s = match inserted {
            ltcg_streaming_core::store::Insert::Created(s) => s,
            ltcg_streaming_core::store::Insert::Existing(_) => panic!("one active session"),
        };
        s.status = if i % 20 == 0 {
            SessionStatus::Error
        } else {
            SessionStatus::Ended
        };
        s.started_at = Some(created);
        s.ended_at = Some(created + 1_800_000);
        s.end_reason = Some(
            if i % 20 == 0 {
                "egress_failed"
            } else {
                "manual"
            }
            .into(),
        );
        s.stats = Some(SessionStats {
            duration: 1_800_000,
            decisions_logged: 0,
            events_recorded: 0,
            peak_viewer_count: 0,
        });
        store.update_session(&s).await.unwrap();
        for k in 0..per_session {
            batch.push(ViewerSample {
                session_id: s.id.clone(),
                destination_id: "dst_0000000000000001".into(),
                platform: s.platform,
                at: created + (k as i64) * 60_000,
                viewers: ((i + k) % 200) as u64,
            });
        }
        if batch.len() >= 10_000 {
            store.record_viewer_samples(&batch).await.unwrap();
            batch.clear();
        }
    }
    store.record_viewer_samples(&batch).await.unwrap();
    eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
}

/// Median and slowest of 5 runs of `filter`, ms.
async fn measure(store: &dyn SessionStore, filter: &AnalyticsFilter) -> (f64, f64, usize) {
    let mut times = Vec::new();
    let mut groups = 0;
    for _ in 0..5 {
        let t = Instant::now();
        groups = store.analytics(filter).await.unwrap().len();
        times.push(t.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(times[2]), ms(times[4]), groups)
}

async fn report(name: &str, store: &dyn SessionStore) {
    for (range, from, to) in [
        ("30 days", DAY1, DAY1 + SPAN),
        ("1 day", DAY1 + 10 * DAY, DAY1 + 11 * DAY),
    ] {
        for group in [
            AnalyticsGroup::Day,
            AnalyticsGroup::Month,
            AnalyticsGroup::Platform,
            AnalyticsGroup::Entity,
        ] {
            let filter = AnalyticsFilter {
                from_ms: from,
                to_ms: to,
                group,
                entity: None,
                include_dry_runs: false,
            };
            let (p50, max, groups) = measure(store, &filter).await;
            println!("| {name} | {range} | {group:?} | {groups} | {p50:.1} | {max:.1} |");
        }
    }
}

#[tokio::main]
async fn main() {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let (sessions, samples) = (arg(1, 100_000), arg(2, 1_000_000));
    println!("| store | range | group | groups | p50 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path().join("analytics.db"))
        .await
        .unwrap();
    seed(&sqlite, sessions, samples).await;
    report("SQLite", &sqlite).await;
    sqlite.close().await;
    if let Ok(url) = std::env::var("LTCG_TEST_POSTGRES_URL") {
        let schema = format!("ltcg_bench_{}", std::process::id());
        let pg = PostgresStore::connect_with_schema(&url, &schema)
            .await
            .unwrap();
        seed(&pg, sessions, samples).await;
        vacuum_analyze(&pg).await;
        report("PostgreSQL", &pg).await;
        drop_schema(&pg, &schema).await;
        pg.close().await;
    } else {
        eprintln!("LTCG_TEST_POSTGRES_URL is not set: PostgreSQL skipped");
    }
}

/// Fresh statistics and visibility map, as autovacuum keeps them on a long-lived table (an
/// index-only scan skips the table only for pages marked all-visible).
async fn vacuum_analyze(pg: &PostgresStore) {
    sqlx::query("VACUUM ANALYZE")
        .execute(pg.pool())
        .await
        .unwrap();
}

async fn drop_schema(pg: &PostgresStore, schema: &str) {
    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(pg.pool())
        .await
        .unwrap();
}
