//! `StreamingService`: the core lifecycle, one awaitable per call.
//!
//! Arguments are converted while the GIL is held; the core call then runs on the shared tokio
//! runtime without it, and the result comes back as plain dicts with camelCase keys. Errors
//! (including invalid requests) are raised when the call is awaited.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ltcg_streaming_core::service::{
    ConfigurePlatformRequest, CredentialTarget, DecisionInput, EventInput, ListSessionsRequest,
    RateLimitConfig, StartStreamRequest, StopStreamRequest, UpdateDestinationsRequest,
};
use ltcg_streaming_core::session::ActivityKind;
use ltcg_streaming_core::{Error, KeyVault, ServiceOptions, SessionId, StreamingService};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::actor::PyActor;
use crate::config::PyStreamingConfig;
use crate::convert::{flattened_request, from_py, join, json, parse, request};
use crate::crypto::{body_bytes, PyStreamKeyVault, PyWebhookVerifier};
use crate::egress::egress_backend;
use crate::errors::OrRaise;
use crate::runtime::{self, Outcome};
use crate::stores::session_store;

/// Custom rate limits (`0` per minute disables a limit; missing keys keep the defaults).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RateLimits {
    calls_per_minute: Option<u32>,
    call_burst: Option<u32>,
    starts_per_minute: Option<u32>,
    start_burst: Option<u32>,
}

/// `rate_limits=`: `True` (defaults), `False` (none) or a dict of [`RateLimits`].
fn rate_limits(value: &Bound<'_, PyAny>) -> PyResult<RateLimitConfig> {
    let defaults = RateLimitConfig::default();
    if let Ok(enabled) = value.cast::<PyBool>() {
        return Ok(if enabled.is_true() {
            defaults
        } else {
            RateLimitConfig::disabled()
        });
    }
    let limits: RateLimits = parse(from_py(value)?, true)
        .map_err(|e| Error::invalid(join("rate_limits", &e.field), e.reason))
        .or_raise()?;
    Ok(RateLimitConfig {
        calls_per_minute: limits.calls_per_minute.unwrap_or(defaults.calls_per_minute),
        call_burst: limits.call_burst.unwrap_or(defaults.call_burst),
        starts_per_minute: limits
            .starts_per_minute
            .unwrap_or(defaults.starts_per_minute),
        start_burst: limits.start_burst.unwrap_or(defaults.start_burst),
    })
}

/// A session id argument (an invalid one is raised when the call is awaited).
fn session_id(id: &str) -> PyResult<SessionId> {
    SessionId::parse(id).or_raise()
}

/// Runs `future` on the shared runtime; its value reaches Python as plain dicts and lists.
fn run<'py, T, F>(py: Python<'py>, future: F) -> PyResult<Bound<'py, PyAny>>
where
    T: Serialize + Send + 'static,
    F: Future<Output = Outcome<T>> + Send + 'static,
{
    runtime::spawn(py, async move { Ok(json(future.await?)?) })
}

/// The streaming service: start, observe and stop streams. Every method returns an awaitable.
#[pyclass(name = "StreamingService", module = "ltcg_streaming", frozen)]
pub(crate) struct PyStreamingService {
    service: StreamingService,
}

#[pymethods]
impl PyStreamingService {
    /// A service over `store` (ours, or any object with the `SessionStore` protocol's async
    /// methods) and `egress`. The vault defaults to the configuration's keys; the webhook
    /// verifier to its LiveKit credentials.
    #[new]
    #[pyo3(signature = (
        config,
        store,
        egress,
        *,
        vault=None,
        rate_limits=None,
        egress_start_timeout=30.0,
        webhook_verifier=None,
    ))]
    fn new(
        config: PyRef<'_, PyStreamingConfig>,
        store: &Bound<'_, PyAny>,
        egress: &Bound<'_, PyAny>,
        vault: Option<PyRef<'_, PyStreamKeyVault>>,
        rate_limits: Option<&Bound<'_, PyAny>>,
        egress_start_timeout: f64,
        webhook_verifier: Option<PyRef<'_, PyWebhookVerifier>>,
    ) -> PyResult<Self> {
        let config = config.config.clone();
        let vault: Arc<dyn KeyVault> = match vault {
            Some(v) => v.vault.clone(),
            None => Arc::new(config.vault().or_raise()?),
        };
        let egress_start_timeout = Duration::try_from_secs_f64(egress_start_timeout)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                Error::invalid(
                    "egress_start_timeout",
                    "must be a positive number of seconds",
                )
            })
            .or_raise()?;
        let options = ServiceOptions {
            rate_limits: match rate_limits {
                Some(value) => self::rate_limits(value)?,
                None => RateLimitConfig::default(),
            },
            egress_start_timeout,
            webhook_verifier: webhook_verifier.map(|v| v.verifier.clone()),
            ..ServiceOptions::default()
        };
        let service = StreamingService::with_options(
            config,
            session_store(store)?,
            egress_backend(egress)?,
            vault,
            options,
        )
        .or_raise()?;
        Ok(Self { service })
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
        let (service, actor) = (self.service.clone(), actor.0.clone());
        let req = self::request::<StartStreamRequest>(request, fields);
        run(
            py,
            async move { Ok(service.start_stream(&actor, req?).await?) },
        )
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
        let (service, actor) = (self.service.clone(), actor.0.clone());
        let req = self::request::<StopStreamRequest>(request, fields);
        run(
            py,
            async move { Ok(service.stop_stream(&actor, req?).await?) },
        )
    }

    /// The public status of a session.
    fn get_status<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        session_id: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (service, actor, id) = (
            self.service.clone(),
            actor.0.clone(),
            self::session_id(session_id),
        );
        run(
            py,
            async move { Ok(service.get_status(&actor, &id?).await?) },
        )
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
        let (service, actor) = (self.service.clone(), actor.0.clone());
        let req = self::request::<ListSessionsRequest>(request, fields);
        run(
            py,
            async move { Ok(service.list_sessions(&actor, req?).await?) },
        )
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
        run(py, async move {
            Ok(service.handle_webhook(&body, &authorization).await?)
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
        let (service, actor) = (self.service.clone(), actor.0.clone());
        let req = self::request::<UpdateDestinationsRequest>(request, fields);
        run(py, async move {
            Ok(service.update_destinations(&actor, req?).await?)
        })
    }

    /// Shows `lobby_id` on the session's overlay (`None` clears it); returns the session.
    fn link_lobby<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        session_id: &str,
        lobby_id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (service, actor, id) = (
            self.service.clone(),
            actor.0.clone(),
            self::session_id(session_id),
        );
        run(py, async move {
            Ok(service
                .link_lobby(&actor, &id?, lobby_id.as_deref())
                .await?)
        })
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
        let (service, actor) = (self.service.clone(), actor.0.clone());
        let req = self::request::<DecisionInput>(request, fields);
        run(py, async move {
            Ok(service.record_decision(&actor, req?).await?)
        })
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
        let (service, actor) = (self.service.clone(), actor.0.clone());
        let req = self::request::<EventInput>(request, fields);
        run(
            py,
            async move { Ok(service.record_event(&actor, req?).await?) },
        )
    }

    /// Sets the current viewer count (the peak is kept); returns the session.
    fn update_viewer_count<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        session_id: &str,
        viewers: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (service, actor, id) = (
            self.service.clone(),
            actor.0.clone(),
            self::session_id(session_id),
        );
        run(py, async move {
            Ok(service.update_viewer_count(&actor, &id?, viewers).await?)
        })
    }

    /// The newest decisions or events (`kind`) of a session, newest first (at most 100).
    #[pyo3(signature = (actor, session_id, kind, limit=20))]
    fn recent_activity<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        session_id: &str,
        kind: &str,
        limit: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (service, actor, id) = (
            self.service.clone(),
            actor.0.clone(),
            self::session_id(session_id),
        );
        let kind = parse::<ActivityKind>(Value::from(kind), true)
            .map_err(|_| Error::invalid("kind", "must be \"decision\" or \"event\""))
            .or_raise();
        run(py, async move {
            Ok(service.recent_activity(&actor, &id?, kind?, limit).await?)
        })
    }

    /// The overlay page URL of a session, with a fresh access token.
    fn overlay_url<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        session_id: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (service, actor, id) = (
            self.service.clone(),
            actor.0.clone(),
            self::session_id(session_id),
        );
        run(
            py,
            async move { Ok(service.overlay_url(&actor, &id?).await?) },
        )
    }

    /// What the overlay page shows, for the bearer of the session's overlay `token`.
    fn overlay_snapshot<'py>(
        &self,
        py: Python<'py>,
        session_id: &str,
        token: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (service, id) = (self.service.clone(), self::session_id(session_id));
        run(py, async move {
            Ok(service.overlay_snapshot(&id?, &token).await?)
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
        let (service, actor) = (self.service.clone(), actor.0.clone());
        let req = flattened_request::<ConfigurePlatformRequest>(request, fields);
        run(py, async move {
            Ok(service.configure_platform(&actor, req?).await?)
        })
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
        let (service, actor) = (self.service.clone(), actor.0.clone());
        let target = self::request::<CredentialTarget>(request, fields);
        run(py, async move {
            Ok(service.get_platform_config(&actor, &target?).await?)
        })
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
        let (service, actor) = (self.service.clone(), actor.0.clone());
        let target = self::request::<CredentialTarget>(request, fields);
        run(py, async move {
            Ok(service.delete_platform_config(&actor, &target?).await?)
        })
    }

    /// A game started for `agent_id` in `lobby_id`: auto-starts its stream from stored
    /// credentials, or links the lobby to its active session.
    fn on_game_started<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
        agent_id: String,
        lobby_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (service, actor) = (self.service.clone(), actor.0.clone());
        run(py, async move {
            Ok(service
                .on_game_started(&actor, &agent_id, &lobby_id)
                .await?)
        })
    }

    /// One reconciliation pass (internal callers): adopts, catches up, times out and stops.
    fn reconcile<'py>(
        &self,
        py: Python<'py>,
        actor: PyRef<'_, PyActor>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (service, actor) = (self.service.clone(), actor.0.clone());
        run(py, async move { Ok(service.reconcile(&actor).await?) })
    }

    fn __repr__(&self) -> String {
        format!(
            "StreamingService(app_url='{}')",
            self.service.config().app_url
        )
    }
}
