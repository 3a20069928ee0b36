"""The core's one boundary, seen from Python: the shared table of bad inputs, plain arguments
of the wrong kind, snake_case options, public views only, and what cancelling a call does."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, List, Optional

import pytest

from ltcg_streaming import Actor, InvalidInputError, MemoryEgress, StreamingService
from ltcg_streaming.types import InsertResult, StreamSession

from .conftest import STREAM_KEY, fixture
from .dict_store import DictStore

INTERNAL = Actor.internal()
AGENT = Actor.agent("agent_boundary")


@pytest.mark.parametrize("case", fixture("bad_inputs")["cases"], ids=lambda c: str(c["name"]))
async def test_every_bad_input_of_the_shared_table_is_refused_the_same_way(
    service: StreamingService, case: dict[str, Any]
) -> None:
    call = getattr(service, case["method"])
    with pytest.raises(InvalidInputError) as caught:
        await call(INTERNAL, case["input"])
    expected = "request" if case["field"] == "<whole>" else case["field"]
    assert caught.value.field == expected
    assert caught.value.code == "INVALID_INPUT"
    if case["secret"]:
        assert case["secret"] not in str(caught.value)


async def test_plain_arguments_of_the_wrong_kind_are_invalid_input_when_awaited(
    service: StreamingService,
) -> None:
    started = await service.start_stream(AGENT, platform="twitch", stream_key=STREAM_KEY)
    sid = started["sessionId"]
    for viewers in (-5, "5", 2**70, 1.5):
        pending = service.update_viewer_count(AGENT, sid, viewers)  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError) as caught:
            await pending
        assert caught.value.field == "viewers"
    with pytest.raises(InvalidInputError) as caught:
        await service.get_status(AGENT, 42)  # type: ignore[arg-type]
    assert caught.value.field == "sessionId"
    with pytest.raises(InvalidInputError) as caught:
        await service.recent_activity(AGENT, sid, "event", limit=101)
    assert caught.value.field == "limit"
    with pytest.raises(InvalidInputError) as caught:
        await service.get_status(AGENT, object())  # type: ignore[arg-type]
    assert caught.value.field == "sessionId"


def test_options_are_snake_case_keywords(make_service: Callable[..., StreamingService]) -> None:
    make_service(rate_limits={"starts_per_minute": 2, "start_burst": 1})
    make_service(egress_start_timeout_ms=5000, encoding="H264_720P_30")
    with pytest.raises(InvalidInputError) as caught:
        make_service(rate_limits={"startsPerHour": 2})
    assert caught.value.field == "options.rateLimits"
    with pytest.raises(InvalidInputError) as unknown:
        make_service(egress_timeout=5)
    assert unknown.value.field == "options.egressTimeout"


def no_ciphertext(value: Any) -> None:
    if isinstance(value, dict):
        assert not {"encryptedUrl", "encryptedKey", "version"} & value.keys(), value
        for item in value.values():
            no_ciphertext(item)
    elif isinstance(value, list):
        for item in value:
            no_ciphertext(item)
    elif isinstance(value, str):
        assert value.count(":") != 2 or not all(
            len(p) >= 8 and all(c in "0123456789abcdef" for c in p) for p in value.split(":")
        ), value


async def test_results_are_public_views(service: StreamingService) -> None:
    started = await service.start_stream(
        AGENT,
        platform="twitch",
        stream_key=STREAM_KEY,
        destinations=[{"platform": "kick", "streamKey": "sk_kick_secret_1"}],
    )
    sid = started["sessionId"]
    outputs: List[Any] = [
        started,
        await service.get_status(AGENT, sid),
        await service.link_lobby(AGENT, sid, "lobby_1"),
        await service.update_viewer_count(AGENT, sid, 3),
        await service.list_sessions(AGENT),
        await service.stop_stream(AGENT, session_id=sid),
    ]
    for output in outputs:
        no_ciphertext(output)
        assert STREAM_KEY not in repr(output) and "sk_kick_secret_1" not in repr(output)


class GatedStore(DictStore):
    """Holds `insert_session` or `update_session` at a gate until it is opened."""

    def __init__(self, hold: str) -> None:
        super().__init__()
        self.hold = hold
        self.reached = asyncio.Event()
        self.gate = asyncio.Event()

    async def _wait(self, method: str) -> None:
        if method == self.hold:
            self.reached.set()
            await self.gate.wait()

    async def insert_session(self, session: StreamSession) -> InsertResult:
        await self._wait("insert_session")
        return await super().insert_session(session)

    async def update_session(self, session: StreamSession) -> StreamSession:
        await self._wait("update_session")
        return await super().update_session(session)


async def _cancel_start(
    make_service: Callable[..., StreamingService], hold: str
) -> tuple[GatedStore, Optional[str]]:
    store = GatedStore(hold)
    service = make_service(store)
    call = asyncio.ensure_future(
        service.start_stream(AGENT, platform="twitch", stream_key=STREAM_KEY)
    )
    await asyncio.wait_for(store.reached.wait(), 5)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    await asyncio.sleep(0.05)  # the cancellation reaches the Rust task
    store.gate.set()
    for _ in range(200):
        await asyncio.sleep(0.01)
        sessions = list(store.sessions.values())
        if sessions and sessions[0]["status"] != "initializing":
            break
    sessions = list(store.sessions.values())
    return store, sessions[0]["status"] if sessions else None


async def test_a_start_cancelled_before_its_row_is_written_leaves_nothing(
    make_service: Callable[..., StreamingService], egress: MemoryEgress
) -> None:
    _, status = await _cancel_start(make_service, "insert_session")
    await asyncio.sleep(0.1)
    assert status is None
    assert egress.started == 0


async def test_a_start_cancelled_after_its_row_is_written_runs_to_its_end(
    make_service: Callable[..., StreamingService], egress: MemoryEgress
) -> None:
    store, status = await _cancel_start(make_service, "update_session")
    assert status == "pending"
    assert egress.started == 1
    session = next(iter(store.sessions.values()))
    assert session.get("egressId")
