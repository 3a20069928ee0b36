//! Egress backends: LiveKit web egress, the browser egress on this machine, and the
//! in-process `MemoryEgress`.

use std::sync::Arc;
use std::time::Duration;

use ltcg_streaming_core::egress::{
    BrowserEgress, BrowserEgressOptions, EgressBackend, LiveKitEgress, LiveKitEgressOptions,
};
use ltcg_streaming_core::{EgressStatus, Error, MemoryEgress};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::config::PyStreamingConfig;
use crate::convert::{camel_case_keys, from_py, Json};
use crate::errors::OrRaise;
use crate::runtime::spawn;

/// LiveKit web egress (renders the overlay page and pushes it to the RTMP outputs).
#[pyclass(name = "LiveKitEgress", module = "ltcg_streaming", frozen)]
pub(crate) struct PyLiveKitEgress {
    egress: Arc<LiveKitEgress>,
    api_key: String,
}

impl PyLiveKitEgress {
    fn build(options: LiveKitEgressOptions) -> PyResult<Self> {
        let api_key = options.api_key.trim().to_owned();
        let egress = LiveKitEgress::new(options).or_raise()?;
        Ok(Self {
            egress: Arc::new(egress),
            api_key,
        })
    }
}

#[pymethods]
impl PyLiveKitEgress {
    /// `url` is `LIVEKIT_URL` (`wss://`, `https://`, ...); `request_timeout` in seconds.
    #[new]
    #[pyo3(signature = (url, api_key, api_secret, *, request_timeout=10.0))]
    fn new(
        url: String,
        api_key: String,
        api_secret: String,
        request_timeout: f64,
    ) -> PyResult<Self> {
        let timeout = Duration::try_from_secs_f64(request_timeout)
            .map_err(|_| Error::invalid("request_timeout", "must be a positive number of seconds"))
            .or_raise()?;
        Self::build(
            LiveKitEgressOptions::new(url, api_key, api_secret).with_request_timeout(timeout),
        )
    }

    /// The LiveKit server of a configuration (`LIVEKIT_URL`, `LIVEKIT_API_KEY`,
    /// `LIVEKIT_API_SECRET`); a `ConfigError` when it has none.
    #[staticmethod]
    fn from_config(config: PyRef<'_, PyStreamingConfig>) -> PyResult<Self> {
        let livekit = config
            .config
            .livekit
            .as_ref()
            .ok_or_else(|| Error::Config {
                var: "LIVEKIT_URL".into(),
                problem: "LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET are not set".into(),
            })
            .or_raise()?;
        Self::build(LiveKitEgressOptions::from(livekit))
    }

    /// The HTTP(S) base URL the API is called on.
    #[getter]
    fn api_url(&self) -> &str {
        self.egress.api_url()
    }

    fn __repr__(&self) -> String {
        format!(
            "LiveKitEgress(api_url='{}', api_key='{}')",
            self.egress.api_url(),
            self.api_key
        )
    }
}

/// An in-process egress that renders nothing: `start` gives random `EG_mem_…` ids in status
/// `EGRESS_STARTING`; `set_status` moves them as LiveKit would. For development and tests.
#[pyclass(name = "MemoryEgress", module = "ltcg_streaming", frozen)]
pub(crate) struct PyMemoryEgress {
    egress: Arc<MemoryEgress>,
}

/// An egress status from its protobuf name, e.g. `EGRESS_ACTIVE`.
fn egress_status(name: &str) -> PyResult<EgressStatus> {
    serde_json::from_value(Value::from(name))
        .map_err(|_| Error::invalid("status", "must be an EGRESS_* status name"))
        .or_raise()
}

#[pymethods]
impl PyMemoryEgress {
    #[new]
    fn new() -> Self {
        Self {
            egress: Arc::new(MemoryEgress::new()),
        }
    }

    /// Sets an egress's status (e.g. `"EGRESS_ACTIVE"` once it "renders").
    fn set_status(&self, egress_id: &str, status: &str) -> PyResult<()> {
        self.egress
            .set_status(egress_id, egress_status(status)?)
            .or_raise()
    }

    /// An egress's status, or `None` for an unknown id.
    fn status(&self, egress_id: &str) -> Option<&'static str> {
        self.egress.status(egress_id).map(EgressStatus::as_str)
    }

    /// An egress's outputs, keys redacted.
    fn outputs(&self, egress_id: &str) -> Vec<String> {
        self.egress.outputs(egress_id)
    }

    /// How many egresses were ever started.
    #[getter]
    fn started(&self) -> u64 {
        self.egress.started()
    }

    /// The starting and active egresses: `egressId`, `status`, `sessionId`, `startedAtNs`.
    fn list_active<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let egress = self.egress.clone();
        spawn(py, async move {
            let list = egress.list_active().await?;
            Ok(Json(ltcg_streaming_core::json::to_value(&list)?))
        })
    }

    fn __repr__(&self) -> String {
        format!("MemoryEgress(started={})", self.egress.started())
    }
}

/// The overlay page rendered on this machine (Chromium on Xvfb with a PulseAudio sink,
/// ffmpeg), pushed to every output by this process. Keyword options are the core's
/// `BrowserEgressOptions` in snake_case (`max_concurrent`, `work_dir`,
/// `await_start_signal`, `thumbnail_interval_ms`, ...), the same as the Node binding's.
#[pyclass(name = "BrowserEgress", module = "ltcg_streaming", frozen)]
pub(crate) struct PyBrowserEgress {
    egress: BrowserEgress,
    options: BrowserEgressOptions,
}

#[pymethods]
impl PyBrowserEgress {
    #[new]
    #[pyo3(signature = (**options))]
    fn new(options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let json = match options {
            Some(options) => camel_case_keys(from_py(options)?),
            None => Value::Null,
        };
        let options = BrowserEgressOptions::from_json(json).or_raise()?;
        Ok(Self {
            egress: BrowserEgress::new(options.clone()),
            options,
        })
    }

    /// The programs it needs that are not installed (empty when it can render).
    fn missing_programs(&self) -> Vec<String> {
        self.options.missing_programs()
    }

    /// An egress's status, or `None` for an unknown id.
    fn status(&self, egress_id: &str) -> Option<&'static str> {
        self.egress.status(egress_id).map(EgressStatus::as_str)
    }

    /// The starting and active egresses: `egressId`, `status`, `sessionId`, `startedAtNs`.
    fn list_active<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let egress = self.egress.clone();
        spawn(py, async move {
            let list = egress.list_active().await?;
            Ok(Json(ltcg_streaming_core::json::to_value(&list)?))
        })
    }

    /// Cleans up after renders of processes that are gone; resolves to the counts of
    /// `processes`, `sinks` and `directories` removed.
    fn reap_leftovers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let egress = self.egress.clone();
        spawn(py, async move {
            let r = egress.reap_leftovers().await;
            Ok(Json(serde_json::json!({
                "processes": r.processes, "sinks": r.sinks, "directories": r.directories
            })))
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "BrowserEgress(max_concurrent={}, work_dir='{}')",
            self.options.max_concurrent,
            self.options.work_dir.display()
        )
    }
}

/// The egress backend behind `obj`.
pub(crate) fn egress_backend(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn EgressBackend>> {
    if let Ok(e) = obj.cast::<PyLiveKitEgress>() {
        return Ok(e.get().egress.clone());
    }
    if let Ok(e) = obj.cast::<PyMemoryEgress>() {
        return Ok(e.get().egress.clone());
    }
    if let Ok(e) = obj.cast::<PyBrowserEgress>() {
        return Ok(Arc::new(e.get().egress.clone()));
    }
    Err(PyTypeError::new_err(
        "egress must be a LiveKitEgress, a BrowserEgress or a MemoryEgress",
    ))
}
