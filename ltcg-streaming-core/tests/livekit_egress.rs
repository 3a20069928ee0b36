//! `LiveKitEgress` against an in-process LiveKit Twirp server that decodes the real
//! `livekit_protocol` messages and checks the bearer token (`ltcg_streaming_test_support::livekit_twirp`).
#![cfg(feature = "livekit")]

use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use livekit_protocol as proto;
use ltcg_streaming_core::config::LiveKitConfig;
use ltcg_streaming_core::egress::{
    EgressBackend, EgressRequest, EncodingPreset, EncodingSettings, LiveKitEgress,
    LiveKitEgressOptions,
};
use ltcg_streaming_core::session::SessionId;
use ltcg_streaming_core::{EgressStatus, Error, ErrorCode, SecretString};
use ltcg_streaming_test_support::livekit_twirp::{FakeLiveKit, ProtoEgressStatus, TwirpMethod};

const TWITCH_KEY: &str = "live_123456789_abcdefghijklmnop";
const YOUTUBE_KEY: &str = "abcd-efgh-ijkl-mnop-qrst";
const PAGE_TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzZXNzaW9uSWQiOiJzMSJ9.cGFnZS10b2tlbi1zaWc";

fn twitch_url() -> String {
    format!("rtmps://live.twitch.tv/app/{TWITCH_KEY}")
}

fn youtube_url() -> String {
    format!("rtmps://a.rtmps.youtube.com:443/live2/{YOUTUBE_KEY}")
}

fn page_url(session_id: &SessionId) -> String {
    format!("https://app.test/stream/overlay?sessionId={session_id}&token={PAGE_TOKEN}")
}

fn request_with(outputs: &[String], encoding: EncodingSettings) -> EgressRequest {
    let session_id = SessionId::generate();
    EgressRequest {
        page_url: SecretString::from(page_url(&session_id)),
        title: "Test stream".into(),
        session_id,
        outputs: outputs
            .iter()
            .map(|u| SecretString::from(u.as_str()))
            .collect(),
        encoding,
        destination_policy: None,
    }
}

fn request() -> EgressRequest {
    request_with(&[twitch_url(), youtube_url()], EncodingSettings::default())
}

fn client_with(fake: &FakeLiveKit, secret: &str, timeout: Duration) -> LiveKitEgress {
    LiveKitEgress::new(
        LiveKitEgressOptions::new(fake.ws_url(), fake.api_key.clone(), secret)
            .with_request_timeout(timeout),
    )
    .expect("valid options")
}

fn client(fake: &FakeLiveKit) -> LiveKitEgress {
    client_with(fake, &fake.api_secret, Duration::from_secs(5))
}

/// `(retryable, message)` of an `Error::Egress`; panics on anything else.
fn egress_error(err: Error) -> (bool, String) {
    match err {
        Error::Egress { retryable, message } => (retryable, message),
        other => panic!("expected an egress error, got {other:?}"),
    }
}

/// Checks that no secret of the request (or the API secret) shows in `text`.
fn assert_no_secrets(text: &str, api_secret: &str) {
    for secret in [
        TWITCH_KEY,
        YOUTUBE_KEY,
        PAGE_TOKEN,
        "eyJzZXNzaW9uSWQiOiJzMSJ9",
        api_secret,
    ] {
        assert!(!text.contains(secret), "{secret:?} leaked in {text:?}");
    }
    assert!(!text.contains(&twitch_url()), "full RTMP URL in {text:?}");
}

fn advanced(request: &proto::WebEgressRequest) -> proto::EncodingOptions {
    match request.options {
        Some(proto::web_egress_request::Options::Advanced(options)) => options,
        ref other => panic!("expected advanced encoding options, got {other:?}"),
    }
}

#[tokio::test]
async fn start_sends_the_web_egress_request_and_returns_the_id() {
    let fake = FakeLiveKit::start().await;
    let egress = client(&fake);
    let request = request();

    let id = egress.start(&request).await.unwrap();

    let sent = fake.start_requests();
    assert_eq!(sent.len(), 1);
    let sent = &sent[0];
    assert_eq!(sent.url, request.page_url.expose_secret());
    assert_eq!(sent.stream_outputs.len(), 1, "one StreamOutput (simulcast)");
    assert_eq!(
        sent.stream_outputs[0].protocol,
        proto::StreamProtocol::Rtmp as i32
    );
    assert_eq!(sent.stream_outputs[0].urls, [twitch_url(), youtube_url()]);
    assert!(sent.file_outputs.is_empty() && sent.segment_outputs.is_empty());
    assert!(
        sent.output.is_none(),
        "the deprecated single output is unused"
    );
    assert!(!sent.await_start_signal);
    assert!(!sent.audio_only && !sent.video_only);
    let options = advanced(sent);
    assert_eq!((options.width, options.height), (1920, 1080));
    assert_eq!(options.framerate, 30);
    assert_eq!(options.key_frame_interval, 2.0);
    assert_eq!(options.video_bitrate, 4500);
    assert_eq!(options.audio_bitrate, 128);
    assert_eq!(options.video_codec, proto::VideoCodec::H264Main as i32);
    assert_eq!(options.audio_codec, proto::AudioCodec::Aac as i32);

    assert!(id.starts_with("EG_"), "{id}");
    assert_eq!(fake.status(&id), Some(ProtoEgressStatus::EgressStarting));
    assert_eq!(fake.output_urls(&id), [twitch_url(), youtube_url()]);
}

#[tokio::test]
async fn a_preset_changes_the_encoding() {
    let fake = FakeLiveKit::start().await;
    let egress = client(&fake);
    let mut encoding = EncodingSettings::preset(EncodingPreset::H264_720P_60);
    encoding.key_frame_interval_secs = 1.0;
    egress
        .start(&request_with(&[twitch_url()], encoding))
        .await
        .unwrap();
    egress
        .start(&request_with(
            &[twitch_url()],
            EncodingSettings::preset(EncodingPreset::PORTRAIT_H264_1080P_30),
        ))
        .await
        .unwrap();

    let sent = fake.start_requests();
    let landscape = advanced(&sent[0]);
    assert_eq!(
        (landscape.width, landscape.height, landscape.framerate),
        (1280, 720, 60)
    );
    assert_eq!(landscape.video_bitrate, 4500);
    assert_eq!(landscape.key_frame_interval, 1.0);
    let portrait = advanced(&sent[1]);
    assert_eq!(
        (portrait.width, portrait.height, portrait.framerate),
        (1080, 1920, 30)
    );
    assert_eq!(portrait.key_frame_interval, 2.0);
}

#[tokio::test]
async fn invalid_requests_are_refused_before_any_call() {
    let fake = FakeLiveKit::start().await;
    let egress = client(&fake);
    let err = egress
        .start(&request_with(&[], EncodingSettings::default()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let bad = EncodingSettings {
        framerate: 0,
        ..EncodingSettings::default()
    };
    let err = egress
        .start(&request_with(&[twitch_url()], bad))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("encoding.framerate"), "{err}");
    assert!(egress.stop("").await.is_err());
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn every_call_carries_a_room_record_token_signed_with_the_secret() {
    let fake = FakeLiveKit::start().await;
    let egress = client(&fake);
    let id = egress.start(&request()).await.unwrap();
    egress
        .update_outputs(&id, &[], &[SecretString::from(youtube_url())])
        .await
        .unwrap();
    egress.list_active().await.unwrap();
    egress.stop(&id).await.unwrap();

    let calls = fake.calls();
    let methods: Vec<_> = calls.iter().map(|c| c.method).collect();
    assert_eq!(
        methods,
        [
            TwirpMethod::StartWebEgress,
            TwirpMethod::UpdateStream,
            TwirpMethod::ListEgress,
            TwirpMethod::StopEgress
        ]
    );
    for call in &calls {
        assert_eq!(call.status, Some(200), "{:?}", call.method);
        assert_eq!(call.content_type.as_deref(), Some("application/protobuf"));
        let token = call.bearer_token().expect("bearer token");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[fake.api_key.as_str()]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(
            token,
            &DecodingKey::from_secret(fake.api_secret.as_bytes()),
            &validation,
        )
        .unwrap_or_else(|e| panic!("{:?}: {e}", call.method))
        .claims;
        assert_eq!(claims["iss"], fake.api_key.as_str());
        assert_eq!(claims["video"]["roomRecord"], true, "{:?}", call.method);
        // Signed with the secret, not with anything else.
        assert!(jsonwebtoken::decode::<serde_json::Value>(
            token,
            &DecodingKey::from_secret(b"another-secret"),
            &validation,
        )
        .is_err());
    }
}

#[tokio::test]
async fn a_wrong_secret_is_rejected_and_not_retryable() {
    let fake = FakeLiveKit::start().await;
    let id = fake.add_egress("https://app.test/x", &[], ProtoEgressStatus::EgressActive);
    let egress = client_with(&fake, "not-the-secret-at-all", Duration::from_secs(5));

    let (retryable, message) = egress_error(egress.start(&request()).await.unwrap_err());
    assert!(!retryable);
    assert!(message.contains("unauthenticated"), "{message}");
    let (retryable, _) = egress_error(egress.list_active().await.unwrap_err());
    assert!(!retryable);
    // An authentication failure is not "already stopped".
    let (retryable, _) = egress_error(egress.stop(&id).await.unwrap_err());
    assert!(!retryable);
    assert_eq!(fake.status(&id), Some(ProtoEgressStatus::EgressActive));
    assert!(fake.calls().iter().all(|c| c.status == Some(401)));
    assert!(fake.egresses().len() == 1, "nothing was started");
}

#[tokio::test]
async fn the_fake_checks_the_token_and_the_grant() {
    let fake = FakeLiveKit::start().await;
    let url = format!("{}/twirp/livekit.Egress/ListEgress", fake.url());
    let body = prost::Message::encode_to_vec(&proto::ListEgressRequest::default());
    // Plain HTTP, but reqwest still wants a TLS configuration; no process-wide provider
    // is installed, so that the library's own clients are tested without one.
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap();
    let post = |auth: Option<String>| {
        let mut builder = http
            .post(&url)
            .header("content-type", "application/protobuf")
            .body(body.clone());
        if let Some(auth) = auth {
            builder = builder.header("authorization", auth);
        }
        builder.send()
    };
    let twirp_code = |text: String| -> String {
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json["code"].as_str().unwrap().to_owned()
    };

    let answer = post(None).await.unwrap();
    assert_eq!(answer.status(), 401);
    assert_eq!(twirp_code(answer.text().await.unwrap()), "unauthenticated");

    let no_grant =
        livekit_api::access_token::AccessToken::with_api_key(&fake.api_key, &fake.api_secret)
            .with_grants(livekit_api::access_token::VideoGrants {
                room_list: true,
                ..Default::default()
            })
            .to_jwt()
            .unwrap();
    let answer = post(Some(format!("Bearer {no_grant}"))).await.unwrap();
    assert_eq!(answer.status(), 403);
    assert_eq!(
        twirp_code(answer.text().await.unwrap()),
        "permission_denied"
    );

    let other_issuer =
        livekit_api::access_token::AccessToken::with_api_key("APIother", &fake.api_secret)
            .with_grants(livekit_api::access_token::VideoGrants {
                room_record: true,
                ..Default::default()
            })
            .to_jwt()
            .unwrap();
    let answer = post(Some(format!("Bearer {other_issuer}"))).await.unwrap();
    assert_eq!(answer.status(), 401);
}

#[tokio::test]
async fn unavailable_on_start_is_one_request_and_retryable() {
    let fake = FakeLiveKit::start().await;
    let egress = client(&fake);
    fake.fail_next(
        TwirpMethod::StartWebEgress,
        "unavailable",
        "no response from servers",
    );

    let (retryable, message) = egress_error(egress.start(&request()).await.unwrap_err());
    assert!(retryable, "an egress may exist");
    assert!(message.contains("unavailable"), "{message}");
    assert!(message.contains("no response from servers"), "{message}");
    // Exactly one attempt: no failover or retry of a non-idempotent start.
    assert_eq!(fake.call_count(TwirpMethod::StartWebEgress), 1);
    assert_eq!(fake.calls()[0].status, Some(503));

    for code in ["internal", "unknown", "deadline_exceeded", "aborted"] {
        fake.fail_next(TwirpMethod::StartWebEgress, code, "boom");
        let (retryable, _) = egress_error(egress.start(&request()).await.unwrap_err());
        assert!(retryable, "{code}");
    }
    assert_eq!(fake.call_count(TwirpMethod::StartWebEgress), 5);
}

#[tokio::test]
async fn client_errors_on_start_are_not_retryable() {
    let fake = FakeLiveKit::start().await;
    let egress = client(&fake);
    for code in [
        "invalid_argument",
        "permission_denied",
        "resource_exhausted",
        "malformed",
        "bad_route",
    ] {
        fake.fail_next(TwirpMethod::StartWebEgress, code, "refused");
        let (retryable, message) = egress_error(egress.start(&request()).await.unwrap_err());
        assert!(!retryable, "{code}");
        assert!(message.contains(code), "{message}");
    }
    // The fake's own validation: an RTMP URL without an application segment.
    let (retryable, message) = egress_error(
        egress
            .start(&request_with(
                &["rtmp://example.com/onlykey".to_owned()],
                EncodingSettings::default(),
            ))
            .await
            .unwrap_err(),
    );
    assert!(!retryable);
    assert!(message.contains("invalid_argument"), "{message}");
    assert!(fake.egresses().is_empty());
}

#[tokio::test]
async fn a_slow_server_times_out_as_retryable() {
    let fake = FakeLiveKit::start().await;
    let egress = client_with(&fake, &fake.api_secret, Duration::from_millis(300));
    fake.set_delay(TwirpMethod::StartWebEgress, Duration::from_secs(3));
    fake.set_delay(TwirpMethod::ListEgress, Duration::from_secs(3));

    let began = Instant::now();
    let (retryable, message) = egress_error(egress.start(&request()).await.unwrap_err());
    assert!(retryable, "a timed-out start may have created an egress");
    assert!(message.contains("timed out"), "{message}");
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(fake.call_count(TwirpMethod::StartWebEgress), 1);

    let (retryable, message) = egress_error(egress.list_active().await.unwrap_err());
    assert!(retryable);
    assert!(message.contains("timed out"), "{message}");
    assert_no_secrets(&message, &fake.api_secret);
}

#[tokio::test]
async fn an_unreachable_server_is_a_definite_retryable_failure_and_stop_is_not_ok() {
    let fake = FakeLiveKit::start().await;
    let url = fake.url();
    let (key, secret) = (fake.api_key.clone(), fake.api_secret.clone());
    drop(fake);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let egress = LiveKitEgress::new(
        LiveKitEgressOptions::new(url, key, secret.as_str())
            .with_request_timeout(Duration::from_secs(2)),
    )
    .unwrap();
    // Nothing was sent, so nothing can have started: retryable, but not uncertain.
    for err in [
        egress.start(&request()).await.unwrap_err(),
        egress.stop("EG_gone").await.unwrap_err(),
        egress.list_active().await.unwrap_err(),
    ] {
        let Error::EgressUnreachable { message } = &err else {
            panic!("expected an unreachable egress, got {err:?}");
        };
        assert!(err.is_retryable(), "{message}");
        assert!(!err.egress_may_exist(), "{message}");
        assert!(message.contains("Connection refused"), "{message}");
        assert_no_secrets(message, &secret);
    }
}

#[tokio::test]
async fn a_proxy_error_page_is_retryable() {
    let fake = FakeLiveKit::start().await;
    let egress = client(&fake);
    fake.fail_next_http(TwirpMethod::ListEgress, 502, "<html>502 Bad Gateway</html>");
    let (retryable, message) = egress_error(egress.list_active().await.unwrap_err());
    assert!(retryable);
    assert!(message.contains("502"), "{message}");
    fake.fail_next_http(TwirpMethod::StartWebEgress, 502, "<html>bad gateway</html>");
    let (retryable, _) = egress_error(egress.start(&request()).await.unwrap_err());
    assert!(
        retryable,
        "an unreadable answer to a start may hide an egress"
    );
    fake.fail_next_http(TwirpMethod::ListEgress, 400, "bad request");
    let (retryable, _) = egress_error(egress.list_active().await.unwrap_err());
    assert!(!retryable);
}

#[tokio::test]
async fn stop_is_idempotent() {
    let fake = FakeLiveKit::start().await;
    let egress = client(&fake);

    // Unknown id: not_found → already stopped.
    egress.stop("EG_doesnotexist").await.unwrap();

    // STARTING → ABORTED, then failed_precondition → Ok.
    let starting = egress.start(&request()).await.unwrap();
    egress.stop(&starting).await.unwrap();
    assert_eq!(
        fake.status(&starting),
        Some(ProtoEgressStatus::EgressAborted)
    );
    egress.stop(&starting).await.unwrap();

    // ACTIVE → COMPLETE, then again.
    let active = egress.start(&request()).await.unwrap();
    fake.set_status(&active, ProtoEgressStatus::EgressActive);
    egress.stop(&active).await.unwrap();
    assert_eq!(
        fake.status(&active),
        Some(ProtoEgressStatus::EgressComplete)
    );
    egress.stop(&active).await.unwrap();

    let statuses: Vec<_> = fake
        .calls_to(TwirpMethod::StopEgress)
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(
        statuses,
        [Some(404), Some(200), Some(412), Some(200), Some(412)]
    );
    let ids: Vec<_> = fake
        .stop_requests()
        .into_iter()
        .map(|r| r.egress_id)
        .collect();
    assert_eq!(
        ids,
        ["EG_doesnotexist", &starting, &starting, &active, &active]
    );
}

#[tokio::test]
async fn stop_unavailable_is_a_retryable_error() {
    let fake = FakeLiveKit::start().await;
    let egress = client(&fake);
    let id = egress.start(&request()).await.unwrap();
    fake.fail_next(
        TwirpMethod::StopEgress,
        "unavailable",
        "no response from servers",
    );
    let (retryable, _) = egress_error(egress.stop(&id).await.unwrap_err());
    assert!(retryable);
    assert_eq!(fake.status(&id), Some(ProtoEgressStatus::EgressStarting));
    fake.fail_next(TwirpMethod::StopEgress, "permission_denied", "no");
    let (retryable, _) = egress_error(egress.stop(&id).await.unwrap_err());
    assert!(!retryable);
    egress.stop(&id).await.unwrap();
    assert_eq!(fake.status(&id), Some(ProtoEgressStatus::EgressAborted));
}

#[tokio::test]
async fn update_outputs_sends_add_and_remove_urls() {
    let fake = FakeLiveKit::start().await;
    let egress = client(&fake);
    let id = egress
        .start(&request_with(&[twitch_url()], EncodingSettings::default()))
        .await
        .unwrap();
    fake.set_status(&id, ProtoEgressStatus::EgressActive);

    egress
        .update_outputs(
            &id,
            &[SecretString::from(youtube_url())],
            &[SecretString::from(twitch_url())],
        )
        .await
        .unwrap();
    let sent = fake.update_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].egress_id, id);
    assert_eq!(sent[0].add_output_urls, [youtube_url()]);
    assert_eq!(sent[0].remove_output_urls, [twitch_url()]);
    assert_eq!(fake.output_urls(&id), [youtube_url()]);

    // Nothing to change: no call.
    egress.update_outputs(&id, &[], &[]).await.unwrap();
    assert_eq!(fake.call_count(TwirpMethod::UpdateStream), 1);

    // Removing an output that is not there: the server names the URL; we do not.
    let err = egress
        .update_outputs(&id, &[], &[SecretString::from(twitch_url())])
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert_no_secrets(&shown, &fake.api_secret);
    assert!(!egress_error(err).0);

    // A finished egress cannot be updated: a non-retryable error.
    egress.stop(&id).await.unwrap();
    let (retryable, message) = egress_error(
        egress
            .update_outputs(&id, &[SecretString::from(twitch_url())], &[])
            .await
            .unwrap_err(),
    );
    assert!(!retryable);
    assert!(message.contains("failed_precondition"), "{message}");
    assert_no_secrets(&message, &fake.api_secret);
}

#[tokio::test]
async fn list_active_follows_every_page() {
    let fake = FakeLiveKit::start().await;
    let egress = client(&fake);
    fake.set_page_size(Some(2));

    let mut expected = Vec::new();
    for i in 0..8 {
        let request = request_with(&[twitch_url()], EncodingSettings::default());
        let id = egress.start(&request).await.unwrap();
        match i {
            // Finished ones, interleaved with the active ones.
            1 => fake.set_status(&id, ProtoEgressStatus::EgressComplete),
            4 => fake.set_status(&id, ProtoEgressStatus::EgressFailed),
            6 => egress.stop(&id).await.unwrap(),
            // Ending is active for ListEgress but not for us.
            7 => fake.set_status(&id, ProtoEgressStatus::EgressEnding),
            _ => {
                let active = i % 2 == 0;
                if active {
                    fake.set_status(&id, ProtoEgressStatus::EgressActive);
                }
                let status = if active {
                    EgressStatus::Active
                } else {
                    EgressStatus::Starting
                };
                expected.push((id, status, request));
            }
        }
    }
    // One egress nobody in this process started.
    let foreign = fake.add_egress(
        "https://app.test/stream/overlay?sessionId=foreign",
        &[],
        ProtoEgressStatus::EgressActive,
    );
    assert_eq!(expected.len(), 4);
    fake.clear_calls();

    let listed = egress.list_active().await.unwrap();

    assert_eq!(listed.len(), 5, "{listed:#?}");
    for (summary, (id, status, request)) in listed.iter().zip(&expected) {
        assert_eq!(&summary.egress_id, id);
        assert_eq!(summary.status, *status);
        assert_eq!(
            summary.web_url.as_deref(),
            Some(request.page_url.expose_secret())
        );
        assert_eq!(summary.session_id(), Some(request.session_id.as_str()));
        if *status == EgressStatus::Active {
            assert!(summary.started_at_ns > 1_600_000_000_000_000_000);
        } else {
            assert_eq!(summary.started_at_ns, 0);
        }
    }
    assert_eq!(listed[4].egress_id, foreign);
    assert_eq!(listed[4].session_id(), Some("foreign"));

    // 6 egresses are active for the server (5 + ENDING): 3 pages of 2.
    let pages = fake.list_requests();
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|p| p.active));
    assert!(pages[0].page_token.is_none());
    assert_eq!(pages[1].page_token.as_ref().unwrap().token, "offset:2");
    assert_eq!(pages[2].page_token.as_ref().unwrap().token, "offset:4");

    // Without pagination: one request, same answer.
    fake.set_page_size(None);
    fake.clear_calls();
    assert_eq!(egress.list_active().await.unwrap(), listed);
    assert_eq!(fake.call_count(TwirpMethod::ListEgress), 1);
}

#[tokio::test]
async fn errors_and_debug_never_show_secrets() {
    let fake = FakeLiveKit::start().await;
    let egress = client(&fake);
    let request = request();
    let echo = format!(
        "bad request for {} with outputs {}, {} (key {TWITCH_KEY}; token {PAGE_TOKEN}; secret {})",
        request.page_url.expose_secret(),
        twitch_url(),
        youtube_url(),
        fake.api_secret,
    );
    for code in ["invalid_argument", "unavailable"] {
        fake.fail_next(TwirpMethod::StartWebEgress, code, &echo);
        let err = egress.start(&request).await.unwrap_err();
        let shown = format!("{err} | {err:?}");
        assert_no_secrets(&shown, &fake.api_secret);
        assert!(
            shown.contains("rtmps://live.twitch.tv/app/{liv...nop}"),
            "{shown}"
        );
        assert!(
            shown.contains("https://app.test/stream/overlay?{...}"),
            "{shown}"
        );
    }
    // Calls that do not carry the request cannot know its bare stream keys, but still
    // redact every RTMP URL, URL query, JWT and the API secret.
    let echo = format!(
        "failed for {} with outputs {}, {} (token {PAGE_TOKEN}; secret {})",
        request.page_url.expose_secret(),
        twitch_url(),
        youtube_url(),
        fake.api_secret,
    );
    fake.fail_next(TwirpMethod::ListEgress, "internal", &echo);
    let err = egress.list_active().await.unwrap_err();
    assert_no_secrets(&format!("{err} | {err:?}"), &fake.api_secret);
    fake.fail_next(TwirpMethod::StopEgress, "permission_denied", &echo);
    let err = egress.stop("EG_x").await.unwrap_err();
    assert_no_secrets(&format!("{err} | {err:?}"), &fake.api_secret);

    let options =
        LiveKitEgressOptions::new(fake.url(), fake.api_key.clone(), fake.api_secret.as_str());
    let shown = format!("{egress:?} {options:?} {request:?}");
    assert_no_secrets(&shown, &fake.api_secret);
    assert!(shown.contains(&fake.api_key), "{shown}");
}

#[tokio::test]
async fn options_are_checked_and_errors_name_the_variable() {
    let secret = "a-very-secret-livekit-secret";
    let config_error = |options: LiveKitEgressOptions| match LiveKitEgress::new(options) {
        Err(Error::Config { var, problem }) => {
            assert!(!problem.contains(secret), "{problem}");
            (var, problem)
        }
        other => panic!("expected a config error, got {other:?}"),
    };
    let (var, _) = config_error(LiveKitEgressOptions::new("ftp://x.test", "APIk", secret));
    assert_eq!(var, "LIVEKIT_URL");
    let (var, _) = config_error(LiveKitEgressOptions::new("", "APIk", secret));
    assert_eq!(var, "LIVEKIT_URL");
    let (var, _) = config_error(LiveKitEgressOptions::new("wss://x.test", " ", secret));
    assert_eq!(var, "LIVEKIT_API_KEY");
    let (var, problem) = config_error(LiveKitEgressOptions::new("nope", "", ""));
    assert_eq!(var, "LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET");
    assert!(
        problem.contains("LIVEKIT_API_SECRET is missing"),
        "{problem}"
    );
    let (var, _) = config_error(
        LiveKitEgressOptions::new("wss://x.test", "APIk", secret)
            .with_request_timeout(Duration::ZERO),
    );
    assert_eq!(var, "request_timeout");

    let config = LiveKitConfig::new("wss://project.livekit.cloud", "APIk", secret).unwrap();
    let options = LiveKitEgressOptions::from(&config);
    assert_eq!(options.api_key, "APIk");
    assert_eq!(options.api_secret.expose_secret(), secret);
    assert_eq!(
        options.request_timeout,
        LiveKitEgressOptions::DEFAULT_REQUEST_TIMEOUT
    );
    let egress = LiveKitEgress::new(options).unwrap();
    assert_eq!(egress.api_url(), "https://project.livekit.cloud/");
    assert!(!format!("{egress:?}").contains(secret));
}
