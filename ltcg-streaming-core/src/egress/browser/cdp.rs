//! The Chrome DevTools Protocol over the pipe Chromium opens with
//! `--remote-debugging-pipe` (it reads commands on fd 3 and writes on fd 4, each message a
//! JSON object followed by a NUL byte). No port is opened, so no other local user can
//! reach the browser.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;
use tokio::sync::{broadcast, oneshot};

/// Largest message accepted from the browser.
const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;
/// How long one command may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

type Pending = Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>;

/// A DevTools connection. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Cdp {
    to_browser: Arc<tokio::sync::Mutex<pipe::Sender>>,
    pending: Arc<Pending>,
    events: broadcast::Sender<Arc<Value>>,
    next_id: Arc<AtomicU64>,
}

impl std::fmt::Debug for Cdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cdp").finish_non_exhaustive()
    }
}

impl Cdp {
    /// Speaks DevTools over our ends of the two pipes; reads in a task of its own.
    pub(crate) fn new(to_browser: OwnedFd, from_browser: OwnedFd) -> std::io::Result<Self> {
        let sender = pipe::Sender::from_owned_fd(to_browser)?;
        let mut receiver = pipe::Receiver::from_owned_fd(from_browser)?;
        let cdp = Self {
            to_browser: Arc::new(tokio::sync::Mutex::new(sender)),
            pending: Arc::new(Mutex::new(HashMap::new())),
            events: broadcast::channel(256).0,
            next_id: Arc::new(AtomicU64::new(1)),
        };
        let pending = cdp.pending.clone();
        let events = cdp.events.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                let n = match receiver.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|b| *b == 0) {
                    let message: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(value) = serde_json::from_slice::<Value>(&message[..end]) {
                        dispatch(&pending, &events, value);
                    }
                }
                if buf.len() > MAX_MESSAGE_BYTES {
                    break;
                }
            }
            // The browser is gone: every waiting call fails.
            lock(&pending).clear();
        });
        Ok(cdp)
    }

    /// Events (`{"method", "params", "sessionId"}`) from now on.
    pub(crate) fn events(&self) -> broadcast::Receiver<Arc<Value>> {
        self.events.subscribe()
    }

    /// Sends a command (to a page when `session` is given) and waits for its result.
    pub(crate) async fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = Value::String(session.to_owned());
        }
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        let mut bytes = serde_json::to_vec(&message).map_err(|e| e.to_string())?;
        bytes.push(0);
        {
            let mut writer = self.to_browser.lock().await;
            if let Err(e) = writer.write_all(&bytes).await {
                lock(&self.pending).remove(&id);
                return Err(format!(
                    "the browser's DevTools pipe is closed ({})",
                    e.kind()
                ));
            }
        }
        match tokio::time::timeout(CALL_TIMEOUT, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("the browser closed its DevTools pipe".into()),
            Err(_) => {
                lock(&self.pending).remove(&id);
                Err(format!("{method} did not answer in time"))
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Hands a message to the call waiting for it, or to the event subscribers.
fn dispatch(pending: &Pending, events: &broadcast::Sender<Arc<Value>>, value: Value) {
    match value.get("id").and_then(Value::as_u64) {
        Some(id) => {
            if let Some(tx) = lock(pending).remove(&id) {
                let result = match value.get("error") {
                    Some(error) => Err(error
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("DevTools error")
                        .to_owned()),
                    None => Ok(value.get("result").cloned().unwrap_or(Value::Null)),
                };
                let _ = tx.send(result);
            }
        }
        None => {
            let _ = events.send(Arc::new(value));
        }
    }
}

/// The text of a `Runtime.consoleAPICalled` event when its first argument is a string.
pub(crate) fn console_text(event: &Value) -> Option<&str> {
    if event.get("method")?.as_str()? != "Runtime.consoleAPICalled" {
        return None;
    }
    event
        .get("params")?
        .get("args")?
        .get(0)?
        .get("value")?
        .as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_messages_are_read_from_their_first_string_argument() {
        let event = json!({"method": "Runtime.consoleAPICalled", "sessionId": "S",
            "params": {"type": "log", "args": [{"type": "string", "value": "START_RECORDING"}]}});
        assert_eq!(console_text(&event), Some("START_RECORDING"));
        let number = json!({"method": "Runtime.consoleAPICalled",
            "params": {"args": [{"type": "number", "value": 3}]}});
        assert_eq!(console_text(&number), None);
        let other = json!({"method": "Page.loadEventFired", "params": {}});
        assert_eq!(console_text(&other), None);
    }

    #[test]
    fn results_and_errors_reach_their_callers_and_events_the_subscribers() {
        let pending: Pending = Mutex::new(HashMap::new());
        let (events, mut rx) = broadcast::channel(4);
        let (ok_tx, mut ok_rx) = oneshot::channel();
        let (err_tx, mut err_rx) = oneshot::channel();
        lock(&pending).insert(1, ok_tx);
        lock(&pending).insert(2, err_tx);
        dispatch(
            &pending,
            &events,
            json!({"id": 1, "result": {"frameId": "F"}}),
        );
        dispatch(
            &pending,
            &events,
            json!({"id": 2, "error": {"code": -32000, "message": "No target"}}),
        );
        dispatch(
            &pending,
            &events,
            json!({"method": "Page.loadEventFired", "params": {}}),
        );
        assert_eq!(ok_rx.try_recv().unwrap(), Ok(json!({"frameId": "F"})));
        assert_eq!(err_rx.try_recv().unwrap(), Err("No target".to_owned()));
        assert_eq!(rx.try_recv().unwrap()["method"], "Page.loadEventFired");
        assert!(lock(&pending).is_empty());
    }
}
