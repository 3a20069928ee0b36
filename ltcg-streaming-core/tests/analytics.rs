//! Analytics through the service and the HTTP route: figures from real streams (hours,
//! average and peak viewers, error rate, estimated cost, dry runs left out), the same
//! access rules as listing sessions, and bad ranges refused naming the field.

use axum::http::{Method, StatusCode};
use ltcg_streaming_core::service::{AnalyticsQuery, StartStreamRequest};
use ltcg_streaming_core::store::AnalyticsGroup;
use ltcg_streaming_core::{estimate_cost, Actor, ErrorCode, SessionId};
use ltcg_streaming_test_support::harness::{agent_start, expect_code, Harness, T0};
use ltcg_streaming_test_support::http::{app, call, AGENT_KEY, INTERNAL_KEY};

const HOUR: i64 = 3_600_000;

/// A stream of `agent` live for `hours`, with viewer counts `viewers` set along the way.
async fn stream(h: &Harness, req: StartStreamRequest, viewers: &[u64], hours: i64) -> SessionId {
    let id = h
        .service
        .start_stream(&Actor::Internal, req)
        .await
        .unwrap()
        .session_id;
    h.go_live(&id).await;
    for v in viewers {
        h.clock.advance_ms(60_000);
        h.service
            .update_viewer_count(&Actor::Internal, &id, *v)
            .await
            .unwrap();
    }
    h.clock
        .advance_ms(hours * HOUR - 60_000 * viewers.len() as i64);
    h.stop(&Actor::Internal, &id).await.unwrap();
    id
}

fn query(group_by: AnalyticsGroup) -> AnalyticsQuery {
    AnalyticsQuery {
        since: T0 - HOUR,
        group_by,
        ..AnalyticsQuery::default()
    }
}

#[tokio::test]
async fn figures_come_from_the_streams_with_dry_runs_left_out() {
    let h = Harness::new();
    stream(&h, agent_start("agent_7"), &[10, 30, 20], 2).await;
    let mut kick = agent_start("agent_9");
    kick.platform = Some(ltcg_streaming_core::Platform::Kick);
    kick.stream_key = Some("sk_us-west-2_analytics01".into());
    stream(&h, kick, &[4], 1).await;
    let mut dry = agent_start("agent_dry");
    dry.dry_run = true;
    stream(&h, dry, &[], 1).await;
    // A start that fails: an error, no time on air.
    let failed = h
        .service
        .start_stream(&Actor::Internal, agent_start("agent_err"))
        .await
        .unwrap();
    h.egress_fails(&failed.session_id).await;

    let report = h
        .service
        .analytics(&Actor::Internal, query(AnalyticsGroup::Platform))
        .await
        .unwrap();
    let rows: Vec<(&str, u64, f64, f64, u64, u64)> = report
        .rows
        .iter()
        .map(|r| {
            (
                r.key.as_str(),
                r.sessions,
                r.hours_streamed,
                r.average_viewers,
                r.peak_viewers,
                r.errors,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [("kick", 1, 1.0, 4.0, 4, 0), ("twitch", 2, 2.0, 20.0, 30, 1)]
    );
    let t = &report.totals;
    assert_eq!((t.key.as_str(), t.sessions, t.errors), ("total", 3, 1));
    assert_eq!(t.hours_streamed, 3.0);
    assert_eq!(t.average_viewers, 16.0, "(10 + 30 + 20 + 4) / 4 readings");
    assert_eq!(t.error_rate, 0.3333);
    let cost = estimate_cost(3.0, 1, 3.0).unwrap().total_usd;
    assert!((t.estimated_cost_usd - cost).abs() < 1e-4, "{t:?}");
    assert_eq!(t.end_reasons.get("manual"), Some(&2));
    assert!(report.free_tier_note.contains("10,000 participant-minutes"));

    let with_dry = h
        .service
        .analytics(
            &Actor::Internal,
            AnalyticsQuery {
                include_dry_runs: true,
                ..query(AnalyticsGroup::Platform)
            },
        )
        .await
        .unwrap();
    assert_eq!(with_dry.totals.sessions, 4);
    assert_eq!(with_dry.totals.hours_streamed, 4.0);

    let by_day = h
        .service
        .analytics(&Actor::Internal, query(AnalyticsGroup::Day))
        .await
        .unwrap();
    // The streams run past midnight UTC: two days, the same totals.
    assert_eq!(
        by_day
            .rows
            .iter()
            .map(|r| r.key.as_str())
            .collect::<Vec<_>>(),
        ["2026-11-23", "2026-11-24"]
    );
    assert_eq!(by_day.totals, report.totals);
}

#[tokio::test]
async fn users_and_agents_see_only_their_own_analytics() {
    let h = Harness::new();
    stream(&h, agent_start("agent_7"), &[5], 1).await;
    stream(&h, agent_start("agent_9"), &[50], 1).await;
    let own = h
        .service
        .analytics(
            &Actor::agent("agent_7").unwrap(),
            query(AnalyticsGroup::Entity),
        )
        .await
        .unwrap();
    assert_eq!(
        own.rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["agent:agent_7"]
    );
    expect_code(
        h.service
            .analytics(
                &Actor::agent("agent_7").unwrap(),
                AnalyticsQuery {
                    stream_type: Some(ltcg_streaming_core::StreamType::Agent),
                    entity_id: Some("agent_9".into()),
                    ..query(AnalyticsGroup::Day)
                },
            )
            .await,
        ErrorCode::Forbidden,
    );
    let all = h
        .service
        .analytics(&Actor::Internal, query(AnalyticsGroup::Entity))
        .await
        .unwrap();
    assert_eq!(all.rows.len(), 2);

    // Over HTTP: the agent key sees its own; bad ranges name the field.
    let router = app(&h);
    let uri = format!(
        "/api/streaming/analytics?since={}&groupBy=entity",
        T0 - HOUR
    );
    let reply = call(&router, Method::GET, &uri, Some(AGENT_KEY), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["rows"][0]["key"], "agent:agent_7");
    assert_eq!(reply.json["rows"].as_array().unwrap().len(), 1);
    for (uri, field) in [
        (
            format!("/api/streaming/analytics?since={T0}&until={T0}"),
            "until",
        ),
        (
            "/api/streaming/analytics?since=0&until=40000000000".to_owned(),
            "since",
        ),
        (
            "/api/streaming/analytics?groupBy=week&since=0".to_owned(),
            "groupBy",
        ),
        ("/api/streaming/analytics?until=5".to_owned(), "since"),
        (
            format!("/api/streaming/analytics?since={T0}&entityId=agent_7"),
            "streamType",
        ),
    ] {
        let reply = call(&router, Method::GET, &uri, Some(INTERNAL_KEY), None).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{uri}: {}",
            reply.text
        );
        assert!(reply.text.contains(field), "{uri}: {}", reply.text);
    }
}
