//! The operator CLI, `ltcg-streaming`: runs the reference server, lists, shows and stops
//! sessions, runs a reconciler pass and checks the machine, on the store and configuration
//! the environment names (the server's variables, see [`crate::server`]).
//!
//! ```sh
//! ltcg-streaming serve
//! ltcg-streaming sessions list --active
//! ltcg-streaming sessions show ses_…
//! ltcg-streaming sessions stop ses_… --reason maintenance
//! ltcg-streaming reconcile
//! ltcg-streaming rotate-keys --dry-run
//! ltcg-streaming rotate-keys
//! ltcg-streaming agent-keys create agent_7 --label laptop
//! ltcg-streaming agent-keys list
//! ltcg-streaming agent-keys revoke ltcg_abc1234
//! ltcg-streaming doctor
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use ltcg_streaming_core::egress::{
    BrowserEgressOptions, EgressBackend, LiveKitEgress, LiveKitEgressOptions,
};
use ltcg_streaming_core::service::{ListSessionsRequest, StopStreamRequest};
use ltcg_streaming_core::session::StreamType;
use ltcg_streaming_core::{
    Actor, KeyVault, MemoryEgress, ReplicaOptions, ServiceOptions, SessionId, StreamingService,
};

use indicatif::{ProgressBar, ProgressStyle};
use ltcg_streaming_core::agent_keys::AgentKeys;
use ltcg_streaming_core::store::AgentKey;
use ltcg_streaming_core::vault::rotation::{
    rotate_stored_keys, RotationCheckpoint, RotationOptions,
};
use ltcg_streaming_core::{Clock, SystemClock};

use crate::server::{self, env, BoxError};

/// Operate ltcg-streaming: run the server, inspect and stop sessions, reconcile, check the
/// machine. Configured by the environment, like the reference server.
#[derive(Debug, Parser)]
#[command(name = "ltcg-streaming", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the reference server until SIGINT or SIGTERM.
    Serve,
    /// Lists, shows or stops sessions.
    Sessions {
        #[command(subcommand)]
        command: SessionsCommand,
    },
    /// Runs one reconciler pass (LiveKit egress only) and prints its report as JSON.
    Reconcile,
    /// Re-encrypts every stored stream key and destination under the current key
    /// (`STREAM_KEY_ENCRYPTION_KEY`; the old one must be in
    /// `STREAM_KEY_ENCRYPTION_PREVIOUS_KEYS`). Resumable: run it again to continue.
    RotateKeys {
        /// Count what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The checkpoint: read to resume, written as the rotation goes, removed when it
        /// finishes.
        #[arg(long, default_value = "ltcg-streaming.rotate-keys.json")]
        checkpoint: PathBuf,
        /// Stop after this many credentials and sessions (run again to continue).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        max_items: Option<u64>,
        /// The report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Makes, lists and revokes agents' API keys (the database keeps only their hashes).
    AgentKeys {
        #[command(subcommand)]
        command: AgentKeysCommand,
    },
    /// Checks the programs, the configuration, the database and LiveKit; says what is missing.
    Doctor,
}

#[derive(Debug, Subcommand)]
enum SessionsCommand {
    /// Lists sessions, newest first.
    List {
        /// Only active sessions (initializing, pending, live).
        #[arg(long)]
        active: bool,
        /// Only this agent's sessions.
        #[arg(long, conflicts_with = "user")]
        agent: Option<String>,
        /// Only this user's sessions.
        #[arg(long)]
        user: Option<String>,
        /// At most this many (1 to 100).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=100))]
        limit: u16,
        /// The service's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Prints a session's status and timeline as JSON.
    Show {
        /// The session id (`ses_…`).
        session_id: String,
    },
    /// Stops a session (its egress is stopped, its stats frozen).
    Stop {
        /// The session id (`ses_…`).
        session_id: String,
        /// Why, a word of a-z, 0-9 and '_' (default `manual`).
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AgentKeysCommand {
    /// Makes a key for an agent and prints it on standard output, once: it cannot be shown
    /// again.
    Create {
        /// The agent the key acts as.
        agent_id: String,
        /// A note for the list (where the key is used).
        #[arg(long)]
        label: Option<String>,
    },
    /// Lists keys, oldest first: prefix, agent, label, made, revoked.
    List {
        /// Only this agent's keys.
        #[arg(long)]
        agent: Option<String>,
        /// JSON instead of a table (never the keys or their hashes).
        #[arg(long)]
        json: bool,
    },
    /// Revokes a key, named by its prefix (its first 12 characters) or the whole key.
    Revoke {
        /// `ltcg_` and the next seven characters, as `list` shows.
        prefix: String,
    },
}

/// Runs the command line `args`; the process's exit code.
pub async fn main_with(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve => server::run().await,
        Command::Sessions { command } => sessions(command).await,
        Command::Reconcile => reconcile().await,
        Command::AgentKeys { command } => agent_keys(command).await,
        Command::RotateKeys {
            dry_run,
            checkpoint,
            max_items,
            json,
        } => rotate_keys(&checkpoint, RotationOptions { dry_run, max_items }, json).await,
        Command::Doctor => return doctor().await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The LiveKit egress when the environment configures it (and `LTCG_EGRESS` does not pick
/// another backend).
fn livekit_egress(
    config: &ltcg_streaming_core::StreamingConfig,
) -> Result<Option<LiveKitEgress>, BoxError> {
    let picked = env("LTCG_EGRESS");
    match (&config.livekit, picked.as_deref()) {
        (Some(livekit), None | Some("livekit")) => Ok(Some(LiveKitEgress::new(
            LiveKitEgressOptions::from(livekit),
        )?)),
        _ => Ok(None),
    }
}

/// A service on the environment's store for one command: LiveKit's egress when configured,
/// else one that renders nothing (local renders belong to the servers that run them).
/// Whether it has LiveKit's egress.
async fn operator_service() -> Result<(StreamingService, bool), BoxError> {
    let database = server::database_path();
    let store = server::open_store(&database).await?;
    let dev_mode = server::api_auth_for(&store).await?.is_dev_mode();
    let config = server::config_from_env(dev_mode, &database)?;
    let vault: Arc<dyn KeyVault> = Arc::new(config.vault()?);
    let livekit = livekit_egress(&config)?;
    let has_livekit = livekit.is_some();
    let egress: Arc<dyn EgressBackend> = match livekit {
        Some(livekit) => Arc::new(livekit),
        None => Arc::new(MemoryEgress::new()),
    };
    let options = ServiceOptions {
        replica: ReplicaOptions {
            id: format!("cli:{}:{}", server::hostname(), std::process::id()),
            ..ReplicaOptions::default()
        },
        ..ServiceOptions::default()
    };
    let service = StreamingService::with_options(config, store.sessions, egress, vault, options)?;
    Ok((service, has_livekit))
}

fn print_json(value: &impl serde::Serialize) -> Result<(), BoxError> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

async fn sessions(command: SessionsCommand) -> Result<(), BoxError> {
    let (service, _) = operator_service().await?;
    let actor = Actor::Internal;
    match command {
        SessionsCommand::List {
            active,
            agent,
            user,
            limit,
            json,
        } => {
            let (stream_type, entity_id) = match (agent, user) {
                (Some(agent), _) => (Some(StreamType::Agent), Some(agent)),
                (None, Some(user)) => (Some(StreamType::User), Some(user)),
                (None, None) => (None, None),
            };
            let list = service
                .list_sessions(
                    &actor,
                    ListSessionsRequest {
                        active,
                        stream_type,
                        entity_id,
                        limit: Some(usize::from(limit)),
                        ..ListSessionsRequest::default()
                    },
                )
                .await?;
            if json {
                return print_json(&list);
            }
            println!(
                "{:<32} {:<12} {:<10} {:<24} TITLE",
                "SESSION", "STATUS", "PLATFORM", "ENTITY"
            );
            for s in &list.sessions {
                let view = serde_json::to_value(s)?;
                let field = |name: &str| view[name].as_str().unwrap_or("-").to_owned();
                println!(
                    "{:<32} {:<12} {:<10} {:<24} {}",
                    field("sessionId"),
                    field("status"),
                    field("platform"),
                    format!("{}:{}", field("streamType"), field("entityId")),
                    field("streamTitle"),
                );
            }
            println!("{} session(s)", list.count);
            Ok(())
        }
        SessionsCommand::Show { session_id } => {
            let id = SessionId::parse(&session_id)?;
            let status = service.get_status(&actor, &id).await?;
            let timeline = service.session_timeline(&actor, &id).await?;
            print_json(&serde_json::json!({ "status": status, "timeline": timeline }))
        }
        SessionsCommand::Stop { session_id, reason } => {
            let id = SessionId::parse(&session_id)?;
            let stopped = service
                .stop_stream(
                    &actor,
                    StopStreamRequest {
                        session_id: Some(id),
                        reason,
                        ..StopStreamRequest::default()
                    },
                )
                .await?;
            print_json(&stopped)
        }
    }
}

async fn reconcile() -> Result<(), BoxError> {
    let (service, has_livekit) = operator_service().await?;
    if !has_livekit {
        return Err(
            "reconcile from the command line needs the LiveKit egress (LIVEKIT_URL, \
                    LIVEKIT_API_KEY, LIVEKIT_API_SECRET): renders on a machine are reconciled \
                    by the server that runs them"
                .into(),
        );
    }
    let report = service.reconcile(&Actor::Internal).await?;
    print_json(&report)
}

async fn agent_keys(command: AgentKeysCommand) -> Result<(), BoxError> {
    let store = server::open_store(&server::database_path()).await?;
    let keys = AgentKeys::new(store.agent_keys);
    let now_ms = SystemClock.now_ms();
    match command {
        AgentKeysCommand::Create { agent_id, label } => {
            let made = keys.create(&agent_id, label.as_deref(), now_ms).await?;
            eprintln!(
                "made agent key {} for {agent_id}; it is printed once, below: keep it now",
                made.record.prefix
            );
            println!("{}", made.key.expose_secret());
        }
        AgentKeysCommand::List { agent, json } => {
            let list = keys.list(agent.as_deref()).await?;
            if json {
                let view: Vec<_> = list.iter().map(AgentKey::view).collect();
                return print_json(&view);
            }
            println!(
                "{:<14} {:<24} {:<22} {:<22} LABEL",
                "PREFIX", "AGENT", "CREATED", "REVOKED"
            );
            for key in &list {
                println!(
                    "{:<14} {:<24} {:<22} {:<22} {}",
                    key.prefix,
                    key.agent_id,
                    utc(key.created_at),
                    key.revoked_at.map_or_else(|| "-".into(), utc),
                    key.label.as_deref().unwrap_or("-"),
                );
            }
            println!("{} key(s)", list.len());
        }
        AgentKeysCommand::Revoke { prefix } => {
            let key = keys.revoke(&prefix, now_ms).await?;
            println!(
                "revoked {} ({}); it is refused from now on",
                key.prefix, key.agent_id
            );
        }
    }
    Ok(())
}

/// Checkpoints are saved every this many items (and at the end); a rerun redoes at most
/// these, without writing (values already rotated are left alone).
const CHECKPOINT_EVERY: u64 = 50;

async fn rotate_keys(
    checkpoint_path: &Path,
    options: RotationOptions,
    json: bool,
) -> Result<(), BoxError> {
    let database = server::database_path();
    let store = server::open_store(&database).await?;
    let dev_mode = server::api_auth_for(&store).await?.is_dev_mode();
    let vault = server::config_from_env(dev_mode, &database)?.vault()?;
    let checkpoint = match std::fs::read_to_string(checkpoint_path) {
        Ok(text) => {
            eprintln!("resuming from {}", checkpoint_path.display());
            RotationCheckpoint::from_json(&text)?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => RotationCheckpoint::default(),
        Err(e) => return Err(format!("cannot read {}: {e}", checkpoint_path.display()).into()),
    };
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .map_err(|e| format!("progress bar: {e}"))?,
    );
    let mut save_error = None;
    let mut saved_at = 0;
    let report = rotate_stored_keys(
        store.sessions.as_ref(),
        &vault,
        checkpoint,
        &options,
        |report| {
            let done = report.credentials_seen + report.sessions_seen;
            bar.set_message(format!(
                "{} credentials, {} sessions; {} values re-encrypted",
                report.credentials_seen,
                report.sessions_seen,
                report.stream_keys.rotated
                    + report.destination_urls.rotated
                    + report.access_tokens.rotated
            ));
            bar.tick();
            if !options.dry_run && done >= saved_at + CHECKPOINT_EVERY {
                saved_at = done;
                if let Err(e) = save_checkpoint(checkpoint_path, &report.checkpoint) {
                    save_error.get_or_insert(e);
                }
            }
        },
    )
    .await?;
    bar.finish_and_clear();
    if let Some(e) = save_error {
        return Err(e);
    }
    if !options.dry_run {
        if report.finished {
            match std::fs::remove_file(checkpoint_path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        } else {
            save_checkpoint(checkpoint_path, &report.checkpoint)?;
        }
    }
    if json {
        print_json(&report)?;
    } else {
        let verb = if options.dry_run {
            "to re-encrypt"
        } else {
            "re-encrypted"
        };
        println!(
            "read {} credentials and {} sessions",
            report.credentials_seen, report.sessions_seen
        );
        for (what, counts) in [
            ("stream keys", report.stream_keys),
            ("destination URLs", report.destination_urls),
            ("access tokens", report.access_tokens),
        ] {
            println!(
                "{what}: {} {verb}, {} already current, {} failed",
                counts.rotated, counts.current, counts.failed
            );
        }
        for failure in &report.failures {
            println!("failed: {failure}");
        }
        println!(
            "{}",
            match (report.finished, options.dry_run) {
                (true, true) => "dry run: nothing was written".to_owned(),
                (true, false) => "finished: every value is under the current key".to_owned(),
                (false, _) => format!(
                    "stopped; run again to continue (checkpoint {})",
                    checkpoint_path.display()
                ),
            }
        );
    }
    if report.has_failures() {
        return Err(
            "some values could not be re-encrypted (see above): is the key that \
            encrypted them in STREAM_KEY_ENCRYPTION_PREVIOUS_KEYS?"
                .into(),
        );
    }
    Ok(())
}

/// Writes the checkpoint whole (a temporary file renamed over it).
fn save_checkpoint(path: &Path, checkpoint: &RotationCheckpoint) -> Result<(), BoxError> {
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, serde_json::to_vec_pretty(checkpoint)?)?;
    std::fs::rename(&temporary, path)?;
    Ok(())
}

/// Unix milliseconds as UTC, to the second (`2026-12-03T15:04:05Z`).
fn utc(ms: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0).unsigned_abs());
    humantime::format_rfc3339_seconds(at).to_string()
}

/// One line of the doctor's findings.
enum Finding {
    Good(String),
    Note(String),
    Missing(String),
}

async fn doctor() -> ExitCode {
    let mut findings = Vec::new();
    let missing = BrowserEgressOptions::default().missing_programs();
    let browser_wanted = matches!(env("LTCG_EGRESS").as_deref(), Some("browser"));
    findings.push(match (missing.is_empty(), browser_wanted) {
        (true, _) => Finding::Good("Chromium, Xvfb, PulseAudio and ffmpeg are installed".into()),
        (false, true) => Finding::Missing(format!(
            "LTCG_EGRESS=browser needs {} (Debian: apt-get install chromium xvfb pulseaudio ffmpeg)",
            missing.join(", ")
        )),
        (false, false) => Finding::Note(format!(
            "the browser egress would need {} (Debian: apt-get install chromium xvfb pulseaudio ffmpeg)",
            missing.join(", ")
        )),
    });
    let database = server::database_path();
    let store = match server::open_store(&database).await {
        Ok(store) => {
            let probe = store
                .sessions
                .list_sessions(&ltcg_streaming_core::store::SessionQuery {
                    limit: 1,
                    ..Default::default()
                })
                .await;
            findings.push(match probe {
                Ok(_) => Finding::Good(format!("the database answers: {}", store.name)),
                Err(e) => Finding::Missing(format!("the database ({}) fails: {e}", store.name)),
            });
            Some(store)
        }
        Err(e) => {
            findings.push(Finding::Missing(format!(
                "the database cannot be opened: {e}"
            )));
            None
        }
    };
    let auth = match &store {
        Some(store) => server::api_auth_for(store).await,
        None => server::auth_from_env(),
    };
    let dev_mode = match &auth {
        Ok(auth) if auth.is_dev_mode() => {
            findings.push(Finding::Note(
                "no API keys (LTCG_INTERNAL_KEY, LTCG_AGENT_KEYS, stored agent keys, user JWTs): development mode, loopback only"
                    .into(),
            ));
            true
        }
        Ok(_) => {
            findings.push(Finding::Good("API credentials are configured".into()));
            false
        }
        Err(e) => {
            findings.push(Finding::Missing(format!("API credentials: {e}")));
            false
        }
    };
    // The doctor only looks: it does not make the secrets a first start would.
    let generates = dev_mode && server::would_generate_dev_secrets(&database);
    let config = match (!generates).then(|| server::config_from_env(dev_mode, &database)) {
        None => {
            findings.push(Finding::Note(format!(
                "development mode: secrets will be generated into {} on the first start",
                server::dev_secrets_path(&database).display()
            )));
            None
        }
        Some(Ok(config)) => {
            findings.push(Finding::Good(format!(
                "configuration is complete (overlay at {})",
                config.app_url
            )));
            Some(config)
        }
        Some(Err(e)) => {
            findings.push(Finding::Missing(format!("configuration: {e}")));
            None
        }
    };
    match config.as_ref().map(livekit_egress) {
        Some(Ok(Some(livekit))) => findings.push(match livekit.list_active().await {
            Ok(egresses) => Finding::Good(format!(
                "LiveKit answers ({} active egresses)",
                egresses.len()
            )),
            Err(e) => Finding::Missing(format!("LiveKit does not answer: {e}")),
        }),
        Some(Ok(None)) => findings.push(Finding::Note(
            "LiveKit egress is not in use (LIVEKIT_URL unset or LTCG_EGRESS names another)".into(),
        )),
        Some(Err(e)) => findings.push(Finding::Missing(format!("LiveKit: {e}"))),
        None => {}
    }
    let mut failed = false;
    for finding in &findings {
        match finding {
            Finding::Good(what) => println!("ok       {what}"),
            Finding::Note(what) => println!("note     {what}"),
            Finding::Missing(what) => {
                failed = true;
                println!("MISSING  {what}");
            }
        }
    }
    if failed {
        println!("some checks failed");
        ExitCode::FAILURE
    } else {
        println!("all checks passed");
        ExitCode::SUCCESS
    }
}
