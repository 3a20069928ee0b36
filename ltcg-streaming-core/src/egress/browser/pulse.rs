//! PulseAudio: one null sink per stream, named after its egress. Chromium plays into it
//! (`PULSE_SINK`) and ffmpeg records its monitor, so every stream has its own audio.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

/// The prefix of our sinks' names.
pub(crate) const SINK_PREFIX: &str = "ltcg_";

/// The sink of egress `egress_id`.
pub(crate) fn sink_name(egress_id: &str) -> String {
    format!("{SINK_PREFIX}{egress_id}")
}

async fn pactl(pactl: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(pactl)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run {}: {}", pactl.display(), e.kind()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "pactl {} failed: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Makes sure a PulseAudio server answers, starting one for this user when none does.
pub(crate) async fn ensure_server(pactl_program: &Path, pulseaudio: &Path) -> Result<(), String> {
    if pactl(pactl_program, &["info"]).await.is_ok() {
        return Ok(());
    }
    let status = Command::new(pulseaudio)
        .args(["--start", "--exit-idle-time=-1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .map_err(|e| format!("cannot run {}: {}", pulseaudio.display(), e.kind()))?;
    if !status.success() {
        return Err(format!(
            "{} --start failed ({status})",
            pulseaudio.display()
        ));
    }
    pactl(pactl_program, &["info"]).await.map(drop)
}

/// Creates the sink `name`; returns its module index (to unload it).
pub(crate) async fn load_sink(pactl_program: &Path, name: &str) -> Result<u32, String> {
    let out = pactl(
        pactl_program,
        &[
            "load-module",
            "module-null-sink",
            &format!("sink_name={name}"),
            &format!("sink_properties=device.description={name}"),
        ],
    )
    .await?;
    out.trim()
        .parse()
        .map_err(|_| "pactl load-module printed no module index".to_owned())
}

/// Removes a sink by its module index (nothing when it is gone already).
pub(crate) async fn unload(pactl_program: &Path, module: u32) {
    let _ = pactl(pactl_program, &["unload-module", &module.to_string()]).await;
}

/// Our sinks on the server: (module index, sink name).
pub(crate) async fn our_sinks(pactl_program: &Path) -> Vec<(u32, String)> {
    let Ok(list) = pactl(pactl_program, &["list", "short", "modules"]).await else {
        return Vec::new();
    };
    parse_our_sinks(&list)
}

fn parse_our_sinks(list: &str) -> Vec<(u32, String)> {
    list.lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let index = fields.next()?.trim().parse().ok()?;
            if fields.next()? != "module-null-sink" {
                return None;
            }
            let args = fields.next().unwrap_or_default();
            let name = args
                .split_whitespace()
                .find_map(|a| a.strip_prefix("sink_name="))?;
            name.starts_with(SINK_PREFIX)
                .then(|| (index, name.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_null_sinks_are_listed() {
        let list = "0\tmodule-device-restore\t\t\n\
            17\tmodule-null-sink\tsink_name=ltcg_EG_browser_ab sink_properties=device.description=x\t\n\
            18\tmodule-null-sink\tsink_name=someone_else\t\n\
            19\tmodule-null-sink\tsink_name=ltcg_EG_browser_cd\t\n";
        assert_eq!(
            parse_our_sinks(list),
            [
                (17, "ltcg_EG_browser_ab".to_owned()),
                (19, "ltcg_EG_browser_cd".to_owned())
            ]
        );
        assert_eq!(sink_name("EG_browser_ab"), "ltcg_EG_browser_ab");
    }
}
