//! The reference server keeps serving while clients abuse it, as a real process on 127.0.0.1:
//! - a request whose body trickles in is answered 408 at the configured request timeout, and
//!   a connection that never finishes its headers is closed at the header timeout, while
//!   other requests are served;
//! - 10,000 requests from one agent in a burst are mostly answered 429 with `Retry-After`;
//!   other callers are served during and after it, and the server's resident memory stays
//!   bounded;
//! - requests with ambiguous framing (both `Content-Length` and chunked, two lengths) smuggle
//!   no second request through; a run of wrong keys is throttled (429);
//! - a development-mode server refuses other hosts and web origins (DNS rebinding, CSRF);
//! - 500 open overlay event streams leave the API responsive;
//! - the seed's unsigned test webhook, sent to a server without LiveKit credentials, is a
//!   401 that writes no error line, and the log written to a file carries no colour codes.

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
        let (_, body) = status_and_json(&answer);
        assert_eq!(body["code"], "INVALID_INPUT", "{answer}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{answer}"
        );
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

/// Writes `request` as it is on a new connection and reads until the server hangs up (or
/// 15 s pass); the raw answer.
fn raw_exchange(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// The status of a raw answer and its body as JSON (`Null` when it is not JSON).
fn status_and_json(answer: &str) -> (u16, serde_json::Value) {
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(serde_json::Value::Null);
    (status, json)
}

/// A request with both `Content-Length` and `Transfer-Encoding: chunked` is read by its
/// chunked framing and the connection is closed after the answer, and one with two
/// different `Content-Length`s is refused with 400: either way the request hidden behind the
/// first is never served.
#[test]
fn requests_with_ambiguous_framing_smuggle_nothing_through() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start_with(
        SERVER,
        &dir.path().join("smuggle.db"),
        port,
        &[("LTCG_EGRESS", "memory")],
    );
    let start = json!({"agentId": "agent_smuggled", "platform": "twitch", "streamKey": "live_smuggled_key"})
        .to_string();
    let hidden = format!(
        "POST /api/streaming/start HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {INTERNAL_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{start}",
        start.len()
    );
    let cl_te = format!(
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{hidden}",
        5 + hidden.len()
    );
    let te_cl = format!(
        "POST /api/agents/events HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\
         Content-Type: application/json\r\n\r\n{:x}\r\n{hidden}\r\n0\r\n\r\n{hidden}",
        hidden.len()
    );
    let two_lengths = format!(
        "POST /api/streaming/start HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {INTERNAL_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nContent-Length: 0\r\n\r\n{start}{hidden}",
        start.len()
    );
    for (name, request, want) in [
        ("CL.TE", cl_te, 200),
        ("TE.CL", te_cl, 401),
        ("two lengths", two_lengths, 400),
    ] {
        let answer = raw_exchange(port, &request);
        assert_eq!(status_and_json(&answer).0, want, "{name}: {answer}");
        assert_eq!(
            answer.matches("HTTP/1.1 ").count(),
            1,
            "{name}: a second request was answered: {answer}"
        );
    }
    assert!(
        server.sessions_of("agent_smuggled").is_empty(),
        "a smuggled start was served"
    );
}

/// A run of wrong keys from one address is answered 401 only for the first few, then 429
/// with `Retry-After` and the error contract; the correct key from that address waits too.
#[test]
fn wrong_keys_in_a_row_are_throttled() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start_with(
        SERVER,
        &dir.path().join("guess.db"),
        port,
        &[("LTCG_EGRESS", "memory")],
    );
    let guess = "GET /api/streaming/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer wrong-key-0123456789abc\r\n\r\n";
    let statuses = pipeline(port, 500, guess);
    let unauthorized = statuses.iter().filter(|&&s| s == 401).count();
    let throttled = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(unauthorized + throttled, 500, "{statuses:?}");
    assert!(
        (1..=20).contains(&unauthorized),
        "{unauthorized} of 500 guesses were checked"
    );
    let (status, body) = server.request("GET", "/api/streaming/sessions", Some(INTERNAL_KEY), None);
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("RATE_LIMITED")),
        "{body}"
    );
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("rate limited: too many failed authentication attempts; retry in "),
        "{body}"
    );
    assert_eq!(server.request("GET", "/healthz", None, None).0, 200);
}

/// A server in development mode (no keys) answers only requests addressed to a loopback
/// name from no web page or a loopback one: a cross-site form post and a DNS-rebound page
/// are refused with 403 and the error contract, a `text/plain` body is 415, and the
/// refusals start nothing. Its HTTP-layer errors (405, 414, 431) follow the contract.
#[test]
fn a_development_server_answers_only_loopback_hosts_and_origins() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start_with(
        SERVER,
        &dir.path().join("dev.db"),
        port,
        &[("LTCG_EGRESS", "memory"), ("LTCG_INTERNAL_KEY", "")],
    );
    let start =
        json!({"agentId": "agent_dev", "platform": "twitch", "streamKey": "live_dev_key_0123"})
            .to_string();
    let post = |host: &str, origin: Option<&str>, content_type: &str| {
        let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
        raw_exchange(
            port,
            &format!(
                "POST /api/streaming/start HTTP/1.1\r\nHost: {host}\r\n{origin}Content-Type: {content_type}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{start}",
                start.len()
            ),
        )
    };
    for (host, origin, content_type, want, code) in [
        (
            "127.0.0.1",
            Some("https://evil.example"),
            "text/plain",
            403,
            "FORBIDDEN",
        ),
        (
            "rebind.evil.example:3334",
            Some("http://rebind.evil.example:3334"),
            "application/json",
            403,
            "FORBIDDEN",
        ),
        (
            "rebind.evil.example:3334",
            None,
            "application/json",
            403,
            "FORBIDDEN",
        ),
        (
            "127.0.0.1",
            Some("null"),
            "application/json",
            403,
            "FORBIDDEN",
        ),
        ("127.0.0.1", None, "text/plain", 415, "INVALID_INPUT"),
    ] {
        let (status, body) = status_and_json(&post(host, origin, content_type));
        assert_eq!(
            (status, body["code"].as_str()),
            (want, Some(code)),
            "{host} {origin:?} {content_type}: {body}"
        );
    }
    assert!(
        server.sessions_of("agent_dev").is_empty(),
        "a refused request started a stream"
    );
    let (status, body) = status_and_json(&post(
        &format!("localhost:{port}"),
        Some(&format!("http://localhost:{port}")),
        "application/json",
    ));
    assert_eq!(status, 200, "{body}");
    // The HTTP layer's own errors.
    let long_uri = format!(
        "GET /api/streaming/sessions?pad={} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "x".repeat(20_000)
    );
    let big_headers = format!(
        "GET /api/streaming/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: {}\r\nConnection: close\r\n\r\n",
        "x".repeat(40_000)
    );
    let wrong_method =
        "DELETE /api/streaming/start HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            .to_owned();
    for (request, want) in [(long_uri, 414), (big_headers, 431), (wrong_method, 405)] {
        let (status, body) = status_and_json(&raw_exchange(port, &request));
        assert_eq!(
            (status, body["code"].as_str()),
            (want, Some("INVALID_INPUT")),
            "{body}"
        );
    }
    // The dashboard needs no sign-in on loopback, and is sent to the login page elsewhere.
    let page = |host: &str| {
        raw_exchange(
            port,
            &format!("GET /dashboard HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
    };
    let local = page("127.0.0.1");
    assert!(local.starts_with("HTTP/1.1 200"), "{local}");
    assert!(local.contains("Signed in as <b>operator</b>"), "{local}");
    let rebound = page("rebind.evil.example:3334");
    assert!(rebound.starts_with("HTTP/1.1 303"), "{rebound}");
    assert!(rebound.contains("location: /dashboard/login"), "{rebound}");
}

/// 500 overlay event streams held open at once: each gets its first snapshot, and the API
/// answers other callers while they are open.
#[test]
fn five_hundred_open_overlay_streams_leave_the_api_responsive() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start_with(
        SERVER,
        &dir.path().join("sse.db"),
        port,
        &[("LTCG_EGRESS", "memory")],
    );
    let (status, started) = server.request(
        "POST",
        "/api/streaming/start",
        Some(INTERNAL_KEY),
        Some(
            json!({"agentId": "agent_sse", "platform": "twitch", "streamKey": "live_sse_key_0123"}),
        ),
    );
    assert_eq!(status, 200, "{started}");
    let overlay = started["overlayUrl"].as_str().unwrap();
    let path = &overlay[overlay.find("/stream/overlay?").unwrap()..];
    let events = path.replacen("/stream/overlay?", "/stream/overlay/events?", 1);
    let request = format!("GET {events} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let mut streams = Vec::with_capacity(500);
    for _ in 0..500 {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        streams.push(stream);
    }
    for (i, stream) in streams.iter_mut().enumerate() {
        let mut seen = String::new();
        let mut buf = [0; 4096];
        while !seen.contains("event: snapshot") {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "stream {i} closed: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        assert!(seen.starts_with("HTTP/1.1 200"), "stream {i}: {seen}");
    }
    for _ in 0..20 {
        let (status, body) =
            server.request("GET", "/api/streaming/sessions", Some(INTERNAL_KEY), None);
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(server.request("GET", "/healthz", None, None).0, 200);
    drop(streams);
}

#[test]
fn stray_webhooks_get_401_and_the_log_file_stays_plain_and_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(SERVER, &dir.path().join("stray.db"), free_port());
    // The seed's own "test webhook endpoint" request, unsigned, a few times over.
    let body = r#"{"event": "egress_started", "egress_info": {"egress_id": "test_egress_123"}}"#;
    for _ in 0..20 {
        let (status, reply) = server.webhook(body, "");
        assert_eq!(status, 401, "{reply}");
        assert_eq!(reply["code"], "UNAUTHORIZED");
    }
    let log = server.output();
    assert!(!log.is_empty());
    assert!(!log.contains('\u{1b}'), "ANSI escape codes in the log file");
    let errors: Vec<&str> = log.lines().filter(|l| l.contains(" ERROR ")).collect();
    assert!(
        errors.is_empty(),
        "error lines for stray requests: {errors:?}"
    );
}
