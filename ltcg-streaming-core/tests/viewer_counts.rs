//! Viewer counts from Twitch, against a local Helix that checks what Twitch checks: the token
//! grant's form, both headers, batches of at most 100 logins, offline channels absent, a
//! stale token refetched once (not in a loop), 429 with `Ratelimit-Reset`, a hung platform
//! timed out, malformed answers; and no credential in errors or `Debug`.

use std::time::{Duration, Instant};

use ltcg_streaming_core::viewers::{
    MemoryViewerCounts, PlatformFailure, TwitchCredentials, TwitchViewerCounts, ViewerCounts,
};
use ltcg_streaming_core::{Platform, SecretString};
use ltcg_streaming_test_support::twitch_api::*;

fn source(fake: &FakeTwitch, timeout: Duration) -> TwitchViewerCounts {
    TwitchViewerCounts::with_bases(
        TwitchCredentials {
            client_id: FAKE_CLIENT_ID.into(),
            client_secret: SecretString::from(FAKE_CLIENT_SECRET),
        },
        &fake.base,
        &fake.base,
        timeout,
    )
    .unwrap()
}

fn logins(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("Channel{i}")).collect()
}

#[tokio::test]
async fn live_channels_are_counted_and_offline_ones_reported_offline_in_batches_of_100() {
    let fake = FakeTwitch::start().await;
    fake.set_live("channel3", 42);
    fake.set_live("channel150", 7);
    let twitch = source(&fake, Duration::from_secs(5));
    let asked = logins(150);
    let answer = twitch.fetch(&asked).await.unwrap();
    assert_eq!(answer.len(), 150, "every channel answered once");
    let live: Vec<(&str, Option<u64>)> = answer
        .iter()
        .filter(|c| c.live)
        .map(|c| (c.channel.as_str(), c.viewers))
        .collect();
    assert_eq!(live, [("channel3", Some(42))], "channel150 was not asked");
    let offline = answer.iter().find(|c| c.channel == "channel7").unwrap();
    assert_eq!((offline.live, offline.viewers), (false, None));
    let three = answer.iter().find(|c| c.channel == "channel3").unwrap();
    assert!(three
        .thumbnail_url
        .as_deref()
        .unwrap()
        .contains("{width}x{height}"));
    let requests = fake.stream_requests();
    assert_eq!(requests.iter().map(Vec::len).collect::<Vec<_>>(), [100, 50]);
    assert_eq!(fake.tokens_issued(), 1, "one token for both pages");
    assert_eq!(
        fake.refused(),
        0,
        "both headers and a valid token on every call"
    );
    // The token is cached across calls.
    twitch.fetch(&["channel3".into()]).await.unwrap();
    assert_eq!(fake.tokens_issued(), 1);
}

#[tokio::test]
async fn a_stale_token_is_refetched_once_not_in_a_loop() {
    let fake = FakeTwitch::start().await;
    fake.set_live("blaze", 5);
    let twitch = source(&fake, Duration::from_secs(5));
    twitch.fetch(&["blaze".into()]).await.unwrap();
    fake.revoke_token();
    let again = twitch.fetch(&["blaze".into()]).await.unwrap();
    assert_eq!(again[0].viewers, Some(5));
    assert_eq!(fake.tokens_issued(), 2, "one new token after the 401");

    // Credentials Twitch refuses: one retry, then Unauthorized (no loop).
    let wrong = TwitchViewerCounts::with_bases(
        TwitchCredentials {
            client_id: FAKE_CLIENT_ID.into(),
            client_secret: SecretString::from("not-the-secret-xyz"),
        },
        &fake.base,
        &fake.base,
        Duration::from_secs(5),
    )
    .unwrap();
    let err = wrong.fetch(&["blaze".into()]).await.unwrap_err();
    assert_eq!(
        err,
        PlatformFailure::Unauthorized {
            platform: Platform::Twitch
        }
    );
    assert!(!err.to_string().contains("not-the-secret"));
    // Helix refuses every token: one fresh token and one more try, then Unauthorized.
    fake.set_mode(Mode::RejectTokens);
    let (requests, tokens) = (fake.stream_requests().len(), fake.tokens_issued());
    let err = twitch.fetch(&["blaze".into()]).await.unwrap_err();
    assert_eq!(
        err,
        PlatformFailure::Unauthorized {
            platform: Platform::Twitch
        }
    );
    assert_eq!(
        fake.stream_requests().len() - requests,
        2,
        "retried exactly once"
    );
    assert_eq!(
        fake.tokens_issued() - tokens,
        1,
        "one new token, not a loop"
    );
}

#[tokio::test]
async fn rate_limits_hung_platforms_and_malformed_answers_are_told_apart() {
    let fake = FakeTwitch::start().await;
    let twitch = source(&fake, Duration::from_millis(800));
    fake.set_mode(Mode::RateLimited(30));
    match twitch.fetch(&["a".into()]).await.unwrap_err() {
        PlatformFailure::RateLimited { retry_after, .. } => {
            assert!(
                (28..=31).contains(&retry_after.as_secs()),
                "{retry_after:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    fake.set_mode(Mode::Malformed);
    assert!(matches!(
        twitch.fetch(&["a".into()]).await.unwrap_err(),
        PlatformFailure::Malformed { .. }
    ));
    fake.set_mode(Mode::Hung);
    let started = Instant::now();
    let err = twitch.fetch(&["a".into()]).await.unwrap_err();
    assert_eq!(
        err,
        PlatformFailure::Unavailable {
            platform: Platform::Twitch,
            reason: "no answer in time".into()
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by the timeout"
    );
    // Nothing is left of the URL or credentials in what callers see.
    for text in [err.to_string(), format!("{twitch:?}")] {
        assert!(
            !text.contains(FAKE_CLIENT_SECRET) && !text.contains(FAKE_CLIENT_ID),
            "{text}"
        );
        assert!(!text.contains("faketoken"), "{text}");
    }
}

#[tokio::test]
async fn configuration_comes_from_the_environment_both_or_neither() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    assert!(TwitchViewerCounts::from_env_with(env(&[]))
        .unwrap()
        .is_none());
    let err = TwitchViewerCounts::from_env_with(env(&[("TWITCH_CLIENT_ID", "abc")])).unwrap_err();
    assert!(err.to_string().contains("TWITCH_CLIENT_SECRET"), "{err}");
    let fake = FakeTwitch::start().await;
    fake.set_live("blaze", 9);
    let base: &'static str = Box::leak(fake.base.clone().into_boxed_str());
    let pairs: &'static [(&str, &str)] = Box::leak(Box::new([
        ("TWITCH_CLIENT_ID", FAKE_CLIENT_ID),
        ("TWITCH_CLIENT_SECRET", FAKE_CLIENT_SECRET),
        ("TWITCH_API_BASE", base),
        ("TWITCH_ID_BASE", base),
    ]));
    let twitch = TwitchViewerCounts::from_env_with(env(pairs))
        .unwrap()
        .unwrap();
    assert_eq!(
        twitch.fetch(&["BLAZE".into()]).await.unwrap()[0].viewers,
        Some(9)
    );
}

#[tokio::test]
async fn the_memory_source_answers_what_was_set() {
    let memory = MemoryViewerCounts::new(Platform::Kick);
    memory.set("Blaze", Some(3));
    let answer = memory
        .fetch(&["blaze".into(), "other".into()])
        .await
        .unwrap();
    assert_eq!(
        (answer[0].live, answer[0].viewers, answer[1].live),
        (true, Some(3), false)
    );
    memory.fail_with(Some(PlatformFailure::Unavailable {
        platform: Platform::Kick,
        reason: "down".into(),
    }));
    assert!(memory.fetch(&["blaze".into()]).await.is_err());
    assert_eq!(memory.platform(), Platform::Kick);
}
