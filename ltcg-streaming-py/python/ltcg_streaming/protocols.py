"""The protocol a session store written in Python implements.

Any object with these async methods can be passed wherever a store is accepted
(``StreamingService(config, store, egress)``). Values are plain dicts with the camelCase
keys the core uses (see :mod:`ltcg_streaming.types`); store them as given and return them
unchanged (extra keys are ignored, e.g. a database's own ``_id``).

Contract (the core's conformance suite checks each point):

- ``insert_session`` writes a session unless its entity already has an active one
  (status not ``ended``/``error``), atomically; the stored copy has ``version`` 1.
- ``update_session`` is a compare-and-swap on ``version``: it writes only if the stored
  ``version`` equals the given one, bumps it, keeps the stored counters
  (``viewerCount``, ``peakViewerCount``, ``decisionsLogged``, ``eventsRecorded``), and
  returns the stored copy. Raise :class:`~ltcg_streaming.ConflictError` on a version
  mismatch and :class:`~ltcg_streaming.NotFoundError` for an unknown session.
- ``record_activity`` and ``set_viewer_count`` change counters and bump ``version``
  atomically; on a terminal session they raise ``ConflictError``.
- ``list_sessions`` returns sessions newest first (``createdAt``, then ``sessionId``,
  descending) in pages of ``query["limit"]``, with an opaque ``nextCursor`` while more
  remain; a cursor it did not make raises :class:`~ltcg_streaming.InvalidInputError`.
- ``claim_event`` returns ``True`` only the first time an event id is claimed (until it is
  released).

Any other exception a method raises reaches the caller of the service unchanged. The
coroutines run on the event loop that awaits the service call, so a Python store works only
through the (async) service API. A returned value is read after the coroutine finishes:
return a copy, not an object that other coroutines go on changing. A method may also be a
plain function returning its value; it then runs on a runtime thread (holding the GIL),
not on the event loop.
"""

from __future__ import annotations

from typing import List, Optional, Protocol, runtime_checkable

from .types import (
    Activity,
    ActivityKind,
    Entity,
    InsertResult,
    Lease,
    PlatformCredential,
    StoredGameState,
    SessionPage,
    SessionQuery,
    StreamSession,
    TimelineEntry,
    ViewerSample,
)

__all__ = ["SessionStore"]


@runtime_checkable
class SessionStore(Protocol):
    """Storage for sessions, their activity feeds, credentials and processed webhook ids."""

    async def insert_session(self, session: StreamSession) -> InsertResult:
        """Stores a new session unless its entity has an active one (then returns that)."""
        ...

    async def get_session(self, session_id: str) -> Optional[StreamSession]:
        """A session by id."""
        ...

    async def find_by_egress(self, egress_id: str) -> Optional[StreamSession]:
        """The session whose ``egressId`` is ``egress_id``."""
        ...

    async def active_session(self, entity: Entity) -> Optional[StreamSession]:
        """The entity's active (non-terminal) session."""
        ...

    async def update_session(self, session: StreamSession) -> StreamSession:
        """Compare-and-swap on ``version``; returns the stored copy."""
        ...

    async def list_sessions(self, query: SessionQuery) -> SessionPage:
        """One page of matching sessions, newest first."""
        ...

    async def record_activity(self, session_id: str, activity: Activity) -> StreamSession:
        """Appends to an active session's feed and counts it; returns the session."""
        ...

    async def recent_activity(
        self, session_id: str, kind: ActivityKind, limit: int
    ) -> List[Activity]:
        """The newest ``limit`` activities of one kind, newest first."""
        ...

    async def set_viewer_count(self, session_id: str, viewers: int) -> StreamSession:
        """Sets ``viewerCount`` and raises ``peakViewerCount``; returns the session."""
        ...

    async def claim_event(self, event_id: str, now_ms: int) -> bool:
        """``True`` the first time ``event_id`` is claimed."""
        ...

    async def release_event(self, event_id: str) -> None:
        """Makes a claimed event id claimable again."""
        ...

    async def prune_events(self, claimed_before_ms: int) -> int:
        """Forgets event ids claimed before ``claimed_before_ms`` (Unix ms) and returns how
        many. Optional at run time (without it, event ids are kept forever), required by the
        conformance suite."""
        ...

    async def claim_lease(self, name: str, holder: str, now_ms: int, ttl_ms: int) -> Lease:
        """Atomically takes the lease ``name`` for ``holder`` until ``now_ms + ttl_ms`` when
        nobody holds it or it lapsed (``expiresAt <= now_ms``), renews it when ``holder``
        holds it, and returns the lease as stored afterwards (another holder's, if it keeps
        it)."""
        ...

    async def release_lease(self, name: str, holder: str) -> bool:
        """Gives up ``holder``'s lease ``name``; ``True`` if it held it."""
        ...

    async def put_credential(self, credential: PlatformCredential) -> None:
        """Creates or replaces the entity's credentials."""
        ...

    async def get_credential(self, entity: Entity) -> Optional[PlatformCredential]:
        """The entity's credentials."""
        ...

    async def delete_credential(self, entity: Entity) -> bool:
        """Deletes the entity's credentials; ``True`` if there were any."""
        ...

    async def list_credentials(
        self, after: Optional[Entity], limit: int
    ) -> List[PlatformCredential]:
        """At most ``limit`` credentials in (``streamType``, ``entityId``) byte order, those
        strictly after ``after`` (all from the start when ``None``). Optional at run time
        (stored keys cannot be rotated without it), required by the conformance suite."""
        ...

    async def put_game_state(self, game_state: StoredGameState) -> None:
        """Creates or replaces the game state of ``game_state["state"]["lobbyId"]``."""
        ...

    async def get_game_state(self, lobby_id: str) -> Optional[StoredGameState]:
        """The game state of a lobby."""
        ...

    async def record_viewer_samples(self, samples: List[ViewerSample]) -> None:
        """Appends viewer samples; one for the same session, destination and time (``at``)
        replaces the one stored."""
        ...

    async def viewer_samples(self, session_id: str, limit: int) -> List[ViewerSample]:
        """A session's samples, oldest first (then by ``destinationId``), at most ``limit``."""
        ...

    async def append_timeline(self, entries: List[TimelineEntry]) -> None:
        """Appends entries to their sessions' timelines, in order."""
        ...

    async def timeline(self, session_id: str, limit: int) -> List[TimelineEntry]:
        """A session's timeline in the order appended, at most ``limit``."""
        ...
