//! Headless Chromium (Debian's `chromium`) driven over the DevTools protocol: open a page at
//! a given window size, evaluate JavaScript, wait for a condition, read console lines and
//! take screenshots. Blocking; use it from a plain `#[test]`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// The Chromium binary, if installed.
pub fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// One headless Chromium with one page.
pub struct Headless {
    child: Child,
    socket: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Console lines (`console.log` arguments joined by spaces), in order.
    pub console: Vec<String>,
    /// JavaScript dialogs (`alert`, `confirm`, …) the page opened: their messages.
    pub dialogs: Vec<String>,
    /// Responses seen since [`Self::record_network`] (request id, URL), not yet read.
    responses: Vec<(String, String)>,
    _profile: tempfile::TempDir,
}

impl Headless {
    /// Starts Chromium with a `width`×`height` window showing `about:blank`.
    pub fn start(browser: &Path, width: u32, height: u32) -> Self {
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                "--hide-scrollbars",
                "--autoplay-policy=no-user-gesture-required",
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
            ])
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        let port: u16 = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.parse().ok()))
            {
                break port;
            }
            assert!(Instant::now() < deadline, "chromium did not start");
            std::thread::sleep(Duration::from_millis(100));
        };
        let page_ws = loop {
            let list = http_get(port, "/json/list");
            let pages: Value = serde_json::from_str(&list).unwrap_or(Value::Null);
            if let Some(ws) = pages
                .as_array()
                .and_then(|p| p.iter().find(|t| t["type"] == "page"))
                .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            {
                break ws.to_owned();
            }
            assert!(Instant::now() < deadline, "no page target");
            std::thread::sleep(Duration::from_millis(100));
        };
        let (socket, _) = tungstenite::connect(page_ws.as_str()).unwrap();
        let mut me = Self {
            child,
            socket,
            next_id: 0,
            console: Vec::new(),
            dialogs: Vec::new(),
            responses: Vec::new(),
            _profile: profile,
        };
        me.call("Runtime.enable", json!({}));
        me.call("Page.enable", json!({}));
        me.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        me
    }

    /// Calls a DevTools method and returns its result (console events seen meanwhile are
    /// kept in [`Self::console`]).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.socket
            .send(tungstenite::Message::text(
                json!({"id": id, "method": method, "params": params}).to_string(),
            ))
            .unwrap();
        loop {
            let msg = self.socket.read().unwrap();
            let Ok(v) = serde_json::from_str::<Value>(msg.to_text().unwrap_or("")) else {
                continue;
            };
            if v["method"] == "Runtime.consoleAPICalled" {
                let line = v["params"]["args"]
                    .as_array()
                    .map(|args| {
                        args.iter()
                            .map(|a| {
                                a["value"]
                                    .as_str()
                                    .map_or_else(|| a["value"].to_string(), str::to_owned)
                            })
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default();
                self.console.push(line);
            }
            if v["method"] == "Page.javascriptDialogOpening" {
                self.dialogs.push(
                    v["params"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
            if v["method"] == "Network.loadingFinished" {
                if let Some(request) = v["params"]["requestId"].as_str() {
                    if let Some(pending) = self.responses.iter_mut().find(|(r, _)| r == request) {
                        pending.0 = format!("done:{request}");
                    }
                }
            }
            if v["method"] == "Network.responseReceived" {
                let request = v["params"]["requestId"].as_str().unwrap_or_default();
                let url = v["params"]["response"]["url"].as_str().unwrap_or_default();
                self.responses.push((request.to_owned(), url.to_owned()));
            }
            if v["id"] == id {
                return v["result"].clone();
            }
        }
    }

    /// From now on, keeps every response the page receives for [`Self::response_bodies`].
    pub fn record_network(&mut self) {
        self.call(
            "Network.enable",
            json!({"maxTotalBufferSize": 64 << 20, "maxResourceBufferSize": 16 << 20}),
        );
    }

    /// The bodies of the responses fully received since the last call (URL, body as
    /// lossy text; base64 bodies decoded), in order. Streams still open (server-sent
    /// events) are not included.
    pub fn response_bodies(&mut self) -> Vec<(String, String)> {
        let finished: Vec<(String, String)> = self
            .responses
            .iter()
            .filter_map(|(r, url)| r.strip_prefix("done:").map(|r| (r.to_owned(), url.clone())))
            .collect();
        self.responses.retain(|(r, _)| !r.starts_with("done:"));
        let mut bodies = Vec::new();
        for (request, url) in finished {
            let body = self.call("Network.getResponseBody", json!({ "requestId": request }));
            let Some(text) = body["body"].as_str() else {
                continue;
            };
            let text = if body["base64Encoded"] == true {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .unwrap_or_default();
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                text.to_owned()
            };
            bodies.push((url, text));
        }
        bodies
    }

    /// Opens `url`.
    pub fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
    }

    /// Evaluates `expression` (promises awaited) and returns its value.
    pub fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        r["result"]["value"].clone()
    }

    /// Waits until `expression` is `true`; `false` after `timeout`.
    pub fn wait_for(&mut self, expression: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.eval(expression) == Value::Bool(true) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Saves a PNG screenshot of the viewport to `path` and returns its bytes.
    pub fn screenshot(&mut self, path: &Path) -> Vec<u8> {
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .unwrap();
        std::fs::write(path, &png).unwrap();
        png
    }

    /// The page's HTML.
    pub fn dom(&mut self) -> String {
        self.eval("document.documentElement.outerHTML")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl std::fmt::Debug for Headless {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Headless")
            .field("pid", &self.child.id())
            .finish_non_exhaustive()
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP GET on 127.0.0.1 (Chromium's DevTools endpoint, which keeps connections
/// open), returning the body as announced by `Content-Length`.
fn http_get(port: u16, path: &str) -> String {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .and_then(|n| n.trim().parse::<usize>().ok())
            });
            if length.is_some_and(|n| body.len() >= n) {
                return body.to_owned();
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => {
                return text
                    .split_once("\r\n\r\n")
                    .map(|(_, b)| b.to_owned())
                    .unwrap_or_default()
            }
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
}
