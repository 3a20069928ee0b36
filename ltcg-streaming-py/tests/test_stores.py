"""The core's SQL stores from Python."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

from ltcg_streaming import (
    Actor,
    MemoryEgress,
    PostgresStore,
    SqliteStore,
    StoreError,
    StreamingConfig,
    StreamingService,
)

from .conftest import STREAM_KEY

AGENT = Actor.agent("agent_sql")


async def test_sqlite_sessions_survive_a_reopen(
    tmp_path: Path, make_service: Callable[..., StreamingService]
) -> None:
    path = tmp_path / "sessions.db"
    store = await SqliteStore.open(path)
    assert store.path == path and repr(store) == f"SqliteStore('{path}')"
    started = await make_service(store).start_stream(AGENT, platform="twitch", stream_key=STREAM_KEY)
    await store.close()
    reopened = await SqliteStore.open(str(path))
    status = await make_service(reopened).get_status(AGENT, started["sessionId"])
    assert status["status"] == "pending"
    await reopened.close()


async def test_sqlite_open_failures_are_store_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        await SqliteStore.open(tmp_path / "missing-dir" / "x.db")


POSTGRES_URL = os.environ.get("LTCG_TEST_POSTGRES_URL")


@pytest.mark.skipif(
    not POSTGRES_URL and os.environ.get("CI") != "true",
    reason="LTCG_TEST_POSTGRES_URL is not set",
)
async def test_postgres_store(make_service: Callable[..., StreamingService]) -> None:
    assert POSTGRES_URL, "CI=true requires LTCG_TEST_POSTGRES_URL"
    schema = f"py_{os.getpid()}"
    store = await PostgresStore.connect(POSTGRES_URL, schema=schema)
    assert store.schema == schema and POSTGRES_URL not in repr(store)
    service = make_service(store)
    started = await service.start_stream(AGENT, platform="twitch", stream_key=STREAM_KEY)
    stopped = await service.stop_stream(AGENT, session_id=started["sessionId"])
    assert stopped["stoppedSessionIds"] == [started["sessionId"]]
    await store.close()


async def test_stores_and_services_close_at_the_end_of_async_with(
    tmp_path: Path, config: StreamingConfig, egress: MemoryEgress
) -> None:
    async with await SqliteStore.open(tmp_path / "streams.db") as store:
        async with StreamingService(config, store, egress, rate_limits=False) as service:
            started = await service.start_stream(
                Actor.internal(), agent_id="agent_cm", platform="twitch", stream_key=STREAM_KEY
            )
        # Closing the service leaves the store (the caller's) open.
        assert (await service.get_status(Actor.internal(), started["sessionId"]))["status"] == "pending"
    with pytest.raises(StoreError):
        await service.get_status(Actor.internal(), started["sessionId"])
