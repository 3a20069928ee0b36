//! [`LocalEgress`]: ffmpeg on this machine pushes a real H.264/AAC stream (a test pattern
//! with the stream title and session id drawn on it) to every RTMP(S) output.
//!
//! For development and end-to-end tests without LiveKit: it does not render the overlay
//! page. It reports its egresses' lifecycle as [`EgressEvent`]s (subscribe with
//! [`LocalEgress::events`] and feed them to
//! [`crate::StreamingService::ingest_egress_event`], e.g. with
//! [`crate::StreamingService::follow_egress_events`]), exactly like LiveKit's webhooks.
//!
//! When the request carries a [`crate::destination_policy::DestinationPolicy`] (the caller
//! was not internal), every output is checked again right before ffmpeg starts, and plain
//! `rtmp://` outputs are pinned to the checked address. A failed ffmpeg is reported by
//! category ("the destination is unreachable", "the destination rejected the stream", "the
//! local encoder failed"), never with ffmpeg's own output, which goes to the log, redacted.
//!
//! Note: ffmpeg receives the output URLs (with their keys) on its command line, which other
//! local users can see in the process list; use it on machines you control.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{broadcast, oneshot};

use super::{local_failure, EgressBackend, EgressRequest, EgressSummary};
use crate::error::{Error, Result};
use crate::platform::pin_to_address;
use crate::redact::redact_urls_in_text;
use crate::session::{random_id, EgressStatus};
use crate::vault::SecretString;
use crate::webhook::EgressEvent;

/// How long a stopping ffmpeg may take to finish before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Events kept for slow subscribers.
const EVENT_BUFFER: usize = 1024;

/// Settings of [`LocalEgress`].
#[derive(Debug, Clone)]
pub struct LocalEgressOptions {
    /// The ffmpeg program (default `ffmpeg` on `PATH`).
    pub ffmpeg: PathBuf,
    /// A TrueType font for the drawn text (default: DejaVu Sans when installed; without a
    /// font the pattern has no text).
    pub font_file: Option<PathBuf>,
    /// Where per-egress text files are written (default: the temp directory).
    pub work_dir: PathBuf,
}

impl Default for LocalEgressOptions {
    fn default() -> Self {
        let dejavu = PathBuf::from("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        Self {
            ffmpeg: PathBuf::from("ffmpeg"),
            font_file: dejavu.exists().then_some(dejavu),
            work_dir: std::env::temp_dir(),
        }
    }
}

/// One egress and its ffmpeg process.
#[derive(Debug)]
struct Entry {
    status: EgressStatus,
    web_url: String,
    started_at_ns: i64,
    /// Asks the monitor to stop ffmpeg; answered when it has exited.
    stop: Option<oneshot::Sender<oneshot::Sender<()>>>,
}

#[derive(Debug)]
struct Shared {
    options: LocalEgressOptions,
    egresses: Mutex<HashMap<String, Entry>>,
    events: broadcast::Sender<EgressEvent>,
}

/// An [`EgressBackend`] that runs ffmpeg locally. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LocalEgress {
    shared: Arc<Shared>,
}

impl LocalEgress {
    /// A backend with `options`; no process is started until [`EgressBackend::start`].
    pub fn new(options: LocalEgressOptions) -> Self {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Self {
            shared: Arc::new(Shared {
                options,
                egresses: Mutex::new(HashMap::new()),
                events,
            }),
        }
    }

    /// Lifecycle events of every egress from now on.
    pub fn events(&self) -> broadcast::Receiver<EgressEvent> {
        self.shared.events.subscribe()
    }

    /// An egress's current status.
    pub fn status(&self, egress_id: &str) -> Option<EgressStatus> {
        self.shared.lock().get(egress_id).map(|e| e.status)
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.egresses.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a status change and announces it like LiveKit's webhook would. A status the
    /// egress already has (each progress line of a running ffmpeg) is no event.
    fn report(&self, egress_id: &str, status: EgressStatus, error: Option<String>) {
        let (web_url, started_at_ns) = {
            let mut map = self.lock();
            let Some(entry) = map.get_mut(egress_id) else {
                return;
            };
            if entry.status.is_terminal() || entry.status == status {
                return;
            }
            entry.status = status;
            if status == EgressStatus::Active {
                entry.started_at_ns = now_ns();
            }
            (entry.web_url.clone(), entry.started_at_ns)
        };
        self.announce(egress_id, status, error, web_url, started_at_ns);
    }

    /// Sends one event with a random id, so the service's deduplication by event id never
    /// drops events of another run or machine.
    fn announce(
        &self,
        egress_id: &str,
        status: EgressStatus,
        error: Option<String>,
        web_url: String,
        started_at_ns: i64,
    ) {
        let event = match status {
            EgressStatus::Starting => "egress_started",
            s if s.is_terminal() => "egress_ended",
            _ => "egress_updated",
        };
        let _ = self.events.send(EgressEvent {
            event: event.to_owned(),
            id: random_id("EV_local_"),
            created_at: now_ns() / 1_000_000_000,
            egress_id: Some(egress_id.to_owned()),
            status: Some(status),
            error,
            details: None,
            web_url: Some(web_url),
            started_at_ns,
            ended_at_ns: if status.is_terminal() { now_ns() } else { 0 },
            stream_results: Vec::new(),
        });
    }
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The ffmpeg arguments for `request`: a 2-second-GOP H.264 test pattern with a tone, one
/// encode fanned out to every output.
fn ffmpeg_args(
    request: &EgressRequest,
    outputs: &[SecretString],
    text_file: Option<&std::path::Path>,
    font: Option<&std::path::Path>,
) -> Vec<String> {
    let e = &request.encoding;
    let size = format!("{}x{}", e.width, e.height);
    let mut args: Vec<String> = vec![
        "-hide_banner".into(),
        "-nostats".into(),
        "-loglevel".into(),
        "error".into(),
        "-progress".into(),
        "pipe:1".into(),
        "-re".into(),
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!("testsrc2=size={size}:rate={}", e.framerate),
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        "sine=frequency=440:sample_rate=44100".into(),
    ];
    if let (Some(text), Some(font)) = (text_file, font) {
        args.push("-vf".into());
        args.push(format!(
            "drawtext=fontfile={}:textfile={}:fontsize={}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=12:x=40:y=40",
            font.display(),
            text.display(),
            (e.height / 20).max(12)
        ));
    }
    let gop = (e.key_frame_interval_secs * f64::from(e.framerate))
        .round()
        .max(1.0) as u32;
    args.extend([
        "-c:v".into(),
        "libx264".into(),
        "-preset".into(),
        "veryfast".into(),
        "-tune".into(),
        "zerolatency".into(),
        "-pix_fmt".into(),
        "yuv420p".into(),
        "-g".into(),
        gop.to_string(),
        "-b:v".into(),
        format!("{}k", e.video_bitrate_kbps),
        "-c:a".into(),
        "aac".into(),
        "-b:a".into(),
        format!("{}k", e.audio_bitrate_kbps),
    ]);
    match outputs {
        [one] => args.extend(["-f".into(), "flv".into(), one.expose_secret().to_owned()]),
        many => {
            let tee: Vec<String> = many
                .iter()
                .map(|o| format!("[f=flv:onfail=ignore]{}", o.expose_secret()))
                .collect();
            args.extend([
                "-map".into(),
                "0:v".into(),
                "-map".into(),
                "1:a".into(),
                "-f".into(),
                "tee".into(),
                tee.join("|"),
            ]);
        }
    }
    args
}

/// The output URLs ffmpeg gets. When the request carries a destination policy, each output
/// is checked again now, right before ffmpeg connects, and plain `rtmp://` outputs are pinned
/// to the checked address, so ffmpeg does not look the name up again (a name that answers
/// differently the second time cannot redirect it).
async fn connect_targets(request: &EgressRequest) -> Result<Vec<SecretString>> {
    let Some(policy) = &request.destination_policy else {
        return Ok(request.outputs.clone());
    };
    let mut targets = Vec::with_capacity(request.outputs.len());
    for (i, output) in request.outputs.iter().enumerate() {
        let url = output.expose_secret();
        let checked = policy
            .check_url(url)
            .await
            .map_err(|refusal| Error::Egress {
                retryable: false,
                message: format!("output {} {refusal}", i + 1),
            })?;
        let pinned = checked
            .addrs
            .first()
            .and_then(|addr| pin_to_address(url, *addr));
        targets.push(pinned.map_or_else(|| output.clone(), SecretString::from));
    }
    Ok(targets)
}

/// Watches one ffmpeg: ACTIVE once frames flow, then COMPLETE/ABORTED on stop or FAILED
/// when it dies; always reaps the process.
async fn monitor(
    shared: Arc<Shared>,
    egress_id: String,
    mut child: Child,
    mut stop: oneshot::Receiver<oneshot::Sender<()>>,
    text_file: Option<PathBuf>,
) {
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    // Taken now: `Child::wait` closes a stdin left in the child, and stop needs it to ask
    // ffmpeg to finish (`q`) instead of killing it.
    let mut stdin = child.stdin.take();
    let progress = {
        let shared = shared.clone();
        let id = egress_id.clone();
        async move {
            let Some(stdout) = stdout else { return };
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let frames = line
                    .strip_prefix("frame=")
                    .and_then(|n| n.trim().parse::<u64>().ok());
                if frames.is_some_and(|f| f > 0) {
                    shared.report(&id, EgressStatus::Active, None);
                }
            }
        }
    };
    let last_error = async move {
        let mut last = String::new();
        if let Some(stderr) = stderr {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if !line.trim().is_empty() {
                    last = line;
                }
            }
        }
        last
    };
    let progress = tokio::spawn(progress);
    let last_error = tokio::spawn(last_error);
    let outcome = tokio::select! {
        exit = child.wait() => Err(exit),
        asked = &mut stop => Ok(asked.ok()),
    };
    let (status, error, done) = match outcome {
        Ok(done) => {
            if let Some(stdin) = stdin.as_mut() {
                let _ = stdin.write_all(b"q\n").await;
                let _ = stdin.flush().await;
            }
            if tokio::time::timeout(STOP_GRACE, child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
            let was_active =
                shared.lock().get(&egress_id).map(|e| e.status) == Some(EgressStatus::Active);
            let status = if was_active {
                EgressStatus::Complete
            } else {
                EgressStatus::Aborted
            };
            (status, None, done)
        }
        Err(exit) => {
            let last = last_error.await.unwrap_or_default();
            let reason = match exit {
                Ok(code) if code.success() => None,
                Ok(code) => {
                    // Callers read the session: they get the category, the operator's log
                    // gets ffmpeg's own (redacted) words.
                    tracing::warn!(egress = %egress_id, %code, detail = %redact_urls_in_text(&last), "ffmpeg failed");
                    Some(format!(
                        "ffmpeg exited with {code}: {}",
                        local_failure::describe(&last)
                    ))
                }
                Err(e) => Some(format!("ffmpeg could not be awaited: {}", e.kind())),
            };
            match reason {
                Some(reason) => (EgressStatus::Failed, Some(reason), None),
                None => (EgressStatus::Complete, None, None),
            }
        }
    };
    progress.abort();
    shared.report(&egress_id, status, error);
    if let Some(file) = text_file {
        let _ = tokio::fs::remove_file(file).await;
    }
    if let Some(done) = done {
        let _ = done.send(());
    }
}

#[async_trait]
impl EgressBackend for LocalEgress {
    async fn start(&self, request: &EgressRequest) -> Result<String> {
        if request.outputs.is_empty() {
            return Err(Error::invalid(
                "outputs",
                "at least one RTMP output is required",
            ));
        }
        request.encoding.validate()?;
        // Random, so ids never repeat across restarts (sessions in the store keep old ids).
        let egress_id = random_id("EG_local_");
        let options = &self.shared.options;
        let text_file = match &options.font_file {
            Some(_) => {
                let path = options.work_dir.join(format!("{egress_id}.txt"));
                let text = format!("{}\nsession {}", request.title, request.session_id);
                tokio::fs::write(&path, text)
                    .await
                    .map_err(|e| Error::Egress {
                        retryable: false,
                        message: format!("cannot write the overlay text file: {}", e.kind()),
                    })?;
                Some(path)
            }
            None => None,
        };
        let outputs = match connect_targets(request).await {
            Ok(outputs) => outputs,
            Err(e) => {
                if let Some(file) = &text_file {
                    let _ = tokio::fs::remove_file(file).await;
                }
                return Err(e);
            }
        };
        let args = ffmpeg_args(
            request,
            &outputs,
            text_file.as_deref(),
            options.font_file.as_deref(),
        );
        let child = Command::new(&options.ffmpeg)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::Egress {
                retryable: false,
                message: format!("cannot run ffmpeg: {}", e.kind()),
            })?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let web_url = request.page_url.expose_secret().to_owned();
        self.shared.lock().insert(
            egress_id.clone(),
            Entry {
                status: EgressStatus::Starting,
                web_url: web_url.clone(),
                started_at_ns: 0,
                stop: Some(stop_tx),
            },
        );
        // Announce STARTING, as LiveKit's egress_started does.
        let shared = self.shared.clone();
        shared.announce(&egress_id, EgressStatus::Starting, None, web_url, 0);
        tokio::spawn(monitor(
            shared,
            egress_id.clone(),
            child,
            stop_rx,
            text_file,
        ));
        tracing::info!(egress = %egress_id, session = %request.session_id, outputs = request.outputs.len(), "local egress started");
        Ok(egress_id)
    }

    async fn update_outputs(
        &self,
        _egress_id: &str,
        _add: &[SecretString],
        _remove: &[SecretString],
    ) -> Result<()> {
        Err(Error::Egress {
            retryable: false,
            message: "the local egress cannot change outputs while streaming; restart the stream"
                .into(),
        })
    }

    async fn stop(&self, egress_id: &str) -> Result<()> {
        let stop = self
            .shared
            .lock()
            .get_mut(egress_id)
            .and_then(|e| e.stop.take());
        if let Some(stop) = stop {
            let (done_tx, done_rx) = oneshot::channel();
            if stop.send(done_tx).is_ok() {
                let _ = tokio::time::timeout(STOP_GRACE * 2, done_rx).await;
            }
        }
        Ok(())
    }

    async fn list_active(&self) -> Result<Vec<EgressSummary>> {
        let mut list: Vec<_> = self
            .shared
            .lock()
            .iter()
            .filter(|(_, e)| matches!(e.status, EgressStatus::Starting | EgressStatus::Active))
            .map(|(id, e)| EgressSummary {
                egress_id: id.clone(),
                status: e.status,
                web_url: Some(e.web_url.clone()),
                started_at_ns: e.started_at_ns,
            })
            .collect();
        list.sort_by(|a, b| a.egress_id.cmp(&b.egress_id));
        Ok(list)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::store::{MemoryStore, SessionStore};

    /// A stand-in for ffmpeg: many progress lines with frames, then a clean exit.
    const FAKE_FFMPEG: &str = "#!/bin/sh\n\
        i=1; while [ $i -le 50 ]; do echo frame=$i; echo progress=continue; i=$((i+1)); done\n\
        sleep 0.5\n";

    async fn next(events: &mut broadcast::Receiver<EgressEvent>) -> EgressEvent {
        tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("an event in time")
            .unwrap()
    }

    /// One run of a fresh `LocalEgress` over `ffmpeg`, from start to its exit: its events.
    async fn one_run(ffmpeg: &std::path::Path) -> Vec<EgressEvent> {
        let local = LocalEgress::new(LocalEgressOptions {
            ffmpeg: ffmpeg.to_owned(),
            font_file: None,
            work_dir: std::env::temp_dir(),
        });
        let mut events = local.events();
        local.start(&crate::egress::test_request()).await.unwrap();
        let mut seen = vec![next(&mut events).await];
        while !seen.last().and_then(|e| e.status).unwrap().is_terminal() {
            seen.push(next(&mut events).await);
        }
        assert!(events.try_recv().is_err(), "nothing after the end");
        seen
    }

    #[tokio::test]
    async fn local_egress_events_are_state_changes_with_ids_unique_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let ffmpeg = dir.path().join("ffmpeg");
        std::fs::write(&ffmpeg, FAKE_FFMPEG).unwrap();
        std::fs::set_permissions(&ffmpeg, std::fs::Permissions::from_mode(0o755)).unwrap();
        let store = MemoryStore::new();
        for run in 0..2 {
            let events = one_run(&ffmpeg).await;
            let statuses: Vec<_> = events.iter().filter_map(|e| e.status).collect();
            assert_eq!(
                statuses,
                [
                    EgressStatus::Starting,
                    EgressStatus::Active,
                    EgressStatus::Complete
                ],
                "run {run}: only state changes are events: {events:?}"
            );
            for event in &events {
                assert!(event.id.starts_with("EV_local_"), "{}", event.id);
                assert!(
                    store.claim_event(&event.id, 0).await.unwrap(),
                    "run {run}: {} is not taken for a duplicate",
                    event.id
                );
            }
        }
    }
}
