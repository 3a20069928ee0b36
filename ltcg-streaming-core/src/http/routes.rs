//! The handlers: authenticate, decode, call the service, encode.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::presented_key;
use super::body::{read_json, JsonBody};
use super::error::{reply, ApiError, ApiResult};
use super::{AppState, MAX_WEBHOOK_BODY};
use crate::api_paths as paths;
use crate::error::{Error, ErrorCode};
use crate::overlay_url::OverlayUrl;
use crate::service::{
    Actor, AgentDecisionsQuery, AnalyticsQuery, ConfigureAgentRequest, ConfigurePlatformRequest,
    ConfigureUserRequest, CredentialTarget, DecisionInput, EventInput, GameStartedRequest,
    ListSessionsRequest, MatchResultRequest, Preview, StartStreamRequest, StopStreamRequest,
    UpdateDestinationsRequest, ViewerCountRequest,
};
use crate::session::{GameState, SessionId};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(paths::START, post(start))
        .route(paths::STOP, post(stop))
        .route(paths::STATUS, get(status))
        .route(paths::SESSIONS, get(sessions))
        .route(paths::THUMBNAIL, get(thumbnail))
        .route(paths::TIMELINE, get(timeline))
        .route(paths::VIEWERS, get(viewers))
        .route(paths::ANALYTICS, get(analytics))
        .route(paths::DESTINATIONS, post(destinations))
        .route(paths::UPDATE_DESTINATIONS, post(destinations))
        .route(paths::LINK_GAME, post(link_game))
        .route(paths::GAME_STATE, post(game_state))
        .route(paths::MATCH_RESULT, post(match_result))
        .route(paths::VIEWER_COUNT, post(viewer_count))
        .route(paths::GAME_STARTED, post(game_started))
        .route(paths::CLEANUP, post(cleanup))
        .route(paths::CONFIGURE_AGENT, post(configure_agent))
        .route(paths::CONFIGURE_USER, post(configure_user))
        .route(paths::AGENT_STREAMING_CONFIG, get(agent_streaming_config))
        .route(paths::AGENT_DECISIONS, post(decision).get(agent_decisions))
        .route(paths::AGENT_EVENTS, post(event))
        .route(
            paths::PLATFORMS,
            put(configure_platform)
                .get(platform_config)
                .delete(delete_platform),
        )
        .route(paths::LIVEKIT_WEBHOOK, post(webhook))
        .route(OverlayUrl::PATH, get(super::overlay::page))
        .route("/stream/overlay.js", get(super::overlay::script))
        .route("/stream/overlay.css", get(super::overlay::style))
        .route("/stream/overlay/events", get(super::overlay::events))
        .merge(super::dashboard::routes())
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
}

/// The authenticated caller of a request: by its key, else by its dashboard login (see
/// [`super::dashboard::logins`]; state-changing requests must then carry the login's CSRF
/// token). Failed authentication is counted against the client's address (see
/// [`super::throttle`]).
pub(super) struct Caller(pub(super) Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        state
            .throttle
            .check(client)
            .map_err(IntoResponse::into_response)?;
        if presented_key(&parts.headers).is_none() {
            if let Some(login) = state.logins.actor_for(&parts.method, &parts.headers) {
                return login.map(Caller).map_err(|e| ApiError(e).into_response());
            }
        }
        let authority = parts.uri.authority().map(|a| a.as_str());
        match state
            .auth
            .authenticate_request(&parts.headers, authority)
            .await
        {
            Ok(actor) => Ok(Caller(actor)),
            Err(e) => {
                if e.code() == ErrorCode::Unauthorized && presented_key(&parts.headers).is_some() {
                    state
                        .throttle
                        .failed(client)
                        .map_err(IntoResponse::into_response)?;
                }
                Err(ApiError(e).into_response())
            }
        }
    }
}

/// Decodes the query string into `T`; errors name the parameter.
fn query<T: DeserializeOwned>(raw: Option<String>) -> ApiResult<T> {
    Ok(crate::json::query(raw.as_deref().unwrap_or_default())?)
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn not_found() -> ApiError {
    ApiError(Error::not_found("route"))
}

/// A known route asked with a method it does not take (the `Allow` header lists those).
async fn method_not_allowed() -> Response {
    reply(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::InvalidInput,
        "method not allowed on this route (see the Allow header)",
    )
}

async fn start(
    State(s): State<AppState>,
    Caller(actor): Caller,
    JsonBody(req): JsonBody<StartStreamRequest>,
) -> ApiResult<Response> {
    Ok(Json(s.service.start_stream(&actor, req).await?).into_response())
}

async fn stop(
    State(s): State<AppState>,
    Caller(actor): Caller,
    JsonBody(req): JsonBody<StopStreamRequest>,
) -> ApiResult<Response> {
    Ok(Json(s.service.stop_stream(&actor, req).await?).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionQuery {
    session_id: Option<String>,
}

async fn status(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let id = session_id_param(raw)?;
    Ok(Json(s.service.get_status(&actor, &id).await?).into_response())
}

/// The required `sessionId` query parameter.
fn session_id_param(raw: Option<String>) -> ApiResult<SessionId> {
    let q: SessionQuery = query(raw)?;
    let id = q
        .session_id
        .ok_or_else(|| Error::invalid("sessionId", "is required"))?;
    Ok(SessionId::parse(&id)?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThumbnailQuery {
    session_id: Option<String>,
    /// Ignored: lets a page ask for a fresh picture under a new URL (`&t=<now>`).
    #[serde(default, rename = "t")]
    _fresh: Option<String>,
}

/// `GET /api/streaming/thumbnail?sessionId=[&t=]`: the session's latest thumbnail as
/// `image/jpeg`, or a redirect (302) to the platform's preview image when the egress makes
/// none; never cached; 404 when there is neither.
async fn thumbnail(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q: ThumbnailQuery = query(raw)?;
    let id = q
        .session_id
        .ok_or_else(|| Error::invalid("sessionId", "is required"))?;
    let id = SessionId::parse(&id)?;
    let picture = match s
        .service
        .thumbnail(&actor, &id)
        .await?
        .ok_or_else(|| Error::not_found("thumbnail"))?
    {
        Preview::Picture(picture) => picture,
        Preview::Platform(url) => {
            return Ok((
                axum::http::StatusCode::FOUND,
                [
                    (axum::http::header::LOCATION, url),
                    (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
                ],
            )
                .into_response())
        }
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/jpeg".to_owned()),
            (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
            (
                axum::http::HeaderName::from_static("x-thumbnail-taken-at"),
                picture.taken_at_ms.to_string(),
            ),
        ],
        picture.jpeg,
    )
        .into_response())
}

/// `GET /api/streaming/timeline?sessionId=`: what happened to the session, oldest first.
async fn timeline(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let id = session_id_param(raw)?;
    let entries = s.service.session_timeline(&actor, &id).await?;
    Ok(Json(json!({"sessionId": id, "timeline": entries})).into_response())
}

/// `GET /api/streaming/viewers?sessionId=`: the session's viewer counts, oldest first.
async fn viewers(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let id = session_id_param(raw)?;
    let samples = s.service.session_viewer_samples(&actor, &id).await?;
    Ok(Json(json!({"sessionId": id, "samples": samples})).into_response())
}

/// `GET /api/streaming/analytics?since=&until=&groupBy=&includeDryRuns=&streamType=&entityId=`.
async fn analytics(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q: AnalyticsQuery = query(raw)?;
    Ok(Json(s.service.analytics(&actor, q).await?).into_response())
}

async fn sessions(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let req: ListSessionsRequest = query(raw)?;
    Ok(Json(s.service.list_sessions(&actor, req).await?).into_response())
}

async fn destinations(
    State(s): State<AppState>,
    Caller(actor): Caller,
    JsonBody(req): JsonBody<UpdateDestinationsRequest>,
) -> ApiResult<Response> {
    Ok(Json(s.service.update_destinations(&actor, req).await?).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkGame {
    session_id: SessionId,
    #[serde(default)]
    lobby_id: Option<String>,
    #[serde(default)]
    game_id: Option<String>,
}

async fn link_game(
    State(s): State<AppState>,
    Caller(actor): Caller,
    JsonBody(req): JsonBody<LinkGame>,
) -> ApiResult<Response> {
    let lobby = req
        .lobby_id
        .or(req.game_id)
        .ok_or_else(|| Error::invalid("lobbyId", "is required (or gameId)"))?;
    let session = s
        .service
        .link_lobby(&actor, &req.session_id, Some(&lobby))
        .await?;
    Ok(Json(json!({
        "success": true,
        "message": "Game linked to streaming session",
        "sessionId": session.session_id,
        "lobbyId": lobby,
    }))
    .into_response())
}

async fn decision(
    State(s): State<AppState>,
    Caller(actor): Caller,
    JsonBody(req): JsonBody<DecisionInput>,
) -> ApiResult<Response> {
    Ok(Json(s.service.record_decision(&actor, req).await?).into_response())
}

async fn event(
    State(s): State<AppState>,
    Caller(actor): Caller,
    JsonBody(req): JsonBody<EventInput>,
) -> ApiResult<Response> {
    Ok(Json(s.service.record_event(&actor, req).await?).into_response())
}

async fn game_state(
    State(s): State<AppState>,
    Caller(actor): Caller,
    JsonBody(state): JsonBody<GameState>,
) -> ApiResult<Response> {
    Ok(Json(s.service.update_game_state(&actor, state).await?).into_response())
}

async fn match_result(
    State(s): State<AppState>,
    Caller(actor): Caller,
    JsonBody(req): JsonBody<MatchResultRequest>,
) -> ApiResult<Response> {
    Ok(Json(s.service.record_match_result(&actor, req).await?).into_response())
}

async fn viewer_count(
    State(s): State<AppState>,
    Caller(actor): Caller,
    JsonBody(req): JsonBody<ViewerCountRequest>,
) -> ApiResult<Response> {
    let view = s
        .service
        .update_viewer_count(&actor, &req.session_id, req.viewer_count)
        .await?;
    Ok(Json(view).into_response())
}

async fn game_started(
    State(s): State<AppState>,
    Caller(actor): Caller,
    JsonBody(req): JsonBody<GameStartedRequest>,
) -> ApiResult<Response> {
    let outcome = s
        .service
        .on_game_started(&actor, &req.agent_id, &req.lobby_id)
        .await?;
    Ok(Json(outcome).into_response())
}

/// The product's cleanup route: one reconciler pass (internal callers), summarised.
/// `GET /metrics`: the Prometheus text format, gauges refreshed first; internal callers only.
async fn metrics(State(s): State<AppState>, Caller(actor): Caller) -> ApiResult<Response> {
    actor.require_internal()?;
    let Some(handle) = &s.metrics else {
        return Err(crate::error::Error::not_found(
            "metrics: this router does not export them (another recorder is installed)",
        )
        .into());
    };
    s.service.refresh_metrics().await?;
    handle.run_upkeep();
    let text_format = [(
        axum::http::header::CONTENT_TYPE,
        "text/plain; version=0.0.4; charset=utf-8",
    )];
    Ok((text_format, handle.render()).into_response())
}

async fn cleanup(State(s): State<AppState>, Caller(actor): Caller) -> ApiResult<Response> {
    Ok(Json(s.service.cleanup(&actor).await?).into_response())
}

async fn configure_agent(
    State(s): State<AppState>,
    Caller(actor): Caller,
    JsonBody(req): JsonBody<ConfigureAgentRequest>,
) -> ApiResult<Response> {
    let config = s.service.configure_agent(&actor, req).await?;
    Ok(Json(json!({ "success": true, "config": config })).into_response())
}

async fn configure_user(
    State(s): State<AppState>,
    Caller(actor): Caller,
    JsonBody(req): JsonBody<ConfigureUserRequest>,
) -> ApiResult<Response> {
    let config = s.service.configure_user(&actor, req).await?;
    Ok(Json(json!({ "success": true, "config": config })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AgentQuery {
    agent_id: Option<String>,
}

async fn agent_streaming_config(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q: AgentQuery = query(raw)?;
    let agent = q
        .agent_id
        .ok_or_else(|| Error::invalid("agentId", "is required"))?;
    Ok(Json(s.service.agent_streaming_config(&actor, &agent).await?).into_response())
}

async fn agent_decisions(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q: AgentDecisionsQuery = query(raw)?;
    Ok(Json(s.service.agent_decisions(&actor, q).await?).into_response())
}

async fn configure_platform(
    State(s): State<AppState>,
    Caller(actor): Caller,
    JsonBody(req): JsonBody<ConfigurePlatformRequest>,
) -> ApiResult<Response> {
    Ok(Json(s.service.configure_platform(&actor, req).await?).into_response())
}

async fn platform_config(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let target: CredentialTarget = query(raw)?;
    Ok(Json(s.service.get_platform_config(&actor, &target).await?).into_response())
}

async fn delete_platform(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let target: CredentialTarget = query(raw)?;
    let deleted = s.service.delete_platform_config(&actor, &target).await?;
    Ok(Json(json!({ "success": true, "deleted": deleted })).into_response())
}

/// LiveKit webhooks: authenticated by LiveKit's signature over the raw body, not by an API
/// key. The body must be JSON by its content type, as on every route (LiveKit sends
/// `application/webhook+json`).
async fn webhook(State(s): State<AppState>, headers: HeaderMap, req: Request) -> Response {
    let body = match read_json(req, MAX_WEBHOOK_BODY).await {
        Ok(body) => body,
        Err(rejection) => return rejection.into_response(),
    };
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match s.service.handle_webhook(&body, authorization).await {
        Ok(outcome) => Json(outcome).into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}
