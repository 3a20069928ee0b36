//! The dashboard as a person uses it: headless Chromium signs in, starts a stream (the
//! browser egress renders the overlay and pushes it to nginx-rtmp on 127.0.0.1), sees it
//! live with its preview, adds and removes a destination, stops it, finds it in History
//! with its timeline and in Analytics, and stores credentials on Platforms. Every page is
//! kept as a screenshot in `test-artifacts/dashboard/`, and every response the browser got
//! is scanned for secrets.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ltcg_streaming_core::egress::{
    BrowserEgress, BrowserEgressOptions, EncodingPreset, EncodingSettings,
};
use ltcg_streaming_core::store::{SessionQuery, SessionStore};
use ltcg_streaming_core::{Actor, Entity, SessionId, StreamingService};
use ltcg_streaming_test_support::browser::{chromium, Headless};
use ltcg_streaming_test_support::harness::{API_SECRET, JWT_SECRET, KEY_HEX};
use ltcg_streaming_test_support::http::{dashboard_auth, INTERNAL_KEY};
use ltcg_streaming_test_support::live_router::BrowserRig;
use ltcg_streaming_test_support::media::{artifacts_dir, probe, Picture};
use ltcg_streaming_test_support::nginx_rtmp::{missing, NginxRtmp};
use serde_json::Value;

const FIRST_KEY: &str = "dash_first_key_0123456789";
const SECOND_KEY: &str = "dash_second_key_9876543210";
const STORED_KEY: &str = "dash_stored_key_5555555555";
/// A title that would run script if it were ever parsed as markup.
const HOSTILE_TITLE: &str = "<img src=x onerror=alert(1)>";
const WAIT: Duration = Duration::from_secs(60);

/// The service over a browser egress and its router (dashboard included) on 127.0.0.1.
struct Served {
    rt: tokio::runtime::Runtime,
    addr: SocketAddr,
    store: Arc<dyn SessionStore>,
    service: StreamingService,
}

fn serve(work: &Path) -> Served {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let egress = BrowserEgress::new(BrowserEgressOptions {
        work_dir: work.to_owned(),
        thumbnail_interval: Some(Duration::from_secs(1)),
        page_load_timeout: Duration::from_secs(15),
        ..BrowserEgressOptions::default()
    });
    let rig = rt.block_on(BrowserRig::start(
        egress,
        EncodingSettings::preset(EncodingPreset::H264_540P_30),
        dashboard_auth(),
    ));
    Served {
        rt,
        addr: rig.addr,
        store: rig.store,
        service: rig.service,
    }
}

/// The browser on the dashboard, its screenshots and every response body it received.
struct Visit {
    page: Headless,
    base: String,
    shots: std::path::PathBuf,
    bodies: Vec<(String, String)>,
}

impl Visit {
    fn js(&mut self, expression: &str) -> Value {
        self.page.eval(expression)
    }

    fn wait(&mut self, what: &str, expression: &str) {
        assert!(
            self.page.wait_for(expression, WAIT),
            "{what}: `{expression}` never held; page text: {}",
            self.js("document.body.innerText")
        );
    }

    fn open(&mut self, path: &str) {
        self.collect();
        let url = format!("{}{path}", self.base);
        self.page.goto(&url);
        self.wait(
            "page loaded",
            &format!("location.href.startsWith('{url}') && document.readyState === 'complete'"),
        );
    }

    /// Sets a form control (by CSS selector) as typing would.
    fn set(&mut self, selector: &str, value: &str) {
        let done = self.js(&format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return false; \
             e.value = {value}; e.dispatchEvent(new Event('input', {{bubbles: true}})); \
             e.dispatchEvent(new Event('change', {{bubbles: true}})); return true }})()",
            sel = serde_json::to_string(selector).unwrap(),
            value = serde_json::to_string(value).unwrap(),
        ));
        assert_eq!(done, Value::Bool(true), "no {selector}");
    }

    fn act(&mut self, what: &str, expression: &str) {
        let done = self.js(&format!("(() => {{ {expression}; return true }})()"));
        assert_eq!(done, Value::Bool(true), "{what}");
    }

    fn shot(&mut self, name: &str) -> Picture {
        let path = self.shots.join(format!("{name}.png"));
        self.page.screenshot(&path);
        Picture::open(&path)
    }

    fn collect(&mut self) {
        let bodies = self.page.response_bodies();
        self.bodies.extend(bodies);
    }
}

#[test]
fn an_operator_runs_a_stream_from_the_dashboard() {
    let Some(browser) = chromium() else {
        missing("chromium");
        return;
    };
    let absent = BrowserEgressOptions::default().missing_programs();
    if !absent.is_empty() {
        missing(&absent.join(", "));
        return;
    }
    let Some(nginx) = NginxRtmp::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let served = serve(work.path());
    let shots = artifacts_dir("dashboard");
    let mut v = Visit {
        page: Headless::start(&browser, 1440, 1000),
        base: format!("http://{}", served.addr),
        shots,
        bodies: Vec::new(),
    };
    v.page.record_network();

    // Signed out: the login page.
    v.open("/dashboard");
    v.wait("sent to login", "location.pathname === '/dashboard/login'");
    v.shot("login");
    v.set("#key", INTERNAL_KEY);
    v.act("sign in", "document.querySelector('form').submit()");
    v.wait(
        "signed in",
        "location.pathname === '/dashboard' && document.body.dataset.loaded === '1'",
    );
    assert_eq!(
        v.js("document.cookie"),
        Value::String(String::new()),
        "the cookie is HttpOnly"
    );
    assert_eq!(
        v.js("document.querySelector('#no-sessions').hidden"),
        Value::Bool(false)
    );
    v.shot("live-empty");

    // Start: the form, with the overlay previewed.
    v.open("/dashboard/start");
    v.wait("form", "!!document.querySelector('#start-form')");
    v.wait(
        "overlay preview rendered",
        "(() => { const d = document.querySelector('iframe').contentDocument; \
         return !!d && d.readyState === 'complete' && !!d.querySelector('#root') })()",
    );
    v.set("#streamType", "agent");
    v.set("#entityId", "agent_dash");
    v.set("#entityName", "Dash Bot");
    v.set("#streamTitle", HOSTILE_TITLE);
    v.set("#platform", "custom");
    v.set("#streamKey", FIRST_KEY);
    v.set("#customRtmpUrl", &nginx.base_url());
    let start = v.shot("start");
    let preview = v.js(
        "(() => { const r = document.querySelector('.overlay-frame').getBoundingClientRect(); \
         return [r.left / innerWidth, r.top / innerHeight, r.right / innerWidth, r.bottom / innerHeight] })()",
    );
    let frac = |i: usize| preview[i].as_f64().unwrap();
    let overlay_area = (frac(0), frac(1), frac(2), frac(3));
    let lit = start.count_in(overlay_area, |[r, g, b]| {
        u16::from(r) + u16::from(g) + u16::from(b) > 200
    });
    assert!(
        lit > 1000,
        "the overlay preview shows something ({lit} lit px)"
    );
    v.act(
        "start",
        "document.querySelector('#start-form').requestSubmit()",
    );

    // Live: the card turns live by pushed events, with the render's preview.
    v.wait("back on Live", "location.pathname === '/dashboard'");
    v.wait("live card", "!!document.querySelector('.card .badge.live')");
    let pushed = probe(&format!("{}/{FIRST_KEY}", nginx.base_url()), WAIT);
    assert!(
        pushed.is_some(),
        "the first destination receives the stream"
    );
    v.wait(
        "preview image",
        "(() => { const i = document.querySelector('.card .preview img'); \
         return !!i && i.isConnected && i.naturalWidth > 0 })()",
    );
    assert_eq!(
        v.js("document.querySelector('.card h2').textContent"),
        Value::String(HOSTILE_TITLE.into()),
        "the title is shown as text"
    );
    assert_eq!(
        v.js("document.querySelectorAll('img[src=\"x\"]').length"),
        Value::from(0)
    );
    assert!(
        v.page.dialogs.is_empty(),
        "no script ran: {:?}",
        v.page.dialogs
    );
    // Viewer counts reach the card by pushed events (and are kept for the session's chart).
    let live_id: SessionId = v
        .js("document.querySelector('.card').dataset.session")
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    for viewers in [12, 20] {
        served
            .rt
            .block_on(
                served
                    .service
                    .update_viewer_count(&Actor::Internal, &live_id, viewers),
            )
            .unwrap();
        std::thread::sleep(Duration::from_millis(1100));
    }
    v.wait(
        "viewers pushed",
        "[...document.querySelectorAll('.card .facts div')].some(d => d.innerText === 'Viewers\\n20')",
    );
    v.wait(
        "duration ticks",
        "/^0:00:0[1-9]|^0:00:[1-5]/.test(document.querySelector('[data-since]').textContent)",
    );
    let live = v.shot("live");
    let image = v.js(
        "(() => { const r = document.querySelector('.card .preview img').getBoundingClientRect(); \
         return [r.left / innerWidth, r.top / innerHeight, r.right / innerWidth, r.bottom / innerHeight] })()",
    );
    let frac = |i: usize| image[i].as_f64().unwrap();
    let shown = live.count_in((frac(0), frac(1), frac(2), frac(3)), |[r, g, b]| {
        u16::from(r) + u16::from(g) + u16::from(b) > 120
    });
    assert!(shown > 1000, "the preview shows the render ({shown} px)");

    // Add a destination, then remove it.
    v.set(".add-destination select", "custom");
    v.set(".add-destination input[name=streamKey]", SECOND_KEY);
    v.set(
        ".add-destination input[name=customRtmpUrl]",
        &nginx.base_url(),
    );
    v.act(
        "add",
        "document.querySelector('.add-destination').requestSubmit()",
    );
    v.wait(
        "two active destinations",
        "document.querySelectorAll('.card ul.destinations .badge.active').length === 2",
    );
    assert!(
        probe(&format!("{}/{SECOND_KEY}", nginx.base_url()), WAIT).is_some(),
        "the added destination receives the stream"
    );
    v.shot("live-two-destinations");
    v.act(
        "remove",
        "document.querySelector('[data-action=remove-destination]').click()",
    );
    v.wait(
        "one active destination",
        "document.querySelectorAll('.card ul.destinations .badge.active').length === 1 \
         && !document.querySelector('[data-action=remove-destination]')",
    );

    // Stop: the card goes.
    let session_id = v.js("document.querySelector('.card').dataset.session");
    let session_id = session_id.as_str().unwrap().to_owned();
    v.act(
        "stop",
        "document.querySelector('[data-action=stop]').click()",
    );
    v.wait(
        "card gone",
        "document.querySelectorAll('.card').length === 0",
    );

    // History, then the session's page.
    v.open("/dashboard/history");
    v.wait("history", "document.body.dataset.loaded === '1'");
    let row = format!("document.querySelector('tr[data-session=\"{session_id}\"]')");
    v.wait(
        "row ended",
        &format!("!!{row} && !!{row}.querySelector('.badge.ended')"),
    );
    v.shot("history");
    v.open("/dashboard/history?status=live");
    v.wait("filtered", "document.body.dataset.loaded === '1'");
    assert_eq!(
        v.js("document.querySelectorAll('#history tbody tr').length"),
        Value::from(0)
    );
    v.open(&format!("/dashboard/session?sessionId={session_id}"));
    v.wait(
        "timeline",
        "document.querySelectorAll('#timeline li').length >= 5",
    );
    v.wait(
        "head",
        "!!document.querySelector('#session-head .badge.ended')",
    );
    v.wait(
        "viewer chart",
        "document.querySelector('#viewer-chart')?.dataset.points === '2'",
    );
    assert_eq!(
        v.js("document.querySelectorAll('#viewer-chart canvas').length"),
        Value::from(1)
    );
    // Each timeline item as (kind, status after it).
    let items = v.js(
        "[...document.querySelectorAll('#timeline li')].map(li => [li.dataset.kind, li.dataset.status])",
    );
    let items: Vec<(String, String)> = serde_json::from_value(items).unwrap();
    let kinds: Vec<&str> = items.iter().map(|(k, _)| k.as_str()).collect();
    for kind in [
        "created",
        "destination_added",
        "destination_removed",
        "stopped",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // The egress's own events may report it live before its start call
    // returns, so the entry that made the session live is either kind.
    assert!(
        items
            .iter()
            .any(|(k, status)| status == "live" && (k == "started" || k == "egress_update")),
        "an entry made the session live: {items:?}"
    );
    assert_eq!(
        v.js("document.querySelector('main h1').textContent"),
        Value::String(HOSTILE_TITLE.into())
    );
    v.shot("session");

    // Analytics: the session is counted and every chart is drawn.
    v.open("/dashboard/analytics");
    v.wait("analytics", "document.body.dataset.loaded === '1'");
    v.wait(
        "charts",
        "document.querySelectorAll('.chart canvas').length === 6",
    );
    assert_eq!(
        v.js("document.querySelector('.facts dd').textContent"),
        Value::from("1")
    );
    assert!(v
        .js("document.querySelector('#free-tier').textContent")
        .as_str()
        .unwrap()
        .contains("free"));
    let analytics = v.shot("analytics");
    let violet = analytics.count_in((0.0, 0.0, 1.0, 1.0), |[r, g, b]| {
        r > 90 && r < 170 && g < 130 && b > 200
    });
    assert!(violet > 50, "bars are drawn ({violet} px)");

    // Platforms: store credentials, see that a key is set, never the key; delete them.
    v.open("/dashboard/platforms");
    v.wait("platforms", "!!document.querySelector('#whose')");
    v.set("#streamType", "agent");
    v.set("#entityId", "agent_dash");
    v.act("show", "document.querySelector('#whose').requestSubmit()");
    v.wait(
        "nothing stored",
        "document.querySelector('#key-state')?.textContent === 'Nothing stored yet.'",
    );
    v.set("#credential-form select[name=platform]", "custom");
    v.set("#credentialKey", STORED_KEY);
    v.set("#credentialUrl", &nginx.base_url());
    v.act(
        "save",
        "document.querySelector('#credential-form').requestSubmit()",
    );
    v.wait(
        "key set",
        "document.querySelector('#key-state')?.textContent === 'set (never shown)'",
    );
    assert_eq!(
        v.js("document.querySelector('#credentialKey').value"),
        Value::from("")
    );
    v.shot("platforms");
    let stored = served
        .rt
        .block_on(
            served
                .store
                .get_credential(&Entity::agent("agent_dash").unwrap()),
        )
        .unwrap()
        .unwrap();
    let stored_cipher = stored.encrypted_key.clone().unwrap();
    v.act(
        "delete",
        "document.querySelector('[data-action=delete-credentials]').click()",
    );
    v.wait(
        "deleted",
        "document.querySelector('#key-state')?.textContent === 'Nothing stored yet.'",
    );
    v.collect();

    // Nothing the browser received holds a secret.
    let session = served
        .rt
        .block_on(served.store.list_sessions(&SessionQuery::default()))
        .unwrap()
        .sessions
        .remove(0);
    let mut secrets = vec![
        FIRST_KEY.to_owned(),
        SECOND_KEY.to_owned(),
        STORED_KEY.to_owned(),
        INTERNAL_KEY.to_owned(),
        KEY_HEX.to_owned(),
        JWT_SECRET.to_owned(),
        API_SECRET.to_owned(),
        stored_cipher,
    ];
    secrets.extend(session.destinations.iter().map(|d| d.encrypted_url.clone()));
    let urls: Vec<&str> = v.bodies.iter().map(|(url, _)| url.as_str()).collect();
    for wanted in [
        "/dashboard/assets/dashboard.js",
        "/api/streaming/sessions",
        "/api/streaming/timeline",
        "/api/streaming/analytics",
        "/api/streaming/platforms",
    ] {
        assert!(
            urls.iter().any(|u| u.contains(wanted)),
            "{wanted} scanned: {urls:?}"
        );
    }
    for (url, body) in &v.bodies {
        for secret in &secrets {
            assert!(!body.contains(secret.as_str()), "{url} holds a secret");
        }
    }
    eprintln!("scanned {} responses", v.bodies.len());
}
