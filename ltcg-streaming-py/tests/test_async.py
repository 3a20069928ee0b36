"""The event loop is never blocked: calls run concurrently in Rust, without the GIL."""

from __future__ import annotations

import asyncio
from typing import Callable

from ltcg_streaming import Actor, MemoryEgress, StreamingService

from .conftest import APP_URL, STREAM_KEY


async def test_200_concurrent_starts(service: StreamingService, egress: MemoryEgress) -> None:
    agents = [f"agent_{i:03}" for i in range(200)]
    results = await asyncio.gather(
        *(
            service.start_stream(Actor.agent(a), platform="twitch", stream_key=f"{STREAM_KEY}{i}")
            for i, a in enumerate(agents)
        )
    )
    assert len(results) == 200
    assert len({r["sessionId"] for r in results}) == 200
    for agent, result in zip(agents, results):
        assert result["success"] and result["status"] == "pending" and not result["reused"]
        assert result["overlayUrl"].startswith(f"{APP_URL}/stream/overlay?sessionId={result['sessionId']}")
    assert egress.started == 200
    statuses = await asyncio.gather(
        *(service.get_status(Actor.agent(a), r["sessionId"]) for a, r in zip(agents, results))
    )
    assert [s["entityId"] for s in statuses] == agents
    listed = await service.list_sessions(Actor.internal(), active=True, limit=500)
    assert listed["count"] == 200


async def test_other_coroutines_run_while_calls_are_in_flight(
    make_service: Callable[..., StreamingService],
) -> None:
    service = make_service()
    progress: list[int] = []

    async def other_work() -> None:
        for n in range(50):
            progress.append(n)
            await asyncio.sleep(0)

    await asyncio.gather(
        other_work(),
        *(service.list_sessions(Actor.agent(f"a{i}")) for i in range(50)),
    )
    assert progress == list(range(50))
