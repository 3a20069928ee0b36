//! Reading back what an RTMP server received, as a viewer would: a frame as PNG, the
//! stream's codecs and size, frames per second, loudness, text (OCR with `tesseract`), and
//! pixels. All through Debian's ffmpeg, ffprobe and tesseract.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// What `ffprobe` reads of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// The video codec (`h264`).
    pub video_codec: String,
    /// Picture width.
    pub width: u64,
    /// Picture height.
    pub height: u64,
    /// The audio codec (`aac`), when there is audio.
    pub audio_codec: Option<String>,
}

/// Probes `url` once, waiting at most `timeout` for data (an RTMP server holds a player
/// of a stream nobody publishes).
pub fn probe_once(url: &str, timeout: Duration) -> Option<StreamInfo> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-rw_timeout",
            &timeout.as_micros().to_string(),
            "-show_entries",
            "stream=codec_type,codec_name,width,height",
            "-of",
            "json",
            url,
        ])
        .output()
        .ok()?;
    let json: Value = serde_json::from_slice(&out.stdout).ok()?;
    let streams = json["streams"].as_array()?;
    let video = streams.iter().find(|s| s["codec_type"] == "video")?;
    let audio = streams.iter().find(|s| s["codec_type"] == "audio");
    Some(StreamInfo {
        video_codec: video["codec_name"].as_str()?.to_owned(),
        width: video["width"].as_u64()?,
        height: video["height"].as_u64()?,
        audio_codec: audio.and_then(|a| a["codec_name"].as_str().map(str::to_owned)),
    })
}

/// Probes `url` until it answers, for up to `within`.
pub fn probe(url: &str, within: Duration) -> Option<StreamInfo> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(info) = probe_once(url, Duration::from_secs(5)) {
            return Some(info);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Saves one decoded frame of `url` as PNG at `path`, retrying for up to 20 s.
pub fn grab_frame(url: &str, path: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ok = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-rw_timeout", "5000000", "-i", url])
            .args(["-frames:v", "1", "-update", "1"])
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        if ok && path.exists() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Reads `secs` seconds of `url`: the video frames decoded and the audio's overall RMS
/// level in dB (`-inf` for digital silence; `None` without audio). The reading stops at
/// whichever stream reaches `secs` first; count frames with [`video_packet_times`].
pub fn read_seconds(url: &str, secs: u32) -> (u64, Option<f64>) {
    let out = Command::new("ffmpeg")
        .args([
            "-v",
            "info",
            "-nostats",
            "-rw_timeout",
            "5000000",
            "-i",
            url,
        ])
        .args(["-t", &secs.to_string()])
        .args(["-af", "astats=measure_perchannel=none", "-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    let text = String::from_utf8_lossy(&out.stderr);
    let frames = text
        .rsplit("frame=")
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let rms = text
        .lines()
        .rev()
        .find_map(|l| l.split("RMS level dB:").nth(1))
        .map(|v| v.trim().parse::<f64>().unwrap_or(f64::NEG_INFINITY));
    (frames, rms)
}

/// The timestamps (seconds) of `url`'s video packets over `secs` seconds of it: their
/// count over the span is the frame rate delivered, their largest step the longest gap.
pub fn video_packet_times(url: &str, secs: u32) -> Vec<f64> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-rw_timeout",
            "5000000",
            "-select_streams",
            "v",
        ])
        .args(["-read_intervals", &format!("%+{secs}")])
        .args(["-show_entries", "packet=pts_time", "-of", "csv=p=0", url])
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect()
}

/// The text `tesseract` reads in the PNG at `path` (scaled up 2x first, which helps with
/// small type).
pub fn ocr(path: &Path) -> String {
    let big = path.with_extension("x2.png");
    let scaled = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(path)
        .args(["-vf", "scale=iw*2:ih*2:flags=lanczos"])
        .arg(&big)
        .status()
        .is_ok_and(|s| s.success());
    let input = if scaled { big.as_path() } else { path };
    let out = Command::new("tesseract")
        .arg(input)
        .arg("stdout")
        .output()
        .expect("tesseract runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An RGB picture read from an image file.
#[derive(Debug)]
pub struct Picture {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    rgb: Vec<u8>,
}

impl Picture {
    /// Decodes the image at `path` (any format ffmpeg reads).
    pub fn open(path: &Path) -> Self {
        let size = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=width,height",
                "-of",
                "csv=p=0",
            ])
            .arg(path)
            .output()
            .expect("ffprobe runs");
        let size = String::from_utf8_lossy(&size.stdout);
        let mut dims = size.trim().split(',').map(|n| n.parse::<usize>().unwrap());
        let (width, height) = (dims.next().unwrap(), dims.next().unwrap());
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(path)
            .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
            .output()
            .expect("ffmpeg runs");
        assert_eq!(out.stdout.len(), width * height * 3, "decoded size");
        Self {
            width,
            height,
            rgb: out.stdout,
        }
    }

    /// The pixel at (`x`, `y`).
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// How many pixels of the rectangle (fractions of the picture) satisfy `test`.
    pub fn count_in(
        &self,
        (x0, y0, x1, y1): (f64, f64, f64, f64),
        test: impl Fn([u8; 3]) -> bool,
    ) -> usize {
        let (w, h) = (self.width as f64, self.height as f64);
        let mut n = 0;
        for y in (y0 * h) as usize..(y1 * h) as usize {
            for x in (x0 * w) as usize..(x1 * w) as usize {
                if test(self.pixel(x, y)) {
                    n += 1;
                }
            }
        }
        n
    }
}

/// `test-artifacts/<suite>/` at the workspace root: pictures a test keeps for people to
/// look at.
pub fn artifacts_dir(suite: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../test-artifacts")
        .join(suite);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
