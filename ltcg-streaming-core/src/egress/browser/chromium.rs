//! Chromium, headful (headless draws nothing on the X display), in kiosk mode on a stream's
//! display, playing into its audio sink, driven over the DevTools pipe.
//!
//! The page URL (it carries the overlay token) is sent over DevTools, never put on the
//! command line. Flags: autoplay without a gesture, no background throttling (the page is
//! never "visible" to a person), no GPU, no `/dev/shm`, no first-run, sync, component or
//! background network requests, and never `--mute-audio`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use command_fds::{CommandFdExt, FdMapping};
use nix::fcntl::OFlag;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use super::cdp::Cdp;
use crate::redact::redact_page_url;

/// How long the browser may take to show its first page target.
const TARGET_TIMEOUT: Duration = Duration::from_secs(15);

/// The switches every render uses (besides display, size, profile and the pipe).
pub(crate) const SWITCHES: &[&str] = &[
    "--kiosk",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-features=Translate,MediaRouter,OptimizationHints,DialMediaRouteProvider",
    "--disable-breakpad",
    "--noerrdialogs",
    "--disable-infobars",
    "--hide-scrollbars",
    "--password-store=basic",
    "--use-mock-keychain",
    "--window-position=0,0",
];

/// A running browser and the page it shows.
#[derive(Debug)]
pub(crate) struct Browser {
    /// The browser process (its children share its process group).
    pub(crate) child: Child,
    /// Its page.
    pub(crate) page: Page,
}

/// The browser's page, over DevTools. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    /// The DevTools connection.
    pub(crate) cdp: Cdp,
    /// The DevTools session of the page.
    pub(crate) session: String,
}

/// What went wrong loading the page.
#[derive(Debug)]
pub(crate) struct LoadFailure(pub(crate) String);

/// The overlay is laid out for 1920 CSS pixels across (1080 in portrait), LiveKit's default
/// picture: the page is zoomed to fill a window of any other size the same way.
pub(crate) fn scale_factor(width: u32, height: u32) -> f64 {
    let design = if width >= height { 1920.0 } else { 1080.0 };
    f64::from(width) / design
}

/// Whether this process runs as root (Chromium's sandbox then needs `--no-sandbox`).
fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Starts Chromium on display `:display` playing into `sink`, profile in `profile_dir`.
pub(crate) async fn launch(
    program: &Path,
    display: u32,
    sink: &str,
    width: u32,
    height: u32,
    profile_dir: &Path,
) -> Result<Browser, String> {
    let pipe = |what| nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("{what}: {e}"));
    let (browser_reads, we_write) = pipe("DevTools pipe")?;
    let (we_read, browser_writes) = pipe("DevTools pipe")?;
    let scale = scale_factor(width, height);
    let dip = |px: u32| (f64::from(px) / scale).round() as u32;
    let mut command = Command::new(program);
    command
        .args(SWITCHES)
        // In device-independent pixels: the window fills the display at that zoom.
        .arg(format!("--window-size={},{}", dip(width), dip(height)))
        .arg(format!("--force-device-scale-factor={scale}"))
        .arg(format!("--user-data-dir={}", profile_dir.display()))
        .arg("--remote-debugging-pipe");
    if running_as_root() {
        command.arg("--no-sandbox");
    }
    command
        .arg("about:blank")
        .env("DISPLAY", format!(":{display}"))
        .env("PULSE_SINK", sink)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    command
        .fd_mappings(vec![
            FdMapping {
                parent_fd: browser_reads,
                child_fd: 3,
            },
            FdMapping {
                parent_fd: browser_writes,
                child_fd: 4,
            },
        ])
        .map_err(|e| e.to_string())?;
    let child = command
        .spawn()
        .map_err(|e| format!("cannot run {}: {}", program.display(), e.kind()))?;
    // Our copies of the browser's ends close with the command.
    drop(command);
    let cdp = Cdp::new(we_write, we_read).map_err(|e| format!("DevTools pipe: {e}"))?;
    let mut browser = Browser {
        child,
        page: Page {
            cdp,
            session: String::new(),
        },
    };
    match attach_to_page(&browser.page.cdp).await {
        Ok(session) => {
            browser.page.session = session;
            Ok(browser)
        }
        Err(e) => {
            browser.kill().await;
            Err(e)
        }
    }
}

/// Finds the browser's page and attaches to it; returns the DevTools session id.
async fn attach_to_page(cdp: &Cdp) -> Result<String, String> {
    let deadline = tokio::time::Instant::now() + TARGET_TIMEOUT;
    let target = loop {
        let targets = cdp.call(None, "Target.getTargets", json!({})).await?;
        let page = targets["targetInfos"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["type"] == "page")
            .and_then(|t| t["targetId"].as_str().map(str::to_owned));
        if let Some(page) = page {
            break page;
        }
        if tokio::time::Instant::now() > deadline {
            return Err("Chromium opened no page".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let attached = cdp
        .call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        )
        .await?;
    let session = attached["sessionId"]
        .as_str()
        .ok_or("Chromium gave no DevTools session")?
        .to_owned();
    for domain in [
        "Page.enable",
        "Runtime.enable",
        "Network.enable",
        "Inspector.enable",
    ] {
        cdp.call(Some(&session), domain, json!({})).await?;
    }
    Ok(session)
}

impl Page {
    /// Loads `url`: each try waits up to `timeout` for the page's load event; an HTTP
    /// status of 400 or more, or a network error, fails the try. The error names the URL
    /// redacted.
    pub(crate) async fn open(
        &self,
        url: &str,
        timeout: Duration,
        attempts: u32,
    ) -> Result<(), LoadFailure> {
        let mut last = String::new();
        for attempt in 1..=attempts.max(1) {
            match tokio::time::timeout(timeout, self.load_once(url)).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) => last = e,
                Err(_) => last = format!("no load event within {} s", timeout.as_secs()),
            }
            tracing::warn!(attempt, page = %redact_page_url(url), error = %last, "the overlay page did not load");
        }
        Err(LoadFailure(format!(
            "the overlay page {} did not load after {} tries: {last}",
            redact_page_url(url),
            attempts.max(1)
        )))
    }

    async fn load_once(&self, url: &str) -> Result<(), String> {
        let mut events = self.cdp.events();
        let nav = self
            .cdp
            .call(Some(&self.session), "Page.navigate", json!({"url": url}))
            .await?;
        if let Some(error) = nav["errorText"].as_str().filter(|e| !e.is_empty()) {
            return Err(error.to_owned());
        }
        let loader = nav["loaderId"].as_str().unwrap_or_default().to_owned();
        let mut status: Option<u64> = None;
        loop {
            let event: Arc<Value> = events
                .recv()
                .await
                .map_err(|_| "the browser closed its DevTools pipe".to_owned())?;
            if event["sessionId"].as_str() != Some(self.session.as_str()) {
                continue;
            }
            match event["method"].as_str() {
                Some("Network.responseReceived")
                    if event["params"]["type"] == "Document"
                        && event["params"]["loaderId"].as_str() == Some(loader.as_str()) =>
                {
                    status = event["params"]["response"]["status"].as_u64();
                    if let Some(code) = status.filter(|s| *s >= 400) {
                        return Err(format!("HTTP {code}"));
                    }
                }
                Some("Page.loadEventFired") => {
                    return match status {
                        Some(code) if code >= 400 => Err(format!("HTTP {code}")),
                        _ => Ok(()),
                    }
                }
                _ => {}
            }
        }
    }
}

impl Browser {
    /// The process group id (the browser's pid).
    pub(crate) fn group(&self) -> Option<i32> {
        self.child.id().and_then(|id| i32::try_from(id).ok())
    }

    /// Ends the browser and every process it started.
    pub(crate) async fn kill(&mut self) {
        if let Some(group) = self.group() {
            kill_group(group);
        }
        let _ = self.child.kill().await;
    }
}

/// Sends SIGKILL to process group `group`.
pub(crate) fn kill_group(group: i32) {
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(group),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// The browser program: `/usr/bin/chromium` (Debian), else the first of the usual names on
/// `PATH`.
pub(crate) fn default_program() -> PathBuf {
    let debian = PathBuf::from("/usr/bin/chromium");
    if debian.exists() {
        return debian;
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Some(path) = find_on_path(name) {
            return path;
        }
    }
    PathBuf::from("chromium")
}

/// `name` on `PATH`, if there.
pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_zoomed_to_fill_the_picture_as_at_1080p() {
        assert_eq!(scale_factor(1920, 1080), 1.0);
        assert_eq!(scale_factor(960, 540), 0.5);
        assert_eq!(scale_factor(1080, 1920), 1.0);
        assert!(!SWITCHES.contains(&"--mute-audio") && !SWITCHES.contains(&"--headless"));
    }
}
