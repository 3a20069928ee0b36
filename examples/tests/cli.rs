//! The operator CLI as a process, against the store a running reference server uses (SQLite
//! and PostgreSQL): listing, showing and stopping sessions, a reconciler pass against LiveKit
//! (the Twirp fake), the doctor, and clear refusals with a non-zero exit.

use std::path::Path;
use std::process::{Command, Output};

use ltcg_streaming_core::SessionId;
use ltcg_streaming_test_support::livekit_twirp::{FakeLiveKit, ProtoEgressStatus};
use ltcg_streaming_test_support::nginx_rtmp::free_port;
use ltcg_streaming_test_support::postgres::{fresh_schema, test_url};
use ltcg_streaming_test_support::server::*;
use serde_json::{json, Value};

const SERVER: &str = env!("CARGO_BIN_EXE_ltcg-streaming-server");
const CLI: &str = env!("CARGO_BIN_EXE_ltcg-streaming");

/// The CLI with the test servers' environment on `db` (and `port`'s app URL) plus `extra`.
fn cli(db: &Path, port: u16, extra: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(CLI);
    configure(&mut command, db, port);
    command
        .env("RUST_LOG", "warn")
        .envs(extra.iter().copied())
        .args(args);
    command.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The CLI's JSON answer, after checking it succeeded.
fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "{}{}", stdout(out), stderr(out));
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// Lists, shows and stops sessions a server made, on the store `extra` names.
fn sessions_round_trip(dir: &Path, extra: &[(&str, &str)]) {
    let db = dir.join("cli.db");
    let port = free_port();
    let mut env = vec![("LTCG_EGRESS", "memory")];
    env.extend_from_slice(extra);
    let server = Server::start_with(SERVER, &db, port, &env);
    let mut ids = Vec::new();
    for agent in ["agent_cli_1", "agent_cli_2"] {
        let (status, body) = server.request(
            "POST",
            "/api/streaming/start",
            Some(INTERNAL_KEY),
            Some(json!({"agentId": agent, "platform": "twitch", "streamKey": "live_123456789_abcdefghijklmnop", "streamTitle": "CLI test"})),
        );
        assert_eq!(status, 200, "{body}");
        ids.push(body["sessionId"].as_str().unwrap().to_owned());
    }
    let run = |args: &[&str]| cli(&db, port, extra, args);

    let listed = json_of(&run(&["sessions", "list", "--json"]));
    assert_eq!(listed["count"], 2, "{listed}");
    let table = run(&["sessions", "list", "--active", "--agent", "agent_cli_1"]);
    assert!(table.status.success(), "{}", stderr(&table));
    assert!(stdout(&table).contains(&ids[0]), "{}", stdout(&table));
    assert!(!stdout(&table).contains(&ids[1]), "{}", stdout(&table));
    assert!(
        stdout(&table).contains("1 session(s)"),
        "{}",
        stdout(&table)
    );

    let shown = json_of(&run(&["sessions", "show", &ids[0]]));
    assert_eq!(shown["status"]["sessionId"], ids[0].as_str(), "{shown}");
    assert_eq!(shown["timeline"][0]["kind"], "created", "{shown}");

    let stopped = json_of(&run(&[
        "sessions",
        "stop",
        &ids[0],
        "--reason",
        "maintenance",
    ]));
    assert_eq!(stopped["success"], true, "{stopped}");
    let after = server.status(&ids[0]);
    assert_eq!(
        after["status"], "ended",
        "the server sees the stop: {after}"
    );
    assert_eq!(after["endReason"], "maintenance", "{after}");
    assert!(
        server.status(&ids[1])["status"] != "ended",
        "the other session runs on"
    );

    let unknown = run(&["sessions", "show", SessionId::generate().as_str()]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).starts_with("error: "),
        "{}",
        stderr(&unknown)
    );
    let malformed = run(&["sessions", "stop", "not a session!"]);
    assert_eq!(malformed.status.code(), Some(1));
    assert!(
        stderr(&malformed).contains("sessionId"),
        "{}",
        stderr(&malformed)
    );
}

#[test]
fn sessions_are_listed_shown_and_stopped_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    sessions_round_trip(dir.path(), &[]);
}

#[test]
fn sessions_are_listed_shown_and_stopped_on_postgres() {
    let Some(url) = test_url("sessions_are_listed_shown_and_stopped_on_postgres") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = fresh_schema();
    sessions_round_trip(
        dir.path(),
        &[
            ("LTCG_DATABASE_URL", &url),
            ("LTCG_DATABASE_SCHEMA", &schema),
        ],
    );
}

/// Makes an agent key with the CLI, uses it against a server on the same store, lists it
/// and revokes it, on the store `extra` names.
fn agent_keys_round_trip(dir: &Path, extra: &[(&str, &str)]) {
    let db = dir.join("keys.db");
    let port = free_port();
    let run = |args: &[&str]| cli(&db, port, extra, args);

    let made = run(&[
        "agent-keys",
        "create",
        "agent_keyed",
        "--label",
        "ci runner",
    ]);
    assert!(made.status.success(), "{}", stderr(&made));
    let key = stdout(&made).trim().to_owned();
    assert!(key.starts_with("ltcg_") && key.len() == 37, "{key}");
    let prefix = &key[..12];
    assert!(stderr(&made).contains(prefix), "{}", stderr(&made));
    let other = stdout(&run(&["agent-keys", "create", "agent_other"]))
        .trim()
        .to_owned();
    assert_ne!(other, key);

    let mut env = vec![("LTCG_EGRESS", "memory")];
    env.extend_from_slice(extra);
    let server = Server::start_with(SERVER, &db, port, &env);
    server.watch_secret(&key);
    server.watch_secret(&other);
    let start = |bearer: &str| {
        server.request(
            "POST",
            "/api/streaming/start",
            Some(bearer),
            Some(json!({"platform": "twitch", "streamKey": "live_123456789_abcdefghijklmnop"})),
        )
    };
    let (status, body) = start(&key);
    assert_eq!(status, 200, "the stored key is accepted: {body}");
    let sid = body["sessionId"].as_str().unwrap().to_owned();
    assert_eq!(server.status(&sid)["entityId"], "agent_keyed");
    let forged = format!("{prefix}{}", "a".repeat(25));
    let (status, refused) = start(&forged);
    assert_eq!(
        status, 401,
        "a key with a known prefix but another tail: {refused}"
    );
    let (status, unknown) = start(&format!("ltcg_{}", "b".repeat(32)));
    assert_eq!(status, 401, "{unknown}");
    assert_eq!(
        refused, unknown,
        "an unknown prefix answers exactly like a wrong key"
    );

    let listed = json_of(&run(&["agent-keys", "list", "--json"]));
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    assert_eq!(listed[0]["prefix"], prefix, "{listed}");
    assert_eq!(listed[0]["agentId"], "agent_keyed", "{listed}");
    assert_eq!(listed[0]["label"], "ci runner", "{listed}");
    let text = listed.to_string();
    assert!(
        !text.contains(&key[12..]) && !text.contains("argon2"),
        "{text}"
    );

    let revoked = run(&["agent-keys", "revoke", prefix]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert!(stdout(&revoked).contains("revoked"), "{}", stdout(&revoked));
    let (status, after) = start(&key);
    assert_eq!(status, 401, "a revoked key is refused at once: {after}");
    assert_eq!(after, unknown, "and answers like any wrong key");
    let (status, body) = start(&other);
    assert_eq!(status, 200, "the other key still works: {body}");

    let table = stdout(&run(&["agent-keys", "list", "--agent", "agent_keyed"]));
    assert!(
        table.contains(prefix) && table.contains("1 key(s)"),
        "{table}"
    );
    let row = table
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_default();
    assert_eq!(
        row.matches('Z').count(),
        2,
        "made and revoked times are shown: {table}"
    );

    let unknown = run(&["agent-keys", "revoke", "ltcg_zzzzzzz"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("ltcg_zzzzzzz"),
        "{}",
        stderr(&unknown)
    );
    let malformed = run(&["agent-keys", "revoke", "nope"]);
    assert_eq!(malformed.status.code(), Some(1));
    assert!(
        stderr(&malformed).contains("keyPrefix"),
        "{}",
        stderr(&malformed)
    );
    let bad_agent = run(&["agent-keys", "create", "no spaces!"]);
    assert_eq!(bad_agent.status.code(), Some(1));
    assert!(
        stderr(&bad_agent).contains("agentId"),
        "{}",
        stderr(&bad_agent)
    );
}

#[test]
fn agent_keys_are_made_used_and_revoked_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    agent_keys_round_trip(dir.path(), &[]);
}

#[test]
fn agent_keys_are_made_used_and_revoked_on_postgres() {
    let Some(url) = test_url("agent_keys_are_made_used_and_revoked_on_postgres") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = fresh_schema();
    agent_keys_round_trip(
        dir.path(),
        &[
            ("LTCG_DATABASE_URL", &url),
            ("LTCG_DATABASE_SCHEMA", &schema),
        ],
    );
}

#[test]
fn bad_arguments_get_a_message_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("args.db");
    for args in [
        &["sessions", "frob"][..],
        &["sessions", "list", "--limit", "0"],
        &["sessions", "list", "--agent", "a", "--user", "u"],
        &["sessions", "stop"],
        &["agent-keys", "create"],
        &["agent-keys", "revoke"],
        &["launch"],
    ] {
        let out = cli(&db, 3999, &[], args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("error: "),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let help = cli(&db, 3999, &[], &["--help"]);
    for command in ["serve", "sessions", "reconcile", "agent-keys", "doctor"] {
        assert!(stdout(&help).contains(command), "{}", stdout(&help));
    }
}

#[test]
fn reconcile_runs_one_pass_against_livekit_and_refuses_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("reconcile.db");
    let port = free_port();
    let without = cli(&db, port, &[], &["reconcile"]);
    assert_eq!(without.status.code(), Some(1));
    assert!(
        stderr(&without).contains("LIVEKIT_URL"),
        "{}",
        stderr(&without)
    );

    let (_runtime, fake) = FakeLiveKit::start_in_background(LIVEKIT_KEY, LIVEKIT_SECRET);
    let overlay = format!(
        "http://127.0.0.1:{port}/stream/overlay?sessionId={}&token=orphan",
        SessionId::generate()
    );
    let orphan = fake.add_egress(
        &overlay,
        &["rtmp://127.0.0.1:1/app/orphan"],
        ProtoEgressStatus::EgressActive,
    );
    let url = fake.url();
    let livekit = [
        ("LIVEKIT_URL", url.as_str()),
        ("LIVEKIT_API_KEY", LIVEKIT_KEY),
        ("LIVEKIT_API_SECRET", LIVEKIT_SECRET),
    ];
    let report = json_of(&cli(&db, port, &livekit, &["reconcile"]));
    assert_eq!(report["stoppedEgresses"], json!([orphan]), "{report}");
    assert_eq!(fake.stop_requests().len(), 1);
}

#[test]
fn the_doctor_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("doctor.db");
    let healthy = cli(&db, 3999, &[("LTCG_EGRESS", "memory")], &["doctor"]);
    assert!(healthy.status.success(), "{}", stdout(&healthy));
    assert!(
        stdout(&healthy).contains("all checks passed"),
        "{}",
        stdout(&healthy)
    );
    assert!(
        stdout(&healthy).contains("ok       the database answers"),
        "{}",
        stdout(&healthy)
    );

    let broken = cli(
        &db,
        3999,
        &[
            ("LTCG_DATABASE_URL", "postgres://ltcg@127.0.0.1:1/nowhere"),
            ("STREAMING_JWT_SECRET", "short"),
            ("LIVEKIT_URL", "http://127.0.0.1:1"),
            ("LIVEKIT_API_KEY", LIVEKIT_KEY),
            ("LIVEKIT_API_SECRET", LIVEKIT_SECRET),
        ],
        &["doctor"],
    );
    assert_eq!(broken.status.code(), Some(1), "{}", stdout(&broken));
    let said = stdout(&broken);
    assert!(said.contains("MISSING  configuration"), "{said}");
    assert!(said.contains("STREAMING_JWT_SECRET"), "{said}");
    assert!(
        said.contains("MISSING  the database cannot be opened"),
        "{said}"
    );
    assert!(said.contains("some checks failed"), "{said}");
    assert!(
        !said.contains(LIVEKIT_SECRET),
        "no secret in the doctor's output"
    );
}
