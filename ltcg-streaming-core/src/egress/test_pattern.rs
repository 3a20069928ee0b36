//! [`TestPatternEgress`]: ffmpeg on this machine encodes a test pattern (colour bars, a
//! tone, the stream title and session id) and this process publishes it to every RTMP(S)
//! output.
//!
//! For development and end-to-end tests of everything but the page: it does not render the
//! overlay ([`super::BrowserEgress`] does). It reports its egresses' lifecycle as
//! [`EgressEvent`]s (subscribe with [`TestPatternEgress::events`] and feed them to
//! [`crate::StreamingService::ingest_egress_event`], e.g. with
//! [`crate::StreamingService::follow_egress_events`]), exactly like LiveKit's webhooks,
//! per-output results included.
//!
//! ffmpeg writes FLV to a pipe; the outputs (and their keys) never appear on its command
//! line. Outputs can be added and removed while it streams, each output reconnects on its
//! own, and one that fails does not stop the others (see the relay rules in the crate
//! docs). When the request carries a [`crate::destination_policy::DestinationPolicy`] (the
//! caller was not internal), every output is checked again right before it connects, and
//! plain `rtmp://` outputs connect to the checked address. A failure is reported by
//! category ("the destination is unreachable", "the destination rejected the stream", "the
//! local encoder failed"), never with a program's own output, which goes to the log.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};
use tokio::sync::{broadcast, oneshot};

use super::local_run::{
    connect_targets, encoder_args, ffmpeg_preamble, follow_ffmpeg, follow_outputs, Registry,
};
use super::relay::{Relay, RelayTimings};
use super::{local_failure, EgressBackend, EgressRequest, EgressSummary, EncoderStats};
use crate::error::{Error, Result};
use crate::redact::redact_urls_in_text;
use crate::session::EgressStatus;
use crate::vault::SecretString;
use crate::webhook::EgressEvent;

/// How long a stopping ffmpeg may take to finish before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Settings of [`TestPatternEgress`].
#[derive(Debug, Clone)]
pub struct TestPatternEgressOptions {
    /// The ffmpeg program (default `ffmpeg` on `PATH`).
    pub ffmpeg: PathBuf,
    /// A TrueType font for the drawn text (default: DejaVu Sans when installed; without a
    /// font the pattern has no text).
    pub font_file: Option<PathBuf>,
    /// Where per-egress text files are written (default: the temp directory).
    pub work_dir: PathBuf,
    /// An output that makes no progress for this long (reconnecting, or a connection
    /// that stopped taking data) is failed. Default 30 s.
    pub reconnect_window: Duration,
}

impl Default for TestPatternEgressOptions {
    fn default() -> Self {
        let dejavu = PathBuf::from("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        Self {
            ffmpeg: PathBuf::from("ffmpeg"),
            font_file: dejavu.exists().then_some(dejavu),
            work_dir: std::env::temp_dir(),
            reconnect_window: RelayTimings::default().give_up_after,
        }
    }
}

#[derive(Debug)]
struct Shared {
    options: TestPatternEgressOptions,
    registry: Arc<Registry>,
}

/// An [`EgressBackend`] that encodes a test pattern with ffmpeg locally. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TestPatternEgress {
    shared: Arc<Shared>,
}

impl TestPatternEgress {
    /// A backend with `options`; no process is started until [`EgressBackend::start`].
    pub fn new(options: TestPatternEgressOptions) -> Self {
        Self {
            shared: Arc::new(Shared {
                options,
                registry: Arc::new(Registry::new("local")),
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
}

/// The ffmpeg arguments for `request`: a test pattern with a tone, encoded once, to stdout.
fn ffmpeg_args(
    request: &EgressRequest,
    text_file: Option<&std::path::Path>,
    font: Option<&std::path::Path>,
) -> Vec<String> {
    let e = &request.encoding;
    let mut args = ffmpeg_preamble();
    args.extend([
        "-re".into(),
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!(
            "testsrc2=size={}x{}:rate={}",
            e.width, e.height, e.framerate
        ),
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        "sine=frequency=440:sample_rate=44100".into(),
    ]);
    if let (Some(text), Some(font)) = (text_file, font) {
        args.push("-vf".into());
        args.push(format!(
            "drawtext=fontfile={}:textfile={}:fontsize={}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=12:x=40:y=40",
            font.display(),
            text.display(),
            (e.height / 20).max(12)
        ));
    }
    args.extend(encoder_args(e));
    args
}

/// Asks ffmpeg to finish (`q` on its stdin), and kills it after [`STOP_GRACE`].
pub(crate) async fn finish_ffmpeg(
    child: &mut Child,
    stdin: Option<&mut tokio::process::ChildStdin>,
) {
    if let Some(stdin) = stdin {
        let _ = stdin.write_all(b"q\n").await;
        let _ = stdin.flush().await;
    }
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

/// How a test-pattern egress ended.
enum Outcome {
    Asked(Option<oneshot::Sender<()>>),
    Exited(std::io::Result<std::process::ExitStatus>),
    NowhereToStream(String),
}

/// Watches one ffmpeg: ACTIVE once frames flow, then COMPLETE/ABORTED on stop, FAILED when
/// it dies or every output failed; always reaps the process and closes the outputs.
async fn monitor(
    shared: Arc<Shared>,
    egress_id: String,
    mut child: Child,
    relay: Relay,
    mut stop: oneshot::Receiver<oneshot::Sender<()>>,
    text_file: Option<PathBuf>,
) {
    let registry = shared.registry.clone();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    // Taken now: `Child::wait` closes a stdin left in the child, and stop needs it to ask
    // ffmpeg to finish (`q`) instead of killing it.
    let mut stdin = child.stdin.take();
    let feed = relay.spawn_feed(stdout);
    let progress = follow_ffmpeg(registry.clone(), egress_id.clone(), stderr);
    let outputs = tokio::spawn(follow_outputs(
        registry.clone(),
        egress_id.clone(),
        relay.clone(),
    ));
    let outcome = tokio::select! {
        exit = child.wait() => Outcome::Exited(exit),
        asked = &mut stop => Outcome::Asked(asked.ok()),
        why = outputs => Outcome::NowhereToStream(why.unwrap_or_default()),
    };
    let (status, error, done) = match outcome {
        Outcome::Asked(done) => {
            finish_ffmpeg(&mut child, stdin.as_mut()).await;
            let status = if registry.status(&egress_id) == Some(EgressStatus::Active) {
                EgressStatus::Complete
            } else {
                EgressStatus::Aborted
            };
            (status, None, done)
        }
        Outcome::NowhereToStream(why) => {
            let _ = child.kill().await;
            (EgressStatus::Failed, Some(why), None)
        }
        Outcome::Exited(exit) => {
            let last = progress.await.unwrap_or_default();
            match exit {
                Ok(code) if code.success() => (EgressStatus::Complete, None, None),
                Ok(code) => {
                    // Callers read the session: they get the category, the operator's log
                    // gets ffmpeg's own (redacted) words.
                    tracing::warn!(egress = %egress_id, %code, detail = %redact_urls_in_text(&last), "ffmpeg failed");
                    (
                        EgressStatus::Failed,
                        Some(format!(
                            "ffmpeg exited with {code}: {}",
                            local_failure::ENCODER_FAILED
                        )),
                        None,
                    )
                }
                Err(e) => (
                    EgressStatus::Failed,
                    Some(format!("ffmpeg could not be awaited: {}", e.kind())),
                    None,
                ),
            }
        }
    };
    registry.ending(&egress_id);
    relay.finish().await;
    feed.abort();
    registry.report(&egress_id, status, error);
    if let Some(file) = text_file {
        let _ = tokio::fs::remove_file(file).await;
    }
    if let Some(done) = done {
        let _ = done.send(());
    }
}

#[async_trait]
impl EgressBackend for TestPatternEgress {
    async fn start(&self, request: &EgressRequest) -> Result<String> {
        if request.outputs.is_empty() {
            return Err(Error::invalid(
                "outputs",
                "at least one RTMP output is required",
            ));
        }
        request.encoding.validate()?;
        let registry = &self.shared.registry;
        let egress_id = registry.new_id();
        let options = &self.shared.options;
        let targets =
            connect_targets(&request.outputs, request.destination_policy.as_ref()).await?;
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
        let args = ffmpeg_args(request, text_file.as_deref(), options.font_file.as_deref());
        let child = match Command::new(&options.ffmpeg)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                if let Some(file) = &text_file {
                    let _ = tokio::fs::remove_file(file).await;
                }
                return Err(Error::Egress {
                    retryable: false,
                    message: format!("cannot run ffmpeg: {}", e.kind()),
                });
            }
        };
        let relay = Relay::new(
            &request.encoding,
            RelayTimings {
                give_up_after: options.reconnect_window,
                ..RelayTimings::default()
            },
        );
        for (url, pinned) in targets {
            relay.add(url, pinned);
        }
        let (stop_tx, stop_rx) = oneshot::channel();
        registry.insert(&egress_id, request, relay.clone(), stop_tx);
        tokio::spawn(monitor(
            self.shared.clone(),
            egress_id.clone(),
            child,
            relay,
            stop_rx,
            text_file,
        ));
        tracing::info!(egress = %egress_id, session = %request.session_id, outputs = request.outputs.len(), "test-pattern egress started");
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
        self.shared.registry.stop(egress_id, STOP_GRACE * 2).await;
        Ok(())
    }

    async fn list_active(&self) -> Result<Vec<EgressSummary>> {
        Ok(self.shared.registry.list_active())
    }

    fn runs_locally(&self) -> bool {
        true
    }

    fn encoder_stats(&self, egress_id: &str) -> Option<EncoderStats> {
        self.shared.registry.encoder_stats(egress_id)
    }

    fn events(&self) -> Option<broadcast::Receiver<EgressEvent>> {
        Some(self.shared.registry.subscribe())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::store::{MemoryStore, SessionStore};

    /// A stand-in for ffmpeg: many progress lines with frames, then a clean exit.
    const FAKE_FFMPEG: &str = "#!/bin/sh\n\
        i=1; while [ $i -le 50 ]; do echo frame=$i >&2; echo progress=continue >&2; i=$((i+1)); done\n\
        sleep 0.5\n";

    async fn next(events: &mut broadcast::Receiver<EgressEvent>) -> EgressEvent {
        tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("an event in time")
            .unwrap()
    }

    /// One run of a fresh `LocalEgress` over `ffmpeg`, from start to its exit: its events.
    async fn one_run(ffmpeg: &std::path::Path) -> Vec<EgressEvent> {
        let local = TestPatternEgress::new(TestPatternEgressOptions {
            ffmpeg: ffmpeg.to_owned(),
            font_file: None,
            ..TestPatternEgressOptions::default()
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
