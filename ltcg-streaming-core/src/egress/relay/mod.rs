//! One encode, many destinations: this process reads the encoder's FLV from a pipe and
//! publishes it to every RTMP(S) output itself.
//!
//! So the stream keys never reach a child process's command line, each output is
//! independent (its own connection, reconnects and failure), outputs can be added and
//! removed while the encode runs, and a connection that stops taking bytes is noticed.
//!
//! Rules per output:
//! - it connects once the encoder has produced its first tag, and starts at a key frame
//!   (after the stream's metadata and decoder configurations), with its own timestamps
//!   starting at 0;
//! - a failure before any media byte was sent (wrong key, application or address) fails it
//!   at once, without retrying;
//! - after that, a broken or stalled connection (no write completing) is reconnected with
//!   a growing pause (0.5 s doubling up to 8 s) until `give_up_after` has passed without
//!   progress; then it is failed;
//! - a slow output that falls behind skips to the next key frame instead of holding up the
//!   encoder or the other outputs.

mod flv;
mod publish;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rml_rtmp::sessions::StreamMetadata;
use tokio::io::AsyncRead;
use tokio::sync::{broadcast, oneshot, watch};
use tokio::task::JoinHandle;

use self::flv::Tag;
use self::publish::{Failure, Publisher};
use super::EncodingSettings;
use crate::redact::redact_url;
use crate::vault::SecretString;
use crate::webhook::StreamResult;

/// Tags kept for an output that is momentarily slower than the encoder (about 7 s).
const MEDIA_BUFFER: usize = 512;
/// First pause before a reconnect; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest pause between reconnects.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// How long stop waits for the outputs to close their connections.
const CLOSE_GRACE: Duration = Duration::from_secs(3);

/// How outputs connect and when they give up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RelayTimings {
    /// An output that makes no progress (reconnecting, or a write that does not complete)
    /// for this long is failed.
    pub(crate) give_up_after: Duration,
    /// Time for one connection attempt (TCP, TLS, RTMP handshake, connect, publish).
    pub(crate) connect_timeout: Duration,
}

impl Default for RelayTimings {
    fn default() -> Self {
        Self {
            give_up_after: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The state of one output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputStatus {
    /// Waiting for the encoder, or connecting for the first time.
    Connecting,
    /// Publishing.
    Active,
    /// Lost after publishing; connecting again.
    Reconnecting,
    /// Given up.
    Failed,
    /// Removed on request.
    Removed,
    /// The stream ended.
    Finished,
}

impl OutputStatus {
    /// Whether the output is over.
    pub(crate) fn is_final(self) -> bool {
        matches!(self, Self::Failed | Self::Removed | Self::Finished)
    }

    /// LiveKit's `StreamInfo.Status` name.
    fn stream_info_status(self) -> &'static str {
        match self {
            Self::Connecting | Self::Active | Self::Reconnecting => "ACTIVE",
            Self::Failed => "FAILED",
            Self::Removed | Self::Finished => "FINISHED",
        }
    }
}

/// What one output reports, without its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutputReport {
    /// The output URL, key redacted.
    pub(crate) redacted_url: String,
    /// Its state.
    pub(crate) status: OutputStatus,
    /// Why it failed (a fixed category).
    pub(crate) error: Option<&'static str>,
    /// When it first published, Unix ns (0 before).
    pub(crate) started_at_ns: i64,
    /// When it ended, Unix ns (0 while running).
    pub(crate) ended_at_ns: i64,
    /// Media bytes sent over all its connections.
    pub(crate) bytes_sent: u64,
}

impl OutputReport {
    /// As a LiveKit `stream_results` entry.
    pub(crate) fn stream_result(&self) -> StreamResult {
        StreamResult {
            url: self.redacted_url.clone(),
            status: self.status.stream_info_status().to_owned(),
            error: self.error.map(str::to_owned),
            started_at_ns: self.started_at_ns,
            ended_at_ns: self.ended_at_ns,
        }
    }
}

/// Why an output task is asked to end.
#[derive(Debug, Clone, Copy)]
enum End {
    Removed,
    Finished,
}

/// An output and its task.
struct Slot {
    url: SecretString,
    report: OutputReport,
    end: Option<oneshot::Sender<End>>,
    task: Option<JoinHandle<()>>,
}

/// The stream's decoder configurations, sent first to every new connection.
#[derive(Default)]
struct Headers {
    video: Option<Arc<Tag>>,
    audio: Option<Arc<Tag>>,
}

struct Inner {
    media: broadcast::Sender<Arc<Tag>>,
    headers: Mutex<Headers>,
    slots: Mutex<Vec<Slot>>,
    metadata: StreamMetadata,
    timings: RelayTimings,
    /// `true` once the encoder produced its first tag.
    ready: watch::Sender<bool>,
    /// `true` once the encoder's output ended.
    source_ended: watch::Sender<bool>,
    /// Bumped on every output status change.
    changes: watch::Sender<u64>,
}

/// The fan-out of one encode. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Relay {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("outputs", &self.reports())
            .finish()
    }
}

impl Relay {
    /// A relay for an encode with `encoding`; no output yet.
    pub(crate) fn new(encoding: &EncodingSettings, timings: RelayTimings) -> Self {
        let mut metadata = StreamMetadata::new();
        metadata.video_width = Some(encoding.width);
        metadata.video_height = Some(encoding.height);
        metadata.video_codec_id = Some(7);
        metadata.video_frame_rate = Some(encoding.framerate as f32);
        metadata.video_bitrate_kbps = Some(encoding.video_bitrate_kbps);
        metadata.audio_codec_id = Some(10);
        metadata.audio_bitrate_kbps = Some(encoding.audio_bitrate_kbps);
        metadata.audio_sample_rate = Some(AUDIO_SAMPLE_RATE);
        metadata.audio_channels = Some(2);
        metadata.audio_is_stereo = Some(true);
        metadata.encoder = Some("ltcg-streaming".into());
        Self {
            inner: Arc::new(Inner {
                media: broadcast::channel(MEDIA_BUFFER).0,
                headers: Mutex::new(Headers::default()),
                slots: Mutex::new(Vec::new()),
                metadata,
                timings,
                ready: watch::channel(false).0,
                source_ended: watch::channel(false).0,
                changes: watch::channel(0).0,
            }),
        }
    }

    /// Reads the encoder's FLV until it ends, handing every tag to the outputs. Returns
    /// the number of media tags read.
    pub(crate) async fn feed(&self, mut reader: impl AsyncRead + Unpin) -> std::io::Result<u64> {
        let result = async {
            flv::read_header(&mut reader).await?;
            let mut count = 0u64;
            while let Some(tag) = flv::read_tag(&mut reader).await? {
                if tag.kind == flv::TagKind::Script {
                    continue;
                }
                let tag = Arc::new(tag);
                {
                    let mut headers = lock(&self.inner.headers);
                    if tag.is_video_header() {
                        headers.video = Some(tag.clone());
                    } else if tag.is_audio_header() {
                        headers.audio = Some(tag.clone());
                    }
                }
                count += 1;
                let _ = self.inner.media.send(tag);
                self.inner
                    .ready
                    .send_if_modified(|r| !std::mem::replace(r, true));
            }
            Ok(count)
        }
        .await;
        self.inner.source_ended.send_replace(true);
        result
    }

    /// [`Self::feed`] in a task of its own, from an encoder's standard output.
    pub(crate) fn spawn_feed(&self, stdout: Option<tokio::process::ChildStdout>) -> JoinHandle<()> {
        let relay = self.clone();
        tokio::spawn(async move {
            if let Some(stdout) = stdout {
                if let Err(e) = relay.feed(stdout).await {
                    tracing::warn!(error = %e, "the encoder's output could not be read");
                }
            }
        })
    }

    /// Adds an output (connecting to `pinned` when given, else to the URL's host).
    pub(crate) fn add(&self, url: SecretString, pinned: Option<SocketAddr>) {
        let (end_tx, end_rx) = oneshot::channel();
        let report = OutputReport {
            redacted_url: redact_url(url.expose_secret()),
            status: OutputStatus::Connecting,
            error: None,
            started_at_ns: 0,
            ended_at_ns: 0,
            bytes_sent: 0,
        };
        let mut slots = lock(&self.inner.slots);
        let index = slots.len();
        let task = tokio::spawn(run_output(
            self.inner.clone(),
            index,
            url.clone(),
            pinned,
            end_rx,
        ));
        slots.push(Slot {
            url,
            report,
            end: Some(end_tx),
            task: Some(task),
        });
        drop(slots);
        self.inner.changed();
    }

    /// Removes every running output whose URL is `url`; returns how many.
    pub(crate) fn remove(&self, url: &SecretString) -> usize {
        let mut slots = lock(&self.inner.slots);
        let mut removed = 0;
        for slot in slots.iter_mut() {
            if slot.url.expose_secret() == url.expose_secret() && !slot.report.status.is_final() {
                if let Some(end) = slot.end.take() {
                    let _ = end.send(End::Removed);
                    removed += 1;
                }
            }
        }
        removed
    }

    /// Whether `url` is one of the running outputs.
    pub(crate) fn has(&self, url: &SecretString) -> bool {
        lock(&self.inner.slots)
            .iter()
            .any(|s| s.url.expose_secret() == url.expose_secret() && !s.report.status.is_final())
    }

    /// Ends every output and waits (briefly) until their connections are closed.
    pub(crate) async fn finish(&self) {
        let tasks: Vec<JoinHandle<()>> = {
            let mut slots = lock(&self.inner.slots);
            slots
                .iter_mut()
                .filter_map(|slot| {
                    if let Some(end) = slot.end.take() {
                        let _ = end.send(End::Finished);
                    }
                    slot.task.take()
                })
                .collect()
        };
        let _ = tokio::time::timeout(CLOSE_GRACE, futures::future::join_all(tasks)).await;
    }

    /// Every output's report, in the order they were added.
    pub(crate) fn reports(&self) -> Vec<OutputReport> {
        lock(&self.inner.slots)
            .iter()
            .map(|s| s.report.clone())
            .collect()
    }

    /// Notified on every output status change.
    pub(crate) fn changes(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }
}

/// The sample rate the encoders are told to produce.
pub(crate) const AUDIO_SAMPLE_RATE: u32 = 44_100;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    /// Sets output `index`'s status (and error); a final status is kept.
    fn set(&self, index: usize, status: OutputStatus, error: Option<&'static str>) {
        let changed = {
            let mut slots = lock(&self.slots);
            let Some(slot) = slots.get_mut(index) else {
                return;
            };
            let report = &mut slot.report;
            if report.status.is_final() || report.status == status {
                false
            } else {
                report.status = status;
                report.error = error;
                if status == OutputStatus::Active && report.started_at_ns == 0 {
                    report.started_at_ns = now_ns();
                }
                if status.is_final() {
                    report.ended_at_ns = now_ns();
                    slot.end = None;
                }
                true
            }
        };
        if changed {
            self.changed();
        }
    }

    fn add_bytes(&self, index: usize, bytes: usize) {
        if let Some(slot) = lock(&self.slots).get_mut(index) {
            slot.report.bytes_sent += bytes as u64;
        }
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// How one connection's streaming ended.
enum Ended {
    Asked(End),
    BySource,
    Failed(Failure),
}

/// One output: waits for media, connects, streams, reconnects, until it ends.
async fn run_output(
    inner: Arc<Inner>,
    index: usize,
    url: SecretString,
    pinned: Option<SocketAddr>,
    mut end: oneshot::Receiver<End>,
) {
    let redacted = redact_url(url.expose_secret());
    let mut ready = inner.ready.subscribe();
    tokio::select! {
        asked = &mut end => {
            inner.set(index, final_status(asked.unwrap_or(End::Finished)), None);
            return;
        }
        _ = ready.wait_for(|r| *r) => {}
    }
    let mut ever_sent = false;
    let mut last_progress = Instant::now();
    let mut backoff = FIRST_BACKOFF;
    loop {
        let attempt = tokio::select! {
            asked = &mut end => {
                inner.set(index, final_status(asked.unwrap_or(End::Finished)), None);
                return;
            }
            p = Publisher::connect(url.expose_secret(), pinned, inner.timings.connect_timeout) => p,
        };
        let failure = match attempt {
            Ok(mut publisher) => {
                inner.set(index, OutputStatus::Active, None);
                backoff = FIRST_BACKOFF;
                let ended = stream(
                    &inner,
                    index,
                    &mut publisher,
                    &mut end,
                    &mut ever_sent,
                    &mut last_progress,
                )
                .await;
                match ended {
                    Ended::Asked(why) => {
                        publisher.close().await;
                        inner.set(index, final_status(why), None);
                        return;
                    }
                    Ended::BySource => {
                        publisher.close().await;
                        inner.set(index, OutputStatus::Finished, None);
                        return;
                    }
                    Ended::Failed(f) => f,
                }
            }
            Err(f) => f,
        };
        tracing::warn!(output = %redacted, detail = %failure.detail, "RTMP output failed");
        if !ever_sent || last_progress.elapsed() >= inner.timings.give_up_after {
            inner.set(index, OutputStatus::Failed, Some(failure.category));
            return;
        }
        inner.set(index, OutputStatus::Reconnecting, None);
        tokio::select! {
            asked = &mut end => {
                inner.set(index, final_status(asked.unwrap_or(End::Finished)), None);
                return;
            }
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn final_status(end: End) -> OutputStatus {
    match end {
        End::Removed => OutputStatus::Removed,
        End::Finished => OutputStatus::Finished,
    }
}

/// What the next step of streaming is.
enum Step {
    Asked(End),
    FromServer(std::io::Result<usize>),
    Media(Result<Arc<Tag>, broadcast::error::RecvError>),
    SourceEnded,
}

/// Streams on one connection until it ends or fails.
async fn stream(
    inner: &Inner,
    index: usize,
    publisher: &mut Publisher,
    end: &mut oneshot::Receiver<End>,
    ever_sent: &mut bool,
    last_progress: &mut Instant,
) -> Ended {
    let mut media = inner.media.subscribe();
    let mut source_ended = inner.source_ended.subscribe();
    if let Err(f) = publisher.send_metadata(&inner.metadata).await {
        return Ended::Failed(f);
    }
    let headers: Vec<Arc<Tag>> = {
        let h = lock(&inner.headers);
        h.video.iter().chain(h.audio.iter()).cloned().collect()
    };
    for header in headers {
        if let Err(f) = publisher.send(&header, 0).await {
            return Ended::Failed(f);
        }
    }
    let give_up = inner.timings.give_up_after;
    let mut base: Option<u32> = None;
    let mut skip_to_key_frame = true;
    let mut buf = vec![0u8; 8 * 1024];
    loop {
        let step = tokio::select! {
            asked = &mut *end => Step::Asked(asked.unwrap_or(End::Finished)),
            read = publisher.read_some(&mut buf) => Step::FromServer(read),
            tag = media.recv() => Step::Media(tag),
            _ = source_ended.wait_for(|e| *e) => Step::SourceEnded,
        };
        let tag = match step {
            Step::Asked(why) => return Ended::Asked(why),
            Step::SourceEnded => return Ended::BySource,
            Step::FromServer(read) => {
                if let Err(f) = publisher.answer(read, &buf).await {
                    return Ended::Failed(f);
                }
                continue;
            }
            Step::Media(Err(broadcast::error::RecvError::Lagged(_))) => {
                skip_to_key_frame = true;
                continue;
            }
            Step::Media(Err(broadcast::error::RecvError::Closed)) => return Ended::BySource,
            Step::Media(Ok(tag)) => tag,
        };
        let timestamp = if tag.is_video_header() || tag.is_audio_header() {
            base.map_or(0, |b| tag.timestamp.saturating_sub(b))
        } else {
            if skip_to_key_frame {
                if !tag.is_key_frame() {
                    continue;
                }
                skip_to_key_frame = false;
            }
            let b = *base.get_or_insert(tag.timestamp);
            if tag.timestamp < b {
                continue;
            }
            tag.timestamp - b
        };
        match tokio::time::timeout(give_up, publisher.send(&tag, timestamp)).await {
            Ok(Ok(bytes)) => {
                *ever_sent = true;
                *last_progress = Instant::now();
                inner.add_bytes(index, bytes);
            }
            Ok(Err(f)) => return Ended::Failed(f),
            Err(_) => {
                return Ended::Failed(Failure {
                    category: super::local_failure::REJECTED,
                    detail: "the destination stopped taking data".into(),
                })
            }
        }
    }
}
