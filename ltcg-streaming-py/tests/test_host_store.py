"""A session store written in Python: the core's conformance suite, and the service on it."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, List

import pytest

from ltcg_streaming import (
    Actor,
    ConflictError,
    ExternalError,
    InvalidInputError,
    MemoryEgress,
    NotFoundError,
    SessionStore,
    StreamingService,
)
from ltcg_streaming.testing import run_session_store_conformance, session_store_conformance_checks
from ltcg_streaming.types import InsertResult, StreamSession

from .conftest import STREAM_KEY
from .dict_store import DictStore

CONCURRENT_CHECKS = {
    "concurrent_inserts_have_one_winner",
    "concurrent_updates_lose_nothing",
    "concurrent_claims_have_one_winner",
    "concurrent_activities_are_all_counted",
}


async def test_dict_store_passes_every_conformance_check() -> None:
    made: List[DictStore] = []

    def factory() -> DictStore:
        made.append(DictStore())
        return made[-1]

    failures = await run_session_store_conformance(factory)
    assert failures == []
    checks = session_store_conformance_checks()
    assert CONCURRENT_CHECKS <= set(checks)
    assert len(made) == len(checks) >= 14, "one fresh store per check"


class NoOneActiveRule(DictStore):
    """Forgets the one-active-session-per-entity rule."""

    async def insert_session(self, session: StreamSession) -> InsertResult:
        self.active.clear()
        return await super().insert_session(session)


class LostUpdates(DictStore):
    """Writes without comparing versions."""

    async def update_session(self, session: StreamSession) -> StreamSession:
        stored = self.sessions.get(session["sessionId"])
        if stored is not None:
            session = {**session, "version": stored["version"]}
        return await super().update_session(session)


async def test_conformance_suite_catches_broken_python_stores() -> None:
    failures = dict(await run_session_store_conformance(NoOneActiveRule))
    assert "one_active_session_per_entity" in failures
    assert "concurrent_inserts_have_one_winner" in failures
    failures = dict(await run_session_store_conformance(LostUpdates))
    assert "update_is_compare_and_swap" in failures


def test_dict_store_satisfies_the_protocol() -> None:
    store: SessionStore = DictStore()
    assert isinstance(store, SessionStore)


def test_objects_without_the_store_methods_are_refused(
    make_service: Callable[..., StreamingService],
) -> None:
    with pytest.raises(InvalidInputError, match="lacks .*get_session") as caught:
        make_service(object())
    assert caught.value.field == "store"


async def test_service_runs_on_a_python_store(make_service: Callable[..., StreamingService]) -> None:
    store = DictStore()
    service = make_service(store)
    agent = Actor.agent("agent_py")
    started = await service.start_stream(agent, platform="twitch", stream_key=STREAM_KEY)
    stored = store.sessions[started["sessionId"]]
    assert stored["status"] == "pending" and stored["entityId"] == "agent_py"
    assert STREAM_KEY not in repr(stored), "the store never sees the stream key in clear"
    await service.record_decision(
        agent, game_id="g1", turn_number=1, phase="main", action="attack", reasoning="why"
    )
    await service.update_viewer_count(agent, started["sessionId"], 7)
    status = await service.get_status(agent, started["sessionId"])
    assert (status["decisionsLogged"], status["viewerCount"]) == (1, 7)
    feed = await service.recent_activity(agent, started["sessionId"], "decision")
    assert feed[0]["data"]["reasoning"] == "why"
    stopped = await service.stop_stream(agent, session_id=started["sessionId"])
    assert stopped["stats"] == {
        "duration": 0,
        "decisionsLogged": 1,
        "eventsRecorded": 0,
        "peakViewerCount": 7,
    }
    assert store.sessions[started["sessionId"]]["status"] == "ended"


class Failing(DictStore):
    """Raises its own exception from one method."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    async def get_session(self, session_id: str) -> StreamSession | None:
        raise self.error


class StoreDown(Exception):
    pass


async def test_store_exceptions_reach_the_caller_unchanged(
    make_service: Callable[..., StreamingService],
) -> None:
    error = StoreDown("database is down")
    service = make_service(Failing(error))
    with pytest.raises(StoreDown) as caught:
        await service.get_status(Actor.internal(), "ses_x")
    assert caught.value is error
    value_error = ValueError("bad row")
    service = make_service(Failing(value_error))
    with pytest.raises(ValueError) as caught_value:
        await service.overlay_url(Actor.internal(), "ses_x")
    assert caught_value.value is value_error


async def test_store_errors_with_a_meaning_inform_the_core(
    make_service: Callable[..., StreamingService],
) -> None:
    service = make_service(Failing(NotFoundError("session")))
    with pytest.raises(NotFoundError, match="^session not found$"):
        await service.get_status(Actor.internal(), "ses_x")


class FlakyUpdates(DictStore):
    """Reports a conflict on the first update, as a concurrent writer would cause."""

    conflicts = 0

    async def update_session(self, session: StreamSession) -> StreamSession:
        if self.conflicts == 0:
            self.conflicts += 1
            raise ConflictError("version moved")
        return await super().update_session(session)


async def test_conflicts_raised_by_a_python_store_are_retried(
    make_service: Callable[..., StreamingService],
) -> None:
    store = FlakyUpdates()
    service = make_service(store)
    started = await service.start_stream(Actor.agent("a1"), platform="twitch", stream_key=STREAM_KEY)
    assert store.conflicts == 1, "the egress id was saved after one retry"
    assert started["status"] == "pending"


class SyncStore(DictStore):
    """Plain (non-async) return values are accepted too."""

    def get_session(self, session_id: str) -> StreamSession | None:  # type: ignore[override]
        return self.sessions.get(session_id)


async def test_plain_return_values_are_accepted(make_service: Callable[..., StreamingService]) -> None:
    service = make_service(SyncStore())
    started = await service.start_stream(Actor.agent("a1"), platform="twitch", stream_key=STREAM_KEY)
    status = await service.get_status(Actor.agent("a1"), started["sessionId"])
    assert status["status"] == "pending"


class WrongShape(DictStore):
    async def get_session(self, session_id: str) -> Any:
        return {"sessionId": session_id}


async def test_invalid_return_values_are_external_errors_naming_the_field(
    make_service: Callable[..., StreamingService],
) -> None:
    service = make_service(WrongShape())
    with pytest.raises(ExternalError, match=r"WrongShape\.get_session returned an invalid value at platform"):
        await service.get_status(Actor.internal(), "ses_x")


class SlowStore(DictStore):
    """Reads sessions slowly once `delay` is set."""

    delay = 0.0

    async def get_session(self, session_id: str) -> StreamSession | None:
        await asyncio.sleep(self.delay)
        return await super().get_session(session_id)


async def test_a_slow_python_store_does_not_block_the_event_loop(
    make_service: Callable[..., StreamingService],
) -> None:
    store = SlowStore()
    service = make_service(store)
    started = await service.start_stream(Actor.agent("a1"), platform="twitch", stream_key=STREAM_KEY)
    store.delay = 0.5
    ticks: Dict[str, int] = {"n": 0}

    async def ticker() -> None:
        while True:
            await asyncio.sleep(0.01)
            ticks["n"] += 1

    task = asyncio.ensure_future(ticker())
    loop = asyncio.get_running_loop()
    begun = loop.time()
    status = await service.get_status(Actor.agent("a1"), started["sessionId"])
    elapsed = loop.time() - begun
    task.cancel()
    assert status["sessionId"] == started["sessionId"]
    assert elapsed >= 0.5
    assert ticks["n"] >= 20, f"only {ticks['n']} ticks in {elapsed:.2f}s: the loop was blocked"


class SlowInsert(DictStore):
    """Takes a fifth of a second to insert a session."""

    async def insert_session(self, session: StreamSession) -> InsertResult:
        await asyncio.sleep(0.2)
        return await super().insert_session(session)


async def test_cancelling_a_call_before_it_commits_stops_it_and_its_store_call(
    make_service: Callable[..., StreamingService], egress: MemoryEgress
) -> None:
    store = SlowInsert()
    service = make_service(store)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(
            service.start_stream(Actor.agent("a1"), platform="twitch", stream_key=STREAM_KEY), 0.05
        )
    await asyncio.sleep(0.3)
    assert len(store.sessions) == 0, "the store call that was running was cancelled too"
    assert egress.started == 0, "the rest of the start was abandoned"
