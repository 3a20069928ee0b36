//! The dashboard at `/dashboard`: pages for operators, streamers and agents, drawn in the
//! browser by `dashboard.js` from the JSON API (the same routes and access rules), kept up
//! to date by server-sent events.
//!
//! | route | what |
//! |---|---|
//! | `GET /dashboard` | Live: the active sessions, their previews, destinations and actions |
//! | `GET /dashboard/start` | a form to start a user or agent stream, the overlay previewed |
//! | `GET /dashboard/history` | sessions filtered by status, platform, entity and date, paged |
//! | `GET /dashboard/session?sessionId=` | one session: stats, viewer chart, timeline, errors |
//! | `GET /dashboard/analytics` | charts of hours, sessions, viewers, errors and cost |
//! | `GET /dashboard/platforms` | stored credentials per entity (the key is never shown) |
//! | `GET`/`POST /dashboard/login`, `POST /dashboard/logout` | signing in with a key |
//! | `GET /dashboard/events[?sessionId=]` | `session` events (status views) and `tick`s |
//! | `GET /dashboard/assets/…` | the script, the style and the charting library (uPlot) |
//!
//! A caller signs in with any key the API accepts (internal, agent, or a user token) and
//! gets a cookie ([`logins`]); the API then accepts that cookie too, and every
//! state-changing request must carry the login's CSRF token. In development mode the pages
//! need no login (as the API). Pages are served under a strict content security policy (our
//! own scripts, styles and fetches; images from us or over HTTPS, for the platforms'
//! previews); the script writes every string as text, never as markup.

mod events;
pub(super) mod logins;

use std::net::SocketAddr;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use self::logins::Login;
use super::error::ApiError;
use super::secure_headers::secured;
use super::AppState;
use crate::error::Error;
use crate::service::Actor;

const SHELL: &str = include_str!("assets/dashboard.html");
const LOGIN: &str = include_str!("assets/login.html");
const SCRIPT: &str = include_str!("assets/dashboard.js");
const STYLE: &str = include_str!("assets/dashboard.css");
const UPLOT_JS: &str = include_str!("assets/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("assets/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("assets/uPlot.LICENSE");

/// Largest login form, in bytes.
const MAX_LOGIN_FORM: usize = 4 * 1024;

/// The pages' policy: only our own scripts, styles and connections; images from us (the
/// thumbnails) or any HTTPS origin (the platforms' preview images); frames from us (the
/// overlay preview); never framed.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
     img-src 'self' https:; frame-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The pages: path, `data-page`, title.
const PAGES: [(&str, &str, &str); 6] = [
    ("/dashboard", "live", "Live"),
    ("/dashboard/start", "start", "Start a stream"),
    ("/dashboard/history", "history", "History"),
    ("/dashboard/session", "session", "Session"),
    ("/dashboard/analytics", "analytics", "Analytics"),
    ("/dashboard/platforms", "platforms", "Platforms"),
];

/// The dashboard's routes.
pub(super) fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .route("/dashboard/", get(|| async { Redirect::to("/dashboard") }))
        .route("/dashboard/login", get(login_page).post(login))
        .route("/dashboard/logout", post(logout))
        .route("/dashboard/events", get(events::stream))
        .route("/dashboard/assets/dashboard.js", get(asset_script))
        .route("/dashboard/assets/dashboard.css", get(asset_style))
        .route("/dashboard/assets/uPlot.iife.min.js", get(asset_uplot_js))
        .route("/dashboard/assets/uPlot.min.css", get(asset_uplot_css))
        .route("/dashboard/assets/uPlot.LICENSE", get(asset_uplot_license));
    for (path, page, title) in PAGES {
        router = router.route(
            path,
            get(move |state: State<AppState>, req: Request| shell(state, req, page, title)),
        );
    }
    router
}

/// Who is looking at a page: a login, or anyone in development mode; `None` sends them to
/// the login page.
async fn viewer(s: &AppState, headers: &HeaderMap, authority: Option<&str>) -> Option<Login> {
    if let Some(login) = s.logins.find(headers) {
        return Some(login);
    }
    if s.auth.is_dev_mode()
        && s.auth
            .authenticate_request(headers, authority)
            .await
            .is_ok()
    {
        return Some(Login::development());
    }
    None
}

/// A page: the shell with the page's name, the caller and the CSRF token filled in.
async fn shell(State(s): State<AppState>, req: Request, page: &str, title: &str) -> Response {
    let authority = req.uri().authority().map(|a| a.as_str().to_owned());
    let Some(login) = viewer(&s, req.headers(), authority.as_deref()).await else {
        return Redirect::to("/dashboard/login").into_response();
    };
    let html = SHELL
        .replace("{{title}}", &escape(title))
        .replace("{{page}}", &escape(page))
        .replace("{{who}}", &escape(&who(&login.actor)))
        .replace("{{kind}}", actor_kind(&login.actor))
        .replace("{{entity}}", &escape(entity_id(&login.actor)))
        .replace("{{csrf}}", &escape(&login.csrf))
        .replace("{{dev}}", if login.is_development() { "1" } else { "0" });
    as_page(Html(html).into_response())
}

/// A page under the dashboard's policy. Referrers stay on our origin (`same-origin`, not
/// `no-referrer`), so that the page's own posts carry their real `Origin` rather than
/// `null`, which the login form and development mode refuse.
fn as_page(response: Response) -> Response {
    let mut response = secured(response, "text/html; charset=utf-8", CSP);
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// `GET /dashboard/login`: the form (development mode goes straight to the dashboard).
async fn login_page(State(s): State<AppState>, req: Request) -> Response {
    let authority = req.uri().authority().map(|a| a.as_str().to_owned());
    if viewer(&s, req.headers(), authority.as_deref())
        .await
        .is_some()
    {
        return Redirect::to("/dashboard").into_response();
    }
    login_form(StatusCode::OK, "")
}

fn login_form(status: StatusCode, message: &str) -> Response {
    let html = LOGIN.replace("{{message}}", &escape(message));
    as_page((status, Html(html)).into_response())
}

/// `POST /dashboard/login` (`key=` form): a cookie and the dashboard, or the form again.
/// Failures count against the client's address like the API's; a form posted from another
/// site (its `Origin` is not this host) is refused.
async fn login(State(s): State<AppState>, req: Request) -> Response {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Err(throttled) = s.throttle.check(client) {
        return throttled.into_response();
    }
    let headers = req.headers().clone();
    let secure = logins::is_https(&headers, req.uri().scheme_str());
    let authority = req.uri().authority().map(|a| a.as_str().to_owned());
    if !same_origin(&headers, authority.as_deref()) {
        return ApiError(Error::forbidden(
            "the login form must be posted from the dashboard's own page",
        ))
        .into_response();
    }
    let Ok(body) = to_bytes(req.into_body(), MAX_LOGIN_FORM).await else {
        return login_form(StatusCode::PAYLOAD_TOO_LARGE, "That form is too large.");
    };
    let key = form_urlencoded::parse(&body)
        .find(|(name, _)| name == "key")
        .map(|(_, value)| value.trim().to_owned())
        .unwrap_or_default();
    if key.is_empty() {
        return login_form(StatusCode::BAD_REQUEST, "Enter your key.");
    }
    let actor = match s.auth.actor_for_key(&key).await {
        Ok(Some(actor)) => actor,
        Ok(None) => {
            if let Err(throttled) = s.throttle.failed(client) {
                return throttled.into_response();
            }
            return login_form(StatusCode::UNAUTHORIZED, "That key is not valid.");
        }
        Err(e) => return ApiError(e).into_response(),
    };
    // A login already carried by this browser ends: one browser, one login.
    s.logins.close(&headers);
    let (cookie, _) = match s.logins.open(actor) {
        Ok(opened) => opened,
        Err(e) => return ApiError(e).into_response(),
    };
    let mut response = Redirect::to("/dashboard").into_response();
    if let Ok(value) = HeaderValue::from_str(&logins::set_cookie(&cookie, secure)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /dashboard/logout` (the CSRF token as the form's `csrf` field or in
/// `x-csrf-token`): the login ends and the cookie is cleared.
async fn logout(State(s): State<AppState>, req: Request<Body>) -> Response {
    let headers = req.headers().clone();
    let secure = logins::is_https(&headers, req.uri().scheme_str());
    if let Some(login) = s.logins.find(&headers) {
        let form = to_bytes(req.into_body(), MAX_LOGIN_FORM)
            .await
            .unwrap_or_default();
        let field = form_urlencoded::parse(&form)
            .find(|(name, _)| name == "csrf")
            .map(|(_, value)| value.into_owned());
        let presented = field.as_deref().unwrap_or(logins::csrf_header(&headers));
        if let Err(e) = logins::check_csrf(&login, presented) {
            return ApiError(e).into_response();
        }
        s.logins.close(&headers);
    }
    let mut response = Redirect::to("/dashboard/login").into_response();
    if let Ok(value) = HeaderValue::from_str(&logins::clear_cookie(secure)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Whether a form post comes from this host's pages: the browser does not call it
/// cross-site or same-site (`Sec-Fetch-Site`), and its `Origin` (when sent) names the
/// `Host` it was sent to (or, without one, as over HTTP/2, the request's authority).
fn same_origin(headers: &HeaderMap, authority: Option<&str>) -> bool {
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if fetch_site.eq_ignore_ascii_case("cross-site") || fetch_site.eq_ignore_ascii_case("same-site")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or(authority)
        .unwrap_or_default();
    origin.to_str().is_ok_and(|origin| {
        origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|rest| !host.is_empty() && rest.eq_ignore_ascii_case(host))
    })
}

/// `&`, `<`, `>`, `"` and `'` as character references: the one escaping of text put into
/// the dashboard's markup.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn who(actor: &Actor) -> String {
    match actor {
        Actor::Internal => "operator".to_owned(),
        Actor::User(id) => format!("user {id}"),
        Actor::Agent(id) => format!("agent {id}"),
    }
}

fn actor_kind(actor: &Actor) -> &'static str {
    match actor {
        Actor::Internal => "internal",
        Actor::User(_) => "user",
        Actor::Agent(_) => "agent",
    }
}

fn entity_id(actor: &Actor) -> &str {
    match actor {
        Actor::Internal => "",
        Actor::User(id) | Actor::Agent(id) => id,
    }
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = secured(body.into_response(), content_type, "default-src 'none'");
    // The assets are compiled in: the same for the life of the process.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    response
}

async fn asset_script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

async fn asset_style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

async fn asset_uplot_js() -> Response {
    asset(UPLOT_JS, "text/javascript; charset=utf-8")
}

async fn asset_uplot_css() -> Response {
    asset(UPLOT_CSS, "text/css; charset=utf-8")
}

async fn asset_uplot_license() -> Response {
    asset(UPLOT_LICENSE, "text/plain; charset=utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            escape("<img src=x onerror=alert(1)> & \"'"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;&#39;"
        );
    }

    #[test]
    fn a_form_from_another_site_is_not_same_origin() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(
            same_origin(&headers, None),
            "no Origin: not a cross-site form"
        );
        let origin = |h: &mut HeaderMap, o: &'static str| {
            h.insert(header::ORIGIN, HeaderValue::from_static(o));
        };
        origin(&mut headers, "http://127.0.0.1:8080");
        assert!(same_origin(&headers, None));
        origin(&mut headers, "https://evil.example");
        assert!(!same_origin(&headers, None));
        origin(&mut headers, "null");
        assert!(!same_origin(&headers, None));
        // HTTP/2: no Host header, the authority stands for it.
        let mut h2 = HeaderMap::new();
        origin(&mut h2, "https://stream.example");
        assert!(same_origin(&h2, Some("stream.example")));
        assert!(!same_origin(&h2, None));
        h2.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(
            !same_origin(&h2, Some("stream.example")),
            "the browser says cross-site"
        );
    }
}
