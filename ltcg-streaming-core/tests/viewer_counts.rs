//! Viewer counts from Twitch, YouTube and Kick, against local APIs that check what the real
//! ones check: token grant forms, both Twitch headers, batches (100 logins, 50 video ids),
//! offline channels, `concurrentViewers` as a string or missing, a stale token refetched once
//! (not in a loop), 429 with `Ratelimit-Reset` / `Retry-After`, YouTube's quota, a hung
//! platform timed out without holding up another, malformed answers; and no credential in
//! errors or `Debug`.

use std::time::{Duration, Instant};

use ltcg_streaming_core::viewers::{
    AppCredentials, KickViewerCounts, MemoryViewerCounts, PlatformFailure, TwitchViewerCounts,
    ViewerCounts, YoutubeViewerCounts,
};
use ltcg_streaming_core::{Platform, SecretString};
use ltcg_streaming_test_support::platform_apis::*;

fn source(fake: &FakePlatforms, timeout: Duration) -> TwitchViewerCounts {
    TwitchViewerCounts::with_bases(
        AppCredentials {
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
    let fake = FakePlatforms::start().await;
    fake.set_live(Api::Twitch, "channel3", Some(42));
    fake.set_live(Api::Twitch, "channel150", Some(7));
    let twitch = source(&fake, Duration::from_secs(5));
    let asked = logins(150);
    let answer = twitch.fetch(&asked).await.unwrap();
    assert_eq!(answer.len(), 150, "every channel answered once");
    let live: Vec<(&str, Option<u64>)> = answer
        .iter()
        .filter(|c| c.live)
        .map(|c| (c.channel.as_str(), c.viewers))
        .collect();
    assert_eq!(live, [("Channel3", Some(42))], "channel150 was not asked");
    let offline = answer.iter().find(|c| c.channel == "Channel7").unwrap();
    assert_eq!((offline.live, offline.viewers), (false, None));
    let three = answer.iter().find(|c| c.channel == "Channel3").unwrap();
    assert_eq!(
        three.thumbnail_url.as_deref(),
        Some("https://static-cdn.jtvnw.net/previews-ttv/live_user_channel3-1280x720.jpg"),
        "the preview template is sized"
    );
    assert_eq!(offline.thumbnail_url, None);
    let requests = fake.requests(Api::Twitch);
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
    let fake = FakePlatforms::start().await;
    fake.set_live(Api::Twitch, "blaze", Some(5));
    let twitch = source(&fake, Duration::from_secs(5));
    twitch.fetch(&["blaze".into()]).await.unwrap();
    fake.revoke_token();
    let again = twitch.fetch(&["blaze".into()]).await.unwrap();
    assert_eq!(again[0].viewers, Some(5));
    assert_eq!(fake.tokens_issued(), 2, "one new token after the 401");

    // Credentials Twitch refuses: one retry, then Unauthorized (no loop).
    let wrong = TwitchViewerCounts::with_bases(
        AppCredentials {
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
    fake.set_mode(Api::Twitch, Mode::RejectTokens);
    let (requests, tokens) = (fake.requests(Api::Twitch).len(), fake.tokens_issued());
    let err = twitch.fetch(&["blaze".into()]).await.unwrap_err();
    assert_eq!(
        err,
        PlatformFailure::Unauthorized {
            platform: Platform::Twitch
        }
    );
    assert_eq!(
        fake.requests(Api::Twitch).len() - requests,
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
    let fake = FakePlatforms::start().await;
    let twitch = source(&fake, Duration::from_millis(800));
    fake.set_mode(Api::Twitch, Mode::RateLimited(30));
    match twitch.fetch(&["a".into()]).await.unwrap_err() {
        PlatformFailure::RateLimited { retry_after, .. } => {
            assert!(
                (28..=31).contains(&retry_after.as_secs()),
                "{retry_after:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    fake.set_mode(Api::Twitch, Mode::Malformed);
    assert!(matches!(
        twitch.fetch(&["a".into()]).await.unwrap_err(),
        PlatformFailure::Malformed { .. }
    ));
    fake.set_mode(Api::Twitch, Mode::Hung);
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
    let fake = FakePlatforms::start().await;
    fake.set_live(Api::Twitch, "blaze", Some(9));
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

#[tokio::test]
async fn youtube_reads_string_counts_in_batches_of_50_and_waits_out_the_quota() {
    let fake = FakePlatforms::start().await;
    fake.set_live(Api::Youtube, "vid_live", Some(1234));
    fake.set_live(Api::Youtube, "vid_hidden", None);
    let youtube = YoutubeViewerCounts::with_base(
        SecretString::from(FAKE_YOUTUBE_KEY),
        &fake.base,
        Duration::from_secs(5),
    )
    .unwrap();
    let mut asked: Vec<String> = (0..60).map(|i| format!("vid_{i}")).collect();
    asked.extend(["vid_live".to_owned(), "vid_hidden".to_owned()]);
    let answer = youtube.fetch(&asked).await.unwrap();
    assert_eq!(answer.len(), 62);
    let by = |id: &str| answer.iter().find(|c| c.channel == id).unwrap().clone();
    assert_eq!(
        (by("vid_live").live, by("vid_live").viewers),
        (true, Some(1234))
    );
    assert_eq!(
        (by("vid_hidden").live, by("vid_hidden").viewers),
        (true, None),
        "hidden count"
    );
    assert_eq!(
        (by("vid_3").live, by("vid_3").viewers),
        (false, None),
        "not live"
    );
    assert_eq!(
        fake.requests(Api::Youtube)
            .iter()
            .map(Vec::len)
            .collect::<Vec<_>>(),
        [50, 12]
    );
    assert_eq!(fake.refused(), 0);

    fake.set_mode(Api::Youtube, Mode::RateLimited(0));
    assert_eq!(
        youtube.fetch(&["vid_live".into()]).await.unwrap_err(),
        PlatformFailure::RateLimited {
            platform: Platform::Youtube,
            retry_after: Duration::from_secs(3600)
        }
    );
    fake.set_mode(Api::Youtube, Mode::Malformed);
    assert!(matches!(
        youtube.fetch(&["vid_live".into()]).await,
        Err(PlatformFailure::Malformed { .. })
    ));

    // A wrong key: refused, and the key never shows in the failure or `Debug`.
    let wrong = YoutubeViewerCounts::with_base(
        SecretString::from("wrong-key-zzz"),
        &fake.base,
        Duration::from_secs(5),
    )
    .unwrap();
    let err = wrong.fetch(&["vid_live".into()]).await.unwrap_err();
    assert_eq!(
        err,
        PlatformFailure::Unauthorized {
            platform: Platform::Youtube
        }
    );
    for text in [
        err.to_string(),
        format!("{wrong:?}"),
        format!("{youtube:?}"),
    ] {
        assert!(
            !text.contains("wrong-key") && !text.contains(FAKE_YOUTUBE_KEY),
            "{text}"
        );
    }
    assert!(YoutubeViewerCounts::from_env_with(|_| None)
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn kick_counts_live_channels_with_an_app_token_and_backs_off_on_429() {
    let fake = FakePlatforms::start().await;
    fake.set_live(Api::Kick, "blaze", Some(88));
    let kick = KickViewerCounts::with_bases(
        AppCredentials {
            client_id: FAKE_CLIENT_ID.into(),
            client_secret: SecretString::from(FAKE_CLIENT_SECRET),
        },
        &fake.base,
        &fake.base,
        Duration::from_millis(800),
    )
    .unwrap();
    let answer = kick.fetch(&["Blaze".into(), "quiet".into()]).await.unwrap();
    assert_eq!(
        (
            answer[0].channel.as_str(),
            answer[0].live,
            answer[0].viewers
        ),
        ("Blaze", true, Some(88))
    );
    assert_eq!((answer[1].live, answer[1].viewers), (false, None));
    assert!(answer[0].thumbnail_url.is_some());
    assert_eq!(fake.tokens_issued(), 1);
    fake.revoke_token();
    assert_eq!(
        kick.fetch(&["blaze".into()]).await.unwrap()[0].viewers,
        Some(88)
    );
    assert_eq!(fake.tokens_issued(), 2, "a stale token is replaced once");
    fake.set_mode(Api::Kick, Mode::RateLimited(7));
    assert_eq!(
        kick.fetch(&["blaze".into()]).await.unwrap_err(),
        PlatformFailure::RateLimited {
            platform: Platform::Kick,
            retry_after: Duration::from_secs(7)
        }
    );
    // A hung Kick does not hold up Twitch on the same fake.
    fake.set_mode(Api::Kick, Mode::Hung);
    fake.set_live(Api::Twitch, "blaze", Some(3));
    let twitch = source(&fake, Duration::from_secs(5));
    let blaze = ["blaze".to_owned()];
    let (k, t) = tokio::join!(kick.fetch(&blaze), twitch.fetch(&blaze));
    assert!(
        matches!(k, Err(PlatformFailure::Unavailable { .. })),
        "{k:?}"
    );
    assert_eq!(t.unwrap()[0].viewers, Some(3));
}
