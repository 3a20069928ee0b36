//! [`StreamingService`]: the stream lifecycle.

use std::sync::Arc;

use ltcg_streaming_core::service::{ServiceMethod, ServiceSettings};
use ltcg_streaming_core::{
    EgressBackend, Error, KeyVault, SessionId, SessionStore, StreamingService as CoreService,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use crate::actor::Actor;
use crate::config::StreamingConfig;
use crate::crypto::StreamKeyVault;
use crate::egress::{BrowserEgress, LiveKitEgress, MemoryEgress};
use crate::error::{js_error, OrThrow};
use crate::host_store::js_store;
use crate::json::{from_js_numbers, to_js_numbers, to_json};
use crate::store::StoreArg;
use crate::task::spawn;
use crate::watch::{refresh, StatusWatch};

/// An egress argument.
type EgressArg<'env> = Either3<
    ClassInstance<'env, MemoryEgress>,
    ClassInstance<'env, LiveKitEgress>,
    ClassInstance<'env, BrowserEgress>,
>;

/// The property `name` of `parts` as a `T`, or `None` when it is absent; a value of another
/// type is `INVALID_INPUT` naming it.
fn part<T: FromNapiValue + ValidateNapiValue>(
    env: &Env,
    parts: &Object,
    name: &str,
    expected: &str,
) -> napi::Result<Option<T>> {
    let present = parts
        .get_named_property::<Unknown>(name)?
        .get_type()
        .is_ok_and(|t| !matches!(t, ValueType::Undefined | ValueType::Null));
    if !present {
        return Ok(None);
    }
    parts
        .get_named_property::<T>(name)
        .map(Some)
        .map_err(|_| bad_part(env, name, expected))
}

/// A required part: like [`part`], and `INVALID_INPUT` when absent.
fn required<T: FromNapiValue + ValidateNapiValue>(
    env: &Env,
    parts: &Object,
    name: &str,
    expected: &str,
) -> napi::Result<T> {
    part(env, parts, name, expected)?.ok_or_else(|| bad_part(env, name, expected))
}

/// `INVALID_INPUT`: part `name` must be `expected`.
fn bad_part(env: &Env, name: &str, expected: &str) -> napi::Error {
    js_error(env, Error::invalid(name, format!("must be {expected}")))
}

/// The streaming service: starts, tracks and stops streams, records what happens during
/// them, and keeps stored platform credentials. Calls take the calling `Actor` (webhooks and
/// the overlay's reads carry their own credentials) and return Promises; failures reject
/// with an `Error` whose `code` is the core's stable code.
#[derive(Debug)]
#[napi]
pub struct StreamingService {
    inner: CoreService,
}

impl StreamingService {
    /// The core service.
    pub(crate) fn core(&self) -> &CoreService {
        &self.inner
    }
}

#[napi]
impl StreamingService {
    /// A service on `config` with its parts. The vault defaults to the configuration's
    /// encryption keys; `options` are the service's options (`rateLimits`,
    /// `egressStartTimeoutMs`, `encoding`), the same as the Python binding's keywords. Throws
    /// `INVALID_INPUT` naming a missing or malformed part and `CONFIG` for unusable
    /// configuration.
    #[napi(
        constructor,
        ts_args_type = "config: StreamingConfig, parts: StreamingServiceParts"
    )]
    pub fn new(env: &Env, config: &StreamingConfig, parts: Object) -> Result<Self> {
        let store: Arc<dyn SessionStore> = match required::<StoreArg>(
            env,
            &parts,
            "store",
            "a MemoryStore, SqliteStore, PostgresStore or an object implementing SessionStore",
        )? {
            Either4::A(store) => store.inner.clone(),
            Either4::B(store) => store.inner.clone(),
            Either4::C(store) => store.inner.clone(),
            Either4::D(object) => Arc::new(js_store(env, object)?),
        };
        let egress: Arc<dyn EgressBackend> = match required::<EgressArg>(
            env,
            &parts,
            "egress",
            "a MemoryEgress, LiveKitEgress or BrowserEgress",
        )? {
            Either3::A(egress) => egress.inner.clone(),
            Either3::B(egress) => egress.inner.clone(),
            Either3::C(egress) => egress.inner.clone(),
        };
        let vault: Option<ClassInstance<StreamKeyVault>> =
            part(env, &parts, "vault", "a StreamKeyVault")?;
        let vault: Arc<dyn KeyVault> = match vault {
            Some(vault) => vault.inner.clone(),
            None => Arc::new(config.inner.vault().or_throw(env)?),
        };
        let options: Option<Unknown> = part(env, &parts, "options", "an object")?;
        let options = match options {
            Some(options) => json_arg(env, "options", options).or_throw(env)?,
            None => Value::Null,
        };
        let options = ServiceSettings::from_json(options)
            .and_then(ServiceSettings::into_options)
            .or_throw(env)?;
        let inner = CoreService::with_options(config.inner.clone(), store, egress, vault, options)
            .or_throw(env)?;
        // Backends that run egresses here (the browser egress) report to the service.
        napi::bindgen_prelude::within_runtime_if_available(|| inner.follow_backend_events());
        Ok(Self { inner })
    }

    /// Starts a stream, or returns the entity's healthy active session on the same platform
    /// (`reused: true`). The key comes from `streamKey`, the caller's stored credentials
    /// (`useStoredCredentials`) or, for internal callers only, `streamKeyHash`.
    #[napi(
        ts_args_type = "actor: Actor, request: StartStreamRequest",
        ts_return_type = "Promise<StartStreamResponse>"
    )]
    pub fn start_stream<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::StartStream,
            actor,
            [("request", request)],
        )
    }

    /// Stops a session (`sessionId`), an agent's sessions (`agentId`) or, with neither, the
    /// caller's own active sessions; stops the egress and freezes the stats.
    #[napi(
        ts_args_type = "actor: Actor, request: StopStreamRequest",
        ts_return_type = "Promise<StopStreamResponse>"
    )]
    pub fn stop_stream<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::StopStream,
            actor,
            [("request", request)],
        )
    }

    /// The public status of a session (nothing secret).
    #[napi(
        ts_args_type = "actor: Actor, sessionId: string",
        ts_return_type = "Promise<SessionStatusView>"
    )]
    pub fn get_status<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        session_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::GetStatus,
            actor,
            [("sessionId", session_id)],
        )
    }

    /// Follows a session's status for `actor` (see `StatusWatch`): woken by this service's
    /// writes, re-reading every `refreshMs` (default 2000) for other replicas'. Throws
    /// `INVALID_INPUT` for a malformed session id.
    #[napi]
    pub fn watch_status(
        &self,
        env: &Env,
        actor: &Actor,
        session_id: String,
        refresh_ms: Option<f64>,
    ) -> Result<StatusWatch> {
        let id = SessionId::parse(&session_id).or_throw(env)?;
        Ok(StatusWatch::new(
            match refresh(refresh_ms).or_throw(env)? {
                None => self.inner.watch_status(&actor.inner, &id),
                Some(every) => self.inner.watch_status_every(&actor.inner, &id, every),
            },
        ))
    }

    /// Sessions, newest first, one page at a time; users and agents see only their own.
    #[napi(
        ts_args_type = "actor: Actor, request?: ListSessionsRequest",
        ts_return_type = "Promise<SessionList>"
    )]
    pub fn list_sessions<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::ListSessions,
            actor,
            [("request", request)],
        )
    }

    /// Handles a LiveKit webhook: the raw body exactly as received (`await req.text()`) and
    /// the `Authorization` header. Forged or stale webhooks reject with `UNAUTHORIZED`;
    /// authentic ones resolve even when they match no session (`applied: false`).
    #[napi(
        ts_args_type = "body: string | Buffer, authorization: string | null | undefined",
        ts_return_type = "Promise<WebhookOutcome>"
    )]
    pub fn handle_webhook<'env>(
        &self,
        env: &'env Env,
        body: Either<String, Buffer>,
        authorization: Option<String>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let service = self.inner.clone();
        let body = match body {
            Either::A(text) => text.into_bytes(),
            Either::B(bytes) => bytes.to_vec(),
        };
        let authorization = authorization.unwrap_or_default();
        spawn(env, async move {
            to_json(&service.handle_webhook(&body, &authorization).await?)
        })
    }

    /// Adds and removes outputs while the session streams (destinations are named by their
    /// ids, never by URL).
    #[napi(
        ts_args_type = "actor: Actor, request: UpdateDestinationsRequest",
        ts_return_type = "Promise<UpdateDestinationsResponse>"
    )]
    pub fn update_destinations<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("request", request)];
        self.call(env, ServiceMethod::UpdateDestinations, actor, args)
    }

    /// Shows `lobbyId` on the session's overlay (`null` clears it).
    #[napi(
        ts_args_type = "actor: Actor, sessionId: string, lobbyId: string | null",
        ts_return_type = "Promise<SessionStatusView>"
    )]
    pub fn link_lobby<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        session_id: Unknown<'env>,
        lobby_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("sessionId", session_id), ("lobbyId", lobby_id)];
        self.call(env, ServiceMethod::LinkLobby, actor, args)
    }

    /// Records an agent decision into its active session (shown on the overlay, counted into
    /// `decisionsLogged`).
    #[napi(
        ts_args_type = "actor: Actor, input: DecisionInput",
        ts_return_type = "Promise<RecordedActivity>"
    )]
    pub fn record_decision<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        input: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::RecordDecision,
            actor,
            [("input", input)],
        )
    }

    /// Records a game event for the overlay's ticker (counted into `eventsRecorded`).
    #[napi(
        ts_args_type = "actor: Actor, input: EventInput",
        ts_return_type = "Promise<RecordedActivity>"
    )]
    pub fn record_event<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        input: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::RecordEvent, actor, [("input", input)])
    }

    /// Sets the current viewer count (the peak is kept).
    #[napi(
        ts_args_type = "actor: Actor, sessionId: string, viewers: number",
        ts_return_type = "Promise<SessionStatusView>"
    )]
    pub fn update_viewer_count<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        session_id: Unknown<'env>,
        viewers: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("sessionId", session_id), ("viewers", viewers)];
        self.call(env, ServiceMethod::UpdateViewerCount, actor, args)
    }

    /// The newest decisions or events of a session (at most `limit`: default 20, maximum
    /// 100), newest first.
    #[napi(
        ts_args_type = "actor: Actor, sessionId: string, kind: ActivityKind, limit?: number",
        ts_return_type = "Promise<Activity[]>"
    )]
    pub fn recent_activity<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        session_id: Unknown<'env>,
        kind: Unknown<'env>,
        limit: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("sessionId", session_id), ("kind", kind), ("limit", limit)];
        self.call(env, ServiceMethod::RecentActivity, actor, args)
    }

    /// The overlay page URL of a session with a fresh access token.
    #[napi(
        ts_args_type = "actor: Actor, sessionId: string",
        ts_return_type = "Promise<string>"
    )]
    pub fn overlay_url<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        session_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::OverlayUrl,
            actor,
            [("sessionId", session_id)],
        )
    }

    /// What the overlay page shows (public session fields, recent decisions and events as its
    /// settings ask), for the bearer of the session's overlay `token`: rejects with
    /// `UNAUTHORIZED` for a token that is invalid, expired or for another session.
    #[napi(
        ts_args_type = "sessionId: string, token: string",
        ts_return_type = "Promise<OverlaySnapshot>"
    )]
    pub fn overlay_snapshot<'env>(
        &self,
        env: &'env Env,
        session_id: Unknown<'env>,
        token: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let service = self.inner.clone();
        let args = (
            json_arg(env, "sessionId", session_id),
            json_arg(env, "token", token),
        );
        spawn(env, async move {
            let id: SessionId = ltcg_streaming_core::json::value("sessionId", args.0?)?;
            let token: String = ltcg_streaming_core::json::value("token", args.1?)?;
            to_json(&service.overlay_snapshot(&id, &token).await?)
        })
    }

    /// The claims of an overlay token issued by this service, for the overlay's data
    /// endpoints. Throws `UNAUTHORIZED` when the token is invalid, expired or (when
    /// `sessionId` is given) for another session.
    #[napi(ts_return_type = "OverlayClaims")]
    pub fn verify_overlay_token(
        &self,
        env: &Env,
        token: String,
        session_id: Option<String>,
    ) -> Result<Value> {
        self.inner
            .overlay_tokens()
            .verify(&token, session_id.as_deref())
            .and_then(|claims| to_json(&claims))
            .or_throw(env)
    }

    /// Creates or replaces stored credentials; the key is stored encrypted and never
    /// returned.
    #[napi(
        ts_args_type = "actor: Actor, request: ConfigurePlatformRequest",
        ts_return_type = "Promise<PlatformConfigView>"
    )]
    pub fn configure_platform<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("request", request)];
        self.call(env, ServiceMethod::ConfigurePlatform, actor, args)
    }

    /// The stored credentials (never the key or its ciphertext). Users and agents may omit
    /// `target`.
    #[napi(
        ts_args_type = "actor: Actor, target?: CredentialTarget",
        ts_return_type = "Promise<PlatformConfigView>"
    )]
    pub fn get_platform_config<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        target: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::GetPlatformConfig,
            actor,
            [("target", target)],
        )
    }

    /// Deletes the stored credentials; resolves to whether there were any.
    #[napi(
        ts_args_type = "actor: Actor, target?: CredentialTarget",
        ts_return_type = "Promise<boolean>"
    )]
    pub fn delete_platform_config<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        target: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("target", target)];
        self.call(env, ServiceMethod::DeletePlatformConfig, actor, args)
    }

    /// A game started for `agentId` in `lobbyId`: starts its stream from stored credentials
    /// when `autoStart` is on, or links the lobby to its active session.
    #[napi(
        ts_args_type = "actor: Actor, agentId: string, lobbyId: string",
        ts_return_type = "Promise<AutoStartOutcome>"
    )]
    pub fn on_game_started<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        agent_id: Unknown<'env>,
        lobby_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let args = [("agentId", agent_id), ("lobbyId", lobby_id)];
        self.call(env, ServiceMethod::OnGameStarted, actor, args)
    }

    /// Settles sessions and egresses that disagree (missed webhooks, uncertain starts,
    /// timeouts, the maximum duration); internal callers only. Run it every minute or so.
    #[napi(
        ts_args_type = "actor: Actor",
        ts_return_type = "Promise<ReconcileReport>"
    )]
    pub fn reconcile<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::Reconcile, actor, [])
    }

    /// Sets the spectator view of a lobby, shown by every session linked to it.
    #[napi(
        ts_args_type = "actor: Actor, state: GameState",
        ts_return_type = "Promise<GameStateUpdated>"
    )]
    pub fn update_game_state<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        state: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::UpdateGameState,
            actor,
            [("state", state)],
        )
    }

    /// Records how the session's match ended (the overlay shows the match-over scene).
    #[napi(
        ts_args_type = "actor: Actor, request: MatchResultRequest",
        ts_return_type = "Promise<MatchResultRecorded>"
    )]
    pub fn record_match_result<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::RecordMatchResult,
            actor,
            [("request", request)],
        )
    }

    /// Configures an agent's streaming the product's way, onto its stored credentials.
    #[napi(
        ts_args_type = "actor: Actor, request: ConfigureAgentRequest",
        ts_return_type = "Promise<AgentStreamingConfig>"
    )]
    pub fn configure_agent<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::ConfigureAgent,
            actor,
            [("request", request)],
        )
    }

    /// Configures a user's stored credentials the product's way.
    #[napi(
        ts_args_type = "actor: Actor, request: ConfigureUserRequest",
        ts_return_type = "Promise<PlatformConfigView>"
    )]
    pub fn configure_user<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        request: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::ConfigureUser,
            actor,
            [("request", request)],
        )
    }

    /// An agent's recent decisions (from its active or newest session).
    #[napi(
        ts_args_type = "actor: Actor, query?: AgentDecisionsQuery",
        ts_return_type = "Promise<AgentDecisions>"
    )]
    pub fn agent_decisions<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        query: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::AgentDecisions,
            actor,
            [("query", query)],
        )
    }

    /// An agent's streaming settings (the stored ones, or the defaults).
    #[napi(
        ts_args_type = "actor: Actor, agentId: string",
        ts_return_type = "Promise<AgentStreamingConfig>"
    )]
    pub fn agent_streaming_config<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        agent_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::AgentStreamingConfig,
            actor,
            [("agentId", agent_id)],
        )
    }

    /// Announces a change written to the store outside this service, so overlays showing it update (internal callers).
    #[napi(
        ts_args_type = "actor: Actor, notice: ChangeNotice",
        ts_return_type = "Promise<boolean>"
    )]
    pub fn notify_changed<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        notice: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::NotifyChanged,
            actor,
            [("notice", notice)],
        )
    }

    /// One reconciliation pass, answered in the product's cleanup shape (internal callers).
    #[napi(
        ts_args_type = "actor: Actor",
        ts_return_type = "Promise<CleanupSummary>"
    )]
    pub fn cleanup<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::Cleanup, actor, [])
    }

    /// Analytics of the sessions created in a range, grouped by UTC day, platform or entity
    /// (users and agents: only their own).
    #[napi(
        ts_args_type = "actor: Actor, query: AnalyticsQuery",
        ts_return_type = "Promise<AnalyticsReport>"
    )]
    pub fn analytics<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        query: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::Analytics, actor, [("query", query)])
    }

    /// What happened to a session, oldest first (its owner or internal callers).
    #[napi(
        ts_args_type = "actor: Actor, sessionId: string",
        ts_return_type = "Promise<TimelineEntry[]>"
    )]
    pub fn session_timeline<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        session_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::SessionTimeline,
            actor,
            [("sessionId", session_id)],
        )
    }

    /// A session's viewer counts as the platforms reported them, oldest first (its owner
    /// or internal callers).
    #[napi(
        ts_args_type = "actor: Actor, sessionId: string",
        ts_return_type = "Promise<ViewerSample[]>"
    )]
    pub fn session_viewer_samples<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
        session_id: Unknown<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(
            env,
            ServiceMethod::SessionViewerSamples,
            actor,
            [("sessionId", session_id)],
        )
    }

    /// One viewer-count pass over the live sessions (internal callers); for apps that
    /// schedule it themselves (a cron).
    #[napi(
        ts_args_type = "actor: Actor",
        ts_return_type = "Promise<ViewerPollReport>"
    )]
    pub fn poll_viewer_counts<'env>(
        &self,
        env: &'env Env,
        actor: ActorArg<'env>,
    ) -> Result<PromiseRaw<'env, Value>> {
        self.call(env, ServiceMethod::PollViewerCounts, actor, [])
    }
}

/// An actor argument: an `Actor`, or anything else (refused with `INVALID_INPUT`, by
/// rejecting the Promise).
type ActorArg<'env> = Either<ClassInstance<'env, Actor>, Unknown<'env>>;

impl StreamingService {
    /// Runs `method` with JSON arguments read from `args` on the JavaScript thread; any bad
    /// argument (the actor included) rejects the Promise with `INVALID_INPUT` naming it:
    /// nothing throws synchronously.
    fn call<'env, const N: usize>(
        &self,
        env: &'env Env,
        method: ServiceMethod,
        actor: ActorArg<'env>,
        args: [(&str, Unknown<'env>); N],
    ) -> Result<PromiseRaw<'env, Value>> {
        let service = self.inner.clone();
        let actor = match actor {
            Either::A(actor) => Ok(actor.inner.clone()),
            Either::B(_) => Err(Error::invalid(
                "actor",
                "must be an Actor (Actor.internal(), Actor.user(id) or Actor.agent(id))",
            )),
        };
        let args: ltcg_streaming_core::Result<Vec<Value>> = args
            .into_iter()
            .map(|(name, value)| json_arg(env, name, value))
            .collect();
        spawn(env, async move {
            let mut out = service.call_json(&actor?, method, args?).await?;
            to_js_numbers(&mut out);
            Ok(out)
        })
    }
}

/// A JavaScript argument as JSON (`undefined` reads as `null`); a value JSON cannot hold (a
/// function, a symbol, a BigInt) is `INVALID_INPUT` naming `name`.
pub(crate) fn json_arg(
    env: &Env,
    name: &str,
    value: Unknown,
) -> ltcg_streaming_core::Result<Value> {
    let unusable = || {
        Error::invalid(
            name,
            "must be a JSON value (no functions, symbols or BigInts)",
        )
    };
    match value.get_type().map_err(|_| unusable())? {
        ValueType::Undefined | ValueType::Null => return Ok(Value::Null),
        ValueType::Function | ValueType::Symbol | ValueType::BigInt | ValueType::External => {
            return Err(unusable())
        }
        _ => {}
    }
    let mut json: Value = env.from_js_value(value).map_err(|_| unusable())?;
    from_js_numbers(&mut json);
    Ok(json)
}
