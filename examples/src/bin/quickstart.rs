//! A first tour of the core: build an ingest URL, encrypt its key for storage, mint an
//! overlay token, and walk a session through its lifecycle with the pure state machine.
//!
//! Run with `cargo run -p ltcg-streaming-examples --bin quickstart`.

use ltcg_streaming_core::session::{NewSession, SessionEvent};
use ltcg_streaming_core::{
    build_rtmp_url, estimate_cost, transition, AesGcmVault, EgressStatus, Entity, OverlayConfig,
    OverlayTokens, Platform, StreamSession, StreamType,
};

fn main() -> ltcg_streaming_core::Result<()> {
    // 1. Where the stream goes. The URL holds the key, so it prints redacted.
    let url = build_rtmp_url(Platform::Twitch, "live_123456789_abcdefghijklmnop", None)?;
    println!("ingest: {url}");

    // 2. Stream keys are stored encrypted, in the product's format.
    let vault = AesGcmVault::from_hex(&"42".repeat(32))?;
    let stored = vault.encrypt_key("live_123456789_abcdefghijklmnop")?;
    println!("stored key: {}…", &stored[..16]);

    // 3. A session, and the overlay URL the egress's browser opens.
    let session = StreamSession::create(
        NewSession {
            entity: Entity::agent("agent_7")?,
            entity_name: None,
            entity_avatar_url: None,
            platform: Platform::Twitch,
            stream_title: "AI Agent Playing LTCG".into(),
            overlay_config: OverlayConfig::default_for(StreamType::Agent),
            lobby_id: None,
            destinations: Vec::new(),
            dry_run: false,
        },
        1_767_225_600_000,
    )?;
    let tokens = OverlayTokens::new("change-me-to-a-long-random-secret")?;
    let token = tokens.issue(session.id.as_str(), StreamType::Agent, "agent_7")?;
    println!(
        "overlay: http://localhost:3334/stream/overlay?sessionId={}&token={}…",
        session.id,
        &token[..20]
    );

    // 4. The lifecycle, as LiveKit reports it.
    let t0 = session.created_at;
    let events = [
        SessionEvent::EgressStarted {
            egress_id: "EG_demo".into(),
        },
        SessionEvent::Egress {
            egress_id: "EG_demo".into(),
            status: EgressStatus::Active,
            error: None,
        },
        SessionEvent::Stop {
            reason: "manual".into(),
        },
    ];
    let mut current = session;
    for (i, event) in events.iter().enumerate() {
        let step = transition(&current, event, t0 + 30_000 * (i as i64 + 1));
        current = step.session;
        println!("{event:?} -> {}", current.status);
    }
    if let Some(stats) = current.stats {
        println!("on air for {} s", stats.duration / 1000);
    }

    // 5. What an hour costs on LiveKit Cloud.
    println!(
        "1 h at 3 Mbps ≈ ${:.3}",
        estimate_cost(1.0, 1, 3.0)?.total_usd
    );
    Ok(())
}
