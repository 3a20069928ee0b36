//! A private nginx with the RTMP module on 127.0.0.1 (Debian `nginx` + `libnginx-mod-rtmp`),
//! started per test and stopped on drop; `ffprobe`, free ports and processes; and the rule
//! for a tool a test needs but the machine lacks: skipped locally, a failure in CI.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MODULE: &str = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

/// Whether a required tool is missing: panics in CI (`CI=true`), else prints a skip note.
pub fn missing(what: &str) -> bool {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{what} is required in CI (scripts/test installs it)"
    );
    eprintln!("skipping: {what} is not installed");
    true
}

/// `true` when `program` runs.
pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A running nginx-rtmp with two applications, `live` and `backup`; stopped when dropped.
#[derive(Debug)]
pub struct NginxRtmp {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl NginxRtmp {
    /// Starts nginx-rtmp, or returns `None` (outside CI) when it is not installed.
    pub fn start() -> Option<Self> {
        if !Path::new(MODULE).exists() || !have("nginx") {
            missing("nginx with libnginx-mod-rtmp");
            return None;
        }
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let conf = format!(
            "load_module {MODULE};\ndaemon off;\nmaster_process off;\nerror_log {dir}/error.log;\npid {dir}/nginx.pid;\nevents {{ worker_connections 64; }}\nrtmp {{ server {{ listen 127.0.0.1:{port}; application live {{ live on; record off; }} application backup {{ live on; record off; }} }} }}\n",
            dir = dir.path().display()
        );
        let conf_path: PathBuf = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx-rtmp did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self {
            child,
            port,
            _dir: dir,
        })
    }

    /// `rtmp://127.0.0.1:<port>/live`.
    pub fn base_url(&self) -> String {
        format!("rtmp://127.0.0.1:{}/live", self.port)
    }
}

impl Drop for NginxRtmp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The codecs `ffprobe` reads from `url` (e.g. `["h264", "aac"]`), retrying for up to 20 s.
pub fn probe_codecs(url: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-rw_timeout",
                "5000000",
                "-show_entries",
                "stream=codec_name",
                "-of",
                "csv=p=0",
                url,
            ])
            .output()
            .unwrap();
        let codecs: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim().trim_end_matches(',').to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        if !codecs.is_empty() || Instant::now() > deadline {
            return codecs;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Processes whose command line contains `needle`.
pub fn processes_with(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmd).contains(needle) && pid != std::process::id() {
                found.push(pid);
            }
        }
    }
    found
}
