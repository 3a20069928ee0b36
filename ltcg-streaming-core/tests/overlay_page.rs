//! The overlay page as viewers see it, in real headless Chromium against the router served
//! on 127.0.0.1: every scene in both themes at 1920×1080 and 1280×720 (screenshots kept in
//! `test-artifacts/overlay-page/`), checked on the DOM and on pixels; changes pushed to the
//! page; the picture-in-picture, audio and the start signal; and the event stream's cost
//! while idle.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ltcg_streaming_core::service::{
    DecisionInput, EventInput, MatchResultRequest, StartStreamRequest,
};
use ltcg_streaming_core::session::{
    Activity, ActivityKind, Entity, SessionId, StoredGameState, StreamSession,
};
use ltcg_streaming_core::store::{
    Insert, Lease, PlatformCredential, SessionPage, SessionQuery, SessionStore,
};
use ltcg_streaming_core::{Actor, GameState, MemoryStore, Result};
use ltcg_streaming_test_support::browser::{chromium, Headless};
use ltcg_streaming_test_support::live_router::{LiveRouter, LIVE_THREAD_NAME};
use ltcg_streaming_test_support::media::{artifacts_dir, Picture};
use ltcg_streaming_test_support::nginx_rtmp::missing;
use serde_json::{json, Value};

/// A store that counts every call (to prove idle streams query nothing).
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryStore,
    calls: AtomicU64,
}

impl Counting {
    fn tick(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl SessionStore for Counting {
    async fn insert_session(&self, s: &StreamSession) -> Result<Insert> {
        self.tick();
        self.inner.insert_session(s).await
    }
    async fn get_session(&self, id: &SessionId) -> Result<Option<StreamSession>> {
        self.tick();
        self.inner.get_session(id).await
    }
    async fn find_by_egress(&self, e: &str) -> Result<Option<StreamSession>> {
        self.tick();
        self.inner.find_by_egress(e).await
    }
    async fn active_session(&self, e: &Entity) -> Result<Option<StreamSession>> {
        self.tick();
        self.inner.active_session(e).await
    }
    async fn update_session(&self, s: &StreamSession) -> Result<StreamSession> {
        self.tick();
        self.inner.update_session(s).await
    }
    async fn list_sessions(&self, q: &SessionQuery) -> Result<SessionPage> {
        self.tick();
        self.inner.list_sessions(q).await
    }
    async fn record_activity(&self, id: &SessionId, a: &Activity) -> Result<StreamSession> {
        self.tick();
        self.inner.record_activity(id, a).await
    }
    async fn recent_activity(
        &self,
        id: &SessionId,
        k: ActivityKind,
        n: usize,
    ) -> Result<Vec<Activity>> {
        self.tick();
        self.inner.recent_activity(id, k, n).await
    }
    async fn set_viewer_count(&self, id: &SessionId, v: u64) -> Result<StreamSession> {
        self.tick();
        self.inner.set_viewer_count(id, v).await
    }
    async fn claim_event(&self, e: &str, t: i64) -> Result<bool> {
        self.tick();
        self.inner.claim_event(e, t).await
    }
    async fn release_event(&self, e: &str) -> Result<()> {
        self.tick();
        self.inner.release_event(e).await
    }
    async fn claim_lease(&self, n: &str, h: &str, t: i64, ttl: i64) -> Result<Lease> {
        self.tick();
        self.inner.claim_lease(n, h, t, ttl).await
    }
    async fn release_lease(&self, n: &str, h: &str) -> Result<bool> {
        self.tick();
        self.inner.release_lease(n, h).await
    }
    async fn put_credential(&self, c: &PlatformCredential) -> Result<()> {
        self.tick();
        self.inner.put_credential(c).await
    }
    async fn get_credential(&self, e: &Entity) -> Result<Option<PlatformCredential>> {
        self.tick();
        self.inner.get_credential(e).await
    }
    async fn delete_credential(&self, e: &Entity) -> Result<bool> {
        self.tick();
        self.inner.delete_credential(e).await
    }
    async fn list_credentials(
        &self,
        after: Option<&Entity>,
        limit: usize,
    ) -> Result<Vec<PlatformCredential>> {
        self.tick();
        self.inner.list_credentials(after, limit).await
    }
    async fn put_game_state(&self, s: &StoredGameState) -> Result<()> {
        self.tick();
        self.inner.put_game_state(s).await
    }
    async fn get_game_state(&self, l: &str) -> Result<Option<StoredGameState>> {
        self.tick();
        self.inner.get_game_state(l).await
    }
    async fn record_viewer_samples(
        &self,
        samples: &[ltcg_streaming_core::session::ViewerSample],
    ) -> Result<()> {
        self.tick();
        self.inner.record_viewer_samples(samples).await
    }
    async fn viewer_samples(
        &self,
        id: &SessionId,
        limit: usize,
    ) -> Result<Vec<ltcg_streaming_core::session::ViewerSample>> {
        self.tick();
        self.inner.viewer_samples(id, limit).await
    }
    async fn append_timeline(
        &self,
        entries: &[ltcg_streaming_core::session::TimelineEntry],
    ) -> Result<()> {
        self.tick();
        self.inner.append_timeline(entries).await
    }
    async fn timeline(
        &self,
        id: &SessionId,
        limit: usize,
    ) -> Result<Vec<ltcg_streaming_core::session::TimelineEntry>> {
        self.tick();
        self.inner.timeline(id, limit).await
    }
}

/// The router on 127.0.0.1 over a counting store.
struct Rig {
    live: LiveRouter,
    store: Arc<Counting>,
}

impl std::ops::Deref for Rig {
    type Target = LiveRouter;
    fn deref(&self) -> &LiveRouter {
        &self.live
    }
}

impl Rig {
    fn start() -> Self {
        let store = Arc::new(Counting::default());
        Self {
            live: LiveRouter::start(store.clone()),
            store,
        }
    }

    /// Starts an agent stream with `overlay` settings on lobby `lobby`, with a board,
    /// decisions, events and a past match; returns its id and overlay URL (on this rig).
    fn full_session(&self, agent: &str, overlay: Value, lobby: &str) -> (SessionId, String) {
        let req: StartStreamRequest = serde_json::from_value(json!({
            "agentId": agent, "entityName": "BlazeMaster", "platform": "twitch",
            "streamKey": format!("live_{agent}_key_0123456789"), "streamTitle": "BlazeMaster plays LTCG",
            "lobbyId": lobby, "overlayConfig": overlay, "entityAvatarUrl": self.picture_url,
        }))
        .unwrap();
        let s = &self.service;
        let started = self
            .rt
            .block_on(s.start_stream(&Actor::Internal, req))
            .unwrap();
        let id = started.session_id.clone();
        self.rt.block_on(async {
            s.update_game_state(&Actor::Internal, game_state(lobby, agent, 6400))
                .await
                .unwrap();
            for (turn, action, why) in [
                (6, "Set Flame Pact", "Holding a response keeps the Leviathan honest."),
                (7, "Attack with Ember Drake", "One face-down card: the Drake survives a trap and pushes damage."),
            ] {
                let d: DecisionInput = serde_json::from_value(json!({"sessionId": id, "gameId": "g1", "turnNumber": turn, "phase": "battle", "action": action, "reasoning": why})).unwrap();
                s.record_decision(&Actor::Internal, d).await.unwrap();
            }
            for what in ["BlazeMaster attacks with Ember Drake", "TidalQueen activates Riptide Ward"] {
                let e: EventInput = serde_json::from_value(json!({"sessionId": id, "gameId": "g1", "turnNumber": 7, "eventType": "agent_decided", "description": what, "playerUsername": "BlazeMaster"})).unwrap();
                s.record_event(&Actor::Internal, e).await.unwrap();
            }
            let m: MatchResultRequest = serde_json::from_value(json!({"sessionId": id, "lastMatchResult": "win", "lastMatchSummary": "Match over: victory secured.", "clearCurrentLobby": false, "lastMatchEndedAt": 1_000})).unwrap();
            s.record_match_result(&Actor::Internal, m).await.unwrap();
        });
        (id, started.overlay_url)
    }

    fn calls(&self) -> u64 {
        self.store.calls.load(Ordering::SeqCst)
    }
}

fn game_state(lobby: &str, agent: &str, host_lp: i64) -> GameState {
    serde_json::from_value(json!({
        "lobbyId": lobby, "gameId": "g1", "turnNumber": 7, "phase": "battle", "activePlayer": "host",
        "host": {"playerId": agent, "name": "host_username", "lifePoints": host_lp, "handCount": 3, "deckCount": 27, "graveyardCount": 4,
                 "field": [{"name": "Ember Drake", "attack": 1800, "defense": 1200},
                           {"name": "Cinder Sentinel", "attack": 1200, "defense": 2000, "position": "defense"},
                           {"name": "Secret Card", "attack": 3000, "faceDown": true},
                           {"name": "Flame Pact", "zone": "spell-trap"}]},
        "opponent": {"name": "TidalQueen", "lifePoints": 3100, "handCount": 5, "deckCount": 25, "graveyardCount": 6,
                     "field": [{"name": "Abyssal Leviathan", "attack": 2400, "defense": 1900},
                               {"faceDown": true, "zone": "spell-trap"}]}
    }))
    .unwrap()
}

/// Problems a person would see: text under 20 px on screen, elements off the screen, text
/// cut off by its box (multi-line texts clamped to a few lines with an ellipsis excepted).
const LAYOUT_PROBLEMS: &str = r#"(() => {
  const scale = parseFloat(document.body.dataset.scale);
  const problems = [];
  for (const e of document.querySelectorAll('#root *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(e).visibility === 'hidden') continue;
    const name = (e.id || e.className || e.tagName) + '';
    if (r.left < -0.5 || r.top < -0.5 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5)
      problems.push('off screen: ' + name);
    const text = Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!text) continue;
    const px = parseFloat(getComputedStyle(e).fontSize) * scale;
    if (px < 19.9) problems.push('text ' + px.toFixed(1) + 'px: ' + name);
    // Multi-line texts clamped on purpose end in an ellipsis; anything else must fit.
    const clamped = getComputedStyle(e).webkitLineClamp !== 'none';
    if (!clamped && (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 2))
      problems.push('cut off: ' + name + ' "' + e.textContent.slice(0, 40) + '"');
  }
  return problems;
})()"#;

/// Opens `url` at `w`×`h` and waits for the page's first complete picture (and the scene
/// animation to end).
fn open(browser: &mut Headless, url: &str) {
    browser.goto(url);
    assert!(
        browser.wait_for(
            "document.body && document.body.dataset.ready === 'true'",
            Duration::from_secs(20)
        ),
        "the page never became ready: {}",
        browser.dom()
    );
    std::thread::sleep(Duration::from_millis(600));
}

/// Share of the rectangle's pixels that stand out from a theme's background.
fn ink(picture: &Picture, area: (f64, f64, f64, f64), light: bool) -> f64 {
    let total =
        ((area.2 - area.0) * picture.width as f64 * (area.3 - area.1) * picture.height as f64)
            .max(1.0);
    let n = picture.count_in(area, |[r, g, b]| {
        let lum = (u32::from(r) * 3 + u32::from(g) * 6 + u32::from(b)) / 10;
        if light {
            lum < 110
        } else {
            lum > 170
        }
    });
    n as f64 / total
}

#[test]
fn every_scene_renders_in_both_themes_at_both_sizes() {
    let Some(exe) = chromium() else {
        missing("chromium");
        return;
    };
    let rig = Rig::start();
    let dir = artifacts_dir("overlay-page");
    for theme in ["dark", "light"] {
        let (_, url) = rig.full_session(
            &format!("agent_scenes_{theme}"),
            json!({"theme": theme, "showPlayerCam": true, "playerVisualMode": "profile-picture"}),
            &format!("lobby_{theme}"),
        );
        for (w, h) in [(1920u32, 1080u32), (1280, 720)] {
            let mut browser = Headless::start(&exe, w, h);
            for scene in [
                "starting-soon",
                "live-game",
                "match-over",
                "lobby-chat",
                "brb",
                "ending",
            ] {
                open(&mut browser, &format!("{url}&scene={scene}"));
                let path = dir.join(format!("{scene}-{theme}-{w}x{h}.png"));
                browser.screenshot(&path);
                let ctx = format!("{scene} {theme} {w}x{h}");
                assert_eq!(
                    browser.eval("document.body.dataset.scene"),
                    json!(scene),
                    "{ctx}"
                );
                let problems = browser.eval(LAYOUT_PROBLEMS);
                assert_eq!(problems, json!([]), "{ctx}");
                let dom = browser.dom();
                assert!(dom.contains(&format!("theme-{theme}")), "{ctx}");
                let picture = Picture::open(&path);
                assert_eq!((picture.width, picture.height), (w as usize, h as usize));
                let light = theme == "light";
                // The main area carries the scene: the board, or the scene's card.
                let main = ink(&picture, (0.02, 0.15, 0.74, 0.85), light);
                assert!(main > 0.01, "{ctx}: main area looks empty ({main:.4})");
                let title = browser.eval("document.getElementById('waiting-title').textContent");
                let visible = browser.eval("document.body.innerText");
                assert!(
                    !visible.as_str().unwrap().contains("Loading stream..."),
                    "{ctx}"
                );
                match scene {
                    "live-game" => {
                        assert_eq!(
                            browser.eval("document.getElementById('board').hidden"),
                            json!(false),
                            "{ctx}"
                        );
                        // The agent's name replaces its player's username; face-down cards
                        // show no name.
                        let board = browser
                            .eval("document.getElementById('board').textContent")
                            .as_str()
                            .unwrap()
                            .to_owned();
                        assert!(
                            board.contains("BlazeMaster") && board.contains("TidalQueen"),
                            "{ctx}: {board}"
                        );
                        assert!(
                            !board.contains("host_username") && !board.contains("Secret Card"),
                            "{ctx}: {board}"
                        );
                        assert!(
                            board.contains("LP 6400") && board.contains("1800 / 1200"),
                            "{ctx}: {board}"
                        );
                        assert_eq!(
                            browser.eval("document.querySelectorAll('#host .face-down').length"),
                            json!(1),
                            "{ctx}"
                        );
                    }
                    "match-over" => {
                        assert_eq!(
                            browser.eval("document.getElementById('waiting-result').textContent"),
                            json!("WIN"),
                            "{ctx}"
                        );
                        assert!(dom.contains("Match over: victory secured."), "{ctx}");
                    }
                    "brb" => assert_eq!(title, json!("Be Right Back"), "{ctx}"),
                    "starting-soon" => assert_eq!(title, json!("Starting Soon"), "{ctx}"),
                    "ending" => assert_eq!(title, json!("Stream Ending"), "{ctx}"),
                    _ => assert_eq!(title, json!("Lobby Chat"), "{ctx}"),
                }
                // The sidebar, the ticker, the scene label and the picture-in-picture.
                assert!(
                    dom.contains("One face-down card: the Drake survives"),
                    "{ctx}"
                );
                assert!(dom.contains("TidalQueen activates Riptide Ward"), "{ctx}");
                let label = browser.eval("document.getElementById('hud-scene').textContent");
                assert!(label.as_str().is_some_and(|l| !l.is_empty()), "{ctx}");
                let scale = w as f64 / 1920.0;
                let pip = browser.eval("(() => { const r = document.getElementById('pip').getBoundingClientRect(); const i = document.getElementById('pip'); return [r.width, innerWidth - r.right, innerHeight - r.bottom, i.naturalWidth]; })()");
                let pip: Vec<f64> = serde_json::from_value(pip).unwrap();
                assert!((pip[0] - 280.0 * scale).abs() < 1.0, "{ctx}: pip {pip:?}");
                assert!(
                    (pip[1] - 24.0 * scale).abs() < 1.0 && (pip[2] - 24.0 * scale).abs() < 1.0,
                    "{ctx}: pip {pip:?}"
                );
                assert!(
                    pip[3] > 0.0,
                    "{ctx}: the avatar loaded (the CSP allows its origin)"
                );
                let magenta = picture.count_in((0.7, 0.6, 1.0, 1.0), |[r, g, b]| {
                    r > 200 && g < 60 && b > 200
                });
                assert!(
                    magenta as f64 > 200.0 * 200.0 * scale * scale,
                    "{ctx}: pip pixels {magenta}"
                );
            }
            // START_RECORDING once per page load, never before the data was drawn.
            let starts = browser
                .console
                .iter()
                .filter(|l| *l == "START_RECORDING")
                .count();
            assert_eq!(
                starts, 6,
                "one start signal per load: {:?}",
                browser.console
            );
        }
    }
}

#[test]
fn settings_audio_preview_and_forged_tokens() {
    let Some(exe) = chromium() else {
        missing("chromium");
        return;
    };
    let rig = Rig::start();
    let dir = artifacts_dir("overlay-page");
    let (_, url) = rig.full_session(
        "agent_settings",
        json!({"showDecisions": false, "showEventFeed": false, "showAgentInfo": false, "showSceneLabel": false,
               "sceneTransitions": false, "showPlayerCam": true, "playerVisualMode": "profile-picture",
               "webcamPosition": "top-left", "webcamSize": "large",
               "voiceTrackUrl": "https://cdn.example/voice.mp3", "voiceVolume": 0.4, "voiceLoop": true}),
        "lobby_settings",
    );
    let mut browser = Headless::start(&exe, 1280, 720);
    open(&mut browser, &url);
    browser.screenshot(&dir.join("settings-off-1280x720.png"));
    let state = browser.eval("(() => { const $ = (i) => document.getElementById(i); const v = $('voice'); const r = $('pip').getBoundingClientRect(); return {decisions: $('decisions').hidden, ticker: $('ticker').hidden, info: $('info-bar').hidden, label: $('hud-scene').hidden, transitions: document.body.classList.contains('transitions'), volume: v && v.volume, loop: v && v.loop, src: v && v.src, tone: document.body.dataset.tone, pip: [r.left, r.top, r.width]}; })()");
    assert_eq!(state["decisions"], true);
    assert_eq!(state["ticker"], true);
    assert_eq!(state["info"], true);
    assert_eq!(state["label"], true);
    assert_eq!(state["transitions"], false);
    assert_eq!(
        (state["volume"].as_f64(), state["loop"].as_bool()),
        (Some(0.4), Some(true))
    );
    assert_eq!(state["src"], "https://cdn.example/voice.mp3");
    assert_eq!(state["tone"], "20", "the 20 Hz tone plays");
    let pip: Vec<f64> = serde_json::from_value(state["pip"].clone()).unwrap();
    let scale = 1280.0 / 1920.0;
    assert!(
        (pip[0] - 24.0 * scale).abs() < 1.0
            && (pip[1] - 24.0 * scale).abs() < 1.0
            && (pip[2] - 340.0 * scale).abs() < 1.0,
        "{pip:?}"
    );

    // audio=0: a silent page.
    open(&mut browser, &format!("{url}&audio=0"));
    let silent =
        browser.eval("[!!document.getElementById('voice'), document.body.dataset.tone || null]");
    assert_eq!(silent, json!([false, null]));

    // An empty decision list says so.
    let fresh: StartStreamRequest = serde_json::from_value(json!({"agentId": "agent_nodecisions", "platform": "twitch", "streamKey": "live_nodecisions_key_0123"})).unwrap();
    let started = rig
        .rt
        .block_on(rig.service.start_stream(&Actor::Internal, fresh))
        .unwrap();
    open(&mut browser, &started.overlay_url);
    assert_eq!(
        browser.eval("document.getElementById('analyzing').hidden"),
        json!(false)
    );
    assert!(browser.dom().contains("Analyzing the board..."));
    assert_eq!(
        browser.eval("document.body.dataset.scene"),
        json!("starting-soon")
    );

    // Preview: sample data, no session.
    let base = format!("http://{}", rig.addr);
    for theme in ["dark", "light"] {
        open(
            &mut browser,
            &format!("{base}/stream/overlay?preview=1&theme={theme}"),
        );
        browser.screenshot(&dir.join(format!("preview-{theme}-1280x720.png")));
        let dom = browser.dom();
        assert!(
            dom.contains("Abyssal Leviathan") && dom.contains(&format!("theme-{theme}")),
            "preview {theme}"
        );
        assert_eq!(browser.eval(LAYOUT_PROBLEMS), json!([]), "preview {theme}");
    }

    // The page may load pictures and sound only from the origins the session names.
    let (_, url) = rig.full_session(
        "agent_csp",
        json!({"profilePictureUrl": "https://pictures.example/me.png", "voiceTrackUrl": "https://cdn.example/voice.mp3"}),
        "lobby_csp",
    );
    let csp = header_of(rig.addr, &url, "content-security-policy");
    let picture_origin = rig.picture_url.trim_end_matches("/avatar.svg");
    assert!(
        csp.contains(&format!(
            "img-src 'self' data: https://pictures.example {picture_origin};"
        )),
        "{csp}"
    );
    assert!(
        csp.contains("media-src 'self' https://cdn.example;"),
        "{csp}"
    );
    assert!(!csp.contains("https:;") && !csp.contains(" * "), "{csp}");

    // A forged token renders no data.
    let forged = url.split("&token=").next().unwrap().to_owned() + "&token=forged.token.value";
    browser.goto(&forged);
    std::thread::sleep(Duration::from_millis(800));
    let denied = browser.dom();
    browser.screenshot(&dir.join("forged-token.png"));
    assert!(denied.contains("Unauthorized overlay access"), "{denied}");
    assert!(
        !denied.contains("BlazeMaster") && !denied.contains("Ember Drake"),
        "{denied}"
    );
}

/// Reads server-sent events from `path` on `addr`: `(event, id, data)` per event.
struct Sse {
    reader: BufReader<TcpStream>,
}

impl Sse {
    fn open(addr: SocketAddr, path: &str, last_event_id: Option<&str>) -> Self {
        let mut stream = TcpStream::connect(addr).unwrap();
        let extra = last_event_id.map_or(String::new(), |id| format!("Last-Event-ID: {id}\r\n"));
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n{extra}\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
        }
        Self { reader }
    }

    /// The next event within `timeout` (heartbeats skipped), or `None`.
    fn next(&mut self, timeout: Duration) -> Option<(String, String, Value)> {
        self.reader
            .get_ref()
            .set_read_timeout(Some(timeout))
            .unwrap();
        let deadline = Instant::now() + timeout;
        let (mut event, mut id, mut data) = (String::new(), String::new(), String::new());
        let mut line = String::new();
        loop {
            line.clear();
            if Instant::now() > deadline || self.reader.read_line(&mut line).unwrap_or(0) == 0 {
                return None;
            }
            let l = line.trim_end();
            // Chunked framing: size lines and blanks between chunks carry no field.
            if let Some(v) = l.strip_prefix("event:") {
                event = v.trim().into();
            } else if let Some(v) = l.strip_prefix("id:") {
                id = v.trim().into();
            } else if let Some(v) = l.strip_prefix("data:") {
                data.push_str(v.trim_start());
            } else if l.is_empty() && !event.is_empty() {
                return Some((
                    event,
                    id,
                    serde_json::from_str(&data).unwrap_or(Value::Null),
                ));
            }
        }
    }
}

/// One response header of a GET of `url` (on `addr`), lower-cased name.
fn header_of(addr: SocketAddr, url: &str, name: &str) -> String {
    let path = &url[url.find("/stream/").unwrap()..];
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            return String::new();
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case(name) {
                return v.trim().to_owned();
            }
        }
    }
}

fn events_path(overlay_url: &str) -> String {
    let query = overlay_url.split_once('?').unwrap().1;
    format!("/stream/overlay/events?{query}")
}

#[test]
fn writes_are_pushed_and_idle_streams_cost_nothing() {
    let rig = Rig::start();
    let (id, url) = rig.full_session("agent_push", json!({}), "lobby_push");
    let path = events_path(&url);
    let mut first = Sse::open(rig.addr, &path, None);
    let (event, fingerprint, snapshot) = first
        .next(Duration::from_secs(5))
        .expect("a first snapshot");
    assert_eq!(event, "snapshot");
    assert_eq!(snapshot["gameState"]["host"]["name"], "BlazeMaster");

    // Resuming with the last id sends nothing until something changes.
    let mut resumed = Sse::open(rig.addr, &path, Some(&fingerprint));
    assert!(
        resumed.next(Duration::from_millis(700)).is_none(),
        "no repeat of a shown picture"
    );

    // A game-state write reaches both streams at once.
    rig.rt
        .block_on(rig.service.update_game_state(
            &Actor::Internal,
            game_state("lobby_push", "agent_push", 1200),
        ))
        .unwrap();
    for stream in [&mut first, &mut resumed] {
        let (_, next_id, snap) = stream.next(Duration::from_secs(5)).expect("pushed");
        assert_ne!(next_id, fingerprint);
        assert_eq!(snap["gameState"]["host"]["lifePoints"], 1200);
    }

    // 100 idle streams: no store query and no measurable CPU for 30 s.
    let mut idle: Vec<Sse> = (0..100).map(|_| Sse::open(rig.addr, &path, None)).collect();
    for s in &mut idle {
        assert!(s.next(Duration::from_secs(5)).is_some());
    }
    let calls = rig.calls();
    let cpu = router_cpu();
    std::thread::sleep(Duration::from_secs(30));
    let used = router_cpu() - cpu;
    assert_eq!(rig.calls() - calls, 0, "idle streams made store queries");
    eprintln!("100 idle event streams for 30 s: {used:.3} s of the router's CPU");
    assert!(
        used < 0.3,
        "100 idle streams used {used:.3} s of CPU in 30 s"
    );

    // And they are all still live: one write, one snapshot each.
    rig.rt
        .block_on(rig.service.update_viewer_count(&Actor::Internal, &id, 77))
        .unwrap();
    for s in &mut idle {
        let (_, _, snap) = s.next(Duration::from_secs(5)).expect("pushed after idling");
        assert_eq!(snap["viewerCount"], 77);
    }
}

#[test]
fn the_match_over_scene_ends_on_its_own() {
    let rig = Rig::start();
    let req: StartStreamRequest = serde_json::from_value(json!({"agentId": "agent_timer", "platform": "twitch", "streamKey": "live_timer_key_0123456789", "overlayConfig": {"matchOverHoldMs": 5000}})).unwrap();
    let started = rig
        .rt
        .block_on(rig.service.start_stream(&Actor::Internal, req))
        .unwrap();
    let m: MatchResultRequest =
        serde_json::from_value(json!({"sessionId": started.session_id, "lastMatchResult": "loss"}))
            .unwrap();
    rig.rt
        .block_on(rig.service.record_match_result(&Actor::Internal, m))
        .unwrap();
    let mut sse = Sse::open(rig.addr, &events_path(&started.overlay_url), None);
    let (_, _, snap) = sse.next(Duration::from_secs(5)).unwrap();
    assert_eq!(snap["scene"], "match-over");
    assert_eq!(snap["lastMatch"]["result"], "loss");
    let calls = rig.calls();
    // Nothing is written: the timer alone moves the scene on after the hold.
    let (_, _, next) = sse
        .next(Duration::from_secs(10))
        .expect("the scene changed by itself");
    assert_eq!(next["scene"], "starting-soon");
    assert!(rig.calls() - calls <= 3, "one reload, not a poll");
}

/// CPU time the router's runtime threads have used, in seconds (user + system); other tests
/// running in this process do not count.
fn router_cpu() -> f64 {
    let mut ticks = 0.0;
    let mut threads = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() != LIVE_THREAD_NAME {
            continue;
        }
        threads += 1;
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        ticks += fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    }
    assert!(threads >= 2, "the router's runtime threads were not found");
    ticks / 100.0
}
