//! [`Client`]: the service's methods without an actor, wherever the service runs — a
//! [`StreamingService`] in this process acting as one actor, or a server over HTTP acting as
//! whoever its key names (the core's [`CoreClient`]). Same arguments, same results, same
//! errors (`code`, `field`, `retryAfterMs`, `retryable`) both ways.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ltcg_streaming_core::client::{Client as CoreClient, RemoteOptions};
use ltcg_streaming_core::service::ServiceMethod;
use ltcg_streaming_core::vault::SecretString;
use ltcg_streaming_core::{Error, SessionId};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use crate::actor::Actor;
use crate::error::OrThrow;
use crate::json::to_js_numbers;
use crate::service::{json_arg, StreamingService};
use crate::task::spawn;
use crate::watch::{refresh, StatusWatch};

/// How [`Client::connect`] calls the server.
#[napi(object)]
#[derive(Debug, Default)]
pub struct ClientOptions {
    /// Bound on each whole request, in milliseconds (default 30000).
    pub timeout_ms: Option<u32>,
    /// Allows `http://` to a host that is not this machine (default `false`: a key would
    /// cross the network in clear text).
    pub allow_plain_http: Option<bool>,
}

/// The streaming service, embedded or over HTTP: `Client.connect(url, apiKey)` or
/// `Client.embedded(service, actor)`. Every method returns a Promise. Over HTTP the
/// methods the API does not serve (`recentActivity`, `overlayUrl`, `reconcile`,
/// `notifyChanged`, `pollViewerCounts`) reject with `INVALID_INPUT` naming `method`; a
/// server that cannot be reached rejects with `EXTERNAL`.
#[napi]
#[derive(Debug)]
pub struct Client {
    inner: Mutex<Option<Arc<CoreClient>>>,
    remote: bool,
}

impl Client {
    fn wrap(client: CoreClient) -> Self {
        Self {
            remote: client.is_remote(),
            inner: Mutex::new(Some(Arc::new(client))),
        }
    }

    /// Runs `method` with JSON arguments read from `args`; a bad argument or a closed client
    /// rejects the Promise.
    fn call<'env, const N: usize>(
        &self,
        env: &'env Env,
        method: ServiceMethod,
        args: [(&str, Unknown<'env>); N],
    ) -> Result<PromiseRaw<'env, Value>> {
        let client = self
            .inner
            .lock()
            .ok()
            .and_then(|inner| inner.clone())
            .ok_or_else(|| Error::Conflict {
                reason: "the client is closed".into(),
            });
        let args: ltcg_streaming_core::Result<Vec<Value>> = args
            .into_iter()
            .map(|(name, value)| json_arg(env, name, value))
            .collect();
        spawn(env, async move {
            let mut out = client?.call_json(method, args?).await?;
            to_js_numbers(&mut out);
            Ok(out)
        })
    }
}

#[napi]
impl Client {
    /// A server's API at `baseUrl`, called with `apiKey` (an agent's `ltcg_` key, a user's
    /// JWT or the internal secret) as `Authorization: Bearer`. Throws `INVALID_INPUT` naming
    /// `baseUrl` or `apiKey`; nothing is sent until the first call.
    #[napi(factory)]
    pub fn connect(
        env: &Env,
        base_url: String,
        api_key: String,
        options: Option<ClientOptions>,
    ) -> Result<Self> {
        let options = options.unwrap_or_default();
        let mut remote = RemoteOptions::new(base_url, SecretString::from(api_key));
        if let Some(ms) = options.timeout_ms {
            remote.timeout = Duration::from_millis(u64::from(ms));
        }
        remote.allow_plain_http = options.allow_plain_http.unwrap_or(false);
        Ok(Self::wrap(CoreClient::remote(remote).or_throw(env)?))
    }

    /// `service` in this process, acting as `actor`.
    #[napi(factory)]
    pub fn embedded(service: &StreamingService, actor: &Actor) -> Self {
        Self::wrap(CoreClient::embedded(
            service.core().clone(),
            actor.inner.clone(),
        ))
    }

    /// Whether calls go over HTTP.
    #[napi(getter)]
    pub fn is_remote(&self) -> bool {
        self.remote
    }

    /// Follows a session's status (see [`StatusWatch`]); embedded, the service's own writes
    /// wake it; otherwise (and over HTTP) it re-reads every `refreshMs` (default 2000).
    /// Throws `INVALID_INPUT` for a malformed session id.
    #[napi]
    pub fn watch_status(
        &self,
        env: &Env,
        session_id: String,
        refresh_ms: Option<f64>,
    ) -> Result<StatusWatch> {
        let client = self
            .inner
            .lock()
            .ok()
            .and_then(|inner| inner.clone())
            .ok_or_else(|| Error::Conflict {
                reason: "the client is closed".into(),
            })
            .or_throw(env)?;
        let id = SessionId::parse(&session_id).or_throw(env)?;
        Ok(StatusWatch::new(
            match refresh(refresh_ms).or_throw(env)? {
                None => client.watch_status(&id),
                Some(every) => client.watch_status_every(&id, every),
            },
        ))
    }

    /// Lets go of the connection pool (or the service); later calls reject with `CONFLICT`.
    #[napi]
    pub fn close(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.take();
        }
    }

    /// Starts a stream, or returns the entity's healthy active session on the same platform
    /// (`reused: true`). The key comes from `streamKey`, the caller's stored credentials
    /// (`useStoredCredentials`) or, for internal callers only, `streamKeyHash`.
    #[napi(
        ts_args_type = "request: StartStreamRequest",
        ts_return_type = "Promise<StartStreamResponse>"
    )]
    pub fn start_stream<'env>(
        &self,
        env: &'env Env,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::StartStream, [("request", request)])
    }

    /// Stops a session (`sessionId`), an agent's sessions (`agentId`) or, with neither, the
    /// caller's own active sessions; stops the egress and freezes the stats.
    #[napi(
        ts_args_type = "request: StopStreamRequest",
        ts_return_type = "Promise<StopStreamResponse>"
    )]
    pub fn stop_stream<'env>(
        &self,
        env: &'env Env,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::StopStream, [("request", request)])
    }

    /// The public status of a session (nothing secret).
    #[napi(
        ts_args_type = "sessionId: string",
        ts_return_type = "Promise<SessionStatusView>"
    )]
    pub fn get_status<'env>(
        &self,
        env: &'env Env,
        session_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::GetStatus, [("sessionId", session_id)])
    }

    /// Sessions, newest first, one page at a time; users and agents see only their own.
    #[napi(
        ts_args_type = "request?: ListSessionsRequest",
        ts_return_type = "Promise<SessionList>"
    )]
    pub fn list_sessions<'env>(
        &self,
        env: &'env Env,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::ListSessions, [("request", request)])
    }

    /// Adds and removes outputs while the session streams (destinations are named by their
    /// ids, never by URL).
    #[napi(
        ts_args_type = "request: UpdateDestinationsRequest",
        ts_return_type = "Promise<UpdateDestinationsResponse>"
    )]
    pub fn update_destinations<'env>(
        &self,
        env: &'env Env,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("request", request)];
        self.call(env, ServiceMethod::UpdateDestinations, args)
    }

    /// Shows `lobbyId` on the session's overlay (`null` clears it).
    #[napi(
        ts_args_type = "sessionId: string, lobbyId: string | null",
        ts_return_type = "Promise<SessionStatusView>"
    )]
    pub fn link_lobby<'env>(
        &self,
        env: &'env Env,
        session_id: Unknown<'env>,
        lobby_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("sessionId", session_id), ("lobbyId", lobby_id)];
        self.call(env, ServiceMethod::LinkLobby, args)
    }

    /// Records an agent decision into its active session (shown on the overlay, counted into
    /// `decisionsLogged`).
    #[napi(
        ts_args_type = "input: DecisionInput",
        ts_return_type = "Promise<RecordedActivity>"
    )]
    pub fn record_decision<'env>(
        &self,
        env: &'env Env,
        input: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::RecordDecision, [("input", input)])
    }

    /// Records a game event for the overlay's ticker (counted into `eventsRecorded`).
    #[napi(
        ts_args_type = "input: EventInput",
        ts_return_type = "Promise<RecordedActivity>"
    )]
    pub fn record_event<'env>(
        &self,
        env: &'env Env,
        input: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::RecordEvent, [("input", input)])
    }

    /// Sets the current viewer count (the peak is kept).
    #[napi(
        ts_args_type = "sessionId: string, viewers: number",
        ts_return_type = "Promise<SessionStatusView>"
    )]
    pub fn update_viewer_count<'env>(
        &self,
        env: &'env Env,
        session_id: Unknown<'env>,
        viewers: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("sessionId", session_id), ("viewers", viewers)];
        self.call(env, ServiceMethod::UpdateViewerCount, args)
    }

    /// The newest decisions or events of a session (at most `limit`: default 20, maximum
    /// 100), newest first.
    #[napi(
        ts_args_type = "sessionId: string, kind: ActivityKind, limit?: number",
        ts_return_type = "Promise<Activity[]>"
    )]
    pub fn recent_activity<'env>(
        &self,
        env: &'env Env,
        session_id: Unknown<'env>,
        kind: Unknown<'env>,
        limit: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("sessionId", session_id), ("kind", kind), ("limit", limit)];
        self.call(env, ServiceMethod::RecentActivity, args)
    }

    /// The overlay page URL of a session with a fresh access token.
    #[napi(ts_args_type = "sessionId: string", ts_return_type = "Promise<string>")]
    pub fn overlay_url<'env>(
        &self,
        env: &'env Env,
        session_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::OverlayUrl, [("sessionId", session_id)])
    }

    /// Creates or replaces stored credentials; the key is stored encrypted and never
    /// returned.
    #[napi(
        ts_args_type = "request: ConfigurePlatformRequest",
        ts_return_type = "Promise<PlatformConfigView>"
    )]
    pub fn configure_platform<'env>(
        &self,
        env: &'env Env,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("request", request)];
        self.call(env, ServiceMethod::ConfigurePlatform, args)
    }

    /// The stored credentials (never the key or its ciphertext). Users and agents may omit
    /// `target`.
    #[napi(
        ts_args_type = "target?: CredentialTarget",
        ts_return_type = "Promise<PlatformConfigView>"
    )]
    pub fn get_platform_config<'env>(
        &self,
        env: &'env Env,
        target: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::GetPlatformConfig, [("target", target)])
    }

    /// Deletes the stored credentials; resolves to whether there were any.
    #[napi(
        ts_args_type = "target?: CredentialTarget",
        ts_return_type = "Promise<boolean>"
    )]
    pub fn delete_platform_config<'env>(
        &self,
        env: &'env Env,
        target: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("target", target)];
        self.call(env, ServiceMethod::DeletePlatformConfig, args)
    }

    /// A game started for `agentId` in `lobbyId`: starts its stream from stored credentials
    /// when `autoStart` is on, or links the lobby to its active session.
    #[napi(
        ts_args_type = "agentId: string, lobbyId: string",
        ts_return_type = "Promise<AutoStartOutcome>"
    )]
    pub fn on_game_started<'env>(
        &self,
        env: &'env Env,
        agent_id: Unknown<'env>,
        lobby_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("agentId", agent_id), ("lobbyId", lobby_id)];
        self.call(env, ServiceMethod::OnGameStarted, args)
    }

    /// Settles sessions and egresses that disagree (missed webhooks, uncertain starts,
    /// timeouts, the maximum duration); internal callers only. Run it every minute or so.
    #[napi(ts_args_type = "", ts_return_type = "Promise<ReconcileReport>")]
    pub fn reconcile<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::Reconcile, [])
    }

    /// Sets the spectator view of a lobby, shown by every session linked to it.
    #[napi(
        ts_args_type = "state: GameState",
        ts_return_type = "Promise<GameStateUpdated>"
    )]
    pub fn update_game_state<'env>(
        &self,
        env: &'env Env,
        state: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::UpdateGameState, [("state", state)])
    }

    /// Records how the session's match ended (the overlay shows the match-over scene).
    #[napi(
        ts_args_type = "request: MatchResultRequest",
        ts_return_type = "Promise<MatchResultRecorded>"
    )]
    pub fn record_match_result<'env>(
        &self,
        env: &'env Env,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::RecordMatchResult,
            [("request", request)],
        )
    }

    /// Configures an agent's streaming the product's way, onto its stored credentials.
    #[napi(
        ts_args_type = "request: ConfigureAgentRequest",
        ts_return_type = "Promise<AgentStreamingConfig>"
    )]
    pub fn configure_agent<'env>(
        &self,
        env: &'env Env,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::ConfigureAgent, [("request", request)])
    }

    /// Configures a user's stored credentials the product's way.
    #[napi(
        ts_args_type = "request: ConfigureUserRequest",
        ts_return_type = "Promise<PlatformConfigView>"
    )]
    pub fn configure_user<'env>(
        &self,
        env: &'env Env,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::ConfigureUser, [("request", request)])
    }

    /// An agent's recent decisions (from its active or newest session).
    #[napi(
        ts_args_type = "query?: AgentDecisionsQuery",
        ts_return_type = "Promise<AgentDecisions>"
    )]
    pub fn agent_decisions<'env>(
        &self,
        env: &'env Env,
        query: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::AgentDecisions, [("query", query)])
    }

    /// An agent's streaming settings (the stored ones, or the defaults).
    #[napi(
        ts_args_type = "agentId: string",
        ts_return_type = "Promise<AgentStreamingConfig>"
    )]
    pub fn agent_streaming_config<'env>(
        &self,
        env: &'env Env,
        agent_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::AgentStreamingConfig,
            [("agentId", agent_id)],
        )
    }

    /// Announces a change written to the store outside this service, so overlays showing it update (internal callers).
    #[napi(
        ts_args_type = "notice: ChangeNotice",
        ts_return_type = "Promise<boolean>"
    )]
    pub fn notify_changed<'env>(
        &self,
        env: &'env Env,
        notice: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::NotifyChanged, [("notice", notice)])
    }

    /// One reconciliation pass, answered in the product's cleanup shape (internal callers).
    #[napi(ts_args_type = "", ts_return_type = "Promise<CleanupSummary>")]
    pub fn cleanup<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::Cleanup, [])
    }

    /// Analytics of the sessions created in a range, grouped by UTC day, platform or entity
    /// (users and agents: only their own).
    #[napi(
        ts_args_type = "query: AnalyticsQuery",
        ts_return_type = "Promise<AnalyticsReport>"
    )]
    pub fn analytics<'env>(
        &self,
        env: &'env Env,
        query: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::Analytics, [("query", query)])
    }

    /// What happened to a session, oldest first (its owner or internal callers).
    #[napi(
        ts_args_type = "sessionId: string",
        ts_return_type = "Promise<TimelineEntry[]>"
    )]
    pub fn session_timeline<'env>(
        &self,
        env: &'env Env,
        session_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::SessionTimeline,
            [("sessionId", session_id)],
        )
    }

    /// A session's viewer counts as the platforms reported them, oldest first (its owner
    /// or internal callers).
    #[napi(
        ts_args_type = "sessionId: string",
        ts_return_type = "Promise<ViewerSample[]>"
    )]
    pub fn session_viewer_samples<'env>(
        &self,
        env: &'env Env,
        session_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::SessionViewerSamples,
            [("sessionId", session_id)],
        )
    }

    /// One viewer-count pass over the live sessions (internal callers); for apps that
    /// schedule it themselves (a cron).
    #[napi(ts_args_type = "", ts_return_type = "Promise<ViewerPollReport>")]
    pub fn poll_viewer_counts<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::PollViewerCounts, [])
    }
}
