"""An AI agent streams a game: start, observe, record decisions and events, stop.

    pip install ./ltcg-streaming-py
    python examples/python/agent_stream.py [DB_PATH]

Sessions are kept in a SQLite file (default: ``agent_stream.db`` in the temp directory).
With ``LIVEKIT_URL``, ``LIVEKIT_API_KEY`` and ``LIVEKIT_API_SECRET`` set (and the
``STREAM_KEY_ENCRYPTION_KEY``, ``STREAMING_JWT_SECRET``, ``NEXT_PUBLIC_APP_URL`` of your app)
it drives real LiveKit web egress to ``RTMP_URL`` / ``STREAM_KEY``; otherwise it uses the
in-process egress, which renders nothing, and plays LiveKit's part itself. An agent may stream
only to public addresses unless the configuration is a development one (the demo secrets) or
``STREAMING_DESTINATION_ALLOWLIST`` names the server (e.g. ``127.0.0.1`` for a local
nginx-rtmp).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

from ltcg_streaming import (
    Actor,
    ConfigError,
    LiveKitEgress,
    MemoryEgress,
    SqliteStore,
    StreamingConfig,
    StreamingService,
)


def load_config() -> StreamingConfig:
    try:
        return StreamingConfig.from_env()
    except ConfigError:
        print("(no STREAM_KEY_ENCRYPTION_KEY / STREAMING_JWT_SECRET in the environment: using demo secrets)")
        return StreamingConfig("5a" * 32, "demo-overlay-secret-change-me-0123456789", development=True)


async def main(db: Path) -> None:
    config = load_config()
    store = await SqliteStore.open(db)
    memory = MemoryEgress()
    using_livekit = config.livekit_url is not None
    egress = LiveKitEgress.from_config(config) if using_livekit else memory
    service = StreamingService(config, store, egress)
    print(f"store: {db}")

    agent = Actor.agent("agent_blaze")
    started = await service.start_stream(
        agent,
        platform="custom",
        stream_key=os.environ.get("STREAM_KEY", "demo-key"),
        custom_rtmp_url=os.environ.get("RTMP_URL", "rtmp://127.0.0.1:1935/live"),
        stream_title="BlazeMaster plays LTCG",
        entity_name="BlazeMaster",
        lobby_id="lobby_456",
    )
    session_id = started["sessionId"]
    print(f"started {session_id} ({started['status']}): {started['message']}")

    # Observe: LiveKit's webhooks (or the reconciler) move the session to `live`.
    if not using_livekit:
        for running in await memory.list_active():
            memory.set_status(running["egressId"], "EGRESS_ACTIVE")
    for _ in range(30):
        await service.reconcile(Actor.internal())
        status = await service.get_status(agent, session_id)
        if status["status"] not in ("initializing", "pending"):
            print(f"status: {status['status']}")
            break
        await asyncio.sleep(1)

    for turn in range(1, 4):
        await service.record_decision(
            agent,
            game_id="game_1",
            turn_number=turn,
            phase="main",
            action="attack",
            reasoning=f"Turn {turn}: the opponent's defence is down, press the advantage.",
        )
        await service.record_event(
            agent,
            {
                "gameId": "game_1",
                "lobbyId": "lobby_456",
                "turnNumber": turn,
                "eventType": "agent_decided",
                "description": f"BlazeMaster attacked on turn {turn}",
            },
        )
    await service.update_viewer_count(agent, session_id, 42)
    status = await service.get_status(agent, session_id)
    print(
        f"{status['status']}: {status['decisionsLogged']} decisions, "
        f"{status['eventsRecorded']} events, {status['viewerCount']} viewers, "
        f"{status['duration']} ms on air"
    )

    stopped = await service.stop_stream(agent, session_id=session_id)
    print(f"stopped: {json.dumps(stopped.get('stats'))}")
    await store.close()


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.gettempdir()) / "agent_stream.db"
    asyncio.run(main(path))
