//! Which log records the bindings hand to the host language's logging (Python's `logging`,
//! a Node logger): the library's own from [`LIBRARY_LEVEL`] up, other crates' (HTTP, SQL,
//! TLS) from [`OTHER_LEVEL`] up. The records carry the module path as their target
//! (`ltcg_streaming_core::service::start`) and never a secret.

use tracing::Level;

/// The target (module path) of the library's own records, and the prefix of its modules'.
pub const LIBRARY_TARGET: &str = "ltcg_streaming_core";
/// The least severe level of the library's records that is handed over.
pub const LIBRARY_LEVEL: Level = Level::INFO;
/// The least severe level of other crates' records that is handed over.
pub const OTHER_LEVEL: Level = Level::WARN;

/// The least severe level handed over for records of `target`.
pub fn threshold(target: &str) -> Level {
    let ours = target
        .strip_prefix(LIBRARY_TARGET)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"));
    if ours {
        LIBRARY_LEVEL
    } else {
        OTHER_LEVEL
    }
}

/// Whether a record of `level` and `target` is handed over.
pub fn forwarded(level: Level, target: &str) -> bool {
    // `Level` orders TRACE as the greatest: a record passes when it is at most as verbose.
    level <= threshold(target)
}

/// The lower-case name of `level` (`error`, `warn`, `info`, `debug`, `trace`).
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_is_heard_from_info_and_others_from_warn() {
        assert!(forwarded(
            Level::INFO,
            "ltcg_streaming_core::service::start"
        ));
        assert!(forwarded(Level::INFO, "ltcg_streaming_core"));
        assert!(!forwarded(Level::DEBUG, "ltcg_streaming_core::service"));
        assert!(!forwarded(Level::INFO, "ltcg_streaming_core_extra"));
        assert!(!forwarded(Level::INFO, "hyper_util::client"));
        assert!(forwarded(Level::WARN, "sqlx::query"));
        assert!(forwarded(Level::ERROR, "rustls"));
        assert_eq!(level_name(Level::WARN), "warn");
    }
}
