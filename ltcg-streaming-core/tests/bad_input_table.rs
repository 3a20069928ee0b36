//! The table of bad inputs shared by every surface (`tests/fixtures/bad_inputs.json`, also
//! run by the Python and Node test suites): over HTTP (bodies and query strings) and through
//! `StreamingService::call_json` (what the bindings call), each is refused with
//! `INVALID_INPUT` naming the same field, quoting none of the input, and writing nothing.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use ltcg_streaming_core::service::ServiceMethod;
use ltcg_streaming_core::{Actor, Error};
use ltcg_streaming_test_support::harness::Harness;
use ltcg_streaming_test_support::http::{
    app, assert_error, error_text, request, send, snapshot, INTERNAL_KEY,
};
use serde_json::Value;

/// The table's cases.
fn cases() -> Vec<Value> {
    let table: Value = serde_json::from_str(include_str!("fixtures/bad_inputs.json")).unwrap();
    let cases = table["cases"].as_array().unwrap().clone();
    assert!(cases.len() >= 15, "the table lost cases");
    cases
}

fn method(name: &str) -> ServiceMethod {
    ServiceMethod::ALL
        .into_iter()
        .find(|m| m.snake_name() == name)
        .unwrap_or_else(|| panic!("no service method {name}"))
}

/// `value` as a query string (every value as its text).
fn query_string(value: &Value) -> String {
    let pairs: Vec<(String, String)> = value
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map_or(v.to_string(), str::to_owned)))
        .collect();
    serde_urlencoded::to_string(pairs).unwrap()
}

/// The field of an `invalid <field>: <reason>` message.
fn field_of(message: &str) -> &str {
    message
        .strip_prefix("invalid ")
        .and_then(|rest| rest.split_once(": "))
        .map_or("", |(field, _)| field)
}

#[tokio::test]
async fn every_bad_input_is_refused_over_http_naming_the_field_without_echo() {
    let h = Harness::new();
    let app = app(&h);
    let before = snapshot(&h).await;
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let (verb, path) = case["route"].as_str().unwrap().split_once(' ').unwrap();
        let req = if verb == "GET" {
            let uri = format!("{path}?{}", query_string(&case["input"]));
            request(Method::GET, &uri, Some(INTERNAL_KEY), Body::empty())
        } else {
            let method = Method::from_bytes(verb.as_bytes()).unwrap();
            request(method, path, Some(INTERNAL_KEY), case["input"].to_string())
        };
        let reply = send(&app, req).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_INPUT", name);
        let expected = match case["field"].as_str().unwrap() {
            "<whole>" => "body",
            field => field,
        };
        assert_eq!(
            field_of(error_text(&reply)),
            expected,
            "{name}: {}",
            reply.text
        );
        if let Some(secret) = case["secret"].as_str() {
            assert!(
                !reply.text.contains(secret),
                "{name} echoed: {}",
                reply.text
            );
        }
    }
    assert_eq!(snapshot(&h).await, before, "nothing written");
}

#[tokio::test]
async fn every_bad_input_is_refused_by_call_json_naming_the_field_without_echo() {
    let h = Harness::new();
    let before = snapshot(&h).await;
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let method = method(case["method"].as_str().unwrap());
        let err = h
            .service
            .call_json(&Actor::Internal, method, vec![case["input"].clone()])
            .await
            .unwrap_err();
        let Error::InvalidInput { field, reason } = &err else {
            panic!("{name}: expected INVALID_INPUT, got {err:?}");
        };
        let expected = match case["field"].as_str().unwrap() {
            "<whole>" => "request",
            field => field,
        };
        assert_eq!(field, expected, "{name}: {err}");
        if let Some(secret) = case["secret"].as_str() {
            assert!(
                !reason.contains(secret) && !field.contains(secret),
                "{name} echoed: {err}"
            );
        }
    }
    assert_eq!(snapshot(&h).await, before, "nothing written");
}
