//! Where callers may stream to: internal addresses in every written form and behind names,
//! refused for users and agents, allowed for internal callers and the operator's allowlist;
//! and an encrypted key only ever goes to the destination it was stored with.

use std::sync::Arc;

use ltcg_streaming_core::config::ConfigMode;
use ltcg_streaming_core::destination_policy::{DestinationPolicy, Refusal};
use ltcg_streaming_core::service::{
    ConfigurePlatformRequest, CredentialTarget, DestinationInput, RateLimitConfig,
    StartStreamRequest, UpdateDestinationsRequest,
};
use ltcg_streaming_core::store::SessionQuery;
use ltcg_streaming_core::{
    Actor, Error, ErrorCode, MemoryEgress, MemoryStore, Platform, SecretString, ServiceOptions,
    StreamingConfig, StreamingService,
};
use ltcg_streaming_test_support::dns::{policy_with, FixedResolver, PUBLIC_TEST_ADDR};
use ltcg_streaming_test_support::harness::*;

/// Internal destinations in the forms a caller could write them.
const INTERNAL_URLS: [&str; 20] = [
    "rtmp://127.0.0.1:1935/app",
    "rtmp://2130706433:1935/app",
    "rtmp://0x7f000001/app",
    "rtmp://0x7f.1/app",
    "rtmp://0177.0.0.1/app",
    "rtmp://127.1/app",
    "rtmp://[::1]:1935/app",
    "rtmp://[::ffff:127.0.0.1]/app",
    "rtmp://[::ffff:a9fe:a9fe]/app",
    "rtmp://169.254.169.254/app",
    "rtmp://10.0.0.5/app",
    "rtmp://172.16.0.1/app",
    "rtmp://192.168.1.1/app",
    "rtmp://0.0.0.0/app",
    "rtmp://[fd00::1]/app",
    "rtmp://[fe80::1]/app",
    "rtmp://[ff02::1]/app",
    "rtmp://localhost:1935/live",
    "rtmp://metadata.google.internal/app",
    "rtmps://nas.local/app",
];

fn agent() -> Actor {
    Actor::agent("a1").unwrap()
}

fn custom_start(url: &str) -> StartStreamRequest {
    StartStreamRequest {
        platform: Some(Platform::Custom),
        custom_rtmp_url: Some(url.into()),
        ..agent_start("a1")
    }
}

/// A harness whose policy is `policy`.
fn harness_with(policy: DestinationPolicy) -> Harness {
    let egress = Arc::new(MemoryEgress::new());
    let h = Harness::with_parts(
        Arc::new(MemoryStore::new()),
        egress.clone(),
        egress,
        RateLimitConfig::disabled(),
    );
    let service = StreamingService::with_options(
        config(),
        h.store.clone(),
        h.egress.clone(),
        h.vault.clone(),
        ServiceOptions {
            clock: h.clock.clone(),
            rate_limits: RateLimitConfig::disabled(),
            destination_policy: Some(policy),
            ..ServiceOptions::default()
        },
    )
    .unwrap();
    Harness { service, ..h }
}

/// The error of agent `a1`'s start to the custom server `url`, which must fail.
async fn refused_start(h: &Harness, url: &str) -> Error {
    h.service
        .start_stream(&agent(), custom_start(url))
        .await
        .expect_err(url)
}

/// Stops session `id` as `actor`.
async fn stop(h: &Harness, actor: &Actor, id: ltcg_streaming_core::SessionId) {
    h.service
        .stop_stream(
            actor,
            ltcg_streaming_core::service::StopStreamRequest {
                session_id: Some(id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

async fn assert_nothing_written(h: &Harness) {
    let sessions = h.store.list_sessions(&SessionQuery::default()).await;
    assert!(sessions.unwrap().sessions.is_empty());
    assert_eq!(h.egress.started(), 0);
}

fn assert_refused(err: Error, field: &str, why: &str, url: &str) {
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{url}: {err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("invalid {field}: ")),
        "{url}: {text}"
    );
    assert!(text.contains(why), "{url}: {text}");
    let host = url.split("://").nth(1).unwrap().split('/').next().unwrap();
    assert!(
        !text.contains(host),
        "{url}: the error repeats the host: {text}"
    );
}

#[tokio::test]
async fn an_agent_cannot_stream_to_internal_addresses_in_any_form() {
    let h = Harness::new();
    for url in INTERNAL_URLS {
        let err = refused_start(&h, url).await;
        assert_refused(
            err,
            "customRtmpUrl",
            "refused by the destination policy",
            url,
        );
    }
    let user = Actor::user("u1").unwrap();
    let err = h
        .service
        .start_stream(
            &user,
            StartStreamRequest {
                custom_rtmp_url: Some("rtmp://127.0.0.1/app".into()),
                ..user_start("user-key-1")
            },
        )
        .await
        .unwrap_err();
    assert_refused(err, "customRtmpUrl", "loopback", "rtmp://127.0.0.1/app");
    assert_nothing_written(&h).await;
}

#[tokio::test]
async fn internal_callers_may_stream_to_internal_addresses() {
    let h = Harness::new();
    for (i, url) in ["rtmp://localhost:1935/live", "rtmp://127.0.0.1:1935/live"]
        .into_iter()
        .enumerate()
    {
        let started = h
            .service
            .start_stream(
                &Actor::Internal,
                StartStreamRequest {
                    agent_id: Some(format!("a{i}")),
                    ..custom_start(url)
                },
            )
            .await
            .unwrap();
        assert!(!started.reused);
    }
    assert_eq!(h.egress.started(), 2);
}

#[tokio::test]
async fn every_way_of_choosing_a_destination_is_checked() {
    let h = Harness::new();
    // A simulcast output of a start.
    let err = h
        .service
        .start_stream(
            &agent(),
            StartStreamRequest {
                destinations: vec![DestinationInput {
                    platform: Platform::Custom,
                    stream_key: SecretString::from("backup-key-1"),
                    custom_rtmp_url: Some("rtmp://10.1.2.3/live".into()),
                    channel: None,
                }],
                ..agent_start("a1")
            },
        )
        .await
        .unwrap_err();
    assert_refused(
        err,
        "destinations[0].customRtmpUrl",
        "a private address",
        "rtmp://10.1.2.3/live",
    );
    assert_nothing_written(&h).await;

    // Stored credentials, when saved by the agent.
    let configure = |url: &str| ConfigurePlatformRequest {
        target: CredentialTarget::default(),
        platform: Platform::Custom,
        stream_key: Some(SecretString::from("stored-key-1")),
        custom_rtmp_url: Some(url.into()),
        auto_start: None,
        channel: None,
    };
    let err = h
        .service
        .configure_platform(&agent(), configure("rtmp://169.254.169.254/live"))
        .await
        .unwrap_err();
    assert_refused(
        err,
        "customRtmpUrl",
        "a link-local address",
        "rtmp://169.254.169.254/live",
    );
    let entity = agent().entity().unwrap();
    assert!(h.store.get_credential(&entity).await.unwrap().is_none());

    // ... and when the operator saved an internal URL for the agent, the agent's own start
    // with them is still refused.
    h.service
        .configure_platform(
            &Actor::Internal,
            ConfigurePlatformRequest {
                target: CredentialTarget {
                    agent_id: Some("a1".into()),
                    user_id: None,
                },
                ..configure("rtmp://127.0.0.1:1935/live")
            },
        )
        .await
        .unwrap();
    let err = h
        .service
        .start_stream(
            &agent(),
            StartStreamRequest {
                use_stored_credentials: true,
                ..StartStreamRequest::default()
            },
        )
        .await
        .unwrap_err();
    assert_refused(
        err,
        "useStoredCredentials",
        "a loopback address",
        "rtmp://127.0.0.1:1935/live",
    );
    assert_nothing_written(&h).await;

    // An output added to a running stream.
    let started = h
        .service
        .start_stream(&agent(), agent_start("a1"))
        .await
        .unwrap();
    let err = h
        .service
        .update_destinations(
            &agent(),
            UpdateDestinationsRequest {
                session_id: started.session_id.clone(),
                add: vec![DestinationInput {
                    platform: Platform::Custom,
                    stream_key: SecretString::from("backup-key-1"),
                    custom_rtmp_url: Some("rtmp://[::1]/live".into()),
                    channel: None,
                }],
                remove: vec![],
            },
        )
        .await
        .unwrap_err();
    assert_refused(err, "add[0].customRtmpUrl", "loopback", "rtmp://[::1]/live");
    let session = h.store.get_session(&started.session_id).await.unwrap();
    assert_eq!(session.unwrap().destinations.len(), 1);
}

#[tokio::test]
async fn names_are_checked_by_every_address_they_resolve_to() {
    let dns = FixedResolver::with_ingest_names();
    dns.answer("private.example.com", &["10.0.0.7"]);
    dns.answer("mixed.example.com", &[PUBLIC_TEST_ADDR, "127.0.0.1"]);
    dns.answer("mapped.example.com", &["::ffff:192.168.0.1"]);
    let h = harness_with(policy_with(dns));
    for (url, why) in [
        ("rtmp://private.example.com/live", "a private address"),
        ("rtmp://mixed.example.com/live", "a loopback address"),
        ("rtmp://mapped.example.com/live", "a private address"),
        ("rtmp://unknown.example.org/live", "could not be resolved"),
    ] {
        let err = refused_start(&h, url).await;
        assert_refused(err, "customRtmpUrl", why, url);
    }
    assert_nothing_written(&h).await;
    let ok = h
        .service
        .start_stream(&agent(), custom_start("rtmp://ingest.example.com/live"))
        .await
        .unwrap();
    assert!(!ok.reused);
}

#[tokio::test]
async fn a_name_that_changes_its_address_is_refused_on_the_second_check() {
    let dns = FixedResolver::with_ingest_names();
    dns.answer("rebind.example.com", &[PUBLIC_TEST_ADDR]);
    dns.answer("rebind.example.com", &["127.0.0.1"]);
    let policy = policy_with(dns);
    let url = "rtmp://rebind.example.com/live/key";
    let first = policy.check_url(url).await.unwrap();
    assert_eq!(first.addrs[0].ip().to_string(), PUBLIC_TEST_ADDR);
    assert_eq!(
        policy.check_url(url).await,
        Err(Refusal::Forbidden("a loopback address"))
    );
}

#[tokio::test]
async fn the_operator_allowlist_admits_its_own_hosts_only() {
    let dns = FixedResolver::with_ingest_names();
    dns.answer("restream.corp.example", &["10.20.0.3"]);
    let policy = policy_with(dns)
        .allow_all(["10.0.0.0/8", "rtmp.corp", "*.studio.lan", "fd00::5"])
        .unwrap();
    let h = harness_with(policy);
    for (i, url) in [
        "rtmp://10.1.2.3/live",
        "rtmp://restream.corp.example/live",
        "rtmp://rtmp.corp/live",
        "rtmp://cam1.studio.lan/live",
        "rtmp://[fd00::5]/live",
    ]
    .into_iter()
    .enumerate()
    {
        let started = h
            .service
            .start_stream(
                &agent(),
                StartStreamRequest {
                    agent_id: None,
                    ..custom_start(url)
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        stop(&h, &agent(), started.session_id).await;
        assert_eq!(h.egress.started(), i as u64 + 1);
    }
    for url in [
        "rtmp://127.0.0.1/live",
        "rtmp://studio.lan/live",
        "rtmp://[fd00::6]/live",
    ] {
        let err = refused_start(&h, url).await;
        assert_refused(
            err,
            "customRtmpUrl",
            "refused by the destination policy",
            url,
        );
    }
}

#[test]
fn the_allowlist_comes_from_the_environment_and_bad_entries_name_the_variable() {
    let base = |allow: &'static str| {
        move |name: &str| match name {
            "STREAM_KEY_ENCRYPTION_KEY" => Some(KEY_HEX.to_owned()),
            "STREAMING_JWT_SECRET" => Some("an-overlay-secret-of-at-least-32-bytes".to_owned()),
            "STREAMING_DESTINATION_ALLOWLIST" => Some(allow.to_owned()),
            "NEXT_PUBLIC_APP_URL" => Some(APP_URL.to_owned()),
            _ => None,
        }
    };
    let config = StreamingConfig::from_lookup(base(" 10.0.0.0/8, rtmp.corp ,,*.lan")).unwrap();
    assert_eq!(
        config.destination_allowlist,
        ["10.0.0.0/8", "rtmp.corp", "*.lan"]
    );
    assert!(config.destination_policy().is_ok());
    let err = StreamingConfig::from_lookup(base("10.0.0.0/8, not a host!")).unwrap_err();
    match err {
        Error::Config { var, problem } => {
            assert_eq!(var, "STREAMING_DESTINATION_ALLOWLIST");
            assert!(!problem.contains("not a host"), "{problem}");
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[tokio::test]
async fn malformed_hosts_are_refused_for_every_caller() {
    let h = Harness::new();
    for url in [
        "rtmp://-/live",
        "rtmp://.../live",
        "rtmp://a..b/live",
        "rtmp://-a.example.com/live",
        "rtmp://a-.example.com/live",
        "rtmp://[:]/live",
        "rtmp://[::1%25eth0]/live",
        "rtmp://_/live",
    ] {
        let err = h
            .service
            .start_stream(
                &Actor::Internal,
                StartStreamRequest {
                    agent_id: Some("a1".into()),
                    ..custom_start(url)
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{url}: {err}");
        let text = err.to_string();
        assert!(
            text.starts_with("invalid customRtmpUrl: has an invalid"),
            "{url}: {text}"
        );
    }
    assert_nothing_written(&h).await;
}

#[tokio::test]
async fn an_encrypted_key_goes_only_to_the_destination_it_was_stored_with() {
    let h = Harness::new();
    let sealed_start = |sealed: &str, platform: Platform, url: Option<&str>| StartStreamRequest {
        agent_id: Some("a1".into()),
        platform: Some(platform),
        stream_key: None,
        encrypted_stream_key: Some(sealed.to_owned()),
        custom_rtmp_url: url.map(Into::into),
        ..StartStreamRequest::default()
    };
    // A ciphertext of a Twitch key, pointed at the caller's own server: refused.
    let sealed = h.vault.encrypt_key(TWITCH_KEY).unwrap();
    let err = h
        .service
        .start_stream(
            &Actor::Internal,
            sealed_start(
                &sealed,
                Platform::Twitch,
                Some("rtmp://attacker.example/live"),
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden, "{err}");
    assert_nothing_written(&h).await;

    // The stored ciphertext with the URL stored beside it: allowed.
    h.service
        .configure_platform(
            &Actor::Internal,
            ConfigurePlatformRequest {
                target: CredentialTarget {
                    agent_id: Some("a1".into()),
                    user_id: None,
                },
                platform: Platform::Retake,
                stream_key: Some(SecretString::from("retake-key-1")),
                custom_rtmp_url: Some("rtmp://ingest.example.com/live".into()),
                auto_start: None,
                channel: None,
            },
        )
        .await
        .unwrap();
    let stored = h
        .store
        .get_credential(&Actor::agent("a1").unwrap().entity().unwrap())
        .await
        .unwrap()
        .unwrap();
    let stored_sealed = stored.encrypted_key.unwrap();
    // ... but not to another URL, nor under another platform.
    for (platform, url) in [
        (Platform::Retake, "rtmp://attacker.example/live"),
        (Platform::Custom, "rtmp://ingest.example.com/live"),
    ] {
        let err = h
            .service
            .start_stream(
                &Actor::Internal,
                sealed_start(&stored_sealed, platform, Some(url)),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Forbidden, "{url}: {err}");
    }
    assert_nothing_written(&h).await;
    let started = h
        .service
        .start_stream(
            &Actor::Internal,
            sealed_start(
                &stored_sealed,
                Platform::Retake,
                Some("rtmp://ingest.example.com/live/"),
            ),
        )
        .await
        .unwrap();
    let egress = h.egress_of(&started.session_id).await;
    assert_eq!(
        h.egress.outputs(&egress),
        ["rtmp://ingest.example.com/live/{ret...y-1}"]
    );
    stop(&h, &Actor::Internal, started.session_id).await;

    // Without a URL, a ciphertext goes to its platform's own ingest.
    let started = h
        .service
        .start_stream(
            &Actor::Internal,
            sealed_start(&sealed, Platform::Twitch, None),
        )
        .await
        .unwrap();
    let egress = h.egress_of(&started.session_id).await;
    assert_eq!(
        h.egress.outputs(&egress),
        ["rtmps://live.twitch.tv/app/{liv...nop}"]
    );
}

#[tokio::test]
async fn a_development_configuration_lets_every_caller_stream_to_local_servers() {
    let lookup = |name: &str| match name {
        "STREAM_KEY_ENCRYPTION_KEY" => Some(KEY_HEX.to_owned()),
        "STREAMING_JWT_SECRET" => Some("an-overlay-secret-of-at-least-32-bytes".to_owned()),
        "NEXT_PUBLIC_APP_URL" => Some(APP_URL.to_owned()),
        _ => None,
    };
    let production = StreamingConfig::from_lookup(lookup).unwrap();
    let development = StreamingConfig::from_lookup_in(ConfigMode::Development, lookup).unwrap();
    for (config, allowed) in [(production, false), (development, true)] {
        let mode = config.mode;
        let egress = Arc::new(MemoryEgress::new());
        let service = StreamingService::with_options(
            config,
            Arc::new(MemoryStore::new()),
            egress.clone(),
            Arc::new(ltcg_streaming_core::AesGcmVault::from_hex(KEY_HEX).unwrap()),
            ServiceOptions {
                rate_limits: RateLimitConfig::disabled(),
                ..ServiceOptions::default()
            },
        )
        .unwrap();
        let result = service
            .start_stream(&agent(), custom_start("rtmp://127.0.0.1:1935/live"))
            .await;
        assert_eq!(result.is_ok(), allowed, "{mode:?}: {result:?}");
        assert_eq!(egress.started(), u64::from(allowed), "{mode:?}");
    }
}
