//! The reference server keeps serving while clients abuse it, as a real process on 127.0.0.1:
//! - a request whose body trickles in is answered 408 at the configured request timeout, and
//!   a connection that never finishes its headers is closed at the header timeout, while
//!   other requests are served;
//! - 10,000 requests from one agent in a burst are mostly answered 429 with `Retry-After`;
//!   other callers are served during and after it, and the server's resident memory stays
//!   bounded.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use ltcg_streaming_test_support::nginx_rtmp::free_port;
use ltcg_streaming_test_support::server::*;
use serde_json::json;

/// The reference server binary.
const SERVER: &str = env!("CARGO_BIN_EXE_ltcg-streaming-server");

/// Sends headers and the first bytes of a body, then trickles the rest; the raw answer.
fn slow_body(port: u16, timeout_secs: u64) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(timeout_secs + 20)))
        .unwrap();
    let body =
        json!({"agentId": "agent_slow", "platform": "twitch", "streamKey": "live_slowloris_key"})
            .to_string();
    write!(
        stream,
        "POST /api/streaming/start HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Authorization: Bearer {INTERNAL_KEY}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..5]
    )
    .unwrap();
    // One byte a second, never finishing within the timeout.
    let trickle = std::thread::spawn({
        let mut stream = stream.try_clone().unwrap();
        let rest = body[5..].to_owned();
        move || {
            for byte in rest.bytes() {
                std::thread::sleep(Duration::from_secs(1));
                if stream.write_all(&[byte]).is_err() {
                    break;
                }
            }
        }
    });
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    drop(trickle);
    answer
}

#[test]
fn slow_bodies_time_out_with_408_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start_with(
        SERVER,
        &dir.path().join("slow.db"),
        port,
        &[
            ("LTCG_EGRESS", "memory"),
            ("LTCG_REQUEST_TIMEOUT_SECS", "2"),
        ],
    );
    let slow: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(move || slow_body(port, 2)))
        .collect();
    // While four slow uploads hold connections, other requests are answered.
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..20 {
        assert_eq!(server.request("GET", "/healthz", None, None).0, 200);
    }
    for handle in slow {
        let answer = handle.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    // Nothing was started by the abandoned uploads.
    assert!(server.sessions_of("agent_slow").is_empty());
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// `count` keep-alive requests on one connection; the status of each.
fn pipeline(port: u16, count: usize, request: &str) -> Vec<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut statuses = Vec::with_capacity(count);
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    for _ in 0..count {
        stream.write_all(request.as_bytes()).unwrap();
        let mut head = String::new();
        let mut content_length = 0usize;
        loop {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                content_length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body).unwrap();
        if head.starts_with("HTTP/1.1 429") {
            assert!(head.to_ascii_lowercase().contains("retry-after:"), "{head}");
        }
        statuses.push(
            head.split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
        );
    }
    statuses
}

#[test]
fn a_burst_of_ten_thousand_requests_is_limited_and_the_server_stays_responsive() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let agent_key = "burst-agent-key-0123456789";
    let server = Server::start_with(
        SERVER,
        &dir.path().join("burst.db"),
        port,
        &[
            ("LTCG_EGRESS", "memory"),
            ("LTCG_AGENT_KEYS", &format!("{agent_key}=agent_burst")),
        ],
    );
    server.watch_secret(agent_key);
    let before = rss_kib(server.pid());
    let status = format!(
        "GET /api/streaming/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {agent_key}\r\n\r\n"
    );
    let bursts: Vec<_> = (0..4)
        .map(|_| {
            let status = status.clone();
            std::thread::spawn(move || pipeline(port, 2_500, &status))
        })
        .collect();
    // Another caller is served while the burst runs.
    let mut others = 0;
    while !bursts.iter().all(|b| b.is_finished()) {
        assert_eq!(
            server
                .request("GET", "/api/streaming/sessions", Some(INTERNAL_KEY), None)
                .0,
            200
        );
        others += 1;
    }
    let statuses: Vec<u16> = bursts.into_iter().flat_map(|b| b.join().unwrap()).collect();
    assert_eq!(statuses.len(), 10_000);
    let limited = statuses.iter().filter(|&&s| s == 429).count();
    let served = statuses.iter().filter(|&&s| s == 200).count();
    assert_eq!(limited + served, 10_000, "only 200 and 429 expected");
    assert!(limited >= 9_000, "only {limited} of 10,000 were limited");
    assert!(served >= 1, "the agent was never served");
    assert!(others >= 1);
    // Still responsive afterwards, for everyone else.
    assert_eq!(server.request("GET", "/healthz", None, None).0, 200);
    assert_eq!(
        server
            .request("GET", "/api/streaming/sessions", Some(INTERNAL_KEY), None)
            .0,
        200
    );
    // Memory stays bounded: the burst leaves no per-request state behind.
    let after = rss_kib(server.pid());
    assert!(
        after < before + 64 * 1024,
        "resident memory grew from {before} KiB to {after} KiB"
    );
}

/// Opens a connection that sends its request headers one byte every 200 ms, forever;
/// returns what the server answered once it hung up.
fn slow_headers(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        let head = "POST /api/streaming/start HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
        if writer.write_all(head.as_bytes()).is_err() {
            return;
        }
        loop {
            std::thread::sleep(Duration::from_millis(200));
            if writer.write_all(b"a").is_err() {
                break;
            }
        }
    });
    let mut answer = String::new();
    match stream.read_to_string(&mut answer) {
        Ok(_) => answer,
        // A reset after the server closed is also a hang-up.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => answer,
        Err(e) => panic!("the server kept a never-ending header open: {e}"),
    }
}

#[test]
fn connections_that_never_finish_their_headers_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start_with(
        SERVER,
        &dir.path().join("headers.db"),
        port,
        &[("LTCG_EGRESS", "memory"), ("LTCG_HEADER_TIMEOUT_SECS", "1")],
    );
    let slow: Vec<_> = (0..8)
        .map(|_| std::thread::spawn(move || slow_headers(port)))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..20 {
        assert_eq!(server.request("GET", "/healthz", None, None).0, 200);
    }
    for handle in slow {
        let answer = handle.join().unwrap();
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
    }
    assert!(server.sessions_of("agent_slow").is_empty());
}
