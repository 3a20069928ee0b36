//! What a failed local egress tells its callers: a category, never a program's or a
//! server's own words.
//!
//! The raw error says whether a port was open ("end of file") or closed ("connection
//! refused"), and may quote what a server sent back. Sessions are readable by their
//! callers, so the stored message is one of a few fixed sentences; the raw text goes to the
//! operator's log only (redacted).

/// The destination could not be reached: refused, no route, timed out, name not resolved.
pub(crate) const UNREACHABLE: &str = "the destination is unreachable";
/// The destination answered but did not take the stream (closed the connection, refused
/// the key or the application, TLS failed).
pub(crate) const REJECTED: &str = "the destination rejected the stream";
/// Anything else: the local encoder failed.
pub(crate) const ENCODER_FAILED: &str = "the local encoder failed; see the server log";
