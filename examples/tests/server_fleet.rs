//! Three reference servers on one PostgreSQL behave as one service: concurrent starts spread
//! over the replicas give one session per entity, webhooks delivered to any replica (each
//! twice) are applied once, reconcilers running on every replica handle each stale session
//! and each orphan egress once, and when the replica running browser renders is killed the
//! others end its sessions within the lease time and nothing of it keeps pushing.
//!
//! LiveKit is played by the in-process Twirp fake of the test-support crate (real protocol
//! messages); the browser part uses Chromium, Xvfb, PulseAudio, ffmpeg and nginx-rtmp.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ltcg_streaming_core::egress::BrowserEgressOptions;
use ltcg_streaming_core::SessionId;
use ltcg_streaming_test_support::harness::sign_webhook_with;
use ltcg_streaming_test_support::livekit_twirp::{FakeLiveKit, ProtoEgressStatus};
use ltcg_streaming_test_support::media::probe_once;
use ltcg_streaming_test_support::nginx_rtmp::*;
use ltcg_streaming_test_support::postgres::{fresh_schema, test_url};
use ltcg_streaming_test_support::server::*;
use serde_json::{json, Value};

/// The reference server binary.
const SERVER: &str = env!("CARGO_BIN_EXE_ltcg-streaming-server");

/// A stream key every test server watches for leaks.
const STREAM_KEY: &str = "live_123456789_abcdefghijklmnop";

/// The app URL the LiveKit replicas share (behind one load balancer in production).
const APP_URL: &str = "http://127.0.0.1:3999";

/// A small deterministic generator for spreading requests over replicas.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Runs `job` on every item from `threads` threads at once; the answers in item order.
fn concurrently<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    job: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let answers: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let answer = job(item);
                answers.lock().unwrap().push((i, answer));
            });
        }
    });
    let mut answers = answers.into_inner().unwrap();
    answers.sort_by_key(|(i, _)| *i);
    answers.into_iter().map(|(_, r)| r).collect()
}

/// Three servers on one fresh PostgreSQL schema with the shared `extra` settings.
fn fleet(url: &str, dir: &std::path::Path, extra: &[(&str, &str)]) -> Vec<Server> {
    let schema = fresh_schema();
    (0..3)
        .map(|n| {
            let port = free_port();
            let id = format!("replica-{n}");
            let mut env = vec![
                ("LTCG_DATABASE_URL", url),
                ("LTCG_DATABASE_SCHEMA", schema.as_str()),
                ("LTCG_REPLICA_ID", id.as_str()),
            ];
            env.extend_from_slice(extra);
            let server = Server::start_with(SERVER, &dir.join(format!("replica-{n}")), port, &env);
            assert!(
                server.output().contains("store:   PostgreSQL") && server.output().contains(&id),
                "the banner names the store and the replica: {}",
                server.output()
            );
            server
        })
        .collect()
}

fn start_body(agent: &str) -> Value {
    json!({"agentId": agent, "platform": "twitch", "streamKey": STREAM_KEY})
}

fn timeline_kinds(server: &Server, sid: &str) -> Vec<String> {
    let (status, body) = server.request(
        "GET",
        &format!("/api/streaming/timeline?sessionId={sid}"),
        Some(INTERNAL_KEY),
        None,
    );
    assert_eq!(status, 200, "{body}");
    body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A signed LiveKit egress webhook: (body, Authorization).
fn egress_webhook(id: &str, event: &str, egress: &str, status: &str) -> (String, String) {
    let body = json!({
        "event": event,
        "id": id,
        "createdAt": now_secs().to_string(),
        "egressInfo": {"egressId": egress, "status": status},
    })
    .to_string();
    let auth = sign_webhook_with(&body, now_secs(), LIVEKIT_KEY, LIVEKIT_SECRET);
    (body, auth)
}

#[test]
fn three_replicas_on_one_postgres_act_as_one_service() {
    let Some(url) = test_url("three_replicas_on_one_postgres_act_as_one_service") else {
        return;
    };
    let (_runtime, fake) = FakeLiveKit::start_in_background(LIVEKIT_KEY, LIVEKIT_SECRET);
    let dir = tempfile::tempdir().unwrap();
    let livekit_url = fake.url();
    let servers = fleet(
        &url,
        dir.path(),
        &[
            ("LTCG_EGRESS", "livekit"),
            ("LIVEKIT_URL", &livekit_url),
            ("LIVEKIT_API_KEY", LIVEKIT_KEY),
            ("LIVEKIT_API_SECRET", LIVEKIT_SECRET),
            ("NEXT_PUBLIC_APP_URL", APP_URL),
            ("STREAMING_START_TIMEOUT_SECS", "20"),
            ("LTCG_RECONCILE_SECS", "5"),
        ],
    );
    let mut rng = XorShift(0x5eed_1234_abcd_9876);

    // 300 starts for 100 agents, three each, spread over the replicas in random order.
    let agents: Vec<String> = (0..100).map(|n| format!("agent_fleet_{n:03}")).collect();
    let mut starts: Vec<(usize, &str)> = agents
        .iter()
        .flat_map(|a| [a, a, a])
        .map(|a| (rng.below(3), a.as_str()))
        .collect();
    rng.shuffle(&mut starts);
    let answers = concurrently(&starts, 24, |(replica, agent)| {
        servers[*replica].request(
            "POST",
            "/api/streaming/start",
            Some(INTERNAL_KEY),
            Some(start_body(agent)),
        )
    });
    let mut session_of: HashMap<&str, HashSet<String>> = HashMap::new();
    let mut fresh = 0;
    for ((_, agent), (status, body)) in starts.iter().zip(&answers) {
        assert_eq!(status, &200, "{body}");
        fresh += usize::from(body["reused"] == false);
        session_of
            .entry(agent)
            .or_default()
            .insert(body["sessionId"].as_str().unwrap().to_owned());
    }
    assert!(
        session_of.values().all(|ids| ids.len() == 1),
        "every start for an agent got its one session"
    );
    assert_eq!(fresh, 100, "one start per agent created the session");
    assert_eq!(fake.start_requests().len(), 100, "one egress per session");
    for agent in agents.iter().step_by(9) {
        assert_eq!(servers[2].sessions_of(agent).len(), 1, "{agent}");
    }
    let sessions: Vec<String> = agents
        .iter()
        .map(|a| session_of[a.as_str()].iter().next().unwrap().clone())
        .collect();
    let egresses: Vec<String> = sessions.iter().map(|s| servers[0].egress_of(s)).collect();
    for egress in &egresses {
        fake.set_status(egress, ProtoEgressStatus::EgressActive);
    }

    // 1,000 distinct webhooks (ten per egress), each delivered twice, to random replicas.
    let mut deliveries: Vec<(usize, String, String, String)> = Vec::new();
    for egress in &egresses {
        for n in 0..10 {
            let id = format!("EV_{egress}_{n}");
            let (event, status) = match n {
                0 => ("egress_started", "EGRESS_STARTING"),
                _ => ("egress_updated", "EGRESS_ACTIVE"),
            };
            let (body, auth) = egress_webhook(&id, event, egress, status);
            for _ in 0..2 {
                deliveries.push((rng.below(3), id.clone(), body.clone(), auth.clone()));
            }
        }
    }
    rng.shuffle(&mut deliveries);
    let outcomes = concurrently(&deliveries, 24, |(replica, _, body, auth)| {
        servers[*replica].webhook(body, auth)
    });
    let mut first_deliveries: HashMap<&str, usize> = HashMap::new();
    for ((_, id, _, _), (status, outcome)) in deliveries.iter().zip(&outcomes) {
        assert_eq!(status, &200, "{outcome}");
        assert_eq!(outcome["received"], true, "{outcome}");
        let first = first_deliveries.entry(id).or_default();
        *first += usize::from(outcome["duplicate"] == false);
    }
    assert_eq!(first_deliveries.len(), 1000);
    assert!(
        first_deliveries.values().all(|&n| n == 1),
        "every event was applied by exactly one delivery"
    );
    for sid in &sessions {
        servers[1].wait_status(sid, "live");
    }

    // Stale work for the reconcilers: ten starts LiveKit never brings live (stuck past the
    // start timeout) and ten egresses of our overlay whose sessions do not exist.
    let mut stuck = Vec::new();
    for n in 0..10 {
        let (status, body) = servers[n % 3].request(
            "POST",
            "/api/streaming/start",
            Some(INTERNAL_KEY),
            Some(start_body(&format!("agent_stuck_{n}"))),
        );
        assert_eq!(status, 200, "{body}");
        let sid = body["sessionId"].as_str().unwrap().to_owned();
        stuck.push((servers[0].egress_of(&sid), sid));
    }
    let orphans: Vec<String> = (0..10)
        .map(|_| {
            let overlay = format!(
                "{APP_URL}/stream/overlay?sessionId={}&token=orphan",
                SessionId::generate()
            );
            fake.add_egress(
                &overlay,
                &["rtmp://127.0.0.1:1/app/orphan"],
                ProtoEgressStatus::EgressActive,
            )
        })
        .collect();

    // Every replica's reconciler runs every 5 s for a minute.
    std::thread::sleep(Duration::from_secs(60));
    let mut stops: HashMap<String, usize> = HashMap::new();
    for request in fake.stop_requests() {
        *stops.entry(request.egress_id).or_default() += 1;
    }
    for egress in stuck.iter().map(|(e, _)| e).chain(&orphans) {
        assert_eq!(
            stops.get(egress),
            Some(&1),
            "{egress} stopped once: {stops:?}"
        );
    }
    assert_eq!(stops.len(), 20, "nothing else was stopped: {stops:?}");
    for (_, sid) in &stuck {
        let status = servers[2].status(sid);
        assert_eq!(status["status"], "error", "{status}");
        let kinds = timeline_kinds(&servers[1], sid);
        let reconciled = kinds.iter().filter(|k| *k == "reconciled").count();
        assert_eq!(reconciled, 1, "handled once: {kinds:?}");
    }
    for sid in &sessions {
        assert_eq!(servers[0].status(sid)["status"], "live");
    }
    for server in &servers {
        assert!(
            server.output().contains("reconciler pass"),
            "every replica ran its reconciler"
        );
    }
}

#[test]
fn a_dead_replicas_browser_streams_are_ended_by_the_others_within_the_lease() {
    let Some(url) = test_url("a_dead_replicas_browser_streams_are_ended_by_the_others") else {
        return;
    };
    let needs = BrowserEgressOptions::default().missing_programs();
    if !needs.is_empty() && missing(&needs.join(", ")) {
        return;
    }
    let Some(nginx) = NginxRtmp::start() else {
        return;
    };
    const LEASE_SECS: u64 = 6;
    const RECONCILE_SECS: u64 = 5;
    let dir = tempfile::tempdir().unwrap();
    // One app URL for all (the first replica's address), as behind a load balancer.
    let app_port = free_port();
    let app_url = format!("http://127.0.0.1:{app_port}");
    let lease = LEASE_SECS.to_string();
    let reconcile = RECONCILE_SECS.to_string();
    let schema = fresh_schema();
    let shared = [
        ("LTCG_DATABASE_URL", url.as_str()),
        ("LTCG_DATABASE_SCHEMA", schema.as_str()),
        ("LTCG_EGRESS", "browser"),
        ("LTCG_LEASE_SECS", lease.as_str()),
        ("LTCG_RECONCILE_SECS", reconcile.as_str()),
        ("NEXT_PUBLIC_APP_URL", app_url.as_str()),
    ];
    let start = |n: usize, port: u16| {
        let id = format!("render-replica-{n}");
        let mut env = shared.to_vec();
        env.push(("LTCG_REPLICA_ID", id.as_str()));
        Server::start_with(SERVER, &dir.path().join(format!("render-{n}")), port, &env)
    };
    let first = start(0, app_port);
    let mut doomed = start(1, free_port());
    let third = start(2, free_port());

    let mut streams = Vec::new();
    for n in 0..2 {
        let key = format!("fleetkey{n}{app_port}");
        doomed.watch_secret(&key);
        let (status, started) = doomed.request(
            "POST",
            "/api/streaming/start",
            Some(INTERNAL_KEY),
            Some(json!({"agentId": format!("agent_render_{n}"), "platform": "custom", "streamKey": key, "customRtmpUrl": nginx.base_url(), "streamTitle": format!("Fleet render {n}")})),
        );
        assert_eq!(status, 200, "{started}");
        let sid = started["sessionId"].as_str().unwrap().to_owned();
        streams.push((sid, format!("{}/{key}", nginx.base_url())));
    }
    for (sid, url) in &streams {
        doomed.wait_status(sid, "live");
        assert!(
            probe_once(url, Duration::from_secs(10)).is_some(),
            "the stream arrives"
        );
    }

    // While their replica lives, the others leave its renders alone for several leases.
    std::thread::sleep(Duration::from_secs(LEASE_SECS * 5 / 2));
    for (sid, _) in &streams {
        assert_eq!(first.status(sid)["status"], "live");
        assert_eq!(third.status(sid)["status"], "live");
    }
    let egresses: Vec<String> = streams
        .iter()
        .map(|(sid, _)| first.egress_of(sid))
        .collect();

    doomed.kill();
    let killed_at = Instant::now();
    for (sid, _) in &streams {
        wait_until("the others end the dead replica's sessions", 40, || {
            third.status(sid)["status"] == "ended"
        });
        let ended = first.status(sid);
        assert_eq!(ended["endReason"], "egress_lost", "{ended}");
    }
    let took = killed_at.elapsed();
    eprintln!("the dead replica's sessions ended {took:?} after the kill");
    // The render leases lapse at most a lease after the last renewal; a survivor's next
    // pass (at most a period later) ends the sessions, unless the dead replica died holding
    // the reconciler lease, which lapses within a lease too.
    assert!(
        took <= Duration::from_secs(2 * LEASE_SECS + RECONCILE_SECS),
        "ended within the lease time: {took:?}"
    );
    for egress in &egresses {
        wait_until("the dead replica's renders to be reaped", 15, || {
            processes_with(egress).is_empty()
        });
    }
    for (_, url) in &streams {
        assert!(
            probe_once(url, Duration::from_secs(3)).is_none(),
            "nothing of the dead replica pushes any more"
        );
    }
}
