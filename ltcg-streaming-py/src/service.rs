//! `StreamingService`: the core lifecycle, one awaitable per call.
//!
//! Each method gathers its arguments as JSON while the GIL is held and hands them to the
//! core's [`StreamingService::call_json`], which parses them (errors are raised when the call
//! is awaited), runs the call on the shared tokio runtime without the GIL, and returns the
//! public view, which arrives as plain dicts with camelCase keys.

use std::sync::Arc;

use ltcg_streaming_core::service::{ServiceMethod, ServiceSettings};
use ltcg_streaming_core::{Actor, Error, KeyVault, SessionId, StreamingService};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::actor::PyActor;
use crate::config::PyStreamingConfig;
use crate::convert::{camel_case_keys, from_py, request_object, Json};
use crate::crypto::{body_bytes, PyStreamKeyVault, PyWebhookVerifier};
use crate::egress::egress_backend;
use crate::errors::OrRaise;
use crate::runtime::{self, Failure};
use crate::stores::session_store;
use crate::watch::PyStatusWatch;

/// The streaming service: start, observe and stop streams. Every method returns an awaitable.
#[pyclass(name = "StreamingService", module = "ltcg_streaming", frozen)]
pub(crate) struct PyStreamingService {
    pub(crate) service: StreamingService,
    /// The task following a local egress's events, stopped by `close`.
    follower: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A plain argument as JSON; a value that is not JSON is an `InvalidInputError` naming it,
/// raised when the call is awaited.
fn arg(name: &str, value: Option<&Bound<'_, PyAny>>) -> Result<Value, Error> {
    value
        .map(from_py)
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(|_| {
            Error::invalid(
                name,
                "must be a JSON value (str, int, float, bool, None, dict or list)",
            )
        })
}

/// A refresh period in seconds (the core's rule).
pub(crate) fn refresh(secs: f64) -> Result<std::time::Duration, Error> {
    ltcg_streaming_core::service::watch_refresh("refresh_seconds", secs)
}

/// One request object from a mapping and keyword arguments, as a method's arguments.
pub(crate) fn request_args(
    request: Option<&Bound<'_, PyAny>>,
    fields: Option<&Bound<'_, PyDict>>,
) -> Result<Vec<Value>, Failure> {
    request_object(request, fields)
        .map(|r| vec![r])
        .map_err(Failure::Py)
}

/// Plain arguments with their names (for errors), as a method's arguments.
pub(crate) fn named_args<'a, 'py: 'a>(
    args: impl IntoIterator<Item = (&'a str, Option<&'a Bound<'py, PyAny>>)>,
) -> Result<Vec<Value>, Failure> {
    args.into_iter()
        .map(|(name, value)| arg(name, value))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::Core)
}

impl PyStreamingService {
    /// Runs `method` with `args` (an argument that could not be read fails the awaitable).
    fn call<'py>(
        &self,
        py: Python<'py>,
        actor: &PyActor,
        method: ServiceMethod,
        args: Result<Vec<Value>, Failure>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (service, actor): (StreamingService, Actor) = (self.service.clone(), actor.0.clone());
        runtime::spawn(py, async move {
            Ok(Json(service.call_json(&actor, method, args?).await?))
        })
    }

    /// [`Self::call`] with one request object from a mapping and keyword arguments.
    fn call_request<'py>(
        &self,
        py: Python<'py>,
        actor: &PyActor,
        method: ServiceMethod,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, actor, method, request_args(request, fields))
    }

    /// [`Self::call`] with plain positional arguments, named for errors.
    fn call_args<'py>(
        &self,
        py: Python<'py>,
        actor: &PyActor,
        method: ServiceMethod,
        args: &[(&str, Option<&Bound<'py, PyAny>>)],
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = args.iter().map(|(name, value)| (*name, *value));
        self.call(py, actor, method, named_args(args))
    }
}

#[pymethods]
impl PyStreamingService {
    /// A service over `store` (ours, or any object with the `SessionStore` protocol's async
    /// methods) and `egress`. The vault defaults to the configuration's keys; the webhook
    /// verifier to its LiveKit credentials. `options` are the service's options in
    /// snake_case (`rate_limits`, `egress_start_timeout_ms`, `encoding`), the same as the
    /// Node binding's `options` object.
    #[new]
    #[pyo3(signature = (config, store, egress, *, vault=None, webhook_verifier=None, **options))]
    fn new(
        config: PyRef<'_, PyStreamingConfig>,
        store: &Bound<'_, PyAny>,
        egress: &Bound<'_, PyAny>,
        vault: Option<PyRef<'_, PyStreamKeyVault>>,
        webhook_verifier: Option<PyRef<'_, PyWebhookVerifier>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let config = config.config.clone();
        let vault: Arc<dyn KeyVault> = match vault {
            Some(v) => v.vault.clone(),
            None => Arc::new(config.vault().or_raise()?),
        };
        let options = match options {
            Some(options) => camel_case_keys(from_py(options)?),
            None => Value::Null,
        };
        let mut options = ServiceSettings::from_json(options)
            .and_then(ServiceSettings::into_options)
            .or_raise()?;
        options.webhook_verifier = webhook_verifier.map(|v| v.verifier.clone());
        let service = StreamingService::with_options(
            config,
            session_store(store)?,
            egress_backend(egress)?,
            vault,
            options,
        )
        .or_raise()?;
        // Backends that run egresses here (the browser egress) report to the service.
        let _runtime = pyo3_async_runtimes::tokio::get_runtime().enter();
        let follower = std::sync::Mutex::new(service.follow_backend_events());
        Ok(Self { service, follower })
    }

    /// Stops the service's background work (following a local egress's events). The store
    /// and the egress are the caller's to close.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(task) = self.follower.lock().ok().and_then(|mut f| f.take()) {
            task.abort();
        }
        crate::runtime::ready(py.None().into_bound(py))
    }

    fn __aenter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, PyAny>> {
        crate::runtime::ready(slf.into_any())
    }

    /// Closes the service.
    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.close(py)
    }

    /// Starts a stream, or returns the entity's healthy active session (`reused: True`).
    #[pyo3(signature = (actor, request=None, /, **fields))]
    fn start_stream<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(py, &actor, ServiceMethod::StartStream, request, fields)
    }

    /// Stops a session (`sessionId`) or an agent's active sessions (`agentId`); with neither,
    /// the caller's own active sessions.
    #[pyo3(signature = (actor, request=None, /, **fields))]
    fn stop_stream<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(py, &actor, ServiceMethod::StopStream, request, fields)
    }

    /// The public status of a session.
    fn get_status<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        session_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = [("sessionId", Some(session_id))];
        self.call_args(py, &actor, ServiceMethod::GetStatus, &args)
    }

    /// Sessions, newest first, one page at a time (users and agents see their own).
    #[pyo3(signature = (actor, request=None, /, **fields))]
    fn list_sessions<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(py, &actor, ServiceMethod::ListSessions, request, fields)
    }

    /// Follows a session's status for `actor` (re-read every `refresh_seconds` without a
    /// notice; default 2).
    #[pyo3(signature = (actor, session_id, refresh_seconds=None))]
    fn watch_status(
        &self,
        actor: PyRef<'_, PyActor>,
        session_id: &str,
        refresh_seconds: Option<f64>,
    ) -> PyResult<PyStatusWatch> {
        let id = SessionId::parse(session_id).or_raise()?;
        Ok(PyStatusWatch::new(match refresh_seconds {
            None => self.service.watch_status(&actor.0, &id),
            Some(secs) => self
                .service
                .watch_status_every(&actor.0, &id, refresh(secs).or_raise()?),
        }))
    }

    /// Handles a LiveKit webhook: the raw body (`bytes` or `str`) and its `Authorization`
    /// header.
    fn handle_webhook<'py>(
        &self,
        py: Python<'py>,
        body: &Bound<'py, PyAny>,
        authorization: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (service, body) = (self.service.clone(), body_bytes(body)?);
        runtime::spawn(py, async move {
            let outcome = service.handle_webhook(&body, &authorization).await?;
            Ok(Json(ltcg_streaming_core::json::to_value(&outcome)?))
        })
    }

    /// Adds (`add`) and removes (`remove`, by destination id) outputs of a streaming session.
    #[pyo3(signature = (actor, request=None, /, **fields))]
    fn update_destinations<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(
            py,
            &actor,
            ServiceMethod::UpdateDestinations,
            request,
            fields,
        )
    }

    /// Shows `lobby_id` on the session's overlay (`None` clears it); returns the status.
    fn link_lobby<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        session_id: &Bound<'py, PyAny>,
        lobby_id: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = [("sessionId", Some(session_id)), ("lobbyId", lobby_id)];
        self.call_args(py, &actor, ServiceMethod::LinkLobby, &args)
    }

    /// Records an agent decision (shown on the overlay, counted in `decisionsLogged`).
    #[pyo3(signature = (actor, request=None, /, **fields))]
    fn record_decision<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(py, &actor, ServiceMethod::RecordDecision, request, fields)
    }

    /// Records a game event (shown in the ticker, counted in `eventsRecorded`).
    #[pyo3(signature = (actor, request=None, /, **fields))]
    fn record_event<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(py, &actor, ServiceMethod::RecordEvent, request, fields)
    }

    /// Sets the current viewer count (the peak is kept); returns the status.
    fn update_viewer_count<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        session_id: &Bound<'py, PyAny>,
        viewers: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = [("sessionId", Some(session_id)), ("viewers", Some(viewers))];
        self.call_args(py, &actor, ServiceMethod::UpdateViewerCount, &args)
    }

    /// The newest decisions or events (`kind`) of a session, newest first (default 20, at
    /// most 100).
    #[pyo3(signature = (actor, session_id, kind, limit=None))]
    fn recent_activity<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        session_id: &Bound<'py, PyAny>,
        kind: &Bound<'py, PyAny>,
        limit: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = [
            ("sessionId", Some(session_id)),
            ("kind", Some(kind)),
            ("limit", limit),
        ];
        self.call_args(py, &actor, ServiceMethod::RecentActivity, &args)
    }

    /// The overlay page URL of a session, with a fresh access token.
    fn overlay_url<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        session_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = [("sessionId", Some(session_id))];
        self.call_args(py, &actor, ServiceMethod::OverlayUrl, &args)
    }

    /// What the overlay page shows, for the bearer of the session's overlay `token`.
    fn overlay_snapshot<'py>(
        &self,
        py: Python<'py>,
        session_id: &Bound<'py, PyAny>,
        token: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let service = self.service.clone();
        let id = arg("sessionId", Some(session_id));
        runtime::spawn(py, async move {
            let id = ltcg_streaming_core::json::value("sessionId", id?)?;
            let snapshot = service.overlay_snapshot(&id, &token).await?;
            Ok(Json(ltcg_streaming_core::json::to_value(&snapshot)?))
        })
    }

    /// Creates or replaces stored credentials (the key is stored encrypted, never returned).
    #[pyo3(signature = (actor, request=None, /, **fields))]
    fn configure_platform<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(
            py,
            &actor,
            ServiceMethod::ConfigurePlatform,
            request,
            fields,
        )
    }

    /// The stored credentials of the caller (or of `userId` / `agentId` for internal
    /// callers), without the key.
    #[pyo3(signature = (actor, request=None, /, **fields))]
    fn get_platform_config<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(
            py,
            &actor,
            ServiceMethod::GetPlatformConfig,
            request,
            fields,
        )
    }

    /// Deletes stored credentials; `True` if there were any.
    #[pyo3(signature = (actor, request=None, /, **fields))]
    fn delete_platform_config<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(
            py,
            &actor,
            ServiceMethod::DeletePlatformConfig,
            request,
            fields,
        )
    }

    /// A game started for `agent_id` in `lobby_id`: auto-starts its stream from stored
    /// credentials, or links the lobby to its active session.
    fn on_game_started<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        agent_id: &Bound<'py, PyAny>,
        lobby_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = [("agentId", Some(agent_id)), ("lobbyId", Some(lobby_id))];
        self.call_args(py, &actor, ServiceMethod::OnGameStarted, &args)
    }

    /// One reconciliation pass (internal callers): adopts, catches up, times out and stops.
    fn reconcile<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_args(py, &actor, ServiceMethod::Reconcile, &[])
    }

    /// Sets the spectator view of a lobby, shown by every session linked to it.
    #[pyo3(signature = (actor, state=None, /, **fields))]
    fn update_game_state<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        state: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(py, &actor, ServiceMethod::UpdateGameState, state, fields)
    }

    /// Records how the session's match ended (the overlay shows the match-over scene).
    #[pyo3(signature = (actor, request=None, /, **fields))]
    fn record_match_result<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(
            py,
            &actor,
            ServiceMethod::RecordMatchResult,
            request,
            fields,
        )
    }

    /// Configures an agent's streaming the product's way, onto its stored credentials.
    #[pyo3(signature = (actor, request=None, /, **fields))]
    fn configure_agent<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(py, &actor, ServiceMethod::ConfigureAgent, request, fields)
    }

    /// Configures a user's stored credentials the product's way.
    #[pyo3(signature = (actor, request=None, /, **fields))]
    fn configure_user<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        request: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(py, &actor, ServiceMethod::ConfigureUser, request, fields)
    }

    /// An agent's recent decisions (from its active or newest session).
    #[pyo3(signature = (actor, query=None, /, **fields))]
    fn agent_decisions<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        query: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(py, &actor, ServiceMethod::AgentDecisions, query, fields)
    }

    /// An agent's streaming settings (the stored ones, or the defaults).
    fn agent_streaming_config<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        agent_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = [("agentId", Some(agent_id))];
        self.call_args(py, &actor, ServiceMethod::AgentStreamingConfig, &args)
    }

    /// One reconciliation pass, answered in the product's cleanup shape (internal callers).
    fn cleanup<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_args(py, &actor, ServiceMethod::Cleanup, &[])
    }

    /// Analytics of the sessions created in a range, grouped by UTC day, platform or entity
    /// (users and agents: only their own).
    #[pyo3(signature = (actor, query=None, /, **fields))]
    fn analytics<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        query: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(py, &actor, ServiceMethod::Analytics, query, fields)
    }

    /// What happened to a session, oldest first (its owner or internal callers).
    fn session_timeline<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        session_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = [("sessionId", Some(session_id))];
        self.call_args(py, &actor, ServiceMethod::SessionTimeline, &args)
    }

    /// A session's viewer counts as the platforms reported them, oldest first (its owner
    /// or internal callers).
    fn session_viewer_samples<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        session_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = [("sessionId", Some(session_id))];
        self.call_args(py, &actor, ServiceMethod::SessionViewerSamples, &args)
    }

    /// One viewer-count pass over the live sessions (internal callers); for apps that
    /// schedule it themselves.
    fn poll_viewer_counts<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_args(py, &actor, ServiceMethod::PollViewerCounts, &[])
    }

    /// Announces a change written to the store outside this service, so overlays showing it update (internal callers).
    #[pyo3(signature = (actor, notice=None, /, **fields))]
    fn notify_changed<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        notice: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call_request(py, &actor, ServiceMethod::NotifyChanged, notice, fields)
    }

    fn __repr__(&self) -> String {
        format!(
            "StreamingService(app_url='{}')",
            self.service.config().app_url
        )
    }
}
