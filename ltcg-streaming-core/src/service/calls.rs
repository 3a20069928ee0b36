//! Every caller-facing service method by name, with JSON in and JSON out: what the Python and
//! Node bindings call, so that argument parsing, defaults and result views live here once.
//!
//! Arguments are positional JSON values (a request object, or scalars such as a session id),
//! read through [`crate::json`]; a missing trailing argument reads as `null`. Results are
//! the service's public view types as JSON.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::{Actor, StreamingService};
use crate::error::{Error, Result};
use crate::json;
use crate::session::{ActivityKind, SessionId};

/// Activities one `recent_activity` call returns when the caller gives no limit.
pub const DEFAULT_RECENT_ACTIVITY: u32 = 20;
/// Most activities one `recent_activity` call returns.
pub const MAX_RECENT_ACTIVITY: u32 = 100;

/// The service methods a binding exposes, with their names in each language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServiceMethod {
    /// [`StreamingService::start_stream`]`(request)`
    StartStream,
    /// [`StreamingService::stop_stream`]`(request)`
    StopStream,
    /// [`StreamingService::get_status`]`(sessionId)`
    GetStatus,
    /// [`StreamingService::list_sessions`]`(request?)`
    ListSessions,
    /// [`StreamingService::update_destinations`]`(request)`
    UpdateDestinations,
    /// [`StreamingService::link_lobby`]`(sessionId, lobbyId | null)`
    LinkLobby,
    /// [`StreamingService::record_decision`]`(input)`
    RecordDecision,
    /// [`StreamingService::record_event`]`(input)`
    RecordEvent,
    /// [`StreamingService::update_viewer_count`]`(sessionId, viewers)`
    UpdateViewerCount,
    /// [`StreamingService::recent_activity`]`(sessionId, kind, limit?)`
    RecentActivity,
    /// [`StreamingService::overlay_url`]`(sessionId)`
    OverlayUrl,
    /// [`StreamingService::configure_platform`]`(request)`
    ConfigurePlatform,
    /// [`StreamingService::get_platform_config`]`(target?)`
    GetPlatformConfig,
    /// [`StreamingService::delete_platform_config`]`(target?)`
    DeletePlatformConfig,
    /// [`StreamingService::on_game_started`]`(agentId, lobbyId)`
    OnGameStarted,
    /// [`StreamingService::reconcile`]`()`
    Reconcile,
    /// [`StreamingService::update_game_state`]`(state)`
    UpdateGameState,
    /// [`StreamingService::record_match_result`]`(request)`
    RecordMatchResult,
    /// [`StreamingService::configure_agent`]`(request)`
    ConfigureAgent,
    /// [`StreamingService::configure_user`]`(request)`
    ConfigureUser,
    /// [`StreamingService::agent_streaming_config`]`(agentId)`
    AgentStreamingConfig,
    /// [`StreamingService::agent_decisions`]`(query?)`
    AgentDecisions,
    /// [`StreamingService::cleanup`]`()`
    Cleanup,
    /// [`StreamingService::notify_changed`]`(notice)`
    NotifyChanged,
    /// `StreamingService::poll_viewer_counts()` (feature `platforms`)
    PollViewerCounts,
    /// [`StreamingService::session_timeline`]`(sessionId)`
    SessionTimeline,
    /// [`StreamingService::session_viewer_samples`]`(sessionId)`
    SessionViewerSamples,
    /// [`StreamingService::analytics`]`(query)`
    Analytics,
}

impl ServiceMethod {
    /// Every method, in declaration order.
    pub const ALL: [ServiceMethod; 28] = [
        ServiceMethod::StartStream,
        ServiceMethod::StopStream,
        ServiceMethod::GetStatus,
        ServiceMethod::ListSessions,
        ServiceMethod::UpdateDestinations,
        ServiceMethod::LinkLobby,
        ServiceMethod::RecordDecision,
        ServiceMethod::RecordEvent,
        ServiceMethod::UpdateViewerCount,
        ServiceMethod::RecentActivity,
        ServiceMethod::OverlayUrl,
        ServiceMethod::ConfigurePlatform,
        ServiceMethod::GetPlatformConfig,
        ServiceMethod::DeletePlatformConfig,
        ServiceMethod::OnGameStarted,
        ServiceMethod::Reconcile,
        ServiceMethod::UpdateGameState,
        ServiceMethod::RecordMatchResult,
        ServiceMethod::ConfigureAgent,
        ServiceMethod::ConfigureUser,
        ServiceMethod::AgentStreamingConfig,
        ServiceMethod::AgentDecisions,
        ServiceMethod::Cleanup,
        ServiceMethod::NotifyChanged,
        ServiceMethod::PollViewerCounts,
        ServiceMethod::SessionTimeline,
        ServiceMethod::SessionViewerSamples,
        ServiceMethod::Analytics,
    ];

    /// The method whose Python (`start_stream`) or JavaScript (`startStream`) name is
    /// `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.snake_name() == name || m.camel_name() == name)
    }

    /// The Python name, e.g. `start_stream`.
    pub const fn snake_name(self) -> &'static str {
        self.names().0
    }

    /// The JavaScript name, e.g. `startStream`.
    pub const fn camel_name(self) -> &'static str {
        self.names().1
    }

    const fn names(self) -> (&'static str, &'static str) {
        match self {
            ServiceMethod::StartStream => ("start_stream", "startStream"),
            ServiceMethod::StopStream => ("stop_stream", "stopStream"),
            ServiceMethod::GetStatus => ("get_status", "getStatus"),
            ServiceMethod::ListSessions => ("list_sessions", "listSessions"),
            ServiceMethod::UpdateDestinations => ("update_destinations", "updateDestinations"),
            ServiceMethod::LinkLobby => ("link_lobby", "linkLobby"),
            ServiceMethod::RecordDecision => ("record_decision", "recordDecision"),
            ServiceMethod::RecordEvent => ("record_event", "recordEvent"),
            ServiceMethod::UpdateViewerCount => ("update_viewer_count", "updateViewerCount"),
            ServiceMethod::RecentActivity => ("recent_activity", "recentActivity"),
            ServiceMethod::OverlayUrl => ("overlay_url", "overlayUrl"),
            ServiceMethod::ConfigurePlatform => ("configure_platform", "configurePlatform"),
            ServiceMethod::GetPlatformConfig => ("get_platform_config", "getPlatformConfig"),
            ServiceMethod::DeletePlatformConfig => {
                ("delete_platform_config", "deletePlatformConfig")
            }
            ServiceMethod::OnGameStarted => ("on_game_started", "onGameStarted"),
            ServiceMethod::Reconcile => ("reconcile", "reconcile"),
            ServiceMethod::UpdateGameState => ("update_game_state", "updateGameState"),
            ServiceMethod::RecordMatchResult => ("record_match_result", "recordMatchResult"),
            ServiceMethod::ConfigureAgent => ("configure_agent", "configureAgent"),
            ServiceMethod::ConfigureUser => ("configure_user", "configureUser"),
            ServiceMethod::AgentStreamingConfig => {
                ("agent_streaming_config", "agentStreamingConfig")
            }
            ServiceMethod::AgentDecisions => ("agent_decisions", "agentDecisions"),
            ServiceMethod::Cleanup => ("cleanup", "cleanup"),
            ServiceMethod::NotifyChanged => ("notify_changed", "notifyChanged"),
            ServiceMethod::PollViewerCounts => ("poll_viewer_counts", "pollViewerCounts"),
            ServiceMethod::SessionTimeline => ("session_timeline", "sessionTimeline"),
            ServiceMethod::SessionViewerSamples => {
                ("session_viewer_samples", "sessionViewerSamples")
            }
            ServiceMethod::Analytics => ("analytics", "analytics"),
        }
    }
}

/// Positional JSON arguments, read one by one.
struct Args(std::vec::IntoIter<Value>);

impl Args {
    fn next(&mut self) -> Value {
        self.0.next().unwrap_or(Value::Null)
    }

    /// A request object (`null` or absent: all defaults).
    fn request<T: DeserializeOwned>(&mut self, name: &str) -> Result<T> {
        json::request(name, self.next())
    }

    /// A required scalar argument.
    fn required<T: DeserializeOwned>(&mut self, name: &str) -> Result<T> {
        match self.next() {
            Value::Null => Err(Error::invalid(name, "is required")),
            value => json::value(name, value),
        }
    }

    /// An optional scalar argument (`null` or absent: `None`).
    fn optional<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>> {
        json::value(name, self.next())
    }
}

/// A result as JSON.
fn out<T: Serialize>(result: Result<T>) -> Result<Value> {
    json::to_value(&result?)
}

impl StreamingService {
    /// Calls `method` for `actor` with JSON arguments and returns its JSON result: the one
    /// entry point of the bindings. Bad arguments are `INVALID_INPUT` naming the argument (or
    /// the field inside a request), before anything is read or written.
    pub async fn call_json(
        &self,
        actor: &Actor,
        method: ServiceMethod,
        args: Vec<Value>,
    ) -> Result<Value> {
        let mut a = Args(args.into_iter());
        match method {
            ServiceMethod::StartStream => {
                out(self.start_stream(actor, a.request("request")?).await)
            }
            ServiceMethod::StopStream => out(self.stop_stream(actor, a.request("request")?).await),
            ServiceMethod::GetStatus => {
                let id: SessionId = a.required("sessionId")?;
                out(self.get_status(actor, &id).await)
            }
            ServiceMethod::ListSessions => {
                out(self.list_sessions(actor, a.request("request")?).await)
            }
            ServiceMethod::UpdateDestinations => {
                out(self.update_destinations(actor, a.request("request")?).await)
            }
            ServiceMethod::LinkLobby => {
                let id: SessionId = a.required("sessionId")?;
                let lobby: Option<String> = a.optional("lobbyId")?;
                out(self.link_lobby(actor, &id, lobby.as_deref()).await)
            }
            ServiceMethod::RecordDecision => {
                out(self.record_decision(actor, a.request("request")?).await)
            }
            ServiceMethod::RecordEvent => {
                out(self.record_event(actor, a.request("request")?).await)
            }
            ServiceMethod::UpdateViewerCount => {
                let id: SessionId = a.required("sessionId")?;
                let viewers: u64 = a.required("viewers")?;
                out(self.update_viewer_count(actor, &id, viewers).await)
            }
            ServiceMethod::RecentActivity => {
                let id: SessionId = a.required("sessionId")?;
                let kind: ActivityKind = a.required("kind")?;
                let limit = a
                    .optional::<u32>("limit")?
                    .unwrap_or(DEFAULT_RECENT_ACTIVITY);
                if limit > MAX_RECENT_ACTIVITY {
                    return Err(Error::invalid(
                        "limit",
                        format!("must be at most {MAX_RECENT_ACTIVITY}"),
                    ));
                }
                out(self.recent_activity(actor, &id, kind, limit as usize).await)
            }
            ServiceMethod::OverlayUrl => {
                let id: SessionId = a.required("sessionId")?;
                out(self.overlay_url(actor, &id).await)
            }
            ServiceMethod::ConfigurePlatform => {
                out(self.configure_platform(actor, a.request("request")?).await)
            }
            ServiceMethod::GetPlatformConfig => {
                let target = a.request("request")?;
                out(self.get_platform_config(actor, &target).await)
            }
            ServiceMethod::DeletePlatformConfig => {
                let target = a.request("request")?;
                out(self.delete_platform_config(actor, &target).await)
            }
            ServiceMethod::OnGameStarted => {
                let agent: String = a.required("agentId")?;
                let lobby: String = a.required("lobbyId")?;
                out(self.on_game_started(actor, &agent, &lobby).await)
            }
            ServiceMethod::Reconcile => out(self.reconcile(actor).await),
            ServiceMethod::UpdateGameState => {
                out(self.update_game_state(actor, a.request("state")?).await)
            }
            ServiceMethod::RecordMatchResult => {
                out(self.record_match_result(actor, a.request("request")?).await)
            }
            ServiceMethod::ConfigureAgent => {
                out(self.configure_agent(actor, a.request("request")?).await)
            }
            ServiceMethod::ConfigureUser => {
                out(self.configure_user(actor, a.request("request")?).await)
            }
            ServiceMethod::AgentStreamingConfig => {
                let agent: String = a.required("agentId")?;
                out(self.agent_streaming_config(actor, &agent).await)
            }
            ServiceMethod::AgentDecisions => {
                out(self.agent_decisions(actor, a.request("query")?).await)
            }
            ServiceMethod::Cleanup => out(self.cleanup(actor).await),
            ServiceMethod::NotifyChanged => out(self
                .notify_changed(actor, a.request("notice")?)
                .map(|()| true)),
            ServiceMethod::Analytics => out(self.analytics(actor, a.request("query")?).await),
            ServiceMethod::SessionTimeline => {
                let id: SessionId = a.required("sessionId")?;
                out(self.session_timeline(actor, &id).await)
            }
            ServiceMethod::SessionViewerSamples => {
                let id: SessionId = a.required("sessionId")?;
                out(self.session_viewer_samples(actor, &id).await)
            }
            #[cfg(feature = "platforms")]
            ServiceMethod::PollViewerCounts => out(self.poll_viewer_counts(actor).await),
            #[cfg(not(feature = "platforms"))]
            ServiceMethod::PollViewerCounts => Err(Error::Config {
                var: "features".into(),
                problem: "viewer counts need the `platforms` feature".into(),
            }),
        }
    }
}
