//! Retake.tv destinations against a local Retake API that checks what Retake checks: the
//! go-live signal before the credentials, every field-name variant of the credentials,
//! candidate tokens in order (the operator's only for internal callers), the URL and key
//! given as the fallback, the product's messages without secrets, the stop signal (once,
//! also for a start that failed), and Retake's viewer count in the viewer pass.

use std::sync::Arc;
use std::time::Duration;

use ltcg_streaming_core::retake::RetakeApi;
use ltcg_streaming_core::service::StartStreamRequest;
use ltcg_streaming_core::{Actor, ErrorCode, KeyVault, SecretString, SessionId};
use ltcg_streaming_test_support::harness::{agent_start, expect_code, Harness};
use ltcg_streaming_test_support::platform_apis::{FakePlatforms, RetakeAccount};
use serde_json::{json, Value};

const OPERATOR_TOKEN: &str = "rtk_operator_0123456789";
const START: &str = "/api/agent/stream/start";
const RTMP: &str = "/api/agent/rtmp";
const STOP: &str = "/api/agent/stream/stop";

async fn rig() -> (Harness, FakePlatforms) {
    let fake = FakePlatforms::start().await;
    let api = RetakeApi::new(&fake.base, Duration::from_secs(2))
        .unwrap()
        .with_operator_tokens(vec![SecretString::from(OPERATOR_TOKEN)]);
    let h = Harness::with_options(|o| o.retake = Some(Arc::new(api)));
    (h, fake)
}

/// An agent start to Retake with the extra fields of `body`.
fn retake_start(agent: &str, body: Value) -> StartStreamRequest {
    let mut req = json!({"agentId": agent, "platform": "retake"});
    req.as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    serde_json::from_value(req).unwrap()
}

/// The primary output's full URL and whether a token is kept with it.
async fn primary_output(h: &Harness, id: &SessionId) -> (String, bool) {
    let session = h.store.get_session(id).await.unwrap().unwrap();
    let d = session.destinations.iter().find(|d| d.primary).unwrap();
    let url = h.vault.decrypt(&d.encrypted_url).await.unwrap();
    (
        url.expose_secret().to_owned(),
        d.encrypted_access_token.is_some(),
    )
}

fn calls_with(fake: &FakePlatforms, token: &str) -> Vec<String> {
    fake.retake_calls()
        .into_iter()
        .filter(|(_, t)| t == token)
        .map(|(path, _)| path)
        .collect()
}

#[tokio::test]
async fn the_go_live_signal_comes_before_the_credentials_in_every_field_name_variant() {
    let (h, fake) = rig().await;
    let variants = [
        json!({"url": "rtmps://global-live.mux.com:443/app", "key": "k-top-1"}),
        json!({"rtmp_url": "rtmps://global-live.mux.com:443/app", "stream_key": "k-snake-2"}),
        json!({"rtmpUrl": "rtmps://global-live.mux.com:443/app", "streamKey": "k-camel-3"}),
        json!({"data": {"url": "rtmps://global-live.mux.com:443/app", "key": "k-data-4"}}),
        json!({"data": {"rtmp_url": "rtmps://global-live.mux.com:443/app", "streamKey": "k-mixed-5"}}),
        json!({"url": " ", "rtmpUrl": "rtmps://global-live.mux.com:443/app", "data": {"stream_key": "k-under-6"}}),
    ];
    for (i, answer) in variants.into_iter().enumerate() {
        let token = format!("rtk_agent_{i}_abcdefgh");
        fake.retake_account(&token, RetakeAccount::answering(answer.clone()));
        let started = h
            .service
            .start_stream(
                &Actor::agent(&format!("agent_v{i}")).unwrap(),
                retake_start(&format!("agent_v{i}"), json!({"retakeAccessToken": token})),
            )
            .await
            .unwrap_or_else(|e| panic!("variant {answer}: {e}"));
        let (url, kept) = primary_output(&h, &started.session_id).await;
        let key = ["key", "stream_key", "streamKey"]
            .iter()
            .find_map(|k| answer.get(k).or_else(|| answer["data"].get(k)))
            .and_then(Value::as_str)
            .unwrap();
        assert_eq!(url, format!("rtmps://global-live.mux.com:443/app/{key}"));
        assert!(kept, "the token is kept to signal stop with");
        assert_eq!(
            calls_with(&fake, &token),
            [START, RTMP],
            "start before rtmp"
        );
    }
}

#[tokio::test]
async fn candidate_tokens_are_tried_in_order_with_the_operators_only_for_internal_callers() {
    let (h, fake) = rig().await;
    let answer = json!({"url": "rtmps://global-live.mux.com:443/app", "key": "sk-operator"});
    fake.retake_account(OPERATOR_TOKEN, RetakeAccount::answering(answer));

    // Internal: the caller's token (unknown to Retake) first, then the operator's.
    let started = h
        .service
        .start_stream(
            &Actor::Internal,
            retake_start(
                "agent_internal",
                json!({"retakeAccessToken": "rtk_unknown_1"}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        fake.retake_calls()
            .iter()
            .map(|(p, t)| format!("{p} {t}"))
            .collect::<Vec<_>>(),
        [
            format!("{START} rtk_unknown_1"),
            format!("{START} {OPERATOR_TOKEN}"),
            format!("{RTMP} {OPERATOR_TOKEN}"),
        ]
    );
    let (url, _) = primary_output(&h, &started.session_id).await;
    assert!(url.ends_with("/app/sk-operator"), "{url}");

    // An agent never gets the operator's token.
    let agent = Actor::agent("agent_outside").unwrap();
    let before = fake.retake_calls().len();
    let err = expect_code(
        h.service
            .start_stream(
                &agent,
                retake_start(
                    "agent_outside",
                    json!({"retakeAccessToken": "rtk_unknown_2"}),
                ),
            )
            .await,
        ErrorCode::Egress,
    );
    let text = err.to_string();
    assert!(
        text.contains(
            "Failed to resolve Retake stream destination: Failed to start Retake.tv stream: "
        ) && text.contains("Invalid access token"),
        "{text}"
    );
    assert!(!text.contains("rtk_unknown_2"), "{text}");
    let tried: Vec<_> = fake.retake_calls()[before..].to_vec();
    assert_eq!(tried, [(START.to_owned(), "rtk_unknown_2".to_owned())]);
    let listed = h
        .service
        .list_sessions(&agent, Default::default())
        .await
        .unwrap();
    assert_eq!(listed.count, 0, "nothing written");

    // The stream key is a candidate when no URL is given.
    fake.retake_account(
        "rtk_as_key_3",
        RetakeAccount::answering(
            json!({"url": "rtmps://global-live.mux.com:443/app", "key": "sk-3"}),
        ),
    );
    let started = h
        .service
        .start_stream(
            &Actor::agent("agent_keyed").unwrap(),
            retake_start("agent_keyed", json!({"streamKey": "rtk_as_key_3"})),
        )
        .await
        .unwrap();
    let (url, kept) = primary_output(&h, &started.session_id).await;
    assert!(url.ends_with("/app/sk-3") && kept, "{url}");

    // Every candidate failed, but a URL and key were given: they are the destination.
    let started = h
        .service
        .start_stream(
            &Actor::agent("agent_fallback").unwrap(),
            retake_start(
                "agent_fallback",
                json!({"retakeAccessToken": "rtk_unknown_4", "streamKey": "sk-given",
                       "customRtmpUrl": "rtmps://global-live.mux.com:443/app"}),
            ),
        )
        .await
        .unwrap();
    let (url, kept) = primary_output(&h, &started.session_id).await;
    assert_eq!(url, "rtmps://global-live.mux.com:443/app/sk-given");
    assert!(!kept, "no token worked, none is kept");

    // Nothing to try and nothing given.
    let err = expect_code(
        h.service
            .start_stream(
                &Actor::agent("agent_empty").unwrap(),
                retake_start("agent_empty", json!({})),
            )
            .await,
        ErrorCode::InvalidInput,
    );
    assert!(
        err.to_string()
            .contains("retakeAccessToken: Retake stream destination is missing credentials"),
        "{err}"
    );
}

#[tokio::test]
async fn retake_failures_carry_the_products_messages_without_secrets() {
    let (h, fake) = rig().await;
    let token = "rtk_secret_failing_5";
    let mut failing = RetakeAccount::answering(json!({}));
    failing.start_failure = Some((
        500,
        format!("upstream broke for {token} at rtmps://ingest.retake.tv/live/sk_leaked_0123456789"),
    ));
    fake.retake_account(token, failing);
    let err = expect_code(
        h.service
            .start_stream(
                &Actor::agent("agent_f").unwrap(),
                retake_start("agent_f", json!({"retakeAccessToken": token})),
            )
            .await,
        ErrorCode::Egress,
    );
    let text = err.to_string();
    assert!(
        text.contains("Failed to start Retake.tv stream: upstream broke"),
        "{text}"
    );
    assert!(
        !text.contains(token) && !text.contains("sk_leaked_0123456789"),
        "{text}"
    );

    let token = "rtk_no_fields_6";
    fake.retake_account(
        token,
        RetakeAccount::answering(json!({"data": {"url": "rtmps://x.example/app"}})),
    );
    let err = expect_code(
        h.service
            .start_stream(
                &Actor::agent("agent_g").unwrap(),
                retake_start("agent_g", json!({"retakeAccessToken": token})),
            )
            .await,
        ErrorCode::Egress,
    );
    assert!(
        err.to_string().contains(
            "Failed to resolve Retake stream destination: Retake.tv RTMP credentials response missing url/key"
        ),
        "{err}"
    );
    // The go-live signal of that failed start was undone.
    assert_eq!(calls_with(&fake, token), [START, RTMP, STOP]);
}

#[tokio::test]
async fn the_end_of_a_stream_signals_retake_to_stop_once() {
    let (h, fake) = rig().await;
    let token = "rtk_stop_7_abcdefgh";
    fake.retake_account(
        token,
        RetakeAccount::answering(
            json!({"url": "rtmps://global-live.mux.com:443/app", "key": "sk-7"}),
        ),
    );
    let agent = Actor::agent("agent_stop").unwrap();
    let started = h
        .service
        .start_stream(
            &agent,
            retake_start("agent_stop", json!({"retakeAccessToken": token})),
        )
        .await
        .unwrap();
    assert!(fake.retake(token).unwrap().started);
    h.stop(&agent, &started.session_id).await.unwrap();
    assert_eq!(calls_with(&fake, token), [START, RTMP, STOP]);
    assert!(!fake.retake(token).unwrap().started);
    // Stopping again changes nothing and signals nothing.
    let _ = h.stop(&agent, &started.session_id).await;
    assert_eq!(calls_with(&fake, token).len(), 3);
}

#[tokio::test]
async fn retakes_viewer_count_feeds_the_viewer_pass() {
    let (h, fake) = rig().await;
    let token = "rtk_viewers_8_abcdef";
    fake.retake_account(
        token,
        RetakeAccount::answering(
            json!({"url": "rtmps://global-live.mux.com:443/app", "key": "sk-8"}),
        ),
    );
    let started = h
        .service
        .start_stream(
            &Actor::Internal,
            retake_start("agent_count", json!({"retakeAccessToken": token})),
        )
        .await
        .unwrap();
    let id = started.session_id;
    h.go_live(&id).await;
    fake.set_retake_live(token, true, Some(33));
    let report = h
        .service
        .poll_viewer_counts(&Actor::Internal)
        .await
        .unwrap();
    assert_eq!(report.updated, std::slice::from_ref(&id), "{report:?}");
    let view = h.service.get_status(&Actor::Internal, &id).await.unwrap();
    assert_eq!((view.viewer_count, view.peak_viewer_count), (33, 33));
    let samples = h.store.viewer_samples(&id, 10).await.unwrap();
    assert_eq!(samples.iter().map(|s| s.viewers).collect::<Vec<_>>(), [33]);

    // Retake says not live, long after the stream went live: a warning, no viewers.
    fake.set_retake_live(token, false, None);
    h.clock.advance_ms(120_000);
    h.service
        .poll_viewer_counts(&Actor::Internal)
        .await
        .unwrap();
    let view = h.service.get_status(&Actor::Internal, &id).await.unwrap();
    assert_eq!(view.viewer_count, 0);
    let warning = view.destinations[0].warning.clone().unwrap();
    assert!(
        warning.starts_with("retake says the stream is not live"),
        "{warning}"
    );
    assert!(!warning.contains(token));
}

#[tokio::test]
async fn a_start_refused_after_the_go_live_signal_signals_stop() {
    let (h, fake) = rig().await;
    let token = "rtk_refused_9_abcdef";
    fake.retake_account(
        token,
        RetakeAccount::answering(
            json!({"url": "rtmps://global-live.mux.com:443/app", "key": "sk-9"}),
        ),
    );
    // The agent already streams to Twitch: a Retake start is a conflict, found only after
    // Retake handed out its credentials.
    h.service
        .start_stream(&Actor::Internal, agent_start("agent_busy"))
        .await
        .unwrap();
    expect_code(
        h.service
            .start_stream(
                &Actor::Internal,
                retake_start("agent_busy", json!({"retakeAccessToken": token})),
            )
            .await,
        ErrorCode::Conflict,
    );
    assert_eq!(calls_with(&fake, token), [START, RTMP, STOP]);
    assert!(!fake.retake(token).unwrap().started);
}

#[tokio::test]
async fn a_retake_dry_run_is_refused_and_its_go_live_signal_taken_back() {
    let (h, fake) = rig().await;
    let token = "rtk_dry_10_abcdefgh";
    fake.retake_account(
        token,
        RetakeAccount::answering(
            json!({"url": "rtmps://global-live.mux.com:443/app", "key": "sk-10"}),
        ),
    );
    let err = expect_code(
        h.service
            .start_stream(
                &Actor::Internal,
                retake_start(
                    "agent_dry",
                    json!({"retakeAccessToken": token, "dryRun": true}),
                ),
            )
            .await,
        ErrorCode::InvalidInput,
    );
    assert!(err.to_string().contains("dryRun"), "{err}");
    assert_eq!(calls_with(&fake, token), [START, RTMP, STOP]);
}

#[tokio::test]
async fn a_stored_retake_token_needs_no_url_and_resolves_at_start() {
    let (h, fake) = rig().await;
    let token = "rtk_stored_11_abcdef";
    fake.retake_account(
        token,
        RetakeAccount::answering(
            json!({"rtmp_url": "rtmps://global-live.mux.com:443/app", "stream_key": "sk-11"}),
        ),
    );
    let agent = Actor::agent("agent_stored").unwrap();
    let configure = serde_json::from_value(
        json!({"agentId": "agent_stored", "platform": "retake", "streamKey": token}),
    )
    .unwrap();
    h.service
        .configure_platform(&agent, configure)
        .await
        .unwrap();
    let started = h
        .service
        .start_stream(
            &agent,
            retake_start("agent_stored", json!({"useStoredCredentials": true})),
        )
        .await
        .unwrap();
    let (url, kept) = primary_output(&h, &started.session_id).await;
    assert_eq!(url, "rtmps://global-live.mux.com:443/app/sk-11");
    assert!(kept);
    assert_eq!(calls_with(&fake, token), [START, RTMP]);
}
