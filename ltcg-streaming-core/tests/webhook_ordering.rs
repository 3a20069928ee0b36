//! Lost, duplicated and reordered LiveKit webhooks always lead to the same session.
//!
//! One real session's egress webhook sequence, as LiveKit sends it for a web egress that
//! renders our overlay and ends normally:
//!
//! 1. `egress_started`  (status `EGRESS_STARTING`, left out of the protojson as a zero value)
//! 2. `egress_updated`  (`EGRESS_ACTIVE`, `startedAt`)
//! 3. `egress_updated`  (`EGRESS_ENDING`, `startedAt`)
//! 4. `egress_ended`    (`EGRESS_COMPLETE`, `startedAt`, `endedAt`)
//!
//! each with its own event id, `createdAt`, and nanosecond timestamps, signed the way
//! LiveKit signs them. Running it in order gives the reference result (status `ended`, the
//! egress id, `startedAt`/`endedAt` from the egress's own timestamps, `endReason`
//! `egress_complete`, stats with the exact on-air duration and the activity counters).
//!
//! What the tests prove, each on a fresh in-process service (memory store, memory egress,
//! manual clock):
//! - every permutation of the sequence gives exactly the reference result, through the
//!   signed `handle_webhook` path and through `ingest_egress_event`;
//! - every permutation with every event delivered twice (the permutation followed by itself
//!   reversed, followed by the sequence reversed, and with each event immediately repeated)
//!   gives the reference result, and every second delivery is reported as a duplicate that
//!   changed nothing;
//! - every drop pattern (every subset of the sequence, in every order) gives the reference
//!   result whenever `egress_ended` arrives; when it was lost, the session stays
//!   non-terminal with exactly what the delivered events prove, and one reconciler pass with
//!   the egress in its true final state ends it with the documented fallback (the
//!   reconciler only sees *active* egresses, so it cannot learn the true `endedAt` or
//!   `endReason`); webhooks arriving after that change nothing;
//! - a reconciler pass while the egress is still active recovers a lost `EGRESS_ACTIVE`
//!   exactly when the backend reports the egress's start time (LiveKit does), and with the
//!   reconciliation time when it does not (the in-memory backend);
//! - a stop issued by the stream's owner before the egress went active, while it was
//!   active but its `EGRESS_ACTIVE` webhook was still in flight, and after it went live,
//!   followed by late, reordered and duplicated webhooks in every order, ends with exactly
//!   one terminal state, no egress left running, and the stats frozen at the stop.
//!
//! No wall-clock time is asserted: every time comes from the manual clock or the events.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ltcg_streaming_core::egress::{EgressBackend, EgressRequest, EgressSummary};
use ltcg_streaming_core::service::{
    DecisionInput, EventInput, RateLimitConfig, ReconcileReport, StopStreamRequest, WebhookOutcome,
};
use ltcg_streaming_core::session::SessionStats;
use ltcg_streaming_core::store::SessionQuery;
use ltcg_streaming_core::{
    Actor, Clock, EgressEvent, EgressStatus, Entity, MemoryEgress, MemoryStore, SecretString,
    SessionId, SessionStatus,
};
use ltcg_streaming_test_support::harness::*;
use serde_json::{json, Value};

/// When the egress really went active (the `startedAt` LiveKit reports), Unix ms.
const STARTED_AT_MS: i64 = T0 + 2_350;
/// The same in nanoseconds, with sub-millisecond digits as the egress writes them.
const STARTED_AT_NS: i64 = STARTED_AT_MS * 1_000_000 + 123_456;
/// When the egress really ended (`endedAt`), Unix ms.
const ENDED_AT_MS: i64 = T0 + 95_870;
const ENDED_AT_NS: i64 = ENDED_AT_MS * 1_000_000 + 654_321;
/// Milliseconds on air in the reference run.
const ON_AIR_MS: i64 = ENDED_AT_MS - STARTED_AT_MS;
/// Webhooks are delivered after the fact (late, in whatever order the network chose).
const DELIVER_AT_MS: i64 = ENDED_AT_MS + 1_500;
/// One reconciler pass, more than its 60 s grace period after any webhook.
const RECONCILE_AT_MS: i64 = DELIVER_AT_MS + 120_000;

const AGENT: &str = "agent_webhook_order";
const DECISIONS: u64 = 2;
const EVENTS: u64 = 1;
const PEAK_VIEWERS: u64 = 19;

/// The four webhooks of the sequence (plus the extra ones the stop scenarios need).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Ev {
    /// `egress_started`, status STARTING (omitted: protojson zero value).
    Started,
    /// `egress_updated` EGRESS_ACTIVE with `startedAt`.
    Active,
    /// `egress_updated` EGRESS_ENDING with `startedAt`.
    Ending,
    /// `egress_ended` EGRESS_COMPLETE with `startedAt` and `endedAt`.
    Ended,
}

const SEQUENCE: [Ev; 4] = [Ev::Started, Ev::Active, Ev::Ending, Ev::Ended];

impl Ev {
    /// LiveKit's unique event ids (`EV_` + 12 characters), one per event.
    fn id(self) -> &'static str {
        match self {
            Ev::Started => "EV_Rk2yU8dLq3Zt",
            Ev::Active => "EV_7bWcN4xPa9Qe",
            Ev::Ending => "EV_mF5hJ2sVt8Ky",
            Ev::Ended => "EV_Xq3Lz6Rg1DnW",
        }
    }
}

/// How a webhook reaches the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// Raw body + `Authorization` JWT through `handle_webhook` (signature verified).
    Signed,
    /// A parsed event through `ingest_egress_event`.
    Ingest,
}

/// A started stream and what the tests need to feed and inspect it.
struct Stream {
    h: Harness,
    actor: Actor,
    entity: Entity,
    session_id: SessionId,
    egress_id: String,
    overlay_url: String,
}

/// The redacted output URL LiveKit reports for the harness's Twitch key.
const REDACTED_OUTPUT: &str = "rtmps://live.twitch.tv/app/{liv...nop}";

fn ns(v: i64) -> String {
    v.to_string()
}

/// A protojson `WebhookEvent` body as LiveKit's server writes it for `ev` (camelCase,
/// int64 as strings, zero values left out).
fn webhook_body(ev: Ev, egress_id: &str, overlay_url: &str) -> String {
    let web = json!({
        "url": overlay_url,
        "streamOutputs": [{"protocol": "RTMP", "urls": [REDACTED_OUTPUT]}],
    });
    let (event, created_ms, info) = match ev {
        Ev::Started => (
            "egress_started",
            T0 + 400,
            json!({
                "egressId": egress_id,
                "updatedAt": ns(T0 * 1_000_000 + 400_000_000),
                "web": web,
                "streamResults": [{"url": REDACTED_OUTPUT}],
            }),
        ),
        Ev::Active => (
            "egress_updated",
            STARTED_AT_MS + 5,
            json!({
                "egressId": egress_id,
                "status": "EGRESS_ACTIVE",
                "startedAt": ns(STARTED_AT_NS),
                "updatedAt": ns(STARTED_AT_NS + 5_000_000),
                "web": web,
                "streamResults": [{"url": REDACTED_OUTPUT, "startedAt": ns(STARTED_AT_NS + 380_000_000)}],
            }),
        ),
        Ev::Ending => (
            "egress_updated",
            ENDED_AT_MS - 800,
            json!({
                "egressId": egress_id,
                "status": "EGRESS_ENDING",
                "startedAt": ns(STARTED_AT_NS),
                "updatedAt": ns(ENDED_AT_NS - 800_000_000),
                "details": "Source closed",
                "web": web,
                "streamResults": [{"url": REDACTED_OUTPUT, "startedAt": ns(STARTED_AT_NS + 380_000_000)}],
            }),
        ),
        Ev::Ended => (
            "egress_ended",
            ENDED_AT_MS + 20,
            json!({
                "egressId": egress_id,
                "status": "EGRESS_COMPLETE",
                "startedAt": ns(STARTED_AT_NS),
                "endedAt": ns(ENDED_AT_NS),
                "updatedAt": ns(ENDED_AT_NS),
                "details": "Source closed",
                "web": web,
                "streamResults": [{
                    "url": REDACTED_OUTPUT,
                    "status": "FINISHED",
                    "startedAt": ns(STARTED_AT_NS + 380_000_000),
                    "endedAt": ns(ENDED_AT_NS - 10_000_000),
                    "duration": ns(ENDED_AT_NS - 10_000_000 - STARTED_AT_NS - 380_000_000),
                }],
            }),
        ),
    };
    json!({
        "event": event,
        "id": ev.id(),
        "createdAt": (created_ms / 1000).to_string(),
        "room": {},
        "egressInfo": info,
    })
    .to_string()
}

/// Delivers a raw webhook body.
async fn deliver_body(s: &Stream, body: &str, via: Via) -> WebhookOutcome {
    match via {
        Via::Signed => {
            let auth = sign_webhook(body, s.h.clock.now_secs());
            s.h.service
                .handle_webhook(body.as_bytes(), &auth)
                .await
                .unwrap_or_else(|e| panic!("webhook refused: {e}"))
        }
        Via::Ingest => {
            let event = EgressEvent::parse(body.as_bytes()).unwrap();
            s.h.service.ingest_egress_event(event).await.unwrap()
        }
    }
}

async fn deliver(s: &Stream, ev: Ev, via: Via) -> WebhookOutcome {
    let body = webhook_body(ev, &s.egress_id, &s.overlay_url);
    let out = deliver_body(s, &body, via).await;
    assert!(out.received, "{ev:?}: {out:?}");
    assert_eq!(out.egress_id.as_deref(), Some(s.egress_id.as_str()));
    if !out.duplicate {
        assert_eq!(out.session_id.as_ref(), Some(&s.session_id), "{ev:?}");
    }
    out
}

/// Starts an agent stream at `T0` on `h` and records some activity, so the stats have
/// more than a duration to freeze.
async fn start_on(h: Harness) -> Stream {
    let actor = Actor::agent(AGENT).unwrap();
    let started = h
        .service
        .start_stream(&actor, agent_start(AGENT))
        .await
        .unwrap();
    assert_eq!(started.status, SessionStatus::Pending);
    let session = h
        .store
        .get_session(&started.session_id)
        .await
        .unwrap()
        .unwrap();
    let egress_id = session.egress_id.clone().unwrap();
    for turn in 1..=DECISIONS {
        h.service
            .record_decision(
                &actor,
                DecisionInput {
                    game_id: "game_1".into(),
                    turn_number: turn as u32,
                    phase: "main".into(),
                    action: "attack".into(),
                    reasoning: "the board is open".into(),
                    ..DecisionInput::default()
                },
            )
            .await
            .unwrap();
    }
    for _ in 0..EVENTS {
        h.service
            .record_event(
                &actor,
                EventInput {
                    game_id: "game_1".into(),
                    turn_number: 1,
                    event_type: "card_played".into(),
                    description: "a card was played".into(),
                    ..EventInput::default()
                },
            )
            .await
            .unwrap();
    }
    for viewers in [7, PEAK_VIEWERS, 11] {
        h.service
            .update_viewer_count(&actor, &started.session_id, viewers)
            .await
            .unwrap();
    }
    Stream {
        actor,
        entity: Entity::agent(AGENT).unwrap(),
        session_id: started.session_id,
        egress_id,
        overlay_url: started.overlay_url,
        h,
    }
}

async fn start() -> Stream {
    start_on(Harness::new()).await
}

/// What a session ended up as: everything the lifecycle decides, nothing incidental
/// (`updatedAt`, `version`).
#[derive(Debug, Clone, PartialEq)]
struct Final {
    status: SessionStatus,
    egress_id: Option<String>,
    started_at: Option<i64>,
    ended_at: Option<i64>,
    end_reason: Option<String>,
    error_message: Option<String>,
    start_uncertain: bool,
    stats: Option<SessionStats>,
    /// `duration` of the public status view.
    view_duration: i64,
}

async fn final_state(s: &Stream) -> Final {
    let session = s.h.store.get_session(&s.session_id).await.unwrap().unwrap();
    let view =
        s.h.service
            .get_status(&Actor::Internal, &s.session_id)
            .await
            .unwrap();
    assert_eq!(
        (view.status, view.started_at, view.ended_at, view.stats),
        (
            session.status,
            session.started_at,
            session.ended_at,
            session.stats
        ),
        "the status view agrees with the stored session"
    );
    Final {
        status: session.status,
        egress_id: session.egress_id,
        started_at: session.started_at,
        ended_at: session.ended_at,
        end_reason: session.end_reason,
        error_message: session.error_message,
        start_uncertain: session.start_uncertain,
        stats: session.stats,
        view_duration: view.duration,
    }
}

/// The reference result, written out by hand from the event timestamps.
fn reference(egress_id: &str) -> Final {
    let stats = SessionStats {
        duration: ON_AIR_MS,
        decisions_logged: DECISIONS,
        events_recorded: EVENTS,
        peak_viewer_count: PEAK_VIEWERS,
    };
    Final {
        status: SessionStatus::Ended,
        egress_id: Some(egress_id.to_owned()),
        started_at: Some(STARTED_AT_MS),
        ended_at: Some(ENDED_AT_MS),
        end_reason: Some("egress_complete".into()),
        error_message: None,
        start_uncertain: false,
        stats: Some(stats),
        view_duration: ON_AIR_MS,
    }
}

/// One session for the entity, one egress ever started, and once the session is over,
/// no active session and no egress left running.
async fn assert_invariants(s: &Stream, ctx: &str) {
    let page =
        s.h.store
            .list_sessions(&SessionQuery {
                entity: Some(s.entity.clone()),
                ..SessionQuery::default()
            })
            .await
            .unwrap();
    assert_eq!(page.sessions.len(), 1, "{ctx}: exactly one session");
    assert_eq!(s.h.egress.started(), 1, "{ctx}: exactly one egress started");
    let session = &page.sessions[0];
    if session.status.is_terminal() {
        assert_eq!(
            s.h.store.active_session(&s.entity).await.unwrap(),
            None,
            "{ctx}: a terminal session is not the entity's active session"
        );
        assert!(
            s.h.egress.list_active().await.unwrap().is_empty(),
            "{ctx}: no egress left running"
        );
    }
}

/// Every ordering of `items`.
fn permutations<T: Copy>(items: &[T]) -> Vec<Vec<T>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, first);
            out.push(p);
        }
    }
    out
}

/// Every subset of `items` (in sequence order), the empty one included.
fn subsets<T: Copy>(items: &[T]) -> Vec<Vec<T>> {
    (0..1u32 << items.len())
        .map(|mask| {
            items
                .iter()
                .enumerate()
                .filter(|(i, _)| mask >> i & 1 == 1)
                .map(|(_, x)| *x)
                .collect()
        })
        .collect()
}

/// A fresh stream whose egress really ran its whole course (LiveKit's state is final
/// before the first webhook is delivered), with the clock at delivery time.
async fn finished_stream() -> Stream {
    let s = start().await;
    s.h.egress
        .set_status(&s.egress_id, EgressStatus::Complete)
        .unwrap();
    s.h.clock.set_ms(DELIVER_AT_MS);
    s
}

/// Delivers `order` and checks the first delivery of each id is not a duplicate and
/// every later one is a duplicate that changed nothing.
async fn deliver_all(s: &Stream, order: &[Ev], via: Via, ctx: &str) {
    let mut seen = std::collections::HashSet::new();
    for &ev in order {
        let out = deliver(s, ev, via).await;
        if seen.insert(ev) {
            assert!(!out.duplicate, "{ctx}: first {ev:?} is not a duplicate");
        } else {
            assert!(
                out.duplicate && !out.applied,
                "{ctx}: repeated {ev:?} must be a duplicate that changes nothing: {out:?}"
            );
        }
    }
}

#[tokio::test]
async fn in_order_sequence_gives_the_reference_result() {
    let s = finished_stream().await;
    let mut applied = Vec::new();
    for ev in SEQUENCE {
        applied.push(deliver(&s, ev, Via::Signed).await.applied);
    }
    // STARTING finds the session already pending (the start call returned the egress id);
    // ENDING changes nothing; ACTIVE and COMPLETE move it.
    assert_eq!(applied, [false, true, false, true]);
    let got = final_state(&s).await;
    assert_eq!(got, reference(&s.egress_id));
    assert_invariants(&s, "in order").await;
    // Nothing left for the reconciler.
    s.h.clock.set_ms(RECONCILE_AT_MS);
    let report = s.h.service.reconcile(&Actor::Internal).await.unwrap();
    assert_eq!(report, ReconcileReport::default());
    assert_eq!(final_state(&s).await, got);
}

#[tokio::test]
async fn every_permutation_gives_the_in_order_result() {
    let perms = permutations(&SEQUENCE);
    assert_eq!(perms.len(), 24);
    for via in [Via::Signed, Via::Ingest] {
        for order in &perms {
            let ctx = format!("{via:?} {order:?}");
            let s = finished_stream().await;
            deliver_all(&s, order, via, &ctx).await;
            assert_eq!(final_state(&s).await, reference(&s.egress_id), "{ctx}");
            assert_invariants(&s, &ctx).await;
        }
    }
}

#[tokio::test]
async fn every_permutation_with_every_event_delivered_twice_gives_the_in_order_result() {
    let perms = permutations(&SEQUENCE);
    for order in &perms {
        // The permutation, then the whole of it again in reverse (LiveKit retries).
        let mut mirrored = order.clone();
        mirrored.extend(order.iter().rev());
        // The permutation, then the whole sequence again in reverse order.
        let mut then_reversed = order.clone();
        then_reversed.extend(SEQUENCE.iter().rev());
        // Each event immediately repeated (a retry racing its own acknowledgement).
        let doubled: Vec<Ev> = order.iter().flat_map(|&e| [e, e]).collect();
        for (name, sequence) in [
            ("mirrored", mirrored),
            ("then reversed", then_reversed),
            ("doubled", doubled),
        ] {
            assert_eq!(sequence.len(), 8);
            let ctx = format!("{name} {sequence:?}");
            let s = finished_stream().await;
            deliver_all(&s, &sequence, Via::Signed, &ctx).await;
            assert_eq!(final_state(&s).await, reference(&s.egress_id), "{ctx}");
            assert_invariants(&s, &ctx).await;
        }
    }
}

/// What the delivered events alone prove when `egress_ended` was lost.
fn expected_without_end(delivered: &[Ev], egress_id: &str) -> Final {
    // EGRESS_ACTIVE says when the egress went live; so does EGRESS_ENDING (an egress only
    // reaches ENDING from ACTIVE, and the event carries the same `startedAt`).
    let live = delivered
        .iter()
        .any(|e| matches!(e, Ev::Active | Ev::Ending));
    Final {
        status: if live {
            SessionStatus::Live
        } else {
            SessionStatus::Pending
        },
        egress_id: Some(egress_id.to_owned()),
        started_at: live.then_some(STARTED_AT_MS),
        ended_at: None,
        end_reason: None,
        error_message: None,
        start_uncertain: false,
        stats: None,
        view_duration: if live {
            DELIVER_AT_MS - STARTED_AT_MS
        } else {
            0
        },
    }
}

/// The reconciler's documented fallback for a session whose `egress_ended` never came.
///
/// The reconciler lists only *active* egresses (`EgressBackend::list_active`): a finished
/// egress simply vanishes from the listing, so it cannot know the true `endedAt` or that
/// the egress completed. After its 60 s grace period (`VANISH_GRACE_MS`) it ends the
/// session at the time of the pass (`EgressVanished`): a live session becomes `ended`
/// with `endReason` `egress_lost` and a duration counted to the pass; a session that never
/// went live becomes `error` ("egress disappeared before going live", duration 0).
fn reconciled_fallback(before: &Final) -> Final {
    let mut after = before.clone();
    after.ended_at = Some(RECONCILE_AT_MS);
    match before.status {
        SessionStatus::Live => {
            after.status = SessionStatus::Ended;
            after.end_reason = Some("egress_lost".into());
            let duration = RECONCILE_AT_MS - STARTED_AT_MS;
            after.stats = Some(SessionStats {
                duration,
                decisions_logged: DECISIONS,
                events_recorded: EVENTS,
                peak_viewer_count: PEAK_VIEWERS,
            });
            after.view_duration = duration;
        }
        SessionStatus::Pending => {
            after.status = SessionStatus::Error;
            after.end_reason = Some("error".into());
            after.error_message = Some("egress disappeared before going live".into());
            after.stats = Some(SessionStats {
                duration: 0,
                decisions_logged: DECISIONS,
                events_recorded: EVENTS,
                peak_viewer_count: PEAK_VIEWERS,
            });
            after.view_duration = 0;
        }
        other => panic!("no fallback from {other}"),
    }
    after
}

#[tokio::test]
async fn every_drop_pattern_is_repaired_or_falls_back_as_documented() {
    let mut runs = 0;
    for delivered_set in subsets(&SEQUENCE) {
        for order in permutations(&delivered_set) {
            runs += 1;
            let ctx = format!("delivered {order:?}");
            let s = finished_stream().await;
            deliver_all(&s, &order, Via::Signed, &ctx).await;
            let after_webhooks = final_state(&s).await;
            let ended_arrived = order.contains(&Ev::Ended);
            if ended_arrived {
                // egress_ended carries startedAt and endedAt: the webhooks alone suffice.
                assert_eq!(after_webhooks, reference(&s.egress_id), "{ctx}");
            } else {
                assert_eq!(
                    after_webhooks,
                    expected_without_end(&order, &s.egress_id),
                    "{ctx}"
                );
            }

            // The reconciler runs with the egress in its true final state (COMPLETE).
            s.h.clock.set_ms(RECONCILE_AT_MS);
            let report = s.h.service.reconcile(&Actor::Internal).await.unwrap();
            let repaired = final_state(&s).await;
            if ended_arrived {
                assert_eq!(report, ReconcileReport::default(), "{ctx}");
                assert_eq!(repaired, after_webhooks, "{ctx}");
            } else {
                assert_eq!(
                    report.vanished,
                    std::slice::from_ref(&s.session_id),
                    "{ctx}: {report:?}"
                );
                assert!(
                    report.stopped_egresses.is_empty() && report.errors.is_empty(),
                    "{ctx}: {report:?}"
                );
                assert_eq!(repaired, reconciled_fallback(&after_webhooks), "{ctx}");
            }
            assert_invariants(&s, &ctx).await;

            // The lost webhooks finally arrive (and the delivered ones again): nothing moves.
            let late: Vec<Ev> = SEQUENCE
                .iter()
                .copied()
                .filter(|e| !order.contains(e))
                .chain(order.iter().copied())
                .collect();
            for ev in late {
                let out = deliver(&s, ev, Via::Signed).await;
                assert!(!out.applied, "{ctx}: late {ev:?} changed a final session");
            }
            assert_eq!(
                final_state(&s).await,
                repaired,
                "{ctx}: after late webhooks"
            );
            assert_invariants(&s, &ctx).await;
        }
    }
    // 1 empty + 4 + 12 + 24 + 24 orderings.
    assert_eq!(runs, 65);
}

/// [`MemoryEgress`] reporting each egress's start time in its listing, as LiveKit's
/// `ListEgress` does (the in-memory backend always reports 0).
#[derive(Debug)]
struct ReportsStartTimes {
    inner: Arc<MemoryEgress>,
    started_at_ns: Mutex<HashMap<String, i64>>,
}

#[async_trait]
impl EgressBackend for ReportsStartTimes {
    async fn start(&self, request: &EgressRequest) -> ltcg_streaming_core::Result<String> {
        self.inner.start(request).await
    }

    async fn update_outputs(
        &self,
        egress_id: &str,
        add: &[SecretString],
        remove: &[SecretString],
    ) -> ltcg_streaming_core::Result<()> {
        self.inner.update_outputs(egress_id, add, remove).await
    }

    async fn stop(&self, egress_id: &str) -> ltcg_streaming_core::Result<()> {
        self.inner.stop(egress_id).await
    }

    async fn list_active(&self) -> ltcg_streaming_core::Result<Vec<EgressSummary>> {
        let times = self.started_at_ns.lock().unwrap().clone();
        let mut list = self.inner.list_active().await?;
        for egress in &mut list {
            egress.started_at_ns = times.get(&egress.egress_id).copied().unwrap_or(0);
        }
        Ok(list)
    }
}

#[tokio::test]
async fn a_lost_active_is_recovered_by_a_reconcile_pass_while_the_egress_runs() {
    const PASS_AT_MS: i64 = T0 + 60_000;
    for reports_start_time in [true, false] {
        let ctx = format!("backend reports startedAt: {reports_start_time}");
        let memory = Arc::new(MemoryEgress::new());
        let backend = Arc::new(ReportsStartTimes {
            inner: memory.clone(),
            started_at_ns: Mutex::new(HashMap::new()),
        });
        let egress: Arc<dyn EgressBackend> = if reports_start_time {
            backend.clone()
        } else {
            memory.clone()
        };
        let h = Harness::with_parts(
            Arc::new(MemoryStore::new()),
            egress,
            memory,
            RateLimitConfig::disabled(),
        );
        let s = start_on(h).await;
        // The egress goes active at STARTED_AT; its egress_updated ACTIVE is lost.
        s.h.egress
            .set_status(&s.egress_id, EgressStatus::Active)
            .unwrap();
        backend
            .started_at_ns
            .lock()
            .unwrap()
            .insert(s.egress_id.clone(), STARTED_AT_NS);
        s.h.clock.set_ms(T0 + 1_000);
        deliver(&s, Ev::Started, Via::Signed).await;
        s.h.clock.set_ms(PASS_AT_MS);
        let report = s.h.service.reconcile(&Actor::Internal).await.unwrap();
        assert_eq!(
            report.caught_up,
            std::slice::from_ref(&s.session_id),
            "{ctx}"
        );
        let live = final_state(&s).await;
        assert_eq!(live.status, SessionStatus::Live, "{ctx}");
        // With the backend's start time the repair is exact; without it, the reconciler
        // can only say "live by the time of this pass" (its documented fallback).
        let expected_start = if reports_start_time {
            STARTED_AT_MS
        } else {
            PASS_AT_MS
        };
        assert_eq!(live.started_at, Some(expected_start), "{ctx}");

        // The rest of the sequence arrives, the lost ACTIVE last of all.
        s.h.egress
            .set_status(&s.egress_id, EgressStatus::Complete)
            .unwrap();
        s.h.clock.set_ms(DELIVER_AT_MS);
        for ev in [Ev::Ending, Ev::Ended, Ev::Active] {
            deliver(&s, ev, Via::Signed).await;
        }
        let got = final_state(&s).await;
        let mut expected = reference(&s.egress_id);
        if !reports_start_time {
            let duration = ENDED_AT_MS - PASS_AT_MS;
            expected.started_at = Some(PASS_AT_MS);
            expected.stats.as_mut().unwrap().duration = duration;
            expected.view_duration = duration;
        }
        assert_eq!(got, expected, "{ctx}");
        assert_invariants(&s, &ctx).await;
    }
}

/// A late webhook of the stop scenarios: an id, a body.
struct Late {
    name: &'static str,
    body: String,
}

fn late(name: &'static str, body: Value) -> Late {
    Late {
        name,
        body: body.to_string(),
    }
}

/// Stops `s` as its owner at `stop_at_ms`, returns the frozen state, and checks the stop
/// response agrees with it.
async fn stop_as_owner(s: &Stream, stop_at_ms: i64) -> Final {
    s.h.clock.set_ms(stop_at_ms);
    let stopped =
        s.h.service
            .stop_stream(
                &s.actor,
                StopStreamRequest {
                    session_id: Some(s.session_id.clone()),
                    ..StopStreamRequest::default()
                },
            )
            .await
            .unwrap();
    assert_eq!(
        stopped.stopped_session_ids,
        std::slice::from_ref(&s.session_id)
    );
    let frozen = final_state(s).await;
    assert_eq!(stopped.stats, frozen.stats);
    assert_eq!(
        (frozen.status, frozen.ended_at, frozen.end_reason.as_deref()),
        (SessionStatus::Ended, Some(stop_at_ms), Some("manual"))
    );
    frozen
}

/// Delivers every permutation of `lates` (each also followed by all of them again,
/// reversed) on fresh streams prepared by `prepare`, and checks the state frozen at the
/// stop never moves.
async fn stop_then_late_webhooks<F, Fut>(
    scenario: &str,
    prepare: F,
    lates: fn(&Stream) -> Vec<Late>,
    expected_started_at: Option<i64>,
    stop_at_ms: i64,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Stream>,
{
    let count = lates(&prepare().await).len();
    let indexes: Vec<usize> = (0..count).collect();
    for order in permutations(&indexes) {
        for redeliver in [false, true] {
            let ctx = format!("{scenario}: order {order:?}, redelivered {redeliver}");
            let s = prepare().await;
            let frozen = stop_as_owner(&s, stop_at_ms).await;
            let expected_duration = expected_started_at.map_or(0, |start| stop_at_ms - start);
            assert_eq!(frozen.started_at, expected_started_at, "{ctx}");
            assert_eq!(
                frozen.stats.map(|st| st.duration),
                Some(expected_duration),
                "{ctx}"
            );
            assert_eq!(frozen.view_duration, expected_duration, "{ctx}");
            assert_invariants(&s, &ctx).await;

            let bodies = lates(&s);
            let mut sequence = order.clone();
            if redeliver {
                sequence.extend(order.iter().rev());
            }
            // Late webhooks arrive well after the stop.
            s.h.clock.set_ms(stop_at_ms + 45_000);
            for i in sequence {
                let out = deliver_body(&s, &bodies[i].body, Via::Signed).await;
                assert!(
                    !out.applied,
                    "{ctx}: late {} changed a stopped session: {out:?}",
                    bodies[i].name
                );
                assert_eq!(
                    final_state(&s).await,
                    frozen,
                    "{ctx}: after {}",
                    bodies[i].name
                );
            }
            assert_invariants(&s, &ctx).await;

            // Stopping again reports the same frozen stats; the reconciler finds nothing.
            let again =
                s.h.service
                    .stop_stream(
                        &s.actor,
                        StopStreamRequest {
                            session_id: Some(s.session_id.clone()),
                            ..StopStreamRequest::default()
                        },
                    )
                    .await
                    .unwrap();
            assert!(again.already_ended, "{ctx}");
            assert_eq!(again.stats, frozen.stats, "{ctx}");
            s.h.clock.set_ms(stop_at_ms + 600_000);
            let report = s.h.service.reconcile(&Actor::Internal).await.unwrap();
            assert_eq!(report, ReconcileReport::default(), "{ctx}");
            assert_eq!(final_state(&s).await, frozen, "{ctx}: after reconcile");
            assert_invariants(&s, &ctx).await;
        }
    }
}

/// An `egress_ended` body for a stop, with the given status and details.
fn ended_body(
    s: &Stream,
    id: &str,
    status: &str,
    details: &str,
    started: bool,
    ended_ms: i64,
) -> Value {
    let mut info = json!({
        "egressId": s.egress_id,
        "status": status,
        "endedAt": ns(ended_ms * 1_000_000 + 77_000),
        "updatedAt": ns(ended_ms * 1_000_000 + 77_000),
        "details": details,
        "web": {"url": s.overlay_url, "streamOutputs": [{"protocol": "RTMP", "urls": [REDACTED_OUTPUT]}]},
    });
    if started {
        info["startedAt"] = ns(STARTED_AT_NS).into();
    }
    json!({"event": "egress_ended", "id": id, "createdAt": (ended_ms / 1000).to_string(), "egressInfo": info})
}

fn updated_body(s: &Stream, id: &str, status: &str, created_ms: i64) -> Value {
    json!({
        "event": "egress_updated",
        "id": id,
        "createdAt": (created_ms / 1000).to_string(),
        "egressInfo": {
            "egressId": s.egress_id,
            "status": status,
            "startedAt": ns(STARTED_AT_NS),
            "updatedAt": ns(created_ms * 1_000_000),
            "web": {"url": s.overlay_url, "streamOutputs": [{"protocol": "RTMP", "urls": [REDACTED_OUTPUT]}]},
        },
    })
}

#[tokio::test]
async fn stop_before_the_egress_went_active_then_late_webhooks() {
    // The owner stops 1 s after the start; the egress is still STARTING, so stopping it
    // aborts it ("Stop called before pipeline could start"). Then egress_started and
    // egress_ended ABORTED arrive late, in any order, possibly twice.
    const STOP_AT: i64 = T0 + 1_000;
    stop_then_late_webhooks(
        "stop before ACTIVE",
        start,
        |s| {
            vec![
                Late {
                    name: "egress_started",
                    body: webhook_body(Ev::Started, &s.egress_id, &s.overlay_url),
                },
                late(
                    "egress_ended ABORTED",
                    ended_body(
                        s,
                        "EV_Ab0rT3dQ9xYz",
                        "EGRESS_ABORTED",
                        "Stop called before pipeline could start",
                        false,
                        STOP_AT + 400,
                    ),
                ),
            ]
        },
        None,
        STOP_AT,
    )
    .await;
}

#[tokio::test]
async fn stop_while_the_active_webhook_is_in_flight_then_late_webhooks() {
    // The egress went active at STARTED_AT, but its egress_updated ACTIVE is delayed: the
    // session is still pending when its owner stops it at T0 + 30 s. Stopping an ACTIVE
    // egress completes it (ENDING, then COMPLETE). ACTIVE, ENDING and COMPLETE then arrive
    // in any order. The stop is final: the stats stay as frozen at the stop (never live
    // as far as the session knew, so duration 0), and no late startedAt rewrites them.
    const STOP_AT: i64 = T0 + 30_000;
    stop_then_late_webhooks(
        "stop with ACTIVE in flight",
        || async {
            let s = start().await;
            s.h.clock.set_ms(T0 + 500);
            deliver(&s, Ev::Started, Via::Signed).await;
            s.h.egress
                .set_status(&s.egress_id, EgressStatus::Active)
                .unwrap();
            s
        },
        |s| {
            vec![
                Late {
                    name: "egress_updated ACTIVE",
                    body: webhook_body(Ev::Active, &s.egress_id, &s.overlay_url),
                },
                late(
                    "egress_updated ENDING",
                    updated_body(s, "EV_3nd1ngAfterSt", "EGRESS_ENDING", STOP_AT + 300),
                ),
                late(
                    "egress_ended COMPLETE",
                    ended_body(
                        s,
                        "EV_C0mpl3t3dStp1",
                        "EGRESS_COMPLETE",
                        "StopEgress API",
                        true,
                        STOP_AT + 1_200,
                    ),
                ),
            ]
        },
        None,
        STOP_AT,
    )
    .await;
}

#[tokio::test]
async fn stop_after_the_stream_went_live_then_late_webhooks() {
    // ACTIVE arrived in time; the owner stops at T0 + 60 s. Then ENDING, COMPLETE (with an
    // endedAt after the stop), a periodic egress_updated ACTIVE (stream retry report, new
    // event id) and the first two events again arrive in any order.
    const STOP_AT: i64 = T0 + 60_000;
    stop_then_late_webhooks(
        "stop after ACTIVE",
        || async {
            let s = start().await;
            s.h.egress
                .set_status(&s.egress_id, EgressStatus::Active)
                .unwrap();
            s.h.clock.set_ms(T0 + 3_000);
            deliver(&s, Ev::Started, Via::Signed).await;
            assert!(deliver(&s, Ev::Active, Via::Signed).await.applied);
            s
        },
        |s| {
            vec![
                late(
                    "egress_updated ENDING",
                    updated_body(s, "EV_3nd1ngAfterSt", "EGRESS_ENDING", STOP_AT + 300),
                ),
                late(
                    "egress_ended COMPLETE",
                    ended_body(
                        s,
                        "EV_C0mpl3t3dStp1",
                        "EGRESS_COMPLETE",
                        "StopEgress API",
                        true,
                        STOP_AT + 1_200,
                    ),
                ),
                late(
                    "egress_updated ACTIVE (retry report)",
                    updated_body(s, "EV_R3tryR3p0rt01", "EGRESS_ACTIVE", STOP_AT - 100),
                ),
                Late {
                    name: "egress_started again",
                    body: webhook_body(Ev::Started, &s.egress_id, &s.overlay_url),
                },
                Late {
                    name: "egress_updated ACTIVE again",
                    body: webhook_body(Ev::Active, &s.egress_id, &s.overlay_url),
                },
            ]
        },
        Some(STARTED_AT_MS),
        STOP_AT,
    )
    .await;
}
