//! An AI agent streams a game: start, observe, record decisions and events, stop.
//!
//! ```sh
//! cargo run -p ltcg-streaming-examples --bin agent_stream -- [DB_PATH]
//! ```
//!
//! Sessions are kept in a SQLite file (default `agent_stream.db` in the temp directory).
//! With `LIVEKIT_URL`, `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` set (and the
//! `STREAM_KEY_ENCRYPTION_KEY`, `STREAMING_JWT_SECRET`, `NEXT_PUBLIC_APP_URL` of your app)
//! it drives real LiveKit web egress to `RTMP_URL` / `STREAM_KEY`; otherwise it uses the
//! in-process egress, which renders nothing, and plays LiveKit's part itself.

use std::sync::Arc;
use std::time::Duration;

use ltcg_streaming_core::egress::{EgressBackend, LiveKitEgress, LiveKitEgressOptions};
use ltcg_streaming_core::service::{
    DecisionInput, EventInput, StartStreamRequest, StopStreamRequest,
};
use ltcg_streaming_core::store::SqliteStore;
use ltcg_streaming_core::{
    Actor, ConfigMode, EgressStatus, KeyVault, MemoryEgress, Platform, SecretString, SessionStatus,
    StreamingConfig, StreamingService,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("agent_stream.db"));
    let config = match StreamingConfig::from_env_in(ConfigMode::Development) {
        Ok(config) => config,
        Err(_) => {
            println!("(no STREAM_KEY_ENCRYPTION_KEY / STREAMING_JWT_SECRET in the environment: using demo secrets)");
            StreamingConfig::new(&"5a".repeat(32), "demo-overlay-secret-change-me-0123456789")?
        }
    };
    let store = Arc::new(SqliteStore::open(&db).await?);
    let vault: Arc<dyn KeyVault> = Arc::new(config.vault()?);
    let memory = Arc::new(MemoryEgress::new());
    let egress: Arc<dyn EgressBackend> = match &config.livekit {
        Some(livekit) => Arc::new(LiveKitEgress::new(LiveKitEgressOptions::from(livekit))?),
        None => memory.clone(),
    };
    let using_livekit = config.livekit.is_some();
    let service = StreamingService::new(config, store, egress, vault)?;
    println!("store: {}", db.display());

    let agent = Actor::agent("agent_blaze")?;
    let started = service
        .start_stream(
            &agent,
            StartStreamRequest {
                platform: Some(Platform::Custom),
                stream_key: Some(SecretString::from(
                    std::env::var("STREAM_KEY").unwrap_or_else(|_| "demo-key".into()),
                )),
                custom_rtmp_url: Some(
                    std::env::var("RTMP_URL")
                        .unwrap_or_else(|_| "rtmp://127.0.0.1:1935/live".into())
                        .into(),
                ),
                stream_title: Some("BlazeMaster plays LTCG".into()),
                entity_name: Some("BlazeMaster".into()),
                lobby_id: Some("lobby_456".into()),
                ..StartStreamRequest::default()
            },
        )
        .await?;
    println!(
        "started {} ({}): {}",
        started.session_id, started.status, started.message
    );

    // Observe: LiveKit's webhooks (or the reconciler) move the session to `live`.
    if !using_livekit {
        for egress in memory.list_active().await? {
            memory.set_status(&egress.egress_id, EgressStatus::Active)?;
        }
    }
    for _ in 0..30 {
        service.reconcile(&Actor::Internal).await?;
        let status = service.get_status(&agent, &started.session_id).await?;
        if status.status != SessionStatus::Pending && status.status != SessionStatus::Initializing {
            println!("status: {}", status.status);
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    for turn in 1..=3 {
        service
            .record_decision(
                &agent,
                DecisionInput {
                    game_id: "game_1".into(),
                    turn_number: turn,
                    phase: "main".into(),
                    action: "attack".into(),
                    reasoning: format!(
                        "Turn {turn}: the opponent's defence is down, press the advantage."
                    ),
                    ..DecisionInput::default()
                },
            )
            .await?;
        service
            .record_event(
                &agent,
                EventInput {
                    game_id: "game_1".into(),
                    lobby_id: Some("lobby_456".into()),
                    turn_number: turn,
                    event_type: "agent_decided".into(),
                    description: format!("BlazeMaster attacked on turn {turn}"),
                    ..EventInput::default()
                },
            )
            .await?;
    }
    service
        .update_viewer_count(&agent, &started.session_id, 42)
        .await?;
    let status = service.get_status(&agent, &started.session_id).await?;
    println!(
        "{}: {} decisions, {} events, {} viewers, {} ms on air",
        status.status,
        status.decisions_logged,
        status.events_recorded,
        status.viewer_count,
        status.duration
    );

    let stopped = service
        .stop_stream(
            &agent,
            StopStreamRequest {
                session_id: Some(started.session_id),
                ..Default::default()
            },
        )
        .await?;
    println!("stopped: {}", serde_json::to_string(&stopped.stats)?);
    Ok(())
}
