# Written from the Rust types of ltcg-streaming-core by
# `cargo run -p ltcg-streaming-core --example gen-types`; do not edit.
"""The shapes of the dicts that ltcg_streaming accepts and returns (camelCase JSON keys).

These are :class:`typing.TypedDict` definitions for type checkers and documentation; at run
time the values are plain ``dict`` objects. Keys marked optional are left out when unset.
The ``...Fields`` dicts are the keyword arguments of the service's request methods, and
:class:`ServiceOptions` those of ``StreamingService(...)`` (snake_case names).
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict, Union

#: The kind of an `Activity`.
#:
#: - `decision`: An AI agent's decision (counted into `decisionsLogged`).
#: - `event`: A game event (counted into `eventsRecorded`).
ActivityKind = Literal["decision", "event"]

#: How sessions are grouped.
#:
#: - `day`: By the UTC day a session was created (`2026-12-01`).
#: - `month`: By the UTC month a session was created (`2026-12`).
#: - `platform`: By primary platform (`twitch`).
#: - `entity`: By user or agent (`agent:agent_7`).
AnalyticsGroup = Literal["day", "month", "platform", "entity"]

#: Battle position of a card on the field.
#:
#: - `attack`: Upright (default).
#: - `defense`: Sideways.
CardPosition = Literal["attack", "defense"]

#: Where a card lies on the field.
#:
#: - `monster`: The monster zone (default).
#: - `spell-trap`: The spell and trap zone.
CardZone = Literal["monster", "spell-trap"]

#: A destination to remove.
DestinationRef = Union[str, "DestinationOnPlatform"]

#: State of one output of a session's egress.
#:
#: - `active`: Being streamed to.
#: - `failed`: The egress refused or lost it.
#: - `removed`: Removed on request.
DestinationStatus = Literal["active", "failed", "removed"]

#: Status of a LiveKit egress (`livekit.EgressStatus`).
EgressStatus = Literal[
    "EGRESS_STARTING",
    "EGRESS_ACTIVE",
    "EGRESS_ENDING",
    "EGRESS_COMPLETE",
    "EGRESS_FAILED",
    "EGRESS_ABORTED",
    "EGRESS_LIMIT_REACHED",
]

#: Named encodings (LiveKit's H.264 presets, sent as explicit settings). JSON names are the
#: variant names, e.g. `"H264_720P_30"`.
#:
#: - `H264_540P_30`: 960x540, 30 fps, 1500 kbps: small, for tests and previews (not a LiveKit preset).
#: - `H264_720P_30`: 1280x720, 30 fps, 3000 kbps.
#: - `H264_720P_60`: 1280x720, 60 fps, 4500 kbps.
#: - `H264_1080P_30`: 1920x1080, 30 fps, 4500 kbps (the default, as LiveKit's web egress default).
#: - `H264_1080P_60`: 1920x1080, 60 fps, 6000 kbps.
#: - `PORTRAIT_H264_720P_30`: 720x1280 portrait, 30 fps, 3000 kbps.
#: - `PORTRAIT_H264_1080P_30`: 1080x1920 portrait, 30 fps, 4500 kbps.
EncodingPreset = Literal[
    "H264_540P_30",
    "H264_720P_30",
    "H264_720P_60",
    "H264_1080P_30",
    "H264_1080P_60",
    "PORTRAIT_H264_720P_30",
    "PORTRAIT_H264_1080P_30",
]

#: `encoding`: a preset or explicit settings.
EncodingSetting = Union["EncodingPreset", "EncodingSettings"]

#: The stable code of every error the library reports.
ErrorCode = Literal[
    "INVALID_INPUT",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "NOT_FOUND",
    "CONFLICT",
    "RATE_LIMITED",
    "CRYPTO",
    "EGRESS",
    "STORE",
    "CONFIG",
    "EXTERNAL",
]

#: How a match ended, for the match-over scene.
#:
#: - `win`: The streamer won.
#: - `loss`: The streamer lost.
#: - `draw`: Nobody won.
#: - `unknown`: Not known (default).
MatchOutcome = Literal["win", "loss", "draw", "unknown"]

#: A streaming platform. `custom`, `retake`, `x` and `pumpfun` need a custom ingest URL.
Platform = Literal["twitch", "youtube", "kick", "facebook", "custom", "retake", "x", "pumpfun"]

#: Which player's turn it is.
#:
#: - `host`: The lobby's host.
#: - `opponent`: The host's opponent.
PlayerSide = Literal["host", "opponent"]

#: What the picture-in-picture shows.
#:
#: - `webcam`: A webcam feed.
#: - `profile-picture`: A still profile picture.
PlayerVisualMode = Literal["webcam", "profile-picture"]

#: `rateLimits`: on, off, or some limits overridden.
RateLimitSetting = Union[bool, "RateLimitOptions"]

#: A scene of the overlay page.
#:
#: - `starting-soon`: The stream is starting and no game is on.
#: - `live-game`: A game is on: the board.
#: - `match-over`: A match just ended: its result, for `matchOverHoldMs`.
#: - `lobby-chat`: Between games.
#: - `brb`: Be right back (only by the page's `?scene=` override).
#: - `ending`: The stream has ended.
Scene = Literal["starting-soon", "live-game", "match-over", "lobby-chat", "brb", "ending"]

#: Session status, with the product's names.
#:
#: - `initializing`: The session row exists; the egress start call has not returned yet.
#: - `pending`: The egress exists and is starting.
#: - `live`: The egress is active: the stream is on air.
#: - `ended`: Finished normally (terminal).
#: - `error`: Failed (terminal).
SessionStatus = Literal["initializing", "pending", "live", "ended", "error"]

#: Who may read a session's status (`StreamingService::get_status`).
#:
#: - `anyAuthenticated`: Any authenticated caller (the product's status route is public). The view holds no
#: secret and no stream key.
#: - `owner`: The session's user or agent, and internal callers; for anyone else the session reads
#: as `NOT_FOUND` (its existence is not revealed).
StatusReads = Literal["anyAuthenticated", "owner"]

#: Whose stream it is.
#:
#: - `user`: A human user streaming their games.
#: - `agent`: An AI agent streaming its games.
StreamType = Literal["user", "agent"]

#: Colour theme of the overlay.
#:
#: - `dark`: Dark background (default).
#: - `light`: Light background.
Theme = Literal["dark", "light"]

#: What kind of thing happened.
#:
#: - `created`: The session was created by a start.
#: - `started`: The egress accepted the start.
#: - `egress_update`: The egress reported a status (a LiveKit webhook or the local egress).
#: - `stopped`: Stopped on request.
#: - `reconciled`: The reconciler acted (a stuck start, the maximum duration, a vanished egress).
#: - `destination_added`: An output was added.
#: - `destination_removed`: An output was removed.
#: - `destination_failed`: An output failed.
#: - `error`: Something went wrong (a failed start).
TimelineKind = Literal[
    "created",
    "started",
    "egress_update",
    "stopped",
    "reconciled",
    "destination_added",
    "destination_removed",
    "destination_failed",
    "error",
]

#: Corner of the picture-in-picture.
#:
#: - `top-left`: Top left.
#: - `top-right`: Top right.
#: - `bottom-left`: Bottom left.
#: - `bottom-right`: Bottom right.
WebcamPosition = Literal["top-left", "top-right", "bottom-left", "bottom-right"]

#: Size of the picture-in-picture.
#:
#: - `small`: 220 px.
#: - `medium`: 280 px.
#: - `large`: 340 px.
WebcamSize = Literal["small", "medium", "large"]


class Activity(TypedDict):
    """One recorded decision or event."""

    #: Decision or event.
    kind: ActivityKind
    #: Recorded, Unix ms.
    at: int
    #: The payload: a `DecisionData` or an `EventData`, by `kind` (validated by the
    #: service; a store gives it back as it was given).
    data: Any


class AgentDecisions(TypedDict):
    """Answer to `agent_decisions`."""

    #: The session read, if the agent has one.
    sessionId: Optional[str]
    #: The decisions (see the query for the order).
    decisions: List[Activity]


class AgentDecisionsQuery(TypedDict, total=False):
    """`GET /api/agents/decisions`: an agent's recent decisions."""

    #: The agent (internal callers; agents read their own).
    agentId: Optional[str]
    #: Only this game's decisions, oldest first (otherwise newest first).
    gameId: Optional[str]
    #: At most this many (default 50, at most 100).
    limit: Optional[int]
    #: The session to read (default: the agent's active session, else its newest).
    sessionId: Optional[str]


class _AgentKey(TypedDict):
    #: The key's first `AGENT_KEY_PREFIX_LEN` characters; names the key in lists and
    #: revocations, and finds its record when it is presented.
    prefix: str
    #: The agent the key acts as.
    agentId: str
    #: The key's Argon2id hash in PHC form (`$argon2id$v=19$...`).
    hash: str
    #: Made at, Unix ms.
    createdAt: int


class AgentKey(_AgentKey, total=False):
    """A stored agent API key: who it belongs to and its Argon2id hash, never the key."""

    #: What the operator called it.
    label: Optional[str]
    #: Revoked at, Unix ms; a revoked key is never accepted again.
    revokedAt: Optional[int]


class AgentKeyView(TypedDict):
    """What an operator is shown of a stored key: everything but its hash."""

    #: The key's first `AGENT_KEY_PREFIX_LEN` characters.
    prefix: str
    #: The agent the key acts as.
    agentId: str
    #: What the operator called it.
    label: Optional[str]
    #: Made at, Unix ms.
    createdAt: int
    #: Revoked at, Unix ms.
    revokedAt: Optional[int]


class AgentStreamingConfig(TypedDict):
    """`GET /api/agents/streaming-config`: the product's `AgentStreamingConfig` (never the
    key or its ciphertext).
    """

    #: Streaming on.
    enabled: bool
    #: Platform.
    platform: Optional[Platform]
    #: Whether a key is stored.
    hasStreamKey: bool
    #: Custom ingest URL, key redacted.
    rtmpUrl: Optional[str]
    #: Auto-start on game start.
    autoStart: bool
    #: Keep the stream live between games.
    keepAlive: bool
    #: Voice track.
    voiceTrackUrl: Optional[str]
    #: Voice volume.
    voiceVolume: Optional[float]
    #: Voice loop.
    voiceLoop: bool
    #: Picture-in-picture content.
    visualMode: PlayerVisualMode
    #: Profile picture.
    profilePictureUrl: Optional[str]


class _AnalyticsQuery(TypedDict):
    #: Sessions created at or after, Unix ms.
    since: int


class AnalyticsQuery(_AnalyticsQuery, total=False):
    """`GET /api/streaming/analytics`: which sessions (by creation time), grouped how."""

    #: Only this entity (users and agents: only themselves).
    entityId: Optional[str]
    #: `day` (UTC, the default), `platform` or `entity`.
    groupBy: AnalyticsGroup
    #: Count dry runs too.
    includeDryRuns: bool
    #: Only this kind of entity (with `entityId`).
    streamType: Optional[StreamType]
    #: Sessions created before, Unix ms (default: up to and including now).
    until: Optional[int]


class AnalyticsReport(TypedDict):
    """The answer to an `AnalyticsQuery`."""

    #: The range's start, Unix ms.
    since: int
    #: The range's end, Unix ms.
    until: int
    #: The grouping.
    groupBy: AnalyticsGroup
    #: Whether dry runs were counted.
    includeDryRuns: bool
    #: One row per group, in key order.
    rows: List[AnalyticsRow]
    #: All groups together.
    totals: AnalyticsRow
    #: The cost model: USD per egress minute.
    egressUsdPerMinute: float
    #: The cost model: USD per GB, at `DEFAULT_BITRATE_MBPS`.
    bandwidthUsdPerGigabyte: float
    #: What the estimate leaves out.
    freeTierNote: str


class AnalyticsRow(TypedDict):
    """The figures of one group."""

    #: The group: a UTC day (`2026-12-01`), a platform, or `streamType:entityId`; `total`
    #: for the totals.
    key: str
    #: Sessions created.
    sessions: int
    #: Hours on air (ended sessions).
    hoursStreamed: float
    #: Mean viewers over the viewer readings (0 without readings).
    averageViewers: float
    #: Highest peak of a session.
    peakViewers: int
    #: Decisions recorded.
    decisions: int
    #: Events recorded.
    events: int
    #: Sessions that ended in `error`.
    errors: int
    #: `errors / sessions` (0 without sessions).
    errorRate: float
    #: Ended sessions by end reason.
    endReasons: Dict[str, int]
    #: Estimated LiveKit web-egress cost of the hours, USD (the seed's model).
    estimatedCostUsd: float


class AutoStartOutcome(TypedDict):
    """What `on_game_started` did."""

    #: Whether a stream was started.
    started: bool
    #: Why not, or how: `started`, `already_active_linked_to_lobby`, `not_configured`,
    #: `autostart_disabled`, `rtmp_url_required`.
    reason: str
    #: The session streaming the game, if any.
    sessionId: Optional[str]


class BrowserEgressSettings(TypedDict, total=False):
    """The JSON shape of the browser egress's options (`BrowserEgressOptions`, feature
    `browser`); every key is optional.
    """

    #: Encode nothing until the page logs `START_RECORDING`.
    awaitStartSignal: Optional[bool]
    #: The browser program.
    chromium: Optional[str]
    #: The encoder program.
    ffmpeg: Optional[str]
    #: Most renders at once (1–256).
    maxConcurrent: Optional[int]
    #: PulseAudio's control program.
    pactl: Optional[str]
    #: Page-load tries (1–10).
    pageLoadAttempts: Optional[int]
    #: One page-load try, ms (1000–300000).
    pageLoadTimeoutMs: Optional[int]
    #: The PulseAudio daemon.
    pulseaudio: Optional[str]
    #: An output without progress this long is failed, ms (1000–600000).
    reconnectWindowMs: Optional[int]
    #: Thumbnail period, ms (500–3600000); 0 for no thumbnails.
    thumbnailIntervalMs: Optional[int]
    #: Where render directories live.
    workDir: Optional[str]
    #: The X server program.
    xvfb: Optional[str]


class ChangeNotice(TypedDict, total=False):
    """The argument of `StreamingService::notify_changed`: a session, a lobby, or both."""

    #: A lobby whose game state changed.
    lobbyId: Optional[str]
    #: A session that changed.
    sessionId: Optional[str]


class CleanupSummary(TypedDict):
    """`POST /api/streaming/cleanup`: a reconciler pass in the product's summary shape."""

    #: Always `true` (failures are errors).
    success: bool
    #: Egresses stopped because no active session owns them.
    stoppedEgresses: List[str]
    #: Sessions ended (start timed out, maximum duration reached, egress vanished).
    endedSessions: List[str]
    #: Problems met on the way.
    errors: List[str]
    #: `Stopped N egresses, ended M sessions`.
    summary: str
    #: The full report.
    report: ReconcileReport


class ConfigureAgentRequest(TypedDict, total=False):
    """`POST /api/streaming/configure-agent`, in the product's shape."""

    #: The agent.
    agentId: Optional[str]
    #: Start when the agent's game starts (default `true`).
    autoStart: Optional[bool]
    #: The channel whose viewers are counted (Twitch login, YouTube video id, Kick slug;
    #: not in the product's shape).
    channel: Optional[str]
    #: Streaming on (default `true`); `false` also turns auto-start's stream off.
    enabled: Optional[bool]
    #: Keep the stream live between games (default `true`; `false` when disabled).
    keepAlive: Optional[bool]
    #: Platform (required while enabled).
    platform: Optional[Platform]
    #: Picture shown in the picture-in-picture (http/https; blank clears it).
    profilePictureUrl: Optional[str]
    #: Custom ingest URL, `rtmp://` or `rtmps://`.
    rtmpUrl: Optional[str]
    #: Stream key (kept when omitted and the platform is unchanged).
    streamKey: Optional[str]
    #: `webcam` or `profile-picture`.
    visualMode: Optional[PlayerVisualMode]
    #: Loop it.
    voiceLoop: Optional[bool]
    #: Voice track played on the stream (http/https; blank clears it).
    voiceTrackUrl: Optional[str]
    #: Its volume, 0–1.
    voiceVolume: Optional[float]


class _ConfigurePlatformRequest(TypedDict):
    #: The platform.
    platform: Platform


class ConfigurePlatformRequest(_ConfigurePlatformRequest, total=False):
    """`PUT /api/streaming/platforms`."""

    #: An agent (internal callers; others act for themselves).
    agentId: Optional[str]
    #: Start automatically when the agent's game starts (default false).
    autoStart: Optional[bool]
    #: The channel whose viewers are counted.
    channel: Optional[str]
    #: Custom ingest URL (required for custom platforms).
    customRtmpUrl: Optional[str]
    #: The stream key (kept when omitted and the platform is unchanged).
    streamKey: Optional[str]
    #: A user (internal callers; others act for themselves).
    userId: Optional[str]


class _ConfigureUserRequest(TypedDict):
    #: Platform (not `retake`, which is agent-only).
    platform: Platform
    #: Stream key.
    streamKey: str


class ConfigureUserRequest(_ConfigureUserRequest, total=False):
    """`POST /api/streaming/configure-user`, in the product's shape."""

    #: Custom ingest URL, `rtmp://` or `rtmps://`.
    rtmpUrl: Optional[str]
    #: The user (internal callers; users configure themselves).
    userId: Optional[str]


class CostEstimate(TypedDict):
    """An estimate in US dollars."""

    #: Egress minutes billed (streams × hours × 60).
    egressMinutes: float
    #: Bandwidth in GB (10⁹ bytes).
    gigabytes: float
    #: Egress-minute cost.
    egressUsd: float
    #: Bandwidth cost.
    bandwidthUsd: float
    #: Total.
    totalUsd: float


class CredentialTarget(TypedDict, total=False):
    """Whose platform credentials (internal callers name the entity; others act for
    themselves and may leave both ids out).
    """

    #: An agent.
    agentId: Optional[str]
    #: A user.
    userId: Optional[str]


class _DecisionData(TypedDict):
    #: The game.
    gameId: str
    #: Turn number.
    turnNumber: int
    #: Game phase.
    phase: str
    #: What the agent did.
    action: str
    #: Why, in the agent's words.
    reasoning: str


class DecisionData(_DecisionData, total=False):
    """The payload of a recorded decision."""

    #: How long the decision took.
    executionTimeMs: int
    #: Action parameters.
    parameters: Any
    #: Outcome.
    result: str


class _DecisionInput(TypedDict):
    #: The game.
    gameId: str
    #: Turn number.
    turnNumber: int
    #: Game phase.
    phase: str
    #: What the agent did.
    action: str
    #: Why, in the agent's words (shown on the overlay).
    reasoning: str


class DecisionInput(_DecisionInput, total=False):
    """`POST /api/agents/decisions`: one AI decision."""

    #: The agent (internal callers without a session id).
    agentId: Optional[str]
    #: How long the decision took.
    executionTimeMs: Optional[int]
    #: Action parameters.
    parameters: Any
    #: Outcome.
    result: Optional[str]
    #: The session (default: the agent's active session).
    sessionId: Optional[str]


class _Destination(TypedDict):
    #: Our id, `dst_` + 16 hex characters.
    id: str
    #: The platform.
    platform: Platform
    #: The ingest URL with its key redacted, safe to show.
    redactedUrl: str
    #: The full URL, encrypted by the key vault (never shown).
    encryptedUrl: str
    #: Output state.
    status: DestinationStatus
    #: Whether this is the session's primary destination (from the start request).
    primary: bool
    #: Added, Unix ms.
    addedAt: int


class Destination(_Destination, total=False):
    """One RTMP output of a session.

    The full URL (with the stream key) is kept only encrypted, so the output can be removed
    later; LiveKit reports outputs by redacted URL, so we never match on URLs, only on `id`.
    """

    #: The channel on the platform, for its viewer count (see `Destination::channel_for`).
    channel: str
    #: A platform access token this output was set up with (Retake), encrypted by the key
    #: vault, to signal the platform again on stop and to read its viewers (never shown).
    encryptedAccessToken: str
    #: Why it failed.
    errorMessage: str
    #: The platform's own preview image of the channel while it is live (an `https` URL).
    previewUrl: str
    #: Removed, Unix ms.
    removedAt: int
    #: What the platform itself says is wrong while the egress streams (e.g. the channel
    #: is not live there); cleared when it no longer says so.
    warning: str


class _DestinationInput(TypedDict):
    #: The platform.
    platform: Platform
    #: Its stream key.
    streamKey: str


class DestinationInput(_DestinationInput, total=False):
    """One extra output (simulcast) in a start or update request."""

    #: The channel whose viewers are counted (Twitch login, YouTube video id, Kick slug).
    channel: Optional[str]
    #: Custom ingest URL (required for custom platforms).
    customRtmpUrl: Optional[str]


class DestinationOnPlatform(TypedDict):
    """The first active destination on a platform that the stream was not started with."""

    #: The platform.
    platform: Platform


class _DestinationView(TypedDict):
    #: Our destination id (use it to remove the destination).
    id: str
    #: The platform.
    platform: Platform
    #: The ingest URL, key redacted.
    url: str
    #: Output state.
    status: DestinationStatus
    #: Whether it is the primary destination.
    primary: bool
    #: Added, Unix ms.
    addedAt: int


class DestinationView(_DestinationView, total=False):
    """A destination as shown to callers (no key, no ciphertext)."""

    #: The channel whose viewers are counted.
    channel: str
    #: Why it failed.
    errorMessage: str
    #: The platform's preview image of the channel while live.
    previewUrl: str
    #: Removed, Unix ms.
    removedAt: int
    #: What the platform says is wrong (e.g. the channel is not live there).
    warning: str


class EgressEvent(TypedDict):
    """A verified LiveKit webhook event, reduced to what session tracking needs.

    Non-egress events (room, participant, track) have no egress id and no status.
    """

    #: Event name, e.g. `egress_started`.
    event: str
    #: LiveKit's unique event id (`EV_…`), the de-duplication key; may be empty.
    id: str
    #: When LiveKit created the event, Unix seconds.
    createdAt: int
    #: The egress the event is about.
    egressId: Optional[str]
    #: The egress status; a missing status in an egress event reads as `EGRESS_STARTING`.
    status: Optional[EgressStatus]
    #: The egress error message, when it failed.
    error: Optional[str]
    #: LiveKit's human-readable details (e.g. `StopEgress API`).
    details: Optional[str]
    #: The web egress's page URL (it carries our `sessionId`).
    webUrl: Optional[str]
    #: Egress start, Unix nanoseconds (0 when unknown).
    startedAtNs: int
    #: Egress end, Unix nanoseconds (0 while running).
    endedAtNs: int
    #: Per-output results.
    streamResults: List[StreamResult]


class EgressSummary(TypedDict):
    """An egress as the backend reports it. Its JSON names the session instead of the page URL
    (which carries the overlay token).
    """

    #: The egress id.
    egressId: str
    #: Its status.
    status: EgressStatus
    #: The session whose page it renders, if any.
    sessionId: Optional[str]
    #: Start time, Unix nanoseconds (0 when unknown).
    startedAtNs: int


class EncodingSettings(TypedDict):
    """Video and audio encoding of the egress. RTMP outputs are always H.264 + AAC."""

    #: Width in pixels.
    width: int
    #: Height in pixels.
    height: int
    #: Frames per second.
    framerate: int
    #: Video bitrate, kbps.
    video_bitrate_kbps: int
    #: Audio bitrate, kbps.
    audio_bitrate_kbps: int
    #: Seconds between key frames (platforms ask for 2).
    key_frame_interval_secs: float


class Entity(TypedDict):
    """The user or agent a session or credential belongs to."""

    #: `user` or `agent`.
    streamType: StreamType
    #: The user id or agent id.
    entityId: str


class _EventData(TypedDict):
    #: The game.
    gameId: str
    #: Turn number.
    turnNumber: int
    #: Event type, e.g. `card_played`.
    eventType: str
    #: What happened.
    description: str


class EventData(_EventData, total=False):
    """The payload of a recorded game event."""

    #: The lobby.
    lobbyId: str
    #: Extra data.
    metadata: Any
    #: Who did it.
    playerUsername: str


class _EventInput(TypedDict):
    #: The game.
    gameId: str
    #: Turn number.
    turnNumber: int
    #: Event type, e.g. `agent_thinking`, `agent_decided`, `card_played`.
    eventType: str
    #: What happened.
    description: str


class EventInput(_EventInput, total=False):
    """`POST /api/agents/events`: one game event for the ticker."""

    #: The agent (internal callers without a session id).
    agentId: Optional[str]
    #: The lobby.
    lobbyId: Optional[str]
    #: Extra data.
    metadata: Any
    #: Who did it.
    playerUsername: Optional[str]
    #: The session (default: the caller's active session).
    sessionId: Optional[str]


class _FieldCard(TypedDict):
    #: Attack or defense position.
    position: CardPosition
    #: Set face down.
    faceDown: bool
    #: Monster zone or spell/trap zone.
    zone: CardZone


class FieldCard(_FieldCard, total=False):
    """One card on a player's field. A face-down card's name and stats are never drawn."""

    #: Attack points (monsters).
    attack: int
    #: Defense points (monsters).
    defense: int
    #: Card name (required unless `faceDown`).
    name: str


class GameState(TypedDict):
    """The spectator view of one lobby's game (`update_game_state`)."""

    #: The lobby the game is played in.
    lobbyId: str
    #: The game.
    gameId: str
    #: Current turn, from 1.
    turnNumber: int
    #: Current phase (e.g. `main1`, `battle`).
    phase: str
    #: Whose turn it is.
    activePlayer: PlayerSide
    #: The lobby's host.
    host: PlayerView
    #: The host's opponent.
    opponent: PlayerView


class GameStateUpdated(TypedDict):
    """Answer to `update_game_state`."""

    #: Always `true` (failures are errors).
    success: bool
    #: The lobby.
    lobbyId: str
    #: When it was stored, Unix ms.
    updatedAt: int


class InsertResult(TypedDict):
    """What `insert_session` returns."""

    #: `false` when the entity already has an active session (then nothing was written).
    created: bool
    #: The stored session (`version` 1), or the entity's active one.
    session: StreamSession


class Lease(TypedDict):
    """Who holds a named lease, and until when."""

    #: The lease's name (`reconciler`, `render:<egress id>`).
    name: str
    #: The holder's id (a replica id).
    holder: str
    #: Unix milliseconds at which the lease lapses unless renewed.
    expiresAt: int


class ListSessionsRequest(TypedDict, total=False):
    """`GET /api/streaming/sessions`."""

    #: Only active sessions.
    active: bool
    #: Continue from a previous page.
    cursor: Optional[str]
    #: Only this entity.
    entityId: Optional[str]
    #: Page size (default 50, at most 500).
    limit: Optional[int]
    #: Only sessions whose primary platform is this one.
    platform: Optional[Platform]
    #: Only sessions created at or after, Unix ms.
    since: Optional[int]
    #: Only this status.
    status: Optional[SessionStatus]
    #: Only this kind of entity (with `entityId`).
    streamType: Optional[StreamType]
    #: Only sessions created before, Unix ms.
    until: Optional[int]


class MatchResult(TypedDict):
    """The last match of a session (`record_match_result`)."""

    #: When the match ended, Unix ms.
    endedAt: int
    #: How it ended.
    result: MatchOutcome
    #: One line for viewers (default `Match over.`).
    summary: str


class MatchResultRecorded(TypedDict):
    """Answer to `record_match_result`."""

    #: Always `true` (failures are errors).
    success: bool
    #: The session.
    sessionId: str
    #: The result as stored.
    lastMatch: MatchResult


class MatchResultRequest(TypedDict, total=False):
    """`POST /api/streaming/match-result`, in the product's shape."""

    #: Stop showing the lobby (default `true`).
    clearCurrentLobby: Optional[bool]
    #: When it ended, Unix ms (default now).
    lastMatchEndedAt: Optional[int]
    #: `win`, `loss`, `draw` or `unknown` (default).
    lastMatchResult: Optional[MatchOutcome]
    #: One line for viewers (default `Match over.`).
    lastMatchSummary: Optional[str]
    #: The session whose match ended.
    sessionId: Optional[str]


class _OverlayClaims(TypedDict):
    #: The session the token opens.
    sessionId: str
    #: `user` or `agent`.
    streamType: StreamType
    #: The user or agent id.
    entityId: str
    #: Always `overlay_access` (`OVERLAY_TOKEN_TYPE`).
    type: str
    #: Expiry, Unix seconds.
    exp: int
    #: Issued at, Unix seconds.
    iat: int


class OverlayClaims(_OverlayClaims, total=False):
    """The claims of an overlay token, in wire order."""

    #: Not before, Unix seconds (never written by us; honoured when present).
    nbf: int


class _OverlayConfig(TypedDict):
    #: Show the AI decision reasoning panel.
    showDecisions: bool
    #: Show the streamer/agent info bar.
    showAgentInfo: bool
    #: Show the game events ticker.
    showEventFeed: bool
    #: Show the player picture-in-picture.
    showPlayerCam: bool
    #: Colour theme.
    theme: Theme


class OverlayConfig(_OverlayConfig, total=False):
    """Overlay settings of a session. Optional settings are left out of JSON when unset."""

    #: How long the match-over scene stays, ms (5,000–3,600,000).
    matchOverHoldMs: int
    #: Picture-in-picture content.
    playerVisualMode: PlayerVisualMode
    #: Picture shown in profile-picture mode (http/https).
    profilePictureUrl: str
    #: Animate scene changes.
    sceneTransitions: bool
    #: Show the scene label pill.
    showSceneLabel: bool
    #: Loop the voice track.
    voiceLoop: bool
    #: Background voice track (http/https).
    voiceTrackUrl: str
    #: Voice track volume, 0–1.
    voiceVolume: float
    #: Picture-in-picture corner.
    webcamPosition: WebcamPosition
    #: Picture-in-picture size.
    webcamSize: WebcamSize


class OverlayConfigPatch(TypedDict):
    """A partial `OverlayConfig` from a request; set fields replace the defaults."""

    showDecisions: Optional[bool]
    showAgentInfo: Optional[bool]
    showEventFeed: Optional[bool]
    showPlayerCam: Optional[bool]
    webcamPosition: Optional[WebcamPosition]
    webcamSize: Optional[WebcamSize]
    playerVisualMode: Optional[PlayerVisualMode]
    profilePictureUrl: Optional[str]
    matchOverHoldMs: Optional[int]
    showSceneLabel: Optional[bool]
    sceneTransitions: Optional[bool]
    voiceTrackUrl: Optional[str]
    voiceVolume: Optional[float]
    voiceLoop: Optional[bool]
    theme: Optional[Theme]


class OverlaySnapshot(TypedDict):
    """The overlay's data: public session fields plus the recent decisions and events its
    settings ask for. Nothing secret.
    """

    #: The session.
    sessionId: str
    #: Lifecycle status.
    status: SessionStatus
    #: `user` or `agent`.
    streamType: StreamType
    #: Display name (or the entity id when none was given).
    entityName: str
    #: Picture of the user or agent.
    entityAvatarUrl: Optional[str]
    #: Primary platform.
    platform: Platform
    #: Title.
    streamTitle: str
    #: Lobby shown.
    currentLobbyId: Optional[str]
    #: Current viewers.
    viewerCount: int
    #: What to show.
    overlayConfig: OverlayConfig
    #: Newest decisions first (empty unless `showDecisions` on an agent stream).
    decisions: List[DecisionData]
    #: Newest events first (empty unless `showEventFeed`).
    events: List[EventData]
    #: The game of the lobby shown, as spectators see it (the streamer's display name on
    #: their side, face-down cards without name or stats).
    gameState: Optional[GameState]
    #: The session's last match.
    lastMatch: Optional[MatchResult]
    #: The scene to show.
    scene: Scene
    #: Its label.
    sceneLabel: str
    #: When the scene changes by itself (end of the match-over hold), Unix ms.
    sceneUntil: Optional[int]
    #: Changes whenever the session may have changed.
    version: int


class PlatformConfigView(TypedDict):
    """Stored credentials as shown to callers: never the key or its ciphertext."""

    #: `user` or `agent`.
    streamType: StreamType
    #: Whose.
    entityId: str
    #: The platform.
    platform: Platform
    #: Whether a key is stored.
    hasStreamKey: bool
    #: The custom ingest URL, with any key in it redacted.
    customRtmpUrl: Optional[str]
    #: Auto-start on game start.
    autoStart: bool
    #: The channel whose viewers are counted.
    channel: Optional[str]
    #: Last changed, Unix ms.
    updatedAt: int


class _PlatformCredential(TypedDict):
    #: `user` or `agent`.
    streamType: StreamType
    #: The user id or agent id.
    entityId: str
    #: The platform.
    platform: Platform
    #: Start streaming automatically when this agent's game starts.
    autoStart: bool
    #: Streaming is switched on for this entity (default `true`; `configure-agent` with
    #: `enabled: false` turns it off and auto-start with it).
    enabled: bool
    #: Keep the stream live between games (default `true`).
    keepAlive: bool
    #: Last changed, Unix ms.
    updatedAt: int


class PlatformCredential(_PlatformCredential, total=False):
    """A user's or agent's stored streaming credentials (the seed's `streamingPlatforms`).

    The stream key is stored only encrypted; reads through the service return
    `hasStreamKey`, never the key or the ciphertext.
    """

    #: The channel whose viewers are counted (Twitch login, YouTube video id, Kick slug).
    channel: str
    #: A custom ingest URL (required for custom platforms).
    customRtmpUrl: str
    #: The stream key, encrypted by the key vault.
    encryptedKey: str
    #: Overlay settings used by streams started from these credentials (voice track,
    #: visual mode, profile picture); the start request's own settings win.
    overlay: OverlayConfigPatch


class PlatformPoll(TypedDict):
    """What one platform did in a pass."""

    #: The platform.
    platform: Platform
    #: Channels asked for.
    channels: int
    #: `ok`, `skipped` (still waiting after a failure), `rate_limited`, `unauthorized`,
    #: `unavailable` or `malformed`.
    outcome: str
    #: When a failure asked to wait: how long, ms.
    retryAfterMs: Optional[int]


class _PlayerView(TypedDict):
    #: Display name.
    name: str
    #: Life points.
    lifePoints: int
    #: Cards in hand.
    handCount: int
    #: Cards left in the deck.
    deckCount: int
    #: Cards in the graveyard.
    graveyardCount: int
    #: Cards on the field, at most five per zone.
    field: List[FieldCard]


class PlayerView(_PlayerView, total=False):
    """One player as spectators see them."""

    #: The player's user or agent id, matched against the streaming entity so that its
    #: display name replaces `name`.
    playerId: str


class RateLimitOptions(TypedDict, total=False):
    """Rate limits over the defaults; `0` per minute disables a limit."""

    #: Calls allowed in a burst.
    call_burst: Optional[int]
    #: Calls per minute per user or agent.
    calls_per_minute: Optional[int]
    #: Starts allowed in a burst.
    start_burst: Optional[int]
    #: Stream starts per minute per streamed entity.
    starts_per_minute: Optional[int]


class _ReconcileReport(TypedDict):
    #: Egresses stopped because no active session owns them.
    stoppedEgresses: List[str]
    #: Sessions that adopted an egress whose start call had an uncertain outcome.
    adopted: List[str]
    #: Sessions whose status caught up with their egress (a missed webhook).
    caughtUp: List[str]
    #: Sessions that did not go live within the start timeout (now `error`).
    timedOut: List[str]
    #: Live sessions ended at the maximum duration.
    maxDurationEnded: List[str]
    #: Sessions whose egress disappeared without an `egress_ended`.
    vanished: List[str]
    #: Problems met on the way (the rest of the run continued).
    errors: List[str]


class ReconcileReport(_ReconcileReport, total=False):
    """What `reconcile` did."""

    #: Set when another replica's pass held the reconciler lease: that pass does the shared
    #: work, and this one did only what concerns this replica's own local renders.
    leaseHeldBy: str


class RecordedActivity(TypedDict):
    """Answer to a recorded decision or event."""

    #: Always `true`.
    success: bool
    #: The session it was counted into.
    sessionId: str
    #: Decisions counted so far.
    decisionsLogged: int
    #: Events counted so far.
    eventsRecorded: int


class ServiceOptions(TypedDict, total=False):
    """Options of a service as a binding takes them. Every key may be left out."""

    #: Longest wait for the egress start call before the start counts as uncertain, in
    #: milliseconds (default 30000).
    egress_start_timeout_ms: Optional[int]
    #: Egress encoding: a preset name (e.g. `"H264_720P_30"`) or explicit settings.
    encoding: Optional[EncodingSetting]
    #: `true`: viewer counts and Retake from the environment (`TWITCH_CLIENT_ID`/`_SECRET`,
    #: `YOUTUBE_API_KEY`, `KICK_CLIENT_ID`/`_SECRET`, `RETAKE_API_BASE`,
    #: `RETAKE_ACCESS_TOKEN`, each `*_API_BASE`), read once when the service is made.
    platforms_from_env: bool
    #: `true` (or omitted): the default limits; `false`: none; an object: some overridden.
    rate_limits: Optional[RateLimitSetting]
    #: Who may read a session's status: `"anyAuthenticated"` (default, as the product's
    #: public status route) or `"owner"`.
    status_reads: Optional[StatusReads]


class SessionList(TypedDict):
    """A page of sessions."""

    #: Sessions on this page.
    count: int
    #: The sessions, newest first.
    sessions: List[SessionStatusView]
    #: Cursor of the next page, if any.
    nextCursor: Optional[str]


class _SessionPage(TypedDict):
    #: The sessions, newest first.
    sessions: List[StreamSession]


class SessionPage(_SessionPage, total=False):
    """One page of sessions."""

    #: The cursor of the next page (pass it as the query's `cursor`); none on the last page.
    nextCursor: Optional[str]


class SessionQuery(TypedDict):
    """The argument of `list_sessions`: filters and position; results are newest first."""

    #: Only this entity's sessions.
    entity: Optional[Entity]
    #: Only sessions with this status.
    status: Optional[SessionStatus]
    #: Only non-terminal sessions.
    activeOnly: bool
    #: Only sessions whose primary `platform` is this one.
    platform: Optional[Platform]
    #: Only sessions created at or after, Unix ms.
    createdFrom: Optional[int]
    #: Only sessions created before, Unix ms.
    createdBefore: Optional[int]
    #: A `nextCursor` from a previous page; one the store did not make is `INVALID_INPUT`.
    cursor: Optional[str]
    #: Page size (1 to 500).
    limit: int


class SessionStats(TypedDict):
    """What an ended session did; computed once, when it becomes terminal."""

    #: Milliseconds on air: from `startedAt` to `endedAt`, 0 if it never went live.
    duration: int
    #: Agent decisions recorded during the session.
    decisionsLogged: int
    #: Game events recorded during the session.
    eventsRecorded: int
    #: Highest viewer count reported.
    peakViewerCount: int


class SessionStatusView(TypedDict):
    """`GET /api/streaming/status`: the seed's status shape (nothing secret)."""

    #: The session.
    sessionId: str
    #: Lifecycle status.
    status: SessionStatus
    #: `user` or `agent`.
    streamType: StreamType
    #: The user or agent id.
    entityId: str
    #: Display name, when known.
    entityName: Optional[str]
    #: Primary platform.
    platform: Platform
    #: Title.
    streamTitle: str
    #: Lobby shown.
    currentLobbyId: Optional[str]
    #: Current viewers.
    viewerCount: int
    #: Peak viewers.
    peakViewerCount: int
    #: Milliseconds on air (live: so far; ended: total; never live: 0).
    duration: int
    #: Decisions recorded.
    decisionsLogged: int
    #: Events recorded.
    eventsRecorded: int
    #: Created, Unix ms.
    createdAt: int
    #: Went live, Unix ms.
    startedAt: Optional[int]
    #: Ended, Unix ms.
    endedAt: Optional[int]
    #: Why it ended.
    endReason: Optional[str]
    #: What went wrong.
    errorMessage: Optional[str]
    #: The outputs.
    destinations: List[DestinationView]
    #: Overlay settings.
    overlayConfig: OverlayConfig
    #: Final stats, once ended.
    stats: Optional[SessionStats]
    #: A test stream that no viewer sees (see `StartStreamRequest::dry_run`).
    dryRun: bool


class StartStreamRequest(TypedDict, total=False):
    """`POST /api/streaming/start`.

    The stream key comes from `streamKey`, from the caller's stored credentials
    (`useStoredCredentials`), or, for internal callers only, from an encrypted
    `streamKeyHash`.
    """

    #: The agent to stream (internal callers; agents may repeat their own id).
    agentId: Optional[str]
    #: The primary destination's channel, whose viewers are counted (Twitch login, YouTube
    #: video id, Kick slug); default: the stored credentials' channel.
    channel: Optional[str]
    #: Custom ingest URL for the primary platform.
    customRtmpUrl: Optional[str]
    #: Extra outputs, streamed from the same encode (simulcast).
    destinations: List[DestinationInput]
    #: A test stream no viewer sees: Twitch outputs get `?bandwidthtest=true`; any other
    #: platform is refused (`INVALID_INPUT` naming `dryRun`). The session records it.
    dryRun: bool
    #: The picture of this stream, a preset name (e.g. `"H264_720P_30"`); default: the
    #: service's `encoding`.
    encoding: Optional[EncodingPreset]
    #: Picture of the user or agent (http/https), shown in the overlay's
    #: picture-in-picture when no `overlayConfig.profilePictureUrl` is set.
    entityAvatarUrl: Optional[str]
    #: Display name of the user or agent, shown on the overlay.
    entityName: Optional[str]
    #: End an active session and start a new one.
    forceRestart: bool
    #: Lobby to show.
    lobbyId: Optional[str]
    #: Overlay settings over the defaults of the stream type.
    overlayConfig: Optional[OverlayConfigPatch]
    #: Primary platform.
    platform: Optional[Platform]
    #: Retake.tv access token (platform `retake`): tried first to resolve the RTMP
    #: credentials through Retake's API (see `ServiceOptions::retake`).
    retakeAccessToken: Optional[str]
    #: Primary stream key.
    streamKey: Optional[str]
    #: An encrypted stream key (internal callers only).
    streamKeyHash: Optional[str]
    #: Title; default `LTCG Live`.
    streamTitle: Optional[str]
    #: `user` or `agent`; defaults to the caller's kind.
    streamType: Optional[StreamType]
    #: Use the caller's stored platform, key and URL.
    useStoredCredentials: bool
    #: The user to stream (internal callers; users may repeat their own id).
    userId: Optional[str]


class StartStreamResponse(TypedDict):
    """Answer to a start."""

    #: Always `true` (failures are errors).
    success: bool
    #: The session.
    sessionId: str
    #: `pending` normally; `initializing` while an uncertain start is being confirmed;
    #: the current status when `reused`.
    status: SessionStatus
    #: The overlay page URL with a fresh access token.
    overlayUrl: str
    #: A human-readable summary.
    message: str
    #: Whether an existing session was returned instead of starting a new one.
    reused: bool


class StopStreamRequest(TypedDict, total=False):
    """`POST /api/streaming/stop`."""

    #: Stop every active session of this agent.
    agentId: Optional[str]
    #: Why: 1–64 characters of `a-z`, `0-9` and `_` (e.g. `game_over`); default `manual`.
    reason: Optional[str]
    #: The session to stop.
    sessionId: Optional[str]


class _StopStreamResponse(TypedDict):
    #: Always `true` (failures are errors).
    success: bool
    #: The first session stopped (or the one asked for).
    sessionId: Optional[str]
    #: Sessions this call ended.
    stoppedSessionIds: List[str]
    #: Sessions that had already ended.
    alreadyEndedSessionIds: List[str]
    #: Whether every target had already ended.
    alreadyEnded: bool
    #: Stats of every targeted session, by id.
    statsBySession: Dict[str, SessionStats]
    #: A human-readable summary.
    message: str


class StopStreamResponse(_StopStreamResponse, total=False):
    """Answer to a stop."""

    #: Stats of the session, when exactly one was targeted.
    stats: SessionStats


class StoredGameState(TypedDict):
    """A lobby's game state as stored, with when it was set."""

    #: The view.
    state: GameState
    #: Set, Unix ms.
    updatedAt: int


class _StreamResult(TypedDict):
    #: The output URL as LiveKit reports it (stream key redacted).
    url: str
    #: `ACTIVE`, `FINISHED` or `FAILED`.
    status: str
    #: Start time, Unix nanoseconds (0 when unknown).
    startedAtNs: int
    #: End time, Unix nanoseconds (0 while running).
    endedAtNs: int


class StreamResult(_StreamResult, total=False):
    """The outcome of one stream output (`livekit.StreamInfo`), URL redacted by LiveKit."""

    #: Error text when the output failed.
    error: str


class _StreamSession(TypedDict):
    #: The session id.
    sessionId: str
    #: `user` or `agent`.
    streamType: StreamType
    #: The user id or agent id.
    entityId: str
    #: The primary destination platform.
    platform: Platform
    #: Title shown on the overlay.
    streamTitle: str
    #: Lifecycle status.
    status: SessionStatus
    #: Overlay settings.
    overlayConfig: OverlayConfig
    #: The RTMP outputs (primary first).
    destinations: List[Destination]
    #: Created, Unix ms.
    createdAt: int
    #: Last changed, Unix ms.
    updatedAt: int
    #: The egress start call failed ambiguously (timeout, unavailable): the reconciler must
    #: adopt or stop whatever egress it may have created.
    startUncertain: bool
    #: Current viewer count.
    viewerCount: int
    #: Highest viewer count seen.
    peakViewerCount: int
    #: Agent decisions recorded so far.
    decisionsLogged: int
    #: Game events recorded so far.
    eventsRecorded: int
    #: Optimistic-concurrency version, incremented by every stored change.
    version: int


class StreamSession(_StreamSession, total=False):
    """One streaming session: a web page rendered by an egress and pushed to a platform.

    Serialized with the seed's camelCase names. It holds no secret: stream keys live only
    encrypted in the credential store and the egress request, never here.
    """

    #: The game lobby currently shown.
    currentLobbyId: str
    #: A test stream that no viewer sees (Twitch `bandwidthtest`); analytics can leave it out.
    dryRun: bool
    #: The egress rendering this session, once known.
    egressId: str
    #: Why it ended, a word such as `manual` or `egress_complete`.
    endReason: str
    #: Became terminal, Unix ms.
    endedAt: int
    #: Picture of the user or agent (http/https), shown in the picture-in-picture when
    #: the overlay settings name no profile picture.
    entityAvatarUrl: str
    #: Display name of the user or agent, when the caller gave one.
    entityName: str
    #: What went wrong, for `error` sessions.
    errorMessage: str
    #: The last match played on this stream (drives the match-over scene).
    lastMatch: MatchResult
    #: First went live, Unix ms (set once).
    startedAt: int
    #: Final stats, set when the session becomes terminal.
    stats: SessionStats


class TimelineEntry(TypedDict):
    """One thing that happened to a session."""

    #: The session.
    sessionId: str
    #: When, Unix ms.
    at: int
    #: What kind of thing.
    kind: TimelineKind
    #: The session's status after it.
    status: SessionStatus
    #: Why, or what exactly (no secret).
    cause: str


class _UpdateDestinationsRequest(TypedDict):
    #: The session.
    sessionId: str


class UpdateDestinationsRequest(_UpdateDestinationsRequest, total=False):
    """`POST /api/streaming/destinations`."""

    #: Outputs to add.
    add: List[DestinationInput]
    #: Destinations to remove: our ids, or (the product's shape) `{platform}` for the
    #: first active added destination on that platform.
    remove: List[DestinationRef]


class UpdateDestinationsResponse(TypedDict):
    """Answer to a destination update."""

    #: Always `true` (failures are errors).
    success: bool
    #: The destinations added.
    added: List[DestinationView]
    #: The ids removed.
    removed: List[str]
    #: Every destination of the session now.
    destinations: List[DestinationView]


class ViewerPollReport(TypedDict):
    """What a viewer-count pass did (`super::StreamingService::poll_viewer_counts`)."""

    #: Sessions whose viewer count was set.
    updated: List[str]
    #: Each configured platform that had channels to ask for.
    platforms: List[PlatformPoll]


class ViewerSample(TypedDict):
    """How many viewers one destination of a session had at one time."""

    #: The session.
    sessionId: str
    #: The destination counted (`dst_…`).
    destinationId: str
    #: Its platform.
    platform: Platform
    #: When the count was read, Unix ms.
    at: int
    #: Viewers at that time.
    viewers: int


class WebhookOutcome(TypedDict):
    """What a webhook did."""

    #: Always `true`: the webhook was authentic and is acknowledged.
    received: bool
    #: The event name.
    event: str
    #: The egress it was about.
    egressId: Optional[str]
    #: The session it matched.
    sessionId: Optional[str]
    #: Whether it changed the session.
    applied: bool
    #: Whether this event id was already processed.
    duplicate: bool
    #: Why nothing changed, when nothing did.
    note: Optional[str]


class StartStreamFields(TypedDict, total=False):
    """The keys of :class:`StartStreamRequest` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: The agent to stream (internal callers; agents may repeat their own id).
    agent_id: Optional[str]
    #: The primary destination's channel, whose viewers are counted (Twitch login, YouTube
    #: video id, Kick slug); default: the stored credentials' channel.
    channel: Optional[str]
    #: Custom ingest URL for the primary platform.
    custom_rtmp_url: Optional[str]
    #: Extra outputs, streamed from the same encode (simulcast).
    destinations: List[DestinationInput]
    #: A test stream no viewer sees: Twitch outputs get `?bandwidthtest=true`; any other
    #: platform is refused (`INVALID_INPUT` naming `dryRun`). The session records it.
    dry_run: bool
    #: The picture of this stream, a preset name (e.g. `"H264_720P_30"`); default: the
    #: service's `encoding`.
    encoding: Optional[EncodingPreset]
    #: Picture of the user or agent (http/https), shown in the overlay's
    #: picture-in-picture when no `overlayConfig.profilePictureUrl` is set.
    entity_avatar_url: Optional[str]
    #: Display name of the user or agent, shown on the overlay.
    entity_name: Optional[str]
    #: End an active session and start a new one.
    force_restart: bool
    #: Lobby to show.
    lobby_id: Optional[str]
    #: Overlay settings over the defaults of the stream type.
    overlay_config: Optional[OverlayConfigPatch]
    #: Primary platform.
    platform: Optional[Platform]
    #: Retake.tv access token (platform `retake`): tried first to resolve the RTMP
    #: credentials through Retake's API (see `ServiceOptions::retake`).
    retake_access_token: Optional[str]
    #: Primary stream key.
    stream_key: Optional[str]
    #: An encrypted stream key (internal callers only).
    stream_key_hash: Optional[str]
    #: Title; default `LTCG Live`.
    stream_title: Optional[str]
    #: `user` or `agent`; defaults to the caller's kind.
    stream_type: Optional[StreamType]
    #: Use the caller's stored platform, key and URL.
    use_stored_credentials: bool
    #: The user to stream (internal callers; users may repeat their own id).
    user_id: Optional[str]


class StopStreamFields(TypedDict, total=False):
    """The keys of :class:`StopStreamRequest` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: Stop every active session of this agent.
    agent_id: Optional[str]
    #: Why: 1–64 characters of `a-z`, `0-9` and `_` (e.g. `game_over`); default `manual`.
    reason: Optional[str]
    #: The session to stop.
    session_id: Optional[str]


class ListSessionsFields(TypedDict, total=False):
    """The keys of :class:`ListSessionsRequest` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: Only active sessions.
    active: bool
    #: Continue from a previous page.
    cursor: Optional[str]
    #: Only this entity.
    entity_id: Optional[str]
    #: Page size (default 50, at most 500).
    limit: Optional[int]
    #: Only sessions whose primary platform is this one.
    platform: Optional[Platform]
    #: Only sessions created at or after, Unix ms.
    since: Optional[int]
    #: Only this status.
    status: Optional[SessionStatus]
    #: Only this kind of entity (with `entityId`).
    stream_type: Optional[StreamType]
    #: Only sessions created before, Unix ms.
    until: Optional[int]


class UpdateDestinationsFields(TypedDict, total=False):
    """The keys of :class:`UpdateDestinationsRequest` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: The session.
    session_id: str
    #: Outputs to add.
    add: List[DestinationInput]
    #: Destinations to remove: our ids, or (the product's shape) `{platform}` for the
    #: first active added destination on that platform.
    remove: List[DestinationRef]


class DecisionFields(TypedDict, total=False):
    """The keys of :class:`DecisionInput` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: The game.
    game_id: str
    #: Turn number.
    turn_number: int
    #: Game phase.
    phase: str
    #: What the agent did.
    action: str
    #: Why, in the agent's words (shown on the overlay).
    reasoning: str
    #: The agent (internal callers without a session id).
    agent_id: Optional[str]
    #: How long the decision took.
    execution_time_ms: Optional[int]
    #: Action parameters.
    parameters: Any
    #: Outcome.
    result: Optional[str]
    #: The session (default: the agent's active session).
    session_id: Optional[str]


class EventFields(TypedDict, total=False):
    """The keys of :class:`EventInput` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: The game.
    game_id: str
    #: Turn number.
    turn_number: int
    #: Event type, e.g. `agent_thinking`, `agent_decided`, `card_played`.
    event_type: str
    #: What happened.
    description: str
    #: The agent (internal callers without a session id).
    agent_id: Optional[str]
    #: The lobby.
    lobby_id: Optional[str]
    #: Extra data.
    metadata: Any
    #: Who did it.
    player_username: Optional[str]
    #: The session (default: the caller's active session).
    session_id: Optional[str]


class ConfigurePlatformFields(TypedDict, total=False):
    """The keys of :class:`ConfigurePlatformRequest` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: The platform.
    platform: Platform
    #: An agent (internal callers; others act for themselves).
    agent_id: Optional[str]
    #: Start automatically when the agent's game starts (default false).
    auto_start: Optional[bool]
    #: The channel whose viewers are counted.
    channel: Optional[str]
    #: Custom ingest URL (required for custom platforms).
    custom_rtmp_url: Optional[str]
    #: The stream key (kept when omitted and the platform is unchanged).
    stream_key: Optional[str]
    #: A user (internal callers; others act for themselves).
    user_id: Optional[str]


class CredentialTargetFields(TypedDict, total=False):
    """The keys of :class:`CredentialTarget` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: An agent.
    agent_id: Optional[str]
    #: A user.
    user_id: Optional[str]


class GameStateFields(TypedDict, total=False):
    """The keys of :class:`GameState` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: The lobby the game is played in.
    lobby_id: str
    #: The game.
    game_id: str
    #: Current turn, from 1.
    turn_number: int
    #: Current phase (e.g. `main1`, `battle`).
    phase: str
    #: Whose turn it is.
    active_player: PlayerSide
    #: The lobby's host.
    host: PlayerView
    #: The host's opponent.
    opponent: PlayerView


class MatchResultFields(TypedDict, total=False):
    """The keys of :class:`MatchResultRequest` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: Stop showing the lobby (default `true`).
    clear_current_lobby: Optional[bool]
    #: When it ended, Unix ms (default now).
    last_match_ended_at: Optional[int]
    #: `win`, `loss`, `draw` or `unknown` (default).
    last_match_result: Optional[MatchOutcome]
    #: One line for viewers (default `Match over.`).
    last_match_summary: Optional[str]
    #: The session whose match ended.
    session_id: Optional[str]


class ConfigureAgentFields(TypedDict, total=False):
    """The keys of :class:`ConfigureAgentRequest` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: The agent.
    agent_id: Optional[str]
    #: Start when the agent's game starts (default `true`).
    auto_start: Optional[bool]
    #: The channel whose viewers are counted (Twitch login, YouTube video id, Kick slug;
    #: not in the product's shape).
    channel: Optional[str]
    #: Streaming on (default `true`); `false` also turns auto-start's stream off.
    enabled: Optional[bool]
    #: Keep the stream live between games (default `true`; `false` when disabled).
    keep_alive: Optional[bool]
    #: Platform (required while enabled).
    platform: Optional[Platform]
    #: Picture shown in the picture-in-picture (http/https; blank clears it).
    profile_picture_url: Optional[str]
    #: Custom ingest URL, `rtmp://` or `rtmps://`.
    rtmp_url: Optional[str]
    #: Stream key (kept when omitted and the platform is unchanged).
    stream_key: Optional[str]
    #: `webcam` or `profile-picture`.
    visual_mode: Optional[PlayerVisualMode]
    #: Loop it.
    voice_loop: Optional[bool]
    #: Voice track played on the stream (http/https; blank clears it).
    voice_track_url: Optional[str]
    #: Its volume, 0–1.
    voice_volume: Optional[float]


class ConfigureUserFields(TypedDict, total=False):
    """The keys of :class:`ConfigureUserRequest` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: Platform (not `retake`, which is agent-only).
    platform: Platform
    #: Stream key.
    stream_key: str
    #: Custom ingest URL, `rtmp://` or `rtmps://`.
    rtmp_url: Optional[str]
    #: The user (internal callers; users configure themselves).
    user_id: Optional[str]


class AgentDecisionsQueryFields(TypedDict, total=False):
    """The keys of :class:`AgentDecisionsQuery` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: The agent (internal callers; agents read their own).
    agent_id: Optional[str]
    #: Only this game's decisions, oldest first (otherwise newest first).
    game_id: Optional[str]
    #: At most this many (default 50, at most 100).
    limit: Optional[int]
    #: The session to read (default: the agent's active session, else its newest).
    session_id: Optional[str]


class ChangeNoticeFields(TypedDict, total=False):
    """The keys of :class:`ChangeNotice` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: A lobby whose game state changed.
    lobby_id: Optional[str]
    #: A session that changed.
    session_id: Optional[str]


class AnalyticsQueryFields(TypedDict, total=False):
    """The keys of :class:`AnalyticsQuery` as keyword arguments (snake_case names);
    each may instead come in the request mapping.
    """

    #: Sessions created at or after, Unix ms.
    since: int
    #: Only this entity (users and agents: only themselves).
    entity_id: Optional[str]
    #: `day` (UTC, the default), `platform` or `entity`.
    group_by: AnalyticsGroup
    #: Count dry runs too.
    include_dry_runs: bool
    #: Only this kind of entity (with `entityId`).
    stream_type: Optional[StreamType]
    #: Sessions created before, Unix ms (default: up to and including now).
    until: Optional[int]


# --- Earlier names ---------------------------------------------------------------------------

#: The earlier name of :class:`RateLimitOptions`.
RateLimits = RateLimitOptions
#: The earlier name of :class:`SessionStatusView`.
SessionView = SessionStatusView
