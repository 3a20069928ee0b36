//! A virtual X display per stream: `Xvfb` picks a free display number itself
//! (`-displayfd`) and listens on its local socket only (`-nolisten tcp`).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long Xvfb may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running X server.
#[derive(Debug)]
pub(crate) struct Display {
    /// The display number (`:N`).
    pub(crate) number: u32,
    /// The server process.
    pub(crate) child: Child,
}

/// Starts an X server with one `width`x`height`x24 screen.
pub(crate) async fn start(program: &Path, width: u32, height: u32) -> Result<Display, String> {
    let mut child = Command::new(program)
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            &format!("{width}x{height}x24"),
            "-nolisten",
            "tcp",
            "-noreset",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {}: {}", program.display(), e.kind()))?;
    let stdout = child.stdout.take();
    let read = async move {
        let mut line = String::new();
        if let Some(stdout) = stdout {
            let _ = BufReader::new(stdout).read_line(&mut line).await;
        }
        line.trim().parse::<u32>().ok()
    };
    match tokio::time::timeout(START_TIMEOUT, read).await {
        Ok(Some(number)) => Ok(Display { number, child }),
        _ => {
            let _ = child.kill().await;
            Err("Xvfb did not start".into())
        }
    }
}
