//! The reference server exports its spans over OTLP/HTTP to a collector (here a local
//! receiver that decodes what a collector would): the service name, and `start_stream` and
//! `stop_stream` spans carrying the session id, with no secret in what is sent.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use prost::Message as _;
use serde_json::json;

use ltcg_streaming_test_support::nginx_rtmp::free_port;
use ltcg_streaming_test_support::server::*;

const SERVER: &str = env!("CARGO_BIN_EXE_ltcg-streaming-server");

/// Every request body a collector received on `POST /v1/traces`.
type Received = Arc<Mutex<Vec<Bytes>>>;

/// A collector on 127.0.0.1: its URL, what it received, and the runtime serving it.
fn collector() -> (String, Received, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let received: Received = Arc::default();
    let bodies = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let bodies = bodies.clone();
            async move {
                bodies.lock().unwrap().push(body);
                // An empty ExportTraceServiceResponse: everything accepted.
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, app).await });
    (url, received, runtime)
}

fn string_attr<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attributes.iter().find(|a| a.key == key).and_then(|a| {
        match a.value.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(s) => Some(s.as_str()),
            _ => None,
        }
    })
}

/// (service name, span name, session id attribute) of every span received.
fn spans(received: &Received) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    for body in received.lock().unwrap().iter() {
        let request = ExportTraceServiceRequest::decode(body.as_ref()).expect("OTLP protobuf");
        for resource in request.resource_spans {
            let service = resource
                .resource
                .as_ref()
                .and_then(|r| string_attr(&r.attributes, "service.name"))
                .unwrap_or_default()
                .to_owned();
            for scope in resource.scope_spans {
                for span in scope.spans {
                    let session = string_attr(&span.attributes, "session_id").map(str::to_owned);
                    out.push((service.clone(), span.name, session));
                }
            }
        }
    }
    out
}

#[test]
fn spans_reach_an_otlp_collector_with_their_session_ids() {
    let (url, received, _runtime) = collector();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start_with(
        SERVER,
        &dir.path().join("otlp.db"),
        port,
        &[
            ("LTCG_EGRESS", "memory"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &url),
            ("OTEL_SERVICE_NAME", "ltcg-otlp-test"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let (status, body) = server.request(
        "POST",
        "/api/streaming/start",
        Some(INTERNAL_KEY),
        Some(json!({"agentId": "agent_otlp", "platform": "twitch", "streamKey": "live_123456789_abcdefghijklmnop"})),
    );
    assert_eq!(status, 200, "{body}");
    let sid = body["sessionId"].as_str().unwrap().to_owned();
    let has = |name: &str| {
        spans(&received)
            .iter()
            .any(|(_, span, session)| span == name && session.as_deref() == Some(sid.as_str()))
    };
    wait_until("the start_stream span is exported", 20, || {
        has("start_stream")
    });
    let (status, body) = server.request(
        "POST",
        "/api/streaming/stop",
        Some(INTERNAL_KEY),
        Some(json!({"sessionId": sid})),
    );
    assert_eq!(status, 200, "{body}");
    // Stopping the server exports what is left.
    assert!(server.terminate().success());
    assert!(has("stop_stream"), "{:?}", spans(&received));
    let all = spans(&received);
    assert!(
        all.iter()
            .all(|(service, _, _)| service == "ltcg-otlp-test"),
        "{all:?}"
    );
    for body in received.lock().unwrap().iter() {
        let text = String::from_utf8_lossy(body);
        for secret in [INTERNAL_KEY, "live_123456789_abcdefghijklmnop", ENC_KEY] {
            assert!(!text.contains(secret), "a secret was exported");
        }
    }
}
