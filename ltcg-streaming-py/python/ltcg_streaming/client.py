"""``Client``: the streaming service's methods without an actor, wherever the service runs.

``Client.connect(url, api_key)`` calls a reference server (or any app serving the same API)
over HTTP as whoever the key names; ``Client.embedded(service, actor)`` calls a
:class:`StreamingService` in this process as ``actor``. Both take the same arguments and
return the same dicts, and raise the same :class:`StreamingError` subclasses (with
``field``, ``retry_after`` and ``retryable``), so a program switches with one line::

    async with Client.connect("http://127.0.0.1:8080", api_key=os.environ["LTCG_API_KEY"]) as client:
        started = await client.start_stream(use_stored_credentials=True)
        await client.record_decision(session_id=started["sessionId"], game_id="g1", ...)

Over HTTP the methods the API does not serve (``recent_activity``, ``overlay_url``,
``reconcile``, ``notify_changed``, ``poll_viewer_counts``) raise ``InvalidInputError``
naming ``method``; a server that cannot be reached raises ``ExternalError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Optional, cast

from ._ltcg_streaming import Actor, StatusWatch, StreamingService, _Client
from .types import (
    Activity,
    ActivityKind,
    AgentDecisions,
    AgentDecisionsQueryFields,
    AgentStreamingConfig,
    AnalyticsQueryFields,
    AnalyticsReport,
    AutoStartOutcome,
    ChangeNoticeFields,
    CleanupSummary,
    ConfigureAgentFields,
    ConfigurePlatformFields,
    ConfigureUserFields,
    CredentialTargetFields,
    DecisionFields,
    EventFields,
    GameStateFields,
    GameStateUpdated,
    ListSessionsFields,
    MatchResultFields,
    MatchResultRecorded,
    PlatformConfigView,
    ReconcileReport,
    RecordedActivity,
    SessionList,
    SessionStatusView,
    StartStreamFields,
    StartStreamResponse,
    StopStreamFields,
    StopStreamResponse,
    TimelineEntry,
    UpdateDestinationsFields,
    UpdateDestinationsResponse,
    ViewerPollReport,
    ViewerSample,
)

if TYPE_CHECKING:  # annotations only: the wheel needs nothing beyond the standard library
    from typing_extensions import Self, Unpack

__all__ = ["Client"]


class Client:
    """The streaming service, embedded or over HTTP; an async context manager."""

    def __init__(self, native: _Client) -> None:
        """Use :meth:`connect` or :meth:`embedded`."""
        self._native = native

    @classmethod
    def connect(
        cls,
        base_url: str,
        api_key: str,
        *,
        timeout_seconds: float = 30.0,
        allow_plain_http: bool = False,
    ) -> Client:
        """A server's API at ``base_url``, called with ``api_key`` (an agent's ``ltcg_`` key,
        a user's JWT or the internal secret). ``http://`` is refused off this machine unless
        ``allow_plain_http``; nothing is sent until the first call."""
        return cls(
            _Client.remote(
                base_url,
                api_key,
                timeout_seconds=timeout_seconds,
                allow_plain_http=allow_plain_http,
            )
        )

    @classmethod
    def embedded(cls, service: StreamingService, actor: Actor) -> Client:
        """``service`` in this process, acting as ``actor``."""
        return cls(_Client.embedded(service, actor))

    @property
    def is_remote(self) -> bool:
        """Whether calls go over HTTP."""
        return self._native.is_remote

    async def close(self) -> None:
        """Lets go of the connection pool (or the service); later calls raise ``RuntimeError``."""
        self._native.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"Client(remote={self.is_remote})"

    async def _request(
        self, method: str, request: Optional[Mapping[str, Any]], fields: Mapping[str, Any]
    ) -> Any:
        return await self._native.call_request(method, request, **fields)

    async def _args(self, method: str, **args: Any) -> Any:
        return await self._native.call_args(method, **args)

    async def start_stream(
        self, request: Optional[Mapping[str, Any]] = None, /, **fields: Unpack[StartStreamFields]
    ) -> StartStreamResponse:
        """Starts a stream, or returns the entity's healthy active session (``reused``)."""
        return cast(StartStreamResponse, await self._request("start_stream", request, fields))

    async def stop_stream(
        self, request: Optional[Mapping[str, Any]] = None, /, **fields: Unpack[StopStreamFields]
    ) -> StopStreamResponse:
        """Stops a session (``session_id``), or the caller's active sessions."""
        return cast(StopStreamResponse, await self._request("stop_stream", request, fields))

    async def get_status(self, session_id: str) -> SessionStatusView:
        """A session's public status."""
        return cast(SessionStatusView, await self._args("get_status", sessionId=session_id))

    def watch_status(self, session_id: str, *, refresh_seconds: Optional[float] = None) -> StatusWatch:
        """Follows a session's status: ``async for status in client.watch_status(id)`` gives
        the view now and each time it changes, and ends after a terminal status. Embedded, the
        service's own writes wake it; otherwise (and over HTTP) it re-reads every
        ``refresh_seconds`` (default 2)."""
        return self._native.watch_status(session_id, refresh_seconds)

    async def list_sessions(
        self, request: Optional[Mapping[str, Any]] = None, /, **fields: Unpack[ListSessionsFields]
    ) -> SessionList:
        """Sessions, newest first, one page at a time."""
        return cast(SessionList, await self._request("list_sessions", request, fields))

    async def update_destinations(
        self,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[UpdateDestinationsFields],
    ) -> UpdateDestinationsResponse:
        """Adds and removes outputs of a streaming session."""
        result = await self._request("update_destinations", request, fields)
        return cast(UpdateDestinationsResponse, result)

    async def link_lobby(self, session_id: str, lobby_id: Optional[str]) -> SessionStatusView:
        """Shows ``lobby_id`` on the overlay (``None`` clears it: embedded only)."""
        result = await self._args("link_lobby", sessionId=session_id, lobbyId=lobby_id)
        return cast(SessionStatusView, result)

    async def record_decision(
        self, request: Optional[Mapping[str, Any]] = None, /, **fields: Unpack[DecisionFields]
    ) -> RecordedActivity:
        """Records an agent decision (shown on the overlay, counted)."""
        return cast(RecordedActivity, await self._request("record_decision", request, fields))

    async def record_event(
        self, request: Optional[Mapping[str, Any]] = None, /, **fields: Unpack[EventFields]
    ) -> RecordedActivity:
        """Records a game event (shown in the ticker, counted)."""
        return cast(RecordedActivity, await self._request("record_event", request, fields))

    async def update_viewer_count(self, session_id: str, viewers: int) -> SessionStatusView:
        """Sets the current viewer count (the peak is kept)."""
        result = await self._args("update_viewer_count", sessionId=session_id, viewers=viewers)
        return cast(SessionStatusView, result)

    async def recent_activity(
        self, session_id: str, kind: ActivityKind, limit: Optional[int] = None
    ) -> list[Activity]:
        """The newest decisions or events of a session (embedded only)."""
        result = await self._args(
            "recent_activity", sessionId=session_id, kind=kind, limit=limit
        )
        return cast(list[Activity], result)

    async def overlay_url(self, session_id: str) -> str:
        """The overlay page URL with a fresh token (embedded only)."""
        return cast(str, await self._args("overlay_url", sessionId=session_id))

    async def configure_platform(
        self,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[ConfigurePlatformFields],
    ) -> PlatformConfigView:
        """Creates or replaces stored credentials (the key is stored encrypted)."""
        result = await self._request("configure_platform", request, fields)
        return cast(PlatformConfigView, result)

    async def get_platform_config(
        self,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[CredentialTargetFields],
    ) -> PlatformConfigView:
        """The caller's stored credentials, without the key."""
        result = await self._request("get_platform_config", request, fields)
        return cast(PlatformConfigView, result)

    async def delete_platform_config(
        self,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[CredentialTargetFields],
    ) -> bool:
        """Deletes stored credentials; whether there were any."""
        return cast(bool, await self._request("delete_platform_config", request, fields))

    async def on_game_started(self, agent_id: str, lobby_id: str) -> AutoStartOutcome:
        """A game started for an agent: starts its stream if it streams automatically."""
        result = await self._args("on_game_started", agentId=agent_id, lobbyId=lobby_id)
        return cast(AutoStartOutcome, result)

    async def reconcile(self) -> ReconcileReport:
        """One reconciler pass (internal callers; embedded only)."""
        return cast(ReconcileReport, await self._args("reconcile"))

    async def update_game_state(
        self, state: Optional[Mapping[str, Any]] = None, /, **fields: Unpack[GameStateFields]
    ) -> GameStateUpdated:
        """The board of the game being played, shown on the overlay."""
        return cast(GameStateUpdated, await self._request("update_game_state", state, fields))

    async def record_match_result(
        self, request: Optional[Mapping[str, Any]] = None, /, **fields: Unpack[MatchResultFields]
    ) -> MatchResultRecorded:
        """A match's result (the overlay's match-over scene)."""
        result = await self._request("record_match_result", request, fields)
        return cast(MatchResultRecorded, result)

    async def configure_agent(
        self, request: Optional[Mapping[str, Any]] = None, /, **fields: Unpack[ConfigureAgentFields]
    ) -> AgentStreamingConfig:
        """An agent's streaming settings."""
        result = await self._request("configure_agent", request, fields)
        return cast(AgentStreamingConfig, result)

    async def configure_user(
        self, request: Optional[Mapping[str, Any]] = None, /, **fields: Unpack[ConfigureUserFields]
    ) -> PlatformConfigView:
        """A user's streaming settings."""
        result = await self._request("configure_user", request, fields)
        return cast(PlatformConfigView, result)

    async def agent_decisions(
        self,
        query: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[AgentDecisionsQueryFields],
    ) -> AgentDecisions:
        """An agent's decisions in a session."""
        return cast(AgentDecisions, await self._request("agent_decisions", query, fields))

    async def agent_streaming_config(self, agent_id: str) -> AgentStreamingConfig:
        """An agent's streaming configuration."""
        result = await self._args("agent_streaming_config", agentId=agent_id)
        return cast(AgentStreamingConfig, result)

    async def cleanup(self) -> CleanupSummary:
        """One reconciler pass, summarised (internal callers)."""
        return cast(CleanupSummary, await self._args("cleanup"))

    async def poll_viewer_counts(self) -> ViewerPollReport:
        """One viewer-count pass (internal callers; embedded only)."""
        return cast(ViewerPollReport, await self._args("poll_viewer_counts"))

    async def session_timeline(self, session_id: str) -> list[TimelineEntry]:
        """What happened to a session, oldest first."""
        result = await self._args("session_timeline", sessionId=session_id)
        return cast(list[TimelineEntry], result)

    async def session_viewer_samples(self, session_id: str) -> list[ViewerSample]:
        """A session's viewer counts, oldest first."""
        result = await self._args("session_viewer_samples", sessionId=session_id)
        return cast(list[ViewerSample], result)

    async def analytics(
        self, query: Optional[Mapping[str, Any]] = None, /, **fields: Unpack[AnalyticsQueryFields]
    ) -> AnalyticsReport:
        """Streaming time, sessions and viewers, aggregated."""
        return cast(AnalyticsReport, await self._request("analytics", query, fields))

    async def notify_changed(
        self, notice: Optional[Mapping[str, Any]] = None, /, **fields: Unpack[ChangeNoticeFields]
    ) -> bool:
        """Tells the service a session changed elsewhere (embedded only)."""
        return cast(bool, await self._request("notify_changed", notice, fields))
