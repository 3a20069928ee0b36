"""The example agent (examples/python/streaming_agent.py) streams a scripted game: against
the reference server rendering a test pattern to nginx-rtmp, embedded, and through faults."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ltcg_streaming import (
    Actor,
    Client,
    EgressError,
    RateLimitedError,
    StreamingService,
    UnauthorizedError,
)

from .nginx_rtmp import NginxRtmp, nginx_rtmp, probe_codecs  # noqa: F401 (nginx_rtmp is a fixture)
from .reference_server import AGENT_ID, AGENT_KEY, REPO, start_server, stop_server

sys.path.insert(0, str(REPO / "examples" / "python"))
from streaming_agent import AgentSettings, StreamingAgent, play  # noqa: E402

STREAM_KEY = "agentgame1"


def first_overlay_snapshot(overlay_url: str) -> dict[str, Any]:
    """The first snapshot of the overlay page's event stream (with the page's token)."""
    page = urllib.parse.urlsplit(overlay_url)
    events = urllib.parse.urlunsplit((page.scheme, page.netloc, "/stream/overlay/events", page.query, ""))
    with urllib.request.urlopen(events, timeout=10) as stream:
        for raw in stream:
            line = raw.decode().strip()
            if line.startswith("data:"):
                snapshot: dict[str, Any] = json.loads(line[len("data:") :])
                return snapshot
    raise AssertionError("no snapshot")


async def test_the_agent_streams_a_game_to_rtmp_through_the_reference_server(
    tmp_path: Path, nginx_rtmp: NginxRtmp  # noqa: F811
) -> None:
    server = start_server(
        tmp_path,
        {
            "LTCG_EGRESS": "test-pattern",
            "LTCG_ENCODING": "H264_540P_30",
            "STREAMING_DESTINATION_ALLOWLIST": "127.0.0.1",
        },
    )
    try:
        async with Client.connect(server.url, AGENT_KEY) as client:
            await client.configure_platform(platform="custom", stream_key=STREAM_KEY, custom_rtmp_url=nginx_rtmp.base_url)
            agent = StreamingAgent(client, AgentSettings(agent_id=AGENT_ID, keep_stream=True))
            record = await play(agent, "lobby_1", "game_1", turns=3)
            assert record.session_id is not None and not record.gave_up
            session_id = record.session_id

            # The picture reaches the RTMP server while the session is live.
            async for status in client.watch_status(session_id, refresh_seconds=0.2):
                if status["status"] == "live":
                    break
                assert status["status"] in ("initializing", "pending"), status
            codecs = await asyncio.to_thread(probe_codecs, f"{nginx_rtmp.base_url}/{STREAM_KEY}")
            assert "h264" in codecs, codecs

            status = await client.get_status(session_id)
            assert (status["decisionsLogged"], status["eventsRecorded"]) == (3, 6)
            assert (record.decisions, record.events) == (3, 6)
            started = await client.start_stream(use_stored_credentials=True)
            assert started["reused"] and started["sessionId"] == session_id
            snapshot = first_overlay_snapshot(started["overlayUrl"])
            assert snapshot["scene"] == "match-over"
            assert snapshot["lastMatch"]["result"] == "win"
            assert snapshot["lastMatch"]["summary"] == "Won on turn 3 with Ember Drake."

            await agent.stop()
            status = await client.get_status(session_id)
            assert status["status"] == "ended"
            stats = status["stats"]
            assert stats is not None and stats["decisionsLogged"] == 3
    finally:
        stop_server(server)


async def test_the_agent_streams_embedded_too(service: StreamingService) -> None:
    client = Client.embedded(service, Actor.agent("agent_embedded"))
    await client.configure_platform(platform="twitch", stream_key="live_123456789_abcdefghijklmnop")
    agent = StreamingAgent(client, AgentSettings(agent_id="agent_embedded"))
    record = await play(agent, "lobby_2", "game_2", turns=2)
    assert record.session_id is not None and not record.gave_up
    status = await client.get_status(record.session_id)
    assert status["status"] == "ended"
    assert (status["decisionsLogged"], status["eventsRecorded"]) == (2, 4)


class Flaky:
    """An embedded client whose first starts fail as ``failures`` says (fault injection)."""

    def __init__(self, client: Client, failures: list[Exception]) -> None:
        self._client = client
        self._failures = failures
        self.starts = 0
        self.is_remote = False

    async def start_stream(self, *args: Any, **kwargs: Any) -> Any:
        self.starts += 1
        if self._failures:
            raise self._failures.pop(0)
        return await self._client.start_stream(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


async def test_the_agent_waits_out_rate_limits_and_retryable_egress_failures(service: StreamingService) -> None:
    client = Client.embedded(service, Actor.agent("agent_flaky"))
    await client.configure_platform(platform="twitch", stream_key="live_123456789_abcdefghijklmnop")
    flaky = Flaky(
        client,
        [
            RateLimitedError("rate limited: starts", retry_after_ms=30),
            EgressError("egress at capacity: 2 of 2 streams run", retryable=True),
        ],
    )
    agent = StreamingAgent(flaky, AgentSettings(agent_id="agent_flaky", backoff=0.01))  # type: ignore[arg-type]
    record = await play(agent, "lobby_3", "game_3", turns=1)
    assert flaky.starts == 3
    assert record.session_id is not None and record.decisions == 1


async def test_a_refused_stream_leaves_the_game_running(service: StreamingService) -> None:
    client = Client.embedded(service, Actor.agent("agent_refused"))
    flaky = Flaky(client, [UnauthorizedError("unauthorized: bad key")])
    agent = StreamingAgent(flaky, AgentSettings(agent_id="agent_refused", backoff=0.01))  # type: ignore[arg-type]
    record = await play(agent, "lobby_4", "game_4", turns=2)
    assert flaky.starts == 1, "a refusal is not retried"
    assert record.gave_up == ["start"] and record.session_id is None


def test_the_example_runs_embedded_as_documented(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LTCG_", "LIVEKIT_", "STREAM"))}
    env["TMPDIR"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / "streaming_agent.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "3 decisions, 6 events" in out, out
    assert "final status: ended" in out, out
