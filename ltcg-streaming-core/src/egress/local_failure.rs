//! What a failed local egress tells its callers: a category, never ffmpeg's own words.
//!
//! ffmpeg's last error line says whether a port was open ("End of file") or closed
//! ("Connection refused"), and may quote what a server sent back. Sessions are readable by
//! their callers, so the stored message is one of a few fixed sentences; the raw line goes
//! to the operator's log only (redacted).

/// The destination could not be reached: refused, no route, timed out, name not resolved.
pub(crate) const UNREACHABLE: &str = "the destination is unreachable";
/// The destination answered but did not take the stream (closed the connection, refused
/// the key or the application, TLS failed).
pub(crate) const REJECTED: &str = "the destination rejected the stream";
/// Anything else: the local encoder failed.
pub(crate) const ENCODER_FAILED: &str = "the local encoder failed; see the server log";

/// The category of ffmpeg's last error line.
pub(crate) fn describe(last_error_line: &str) -> &'static str {
    let line = last_error_line.to_ascii_lowercase();
    const UNREACHABLE_SIGNS: [&str; 8] = [
        "connection refused",
        "no route to host",
        "network is unreachable",
        "connection timed out",
        "operation timed out",
        "failed to resolve",
        "name or service not known",
        "temporary failure in name resolution",
    ];
    const REJECTED_SIGNS: [&str; 11] = [
        "end of file",
        "connection reset",
        "broken pipe",
        "input/output error",
        "server error",
        "unauthorized",
        "forbidden",
        "badname",
        "rejected",
        "handshake",
        "tls",
    ];
    if UNREACHABLE_SIGNS.iter().any(|s| line.contains(s)) {
        UNREACHABLE
    } else if REJECTED_SIGNS.iter().any(|s| line.contains(s)) {
        REJECTED
    } else {
        ENCODER_FAILED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_and_closed_ports_are_told_apart_only_as_categories() {
        let closed = "[tcp @ 0x55] Connection to tcp://203.0.113.9:1935 failed: Connection refused";
        let open = "Error opening output rtmp://203.0.113.9:8080/app/{k...y}: End of file";
        assert_eq!(describe(closed), UNREACHABLE);
        assert_eq!(describe(open), REJECTED);
        assert_eq!(
            describe(
                "[tcp @ 0x1] Failed to resolve hostname nope.example: Name or service not known"
            ),
            UNREACHABLE
        );
        assert_eq!(describe("Unknown encoder 'libx264'"), ENCODER_FAILED);
        for text in [UNREACHABLE, REJECTED, ENCODER_FAILED] {
            assert!(!text.contains("refused") && !text.contains("End of file"));
        }
    }
}
