//! Dry runs: a Twitch test stream (`?bandwidthtest=true` on the key) that the session
//! records; platforms without a test mode are refused naming `dryRun`, with nothing written.

use ltcg_streaming_core::service::{
    DestinationInput, ListSessionsRequest, StartStreamRequest, UpdateDestinationsRequest,
};
use ltcg_streaming_core::session::DestinationStatus;
use ltcg_streaming_core::{Actor, ErrorCode, KeyVault, Platform};
use ltcg_streaming_test_support::harness::{agent_start, expect_code, Harness, TWITCH_KEY};

fn dry(mut req: StartStreamRequest) -> StartStreamRequest {
    req.dry_run = true;
    req
}

/// The full URLs the session streams to (decrypted as the egress receives them).
async fn sent_to(h: &Harness, id: &ltcg_streaming_core::SessionId) -> Vec<String> {
    let session = h.store.get_session(id).await.unwrap().unwrap();
    let mut urls = Vec::new();
    for d in session
        .destinations
        .iter()
        .filter(|d| d.status == DestinationStatus::Active)
    {
        urls.push(
            h.vault
                .decrypt(&d.encrypted_url)
                .await
                .unwrap()
                .expose_secret()
                .to_owned(),
        );
    }
    urls
}

fn output(platform: Platform, key: &str) -> DestinationInput {
    serde_json::from_value(serde_json::json!({"platform": platform, "streamKey": key})).unwrap()
}

#[tokio::test]
async fn a_twitch_dry_run_streams_to_the_bandwidth_test_and_is_recorded() {
    let h = Harness::new();
    let started = h
        .service
        .start_stream(&Actor::Internal, dry(agent_start("agent_dry")))
        .await
        .unwrap();
    assert_eq!(
        sent_to(&h, &started.session_id).await,
        vec![format!(
            "rtmps://live.twitch.tv/app/{TWITCH_KEY}?bandwidthtest=true"
        )]
    );
    let egress = h.egress_of(&started.session_id).await;
    assert_eq!(
        h.egress.outputs(&egress),
        vec!["rtmps://live.twitch.tv/app/{liv...nop}?{...}".to_owned()],
        "the egress got the test stream"
    );
    let view = h
        .service
        .get_status(&Actor::Internal, &started.session_id)
        .await
        .unwrap();
    assert!(view.dry_run);
    let shown = serde_json::to_string(&view).unwrap();
    assert!(shown.contains("\"dryRun\":true"), "{shown}");
    assert!(!shown.contains(TWITCH_KEY), "the key stays hidden: {shown}");
    let stored = h
        .store
        .get_session(&started.session_id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.dry_run, "the store keeps it");
}

#[tokio::test]
async fn a_normal_start_is_not_a_dry_run() {
    let h = Harness::new();
    let started = h
        .service
        .start_stream(&Actor::Internal, agent_start("agent_real"))
        .await
        .unwrap();
    assert_eq!(
        sent_to(&h, &started.session_id).await,
        vec![format!("rtmps://live.twitch.tv/app/{TWITCH_KEY}")]
    );
    let view = h
        .service
        .get_status(&Actor::Internal, &started.session_id)
        .await
        .unwrap();
    assert!(!view.dry_run);
}

#[tokio::test]
async fn platforms_without_a_test_mode_are_refused_and_nothing_is_written() {
    let h = Harness::new();
    let mut kick = agent_start("agent_kick");
    kick.platform = Some(Platform::Kick);
    let err = expect_code(
        h.service.start_stream(&Actor::Internal, dry(kick)).await,
        ErrorCode::InvalidInput,
    );
    assert!(err.to_string().contains("dryRun"), "{err}");
    assert!(err.to_string().contains("kick"), "{err}");

    // A Twitch primary with a YouTube simulcast: the YouTube output has no test mode.
    let mut mixed = agent_start("agent_mixed");
    mixed.destinations = vec![output(Platform::Youtube, "yt-key-0001")];
    let err = expect_code(
        h.service.start_stream(&Actor::Internal, dry(mixed)).await,
        ErrorCode::InvalidInput,
    );
    assert!(err.to_string().contains("dryRun"), "{err}");

    let listed = h
        .service
        .list_sessions(&Actor::Internal, ListSessionsRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.count, 0, "no session was written");
    assert_eq!(h.egress.started(), 0, "no egress was started");
}

#[tokio::test]
async fn outputs_added_to_a_dry_run_are_test_streams_too() {
    let h = Harness::new();
    let started = h
        .service
        .start_stream(&Actor::Internal, dry(agent_start("agent_add")))
        .await
        .unwrap();
    let egress = h.egress_of(&started.session_id).await;
    h.go_live(&started.session_id).await;
    let second = "live_987654321_zyxwvutsrqponmlk";
    let mut add = output(Platform::Twitch, second);
    add.custom_rtmp_url = Some("rtmps://live-fra.twitch.tv/app".into());
    h.service
        .update_destinations(
            &Actor::Internal,
            UpdateDestinationsRequest {
                session_id: started.session_id.clone(),
                add: vec![add],
                remove: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert!(sent_to(&h, &started.session_id).await.contains(&format!(
        "rtmps://live-fra.twitch.tv/app/{second}?bandwidthtest=true"
    )));
    assert_eq!(h.egress.outputs(&egress).len(), 2, "the egress got it");

    let before = h
        .store
        .get_session(&started.session_id)
        .await
        .unwrap()
        .unwrap();
    let err = expect_code(
        h.service
            .update_destinations(
                &Actor::Internal,
                UpdateDestinationsRequest {
                    session_id: started.session_id.clone(),
                    add: vec![output(Platform::Kick, "sk_us-west-2_abcdef")],
                    remove: Vec::new(),
                },
            )
            .await,
        ErrorCode::InvalidInput,
    );
    assert!(err.to_string().contains("dryRun"), "{err}");
    let after = h
        .store
        .get_session(&started.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.destinations, after.destinations, "nothing changed");
}
