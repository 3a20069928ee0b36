//! The session state machine (`transition`): examples of each rule and a property test over
//! random event sequences (webhooks in any order, duplicates, stops, timeouts).

use ltcg_streaming_core::session::{end_reason, NewSession};
use ltcg_streaming_core::{
    transition, EgressStatus, Entity, OverlayConfig, Platform, SessionEvent, SessionStatus,
    StreamSession, StreamType,
};
use proptest::prelude::*;

const T0: i64 = 1_767_225_600_000;

fn new_session() -> StreamSession {
    StreamSession::create(
        NewSession {
            entity: Entity::agent("agent_1").unwrap(),
            entity_name: Some("Blaze".into()),
            entity_avatar_url: None,
            platform: Platform::Twitch,
            stream_title: "  ".into(),
            overlay_config: OverlayConfig::default_for(StreamType::Agent),
            lobby_id: Some("lobby_1".into()),
            destinations: Vec::new(),
            dry_run: false,
        },
        T0,
    )
    .unwrap()
}

fn egress(id: &str, status: EgressStatus) -> SessionEvent {
    SessionEvent::Egress {
        egress_id: id.into(),
        status,
        error: None,
    }
}

fn run(events: &[(SessionEvent, i64)]) -> StreamSession {
    events
        .iter()
        .fold(new_session(), |s, (e, at)| transition(&s, e, *at).session)
}

#[test]
fn new_sessions_start_initializing_with_defaults() {
    let s = new_session();
    assert_eq!(s.status, SessionStatus::Initializing);
    assert_eq!(s.stream_title, "LTCG Live");
    assert_eq!(s.created_at, T0);
    assert!(s.id.as_str().starts_with("ses_"));
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["streamType"], "agent");
    assert_eq!(json["entityId"], "agent_1");
    assert_eq!(json["currentLobbyId"], "lobby_1");
    assert!(json.get("egressId").is_none());
    let back: StreamSession = serde_json::from_value(json).unwrap();
    assert_eq!(back, s);
}

#[test]
fn happy_path_pending_live_ended_with_stats() {
    let mut s = new_session();
    s.decisions_logged = 4;
    s.events_recorded = 9;
    s.peak_viewer_count = 42;
    let t = transition(
        &s,
        &SessionEvent::EgressStarted {
            egress_id: "EG_1".into(),
        },
        T0 + 1_000,
    );
    assert!(t.changed);
    assert_eq!(t.session.status, SessionStatus::Pending);
    let t = transition(
        &t.session,
        &egress("EG_1", EgressStatus::Active),
        T0 + 5_000,
    );
    assert_eq!(t.session.status, SessionStatus::Live);
    assert_eq!(t.session.started_at, Some(T0 + 5_000));
    let t = transition(
        &t.session,
        &egress("EG_1", EgressStatus::Complete),
        T0 + 65_000,
    );
    assert_eq!(t.session.status, SessionStatus::Ended);
    assert_eq!(
        t.session.end_reason.as_deref(),
        Some(end_reason::EGRESS_COMPLETE)
    );
    let stats = t.session.stats.unwrap();
    assert_eq!(stats.duration, 60_000, "from startedAt, not createdAt");
    assert_eq!(
        (
            stats.decisions_logged,
            stats.events_recorded,
            stats.peak_viewer_count
        ),
        (4, 9, 42)
    );
    assert_eq!(t.stop_egress, None);
}

#[test]
fn webhook_before_the_start_call_returns() {
    let s = run(&[(egress("EG_1", EgressStatus::Starting), T0 + 10)]);
    assert_eq!(s.status, SessionStatus::Pending);
    assert_eq!(s.egress_id.as_deref(), Some("EG_1"));
    // The start call then returns the same id: nothing to do.
    let t = transition(
        &s,
        &SessionEvent::EgressStarted {
            egress_id: "EG_1".into(),
        },
        T0 + 20,
    );
    assert!(!t.changed);
    assert_eq!(t.stop_egress, None);
}

#[test]
fn end_reasons_are_words_and_failures_are_errors() {
    for (status, expected, reason) in [
        (
            EgressStatus::Complete,
            SessionStatus::Ended,
            "egress_complete",
        ),
        (
            EgressStatus::Aborted,
            SessionStatus::Ended,
            "egress_aborted",
        ),
        (
            EgressStatus::LimitReached,
            SessionStatus::Ended,
            "limit_reached",
        ),
        (EgressStatus::Failed, SessionStatus::Error, "error"),
    ] {
        let s = run(&[(egress("EG_1", status), T0 + 10)]);
        assert_eq!(s.status, expected);
        assert_eq!(s.end_reason.as_deref(), Some(reason));
        assert_eq!(s.stats.unwrap().duration, 0, "never live");
    }
    let failed = run(&[(
        SessionEvent::Egress {
            egress_id: "EG_1".into(),
            status: EgressStatus::Failed,
            error: Some("rtmp connection failed".into()),
        },
        T0 + 10,
    )]);
    assert_eq!(
        failed.error_message.as_deref(),
        Some("rtmp connection failed")
    );
}

#[test]
fn terminal_is_absorbing_and_late_egresses_are_stopped() {
    let ended = run(&[
        (
            SessionEvent::EgressStarted {
                egress_id: "EG_1".into(),
            },
            T0 + 1,
        ),
        (egress("EG_1", EgressStatus::Active), T0 + 2),
        (
            SessionEvent::Stop {
                reason: String::new(),
            },
            T0 + 10_002,
        ),
    ]);
    assert_eq!(ended.status, SessionStatus::Ended);
    assert_eq!(ended.end_reason.as_deref(), Some("manual"));
    // The product's bugs: ended -> error on a late egress_ended, error -> live, endedAt
    // overwritten. None of them happen here.
    for event in [
        egress("EG_1", EgressStatus::Failed),
        egress("EG_1", EgressStatus::Complete),
        SessionEvent::Stop {
            reason: "again".into(),
        },
        SessionEvent::StartTimedOut,
        SessionEvent::MaxDurationReached,
        SessionEvent::EgressVanished,
    ] {
        let t = transition(&ended, &event, T0 + 99_999);
        assert!(!t.changed, "{event:?}");
        assert_eq!(t.session, ended);
    }
    // An egress that reports running for an ended session is stopped.
    let t = transition(&ended, &egress("EG_1", EgressStatus::Active), T0 + 99_999);
    assert_eq!(t.stop_egress.as_deref(), Some("EG_1"));
    let t = transition(
        &ended,
        &SessionEvent::EgressStarted {
            egress_id: "EG_2".into(),
        },
        T0 + 99_999,
    );
    assert_eq!(
        t.stop_egress.as_deref(),
        Some("EG_2"),
        "start returned after a stop"
    );
}

#[test]
fn stop_stops_the_egress_and_cleans_the_reason() {
    let live = run(&[(egress("EG_1", EgressStatus::Active), T0 + 1)]);
    let t = transition(
        &live,
        &SessionEvent::Stop {
            reason: " replaced_by_new_start\n".into(),
        },
        T0 + 2,
    );
    assert_eq!(t.stop_egress.as_deref(), Some("EG_1"));
    assert_eq!(
        t.session.end_reason.as_deref(),
        Some("replaced_by_new_start")
    );
    let initializing = new_session();
    let t = transition(
        &initializing,
        &SessionEvent::Stop {
            reason: "x".repeat(500),
        },
        T0 + 2,
    );
    assert_eq!(t.session.status, SessionStatus::Ended);
    assert_eq!(t.stop_egress, None);
    assert_eq!(t.session.end_reason.unwrap().len(), 64);
}

#[test]
fn start_failures_and_uncertain_starts() {
    let s = new_session();
    let t = transition(
        &s,
        &SessionEvent::StartFailed {
            message: "quota exceeded".into(),
        },
        T0 + 5,
    );
    assert_eq!(t.session.status, SessionStatus::Error);
    assert_eq!(t.session.error_message.as_deref(), Some("quota exceeded"));
    let t = transition(&s, &SessionEvent::StartUncertain, T0 + 5);
    assert!(t.session.start_uncertain);
    assert_eq!(t.session.status, SessionStatus::Initializing);
    let adopted = transition(&t.session, &egress("EG_9", EgressStatus::Starting), T0 + 6).session;
    assert!(!adopted.start_uncertain);
    assert_eq!(adopted.egress_id.as_deref(), Some("EG_9"));
    // A second egress for the same session is stopped, never adopted.
    let t = transition(
        &adopted,
        &SessionEvent::EgressStarted {
            egress_id: "EG_10".into(),
        },
        T0 + 7,
    );
    assert_eq!(t.stop_egress.as_deref(), Some("EG_10"));
    assert_eq!(t.session.egress_id.as_deref(), Some("EG_9"));
}

#[test]
fn reconciler_events() {
    let pending = run(&[(
        SessionEvent::EgressStarted {
            egress_id: "EG_1".into(),
        },
        T0 + 1,
    )]);
    let t = transition(&pending, &SessionEvent::StartTimedOut, T0 + 300_001);
    assert_eq!(t.session.status, SessionStatus::Error);
    assert_eq!(t.stop_egress.as_deref(), Some("EG_1"));
    let live = run(&[(egress("EG_1", EgressStatus::Active), T0 + 1)]);
    assert!(!transition(&live, &SessionEvent::StartTimedOut, T0 + 400_000).changed);
    let t = transition(&live, &SessionEvent::MaxDurationReached, T0 + 43_200_001);
    assert_eq!(t.session.status, SessionStatus::Ended);
    assert_eq!(t.session.end_reason.as_deref(), Some("max_duration"));
    assert_eq!(
        t.stop_egress.as_deref(),
        Some("EG_1"),
        "the product's cron forgot this"
    );
    assert_eq!(t.session.stats.unwrap().duration, 43_200_000);
    let t = transition(&live, &SessionEvent::EgressVanished, T0 + 61);
    assert_eq!(t.session.end_reason.as_deref(), Some("egress_lost"));
    assert!(!transition(&new_session(), &SessionEvent::EgressVanished, T0).changed);
}

fn arb_event() -> impl Strategy<Value = SessionEvent> {
    let id = prop_oneof![Just("EG_a".to_owned()), Just("EG_b".to_owned())];
    let status = prop_oneof![
        Just(EgressStatus::Starting),
        Just(EgressStatus::Active),
        Just(EgressStatus::Ending),
        Just(EgressStatus::Complete),
        Just(EgressStatus::Failed),
        Just(EgressStatus::Aborted),
        Just(EgressStatus::LimitReached),
    ];
    prop_oneof![
        4 => (id.clone(), status, proptest::option::of("[a-z ]{0,8}"))
            .prop_map(|(egress_id, status, error)| SessionEvent::Egress { egress_id, status, error }),
        2 => id.prop_map(|egress_id| SessionEvent::EgressStarted { egress_id }),
        1 => "[a-z_]{0,12}".prop_map(|reason| SessionEvent::Stop { reason }),
        1 => Just(SessionEvent::StartFailed { message: "boom".into() }),
        1 => Just(SessionEvent::StartUncertain),
        1 => Just(SessionEvent::StartTimedOut),
        1 => Just(SessionEvent::MaxDurationReached),
        1 => Just(SessionEvent::EgressVanished),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// For any sequence of events, duplicated and reordered, at arbitrary (even
    /// non-monotonic) times: terminal never changes, status never moves backwards,
    /// `startedAt` is set at most once, durations are never negative.
    #[test]
    fn lifecycle_invariants(events in proptest::collection::vec((arb_event(), -10_000i64..10_000_000), 0..40)) {
        let mut s = new_session();
        let mut started_at = None;
        let mut terminal: Option<StreamSession> = None;
        for (event, offset) in events {
            // Duplicates: apply every event twice.
            for _ in 0..2 {
                let now = T0 + offset;
                let t = transition(&s, &event, now);
                let next = t.session;
                prop_assert!(next.status.rank() >= s.status.rank(), "{:?} -> {:?}", s.status, next.status);
                if let Some(frozen) = &terminal {
                    prop_assert_eq!(&next, frozen);
                    prop_assert!(!t.changed);
                }
                if let Some(first) = started_at {
                    prop_assert_eq!(next.started_at, Some(first));
                }
                started_at = next.started_at;
                prop_assert!(next.duration_ms(now) >= 0);
                if let Some(stats) = next.stats {
                    prop_assert!(stats.duration >= 0);
                    prop_assert!(next.status.is_terminal());
                }
                if next.status.is_terminal() {
                    prop_assert!(next.stats.is_some() && next.ended_at.is_some() && next.end_reason.is_some());
                    terminal.get_or_insert_with(|| next.clone());
                }
                if !t.changed {
                    prop_assert_eq!(&next, &s);
                }
                s = next;
            }
        }
    }
}
