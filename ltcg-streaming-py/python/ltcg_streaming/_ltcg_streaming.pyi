"""Type stubs of the native module (ltcg-streaming-py/src)."""

from asyncio import Future
from collections.abc import Callable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, Literal, Optional, Union, final

from typing_extensions import Self, Unpack

from .protocols import SessionStore
from .types import (
    Activity,
    ActivityKind,
    AgentDecisions,
    AgentDecisionsQueryFields,
    AgentStreamingConfig,
    ChangeNoticeFields,
    CleanupSummary,
    ViewerPollReport,
    TimelineEntry,
    ViewerSample,
    AnalyticsQuery,
    AnalyticsQueryFields,
    AnalyticsReport,
    ConfigureAgentFields,
    ConfigureUserFields,
    GameStateFields,
    GameStateUpdated,
    MatchResultFields,
    MatchResultRecorded,
    AutoStartOutcome,
    ConfigurePlatformFields,
    CostEstimate,
    CredentialTargetFields,
    DecisionFields,
    EgressEvent,
    EgressStatus,
    EgressSummary,
    EventFields,
    ListSessionsFields,
    OverlayClaims,
    OverlayConfig,
    OverlaySnapshot,
    PlatformConfigView,
    ReconcileReport,
    RecordedActivity,
    ServiceOptions,
    SessionList,
    SessionStatusView,
    StartStreamFields,
    StartStreamResponse,
    StopStreamFields,
    StopStreamResponse,
    StreamType,
    UpdateDestinationsFields,
    UpdateDestinationsResponse,
    WebhookOutcome,
)

__all__ = [
    "__version__",
    "ERROR_CODES",
    "Actor",
    "StreamingConfig",
    "StreamKeyVault",
    "OverlayTokens",
    "WebhookVerifier",
    "MemoryStore",
    "SqliteStore",
    "PostgresStore",
    "LiveKitEgress",
    "BrowserEgress",
    "MemoryEgress",
    "StreamingService",
    "StatusWatch",
    "_Client",
    "build_rtmp_url",
    "redact_url",
    "default_overlay_config",
    "estimate_cost",
    "run_session_store_conformance",
    "session_store_conformance_checks",
]

__version__: str

# The stable error codes, in the core's order (the classes are in ``ltcg_streaming.exceptions``).
ERROR_CODES: list[str]

# --- Pure helpers ------------------------------------------------------------------------------

def build_rtmp_url(platform: str, stream_key: str, custom_rtmp_url: Optional[str] = None) -> str:
    """The ingest URL with the stream key appended (a secret: do not log it)."""

def redact_url(url: str) -> str:
    """``url`` with its stream key redacted the LiveKit way (``{abc...xyz}``)."""

def default_overlay_config(stream_type: StreamType) -> OverlayConfig:
    """The product's overlay defaults for ``"user"`` or ``"agent"`` streams."""

def estimate_cost(hours: float, streams: int = 1, bitrate_mbps: float = 3.0) -> CostEstimate:
    """LiveKit Cloud web-egress cost in US dollars ($0.015/min, $0.10/GB)."""

@final
class StreamKeyVault:
    """AES-256-GCM stream-key encryption in the product's ``<iv>:<tag>:<ciphertext>`` format."""

    def __new__(cls, key_hex: str, previous_keys: Optional[list[str]] = None) -> Self: ...
    def encrypt(self, plaintext: str) -> str:
        """Encrypts under the current key (fresh 16-byte IV)."""
    def decrypt(self, ciphertext: str) -> str:
        """Decrypts with the current or a previous key."""
    def reencrypt(self, ciphertext: str) -> str:
        """Moves a value to the current key."""

@final
class OverlayTokens:
    """Issues and verifies overlay access tokens (HS256 JWTs; ``now`` in Unix seconds)."""

    def __new__(cls, secret: str, ttl_seconds: int = 86400) -> Self: ...
    @property
    def ttl_seconds(self) -> int: ...
    def issue(
        self, session_id: str, stream_type: StreamType, entity_id: str, now: Optional[int] = None
    ) -> str: ...
    def verify(
        self, token: str, session_id: Optional[str] = None, now: Optional[int] = None
    ) -> OverlayClaims: ...

@final
class WebhookVerifier:
    """Verifies LiveKit webhooks (``now`` in Unix seconds)."""

    def __new__(cls, api_key: str, api_secret: str, leeway_seconds: int = 10) -> Self: ...
    def verify(
        self, body: Union[bytes, str], authorization: str, now: Optional[int] = None
    ) -> EgressEvent: ...

# --- Configuration, actors, stores, egress -------------------------------------------------------

@final
class StreamingConfig:
    """The library's configuration; arguments stand for the environment variables."""

    def __new__(
        cls,
        encryption_key: str,
        jwt_secret: str,
        *,
        previous_encryption_keys: Optional[list[str]] = None,
        app_url: Optional[str] = None,
        livekit_url: Optional[str] = None,
        livekit_api_key: Optional[str] = None,
        livekit_api_secret: Optional[str] = None,
        overlay_token_ttl_seconds: Optional[int] = None,
        start_timeout_seconds: Optional[int] = None,
        max_duration_seconds: Optional[int] = None,
        webhook_leeway_seconds: Optional[int] = None,
        destination_allowlist: Optional[list[str]] = None,
        development: bool = False,
    ) -> Self:
        """``app_url`` is required unless ``development`` is true (then it defaults to
        ``http://localhost:3334``, and every caller may stream to internal addresses);
        ``jwt_secret`` needs at least 32 bytes. ``destination_allowlist``: internal hosts,
        ``*.suffixes``, IPs or CIDR networks that users and agents may stream to
        (``STREAMING_DESTINATION_ALLOWLIST``)."""
    @staticmethod
    def from_env(environ: Optional[Mapping[str, str]] = None, *, development: bool = False) -> StreamingConfig:
        """Reads ``STREAM_KEY_ENCRYPTION_KEY``, ``STREAMING_JWT_SECRET``, ``LIVEKIT_*``,
        ``NEXT_PUBLIC_APP_URL``, ... from ``environ`` (default: the process environment).
        ``NEXT_PUBLIC_APP_URL`` is required unless ``development`` is true."""
    @property
    def app_url(self) -> str: ...
    @property
    def livekit_url(self) -> Optional[str]: ...
    @property
    def livekit_api_key(self) -> Optional[str]: ...
    @property
    def overlay_token_ttl_seconds(self) -> int: ...
    @property
    def start_timeout_seconds(self) -> int: ...
    @property
    def max_duration_seconds(self) -> int: ...
    @property
    def webhook_leeway_seconds(self) -> int: ...

@final
class Actor:
    """Who calls a service method."""

    @staticmethod
    def internal() -> Actor: ...
    @staticmethod
    def user(id: str) -> Actor: ...
    @staticmethod
    def agent(id: str) -> Actor: ...
    @property
    def kind(self) -> Literal["internal", "user", "agent"]: ...
    @property
    def id(self) -> Optional[str]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class MemoryStore:
    """Sessions in process memory."""

    def __new__(cls) -> Self: ...

@final
class SqliteStore:
    """Sessions in a SQLite file."""

    @staticmethod
    def open(path: Union[str, PathLike[str]]) -> Future[SqliteStore]: ...
    def close(self) -> Future[None]: ...
    def __aenter__(self) -> Future[Self]: ...
    def __aexit__(self, *_exc: object) -> Future[None]: ...
    @property
    def path(self) -> Path: ...

@final
class PostgresStore:
    """Sessions in PostgreSQL."""

    @staticmethod
    def connect(url: str, schema: Optional[str] = None) -> Future[PostgresStore]: ...
    def close(self) -> Future[None]: ...
    def __aenter__(self) -> Future[Self]: ...
    def __aexit__(self, *_exc: object) -> Future[None]: ...
    @property
    def schema(self) -> Optional[str]: ...

@final
class LiveKitEgress:
    """LiveKit web egress."""

    def __new__(
        cls, url: str, api_key: str, api_secret: str, *, request_timeout: float = 10.0
    ) -> Self: ...
    @staticmethod
    def from_config(config: StreamingConfig) -> LiveKitEgress: ...
    @property
    def api_url(self) -> str: ...

@final
class MemoryEgress:
    """An in-process egress that renders nothing (development and tests)."""

    def __new__(cls) -> Self: ...
    def set_status(self, egress_id: str, status: EgressStatus) -> None: ...
    def status(self, egress_id: str) -> Optional[EgressStatus]: ...
    def outputs(self, egress_id: str) -> list[str]: ...
    @property
    def started(self) -> int: ...
    def list_active(self) -> Future[list[EgressSummary]]: ...

@final
class BrowserEgress:
    """The overlay page rendered on this machine (Chromium on Xvfb with a PulseAudio sink,
    ffmpeg) and pushed to every output by this process. Options as the core's
    ``BrowserEgressOptions`` (Node: the same object in camelCase)."""

    def __new__(
        cls,
        *,
        chromium: Optional[str] = None,
        xvfb: Optional[str] = None,
        ffmpeg: Optional[str] = None,
        pactl: Optional[str] = None,
        pulseaudio: Optional[str] = None,
        work_dir: Optional[str] = None,
        max_concurrent: Optional[int] = None,
        await_start_signal: Optional[bool] = None,
        page_load_timeout_ms: Optional[int] = None,
        page_load_attempts: Optional[int] = None,
        thumbnail_interval_ms: Optional[int] = None,
        reconnect_window_ms: Optional[int] = None,
    ) -> Self: ...
    def missing_programs(self) -> list[str]: ...
    def status(self, egress_id: str) -> Optional[EgressStatus]: ...
    def list_active(self) -> Future[list[EgressSummary]]: ...
    def reap_leftovers(self) -> Future[dict[str, int]]: ...

# --- The service ----------------------------------------------------------------------------------

_Store = Union[MemoryStore, SqliteStore, PostgresStore, SessionStore]
_Egress = Union[LiveKitEgress, BrowserEgress, MemoryEgress]

@final
class StreamingService:
    """The streaming lifecycle. Every method returns an awaitable (an ``asyncio.Future``);
    requests are a dict with camelCase keys and/or snake_case keyword arguments (typed by the
    ``...Fields`` dicts of :mod:`ltcg_streaming.types`)."""

    def __new__(
        cls,
        config: StreamingConfig,
        store: _Store,
        egress: _Egress,
        *,
        vault: Optional[StreamKeyVault] = None,
        webhook_verifier: Optional[WebhookVerifier] = None,
        **options: Unpack[ServiceOptions],
    ) -> Self: ...
    def close(self) -> Future[None]:
        """Stops the service's background work (following a local egress's events); the store
        and the egress are the caller's to close. ``async with StreamingService(...)`` closes it."""
    def __aenter__(self) -> Future[Self]: ...
    def __aexit__(self, *_exc: object) -> Future[None]: ...
    def start_stream(
        self,
        actor: Actor,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[StartStreamFields],
    ) -> Future[StartStreamResponse]: ...
    def stop_stream(
        self,
        actor: Actor,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[StopStreamFields],
    ) -> Future[StopStreamResponse]: ...
    def get_status(self, actor: Actor, session_id: str) -> Future[SessionStatusView]: ...
    def watch_status(
        self, actor: Actor, session_id: str, refresh_seconds: Optional[float] = None
    ) -> StatusWatch:
        """Follows a session's status: its view now, then each time it changes (woken by this
        service's writes, re-read every ``refresh_seconds``, default 2, for other replicas')."""
    def list_sessions(
        self,
        actor: Actor,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[ListSessionsFields],
    ) -> Future[SessionList]: ...
    def handle_webhook(
        self, body: Union[bytes, str], authorization: str
    ) -> Future[WebhookOutcome]: ...
    def update_destinations(
        self,
        actor: Actor,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[UpdateDestinationsFields],
    ) -> Future[UpdateDestinationsResponse]: ...
    def link_lobby(
        self, actor: Actor, session_id: str, lobby_id: Optional[str]
    ) -> Future[SessionStatusView]: ...
    def record_decision(
        self,
        actor: Actor,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[DecisionFields],
    ) -> Future[RecordedActivity]: ...
    def record_event(
        self,
        actor: Actor,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[EventFields],
    ) -> Future[RecordedActivity]: ...
    def update_viewer_count(
        self, actor: Actor, session_id: str, viewers: int
    ) -> Future[SessionStatusView]: ...
    def recent_activity(
        self, actor: Actor, session_id: str, kind: ActivityKind, limit: Optional[int] = None
    ) -> Future[list[Activity]]: ...
    def overlay_url(self, actor: Actor, session_id: str) -> Future[str]: ...
    def overlay_snapshot(self, session_id: str, token: str) -> Future[OverlaySnapshot]: ...
    def configure_platform(
        self,
        actor: Actor,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[ConfigurePlatformFields],
    ) -> Future[PlatformConfigView]: ...
    def get_platform_config(
        self,
        actor: Actor,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[CredentialTargetFields],
    ) -> Future[PlatformConfigView]: ...
    def delete_platform_config(
        self,
        actor: Actor,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[CredentialTargetFields],
    ) -> Future[bool]: ...
    def on_game_started(
        self, actor: Actor, agent_id: str, lobby_id: str
    ) -> Future[AutoStartOutcome]: ...
    def reconcile(self, actor: Actor) -> Future[ReconcileReport]: ...
    def update_game_state(
        self,
        actor: Actor,
        state: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[GameStateFields],
    ) -> Future[GameStateUpdated]: ...
    def record_match_result(
        self,
        actor: Actor,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[MatchResultFields],
    ) -> Future[MatchResultRecorded]: ...
    def configure_agent(
        self,
        actor: Actor,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[ConfigureAgentFields],
    ) -> Future[AgentStreamingConfig]: ...
    def configure_user(
        self,
        actor: Actor,
        request: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[ConfigureUserFields],
    ) -> Future[PlatformConfigView]: ...
    def agent_decisions(
        self,
        actor: Actor,
        query: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[AgentDecisionsQueryFields],
    ) -> Future[AgentDecisions]: ...
    def agent_streaming_config(self, actor: Actor, agent_id: str) -> Future[AgentStreamingConfig]: ...
    def cleanup(self, actor: Actor) -> Future[CleanupSummary]: ...
    def poll_viewer_counts(self, actor: Actor) -> Future[ViewerPollReport]: ...
    def session_timeline(self, actor: Actor, session_id: str) -> Future[list[TimelineEntry]]: ...
    def session_viewer_samples(self, actor: Actor, session_id: str) -> Future[list[ViewerSample]]: ...
    def analytics(
        self, actor: Actor, query: Optional[AnalyticsQuery] = None, /, **fields: Unpack[AnalyticsQueryFields]
    ) -> Future[AnalyticsReport]: ...
    def notify_changed(
        self,
        actor: Actor,
        notice: Optional[Mapping[str, Any]] = None,
        /,
        **fields: Unpack[ChangeNoticeFields],
    ) -> Future[bool]: ...

@final
class StatusWatch:
    """A session's status now and after each change: ``async for status in watch``; the
    iteration ends after a terminal status. A refused first read (unknown session, not
    allowed) raises and ends it; a later failed read raises and the watch goes on."""

    def __aiter__(self) -> StatusWatch: ...
    def __anext__(self) -> Future[SessionStatusView]: ...

@final
class _Client:
    """The core's client (see :class:`ltcg_streaming.Client`, which wraps it)."""

    @staticmethod
    def remote(
        base_url: str, api_key: str, *, timeout_seconds: float = 30.0, allow_plain_http: bool = False
    ) -> _Client: ...
    @staticmethod
    def embedded(service: StreamingService, actor: Actor) -> _Client: ...
    @property
    def is_remote(self) -> bool: ...
    def call_request(
        self, method: str, request: Optional[Mapping[str, Any]] = None, /, **fields: Any
    ) -> Future[Any]: ...
    def call_args(self, method: str, /, **args: Any) -> Future[Any]: ...
    def watch_status(self, session_id: str, refresh_seconds: Optional[float] = None) -> StatusWatch: ...
    def close(self) -> None: ...

# --- The store conformance suite (public as ``ltcg_streaming.testing``) ---------------------------

def session_store_conformance_checks() -> list[str]:
    """The names of the store conformance checks, in the order
    ``run_session_store_conformance`` runs them."""

def run_session_store_conformance(
    factory: Callable[[], _Store],
) -> Future[list[tuple[str, str]]]:
    """Checks the stores ``factory`` makes (one fresh, empty store per check, all made before
    the run) against the core's conformance suite; resolves to the ``(check, failure)`` pairs
    of the failed checks, ``[]`` when the store conforms."""
