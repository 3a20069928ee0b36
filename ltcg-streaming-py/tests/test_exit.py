"""The interpreter exits cleanly right after calls complete, or while some are in flight.

Runtime threads hand results to the event loop; an exit that raced them used to crash the
process (CPython kills threads that take the GIL during finalization).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio
    from ltcg_streaming import Actor, MemoryEgress, MemoryStore, StreamingConfig, StreamingService

    async def main() -> None:
        service = StreamingService(
            StreamingConfig("42" * 32, "s" * 40, development=True), MemoryStore(), MemoryEgress(), rate_limits=False
        )
        agents = [Actor.agent(f"a{i}") for i in range(20)]
        await asyncio.gather(
            *(service.start_stream(a, platform="twitch", stream_key="k") for a in agents)
        )
        service.list_sessions(Actor.internal())  # still in flight at exit
        await service.list_sessions(Actor.internal())

    asyncio.run(main())
    """
)


def test_exit_right_after_calls_is_clean() -> None:
    for _ in range(10):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
