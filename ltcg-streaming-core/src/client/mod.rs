//! One way to call the streaming service wherever it runs: [`Client::embedded`] acts as one
//! [`Actor`] on a [`StreamingService`] in this process, [`Client::remote`] calls a reference
//! server (or any app serving the same API) over HTTP as whoever its key names. Both take
//! the same methods with the same JSON and answer with the same JSON and the same
//! [`Error`]s, so an application switches between them with one line.
//!
//! ```no_run
//! # async fn run() -> ltcg_streaming_core::Result<()> {
//! use ltcg_streaming_core::client::{Client, RemoteOptions};
//! use ltcg_streaming_core::service::StartStreamRequest;
//! use ltcg_streaming_core::vault::SecretString;
//!
//! let client = Client::remote(RemoteOptions::new(
//!     "http://127.0.0.1:8080",
//!     SecretString::from("ltcg_0123456789abcdefghijklmnopqrstuv"),
//! ))?;
//! let started = client
//!     .start_stream(StartStreamRequest {
//!         use_stored_credentials: true,
//!         ..StartStreamRequest::default()
//!     })
//!     .await?;
//! println!("{} is {}", started.session_id, started.status);
//! # Ok(()) }
//! ```

mod remote;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub use self::remote::{RemoteOptions, RemoteService, DEFAULT_TIMEOUT};
use crate::error::{Error, Result};
use crate::json;
use crate::service::{
    Actor, DecisionInput, EventInput, GameStateUpdated, MatchResultRecorded, MatchResultRequest,
    RecordedActivity, ServiceMethod, SessionStatusView, StartStreamRequest, StartStreamResponse,
    StatusWatch, StopStreamRequest, StopStreamResponse, StreamingService,
};
use crate::session::{GameState, SessionId};

/// The streaming service, embedded or remote (see the module docs).
#[derive(Debug, Clone)]
pub struct Client {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Embedded {
        service: StreamingService,
        actor: Actor,
    },
    Remote(RemoteService),
}

impl Client {
    /// Calls `service` in this process as `actor`.
    pub fn embedded(service: StreamingService, actor: Actor) -> Self {
        Self {
            backend: Backend::Embedded { service, actor },
        }
    }

    /// Calls a server over HTTP; refuses a bad URL or key (`INVALID_INPUT` naming
    /// `baseUrl` or `apiKey`) before anything is sent.
    pub fn remote(options: RemoteOptions) -> Result<Self> {
        Ok(Self {
            backend: Backend::Remote(RemoteService::new(options)?),
        })
    }

    /// Whether calls go over HTTP.
    pub fn is_remote(&self) -> bool {
        matches!(self.backend, Backend::Remote(_))
    }

    /// Runs `method` with positional JSON arguments (as [`StreamingService::call_json`], the
    /// actor aside) and returns its JSON result. Over HTTP, the methods the API does not
    /// serve (`recent_activity`, `overlay_url`, `reconcile`, `notify_changed`,
    /// `poll_viewer_counts`) are refused with `INVALID_INPUT` naming `method`.
    pub async fn call_json(&self, method: ServiceMethod, args: Vec<Value>) -> Result<Value> {
        match &self.backend {
            Backend::Embedded { service, actor } => service.call_json(actor, method, args).await,
            Backend::Remote(remote) => remote.call_json(method, args).await,
        }
    }

    async fn typed<T: DeserializeOwned>(
        &self,
        method: ServiceMethod,
        args: Vec<Value>,
    ) -> Result<T> {
        let value = self.call_json(method, args).await?;
        json::value(method.camel_name(), value)
    }

    /// Follows a session's status: the view now, then each time it changes, ending after a
    /// terminal status. Embedded, it wakes on the service's change notices; over HTTP it
    /// re-reads every [`crate::service::WATCH_REFRESH`].
    pub fn watch_status(&self, session_id: &SessionId) -> StatusWatch {
        self.watch_status_every(session_id, crate::service::WATCH_REFRESH)
    }

    /// [`Self::watch_status`] re-reading every `refresh` without a notice.
    pub fn watch_status_every(&self, session_id: &SessionId, refresh: Duration) -> StatusWatch {
        match &self.backend {
            Backend::Embedded { service, actor } => {
                service.watch_status_every(actor, session_id, refresh)
            }
            Backend::Remote(remote) => {
                let read = {
                    let (remote, id) = (remote.clone(), session_id.clone());
                    move || -> Pin<Box<dyn Future<Output = Result<SessionStatusView>> + Send>> {
                        let (remote, id) = (remote.clone(), id.clone());
                        Box::pin(async move {
                            let value = remote
                                .call_json(ServiceMethod::GetStatus, vec![Value::from(id.as_str())])
                                .await?;
                            json::value("getStatus", value)
                        })
                    }
                };
                let first = read();
                StatusWatch::new(first, Box::new(read), None, refresh)
            }
        }
    }

    /// Starts a stream, or returns the entity's healthy active session (`reused`).
    pub async fn start_stream(&self, request: StartStreamRequest) -> Result<StartStreamResponse> {
        self.typed(ServiceMethod::StartStream, vec![arg(&request)?])
            .await
    }

    /// Stops a session, or the caller's active sessions.
    pub async fn stop_stream(&self, request: StopStreamRequest) -> Result<StopStreamResponse> {
        self.typed(ServiceMethod::StopStream, vec![arg(&request)?])
            .await
    }

    /// A session's public status.
    pub async fn get_status(&self, session_id: &SessionId) -> Result<SessionStatusView> {
        self.typed(ServiceMethod::GetStatus, vec![arg(session_id)?])
            .await
    }

    /// Shows `lobby_id` on the session's overlay; returns the status.
    pub async fn link_lobby(
        &self,
        session_id: &SessionId,
        lobby_id: &str,
    ) -> Result<SessionStatusView> {
        self.typed(
            ServiceMethod::LinkLobby,
            vec![arg(session_id)?, Value::from(lobby_id)],
        )
        .await
    }

    /// Records an agent decision.
    pub async fn record_decision(&self, input: DecisionInput) -> Result<RecordedActivity> {
        self.typed(ServiceMethod::RecordDecision, vec![arg(&input)?])
            .await
    }

    /// Records a game event.
    pub async fn record_event(&self, input: EventInput) -> Result<RecordedActivity> {
        self.typed(ServiceMethod::RecordEvent, vec![arg(&input)?])
            .await
    }

    /// Shows the board of the game being played.
    pub async fn update_game_state(&self, state: GameState) -> Result<GameStateUpdated> {
        self.typed(ServiceMethod::UpdateGameState, vec![arg(&state)?])
            .await
    }

    /// Records a match's result (the overlay's match-over scene).
    pub async fn record_match_result(
        &self,
        request: MatchResultRequest,
    ) -> Result<MatchResultRecorded> {
        self.typed(ServiceMethod::RecordMatchResult, vec![arg(&request)?])
            .await
    }
}

fn arg<T: Serialize>(value: &T) -> Result<Value> {
    json::to_value(value).map_err(|e| match e {
        Error::External { message, .. } => Error::invalid("request", message),
        other => other,
    })
}
