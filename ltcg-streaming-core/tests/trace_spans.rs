//! The log's spans carry the session id through a start, a webhook and a reconciler pass,
//! so that one session's story can be followed in a busy log (or a trace backend).

use ltcg_streaming_core::Actor;
use ltcg_streaming_test_support::harness::*;
use ltcg_streaming_test_support::logs::Captured;

/// The log lines that mention `span` and `session`.
fn lines_in<'a>(log: &'a str, span: &str, session: &str) -> Vec<&'a str> {
    log.lines()
        .filter(|l| l.contains(&format!("{span}{{")) && l.contains(session))
        .collect()
}

#[test]
fn spans_carry_the_session_id_through_start_webhook_and_reconcile() {
    let (subscriber, captured) = Captured::subscriber();
    let (live, stuck) = tracing::subscriber::with_default(subscriber, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let h = Harness::new();
            let live = h
                .service
                .start_stream(&Actor::Internal, agent_start("span_agent"))
                .await
                .unwrap()
                .session_id;
            h.go_live(&live).await;
            // A start LiveKit never confirms, timed out by the reconciler.
            let stuck = h
                .service
                .start_stream(&Actor::Internal, agent_start("span_stuck"))
                .await
                .unwrap()
                .session_id;
            h.clock.advance_ms(5 * 60_000 + 1);
            let report = h.service.reconcile(&Actor::Internal).await.unwrap();
            assert_eq!(report.timed_out, std::slice::from_ref(&stuck), "{report:?}");
            (live.to_string(), stuck.to_string())
        })
    });
    let log = captured.text();
    let id = |s: &str| format!("session_id={s}");
    let started = lines_in(&log, "start_stream", &id(&live));
    assert!(
        started.iter().any(|l| l.contains("session transition")),
        "the start's own log lines name its session:\n{log}"
    );
    let webhook = lines_in(&log, "egress_event", &id(&live));
    assert!(
        webhook.iter().any(|l| l.contains("session transition")),
        "the webhook's log lines name its session:\n{log}"
    );
    let reconciled = lines_in(&log, "reconcile_session", &id(&stuck));
    assert!(
        reconciled.iter().any(|l| l.contains("session transition")),
        "the reconciler's log lines name the session it handles:\n{log}"
    );
    assert!(
        lines_in(&log, "reconcile", "replica=replica_").len() >= reconciled.len(),
        "the pass names its replica"
    );
}
