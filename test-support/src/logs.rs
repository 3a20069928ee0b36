//! The log as text: a `tracing` subscriber that writes everything (TRACE, no colours) into
//! memory, for tests that read what the library logged.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Everything written to the log, shared with the subscriber.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::fmt::Debug for Captured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Captured({} bytes)",
            self.0.lock().map_or(0, |b| b.len())
        )
    }
}

impl Captured {
    /// A TRACE-level subscriber writing plain lines here, and the capture.
    pub fn subscriber() -> (impl tracing::Subscriber + Send + Sync, Captured) {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (subscriber, captured)
    }

    /// The log so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
