//! Who may see the dashboard and what a login may do: the login form and its cookie, the
//! CSRF token on every state change, a user seeing only their own sessions (pages, API and
//! events), the pages' security headers, and development mode on loopback.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use futures::StreamExt;
use ltcg_streaming_core::http::{router, ApiAuth};
use ltcg_streaming_core::service::StartStreamRequest;
use ltcg_streaming_core::{Actor, Platform, SecretString};
use ltcg_streaming_test_support::harness::{user_start, Harness, T0};
use ltcg_streaming_test_support::http::{
    assert_error, dashboard_auth, dashboard_login, send, with_cookie, DashboardLogin, Reply,
    INTERNAL_KEY, USER_TOKENS,
};
use serde_json::json;
use tower::ServiceExt;

fn app(h: &Harness) -> Router {
    router(h.service.clone(), dashboard_auth())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn login_form(key: &str, origin: Option<&str>) -> Request<Body> {
    let mut req = Request::post("/dashboard/login")
        .header("host", "127.0.0.1:8080")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(origin) = origin {
        req = req.header("origin", origin);
    }
    req.body(Body::from(
        serde_urlencoded::to_string([("key", key)]).unwrap(),
    ))
    .unwrap()
}

/// A session of user `id`.
async fn user_session(h: &Harness, id: &str, title: &str) -> String {
    let mut req: StartStreamRequest = user_start("live_user_key_0123456789");
    req.user_id = Some(id.into());
    req.stream_title = Some(title.into());
    h.service
        .start_stream(&Actor::Internal, req)
        .await
        .unwrap()
        .session_id
        .to_string()
}

/// The first `event: <name>` of an event stream, or `None` within `within`.
async fn first_event(app: &Router, req: Request<Body>, within: Duration) -> (StatusCode, String) {
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let mut body = response.into_body().into_data_stream();
    let mut text = String::new();
    let _ = tokio::time::timeout(within, async {
        while let Some(Ok(data)) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&data));
            if text.contains("\n\n") {
                break;
            }
        }
    })
    .await;
    (status, text)
}

/// The dashboard's event stream for `cookie`, its first event (`ready`) read.
async fn ready_events(
    app: &Router,
    cookie: &str,
) -> impl futures::Stream<Item = Result<axum::body::Bytes, axum::Error>> {
    let response = app
        .clone()
        .oneshot(with_cookie(
            Method::GET,
            "/dashboard/events",
            cookie,
            None,
            None,
        ))
        .await
        .unwrap();
    let mut body = response.into_body().into_data_stream();
    let ready = body.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&ready).starts_with("event: ready"));
    body
}

/// Signs `login` out, with its CSRF token.
async fn logout(app: &Router, login: &DashboardLogin) -> Reply {
    send(
        app,
        with_cookie(
            Method::POST,
            "/dashboard/logout",
            &login.cookie,
            Some(&login.csrf),
            None,
        ),
    )
    .await
}

#[tokio::test]
async fn a_logged_out_visitor_is_sent_to_the_login_page() {
    let h = Harness::new();
    let app = app(&h);
    for page in [
        "/dashboard",
        "/dashboard/start",
        "/dashboard/history",
        "/dashboard/session?sessionId=ses_x",
        "/dashboard/analytics",
        "/dashboard/platforms",
    ] {
        let reply = send(&app, get(page)).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(reply.headers["location"], "/dashboard/login", "{page}");
    }
    let form = send(&app, get("/dashboard/login")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text.contains("name=\"key\"") && form.text.contains("type=\"password\""));
    // The API and the events still want credentials.
    let events = send(&app, get("/dashboard/events")).await;
    assert_error(&events, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "events");
}

#[tokio::test]
async fn signing_in_sets_an_http_only_strict_cookie_and_a_bad_key_does_not() {
    let h = Harness::new();
    let app = app(&h);
    let bad = send(&app, login_form("not-a-key-at-all-0000", None)).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.headers.get("set-cookie").is_none());
    assert!(bad.text.contains("That key is not valid."));

    let good = send(
        &app,
        login_form(INTERNAL_KEY, Some("http://127.0.0.1:8080")),
    )
    .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER);
    assert_eq!(good.headers["location"], "/dashboard");
    let cookie = good.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("ltcg_dashboard="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    assert!(!cookie.contains(INTERNAL_KEY), "the key is not the cookie");

    let mut https = login_form(INTERNAL_KEY, None);
    https
        .headers_mut()
        .insert("x-forwarded-proto", "https".parse().unwrap());
    let secure = send(&app, https).await;
    let secure = secure.headers["set-cookie"].to_str().unwrap();
    assert!(
        secure.starts_with("__Host-ltcg_dashboard=") && secure.ends_with("; Secure"),
        "over HTTPS the cookie cannot be planted by another site: {secure}"
    );
}

#[tokio::test]
async fn a_login_form_posted_from_another_site_is_refused() {
    let h = Harness::new();
    let app = app(&h);
    let reply = send(&app, login_form(INTERNAL_KEY, Some("https://evil.example"))).await;
    assert_error(
        &reply,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "cross-site login",
    );
    assert!(reply.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn a_state_change_without_the_csrf_token_is_refused_and_changes_nothing() {
    let h = Harness::new();
    let app = app(&h);
    let login = dashboard_login(&app, INTERNAL_KEY).await;
    let id = user_session(&h, "alice", "Alice plays").await;
    let stop = json!({"sessionId": id});
    for csrf in [None, Some("0".repeat(64).as_str())] {
        let reply = send(
            &app,
            with_cookie(
                Method::POST,
                "/api/streaming/stop",
                &login.cookie,
                csrf,
                Some(stop.clone()),
            ),
        )
        .await;
        assert_error(&reply, StatusCode::FORBIDDEN, "FORBIDDEN", "no CSRF token");
        assert!(reply.json["error"].as_str().unwrap().contains("CSRF"));
    }
    let status = h
        .service
        .get_status(&Actor::Internal, &id.parse().unwrap())
        .await
        .unwrap();
    assert!(status.status.is_active(), "nothing was stopped");
    // Reads need no token; the right token lets the stop through.
    let list = send(
        &app,
        with_cookie(
            Method::GET,
            "/api/streaming/sessions",
            &login.cookie,
            None,
            None,
        ),
    )
    .await;
    assert_eq!(list.json["count"], 1);
    let stopped = send(
        &app,
        with_cookie(
            Method::POST,
            "/api/streaming/stop",
            &login.cookie,
            Some(&login.csrf),
            Some(stop),
        ),
    )
    .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.text);
    // Signing out needs the token too, and ends the login.
    let refused = send(
        &app,
        with_cookie(Method::POST, "/dashboard/logout", &login.cookie, None, None),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "logout without token",
    );
    let out = logout(&app, &login).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after = send(
        &app,
        with_cookie(Method::GET, "/dashboard", &login.cookie, None, None),
    )
    .await;
    assert_eq!(after.headers["location"], "/dashboard/login", "signed out");
}

#[tokio::test]
async fn a_users_cookie_sees_only_their_own_sessions() {
    let h = Harness::new();
    let app = app(&h);
    let alice = dashboard_login(&app, USER_TOKENS[0].0).await;
    let own = user_session(&h, "alice", "Alice plays").await;
    h.service
        .stop_stream(
            &Actor::Internal,
            ltcg_streaming_core::service::StopStreamRequest {
                session_id: Some(own.parse().unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let other = user_session(&h, "bob", "Bob's secret stream").await;
    let cookie = &alice.cookie;
    let read = |uri: String| {
        let app = app.clone();
        let cookie = cookie.clone();
        async move { send(&app, with_cookie(Method::GET, &uri, &cookie, None, None)).await }
    };
    let list = read("/api/streaming/sessions".into()).await;
    let ids: Vec<&str> = list.json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [own.as_str()]);
    let asked_for_bob = read("/api/streaming/sessions?streamType=user&entityId=bob".into()).await;
    assert_error(
        &asked_for_bob,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "bob's list",
    );
    for route in ["timeline", "viewers"] {
        let reply = read(format!("/api/streaming/{route}?sessionId={other}")).await;
        assert_error(&reply, StatusCode::FORBIDDEN, "FORBIDDEN", route);
    }
    let picture = read(format!("/api/streaming/thumbnail?sessionId={other}")).await;
    assert_error(
        &picture,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "bob's thumbnail",
    );
    let analytics = read(format!("/api/streaming/analytics?since={}", T0 - 1)).await;
    assert_eq!(
        analytics.json["totals"]["sessions"], 1,
        "{}",
        analytics.text
    );
    // Events: another user's session is a 404, and a change to it is never pushed.
    let (status, _) = first_event(
        &app,
        with_cookie(
            Method::GET,
            &format!("/dashboard/events?sessionId={other}"),
            cookie,
            None,
            None,
        ),
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, first) = first_event(
        &app,
        with_cookie(
            Method::GET,
            &format!("/dashboard/events?sessionId={own}"),
            cookie,
            None,
            None,
        ),
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(first.starts_with("event: session\n"), "{first}");
    assert!(
        first.contains("Alice plays") && !first.contains("Bob"),
        "{first}"
    );

    let mut body = ready_events(&app, cookie).await;
    h.service
        .update_viewer_count(&Actor::Internal, &other.parse().unwrap(), 7)
        .await
        .unwrap();
    let pushed = tokio::time::timeout(Duration::from_millis(500), body.next()).await;
    assert!(pushed.is_err(), "bob's change reached alice: {pushed:?}");
}

#[tokio::test]
async fn signing_out_or_in_again_ends_the_old_login_and_its_event_streams() {
    let h = Harness::new();
    let app = app(&h);
    let own = user_session(&h, "alice", "Alice plays").await;
    let first = dashboard_login(&app, USER_TOKENS[0].0).await;
    // Signing in again from the same browser ends the login it carried.
    let mut again = Request::post("/dashboard/login")
        .header("host", "127.0.0.1:8080")
        .header("cookie", &first.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(
            serde_urlencoded::to_string([("key", USER_TOKENS[0].0)]).unwrap(),
        ))
        .unwrap();
    again.headers_mut().remove("origin");
    let second = send(&app, again).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    let old = send(
        &app,
        with_cookie(Method::GET, "/dashboard", &first.cookie, None, None),
    )
    .await;
    assert_eq!(
        old.headers["location"], "/dashboard/login",
        "the first login ended"
    );

    let login = dashboard_login(&app, USER_TOKENS[0].0).await;
    let mut body = ready_events(&app, &login.cookie).await;
    let out = logout(&app, &login).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    h.service
        .update_viewer_count(&Actor::Internal, &own.parse().unwrap(), 3)
        .await
        .unwrap();
    let next = tokio::time::timeout(Duration::from_secs(2), body.next()).await;
    assert!(
        matches!(next, Ok(None)),
        "the stream ends with the login instead of sending: {next:?}"
    );
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_assets_come_from_our_origin() {
    let h = Harness::new();
    let app = app(&h);
    let login = dashboard_login(&app, INTERNAL_KEY).await;
    let page = send(
        &app,
        with_cookie(
            Method::GET,
            "/dashboard/analytics",
            &login.cookie,
            None,
            None,
        ),
    )
    .await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    for rule in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(rule), "{rule} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    assert_eq!(page.headers["cache-control"], "no-store");
    assert!(!page.text.contains("<script>"), "no inline script");
    for src in page
        .text
        .split("src=\"")
        .skip(1)
        .chain(page.text.split("href=\"").skip(1))
    {
        let url = src.split('"').next().unwrap();
        assert!(url.starts_with('/'), "{url} is not from our origin");
        let asset = send(&app, get(url)).await;
        assert!(
            asset.status == StatusCode::OK || asset.status == StatusCode::SEE_OTHER,
            "{url}: {}",
            asset.status
        );
    }
    let license = send(&app, get("/dashboard/assets/uPlot.LICENSE")).await;
    assert!(license.text.contains("MIT License"));
}

#[tokio::test]
async fn development_mode_needs_no_login_on_loopback_only() {
    let h = Harness::new();
    let app = router(h.service.clone(), ApiAuth::dev_mode());
    let local = Request::get("/dashboard")
        .header("host", "127.0.0.1:3000")
        .body(Body::empty())
        .unwrap();
    let page = send(&app, local).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Signed in as <b>operator</b>"));
    let remote = Request::get("/dashboard")
        .header("host", "stream.example.com")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, remote).await.status, StatusCode::SEE_OTHER);
    // A loopback page drives the API without a cookie or token, as before.
    let start = Request::post("/api/streaming/start")
        .header("host", "localhost:3000")
        .header("origin", "http://localhost:3000")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"agentId": "agent_dev", "platform": Platform::Twitch,
                   "streamKey": SecretString::from("live_dev_key_0123456789")})
            .to_string(),
        ))
        .unwrap();
    let started = send(&app, start).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
}
