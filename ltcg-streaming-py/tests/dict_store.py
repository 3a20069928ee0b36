"""A session store in plain Python dicts: the reference implementation of the protocol.

Every method takes one asyncio lock and yields to the event loop inside it, so the
conformance suite's concurrent checks really interleave calls; returned values are copies.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Dict, List, Optional, Set, Tuple

from ltcg_streaming import ConflictError, InvalidInputError, NotFoundError
from ltcg_streaming.types import (
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

TERMINAL = ("ended", "error")
EntityKey = Tuple[str, str]


def key(value: Entity | StreamSession | PlatformCredential) -> EntityKey:
    return (value["streamType"], value["entityId"])


class DictStore:
    """Sessions, feeds, event claims and credentials in dicts."""

    def __init__(self) -> None:
        self.sessions: Dict[str, StreamSession] = {}
        self.active: Dict[EntityKey, str] = {}
        self.by_egress: Dict[str, str] = {}
        self.feeds: Dict[Tuple[str, str], List[Activity]] = {}
        self.events: Dict[str, int] = {}
        self.credentials: Dict[EntityKey, PlatformCredential] = {}
        self.leases: Dict[str, Lease] = {}
        self.games: Dict[str, StoredGameState] = {}
        self.samples: Dict[str, Dict[Tuple[int, str], ViewerSample]] = {}
        self.timelines: Dict[str, List[TimelineEntry]] = {}
        self.lock = asyncio.Lock()

    def _index(self, session: StreamSession) -> None:
        if "egressId" in session:
            self.by_egress[session["egressId"]] = session["sessionId"]
        if session["status"] in TERMINAL and self.active.get(key(session)) == session["sessionId"]:
            del self.active[key(session)]

    def _live(self, session_id: str) -> StreamSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise NotFoundError("session")
        if session["status"] in TERMINAL:
            raise ConflictError("session is over")
        return session

    async def insert_session(self, session: StreamSession) -> InsertResult:
        async with self.lock:
            await asyncio.sleep(0)
            existing = self.active.get(key(session))
            if existing is not None:
                return {"created": False, "session": copy.deepcopy(self.sessions[existing])}
            if session["sessionId"] in self.sessions:
                raise ConflictError("session id already exists")
            stored: StreamSession = {**session, "version": 1}
            self.sessions[stored["sessionId"]] = stored
            if stored["status"] not in TERMINAL:
                self.active[key(stored)] = stored["sessionId"]
            self._index(stored)
            return {"created": True, "session": copy.deepcopy(stored)}

    async def get_session(self, session_id: str) -> Optional[StreamSession]:
        return copy.deepcopy(self.sessions.get(session_id))

    async def find_by_egress(self, egress_id: str) -> Optional[StreamSession]:
        session_id = self.by_egress.get(egress_id)
        return None if session_id is None else copy.deepcopy(self.sessions[session_id])

    async def active_session(self, entity: Entity) -> Optional[StreamSession]:
        session_id = self.active.get(key(entity))
        return None if session_id is None else copy.deepcopy(self.sessions[session_id])

    async def update_session(self, session: StreamSession) -> StreamSession:
        async with self.lock:
            stored = self.sessions.get(session["sessionId"])
            await asyncio.sleep(0)
            if stored is None:
                raise NotFoundError("session")
            if stored["version"] != session["version"]:
                raise ConflictError("session was changed concurrently")
            updated: StreamSession = {
                **session,
                "version": stored["version"] + 1,
                # Counters change only through record_activity and set_viewer_count.
                "viewerCount": stored["viewerCount"],
                "peakViewerCount": stored["peakViewerCount"],
                "decisionsLogged": stored["decisionsLogged"],
                "eventsRecorded": stored["eventsRecorded"],
            }
            self.sessions[updated["sessionId"]] = updated
            self._index(updated)
            return copy.deepcopy(updated)

    async def list_sessions(self, query: SessionQuery) -> SessionPage:
        after: Optional[Tuple[int, str]] = None
        if query["cursor"] is not None:
            at, _, session_id = query["cursor"].partition(".")
            if not at.lstrip("-").isdigit() or not session_id:
                raise InvalidInputError("is not a cursor returned by this store", field="cursor")
            after = (int(at), session_id)
        entity, status = query["entity"], query["status"]
        matching = sorted(
            (
                s
                for s in self.sessions.values()
                if (entity is None or key(s) == key(entity))
                and (status is None or s["status"] == status)
                and (not query["activeOnly"] or s["status"] not in TERMINAL)
                and (query["platform"] is None or s["platform"] == query["platform"])
                and (query["createdFrom"] is None or s["createdAt"] >= query["createdFrom"])
                and (query["createdBefore"] is None or s["createdAt"] < query["createdBefore"])
                and (after is None or (s["createdAt"], s["sessionId"]) < after)
            ),
            key=lambda s: (s["createdAt"], s["sessionId"]),
            reverse=True,
        )
        page = matching[: query["limit"]]
        more = len(matching) > len(page)
        cursor = f"{page[-1]['createdAt']}.{page[-1]['sessionId']}" if more else None
        return {"sessions": copy.deepcopy(page), "nextCursor": cursor}

    async def record_activity(self, session_id: str, activity: Activity) -> StreamSession:
        async with self.lock:
            session: StreamSession = {**self._live(session_id)}
            await asyncio.sleep(0)
            if activity["kind"] == "decision":
                session["decisionsLogged"] += 1
            else:
                session["eventsRecorded"] += 1
            session["version"] += 1
            self.sessions[session_id] = session
            self.feeds.setdefault((session_id, activity["kind"]), []).append(activity)
            return copy.deepcopy(session)

    async def recent_activity(
        self, session_id: str, kind: ActivityKind, limit: int
    ) -> List[Activity]:
        feed = self.feeds.get((session_id, kind), [])
        return copy.deepcopy(feed[::-1][:limit])

    async def set_viewer_count(self, session_id: str, viewers: int) -> StreamSession:
        async with self.lock:
            session: StreamSession = {**self._live(session_id)}
            await asyncio.sleep(0)
            session["viewerCount"] = viewers
            session["peakViewerCount"] = max(session["peakViewerCount"], viewers)
            session["version"] += 1
            self.sessions[session_id] = session
            return copy.deepcopy(session)

    async def claim_event(self, event_id: str, now_ms: int) -> bool:
        async with self.lock:
            await asyncio.sleep(0)
            if event_id in self.events:
                return False
            self.events[event_id] = now_ms
            return True

    async def release_event(self, event_id: str) -> None:
        self.events.pop(event_id, None)

    async def prune_events(self, claimed_before_ms: int) -> int:
        old = [e for e, at in self.events.items() if at < claimed_before_ms]
        for event_id in old:
            del self.events[event_id]
        return len(old)

    async def claim_lease(self, name: str, holder: str, now_ms: int, ttl_ms: int) -> Lease:
        lease = self.leases.get(name)
        if lease is None or lease["holder"] == holder or lease["expiresAt"] <= now_ms:
            lease = {"name": name, "holder": holder, "expiresAt": now_ms + ttl_ms}
            self.leases[name] = lease
        return dict(lease)  # type: ignore[return-value]

    async def release_lease(self, name: str, holder: str) -> bool:
        lease = self.leases.get(name)
        if lease is None or lease["holder"] != holder:
            return False
        del self.leases[name]
        return True

    async def put_credential(self, credential: PlatformCredential) -> None:
        self.credentials[key(credential)] = copy.deepcopy(credential)

    async def get_credential(self, entity: Entity) -> Optional[PlatformCredential]:
        return copy.deepcopy(self.credentials.get(key(entity)))

    async def delete_credential(self, entity: Entity) -> bool:
        return self.credentials.pop(key(entity), None) is not None

    async def list_credentials(
        self, after: Optional[Entity], limit: int
    ) -> List[PlatformCredential]:
        start = None if after is None else key(after)
        keys = sorted(k for k in self.credentials if start is None or k > start)
        return [copy.deepcopy(self.credentials[k]) for k in keys[:limit]]

    async def put_game_state(self, game_state: StoredGameState) -> None:
        self.games[game_state["state"]["lobbyId"]] = copy.deepcopy(game_state)

    async def get_game_state(self, lobby_id: str) -> Optional[StoredGameState]:
        return copy.deepcopy(self.games.get(lobby_id))

    async def record_viewer_samples(self, samples: List[ViewerSample]) -> None:
        for sample in samples:
            per_session = self.samples.setdefault(sample["sessionId"], {})
            per_session[(sample["at"], sample["destinationId"])] = copy.deepcopy(sample)

    async def viewer_samples(self, session_id: str, limit: int) -> List[ViewerSample]:
        per_session = self.samples.get(session_id, {})
        return [copy.deepcopy(per_session[k]) for k in sorted(per_session)[:limit]]

    async def append_timeline(self, entries: List[TimelineEntry]) -> None:
        for entry in entries:
            self.timelines.setdefault(entry["sessionId"], []).append(copy.deepcopy(entry))

    async def timeline(self, session_id: str, limit: int) -> List[TimelineEntry]:
        return copy.deepcopy(self.timelines.get(session_id, [])[:limit])
