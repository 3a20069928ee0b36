//! Nothing secret reaches the log, even at TRACE with every crate's events on: the platforms'
//! client secrets, API key and app tokens, Retake access tokens and the stream keys Retake
//! hands out, through successes, token refreshes, refusals, rate limits, malformed answers
//! and Retake failures that quote the token back.

use std::sync::Arc;
use std::time::Duration;

use ltcg_streaming_core::retake::RetakeApi;
use ltcg_streaming_core::service::StartStreamRequest;
use ltcg_streaming_core::viewers::{
    AppCredentials, KickViewerCounts, TwitchViewerCounts, ViewerCounts, YoutubeViewerCounts,
};
use ltcg_streaming_core::{Actor, SecretString};
use ltcg_streaming_test_support::harness::Harness;
use ltcg_streaming_test_support::logs::Captured;
use ltcg_streaming_test_support::platform_apis::*;
use serde_json::json;

const RETAKE_TOKEN: &str = "rtk_log_secret_token_0123";
const RETAKE_FAILING: &str = "rtk_log_failing_token_4567";
const RETAKE_STREAM_KEY: &str = "sk_log_retake_handed_out_89";

fn credentials() -> AppCredentials {
    AppCredentials {
        client_id: FAKE_CLIENT_ID.into(),
        client_secret: SecretString::from(FAKE_CLIENT_SECRET),
    }
}

#[test]
fn no_secret_reaches_the_trace_level_log() {
    let (subscriber, captured) = Captured::subscriber();
    let mut debug_output = String::new();
    tracing::subscriber::with_default(subscriber, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let fake = FakePlatforms::start().await;
            fake.set_live(Api::Twitch, "blaze", Some(3));
            fake.set_live(Api::Youtube, "dQw4w9WgXcQ", Some(4));
            fake.set_live(Api::Kick, "blaze", Some(5));
            let timeout = Duration::from_millis(500);
            let twitch =
                TwitchViewerCounts::with_bases(credentials(), &fake.base, &fake.base, timeout)
                    .unwrap();
            let youtube = YoutubeViewerCounts::with_base(
                SecretString::from(FAKE_YOUTUBE_KEY),
                &fake.base,
                timeout,
            )
            .unwrap();
            let kick =
                KickViewerCounts::with_bases(credentials(), &fake.base, &fake.base, timeout)
                    .unwrap();
            let channels = ["blaze".to_owned()];
            twitch.fetch(&channels).await.unwrap();
            youtube.fetch(&["dQw4w9WgXcQ".to_owned()]).await.unwrap();
            kick.fetch(&channels).await.unwrap();
            // A stale token (refetched), refusals, rate limits and malformed answers.
            fake.revoke_token();
            twitch.fetch(&channels).await.unwrap();
            for mode in [Mode::RejectTokens, Mode::RateLimited(30), Mode::Malformed] {
                fake.set_mode(Api::Twitch, mode);
                fake.set_mode(Api::Kick, mode);
                fake.set_mode(Api::Youtube, mode);
                let failures = [
                    twitch.fetch(&channels).await.unwrap_err().to_string(),
                    kick.fetch(&channels).await.unwrap_err().to_string(),
                    youtube
                        .fetch(&["dQw4w9WgXcQ".to_owned()])
                        .await
                        .unwrap_err()
                        .to_string(),
                ];
                tracing::warn!(?failures, "platform failures");
            }
            debug_output = format!("{twitch:?} {youtube:?} {kick:?}");

            // Retake through the service: a failing token quoted back, then a working one.
            let mut failing = RetakeAccount::answering(json!({}));
            failing.start_failure = Some((403, format!("token {RETAKE_FAILING} is banned")));
            fake.retake_account(RETAKE_FAILING, failing);
            fake.retake_account(
                RETAKE_TOKEN,
                RetakeAccount::answering(
                    json!({"data": {"rtmpUrl": "rtmps://global-live.mux.com:443/app", "streamKey": RETAKE_STREAM_KEY}}),
                ),
            );
            let api = RetakeApi::new(&fake.base, timeout)
                .unwrap()
                .with_operator_tokens(vec![SecretString::from(RETAKE_TOKEN)]);
            debug_output.push_str(&format!(" {api:?}"));
            let h = Harness::with_options(|o| o.retake = Some(Arc::new(api)));
            let req: StartStreamRequest = serde_json::from_value(json!({
                "agentId": "agent_logged", "platform": "retake",
                "retakeAccessToken": RETAKE_FAILING,
            }))
            .unwrap();
            let started = h.service.start_stream(&Actor::Internal, req).await.unwrap();
            h.go_live(&started.session_id).await;
            fake.set_retake_live(RETAKE_TOKEN, true, Some(12));
            h.service
                .poll_viewer_counts(&Actor::Internal)
                .await
                .unwrap();
            h.stop(&Actor::Internal, &started.session_id).await.unwrap();
            assert_eq!(
                fake.retake_calls().last().map(|(p, _)| p.as_str()),
                Some("/api/agent/stream/stop")
            );
        });
    });
    let log = captured.text();
    assert!(
        log.contains("TRACE") && log.contains("DEBUG"),
        "the log was captured at TRACE"
    );
    assert!(
        log.contains("a Retake access token did not resolve a destination"),
        "our own events are in it"
    );
    for secret in [
        FAKE_CLIENT_SECRET,
        FAKE_YOUTUBE_KEY,
        "faketoken",
        RETAKE_TOKEN,
        RETAKE_FAILING,
        RETAKE_STREAM_KEY,
    ] {
        assert!(!log.contains(secret), "the log holds {secret}");
        assert!(!debug_output.contains(secret), "Debug shows {secret}");
    }
    let artifacts = ltcg_streaming_test_support::media::artifacts_dir("platform-logs");
    std::fs::write(artifacts.join("trace.log"), &log).unwrap();
}
