//! The conformance suite every [`SessionStore`] must pass (feature `conformance`).
//!
//! Each check is a plain `async fn(&dyn SessionStore) -> CheckResult` that needs a fresh,
//! empty store. [`crate::session_store_conformance!`] expands to one `#[tokio::test]` per
//! check; [`run_all`] runs every check against stores made by a factory (the Python and Node
//! bindings use it for stores written in those languages). A new check is a function here and
//! a name in the list inside `session_store_conformance!`, which [`CHECKS`] and every test
//! expansion are built from.
//!
//! Not semver-stable: checks are added as the contract is sharpened.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::future::join_all;

use super::{
    AgentKey, AgentKeyStore, AnalyticsFilter, AnalyticsGroup, GroupTotals, Insert, Lease,
    PlatformCredential, SessionQuery, SessionStore,
};
use crate::error::ErrorCode;
use crate::platform::Platform;
use crate::session::{
    Activity, ActivityKind, Destination, DestinationStatus, Entity, GameState, MatchOutcome,
    MatchResult, NewSession, OverlayConfig, OverlayConfigPatch, PlayerVisualMode, SessionId,
    SessionStats, SessionStatus, StoredGameState, StreamSession, StreamType, TimelineEntry,
    TimelineKind, ViewerSample, WebcamPosition,
};

/// Outcome of one check: `Err` carries a description of the first broken expectation.
pub type CheckResult = std::result::Result<(), String>;

/// A boxed check future.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = CheckResult> + Send + 'a>>;

/// A named check.
pub type Check = (
    &'static str,
    for<'a> fn(&'a dyn SessionStore) -> CheckFuture<'a>,
);

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Unwraps a store result or fails the check with the call's name.
macro_rules! call {
    ($what:literal, $e:expr) => {
        $e.await.map_err(|e| format!("{} failed: {e}", $what))?
    };
}

/// A fresh `initializing` session for `entity` created at `created_at` (Unix ms).
pub fn sample_session(entity: &Entity, created_at: i64) -> StreamSession {
    let new = NewSession {
        entity: entity.clone(),
        entity_name: Some("Sample".into()),
        entity_avatar_url: None,
        platform: Platform::Twitch,
        stream_title: "Conformance".into(),
        overlay_config: OverlayConfig::default_for(entity.stream_type),
        lobby_id: None,
        destinations: Vec::new(),
        dry_run: false,
    };
    StreamSession::create(new, created_at)
        .unwrap_or_else(|_| unreachable!("sample session inputs are valid"))
}

fn agent(id: &str) -> Entity {
    Entity {
        stream_type: StreamType::Agent,
        entity_id: id.to_owned(),
    }
}

fn user(id: &str) -> Entity {
    Entity {
        stream_type: StreamType::User,
        entity_id: id.to_owned(),
    }
}

async fn insert_created(
    store: &dyn SessionStore,
    s: &StreamSession,
) -> Result<StreamSession, String> {
    match call!("insert_session", store.insert_session(s)) {
        Insert::Created(stored) => Ok(stored),
        Insert::Existing(other) => Err(format!("expected Created, got Existing({})", other.id)),
    }
}

fn end(mut s: StreamSession, at: i64) -> StreamSession {
    s.status = SessionStatus::Ended;
    s.ended_at = Some(at);
    s.end_reason = Some("manual".into());
    s.stats = Some(s.stats_at(at));
    s
}

/// Inserted sessions read back equal, with version 1; unknown ids read as `None`.
pub async fn insert_and_get(store: &dyn SessionStore) -> CheckResult {
    let s = sample_session(&agent("a1"), 1_000);
    let stored = insert_created(store, &s).await?;
    ensure!(
        stored.version == 1,
        "version after insert is {}, want 1",
        stored.version
    );
    let mut expected = s.clone();
    expected.version = 1;
    ensure!(stored == expected, "insert returned a different session");
    let got = call!("get_session", store.get_session(&s.id));
    ensure!(
        got.as_ref() == Some(&expected),
        "get_session returned {got:?}"
    );
    let missing = call!("get_session", store.get_session(&SessionId::generate()));
    ensure!(missing.is_none(), "unknown id returned a session");
    Ok(())
}

/// Every field survives a round trip, including destinations, overlay options and stats.
pub async fn round_trip_all_fields(store: &dyn SessionStore) -> CheckResult {
    let mut s = sample_session(&user("u1"), 2_000);
    s.current_lobby_id = Some("lobby_9".into());
    s.entity_avatar_url = Some("https://cdn.example/avatar.png".into());
    s.overlay_config.webcam_position = Some(WebcamPosition::TopLeft);
    s.overlay_config.voice_volume = Some(0.25);
    s.destinations.push(Destination {
        id: "dst_0011223344556677".into(),
        platform: Platform::Youtube,
        redacted_url: "rtmps://a.rtmps.youtube.com:443/live2/{abc...xyz}".into(),
        encrypted_url: "00:11:22".into(),
        status: DestinationStatus::Active,
        primary: true,
        added_at: 2_001,
        removed_at: None,
        error_message: None,
        channel: Some("dQw4w9WgXcQ".into()),
        warning: Some("youtube reports the broadcast offline".into()),
        preview_url: Some("https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault_live.jpg".into()),
        encrypted_access_token: Some("33:44:55".into()),
    });
    let stored = insert_created(store, &s).await?;
    let mut next = stored.clone();
    next.status = SessionStatus::Error;
    next.egress_id = Some("EG_rt".into());
    next.started_at = Some(2_500);
    next.ended_at = Some(3_000);
    next.end_reason = Some("error".into());
    next.error_message = Some("rtmp connection failed".into());
    next.start_uncertain = true;
    next.updated_at = 3_000;
    next.stats = Some(SessionStats {
        duration: 500,
        decisions_logged: 0,
        events_recorded: 0,
        peak_viewer_count: 0,
    });
    next.destinations[0].status = DestinationStatus::Failed;
    next.destinations[0].error_message = Some("refused".into());
    next.last_match = Some(MatchResult {
        ended_at: 2_900,
        result: MatchOutcome::Draw,
        summary: "Match over: draw.".into(),
    });
    let updated = call!("update_session", store.update_session(&next));
    let mut expected = next.clone();
    expected.version = 2;
    ensure!(updated == expected, "update returned {updated:?}");
    let got = call!("get_session", store.get_session(&s.id));
    ensure!(got.as_ref() == Some(&expected), "read back {got:?}");
    Ok(())
}

/// At most one active session per entity; terminal sessions free the slot.
pub async fn one_active_session_per_entity(store: &dyn SessionStore) -> CheckResult {
    let e = agent("a2");
    let first = insert_created(store, &sample_session(&e, 1_000)).await?;
    let second = sample_session(&e, 1_001);
    match call!("insert_session", store.insert_session(&second)) {
        Insert::Existing(existing) => ensure!(
            existing.id == first.id,
            "Existing is not the active session"
        ),
        Insert::Created(_) => return Err("second active session for one entity was created".into()),
    }
    ensure!(
        call!("get_session", store.get_session(&second.id)).is_none(),
        "the refused session was written"
    );
    let other_type = Entity {
        stream_type: StreamType::User,
        entity_id: "a2".into(),
    };
    insert_created(store, &sample_session(&other_type, 1_002)).await?;
    let active = call!("active_session", store.active_session(&e));
    ensure!(
        active.map(|s| s.id) == Some(first.id.clone()),
        "active_session is not the first"
    );
    call!("update_session", store.update_session(&end(first, 1_500)));
    ensure!(
        call!("active_session", store.active_session(&e)).is_none(),
        "ended session still active"
    );
    insert_created(store, &second).await?;
    Ok(())
}

/// `update_session` is a compare-and-swap on `version`.
pub async fn update_is_compare_and_swap(store: &dyn SessionStore) -> CheckResult {
    let stored = insert_created(store, &sample_session(&agent("a3"), 1_000)).await?;
    let mut a = stored.clone();
    a.stream_title = "first writer".into();
    let a = call!("update_session", store.update_session(&a));
    ensure!(a.version == 2, "version {} after one update", a.version);
    let mut stale = stored.clone();
    stale.stream_title = "lost writer".into();
    match store.update_session(&stale).await {
        Err(e) if e.code() == ErrorCode::Conflict => {}
        other => return Err(format!("stale update gave {other:?}, want CONFLICT")),
    }
    let got = call!("get_session", store.get_session(&stored.id)).ok_or("session vanished")?;
    ensure!(
        got.stream_title == "first writer",
        "stale write was applied"
    );
    let ghost = sample_session(&agent("ghost"), 1);
    match store.update_session(&ghost).await {
        Err(e) if e.code() == ErrorCode::NotFound => Ok(()),
        other => Err(format!(
            "update of unknown session gave {other:?}, want NOT_FOUND"
        )),
    }
}

/// Sessions are found by egress id once it is stored.
pub async fn find_by_egress(store: &dyn SessionStore) -> CheckResult {
    let stored = insert_created(store, &sample_session(&agent("a4"), 1_000)).await?;
    ensure!(
        call!("find_by_egress", store.find_by_egress("EG_a4")).is_none(),
        "found before the egress id was saved"
    );
    let mut next = stored.clone();
    next.egress_id = Some("EG_a4".into());
    next.status = SessionStatus::Pending;
    call!("update_session", store.update_session(&next));
    let found = call!("find_by_egress", store.find_by_egress("EG_a4"));
    ensure!(
        found.map(|s| s.id) == Some(stored.id),
        "find_by_egress missed"
    );
    ensure!(
        call!("find_by_egress", store.find_by_egress("EG_other")).is_none(),
        "unknown egress found"
    );
    Ok(())
}

/// Pages are newest first, complete, without duplicates; filters and cursors work.
pub async fn list_pages_and_filters(store: &dyn SessionStore) -> CheckResult {
    let mut all = Vec::new();
    for i in 0..7i64 {
        let e = if i % 2 == 0 {
            agent(&format!("p{i}"))
        } else {
            user(&format!("p{i}"))
        };
        // Two sessions share a createdAt to exercise the id tie-break.
        let at = 10_000 + i.min(5) * 10;
        let mut sample = sample_session(&e, at);
        if i == 3 {
            sample.platform = Platform::Kick;
        }
        let mut s = insert_created(store, &sample).await?;
        if i < 2 {
            s = call!("update_session", store.update_session(&end(s, at + 1)));
        }
        all.push(s);
    }
    let mut expected: Vec<_> = all.iter().map(|s| (s.created_at, s.id.clone())).collect();
    expected.sort();
    expected.reverse();

    let mut seen = Vec::new();
    let mut query = SessionQuery {
        limit: 3,
        ..SessionQuery::default()
    };
    for _ in 0..10 {
        let page = call!("list_sessions", store.list_sessions(&query));
        ensure!(page.sessions.len() <= 3, "page larger than the limit");
        seen.extend(page.sessions.iter().map(|s| (s.created_at, s.id.clone())));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    ensure!(
        seen == expected,
        "pages {seen:?} != newest-first {expected:?}"
    );

    let active = call!(
        "list_sessions",
        store.list_sessions(&SessionQuery {
            active_only: true,
            ..Default::default()
        })
    );
    ensure!(
        active.sessions.len() == 5,
        "active_only gave {}",
        active.sessions.len()
    );
    ensure!(active.next_cursor.is_none(), "single page has a cursor");
    let ended = call!(
        "list_sessions",
        store.list_sessions(&SessionQuery {
            status: Some(SessionStatus::Ended),
            ..Default::default()
        })
    );
    ensure!(
        ended.sessions.len() == 2,
        "status filter gave {}",
        ended.sessions.len()
    );
    let one = call!(
        "list_sessions",
        store.list_sessions(&SessionQuery {
            entity: Some(user("p3")),
            ..Default::default()
        })
    );
    ensure!(
        one.sessions.len() == 1 && one.sessions[0].entity == user("p3"),
        "entity filter"
    );
    let kick = call!(
        "list_sessions",
        store.list_sessions(&SessionQuery {
            platform: Some(Platform::Kick),
            ..Default::default()
        })
    );
    ensure!(
        kick.sessions.len() == 1 && kick.sessions[0].entity == user("p3"),
        "platform filter gave {}",
        kick.sessions.len()
    );
    // createdAt 10_020 and 10_030 (p2, p3) fall in [10_020, 10_040).
    let range = call!(
        "list_sessions",
        store.list_sessions(&SessionQuery {
            created_from: Some(10_020),
            created_before: Some(10_040),
            ..Default::default()
        })
    );
    let mut in_range: Vec<_> = range
        .sessions
        .iter()
        .map(|s| s.entity.entity_id.clone())
        .collect();
    in_range.sort();
    ensure!(in_range == ["p2", "p3"], "created range gave {in_range:?}");
    match store
        .list_sessions(&SessionQuery {
            cursor: Some("garbage".into()),
            ..Default::default()
        })
        .await
    {
        Err(e) if e.code() == ErrorCode::InvalidInput => Ok(()),
        other => Err(format!("bad cursor gave {other:?}, want INVALID_INPUT")),
    }
}

/// Activities are appended, counted, bump the version, and are refused once terminal.
pub async fn activity_feed_and_counters(store: &dyn SessionStore) -> CheckResult {
    let s = insert_created(store, &sample_session(&agent("a5"), 1_000)).await?;
    let activity = |kind, n: i64| Activity {
        kind,
        at: 1_000 + n,
        data: serde_json::json!({"n": n}),
    };
    for n in 0..3 {
        call!(
            "record_activity",
            store.record_activity(&s.id, &activity(ActivityKind::Decision, n))
        );
    }
    let last = call!(
        "record_activity",
        store.record_activity(&s.id, &activity(ActivityKind::Event, 10))
    );
    ensure!(
        last.decisions_logged == 3 && last.events_recorded == 1,
        "counters {}/{}",
        last.decisions_logged,
        last.events_recorded
    );
    ensure!(
        last.version == 5,
        "version after 4 activities is {}",
        last.version
    );
    let recent = call!(
        "recent_activity",
        store.recent_activity(&s.id, ActivityKind::Decision, 2)
    );
    let ns: Vec<_> = recent.iter().map(|a| a.data["n"].as_i64()).collect();
    ensure!(
        ns == [Some(2), Some(1)],
        "recent decisions {ns:?}, want newest first [2, 1]"
    );
    ensure!(
        recent.iter().all(|a| a.kind == ActivityKind::Decision),
        "kinds mixed"
    );
    let events = call!(
        "recent_activity",
        store.recent_activity(&s.id, ActivityKind::Event, 10)
    );
    ensure!(
        events.len() == 1 && events[0] == activity(ActivityKind::Event, 10),
        "events {events:?}"
    );
    // Counters survive a CAS update made from a fresh read.
    let mut fresh = call!("get_session", store.get_session(&s.id)).ok_or("vanished")?;
    fresh.stream_title = "renamed".into();
    let renamed = call!("update_session", store.update_session(&fresh));
    ensure!(
        renamed.decisions_logged == 3 && renamed.events_recorded == 1,
        "update lost counters"
    );
    // A stale copy cannot overwrite them.
    let mut stale = s.clone();
    stale.stream_title = "stale".into();
    ensure!(
        store.update_session(&stale).await.is_err(),
        "stale copy overwrote counters"
    );
    call!("update_session", store.update_session(&end(renamed, 2_000)));
    match store
        .record_activity(&s.id, &activity(ActivityKind::Decision, 99))
        .await
    {
        Err(e) if e.code() == ErrorCode::Conflict => {}
        other => {
            return Err(format!(
                "activity on an ended session gave {other:?}, want CONFLICT"
            ))
        }
    }
    match store
        .record_activity(&SessionId::generate(), &activity(ActivityKind::Event, 1))
        .await
    {
        Err(e) if e.code() == ErrorCode::NotFound => Ok(()),
        other => Err(format!(
            "activity on unknown session gave {other:?}, want NOT_FOUND"
        )),
    }
}

/// Viewer counts keep the peak.
pub async fn viewer_counts_keep_the_peak(store: &dyn SessionStore) -> CheckResult {
    let s = insert_created(store, &sample_session(&user("u6"), 1_000)).await?;
    for v in [5, 9, 3] {
        call!("set_viewer_count", store.set_viewer_count(&s.id, v));
    }
    let got = call!("get_session", store.get_session(&s.id)).ok_or("vanished")?;
    ensure!(
        got.viewer_count == 3 && got.peak_viewer_count == 9,
        "viewers {}/{}",
        got.viewer_count,
        got.peak_viewer_count
    );
    ensure!(
        got.version == 4,
        "version {} after 3 viewer updates",
        got.version
    );
    Ok(())
}

/// Event ids are claimed once, and can be released for a retry.
pub async fn event_claims(store: &dyn SessionStore) -> CheckResult {
    ensure!(
        call!("claim_event", store.claim_event("EV_1", 1)),
        "first claim refused"
    );
    ensure!(
        !call!("claim_event", store.claim_event("EV_1", 2)),
        "second claim accepted"
    );
    ensure!(
        call!("claim_event", store.claim_event("EV_2", 3)),
        "other id refused"
    );
    call!("release_event", store.release_event("EV_1"));
    ensure!(
        call!("claim_event", store.claim_event("EV_1", 4)),
        "released id not claimable"
    );
    call!("release_event", store.release_event("EV_never"));
    Ok(())
}

/// Pruning forgets ids claimed before the cutoff (they can be claimed again) and keeps the
/// others.
pub async fn event_ids_are_pruned(store: &dyn SessionStore) -> CheckResult {
    for (id, at) in [("EV_old_1", 1_000), ("EV_old_2", 2_000), ("EV_new", 5_000)] {
        ensure!(
            call!("claim_event", store.claim_event(id, at)),
            "claim of {id} refused"
        );
    }
    let pruned = call!("prune_events", store.prune_events(3_000));
    ensure!(
        pruned == 2,
        "prune_events(3000) forgot {pruned} ids, expected 2"
    );
    ensure!(
        call!("claim_event", store.claim_event("EV_old_1", 6_000)),
        "a pruned id cannot be claimed again"
    );
    ensure!(
        !call!("claim_event", store.claim_event("EV_new", 6_000)),
        "an id claimed after the cutoff was forgotten"
    );
    let again = call!("prune_events", store.prune_events(3_000));
    ensure!(again == 0, "a second prune forgot {again} more ids");
    Ok(())
}

/// Credentials are stored per entity, replaced, and deleted.
pub async fn credentials(store: &dyn SessionStore) -> CheckResult {
    let e = agent("c1");
    ensure!(
        call!("get_credential", store.get_credential(&e)).is_none(),
        "credential before put"
    );
    let mut cred = PlatformCredential {
        entity: e.clone(),
        platform: Platform::Custom,
        encrypted_key: Some("aa:bb:cc".into()),
        custom_rtmp_url: Some("rtmp://127.0.0.1/live".into()),
        auto_start: true,
        enabled: true,
        keep_alive: false,
        channel: Some("blazemaster".into()),
        overlay: OverlayConfigPatch {
            voice_track_url: Some("https://cdn.example/voice.mp3".into()),
            voice_volume: Some(0.5),
            player_visual_mode: Some(PlayerVisualMode::ProfilePicture),
            ..OverlayConfigPatch::default()
        },
        updated_at: 5,
    };
    call!("put_credential", store.put_credential(&cred));
    ensure!(
        call!("get_credential", store.get_credential(&e)).as_ref() == Some(&cred),
        "read back"
    );
    let other = user("c1");
    ensure!(
        call!("get_credential", store.get_credential(&other)).is_none(),
        "user sees agent's credential"
    );
    cred.platform = Platform::Twitch;
    cred.custom_rtmp_url = None;
    cred.auto_start = false;
    cred.enabled = false;
    cred.overlay = OverlayConfigPatch::default();
    call!("put_credential", store.put_credential(&cred));
    ensure!(
        call!("get_credential", store.get_credential(&e)).as_ref() == Some(&cred),
        "replace"
    );
    ensure!(
        call!("delete_credential", store.delete_credential(&e)),
        "delete reported nothing"
    );
    ensure!(
        !call!("delete_credential", store.delete_credential(&e)),
        "second delete found one"
    );
    ensure!(
        call!("get_credential", store.get_credential(&e)).is_none(),
        "deleted credential read"
    );
    Ok(())
}

/// A lease goes to one holder until it lapses: renewed by its holder, refused to others
/// while held, taken by another once lapsed or released, and released only by its holder.
pub async fn leases(store: &dyn SessionStore) -> CheckResult {
    let lease = |holder: &str, expires_at: i64| Lease {
        name: "render:EG_lease".into(),
        holder: holder.into(),
        expires_at,
    };
    let got = call!(
        "claim_lease",
        store.claim_lease("render:EG_lease", "a", 1_000, 500)
    );
    ensure!(got == lease("a", 1_500), "first claim: {got:?}");
    let got = call!(
        "claim_lease",
        store.claim_lease("render:EG_lease", "b", 1_200, 500)
    );
    ensure!(
        got == lease("a", 1_500),
        "claim while held by another: {got:?}"
    );
    let got = call!(
        "claim_lease",
        store.claim_lease("render:EG_lease", "a", 1_400, 500)
    );
    ensure!(got == lease("a", 1_900), "renewal: {got:?}");
    let got = call!(
        "claim_lease",
        store.claim_lease("reconciler", "b", 1_400, 100)
    );
    ensure!(
        got.holder == "b" && got.expires_at == 1_500 && got.name == "reconciler",
        "another lease's claim: {got:?}"
    );
    let got = call!(
        "claim_lease",
        store.claim_lease("render:EG_lease", "b", 1_900, 500)
    );
    ensure!(got == lease("b", 2_400), "claim of a lapsed lease: {got:?}");
    ensure!(
        !call!("release_lease", store.release_lease("render:EG_lease", "a")),
        "a former holder released the lease"
    );
    let got = call!(
        "claim_lease",
        store.claim_lease("render:EG_lease", "a", 2_000, 500)
    );
    ensure!(
        got == lease("b", 2_400),
        "after a stranger's release: {got:?}"
    );
    ensure!(
        call!("release_lease", store.release_lease("render:EG_lease", "b")),
        "the holder could not release the lease"
    );
    let got = call!(
        "claim_lease",
        store.claim_lease("render:EG_lease", "a", 2_000, 500)
    );
    ensure!(got == lease("a", 2_500), "claim after release: {got:?}");
    let got = call!(
        "claim_lease",
        store.claim_lease("reconciler", "a", 1_450, 100)
    );
    ensure!(got.holder == "b", "the other lease changed hands: {got:?}");
    Ok(())
}

/// A sample game state of `lobby_id` at turn `turn`.
fn sample_game(lobby_id: &str, turn: u32) -> GameState {
    serde_json::from_value(serde_json::json!({
        "lobbyId": lobby_id, "gameId": "game_conf", "turnNumber": turn, "phase": "battle",
        "activePlayer": "opponent",
        "host": {"playerId": "agent_g", "name": "Host", "lifePoints": 8000, "handCount": 3,
                 "deckCount": 30, "graveyardCount": 2,
                 "field": [{"name": "Ember Drake", "attack": 1800, "defense": 1200,
                            "position": "defense"},
                           {"faceDown": true, "zone": "spell-trap"}]},
        "opponent": {"name": "Rival", "lifePoints": -50}
    }))
    .unwrap_or_else(|_| unreachable!("the sample game state is valid"))
}

/// Game states are kept per lobby, replaced whole, and read back exactly.
pub async fn game_states(store: &dyn SessionStore) -> CheckResult {
    ensure!(
        call!("get_game_state", store.get_game_state("lobby_g1")).is_none(),
        "game state before put"
    );
    let first = StoredGameState {
        state: sample_game("lobby_g1", 1),
        updated_at: 10,
    };
    call!("put_game_state", store.put_game_state(&first));
    let other = StoredGameState {
        state: sample_game("lobby_g2", 7),
        updated_at: 11,
    };
    call!("put_game_state", store.put_game_state(&other));
    let got = call!("get_game_state", store.get_game_state("lobby_g1"));
    ensure!(got.as_ref() == Some(&first), "read back {got:?}");
    let mut next = first.clone();
    next.state.turn_number = 2;
    next.state.host.field.clear();
    next.updated_at = 20;
    call!("put_game_state", store.put_game_state(&next));
    let got = call!("get_game_state", store.get_game_state("lobby_g1"));
    ensure!(got.as_ref() == Some(&next), "replace: read back {got:?}");
    let got = call!("get_game_state", store.get_game_state("lobby_g2"));
    ensure!(
        got.as_ref() == Some(&other),
        "the other lobby changed: {got:?}"
    );
    Ok(())
}

/// Viewer samples are kept per session, read back oldest first (then by destination),
/// a sample for the same destination and time replaces the stored one, and `limit` holds.
pub async fn viewer_samples(store: &dyn SessionStore) -> CheckResult {
    let s = sample_session(&agent("samples"), 1_000);
    let other = sample_session(&agent("samples_other"), 1_001);
    let sample = |session: &StreamSession, destination: &str, at: i64, viewers: u64| ViewerSample {
        session_id: session.id.clone(),
        destination_id: destination.into(),
        platform: if destination == "dst_b" {
            Platform::Youtube
        } else {
            Platform::Twitch
        },
        at,
        viewers,
    };
    ensure!(
        call!("viewer_samples", store.viewer_samples(&s.id, 100)).is_empty(),
        "samples before any were recorded"
    );
    call!("record_viewer_samples", store.record_viewer_samples(&[]));
    call!(
        "record_viewer_samples",
        store.record_viewer_samples(&[
            sample(&s, "dst_b", 2_000, 7),
            sample(&s, "dst_a", 2_000, 5),
            sample(&other, "dst_a", 2_000, 99),
        ])
    );
    call!(
        "record_viewer_samples",
        store.record_viewer_samples(&[
            sample(&s, "dst_a", 1_500, 3),
            sample(&s, "dst_a", 3_000, 12)
        ])
    );
    // The same destination and time again: the later count wins.
    call!(
        "record_viewer_samples",
        store.record_viewer_samples(&[sample(&s, "dst_b", 2_000, 8)])
    );
    let got = call!("viewer_samples", store.viewer_samples(&s.id, 100));
    let want = vec![
        sample(&s, "dst_a", 1_500, 3),
        sample(&s, "dst_a", 2_000, 5),
        sample(&s, "dst_b", 2_000, 8),
        sample(&s, "dst_a", 3_000, 12),
    ];
    ensure!(got == want, "read back {got:?}, want {want:?}");
    let got = call!("viewer_samples", store.viewer_samples(&s.id, 2));
    ensure!(got == want[..2], "limit 2: {got:?}");
    let got = call!("viewer_samples", store.viewer_samples(&other.id, 100));
    ensure!(
        got == vec![sample(&other, "dst_a", 2_000, 99)],
        "the other session: {got:?}"
    );
    Ok(())
}

/// Timeline entries are kept per session in the order appended (also within one batch and
/// at equal times), read back exactly, and `limit` holds.
pub async fn timelines(store: &dyn SessionStore) -> CheckResult {
    let s = sample_session(&agent("timeline"), 1_000);
    let other = sample_session(&agent("timeline_other"), 1_001);
    let entry =
        |session: &StreamSession,
         at: i64,
         kind: TimelineKind,
         status: SessionStatus,
         cause: &str| { TimelineEntry::new(&session.id, at, kind, status, cause) };
    ensure!(
        call!("timeline", store.timeline(&s.id, 10)).is_empty(),
        "a timeline before anything was appended"
    );
    call!("append_timeline", store.append_timeline(&[]));
    let first = vec![
        entry(
            &s,
            1_000,
            TimelineKind::Created,
            SessionStatus::Initializing,
            "start: twitch, 1 output",
        ),
        entry(
            &s,
            1_000,
            TimelineKind::Started,
            SessionStatus::Pending,
            "egress EG_1 started",
        ),
        entry(
            &other,
            1_002,
            TimelineKind::Created,
            SessionStatus::Initializing,
            "start",
        ),
    ];
    call!("append_timeline", store.append_timeline(&first));
    // Later entries may carry an earlier time (clocks differ between replicas): order is
    // the order appended.
    let later = vec![
        entry(
            &s,
            999,
            TimelineKind::EgressUpdate,
            SessionStatus::Live,
            "EGRESS_ACTIVE",
        ),
        entry(
            &s,
            5_000,
            TimelineKind::Stopped,
            SessionStatus::Ended,
            "manual — «ended» by a person",
        ),
    ];
    call!("append_timeline", store.append_timeline(&later));
    let got = call!("timeline", store.timeline(&s.id, 10));
    let want = vec![
        first[0].clone(),
        first[1].clone(),
        later[0].clone(),
        later[1].clone(),
    ];
    ensure!(got == want, "read back {got:?}, want {want:?}");
    let got = call!("timeline", store.timeline(&s.id, 3));
    ensure!(got == want[..3], "limit 3: {got:?}");
    let got = call!("timeline", store.timeline(&other.id, 10));
    ensure!(got == first[2..], "the other session: {got:?}");
    Ok(())
}

/// One seeded session of the analytics data set: created `day_offset_ms` after
/// 2026-12-01 00:00 UTC on `platform`, ended (with `streamed_ms` on air and `reason`) or
/// left live, with `peak` viewers, `decisions` and `events`, and viewer `readings`
/// (time offset, destination, viewers).
struct Seeded<'a> {
    entity: Entity,
    created: i64,
    platform: Platform,
    ended: Option<(SessionStatus, i64, &'a str)>,
    dry_run: bool,
    peak: u64,
    decisions: u64,
    events: u64,
    readings: &'a [(i64, &'a str, u64)],
}

async fn seed(store: &dyn SessionStore, d: &Seeded<'_>) -> CheckResult {
    let mut s = sample_session(&d.entity, d.created);
    s.platform = d.platform;
    s.dry_run = d.dry_run;
    let mut s = insert_created(store, &s).await?;
    // Live first: viewers and activity are only counted for a session that is on.
    s.status = SessionStatus::Live;
    s.started_at = Some(d.created);
    let mut s = call!("update_session", store.update_session(&s));
    if d.peak > 0 {
        s = call!("set_viewer_count", store.set_viewer_count(&s.id, d.peak));
    }
    let activity = |kind: ActivityKind| Activity {
        kind,
        at: d.created + 1,
        data: serde_json::json!({}),
    };
    for _ in 0..d.decisions {
        s = call!(
            "record_activity",
            store.record_activity(&s.id, &activity(ActivityKind::Decision))
        );
    }
    for _ in 0..d.events {
        s = call!(
            "record_activity",
            store.record_activity(&s.id, &activity(ActivityKind::Event))
        );
    }
    if let Some((status, streamed, reason)) = d.ended {
        s.status = status;
        s.ended_at = Some(d.created + streamed);
        s.end_reason = Some(reason.into());
        s.stats = Some(SessionStats {
            duration: streamed,
            decisions_logged: d.decisions,
            events_recorded: d.events,
            peak_viewer_count: d.peak,
        });
        call!("update_session", store.update_session(&s));
    }
    let samples: Vec<ViewerSample> = d
        .readings
        .iter()
        .map(|(at, destination, viewers)| ViewerSample {
            session_id: s.id.clone(),
            destination_id: (*destination).into(),
            platform: d.platform,
            at: d.created + at,
            viewers: *viewers,
        })
        .collect();
    call!(
        "record_viewer_samples",
        store.record_viewer_samples(&samples)
    );
    Ok(())
}

/// Analytics sums per day, platform and entity over a seeded data set, against figures
/// worked out by hand: the range, dry runs and the entity filter hold; readings add up a
/// session's destinations at one time.
pub async fn analytics_sums(store: &dyn SessionStore) -> CheckResult {
    const DAY1: i64 = 1_796_083_200_000; // 2026-12-01 00:00 UTC
    const DAY: i64 = 86_400_000;
    const HOUR: i64 = 3_600_000;
    let ended = SessionStatus::Ended;
    let data = [
        // Before the range: never counted.
        Seeded {
            entity: agent("an_e"),
            created: DAY1 - 1,
            platform: Platform::Kick,
            ended: Some((ended, HOUR, "manual")),
            dry_run: false,
            peak: 99,
            decisions: 0,
            events: 0,
            readings: &[(10, "dst_k", 99)],
        },
        Seeded {
            entity: agent("an_a"),
            created: DAY1 + 10,
            platform: Platform::Twitch,
            ended: Some((ended, HOUR, "manual")),
            dry_run: false,
            peak: 40,
            decisions: 2,
            events: 1,
            readings: &[
                (60_000, "dst_a1", 10),
                (60_000, "dst_a2", 5),
                (120_000, "dst_a1", 30),
            ],
        },
        Seeded {
            entity: agent("an_b"),
            created: DAY1 + 20,
            platform: Platform::Youtube,
            ended: Some((SessionStatus::Error, 0, "egress_failed")),
            dry_run: false,
            peak: 0,
            decisions: 0,
            events: 0,
            readings: &[],
        },
        Seeded {
            entity: user("an_c"),
            created: DAY1 + DAY + 5,
            platform: Platform::Twitch,
            ended: Some((ended, HOUR / 2, "manual")),
            dry_run: false,
            peak: 12,
            decisions: 0,
            events: 3,
            readings: &[(1_000, "dst_c", 12)],
        },
        Seeded {
            entity: user("an_d"),
            created: DAY1 + DAY + 6,
            platform: Platform::Twitch,
            ended: Some((ended, HOUR / 6, "manual")),
            dry_run: true,
            peak: 0,
            decisions: 0,
            events: 0,
            readings: &[],
        },
        // Still live: counted, nothing on air yet, no end reason.
        Seeded {
            entity: agent("an_f"),
            created: DAY1 + DAY + 7,
            platform: Platform::Twitch,
            ended: None,
            dry_run: false,
            peak: 7,
            decisions: 1,
            events: 0,
            readings: &[(500, "dst_f", 7)],
        },
        // After the range.
        Seeded {
            entity: agent("an_g"),
            created: DAY1 + 2 * DAY,
            platform: Platform::Twitch,
            ended: Some((ended, HOUR, "manual")),
            dry_run: false,
            peak: 1,
            decisions: 0,
            events: 0,
            readings: &[],
        },
    ];
    for d in &data {
        seed(store, d).await?;
    }
    let filter = |group, include_dry_runs, entity: Option<Entity>| AnalyticsFilter {
        from_ms: DAY1,
        to_ms: DAY1 + 2 * DAY,
        group,
        entity,
        include_dry_runs,
    };
    let reasons = |pairs: &[(&str, u64)]| {
        pairs
            .iter()
            .map(|(r, n)| ((*r).to_owned(), *n))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let totals = |key: &str,
                  sessions,
                  streamed_ms,
                  peak,
                  viewer_sum,
                  readings,
                  decisions,
                  events,
                  errors,
                  end: &[(&str, u64)]| GroupTotals {
        key: key.into(),
        sessions,
        streamed_ms,
        peak_viewers: peak,
        viewer_sum,
        readings,
        decisions,
        events,
        errors,
        end_reasons: reasons(end),
    };
    let by_day = call!(
        "analytics",
        store.analytics(&filter(AnalyticsGroup::Day, false, None))
    );
    let want = vec![
        totals(
            "2026-12-01",
            2,
            HOUR,
            40,
            45,
            2,
            2,
            1,
            1,
            &[("egress_failed", 1), ("manual", 1)],
        ),
        totals(
            "2026-12-02",
            2,
            HOUR / 2,
            12,
            19,
            2,
            1,
            3,
            0,
            &[("manual", 1)],
        ),
    ];
    ensure!(by_day == want, "by day: {by_day:?}, want {want:?}");
    let with_dry = call!(
        "analytics",
        store.analytics(&filter(AnalyticsGroup::Day, true, None))
    );
    ensure!(
        with_dry.get(1).map(|g| (
            g.sessions,
            g.streamed_ms,
            g.end_reasons.get("manual").copied()
        )) == Some((3, HOUR / 2 + HOUR / 6, Some(2))),
        "dry runs included: {with_dry:?}"
    );
    let by_month = call!(
        "analytics",
        store.analytics(&filter(AnalyticsGroup::Month, false, None))
    );
    let month: Vec<(&str, u64, i64, u64)> = by_month
        .iter()
        .map(|g| (g.key.as_str(), g.sessions, g.streamed_ms, g.viewer_sum))
        .collect();
    ensure!(
        month == [("2026-12", 4, HOUR + HOUR / 2, 64)],
        "by month: {by_month:?}"
    );
    let by_platform = call!(
        "analytics",
        store.analytics(&filter(AnalyticsGroup::Platform, false, None))
    );
    let keys: Vec<(&str, u64, u64)> = by_platform
        .iter()
        .map(|g| (g.key.as_str(), g.sessions, g.peak_viewers))
        .collect();
    ensure!(
        keys == [("twitch", 3, 40), ("youtube", 1, 0)],
        "by platform: {by_platform:?}"
    );
    let by_entity = call!(
        "analytics",
        store.analytics(&filter(AnalyticsGroup::Entity, false, None))
    );
    let keys: Vec<&str> = by_entity.iter().map(|g| g.key.as_str()).collect();
    ensure!(
        keys == ["agent:an_a", "agent:an_b", "agent:an_f", "user:an_c"],
        "by entity: {keys:?}"
    );
    let own = call!(
        "analytics",
        store.analytics(&filter(AnalyticsGroup::Day, false, Some(user("an_c"))))
    );
    ensure!(
        own == vec![totals(
            "2026-12-02",
            1,
            HOUR / 2,
            12,
            12,
            1,
            0,
            3,
            0,
            &[("manual", 1)]
        )],
        "one entity: {own:?}"
    );
    Ok(())
}

/// 50 concurrent inserts for one entity: exactly one session is created.
pub async fn concurrent_inserts_have_one_winner(store: &dyn SessionStore) -> CheckResult {
    let e = agent("race");
    let sessions: Vec<_> = (0..50).map(|i| sample_session(&e, 1_000 + i)).collect();
    let results = join_all(sessions.iter().map(|s| store.insert_session(s))).await;
    let mut created = Vec::new();
    let mut existing = Vec::new();
    for r in results {
        match r.map_err(|e| format!("insert failed: {e}"))? {
            Insert::Created(s) => created.push(s.id),
            Insert::Existing(s) => existing.push(s.id),
        }
    }
    ensure!(created.len() == 1, "{} sessions created", created.len());
    ensure!(
        existing.iter().all(|id| *id == created[0]),
        "Existing points elsewhere"
    );
    let page = call!(
        "list_sessions",
        store.list_sessions(&SessionQuery {
            entity: Some(e),
            ..Default::default()
        })
    );
    ensure!(
        page.sessions.len() == 1,
        "{} sessions stored",
        page.sessions.len()
    );
    Ok(())
}

/// Concurrent read-modify-write loops lose no update.
pub async fn concurrent_updates_lose_nothing(store: &dyn SessionStore) -> CheckResult {
    let s = insert_created(store, &sample_session(&agent("cas"), 1_000)).await?;
    let id = s.id.clone();
    let bump = || async {
        for _ in 0..1_000 {
            let mut cur = store
                .get_session(&id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("vanished")?;
            let n: u32 = cur.stream_title.parse().unwrap_or(0);
            cur.stream_title = (n + 1).to_string();
            match store.update_session(&cur).await {
                Ok(_) => return Ok::<(), String>(()),
                Err(e) if e.code() == ErrorCode::Conflict => continue,
                Err(e) => return Err(e.to_string()),
            }
        }
        Err("gave up after 1000 conflicts".into())
    };
    for r in join_all((0..20).map(|_| bump())).await {
        r?;
    }
    let got = call!("get_session", store.get_session(&id)).ok_or("vanished")?;
    ensure!(
        got.stream_title == "20",
        "title {} after 20 increments",
        got.stream_title
    );
    ensure!(got.version == 21, "version {}", got.version);
    Ok(())
}

/// 50 concurrent claims of one event id: exactly one wins.
pub async fn concurrent_claims_have_one_winner(store: &dyn SessionStore) -> CheckResult {
    let results = join_all((0..50).map(|i| store.claim_event("EV_dup", i))).await;
    let mut wins = 0;
    for r in results {
        if r.map_err(|e| format!("claim failed: {e}"))? {
            wins += 1;
        }
    }
    ensure!(wins == 1, "{wins} claims won");
    Ok(())
}

/// 50 holders claiming one free lease at once: all are told the same single holder.
pub async fn concurrent_lease_claims_have_one_holder(store: &dyn SessionStore) -> CheckResult {
    let holders: Vec<String> = (0..50).map(|i| format!("replica_{i}")).collect();
    let results = join_all(
        holders
            .iter()
            .map(|h| store.claim_lease("reconciler", h, 1_000, 30_000)),
    )
    .await;
    let mut seen = Vec::new();
    for r in results {
        let lease = r.map_err(|e| format!("claim failed: {e}"))?;
        seen.push(lease.holder);
    }
    seen.dedup();
    ensure!(seen.len() == 1, "holders reported: {seen:?}");
    Ok(())
}

/// 50 concurrent activities are all counted.
pub async fn concurrent_activities_are_all_counted(store: &dyn SessionStore) -> CheckResult {
    let s = insert_created(store, &sample_session(&agent("feed"), 1_000)).await?;
    let acts: Vec<_> = (0..50)
        .map(|n| Activity {
            kind: ActivityKind::Event,
            at: n,
            data: serde_json::json!({"n": n}),
        })
        .collect();
    for r in join_all(acts.iter().map(|a| store.record_activity(&s.id, a))).await {
        r.map_err(|e| format!("record_activity failed: {e}"))?;
    }
    let got = call!("get_session", store.get_session(&s.id)).ok_or("vanished")?;
    ensure!(
        got.events_recorded == 50,
        "{} events counted",
        got.events_recorded
    );
    let feed = call!(
        "recent_activity",
        store.recent_activity(&s.id, ActivityKind::Event, 100)
    );
    ensure!(feed.len() == 50, "{} events kept", feed.len());
    Ok(())
}

/// `update_session_noting` writes the session and its timeline entries when the
/// compare-and-swap wins, and neither when it loses.
pub async fn updates_note_the_timeline_only_when_written(store: &dyn SessionStore) -> CheckResult {
    let stored = insert_created(store, &sample_session(&agent("noting"), 1_000)).await?;
    let mut next = stored.clone();
    next.status = SessionStatus::Pending;
    next.egress_id = Some("EG_noting".into());
    let entries = [
        TimelineEntry::new(
            &stored.id,
            1_100,
            TimelineKind::Started,
            SessionStatus::Pending,
            "first",
        ),
        TimelineEntry::new(
            &stored.id,
            1_100,
            TimelineKind::Started,
            SessionStatus::Pending,
            "second",
        ),
    ];
    let saved = call!(
        "update_session_noting",
        store.update_session_noting(&next, &entries)
    );
    ensure!(
        saved.version == stored.version + 1 && saved.status == SessionStatus::Pending,
        "the update was not written: {saved:?}"
    );
    let timeline = call!("timeline", store.timeline(&stored.id, 10));
    ensure!(
        timeline == entries,
        "the timeline holds {timeline:?}, expected both entries in order"
    );
    // The same (now stale) version again: a conflict, and nothing more on the timeline.
    let mut stale = next.clone();
    stale.status = SessionStatus::Live;
    let late = [TimelineEntry::new(
        &stored.id,
        1_200,
        TimelineKind::EgressUpdate,
        SessionStatus::Live,
        "late",
    )];
    match store.update_session_noting(&stale, &late).await {
        Err(e) if e.code() == ErrorCode::Conflict => {}
        other => {
            return Err(format!(
                "a stale update gave {other:?}, expected a conflict"
            ))
        }
    }
    let after = call!("timeline", store.timeline(&stored.id, 10));
    ensure!(after == entries, "a lost update still noted: {after:?}");
    let current = call!("get_session", store.get_session(&stored.id));
    ensure!(
        current.as_ref().map(|s| s.status) == Some(SessionStatus::Pending),
        "a lost update was written: {current:?}"
    );
    Ok(())
}

/// Every credential comes back once, in (`streamType`, `entityId`) byte order, in pages of
/// the size asked for, each strictly after the `after` given.
pub async fn credentials_are_listed_in_pages(store: &dyn SessionStore) -> CheckResult {
    // Ids chosen so byte order differs from case-insensitive or locale order.
    let ids = ["B-2", "a_1", "a-1", "Z9", "a1", "b", "_x", "-y"];
    let mut expected = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        for entity in [agent(id), user(id)] {
            let credential = PlatformCredential {
                entity: entity.clone(),
                platform: Platform::Twitch,
                encrypted_key: Some(format!("aa:bb:{n:02x}")),
                custom_rtmp_url: None,
                auto_start: false,
                enabled: true,
                keep_alive: true,
                channel: None,
                overlay: OverlayConfigPatch::default(),
                updated_at: n as i64,
            };
            call!("put_credential", store.put_credential(&credential));
            expected.push(credential);
        }
    }
    expected.sort_by(|a, b| {
        (a.entity.stream_type.as_str(), a.entity.entity_id.as_bytes())
            .cmp(&(b.entity.stream_type.as_str(), b.entity.entity_id.as_bytes()))
    });
    let mut listed = Vec::new();
    let mut after: Option<Entity> = None;
    for _ in 0..=expected.len() {
        let page = call!(
            "list_credentials",
            store.list_credentials(after.as_ref(), 3)
        );
        ensure!(page.len() <= 3, "a page of 3 held {}", page.len());
        let Some(last) = page.last() else { break };
        after = Some(last.entity.clone());
        listed.extend(page);
    }
    let order = |list: &[PlatformCredential]| -> Vec<String> {
        list.iter()
            .map(|c| format!("{}:{}", c.entity.stream_type.as_str(), c.entity.entity_id))
            .collect()
    };
    ensure!(
        listed == expected,
        "paging gave {:?}, expected {:?}",
        order(&listed),
        order(&expected)
    );
    let all = call!("list_credentials", store.list_credentials(None, 0));
    ensure!(
        all == expected,
        "limit 0 (the default page of 50) gave {:?}",
        order(&all)
    );
    let past = call!(
        "list_credentials",
        store.list_credentials(Some(&user("zzzz")), 10)
    );
    ensure!(
        past.is_empty(),
        "a page after the last one held {}",
        past.len()
    );
    Ok(())
}

/// A stored agent key record for the agent-key checks (the hash is not checked by stores).
fn sample_agent_key(prefix: &str, agent_id: &str, created_at: i64) -> AgentKey {
    AgentKey {
        prefix: prefix.to_owned(),
        agent_id: agent_id.to_owned(),
        hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${prefix}"),
        label: (created_at % 2 == 0).then(|| format!("label of {prefix}")),
        created_at,
        revoked_at: None,
    }
}

/// The [`AgentKeyStore`] contract: a prefix is stored once (even when inserts race),
/// records round-trip, revocation keeps its first time, lists filter by agent and are
/// oldest first, and a bad prefix is refused naming `keyPrefix`.
pub async fn agent_keys(store: &dyn AgentKeyStore) -> CheckResult {
    let a1 = sample_agent_key("ltcg_aaaaaaa", "agent_a", 20);
    let a2 = sample_agent_key("ltcg_bbbbbbb", "agent_a", 10);
    let b1 = sample_agent_key("ltcg_ccccccc", "agent_b", 15);
    for key in [&a1, &a2, &b1] {
        ensure!(
            call!("insert_agent_key", store.insert_agent_key(key)),
            "{} was not stored",
            key.prefix
        );
    }
    let mut other = a1.clone();
    other.agent_id = "agent_z".into();
    ensure!(
        !call!("insert_agent_key", store.insert_agent_key(&other)),
        "a second key with a taken prefix was stored"
    );
    let got = call!("agent_key", store.agent_key(&a1.prefix));
    ensure!(
        got.as_ref() == Some(&a1),
        "agent_key returned {got:?}, expected {a1:?}"
    );
    ensure!(
        call!("agent_key", store.agent_key("ltcg_zzzzzzz")).is_none(),
        "an unknown prefix found a key"
    );
    let revoked = call!("revoke_agent_key", store.revoke_agent_key(&a2.prefix, 100));
    ensure!(
        revoked.as_ref().and_then(|k| k.revoked_at) == Some(100),
        "revoke_agent_key returned {revoked:?}"
    );
    let again = call!("revoke_agent_key", store.revoke_agent_key(&a2.prefix, 200));
    ensure!(
        again.as_ref().and_then(|k| k.revoked_at) == Some(100),
        "a second revocation changed the time: {again:?}"
    );
    ensure!(
        call!(
            "revoke_agent_key",
            store.revoke_agent_key("ltcg_zzzzzzz", 100)
        )
        .is_none(),
        "revoking an unknown prefix returned a key"
    );
    let all: Vec<String> = call!("list_agent_keys", store.list_agent_keys(None))
        .into_iter()
        .map(|k| k.prefix)
        .collect();
    ensure!(
        all == [a2.prefix.clone(), b1.prefix.clone(), a1.prefix.clone()],
        "list_agent_keys(None) gave {all:?}, expected oldest first"
    );
    let of_a = call!("list_agent_keys", store.list_agent_keys(Some("agent_a")));
    ensure!(
        of_a.len() == 2 && of_a[0].prefix == a2.prefix && of_a[0].revoked_at == Some(100),
        "list_agent_keys(agent_a) gave {of_a:?}"
    );
    match store
        .insert_agent_key(&sample_agent_key("nope", "agent_a", 1))
        .await
    {
        Err(e) if e.to_string().contains("keyPrefix") => {}
        other => {
            return Err(format!(
                "a bad prefix gave {other:?}, expected an error naming keyPrefix"
            ))
        }
    }
    let racers = sample_agent_key("ltcg_ddddddd", "agent_c", 30);
    let wins = join_all((0..8).map(|_| store.insert_agent_key(&racers))).await;
    let won = wins.iter().filter(|w| matches!(w, Ok(true))).count();
    ensure!(
        won == 1 && wins.iter().all(Result::is_ok),
        "eight racing inserts of one prefix gave {wins:?}, expected one winner"
    );
    Ok(())
}

// `CHECKS`, built from the one list of checks in `session_store_conformance!`.
crate::session_store_conformance!(@list checks []);

/// Runs every check, each on a fresh store from `make_store`; returns `(name, failure)` for
/// each failed check (empty when the store conforms).
pub async fn run_all<F, Fut>(make_store: F) -> Vec<(&'static str, String)>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn SessionStore>>,
{
    let mut failures = Vec::new();
    for (name, check) in CHECKS {
        let store = make_store().await;
        if let Err(e) = check(store.as_ref()).await {
            failures.push((*name, e));
        }
    }
    failures
}

/// Expands to one `#[tokio::test]` per conformance check, named after the check.
///
/// - `session_store_conformance!(make)`: `make` is an expression evaluated afresh for each
///   test that yields (after `.await`) a value implementing [`SessionStore`], e.g.
///   `async { MemoryStore::new() }`; the test fails with the check's description of what
///   broke.
/// - `session_store_conformance!(|name, check| { ... })`: each test runs the block with
///   `name` bound to the check's name (`&'static str`) and `check` to the check's function
///   (`async fn(&dyn SessionStore) -> CheckResult`), for stores that need their own set-up,
///   clean-up or skip rule.
/// - `session_store_conformance!(@names)`: the names of the tests either form expands to, in
///   order (a `&'static [&'static str]`).
///
/// The list of checks is written once, in this macro: [`CHECKS`] is built from it too.
#[macro_export]
macro_rules! session_store_conformance {
    // The check list, handed to the `@$then` rule after the bracketed `$args`.
    (@list $then:ident [$($args:tt)*]) => {
        $crate::session_store_conformance!(@$then [$($args)*]
            insert_and_get,
            round_trip_all_fields,
            one_active_session_per_entity,
            update_is_compare_and_swap,
            updates_note_the_timeline_only_when_written,
            find_by_egress,
            list_pages_and_filters,
            activity_feed_and_counters,
            viewer_counts_keep_the_peak,
            event_claims,
            event_ids_are_pruned,
            leases,
            credentials,
            credentials_are_listed_in_pages,
            game_states,
            viewer_samples,
            timelines,
            analytics_sums,
            concurrent_inserts_have_one_winner,
            concurrent_updates_lose_nothing,
            concurrent_claims_have_one_winner,
            concurrent_lease_claims_have_one_holder,
            concurrent_activities_are_all_counted
        );
    };
    (@checks [] $($check:ident),*) => {
        /// Every check, by name.
        pub const CHECKS: &[Check] = &[$((stringify!($check), |s| Box::pin($check(s)))),*];
    };
    (@names_of [] $($check:ident),*) => {
        &[$(stringify!($check)),*]
    };
    (@tests [$name:ident $run:ident $body:block] $($check:ident),*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let $name: &'static str = stringify!($check);
                let $run = $crate::store::conformance::$check;
                $body
            }
        )*
    };
    (@names) => {
        $crate::session_store_conformance!(@list names_of [])
    };
    (|$name:ident, $run:ident| $body:block) => {
        $crate::session_store_conformance!(@list tests [$name $run $body]);
    };
    ($make:expr) => {
        $crate::session_store_conformance!(|name, check| {
            let store = $make.await;
            let result = check(&store).await;
            if let Err(failure) = result {
                panic!("{}: {}", name, failure);
            }
        });
    };
}
