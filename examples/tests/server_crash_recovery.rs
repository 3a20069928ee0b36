//! The reference server recovers from a crash in the middle of a start, as a real process
//! on 127.0.0.1 with LiveKit played by the in-process Twirp fake of the test-support crate
//! (real protocol messages).
//!
//! The server is killed with SIGKILL while a start is in flight (the session row written, the
//! LiveKit `StartWebEgress` call before it took effect, or after the egress exists but before
//! the answer arrived), then restarted on the same SQLite file; the reconciler must leave
//! exactly one consistent outcome: the session is neither lost nor stuck in `initializing`,
//! and no egress runs that is not its session's.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use ltcg_streaming_test_support::livekit_twirp::{FakeLiveKit, ProtoEgressStatus, TwirpMethod};
use ltcg_streaming_test_support::nginx_rtmp::free_port;
use ltcg_streaming_test_support::server::*;
use serde_json::{json, Value};

/// The reference server binary.
const SERVER: &str = env!("CARGO_BIN_EXE_ltcg-streaming-server");

/// A fake LiveKit on its own runtime (which keeps serving while the test blocks).
fn fake_livekit() -> (tokio::runtime::Runtime, FakeLiveKit) {
    FakeLiveKit::start_in_background(LIVEKIT_KEY, LIVEKIT_SECRET)
}

/// A server using `fake` for egress, with a 10 s start timeout (the least allowed) and a 5 s
/// reconciler.
fn server_on(db: &std::path::Path, port: u16, fake: &FakeLiveKit) -> Server {
    Server::start_with(
        SERVER,
        db,
        port,
        &[
            ("LTCG_EGRESS", "livekit"),
            ("LIVEKIT_URL", &fake.url()),
            ("LIVEKIT_API_KEY", LIVEKIT_KEY),
            ("LIVEKIT_API_SECRET", LIVEKIT_SECRET),
            ("NEXT_PUBLIC_APP_URL", "http://127.0.0.1:3999"),
            ("STREAMING_START_TIMEOUT_SECS", "10"),
            ("LTCG_RECONCILE_SECS", "5"),
        ],
    )
}

/// Starts a stream in a background thread (its answer never comes: the server is killed).
fn start_in_background(port: u16, agent: &str) {
    let body = json!({"agentId": agent, "platform": "twitch", "streamKey": STREAM_KEY}).to_string();
    std::thread::spawn(move || {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = write!(
                stream,
                "POST /api/streaming/start HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
                 Authorization: Bearer {INTERNAL_KEY}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let mut sink = String::new();
            let _ = stream.read_to_string(&mut sink);
        }
    });
}

const STREAM_KEY: &str = "live_987654321_crashrecoverykey";

/// The overlay page URLs of the egresses the fake runs (starting or active).
fn running_egresses(fake: &FakeLiveKit) -> Vec<String> {
    use livekit_protocol::egress_info::Request;
    fake.egresses()
        .into_iter()
        .filter(|e| {
            e.status == ProtoEgressStatus::EgressStarting as i32
                || e.status == ProtoEgressStatus::EgressActive as i32
        })
        .map(|e| match e.request {
            Some(Request::Web(web)) => web.url,
            other => format!("not a web egress: {other:?}"),
        })
        .collect()
}

fn is_active(status: &Value) -> bool {
    matches!(
        status["status"].as_str(),
        Some("initializing" | "pending" | "live")
    )
}

/// Kills the server mid-start as `arrange` sets the fake up, restarts it and checks the
/// reconciler's outcome; returns the final session.
fn crash_mid_start(agent: &str, arrange: impl Fn(&FakeLiveKit)) -> (Value, Vec<String>) {
    // Returns the final status and the overlay URLs of the egresses still running.
    let (_rt, fake) = fake_livekit();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let port = free_port();
    arrange(&fake);
    let mut server = server_on(&db, port, &fake);
    server.watch_secret(STREAM_KEY);
    start_in_background(port, agent);
    wait_until("the egress call is in flight", 20, || {
        fake.call_count(TwirpMethod::StartWebEgress) == 1
    });
    server.kill();
    drop(server);
    // LiveKit finishes what it was asked to do, whoever is left to hear the answer.
    std::thread::sleep(Duration::from_millis(1_500));
    fake.clear_delays();

    let again = server_on(&db, port, &fake);
    again.watch_secret(STREAM_KEY);
    let sessions = again.sessions_of(agent);
    assert_eq!(
        sessions.len(),
        1,
        "the session written before the crash is lost: {sessions:?}"
    );
    let sid = sessions[0]["sessionId"].as_str().unwrap().to_owned();
    // The reconciler (every 5 s) settles it: never left initializing, no stray egress.
    wait_until("the reconciler settles the session", 45, || {
        let status = again.status(&sid);
        let running = running_egresses(&fake);
        let settled = status["status"] != "initializing";
        // Every running egress renders this session; an active session has exactly one.
        let ours = running
            .iter()
            .all(|url| url.contains(&format!("sessionId={sid}")));
        let count_ok = if is_active(&status) {
            running.len() == 1
        } else {
            running.is_empty()
        };
        settled && ours && count_ok
    });
    let status = again.status(&sid);
    let running = running_egresses(&fake);
    assert!(running.iter().all(|url| url.contains(&sid)), "{running:?}");
    (status, running)
}

#[test]
fn a_crash_before_the_egress_exists_ends_the_session_and_starts_nothing() {
    let (status, running) = crash_mid_start("agent_crash_before", |fake| {
        // The call reaches LiveKit, which then refuses it: no egress is ever created.
        fake.set_delay(TwirpMethod::StartWebEgress, Duration::from_millis(800));
        fake.fail_next(TwirpMethod::StartWebEgress, "unavailable", "node draining");
    });
    assert_eq!(status["status"], "error", "{status}");
    assert!(running.is_empty(), "egresses left running: {running:?}");
}

#[test]
fn a_crash_after_the_egress_started_adopts_it_exactly_once() {
    let (status, running) = crash_mid_start("agent_crash_after", |fake| {
        // LiveKit creates the egress, but its answer is held until the server is dead.
        fake.set_delay_after(TwirpMethod::StartWebEgress, Duration::from_secs(30));
    });
    // The reconciler adopted the egress LiveKit started for the session (found by the
    // session id in its overlay URL): one session, one egress, linked.
    assert!(is_active(&status), "{status}");
    assert_ne!(status["status"], "initializing", "{status}");
    assert_eq!(running.len(), 1, "{running:?}");
}

#[test]
fn a_crash_while_livekit_is_still_deciding_leaves_one_outcome() {
    // The request is slower than the crash: LiveKit creates the egress after the server died.
    let (status, running) = crash_mid_start("agent_crash_during", |fake| {
        fake.set_delay(TwirpMethod::StartWebEgress, Duration::from_millis(800));
    });
    match status["status"].as_str() {
        // Adopted: its egress is the one running.
        Some("pending" | "live") => assert_eq!(running.len(), 1, "{running:?}"),
        // Or timed out first, and then the late egress was stopped as an orphan.
        Some("error" | "ended") => assert!(running.is_empty(), "{running:?}"),
        other => panic!("unexpected outcome {other:?}: {status}"),
    }
}
