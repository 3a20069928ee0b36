//! The operator CLI as a process, against the store a running reference server uses (SQLite
//! and PostgreSQL): listing, showing and stopping sessions, a reconciler pass against LiveKit
//! (the Twirp fake), key rotation, agent keys, the doctor, and clear refusals with a non-zero
//! exit.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use ltcg_streaming_core::platform::Platform;
use ltcg_streaming_core::session::Entity;
use ltcg_streaming_core::store::{
    PlatformCredential, PostgresStore, SessionQuery, SessionStore, SqliteStore,
};
use ltcg_streaming_core::vault::{generate_key_hex, AesGcmVault};
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

/// The store a CLI with `extra` uses (`db`, or PostgreSQL when `extra` names it).
async fn open_store(db: &Path, extra: &[(&str, &str)]) -> Arc<dyn SessionStore> {
    let var = |name: &str| extra.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    match (var("LTCG_DATABASE_URL"), var("LTCG_DATABASE_SCHEMA")) {
        (Some(url), Some(schema)) => Arc::new(
            PostgresStore::connect_with_schema(url, schema)
                .await
                .unwrap(),
        ),
        _ => Arc::new(SqliteStore::open(db).await.unwrap()),
    }
}

/// Every stored stream key and destination URL, decrypted by `vault` (`None` where it
/// cannot), by entity or session id.
async fn decrypted(
    store: &dyn SessionStore,
    vault: &AesGcmVault,
) -> BTreeMap<String, Option<String>> {
    let mut values = BTreeMap::new();
    let mut after = None;
    loop {
        let page = store.list_credentials(after.as_ref(), 100).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.entity.clone());
        for credential in &page {
            let value = vault.decrypt_key(credential.encrypted_key.as_deref().unwrap());
            values.insert(
                format!("credential {}", credential.entity.entity_id),
                value.ok().map(|v| v.expose_secret().to_owned()),
            );
        }
    }
    let sessions = store
        .list_sessions(&SessionQuery {
            limit: 500,
            ..SessionQuery::default()
        })
        .await
        .unwrap();
    for session in sessions.sessions {
        for destination in &session.destinations {
            let value = vault.decrypt_key(&destination.encrypted_url);
            values.insert(
                format!("session {} {}", session.id, destination.id),
                value.ok().map(|v| v.expose_secret().to_owned()),
            );
        }
    }
    values
}

/// Stores 240 credentials and six sessions under the old key, then rotates to a new key:
/// a dry run, a run stopped half way, a rerun from its checkpoint, a run with nothing left,
/// and a value no key opens.
fn rotation_round_trip(dir: &Path, extra: &[(&str, &str)]) {
    let db = dir.join("rotate.db");
    let port = free_port();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let old = AesGcmVault::from_hex(ENC_KEY).unwrap();
    let new_hex = generate_key_hex();
    let new = AesGcmVault::from_hex(&new_hex).unwrap();

    let mut env = vec![("LTCG_EGRESS", "memory")];
    env.extend_from_slice(extra);
    let server = Server::start_with(SERVER, &db, port, &env);
    let mut sessions = Vec::new();
    for n in 0..6 {
        let (status, body) = server.request(
            "POST",
            "/api/streaming/start",
            Some(INTERNAL_KEY),
            Some(json!({"agentId": format!("agent_rot_{n}"), "platform": "twitch", "streamKey": format!("live_rotation_key_{n:04}_abcdefgh")})),
        );
        assert_eq!(status, 200, "{body}");
        sessions.push(body["sessionId"].as_str().unwrap().to_owned());
    }
    for sid in &sessions[..2] {
        let (status, body) = server.request(
            "POST",
            "/api/streaming/stop",
            Some(INTERNAL_KEY),
            Some(json!({"sessionId": sid})),
        );
        assert_eq!(status, 200, "ended sessions are rotated too: {body}");
    }
    drop(server);
    let store = runtime.block_on(open_store(&db, extra));
    for n in 0..240 {
        let credential = PlatformCredential {
            entity: Entity::agent(&format!("agent_cred_{n:03}")).unwrap(),
            platform: Platform::Twitch,
            encrypted_key: Some(
                old.encrypt_key(&format!("live_stored_{n:03}_secret"))
                    .unwrap(),
            ),
            custom_rtmp_url: None,
            auto_start: false,
            enabled: true,
            keep_alive: true,
            overlay: Default::default(),
            channel: None,
            updated_at: 1,
        };
        runtime.block_on(store.put_credential(&credential)).unwrap();
    }
    let before = runtime.block_on(decrypted(store.as_ref(), &old));
    assert_eq!(
        before.len(),
        246,
        "240 stream keys and six destination URLs"
    );
    assert!(before.values().all(Option::is_some));

    let checkpoint = dir.join("rotation.json");
    let checkpoint_arg = checkpoint.to_str().unwrap();
    let mut keys = vec![
        ("STREAM_KEY_ENCRYPTION_KEY", new_hex.as_str()),
        ("STREAM_KEY_ENCRYPTION_PREVIOUS_KEYS", ENC_KEY),
    ];
    keys.extend_from_slice(extra);
    let rotate = |args: &[&str]| {
        let mut all = vec!["rotate-keys", "--checkpoint", checkpoint_arg, "--json"];
        all.extend_from_slice(args);
        cli(&db, port, &keys, &all)
    };

    let dry = json_of(&rotate(&["--dry-run"]));
    assert_eq!(dry["finished"], true, "{dry}");
    assert_eq!(dry["streamKeys"]["rotated"], 240, "{dry}");
    assert_eq!(dry["destinationUrls"]["rotated"], 6, "{dry}");
    assert!(!checkpoint.exists(), "a dry run saves no checkpoint");
    assert_eq!(
        runtime.block_on(decrypted(store.as_ref(), &old)),
        before,
        "a dry run writes nothing"
    );

    let half = json_of(&rotate(&["--max-items", "120"]));
    assert_eq!(half["finished"], false, "{half}");
    assert_eq!(half["credentialsSeen"], 120, "{half}");
    assert_eq!(half["streamKeys"]["rotated"], 120, "{half}");
    assert!(
        checkpoint.exists(),
        "an unfinished run leaves its checkpoint"
    );
    let midway = runtime.block_on(decrypted(store.as_ref(), &new));
    assert_eq!(
        midway.values().filter(|v| v.is_some()).count(),
        120,
        "half the values moved to the new key"
    );

    let rest = rotate(&[]);
    assert!(stderr(&rest).contains("resuming from"), "{}", stderr(&rest));
    let rest = json_of(&rest);
    assert_eq!(rest["finished"], true, "{rest}");
    assert_eq!(rest["credentialsSeen"], 120, "{rest}");
    assert_eq!(rest["sessionsSeen"], 6, "{rest}");
    assert_eq!(rest["streamKeys"]["rotated"], 120, "{rest}");
    assert_eq!(rest["destinationUrls"]["rotated"], 6, "{rest}");
    assert!(
        !checkpoint.exists(),
        "a finished rotation removes its checkpoint"
    );

    let after = runtime.block_on(decrypted(store.as_ref(), &new));
    assert_eq!(
        after, before,
        "every value decrypts under the new key to what it was"
    );
    let under_old = runtime.block_on(decrypted(store.as_ref(), &old));
    assert!(
        under_old.values().all(Option::is_none),
        "no value still needs the old key"
    );

    let again = json_of(&rotate(&[]));
    assert_eq!(again["streamKeys"]["rotated"], 0, "{again}");
    assert_eq!(again["streamKeys"]["current"], 240, "{again}");
    assert_eq!(again["destinationUrls"]["current"], 6, "{again}");

    let stranger = AesGcmVault::from_hex(&generate_key_hex()).unwrap();
    let mut lost = runtime
        .block_on(store.get_credential(&Entity::agent("agent_cred_000").unwrap()))
        .unwrap()
        .unwrap();
    lost.encrypted_key = Some(stranger.encrypt_key("live_unknown_key_secret").unwrap());
    runtime.block_on(store.put_credential(&lost)).unwrap();
    let mut text_keys = keys.clone();
    text_keys.push(("RUST_LOG", "warn"));
    let failed = cli(
        &db,
        port,
        &text_keys,
        &["rotate-keys", "--checkpoint", checkpoint_arg],
    );
    assert_eq!(failed.status.code(), Some(1), "{}", stdout(&failed));
    assert!(
        stdout(&failed).contains("failed: credential agent:agent_cred_000"),
        "{}",
        stdout(&failed)
    );
    assert!(
        stdout(&failed).contains("stream keys: 0 re-encrypted, 239 already current, 1 failed"),
        "{}",
        stdout(&failed)
    );
    assert!(
        stderr(&failed).contains("STREAM_KEY_ENCRYPTION_PREVIOUS_KEYS"),
        "{}",
        stderr(&failed)
    );
    let output = format!("{}{}", stdout(&failed), stderr(&failed));
    assert!(!output.contains("live_unknown_key_secret") && !output.contains(&new_hex));
}

#[test]
fn rotate_keys_resumes_and_leaves_every_value_under_the_new_key_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    rotation_round_trip(dir.path(), &[]);
}

#[test]
fn rotate_keys_resumes_and_leaves_every_value_under_the_new_key_on_postgres() {
    let Some(url) =
        test_url("rotate_keys_resumes_and_leaves_every_value_under_the_new_key_on_postgres")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = fresh_schema();
    rotation_round_trip(
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
        &["rotate-keys", "--max-items", "0"],
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
    for command in [
        "serve",
        "sessions",
        "reconcile",
        "rotate-keys",
        "agent-keys",
        "doctor",
    ] {
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

    let dev = Command::new(CLI)
        .env("LTCG_DATABASE", &db)
        .env("LTCG_EGRESS", "memory")
        .env("RUST_LOG", "warn")
        .env_remove("LTCG_INTERNAL_KEY")
        .env_remove("LTCG_AGENT_KEYS")
        .env_remove("LTCG_DATABASE_URL")
        .env_remove("STREAM_KEY_ENCRYPTION_KEY")
        .env_remove("STREAMING_JWT_SECRET")
        .env_remove("NEXT_PUBLIC_APP_URL")
        .env_remove("LIVEKIT_URL")
        .arg("doctor")
        .output()
        .unwrap();
    assert!(dev.status.success(), "{}{}", stdout(&dev), stderr(&dev));
    assert!(
        stdout(&dev).contains("note     development mode: secrets will be generated"),
        "{}",
        stdout(&dev)
    );
    assert!(
        !dir.path().join("doctor.db.dev-secrets").exists(),
        "the doctor only looks: no development secrets were made"
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
