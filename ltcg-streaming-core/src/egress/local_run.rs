//! What the egresses that run on this machine share: the table of their egresses, the
//! events they announce (shaped like LiveKit's webhooks, per-output results included), the
//! outputs' connection check, and the ffmpeg encoder arguments.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{broadcast, oneshot};

use super::relay::{OutputStatus, Relay};
use super::{EgressRequest, EgressSummary, EncoderStats, EncodingSettings};
use crate::destination_policy::DestinationPolicy;
use crate::error::{Error, Result};
use crate::session::{random_id, EgressStatus};
use crate::vault::SecretString;
use crate::webhook::EgressEvent;

/// Events kept for slow subscribers.
const EVENT_BUFFER: usize = 1024;

/// Asks a running egress to stop; answered once everything of it has exited.
pub(crate) type StopHandle = oneshot::Sender<oneshot::Sender<()>>;

/// One egress.
#[derive(Debug)]
struct Entry {
    status: EgressStatus,
    web_url: String,
    started_at_ns: i64,
    stop: Option<StopHandle>,
    relay: Relay,
    policy: Option<DestinationPolicy>,
    /// The outputs' statuses as last announced.
    announced_outputs: Vec<(String, String)>,
    /// Being taken down: its outputs' endings are told by the final event.
    ending: bool,
    /// The encoder's latest progress.
    encoder: EncoderStats,
}

/// The egresses of one backend and their events.
#[derive(Debug)]
pub(crate) struct Registry {
    egresses: Mutex<HashMap<String, Entry>>,
    events: broadcast::Sender<EgressEvent>,
    /// The id prefix of this backend's egresses and events (`local`, `browser`).
    prefix: &'static str,
}

impl Registry {
    /// An empty table; ids are `EG_<prefix>_…`, events `EV_<prefix>_…`.
    pub(crate) fn new(prefix: &'static str) -> Self {
        Self {
            egresses: Mutex::new(HashMap::new()),
            events: broadcast::channel(EVENT_BUFFER).0,
            prefix,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.egresses.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new egress id, random so it never repeats across restarts.
    pub(crate) fn new_id(&self) -> String {
        random_id(&format!("EG_{}_", self.prefix))
    }

    /// The encoder's latest progress of an egress.
    pub(crate) fn encoder_stats(&self, egress_id: &str) -> Option<EncoderStats> {
        self.lock().get(egress_id).map(|e| e.encoder)
    }

    fn encoder_progress(&self, egress_id: &str, update: impl FnOnce(&mut EncoderStats)) {
        if let Some(e) = self.lock().get_mut(egress_id) {
            update(&mut e.encoder);
        }
    }

    /// Whether `egress_id` has this backend's id shape (`EG_<prefix>_…`).
    #[cfg(feature = "browser")]
    pub(crate) fn is_own_id(&self, egress_id: &str) -> bool {
        egress_id
            .strip_prefix("EG_")
            .and_then(|rest| rest.strip_prefix(self.prefix))
            .is_some_and(|rest| rest.starts_with('_'))
    }

    /// Lifecycle events from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<EgressEvent> {
        self.events.subscribe()
    }

    /// Records a new egress (STARTING) and announces it.
    pub(crate) fn insert(
        &self,
        egress_id: &str,
        request: &EgressRequest,
        relay: Relay,
        stop: StopHandle,
    ) {
        let web_url = request.page_url.expose_secret().to_owned();
        self.lock().insert(
            egress_id.to_owned(),
            Entry {
                status: EgressStatus::Starting,
                web_url,
                started_at_ns: 0,
                stop: Some(stop),
                relay,
                policy: request.destination_policy.clone(),
                announced_outputs: Vec::new(),
                ending: false,
                encoder: EncoderStats::default(),
            },
        );
        self.announce(egress_id, None);
    }

    /// An egress's status.
    pub(crate) fn status(&self, egress_id: &str) -> Option<EgressStatus> {
        self.lock().get(egress_id).map(|e| e.status)
    }

    /// Records a status change and announces it. A status the egress already has, or any
    /// change after a final status, is no event.
    pub(crate) fn report(&self, egress_id: &str, status: EgressStatus, error: Option<String>) {
        {
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
            if status.is_terminal() {
                entry.stop = None;
            }
        }
        self.announce(egress_id, error);
    }

    /// Announces the egress's outputs after one of them changed (an `egress_updated`),
    /// when what LiveKit would report of them changed.
    pub(crate) fn outputs_changed(&self, egress_id: &str) {
        let changed = self.lock().get(egress_id).is_some_and(|e| {
            !e.status.is_terminal() && !e.ending && output_states(&e.relay) != e.announced_outputs
        });
        if changed {
            self.announce(egress_id, None);
        }
    }

    /// Sends the egress's current state as one event with a random id, so the service's
    /// de-duplication by event id never drops events of another run or machine.
    fn announce(&self, egress_id: &str, error: Option<String>) {
        let (status, web_url, started_at_ns, relay) = {
            let mut map = self.lock();
            let Some(e) = map.get_mut(egress_id) else {
                return;
            };
            e.announced_outputs = output_states(&e.relay);
            (
                e.status,
                e.web_url.clone(),
                e.started_at_ns,
                e.relay.clone(),
            )
        };
        let event = match status {
            EgressStatus::Starting => "egress_started",
            s if s.is_terminal() => "egress_ended",
            _ => "egress_updated",
        };
        let _ = self.events.send(EgressEvent {
            event: event.to_owned(),
            id: random_id(&format!("EV_{}_", self.prefix)),
            created_at: now_ns() / 1_000_000_000,
            egress_id: Some(egress_id.to_owned()),
            status: Some(status),
            error,
            details: None,
            web_url: Some(web_url),
            started_at_ns,
            ended_at_ns: if status.is_terminal() { now_ns() } else { 0 },
            stream_results: relay.reports().iter().map(|r| r.stream_result()).collect(),
        });
    }

    /// Marks the egress as being taken down: output changes from now on are told by its
    /// final event only.
    pub(crate) fn ending(&self, egress_id: &str) {
        if let Some(e) = self.lock().get_mut(egress_id) {
            e.ending = true;
        }
    }

    /// Asks a running egress to stop and waits (up to `wait`) until everything of it has
    /// exited; nothing for an unknown or ended one.
    pub(crate) async fn stop(&self, egress_id: &str, wait: Duration) {
        let stop = self.lock().get_mut(egress_id).and_then(|e| e.stop.take());
        if let Some(stop) = stop {
            let (done_tx, done_rx) = oneshot::channel();
            if stop.send(done_tx).is_ok() {
                let _ = tokio::time::timeout(wait, done_rx).await;
            }
        }
    }

    /// Adds and removes outputs of a running egress.
    pub(crate) async fn update_outputs(
        &self,
        egress_id: &str,
        add: &[SecretString],
        remove: &[SecretString],
    ) -> Result<()> {
        let (relay, policy) = {
            let map = self.lock();
            let entry = map
                .get(egress_id)
                .filter(|e| is_running(e.status))
                .ok_or_else(|| Error::Egress {
                    retryable: false,
                    message: "the egress is not running".into(),
                })?;
            (entry.relay.clone(), entry.policy.clone())
        };
        let added = connect_targets(add, policy.as_ref()).await?;
        // Added first, so the egress always has an output in between.
        for (url, pinned) in added {
            if !relay.has(&url) {
                relay.add(url, pinned);
            }
        }
        for url in remove {
            relay.remove(url);
        }
        Ok(())
    }

    /// Egresses that are starting or active, by id.
    pub(crate) fn list_active(&self) -> Vec<EgressSummary> {
        let mut list: Vec<_> = self
            .lock()
            .iter()
            .filter(|(_, e)| is_running(e.status))
            .map(|(id, e)| EgressSummary {
                egress_id: id.clone(),
                status: e.status,
                web_url: Some(e.web_url.clone()),
                started_at_ns: e.started_at_ns,
            })
            .collect();
        list.sort_by(|a, b| a.egress_id.cmp(&b.egress_id));
        list
    }
}

/// Each output's redacted URL and LiveKit status.
fn output_states(relay: &Relay) -> Vec<(String, String)> {
    relay
        .reports()
        .into_iter()
        .map(|r| {
            let status = r.stream_result().status;
            (r.redacted_url, status)
        })
        .collect()
}

fn is_running(status: EgressStatus) -> bool {
    matches!(status, EgressStatus::Starting | EgressStatus::Active)
}

/// Announces every output change of `relay`; returns when no output is left to stream to
/// and at least one failed (the egress has nowhere to stream): the reason. The caller
/// aborts it when the egress ends otherwise.
pub(crate) async fn follow_outputs(
    registry: Arc<Registry>,
    egress_id: String,
    relay: Relay,
) -> String {
    let mut changes = relay.changes();
    loop {
        if changes.changed().await.is_err() {
            return std::future::pending().await;
        }
        registry.outputs_changed(&egress_id);
        let reports = relay.reports();
        let failed: Vec<_> = reports
            .iter()
            .filter(|r| r.status == OutputStatus::Failed)
            .collect();
        if !failed.is_empty() && reports.iter().all(|r| r.status.is_final()) {
            let why = failed[0].error.unwrap_or("the destination failed");
            return if reports.len() == 1 {
                why.to_owned()
            } else {
                format!("every destination failed ({why})")
            };
        }
    }
}

/// The outputs and the address each connects to. With a destination policy (the caller
/// was not internal), each output is checked again now, right before connecting, and is
/// pinned to the checked address (`rtmps://` too; TLS verifies the name's certificate), so
/// a name that answers differently the second time cannot redirect the stream.
pub(crate) async fn connect_targets(
    outputs: &[SecretString],
    policy: Option<&DestinationPolicy>,
) -> Result<Vec<(SecretString, Option<SocketAddr>)>> {
    let Some(policy) = policy else {
        return Ok(outputs.iter().map(|o| (o.clone(), None)).collect());
    };
    let mut targets = Vec::with_capacity(outputs.len());
    for (i, output) in outputs.iter().enumerate() {
        let url = output.expose_secret();
        let checked = policy
            .check_url(url)
            .await
            .map_err(|refusal| Error::Egress {
                retryable: false,
                message: format!("output {} {refusal}", i + 1),
            })?;
        // `rtmps://` too: the connection goes to the checked address, TLS still checks the
        // name's certificate.
        targets.push((output.clone(), checked.addrs.first().copied()));
    }
    Ok(targets)
}

/// ffmpeg arguments after the inputs: H.264 (libx264 veryfast, CBR, a key frame every
/// `key_frame_interval_secs`, yuv420p) and AAC, muxed as FLV to standard output, where
/// this process reads it. Progress goes to standard error as `key=value` lines.
pub(crate) fn encoder_args(e: &EncodingSettings) -> Vec<String> {
    let gop = (e.key_frame_interval_secs * f64::from(e.framerate))
        .round()
        .max(1.0) as u32;
    let kbps = e.video_bitrate_kbps;
    [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "zerolatency",
        "-pix_fmt",
        "yuv420p",
        "-r",
        &e.framerate.to_string(),
        "-g",
        &gop.to_string(),
        "-keyint_min",
        &gop.to_string(),
        "-sc_threshold",
        "0",
        "-b:v",
        &format!("{kbps}k"),
        "-minrate",
        &format!("{kbps}k"),
        "-maxrate",
        &format!("{kbps}k"),
        "-bufsize",
        &format!("{}k", kbps * 2),
        "-x264-params",
        "nal-hrd=cbr",
        "-c:a",
        "aac",
        "-b:a",
        &format!("{}k", e.audio_bitrate_kbps),
        "-ar",
        &super::relay::AUDIO_SAMPLE_RATE.to_string(),
        "-ac",
        "2",
        "-f",
        "flv",
        "-flvflags",
        "no_duration_filesize",
        // Every packet leaves at once (no 32 KiB write buffer to fill first).
        "-flush_packets",
        "1",
        "pipe:1",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// ffmpeg arguments before the inputs: quiet, progress as `key=value` on standard error.
pub(crate) fn ffmpeg_preamble() -> Vec<String> {
    [
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-progress",
        "pipe:2",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// One line of ffmpeg's standard error: a progress field or a message.
#[derive(Debug, PartialEq)]
pub(crate) enum FfmpegLine<'a> {
    /// `frame=N`.
    Frames(u64),
    /// `speed=1.01x`.
    Speed(f64),
    /// `fps=29.97`.
    Fps(f64),
    /// Another `key=value` progress field.
    Progress,
    /// Anything else: an error or warning.
    Message(&'a str),
}

/// Reads one line of ffmpeg's standard error.
pub(crate) fn ffmpeg_line(line: &str) -> FfmpegLine<'_> {
    let line = line.trim();
    match line.split_once('=') {
        Some(("frame", n)) => n
            .trim()
            .parse()
            .map_or(FfmpegLine::Progress, FfmpegLine::Frames),
        Some(("fps", f)) => f
            .trim()
            .parse()
            .map_or(FfmpegLine::Progress, FfmpegLine::Fps),
        Some(("speed", s)) => s
            .trim()
            .trim_end_matches('x')
            .parse()
            .map_or(FfmpegLine::Progress, FfmpegLine::Speed),
        Some((key, _))
            if !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') =>
        {
            FfmpegLine::Progress
        }
        _ => FfmpegLine::Message(line),
    }
}

/// Reads ffmpeg's standard error until it closes: the egress is ACTIVE once frames are
/// encoded; returns ffmpeg's last message (for the operator's log).
pub(crate) fn follow_ffmpeg(
    registry: Arc<Registry>,
    egress_id: String,
    stderr: Option<tokio::process::ChildStderr>,
) -> tokio::task::JoinHandle<String> {
    use tokio::io::AsyncBufReadExt;
    tokio::spawn(async move {
        let mut last = String::new();
        let Some(stderr) = stderr else { return last };
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            match ffmpeg_line(&line) {
                FfmpegLine::Frames(n) => {
                    registry.encoder_progress(&egress_id, |e| e.frames = n);
                    if n > 0 {
                        registry.report(&egress_id, EgressStatus::Active, None)
                    }
                }
                FfmpegLine::Speed(speed) => {
                    registry.encoder_progress(&egress_id, |e| e.speed = speed)
                }
                FfmpegLine::Fps(fps) => registry.encoder_progress(&egress_id, |e| e.fps = fps),
                FfmpegLine::Message(m) if !m.is_empty() => last = m.to_owned(),
                _ => {}
            }
        }
        last
    })
}

/// Now, Unix ns.
pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ffmpeg_progress_fields_are_told_from_its_messages() {
        assert_eq!(ffmpeg_line("frame=42"), FfmpegLine::Frames(42));
        assert_eq!(ffmpeg_line("speed=1.02x"), FfmpegLine::Speed(1.02));
        assert_eq!(ffmpeg_line("fps=29.97"), FfmpegLine::Fps(29.97));
        assert_eq!(ffmpeg_line("out_time_us=1000"), FfmpegLine::Progress);
        assert_eq!(ffmpeg_line("progress=continue"), FfmpegLine::Progress);
        let msg = "[x11grab @ 0x5] Cannot open display :99, error 1.";
        assert_eq!(ffmpeg_line(msg), FfmpegLine::Message(msg));
        assert_eq!(
            ffmpeg_line("Error opening output pipe:1: Broken pipe"),
            FfmpegLine::Message("Error opening output pipe:1: Broken pipe")
        );
    }

    #[test]
    fn encoder_arguments_are_cbr_with_fixed_key_frames_and_name_no_output_url() {
        let args = encoder_args(&EncodingSettings::preset(
            super::super::EncodingPreset::H264_720P_30,
        ));
        let joined = args.join(" ");
        assert!(
            joined.contains("-g 60 -keyint_min 60 -sc_threshold 0"),
            "{joined}"
        );
        assert!(
            joined.contains("-b:v 3000k -minrate 3000k -maxrate 3000k"),
            "{joined}"
        );
        assert!(joined.contains("-preset veryfast") && joined.contains("-pix_fmt yuv420p"));
        assert!(
            joined.ends_with("-f flv -flvflags no_duration_filesize -flush_packets 1 pipe:1"),
            "{joined}"
        );
        assert!(!joined.contains("rtmp"));
    }
}
