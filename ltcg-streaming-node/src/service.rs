//! [`StreamingService`]: the stream lifecycle.

use std::sync::Arc;
use std::time::Duration;

use ltcg_streaming_core::egress::{EncodingPreset, EncodingSettings};
use ltcg_streaming_core::service::{
    ConfigurePlatformRequest, CredentialTarget, DecisionInput, EventInput, ListSessionsRequest,
    RateLimitConfig, SessionStatusView, StartStreamRequest, StopStreamRequest,
    UpdateDestinationsRequest,
};
use ltcg_streaming_core::session::ActivityKind;
use ltcg_streaming_core::{
    Clock, EgressBackend, Error, KeyVault, ServiceOptions as CoreServiceOptions, SessionId,
    SessionStore, StreamingService as CoreService, SystemClock,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use crate::actor::Actor;
use crate::config::StreamingConfig;
use crate::crypto::StreamKeyVault;
use crate::egress::{LiveKitEgress, MemoryEgress};
use crate::error::{js_error, OrThrow};
use crate::host_store::JsSessionStore;
use crate::json::{parse, to_json, whole_number};
use crate::store::{MemoryStore, PostgresStore, SqliteStore};
use crate::task::spawn;

/// Activities one `recentActivity` call returns by default (as in the Python binding).
const DEFAULT_RECENT_ACTIVITY: f64 = 20.0;
/// Most activities one `recentActivity` call returns (the core's cap).
const MAX_RECENT_ACTIVITY: u64 = 100;

/// Rate limits over the defaults (120 calls per minute with bursts of 60 per user or agent;
/// 6 starts per minute with bursts of 3 per streamed entity). `0` per minute disables a limit.
#[derive(Debug)]
#[napi(object)]
pub struct RateLimitOptions {
    /// Calls per minute per user or agent (internal callers are exempt).
    pub calls_per_minute: Option<u32>,
    /// Calls allowed in a burst.
    pub call_burst: Option<u32>,
    /// Stream starts per minute per streamed user or agent.
    pub starts_per_minute: Option<u32>,
    /// Starts allowed in a burst.
    pub start_burst: Option<u32>,
}

/// Tunables of a `StreamingService`.
#[derive(Debug)]
#[napi(object)]
pub struct ServiceOptions {
    /// Rate limits; `false` disables them, `true` or omitted keeps the defaults.
    #[napi(ts_type = "RateLimitOptions | boolean")]
    pub rate_limits: Option<Either<bool, RateLimitOptions>>,
    /// Longest wait for the egress start call before the start counts as uncertain, in
    /// milliseconds (default 30000).
    pub egress_start_timeout_ms: Option<f64>,
    /// Egress encoding: a preset name or explicit settings (default 1080p30).
    #[napi(ts_type = "EncodingPreset | EncodingSettings")]
    pub encoding: Option<Value>,
}

impl ServiceOptions {
    /// The core options these stand for.
    fn to_core(&self) -> ltcg_streaming_core::Result<CoreServiceOptions> {
        let mut options = CoreServiceOptions::default();
        match &self.rate_limits {
            None | Some(Either::A(true)) => {}
            Some(Either::A(false)) => options.rate_limits = RateLimitConfig::disabled(),
            Some(Either::B(limits)) => {
                let limit = &mut options.rate_limits;
                limit.calls_per_minute = limits.calls_per_minute.unwrap_or(limit.calls_per_minute);
                limit.call_burst = limits.call_burst.unwrap_or(limit.call_burst);
                limit.starts_per_minute =
                    limits.starts_per_minute.unwrap_or(limit.starts_per_minute);
                limit.start_burst = limits.start_burst.unwrap_or(limit.start_burst);
            }
        }
        if let Some(ms) = self.egress_start_timeout_ms {
            let ms = whole_number("egressStartTimeoutMs", ms, u32::MAX.into())?;
            options.egress_start_timeout = Duration::from_millis(ms);
        }
        options.encoding = match &self.encoding {
            None => EncodingSettings::default(),
            Some(Value::String(preset)) => EncodingSettings::preset(parse::<EncodingPreset>(
                "encoding",
                Value::String(preset.clone()),
            )?),
            Some(settings) => parse("encoding", settings.clone())?,
        };
        Ok(options)
    }
}

/// A store argument: one of ours, or a JavaScript object with the store's methods.
type StoreArg<'env> = Either4<
    ClassInstance<'env, MemoryStore>,
    ClassInstance<'env, SqliteStore>,
    ClassInstance<'env, PostgresStore>,
    Object<'env>,
>;

/// An egress argument.
type EgressArg<'env> =
    Either<ClassInstance<'env, MemoryEgress>, ClassInstance<'env, LiveKitEgress>>;

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

#[napi]
impl StreamingService {
    /// A service on `config` with its parts. The vault defaults to the configuration's
    /// encryption keys. Throws `INVALID_INPUT` naming a missing or malformed part and
    /// `CONFIG` for unusable configuration.
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
            Either4::D(object) => Arc::new(JsSessionStore::new(env, object)?),
        };
        let egress: Arc<dyn EgressBackend> = match required::<EgressArg>(
            env,
            &parts,
            "egress",
            "a MemoryEgress or LiveKitEgress",
        )? {
            Either::A(egress) => egress.inner.clone(),
            Either::B(egress) => egress.inner.clone(),
        };
        let vault: Option<ClassInstance<StreamKeyVault>> =
            part(env, &parts, "vault", "a StreamKeyVault")?;
        let options: Option<ServiceOptions> =
            part(env, &parts, "options", "an object of ServiceOptions")?;
        let vault: Arc<dyn KeyVault> = match vault {
            Some(vault) => vault.inner.clone(),
            None => Arc::new(config.inner.vault().or_throw(env)?),
        };
        let options = options
            .map(|o| o.to_core())
            .transpose()
            .or_throw(env)?
            .unwrap_or_default();
        CoreService::with_options(config.inner.clone(), store, egress, vault, options)
            .map(|inner| Self { inner })
            .or_throw(env)
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
        actor: &Actor,
        request: Value,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let request: StartStreamRequest = parse("request", request)?;
            to_json(&service.start_stream(&actor, request).await?)
        })
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
        actor: &Actor,
        request: Value,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let request: StopStreamRequest = parse("request", request)?;
            to_json(&service.stop_stream(&actor, request).await?)
        })
    }

    /// The public status of a session (nothing secret).
    #[napi(ts_return_type = "Promise<SessionStatusView>")]
    pub fn get_status<'env>(
        &self,
        env: &'env Env,
        actor: &Actor,
        session_id: String,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let id = SessionId::parse(&session_id)?;
            to_json(&service.get_status(&actor, &id).await?)
        })
    }

    /// Sessions, newest first, one page at a time; users and agents see only their own.
    #[napi(
        ts_args_type = "actor: Actor, request?: ListSessionsRequest",
        ts_return_type = "Promise<SessionList>"
    )]
    pub fn list_sessions<'env>(
        &self,
        env: &'env Env,
        actor: &Actor,
        request: Option<Value>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let request: ListSessionsRequest = match request {
                Some(request) => parse("request", request)?,
                None => ListSessionsRequest::default(),
            };
            to_json(&service.list_sessions(&actor, request).await?)
        })
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
        actor: &Actor,
        request: Value,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let request: UpdateDestinationsRequest = parse("request", request)?;
            to_json(&service.update_destinations(&actor, request).await?)
        })
    }

    /// Shows `lobbyId` on the session's overlay (`null` clears it).
    #[napi(
        ts_args_type = "actor: Actor, sessionId: string, lobbyId: string | null",
        ts_return_type = "Promise<SessionStatusView>"
    )]
    pub fn link_lobby<'env>(
        &self,
        env: &'env Env,
        actor: &Actor,
        session_id: String,
        lobby_id: Option<String>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let id = SessionId::parse(&session_id)?;
            let session = service.link_lobby(&actor, &id, lobby_id.as_deref()).await?;
            to_json(&SessionStatusView::of(&session, SystemClock.now_ms()))
        })
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
        actor: &Actor,
        input: Value,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let input: DecisionInput = parse("input", input)?;
            to_json(&service.record_decision(&actor, input).await?)
        })
    }

    /// Records a game event for the overlay's ticker (counted into `eventsRecorded`).
    #[napi(
        ts_args_type = "actor: Actor, input: EventInput",
        ts_return_type = "Promise<RecordedActivity>"
    )]
    pub fn record_event<'env>(
        &self,
        env: &'env Env,
        actor: &Actor,
        input: Value,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let input: EventInput = parse("input", input)?;
            to_json(&service.record_event(&actor, input).await?)
        })
    }

    /// Sets the current viewer count (the peak is kept).
    #[napi(ts_return_type = "Promise<SessionStatusView>")]
    pub fn update_viewer_count<'env>(
        &self,
        env: &'env Env,
        actor: &Actor,
        session_id: String,
        viewers: f64,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let id = SessionId::parse(&session_id)?;
            let viewers = whole_number("viewers", viewers, 1 << 53)?;
            let session = service.update_viewer_count(&actor, &id, viewers).await?;
            to_json(&SessionStatusView::of(&session, SystemClock.now_ms()))
        })
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
        actor: &Actor,
        session_id: String,
        kind: String,
        limit: Option<f64>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let id = SessionId::parse(&session_id)?;
            let kind: ActivityKind = parse("kind", Value::String(kind))?;
            let limit = limit.unwrap_or(DEFAULT_RECENT_ACTIVITY);
            let limit = whole_number("limit", limit, MAX_RECENT_ACTIVITY)?;
            to_json(
                &service
                    .recent_activity(&actor, &id, kind, limit as usize)
                    .await?,
            )
        })
    }

    /// The overlay page URL of a session with a fresh access token.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn overlay_url<'env>(
        &self,
        env: &'env Env,
        actor: &Actor,
        session_id: String,
    ) -> Result<PromiseRaw<'env, String>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let id = SessionId::parse(&session_id)?;
            service.overlay_url(&actor, &id).await
        })
    }

    /// What the overlay page shows (public session fields, recent decisions and events as its
    /// settings ask), for the bearer of the session's overlay `token`: rejects with
    /// `UNAUTHORIZED` for a token that is invalid, expired or for another session.
    #[napi(ts_return_type = "Promise<OverlaySnapshot>")]
    pub fn overlay_snapshot<'env>(
        &self,
        env: &'env Env,
        session_id: String,
        token: String,
    ) -> Result<PromiseRaw<'env, Value>> {
        let service = self.inner.clone();
        spawn(env, async move {
            let id = SessionId::parse(&session_id)?;
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
        actor: &Actor,
        request: Value,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let request: ConfigurePlatformRequest = parse("request", request)?;
            to_json(&service.configure_platform(&actor, request).await?)
        })
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
        actor: &Actor,
        target: Option<Value>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let target = credential_target(target)?;
            to_json(&service.get_platform_config(&actor, &target).await?)
        })
    }

    /// Deletes the stored credentials; resolves to whether there were any.
    #[napi(
        ts_args_type = "actor: Actor, target?: CredentialTarget",
        ts_return_type = "Promise<boolean>"
    )]
    pub fn delete_platform_config<'env>(
        &self,
        env: &'env Env,
        actor: &Actor,
        target: Option<Value>,
    ) -> Result<PromiseRaw<'env, bool>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            let target = credential_target(target)?;
            service.delete_platform_config(&actor, &target).await
        })
    }

    /// A game started for `agentId` in `lobbyId`: starts its stream from stored credentials
    /// when `autoStart` is on, or links the lobby to its active session.
    #[napi(ts_return_type = "Promise<AutoStartOutcome>")]
    pub fn on_game_started<'env>(
        &self,
        env: &'env Env,
        actor: &Actor,
        agent_id: String,
        lobby_id: String,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(env, async move {
            to_json(
                &service
                    .on_game_started(&actor, &agent_id, &lobby_id)
                    .await?,
            )
        })
    }

    /// Settles sessions and egresses that disagree (missed webhooks, uncertain starts,
    /// timeouts, the maximum duration); internal callers only. Run it every minute or so.
    #[napi(ts_return_type = "Promise<ReconcileReport>")]
    pub fn reconcile<'env>(
        &self,
        env: &'env Env,
        actor: &Actor,
    ) -> Result<PromiseRaw<'env, Value>> {
        let (service, actor) = (self.inner.clone(), actor.inner.clone());
        spawn(
            env,
            async move { to_json(&service.reconcile(&actor).await?) },
        )
    }
}

/// A credential target from an optional JavaScript object.
fn credential_target(target: Option<Value>) -> ltcg_streaming_core::Result<CredentialTarget> {
    match target {
        Some(target) => parse("target", target),
        None => Ok(CredentialTarget::default()),
    }
}
