//! [`BrowserEgress`]: the overlay page itself, rendered on this machine and pushed to every
//! output, with Debian packages only (Chromium, Xvfb, PulseAudio, ffmpeg).
//!
//! Per stream: a PulseAudio null sink named after the egress, an Xvfb display on a free
//! number (`-screen 0 WxHx24 -nolisten tcp`), Chromium headful in kiosk mode on it playing
//! into the sink, driven over the DevTools pipe (the page loads with a timeout and a number
//! of tries; the console is watched for `START_RECORDING` and `END_RECORDING`), and ffmpeg
//! grabbing the display at a constant frame rate (`x11grab`) and the sink's monitor
//! (`pulse`), encoding H.264 (libx264 veryfast, CBR, key frame every 2 s, yuv420p) + AAC as
//! FLV to a pipe. This process publishes that one encode to every output (see the relay
//! rules in [`super`]), so stream keys reach no child's command line, and outputs come and
//! go while live. A thumbnail JPEG of the picture is refreshed every few seconds.
//!
//! Lifecycle events are shaped like LiveKit's webhooks ([`BrowserEgress::events`], fed to
//! [`crate::StreamingService::follow_egress_events`]): `egress_started`, `egress_updated`
//! (ACTIVE once frames flow, and on every output change, with `stream_results`),
//! `egress_ended` (COMPLETE on stop or `END_RECORDING`, FAILED with the part that failed:
//! the page did not load, Chromium, Xvfb or ffmpeg exited, or every output failed).
//!
//! Renders are admitted up to [`BrowserEgressOptions::max_concurrent`]; one more is refused
//! at once with [`crate::Error::EgressBusy`]. After a crash of the process, the next start
//! (or [`BrowserEgress::reap_leftovers`]) kills what the old renders left running and
//! unloads their sinks; their sessions are ended by the reconciler, since
//! [`EgressBackend::list_active`] of a new process does not list them.

mod cdp;
mod chromium;
mod leftovers;
mod pulse;
mod xvfb;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::process::{Child, Command};
use tokio::sync::{broadcast, oneshot, OnceCell};

pub use self::leftovers::Reaped;
use self::leftovers::RenderDir;
use super::local_run::{
    connect_targets, encoder_args, ffmpeg_preamble, follow_ffmpeg, follow_outputs, Registry,
};
use super::relay::{Relay, RelayTimings};
use super::test_pattern::finish_ffmpeg;
use super::{EgressBackend, EgressRequest, EgressSummary, EncoderStats, Thumbnail};
use crate::error::{Error, Result};
use crate::redact::redact_urls_in_text;
use crate::session::EgressStatus;
use crate::vault::SecretString;
use crate::webhook::EgressEvent;

/// The console message that starts the encoder when a start signal is awaited.
pub const START_RECORDING: &str = "START_RECORDING";
/// The console message that ends the stream.
pub const END_RECORDING: &str = "END_RECORDING";
/// The thumbnail's file name in a render's directory.
const THUMBNAIL_FILE: &str = "thumbnail.jpg";
/// Height of the thumbnails, in pixels.
const THUMBNAIL_HEIGHT: u32 = 360;

/// Settings of [`BrowserEgress`]. The programs default to their Debian names on `PATH`.
#[derive(Debug, Clone)]
pub struct BrowserEgressOptions {
    /// The browser (default `/usr/bin/chromium`, else `chromium` / `google-chrome`).
    pub chromium: PathBuf,
    /// The X server (default `Xvfb`).
    pub xvfb: PathBuf,
    /// The encoder (default `ffmpeg`).
    pub ffmpeg: PathBuf,
    /// PulseAudio's control program (default `pactl`).
    pub pactl: PathBuf,
    /// The PulseAudio daemon, started when none answers (default `pulseaudio`).
    pub pulseaudio: PathBuf,
    /// Where render directories (browser profile, thumbnail, record of processes) live
    /// (default `<temp>/ltcg-browser-egress`). Renders of every process on this machine
    /// that share it clean up after each other's crashes.
    pub work_dir: PathBuf,
    /// Most renders at once (default: the number of CPUs). One more is refused with
    /// [`Error::EgressBusy`].
    pub max_concurrent: usize,
    /// Encode nothing until the page logs `START_RECORDING` (default `false`).
    pub await_start_signal: bool,
    /// How long one try to load the page may take (default 30 s).
    pub page_load_timeout: Duration,
    /// Tries to load the page (default 3).
    pub page_load_attempts: u32,
    /// How often the thumbnail is refreshed; `None` for none (default 10 s).
    pub thumbnail_interval: Option<Duration>,
    /// An output that makes no progress for this long (reconnecting, or a connection that
    /// stopped taking data) is failed (default 30 s).
    pub reconnect_window: Duration,
}

impl Default for BrowserEgressOptions {
    fn default() -> Self {
        Self {
            chromium: chromium::default_program(),
            xvfb: PathBuf::from("Xvfb"),
            ffmpeg: PathBuf::from("ffmpeg"),
            pactl: PathBuf::from("pactl"),
            pulseaudio: PathBuf::from("pulseaudio"),
            work_dir: std::env::temp_dir().join("ltcg-browser-egress"),
            max_concurrent: std::thread::available_parallelism().map_or(1, |n| n.get()),
            await_start_signal: false,
            page_load_timeout: Duration::from_secs(30),
            page_load_attempts: 3,
            thumbnail_interval: Some(Duration::from_secs(10)),
            reconnect_window: RelayTimings::default().give_up_after,
        }
    }
}

impl BrowserEgressOptions {
    /// The programs this backend needs that cannot be found (empty when all are there).
    pub fn missing_programs(&self) -> Vec<String> {
        [
            &self.chromium,
            &self.xvfb,
            &self.ffmpeg,
            &self.pactl,
            &self.pulseaudio,
        ]
        .into_iter()
        .filter(|p| {
            let found = if p.components().count() > 1 {
                p.is_file()
            } else {
                chromium::find_on_path(&p.to_string_lossy()).is_some()
            };
            !found
        })
        .map(|p| p.display().to_string())
        .collect()
    }
}

#[derive(Debug)]
struct Shared {
    options: BrowserEgressOptions,
    registry: Arc<Registry>,
    /// Renders admitted and not yet over.
    renders: AtomicUsize,
    /// The audio server checked and leftovers reaped, once.
    prepared: OnceCell<()>,
}

/// An [`EgressBackend`] that renders the overlay page in a local Chromium. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BrowserEgress {
    shared: Arc<Shared>,
}

/// Gives a render slot back when dropped.
struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.renders.fetch_sub(1, Ordering::SeqCst);
    }
}

impl BrowserEgress {
    /// A backend with `options`; nothing runs until [`EgressBackend::start`].
    pub fn new(options: BrowserEgressOptions) -> Self {
        Self {
            shared: Arc::new(Shared {
                options,
                registry: Arc::new(Registry::new("browser")),
                renders: AtomicUsize::new(0),
                prepared: OnceCell::new(),
            }),
        }
    }

    /// Lifecycle events of every egress from now on.
    pub fn events(&self) -> broadcast::Receiver<EgressEvent> {
        self.shared.registry.subscribe()
    }

    /// An egress's current status.
    pub fn status(&self, egress_id: &str) -> Option<EgressStatus> {
        self.shared.registry.status(egress_id)
    }

    /// Kills what renders of processes that are gone left behind (browsers, X servers,
    /// encoders, audio sinks); the first start does it too.
    pub async fn reap_leftovers(&self) -> Reaped {
        let o = &self.shared.options;
        leftovers::reap(&o.work_dir, &o.pactl).await
    }

    /// The directory of a running egress's render.
    fn render_dir(&self, egress_id: &str) -> PathBuf {
        self.shared.options.work_dir.join(egress_id)
    }

    /// Takes a render slot, or refuses with [`Error::EgressBusy`].
    fn admit(&self) -> Result<Slot> {
        let max = self.shared.options.max_concurrent.max(1);
        let taken = self.shared.renders.fetch_add(1, Ordering::SeqCst);
        let slot = Slot(self.shared.clone());
        if taken >= max {
            return Err(Error::EgressBusy {
                message: format!(
                    "{taken} of {max} browser renders are running on this machine; try again when one ends"
                ),
            });
        }
        Ok(slot)
    }
}

/// What a render has running.
struct Parts {
    display: xvfb::Display,
    sink: Option<u32>,
    browser: chromium::Browser,
    dir: RenderDir,
}

impl Shared {
    fn error(message: impl Into<String>) -> Error {
        Error::Egress {
            retryable: false,
            message: message.into(),
        }
    }

    /// Display, sink and browser for one render; undone on failure.
    async fn launch(&self, egress_id: &str, request: &EgressRequest) -> Result<Parts> {
        let o = &self.options;
        let e = &request.encoding;
        let dir = RenderDir::create(&o.work_dir, egress_id).map_err(|err| {
            Self::error(format!(
                "cannot create the render directory: {}",
                err.kind()
            ))
        })?;
        let display = match xvfb::start(&o.xvfb, e.width, e.height).await {
            Ok(d) => d,
            Err(why) => {
                dir.remove();
                return Err(Self::error(why));
            }
        };
        dir.record_process("group", display.child.id());
        let sink_name = pulse::sink_name(egress_id);
        let sink = match pulse::load_sink(&o.pactl, &sink_name).await {
            Ok(module) => {
                dir.record_sink(module);
                Some(module)
            }
            Err(why) => {
                let mut display = display;
                let _ = display.child.kill().await;
                dir.remove();
                return Err(Self::error(format!("cannot create the audio sink: {why}")));
            }
        };
        let profile = dir.path().join("profile");
        match chromium::launch(
            &o.chromium,
            display.number,
            &sink_name,
            e.width,
            e.height,
            &profile,
        )
        .await
        {
            Ok(browser) => {
                dir.record_process("group", browser.child.id());
                Ok(Parts {
                    display,
                    sink,
                    browser,
                    dir,
                })
            }
            Err(why) => {
                let mut display = display;
                let _ = display.child.kill().await;
                if let Some(module) = sink {
                    pulse::unload(&o.pactl, module).await;
                }
                dir.remove();
                Err(Self::error(why))
            }
        }
    }

    /// The encoder for a render on `display` with the egress's sink.
    fn ffmpeg(
        &self,
        egress_id: &str,
        request: &EgressRequest,
        display: u32,
    ) -> std::io::Result<Child> {
        let e = &request.encoding;
        let mut args = ffmpeg_preamble();
        args.extend(
            [
                "-thread_queue_size",
                "512",
                "-f",
                "x11grab",
                "-draw_mouse",
                "0",
                "-framerate",
                &e.framerate.to_string(),
                "-video_size",
                &format!("{}x{}", e.width, e.height),
                "-i",
                &format!(":{display}.0+0,0"),
                "-thread_queue_size",
                "512",
                "-f",
                "pulse",
                // 20 ms blocks, stamped when they arrive like the grabbed frames: the muxer
                // waits for audio before it writes video, so audio stamped behind the
                // picture would hold every frame back (seconds, measured).
                "-fragment_size",
                "3528",
                "-use_wallclock_as_timestamps",
                "1",
                "-i",
                &format!("{}.monitor", pulse::sink_name(egress_id)),
                "-map",
                "0:v",
                "-map",
                "1:a",
            ]
            .map(str::to_owned),
        );
        // Both inputs are stamped with the wall clock when captured; keep those stamps,
        // counted from now (by default ffmpeg starts each input at 0, and the sound, whose
        // first block comes after the first grabbed frame, would run behind the picture
        // and hold every frame back in the muxer by that much).
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        args.extend(["-copyts", "-output_ts_offset", &format!("-{now:.3}")].map(str::to_owned));
        args.extend(encoder_args(e));
        Command::new(&self.options.ffmpeg)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
    }
}

/// Takes a thumbnail of display `display` every `every`: one grabbed frame, scaled to
/// [`THUMBNAIL_HEIGHT`], written next to the old one and renamed over it (readers never see
/// half a file). A separate short ffmpeg, so the stream's encoder only encodes the stream.
async fn thumbnails(
    ffmpeg: PathBuf,
    display: u32,
    width: u32,
    height: u32,
    dir: PathBuf,
    every: Duration,
) {
    let target = dir.join(THUMBNAIL_FILE);
    let partial = dir.join("thumbnail.partial.jpg");
    loop {
        let grabbed = Command::new(&ffmpeg)
            .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "x11grab"])
            .args(["-video_size", &format!("{width}x{height}")])
            .args(["-i", &format!(":{display}.0+0,0"), "-frames:v", "1"])
            .args([
                "-vf",
                &format!("scale=-2:{THUMBNAIL_HEIGHT}"),
                "-q:v",
                "5",
                "-f",
                "image2",
            ])
            .arg(&partial)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .status()
            .await
            .is_ok_and(|s| s.success());
        if grabbed {
            let _ = tokio::fs::rename(&partial, &target).await;
        }
        tokio::time::sleep(every).await;
    }
}

/// How a render ended.
enum Outcome {
    Asked(Option<oneshot::Sender<()>>),
    PageEnded,
    Failed(String),
}

/// Why a console watcher woke up.
enum Console {
    Start,
    End,
    Crashed,
}

/// Waits for the next `START_RECORDING`/`END_RECORDING` message or a page crash.
async fn console(events: &mut broadcast::Receiver<Arc<serde_json::Value>>, page: &str) -> Console {
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return std::future::pending().await,
        };
        if event["method"] == "Inspector.targetCrashed" && event["sessionId"].as_str() == Some(page)
        {
            return Console::Crashed;
        }
        match cdp::console_text(&event) {
            Some(START_RECORDING) => return Console::Start,
            Some(END_RECORDING) => return Console::End,
            _ => {}
        }
    }
}

/// Describes a child's exit for the session.
fn exited(what: &str, exit: std::io::Result<std::process::ExitStatus>) -> String {
    match exit {
        Ok(status) => format!("{what} exited unexpectedly ({status})"),
        Err(e) => format!("{what} could not be awaited: {}", e.kind()),
    }
}

/// Runs one render from page load to its end, then takes everything down.
async fn render(
    shared: Arc<Shared>,
    egress_id: String,
    request: EgressRequest,
    mut parts: Parts,
    relay: Relay,
    mut stop: oneshot::Receiver<oneshot::Sender<()>>,
    slot: Slot,
) {
    let registry = shared.registry.clone();
    let o = &shared.options;
    let mut console_events = parts.browser.page.cdp.events();
    let page_handle = parts.browser.page.clone();
    let page = page_handle.session.clone();
    let url = request.page_url.expose_secret().to_owned();
    let mut ffmpeg: Option<Child> = None;
    let mut tasks: Vec<tokio::task::JoinHandle<()>> = Vec::new();

    // 1. The page, then (when asked) the start signal.
    let ready = async {
        if let Err(failure) = page_handle
            .open(&url, o.page_load_timeout, o.page_load_attempts)
            .await
        {
            return Err(failure.0);
        }
        if o.await_start_signal {
            match console(&mut console_events, &page).await {
                Console::Start => {}
                Console::End => return Err(String::new()),
                Console::Crashed => return Err("the overlay page crashed".into()),
            }
        }
        Ok(())
    };
    let early = tokio::select! {
        asked = &mut stop => Some(Outcome::Asked(asked.ok())),
        exit = parts.browser.child.wait() => Some(Outcome::Failed(exited("Chromium", exit))),
        exit = parts.display.child.wait() => Some(Outcome::Failed(exited("Xvfb", exit))),
        r = ready => match r {
            Ok(()) => None,
            Err(why) if why.is_empty() => Some(Outcome::PageEnded),
            Err(why) => Some(Outcome::Failed(why)),
        },
    };

    // 2. The encoder, until something ends the stream.
    let outcome = match early {
        Some(outcome) => outcome,
        None => match shared.ffmpeg(&egress_id, &request, parts.display.number) {
            Err(e) => Outcome::Failed(format!("cannot run ffmpeg: {}", e.kind())),
            Ok(mut child) => {
                parts.dir.record_process("group", child.id());
                tasks.push(relay.spawn_feed(child.stdout.take()));
                if let Some(every) = o.thumbnail_interval {
                    let e = &request.encoding;
                    tasks.push(tokio::spawn(thumbnails(
                        o.ffmpeg.clone(),
                        parts.display.number,
                        e.width,
                        e.height,
                        parts.dir.path().to_owned(),
                        every,
                    )));
                }
                let progress =
                    follow_ffmpeg(registry.clone(), egress_id.clone(), child.stderr.take());
                let outputs = follow_outputs(registry.clone(), egress_id.clone(), relay.clone());
                let outcome = tokio::select! {
                    asked = &mut stop => Outcome::Asked(asked.ok()),
                    exit = parts.browser.child.wait() => Outcome::Failed(exited("Chromium", exit)),
                    exit = parts.display.child.wait() => Outcome::Failed(exited("Xvfb", exit)),
                    exit = child.wait() => {
                        let last = tokio::time::timeout(Duration::from_secs(1), progress)
                            .await
                            .ok()
                            .and_then(Result::ok)
                            .unwrap_or_default();
                        tracing::warn!(egress = %egress_id, detail = %redact_urls_in_text(&last), "ffmpeg ended");
                        Outcome::Failed(exited("ffmpeg", exit))
                    }
                    why = outputs => Outcome::Failed(why),
                    signal = async {
                        loop {
                            match console(&mut console_events, &page).await {
                                Console::End => return None,
                                Console::Crashed => return Some("the overlay page crashed".to_owned()),
                                Console::Start => {}
                            }
                        }
                    } => match signal {
                        None => Outcome::PageEnded,
                        Some(why) => Outcome::Failed(why),
                    },
                };
                ffmpeg = Some(child);
                outcome
            }
        },
    };

    // 3. Everything down: encoder (asked to finish), outputs, browser, display, sink.
    let was_active = registry.status(&egress_id) == Some(EgressStatus::Active);
    registry.ending(&egress_id);
    if let Some(mut child) = ffmpeg {
        let mut stdin = child.stdin.take();
        finish_ffmpeg(&mut child, stdin.as_mut()).await;
    }
    relay.finish().await;
    for task in tasks {
        task.abort();
    }
    parts.browser.kill().await;
    if let Some(group) = parts.display.child.id().and_then(|p| i32::try_from(p).ok()) {
        chromium::kill_group(group);
    }
    let _ = parts.display.child.kill().await;
    if let Some(module) = parts.sink {
        pulse::unload(&o.pactl, module).await;
    }
    parts.dir.remove();
    let (status, error, done) = match outcome {
        Outcome::Asked(done) => (
            if was_active {
                EgressStatus::Complete
            } else {
                EgressStatus::Aborted
            },
            None,
            done,
        ),
        // LiveKit's "Source closed": the page ended its own stream.
        Outcome::PageEnded => (EgressStatus::Complete, None, None),
        Outcome::Failed(why) => {
            tracing::warn!(egress = %egress_id, error = %why, "browser egress failed");
            (EgressStatus::Failed, Some(why), None)
        }
    };
    drop(slot);
    registry.report(&egress_id, status, error);
    if let Some(done) = done {
        let _ = done.send(());
    }
}

#[async_trait]
impl EgressBackend for BrowserEgress {
    async fn start(&self, request: &EgressRequest) -> Result<String> {
        if request.outputs.is_empty() {
            return Err(Error::invalid(
                "outputs",
                "at least one RTMP output is required",
            ));
        }
        request.encoding.validate()?;
        let slot = self.admit()?;
        let o = &self.shared.options;
        self.shared
            .prepared
            .get_or_init(|| async {
                leftovers::reap(&o.work_dir, &o.pactl).await;
            })
            .await;
        pulse::ensure_server(&o.pactl, &o.pulseaudio)
            .await
            .map_err(|why| Shared::error(format!("no PulseAudio server: {why}")))?;
        let targets =
            connect_targets(&request.outputs, request.destination_policy.as_ref()).await?;
        let registry = &self.shared.registry;
        let egress_id = registry.new_id();
        let parts = self.shared.launch(&egress_id, request).await?;
        let relay = Relay::new(
            &request.encoding,
            RelayTimings {
                give_up_after: o.reconnect_window,
                ..RelayTimings::default()
            },
        );
        for (url, pinned) in targets {
            relay.add(url, pinned);
        }
        let (stop_tx, stop_rx) = oneshot::channel();
        registry.insert(&egress_id, request, relay.clone(), stop_tx);
        tokio::spawn(render(
            self.shared.clone(),
            egress_id.clone(),
            request.clone(),
            parts,
            relay,
            stop_rx,
            slot,
        ));
        tracing::info!(egress = %egress_id, session = %request.session_id, outputs = request.outputs.len(), "browser egress started");
        Ok(egress_id)
    }

    async fn update_outputs(
        &self,
        egress_id: &str,
        add: &[SecretString],
        remove: &[SecretString],
    ) -> Result<()> {
        self.shared
            .registry
            .update_outputs(egress_id, add, remove)
            .await
    }

    async fn stop(&self, egress_id: &str) -> Result<()> {
        self.shared
            .registry
            .stop(egress_id, Duration::from_secs(20))
            .await;
        Ok(())
    }

    async fn list_active(&self) -> Result<Vec<EgressSummary>> {
        Ok(self.shared.registry.list_active())
    }

    fn events(&self) -> Option<broadcast::Receiver<EgressEvent>> {
        Some(self.shared.registry.subscribe())
    }

    fn runs_locally(&self) -> bool {
        true
    }

    fn encoder_stats(&self, egress_id: &str) -> Option<EncoderStats> {
        self.shared.registry.encoder_stats(egress_id)
    }

    async fn collect_dead_renders(&self) -> usize {
        self.reap_leftovers().await.directories
    }

    /// An egress of this backend (`EG_browser_…`) that no live process on this machine
    /// renders is gone: renders end with the process that runs them. (Replicas on several
    /// machines must not share sessions with this guarantee.)
    async fn is_gone(&self, egress_id: &str) -> bool {
        self.shared.registry.is_own_id(egress_id)
            && !matches!(
                self.shared.registry.status(egress_id),
                Some(EgressStatus::Starting | EgressStatus::Active)
            )
            && !leftovers::rendered_here(&self.shared.options.work_dir, egress_id)
    }

    async fn thumbnail(&self, egress_id: &str) -> Result<Option<Thumbnail>> {
        if self.shared.registry.status(egress_id).is_none() {
            return Ok(None);
        }
        let path = self.render_dir(egress_id).join(THUMBNAIL_FILE);
        let Ok(jpeg) = tokio::fs::read(&path).await else {
            return Ok(None);
        };
        let taken_at_ms = tokio::fs::metadata(&path)
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Ok(Some(Thumbnail { jpeg, taken_at_ms }))
    }
}
