//! What a render leaves on the machine, recorded so that a later run can clean up after a
//! crash: each render has a directory `<work_dir>/<egress id>/` holding its owner (this
//! process) and the processes and sink it started. A directory whose owner is gone is a
//! leftover: its processes are killed, its sink unloaded, the directory removed. Sinks of
//! ours without a live directory are unloaded too.

use std::path::{Path, PathBuf};

use super::chromium::kill_group;
use super::pulse;

/// What [`super::BrowserEgress::reap_leftovers`] cleaned up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reaped {
    /// Processes (or process groups) killed.
    pub processes: usize,
    /// Audio sinks unloaded.
    pub sinks: usize,
    /// Render directories removed.
    pub directories: usize,
}

/// A process's identity: its pid and start time (so a reused pid is not mistaken for it).
fn identity(pid: u32) -> Option<(u32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')')? + 2..];
    let start_time = after.split_whitespace().nth(19)?.parse().ok()?;
    Some((pid, start_time))
}

fn alive(pid: u32, start_time: u64) -> bool {
    identity(pid).is_some_and(|(_, t)| t == start_time)
}

/// The directory of one render, with its record.
#[derive(Debug)]
pub(crate) struct RenderDir {
    path: PathBuf,
}

impl RenderDir {
    /// Creates `<work_dir>/<egress_id>/` (private to this user) owned by this process.
    pub(crate) fn create(work_dir: &Path, egress_id: &str) -> std::io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(work_dir)?;
        let path = work_dir.join(egress_id);
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        let (pid, start) = identity(std::process::id()).unwrap_or((std::process::id(), 0));
        std::fs::write(path.join("owner"), format!("{pid} {start}\n"))?;
        Ok(Self { path })
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Records a process (`kind` is `process` or `group`) this render started.
    pub(crate) fn record_process(&self, kind: &str, pid: Option<u32>) {
        if let Some((pid, start)) = pid.and_then(identity) {
            self.append(&format!("{kind} {pid} {start}\n"));
        }
    }

    /// Records the render's sink module.
    pub(crate) fn record_sink(&self, module: u32) {
        self.append(&format!("sink {module}\n"));
    }

    fn append(&self, line: &str) {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .open(self.path.join("record"))
            .or_else(|_| std::fs::File::create(self.path.join("record")))
        {
            let _ = f.write_all(line.as_bytes());
        }
    }

    /// Removes the directory (the render is over).
    pub(crate) fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Whether the render directory at `dir` belongs to a live process.
fn owned_by_live_process(dir: &Path) -> bool {
    let Ok(owner) = std::fs::read_to_string(dir.join("owner")) else {
        return false;
    };
    let mut fields = owner.split_whitespace().map(str::parse::<u64>);
    match (fields.next(), fields.next()) {
        (Some(Ok(pid)), Some(Ok(start))) => u32::try_from(pid).is_ok_and(|p| alive(p, start)),
        _ => false,
    }
}

/// Whether a live process on this machine renders egress `egress_id` (its directory
/// exists and its owner runs).
pub(crate) fn rendered_here(work_dir: &Path, egress_id: &str) -> bool {
    let dir = work_dir.join(egress_id);
    dir.is_dir() && owned_by_live_process(&dir)
}

/// Cleans up after renders whose process is gone: kills their processes, unloads their
/// sinks, removes their directories; then unloads sinks of ours that no live render owns.
pub(crate) async fn reap(work_dir: &Path, pactl: &Path) -> Reaped {
    let mut reaped = Reaped::default();
    let mut live = Vec::new();
    if let Ok(entries) = std::fs::read_dir(work_dir) {
        for entry in entries.flatten() {
            let dir = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !dir.is_dir() {
                continue;
            }
            if owned_by_live_process(&dir) {
                live.push(name);
                continue;
            }
            let record = std::fs::read_to_string(dir.join("record")).unwrap_or_default();
            for line in record.lines() {
                let fields: Vec<&str> = line.split_whitespace().collect();
                match fields.as_slice() {
                    [kind @ ("process" | "group"), pid, start] => {
                        let (Ok(pid), Ok(start)) = (pid.parse::<u32>(), start.parse::<u64>())
                        else {
                            continue;
                        };
                        if !alive(pid, start) {
                            continue;
                        }
                        if let Ok(pid) = i32::try_from(pid) {
                            if *kind == "group" {
                                kill_group(pid);
                            } else {
                                let _ = nix::sys::signal::kill(
                                    nix::unistd::Pid::from_raw(pid),
                                    nix::sys::signal::Signal::SIGKILL,
                                );
                            }
                            reaped.processes += 1;
                        }
                    }
                    ["sink", module] => {
                        if let Ok(module) = module.parse() {
                            pulse::unload(pactl, module).await;
                            reaped.sinks += 1;
                        }
                    }
                    _ => {}
                }
            }
            if std::fs::remove_dir_all(&dir).is_ok() {
                reaped.directories += 1;
            }
        }
    }
    for (module, name) in pulse::our_sinks(pactl).await {
        let egress = &name[pulse::SINK_PREFIX.len()..];
        // A render may have started since the directories were read: check its own again.
        if !live.iter().any(|l| l == egress) && !owned_by_live_process(&work_dir.join(egress)) {
            pulse::unload(pactl, module).await;
            reaped.sinks += 1;
        }
    }
    if reaped != Reaped::default() {
        tracing::info!(
            processes = reaped.processes,
            sinks = reaped.sinks,
            directories = reaped.directories,
            "cleaned up after an earlier run's renders"
        );
    }
    reaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_live_only_while_its_owner_runs() {
        let work = tempfile::tempdir().unwrap();
        let dir = RenderDir::create(work.path(), "EG_browser_x").unwrap();
        assert!(owned_by_live_process(dir.path()));
        let me = identity(std::process::id()).unwrap();
        assert!(alive(me.0, me.1));
        assert!(!alive(me.0, me.1 + 1), "a reused pid is another process");
        std::fs::write(dir.path().join("owner"), "4000000000 1\n").unwrap();
        assert!(!owned_by_live_process(dir.path()));
        let path = dir.path().to_owned();
        dir.remove();
        assert!(!path.exists());
    }
}
