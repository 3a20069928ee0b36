//! `_Client`: the core's [`Client`] (an embedded service acting as one actor, or a server
//! over HTTP) for `ltcg_streaming.Client`, which gives it the service's method names.
//! Arguments are read as the service's are; the core does the rest.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ltcg_streaming_core::client::{Client, RemoteOptions};
use ltcg_streaming_core::service::ServiceMethod;
use ltcg_streaming_core::vault::SecretString;
use ltcg_streaming_core::{Error, SessionId};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::actor::PyActor;
use crate::convert::Json;
use crate::errors::OrRaise;
use crate::runtime::{self, Failure};
use crate::service::{named_args, refresh, request_args, PyStreamingService};
use crate::watch::PyStatusWatch;

/// The streaming service wherever it runs; see `ltcg_streaming.Client`.
#[pyclass(name = "_Client", module = "ltcg_streaming", frozen)]
pub(crate) struct PyClient {
    client: Mutex<Option<Arc<Client>>>,
    remote: bool,
}

impl PyClient {
    fn new(client: Client) -> Self {
        Self {
            remote: client.is_remote(),
            client: Mutex::new(Some(Arc::new(client))),
        }
    }

    fn current(&self) -> PyResult<Arc<Client>> {
        self.client
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the client's lock is poisoned"))?
            .clone()
            .ok_or_else(|| PyRuntimeError::new_err("the client is closed"))
    }

    fn run<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        args: Result<Vec<Value>, Failure>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.current()?;
        let method = ServiceMethod::from_name(method)
            .ok_or_else(|| Error::invalid("method", format!("{method} is not a service method")))
            .or_raise()?;
        runtime::spawn(py, async move {
            Ok(Json(client.call_json(method, args?).await?))
        })
    }
}

#[pymethods]
impl PyClient {
    /// A server's API over HTTP, called with `api_key` (sent as `Authorization: Bearer`).
    #[staticmethod]
    #[pyo3(signature = (base_url, api_key, *, timeout_seconds=30.0, allow_plain_http=false))]
    fn remote(
        base_url: String,
        api_key: String,
        timeout_seconds: f64,
        allow_plain_http: bool,
    ) -> PyResult<Self> {
        let timeout = Duration::try_from_secs_f64(timeout_seconds)
            .map_err(|_| Error::invalid("timeout_seconds", "must be a positive number of seconds"))
            .or_raise()?;
        let mut options = RemoteOptions::new(base_url, SecretString::from(api_key));
        options.timeout = timeout;
        options.allow_plain_http = allow_plain_http;
        Ok(Self::new(Client::remote(options).or_raise()?))
    }

    /// `service` in this process, acting as `actor`.
    #[staticmethod]
    fn embedded(service: PyRef<'_, PyStreamingService>, actor: PyRef<'_, PyActor>) -> Self {
        Self::new(Client::embedded(service.service.clone(), actor.0.clone()))
    }

    /// Whether calls go over HTTP.
    #[getter]
    fn is_remote(&self) -> bool {
        self.remote
    }

    /// Calls `method` (a service method's name) with one request object.
    #[pyo3(signature = (method, request=None, /, **fields))]
    fn call_request<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, method, request_args(request, fields))
    }

    /// Calls `method` with plain arguments, by name (camelCase) in order.
    #[pyo3(signature = (method, /, **args))]
    fn call_args<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        args: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut named = Vec::new();
        for (name, value) in args.into_iter().flat_map(|a| a.iter()) {
            named.push((name.extract::<String>()?, value));
        }
        let args = named_args(
            named
                .iter()
                .map(|(name, value)| (name.as_str(), Some(value))),
        );
        self.run(py, method, args)
    }

    /// Follows a session's status (re-read every `refresh_seconds` without a notice).
    #[pyo3(signature = (session_id, refresh_seconds=None))]
    fn watch_status(
        &self,
        session_id: &str,
        refresh_seconds: Option<f64>,
    ) -> PyResult<PyStatusWatch> {
        let client = self.current()?;
        let id = SessionId::parse(session_id).or_raise()?;
        Ok(PyStatusWatch::new(match refresh_seconds {
            None => client.watch_status(&id),
            Some(secs) => client.watch_status_every(&id, refresh(secs).or_raise()?),
        }))
    }

    /// Lets go of the service or the connection pool; later calls raise `RuntimeError`.
    fn close(&self) -> PyResult<()> {
        self.client
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the client's lock is poisoned"))?
            .take();
        Ok(())
    }
}
