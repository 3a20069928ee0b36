"""An AI agent that streams its own games, through ``ltcg_streaming.Client``.

    # against a reference server (the agent's key from `ltcg-streaming agent-keys create`):
    LTCG_SERVER_URL=http://127.0.0.1:3334 LTCG_AGENT_KEY=ltcg_... \\
        python examples/python/streaming_agent.py
    # or embedded (a SQLite file, the in-process egress that renders nothing):
    python examples/python/streaming_agent.py

On each game start the agent starts its stream with its stored credentials (or reuses the
live one), links the lobby, then posts its decisions, the game's events and the board as it
plays, records the match result (the overlay's match-over scene), and stops the stream or
keeps it for the next game (``keep_stream``). Streaming never stops the game: a call that
keeps failing is logged and the game goes on. Failures it waits out: ``RateLimitedError``
(for ``retry_after``), and every error marked ``retryable`` (egress at capacity or
unreachable, the store, the server not answering) with exponential backoff.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, TypeVar

from ltcg_streaming import (
    Actor,
    Client,
    ConfigError,
    ExternalError,
    MemoryEgress,
    RateLimitedError,
    SqliteStore,
    StreamingConfig,
    StreamingError,
    StreamingService,
)
from ltcg_streaming.types import MatchOutcome

log = logging.getLogger("streaming_agent")
T = TypeVar("T")


@dataclass
class AgentSettings:
    """How the agent streams."""

    #: Its id (an agent key names it on the server; embedded, the actor does).
    agent_id: str
    #: Keep the stream running between games (the next game reuses it).
    keep_stream: bool = False
    #: Attempts of one call before the agent gives up on it.
    attempts: int = 5
    #: The first backoff between attempts, in seconds (doubled each time).
    backoff: float = 0.5


@dataclass
class Step:
    """One step of a game: a decision, the events it caused, and the board after it."""

    turn: int
    phase: str
    action: str
    reasoning: str
    events: list[str]
    board: dict[str, Any]


@dataclass
class GameRecord:
    """What the agent streamed of one game."""

    session_id: Optional[str] = None
    decisions: int = 0
    events: int = 0
    gave_up: list[str] = field(default_factory=list)


class StreamingAgent:
    """Streams the games an agent plays; every method is safe to call whatever happens."""

    def __init__(self, client: Client, settings: AgentSettings) -> None:
        self.client = client
        self.settings = settings
        self.session_id: Optional[str] = None

    async def _call(self, what: str, call: Callable[[], Awaitable[T]]) -> Optional[T]:
        """``call()``, waiting out rate limits and retryable failures; ``None`` (logged)
        when it is refused or keeps failing."""
        delay = self.settings.backoff
        for attempt in range(1, self.settings.attempts + 1):
            try:
                return await call()
            except RateLimitedError as limited:
                log.info("%s: rate limited, waiting %.1f s", what, limited.retry_after)
                await asyncio.sleep(limited.retry_after)
            except StreamingError as failure:
                # The server unreachable (EXTERNAL from the client) is worth retrying too.
                transient = failure.retryable or (
                    isinstance(failure, ExternalError) and self.client.is_remote
                )
                if not transient or attempt == self.settings.attempts:
                    log.warning("%s failed (%s): %s", what, failure.code, failure)
                    return None
                log.info("%s: %s, retrying in %.1f s", what, failure.code, delay)
                await asyncio.sleep(delay)
                delay *= 2
        log.warning("%s: still rate limited after %d attempts", what, self.settings.attempts)
        return None

    async def game_started(self, lobby_id: str, record: GameRecord) -> None:
        """Starts (or reuses) the stream and shows the lobby on it."""
        started = await self._call(
            "start the stream",
            lambda: self.client.start_stream(
                use_stored_credentials=True, stream_title=f"{self.settings.agent_id} plays LTCG"
            ),
        )
        if started is None:
            record.gave_up.append("start")
            return
        self.session_id = started["sessionId"]
        record.session_id = self.session_id
        log.info("streaming %s (%s)", self.session_id, "reused" if started["reused"] else "new")
        session_id = self.session_id
        if await self._call("link the lobby", lambda: self.client.link_lobby(session_id, lobby_id)) is None:
            record.gave_up.append("link")

    async def played(self, game_id: str, lobby_id: str, step: Step, record: GameRecord) -> None:
        """Shows one step: the decision, its events, then the board."""
        session_id = self.session_id
        if session_id is None:
            return
        decided = await self._call(
            f"decision of turn {step.turn}",
            lambda: self.client.record_decision(
                session_id=session_id,
                game_id=game_id,
                turn_number=step.turn,
                phase=step.phase,
                action=step.action,
                reasoning=step.reasoning,
            ),
        )
        record.decisions += decided is not None
        for description in step.events:
            recorded = await self._call(
                "event",
                lambda description=description: self.client.record_event(  # type: ignore[misc]
                    session_id=session_id,
                    game_id=game_id,
                    lobby_id=lobby_id,
                    turn_number=step.turn,
                    event_type=step.action,
                    description=description,
                ),
            )
            record.events += recorded is not None
        board = {"lobbyId": lobby_id, "gameId": game_id, "turnNumber": step.turn, "phase": step.phase}
        await self._call("board", lambda: self.client.update_game_state({**board, **step.board}))

    async def game_ended(self, result: MatchOutcome, summary: str, record: GameRecord) -> None:
        """Records the result (the match-over scene) and stops the stream unless kept."""
        session_id = self.session_id
        if session_id is None:
            return
        await self._call(
            "match result",
            lambda: self.client.record_match_result(
                session_id=session_id, last_match_result=result, last_match_summary=summary
            ),
        )
        if not self.settings.keep_stream:
            await self.stop()

    async def stop(self) -> None:
        """Stops the stream (if any)."""
        session_id, self.session_id = self.session_id, None
        if session_id is not None:
            await self._call("stop the stream", lambda: self.client.stop_stream(session_id=session_id))


def player(name: str, life: int, field: list[dict[str, Any]], player_id: Optional[str] = None) -> dict[str, Any]:
    """A player's side of the board."""
    side: dict[str, Any] = {
        "name": name,
        "lifePoints": life,
        "handCount": 4,
        "deckCount": 30,
        "graveyardCount": 1,
        "field": field,
    }
    if player_id is not None:
        side["playerId"] = player_id
    return side


def scripted_game(agent_id: str, turns: int = 3) -> Iterator[Step]:
    """A short game the agent wins: each turn an attack, two events, and the board after."""
    opponent_life = 8000
    for turn in range(1, turns + 1):
        opponent_life = max(0, opponent_life - 2800)
        yield Step(
            turn=turn,
            phase="battle",
            action="attack",
            reasoning=f"Turn {turn}: the opponent's defence is down, press the advantage.",
            events=[f"Ember Drake attacks (turn {turn})", f"TidalQueen takes 2800 damage (turn {turn})"],
            board={
                "activePlayer": "host",
                "host": player(agent_id, 8000, [{"name": "Ember Drake", "attack": 2800, "defense": 1200}], agent_id),
                "opponent": player("TidalQueen", opponent_life, []),
            },
        )


async def play(agent: StreamingAgent, lobby_id: str, game_id: str, turns: int = 3) -> GameRecord:
    """Plays one scripted game, streaming it; what was streamed."""
    record = GameRecord()
    await agent.game_started(lobby_id, record)
    for step in scripted_game(agent.settings.agent_id, turns):
        await agent.played(game_id, lobby_id, step, record)
    await agent.game_ended("win", f"Won on turn {turns} with Ember Drake.", record)
    return record


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    server, key = os.environ.get("LTCG_SERVER_URL"), os.environ.get("LTCG_AGENT_KEY")
    if server and key:
        client = Client.connect(server, key)
        agent_id = os.environ.get("LTCG_AGENT_ID", "agent")
        store = None
    else:
        try:
            config = StreamingConfig.from_env()
        except ConfigError:
            config = StreamingConfig("5a" * 32, "demo-overlay-secret-change-me-0123456789", development=True)
        store = await SqliteStore.open(Path(tempfile.gettempdir()) / "streaming_agent.db")
        service = StreamingService(config, store, MemoryEgress())
        agent_id = "agent_blaze"
        client = Client.embedded(service, Actor.agent(agent_id))
    async with client:
        await client.configure_platform(
            platform="custom",
            stream_key=os.environ.get("STREAM_KEY", "demo-key"),
            custom_rtmp_url=os.environ.get("RTMP_URL", "rtmp://127.0.0.1:1935/live"),
        )
        agent = StreamingAgent(client, AgentSettings(agent_id=agent_id))
        record = await play(agent, "lobby_1", "game_1")
        print(f"streamed {record.session_id}: {record.decisions} decisions, {record.events} events")
        if record.session_id:
            print(f"final status: {(await client.get_status(record.session_id))['status']}")
    if store is not None:
        await store.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
