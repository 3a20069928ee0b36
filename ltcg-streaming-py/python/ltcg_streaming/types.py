"""The shapes of the dicts that ltcg_streaming accepts and returns (camelCase JSON keys).

These are :class:`typing.TypedDict` definitions for type checkers and documentation; at run
time the values are plain ``dict`` objects. Keys marked optional are left out when unset.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict, Union

Platform = Literal["twitch", "youtube", "kick", "facebook", "custom", "retake", "x", "pumpfun"]
StreamType = Literal["user", "agent"]
SessionStatus = Literal["initializing", "pending", "live", "ended", "error"]
EgressStatus = Literal[
    "EGRESS_STARTING",
    "EGRESS_ACTIVE",
    "EGRESS_ENDING",
    "EGRESS_COMPLETE",
    "EGRESS_FAILED",
    "EGRESS_ABORTED",
    "EGRESS_LIMIT_REACHED",
]
ActivityKind = Literal["decision", "event"]
DestinationStatus = Literal["active", "failed", "removed"]
Theme = Literal["dark", "light"]
WebcamPosition = Literal["top-left", "top-right", "bottom-left", "bottom-right"]
WebcamSize = Literal["small", "medium", "large"]
PlayerVisualMode = Literal["webcam", "profile-picture"]


# --- Overlay settings ------------------------------------------------------------------------


class OverlayConfigPatch(TypedDict, total=False):
    """Overlay settings in a request; set keys replace the defaults of the stream type."""

    showDecisions: bool
    showAgentInfo: bool
    showEventFeed: bool
    showPlayerCam: bool
    webcamPosition: WebcamPosition
    webcamSize: WebcamSize
    playerVisualMode: PlayerVisualMode
    profilePictureUrl: str
    matchOverHoldMs: int
    showSceneLabel: bool
    sceneTransitions: bool
    voiceTrackUrl: str
    voiceVolume: float
    voiceLoop: bool
    theme: Theme


class _OverlayConfig(TypedDict):
    showDecisions: bool
    showAgentInfo: bool
    showEventFeed: bool
    showPlayerCam: bool
    theme: Theme


class OverlayConfig(_OverlayConfig, total=False):
    """Overlay settings of a session (optional settings are absent when unset)."""

    webcamPosition: WebcamPosition
    webcamSize: WebcamSize
    playerVisualMode: PlayerVisualMode
    profilePictureUrl: str
    matchOverHoldMs: int
    showSceneLabel: bool
    sceneTransitions: bool
    voiceTrackUrl: str
    voiceVolume: float
    voiceLoop: bool


# --- Requests (dict form; keyword arguments use the snake_case names) ------------------------


class _DestinationInput(TypedDict):
    platform: Platform
    streamKey: str


class DestinationInput(_DestinationInput, total=False):
    """An extra output (simulcast)."""

    customRtmpUrl: str


class StartStreamRequest(TypedDict, total=False):
    """``start_stream``: the key comes from ``streamKey``, from stored credentials
    (``useStoredCredentials``) or, for internal callers, from ``streamKeyHash``."""

    streamType: StreamType
    userId: str
    agentId: str
    entityName: str
    platform: Platform
    streamKey: str
    streamKeyHash: str
    customRtmpUrl: str
    useStoredCredentials: bool
    destinations: List[DestinationInput]
    streamTitle: str
    overlayConfig: OverlayConfigPatch
    lobbyId: str
    forceRestart: bool


class StopStreamRequest(TypedDict, total=False):
    """``stop_stream``."""

    sessionId: str
    agentId: str
    reason: str


class ListSessionsRequest(TypedDict, total=False):
    """``list_sessions``."""

    active: bool
    status: SessionStatus
    streamType: StreamType
    entityId: str
    cursor: str
    limit: int


class _UpdateDestinationsRequest(TypedDict):
    sessionId: str


class UpdateDestinationsRequest(_UpdateDestinationsRequest, total=False):
    """``update_destinations``: outputs to add, destination ids to remove."""

    add: List[DestinationInput]
    remove: List[str]


class _DecisionInput(TypedDict):
    gameId: str
    turnNumber: int
    phase: str
    action: str
    reasoning: str


class DecisionInput(_DecisionInput, total=False):
    """``record_decision``."""

    sessionId: str
    agentId: str
    parameters: Any
    executionTimeMs: int
    result: str


class _EventInput(TypedDict):
    gameId: str
    turnNumber: int
    eventType: str
    description: str


class EventInput(_EventInput, total=False):
    """``record_event``."""

    sessionId: str
    agentId: str
    lobbyId: str
    playerUsername: str
    metadata: Any


class CredentialTarget(TypedDict, total=False):
    """Whose credentials (internal callers name the entity)."""

    userId: str
    agentId: str


class _ConfigurePlatformRequest(TypedDict):
    platform: Platform


class ConfigurePlatformRequest(_ConfigurePlatformRequest, CredentialTarget, total=False):
    """``configure_platform``."""

    streamKey: str
    customRtmpUrl: str
    autoStart: bool


class RateLimits(TypedDict, total=False):
    """``StreamingService(rate_limits=...)``; 0 per minute disables a limit."""

    calls_per_minute: int
    call_burst: int
    starts_per_minute: int
    start_burst: int


class EncodingSettings(TypedDict):
    """Explicit egress encoding (``encoding=`` of :class:`ServiceOptions`)."""

    width: int
    height: int
    framerate: int
    video_bitrate_kbps: int
    audio_bitrate_kbps: int
    key_frame_interval_secs: float


class ServiceOptions(TypedDict, total=False):
    """Keyword options of ``StreamingService(...)``: the same options as the Node binding's
    ``options`` object, in snake_case."""

    rate_limits: Union[bool, RateLimits]
    #: Longest wait for the egress start call, in milliseconds (default 30000).
    egress_start_timeout_ms: int
    #: A preset name such as ``"H264_720P_30"`` or explicit settings (default 1080p30).
    encoding: Union[str, EncodingSettings]


# --- Results ---------------------------------------------------------------------------------


class StartStreamResponse(TypedDict):
    """``start_stream``."""

    success: bool
    sessionId: str
    status: SessionStatus
    overlayUrl: str
    message: str
    reused: bool


class SessionStats(TypedDict):
    """What a session did (``duration`` in ms on air)."""

    duration: int
    decisionsLogged: int
    eventsRecorded: int
    peakViewerCount: int


class _StopStreamResponse(TypedDict):
    success: bool
    sessionId: Optional[str]
    stoppedSessionIds: List[str]
    alreadyEndedSessionIds: List[str]
    alreadyEnded: bool
    statsBySession: Dict[str, SessionStats]
    message: str


class StopStreamResponse(_StopStreamResponse, total=False):
    """``stop_stream`` (``stats`` when exactly one session was targeted)."""

    stats: SessionStats


class _DestinationView(TypedDict):
    id: str
    platform: Platform
    url: str
    status: DestinationStatus
    primary: bool
    addedAt: int


class DestinationView(_DestinationView, total=False):
    """A destination as shown to callers (URL redacted)."""

    removedAt: int
    errorMessage: str


class SessionView(TypedDict):
    """``get_status`` / ``list_sessions``: a session's public status."""

    sessionId: str
    status: SessionStatus
    streamType: StreamType
    entityId: str
    entityName: Optional[str]
    platform: Platform
    streamTitle: str
    currentLobbyId: Optional[str]
    viewerCount: int
    peakViewerCount: int
    duration: int
    decisionsLogged: int
    eventsRecorded: int
    createdAt: int
    startedAt: Optional[int]
    endedAt: Optional[int]
    endReason: Optional[str]
    errorMessage: Optional[str]
    destinations: List[DestinationView]
    overlayConfig: OverlayConfig
    stats: Optional[SessionStats]


class SessionList(TypedDict):
    """``list_sessions``: one page."""

    count: int
    sessions: List[SessionView]
    nextCursor: Optional[str]


class WebhookOutcome(TypedDict):
    """``handle_webhook``."""

    received: bool
    event: str
    egressId: Optional[str]
    sessionId: Optional[str]
    applied: bool
    duplicate: bool
    note: Optional[str]


class UpdateDestinationsResponse(TypedDict):
    """``update_destinations``."""

    success: bool
    added: List[DestinationView]
    removed: List[str]
    destinations: List[DestinationView]


class RecordedActivity(TypedDict):
    """``record_decision`` / ``record_event``."""

    success: bool
    sessionId: str
    decisionsLogged: int
    eventsRecorded: int


class PlatformConfigView(TypedDict):
    """Stored credentials as shown to callers (never the key)."""

    streamType: StreamType
    entityId: str
    platform: Platform
    hasStreamKey: bool
    customRtmpUrl: Optional[str]
    autoStart: bool
    updatedAt: int


class AutoStartOutcome(TypedDict):
    """``on_game_started``."""

    started: bool
    reason: str
    sessionId: Optional[str]


class ReconcileReport(TypedDict):
    """``reconcile``."""

    stoppedEgresses: List[str]
    adopted: List[str]
    caughtUp: List[str]
    timedOut: List[str]
    maxDurationEnded: List[str]
    vanished: List[str]
    errors: List[str]


class OverlaySnapshot(TypedDict):
    """``overlay_snapshot``: what the overlay page shows (newest decisions and events first)."""

    sessionId: str
    status: SessionStatus
    streamType: StreamType
    entityName: str
    platform: Platform
    streamTitle: str
    currentLobbyId: Optional[str]
    viewerCount: int
    overlayConfig: OverlayConfig
    decisions: List[Any]
    events: List[Any]
    version: int


class _OverlayClaims(TypedDict):
    sessionId: str
    streamType: StreamType
    entityId: str
    type: str
    exp: int
    iat: int


class OverlayClaims(_OverlayClaims, total=False):
    """``OverlayTokens.verify``."""

    nbf: int


class _StreamResult(TypedDict):
    url: str
    status: str
    startedAtNs: int
    endedAtNs: int


class StreamResult(_StreamResult, total=False):
    """One output of an egress, as LiveKit reports it."""

    error: str


class EgressEvent(TypedDict):
    """``WebhookVerifier.verify``."""

    event: str
    id: str
    createdAt: int
    egressId: Optional[str]
    status: Optional[EgressStatus]
    error: Optional[str]
    details: Optional[str]
    webUrl: Optional[str]
    startedAtNs: int
    endedAtNs: int
    streamResults: List[StreamResult]


class CostEstimate(TypedDict):
    """``estimate_cost``, in US dollars."""

    egressMinutes: float
    gigabytes: float
    egressUsd: float
    bandwidthUsd: float
    totalUsd: float


class EgressSummary(TypedDict):
    """``MemoryEgress.list_active``."""

    egressId: str
    status: EgressStatus
    sessionId: Optional[str]
    startedAtNs: int


# --- Store values (the SessionStore protocol) ------------------------------------------------


class Entity(TypedDict):
    """The user or agent a session or credential belongs to."""

    streamType: StreamType
    entityId: str


class _Destination(TypedDict):
    id: str
    platform: Platform
    redactedUrl: str
    encryptedUrl: str
    status: DestinationStatus
    primary: bool
    addedAt: int


class Destination(_Destination, total=False):
    """A stored output of a session (the full URL only encrypted)."""

    removedAt: int
    errorMessage: str


class _StreamSession(TypedDict):
    sessionId: str
    streamType: StreamType
    entityId: str
    platform: Platform
    streamTitle: str
    status: SessionStatus
    overlayConfig: OverlayConfig
    destinations: List[Destination]
    createdAt: int
    updatedAt: int
    startUncertain: bool
    viewerCount: int
    peakViewerCount: int
    decisionsLogged: int
    eventsRecorded: int
    version: int


class StreamSession(_StreamSession, total=False):
    """A stored session, as the core serializes it."""

    entityName: str
    egressId: str
    currentLobbyId: str
    startedAt: int
    endedAt: int
    endReason: str
    errorMessage: str
    stats: SessionStats


class Activity(TypedDict):
    """A recorded decision or event."""

    kind: ActivityKind
    at: int
    data: Any


class _PlatformCredential(TypedDict):
    streamType: StreamType
    entityId: str
    platform: Platform
    autoStart: bool
    updatedAt: int


class PlatformCredential(_PlatformCredential, total=False):
    """Stored credentials (the key only encrypted)."""

    encryptedKey: str
    customRtmpUrl: str


class SessionQuery(TypedDict):
    """``list_sessions`` filters; ``limit`` is the page size to return."""

    entity: Optional[Entity]
    status: Optional[SessionStatus]
    activeOnly: bool
    cursor: Optional[str]
    limit: int


class SessionPage(TypedDict):
    """One page of stored sessions, newest first."""

    sessions: List[StreamSession]
    nextCursor: Optional[str]


class InsertResult(TypedDict):
    """``insert_session``: ``created`` is false when the entity already had an active
    session, which is then returned (and nothing was written)."""

    created: bool
    session: StreamSession
