"""``Client``: the same calls embedded and over HTTP against the reference server."""

from __future__ import annotations

import asyncio
import socket

import pytest

from ltcg_streaming import (
    Actor,
    Client,
    ExternalError,
    ForbiddenError,
    InvalidInputError,
    StreamingService,
    UnauthorizedError,
)
from ltcg_streaming._ltcg_streaming import StreamingService as NativeService

from .conftest import STREAM_KEY
from .reference_server import (  # noqa: F401 (reference_server is a fixture)
    AGENT_ID,
    AGENT_KEY,
    INTERNAL_KEY,
    ReferenceServer,
    reference_server,
)

DECISION = {"gameId": "g1", "turnNumber": 1, "phase": "main", "action": "attack", "reasoning": "open board"}


def test_the_client_has_every_method_of_the_service() -> None:
    service_methods = {
        name
        for name in dir(NativeService)
        if not name.startswith("_") and name not in ("handle_webhook", "overlay_snapshot")
    }
    missing = {name for name in service_methods if not callable(getattr(Client, name, None))}
    assert not missing


async def test_an_embedded_client_acts_as_its_actor(service: StreamingService) -> None:
    async with Client.embedded(service, Actor.agent("agent_1")) as client:
        assert not client.is_remote
        started = await client.start_stream(platform="twitch", stream_key=STREAM_KEY)
        assert started["success"] and not started["reused"]
        session_id = started["sessionId"]
        await client.record_decision(DECISION, session_id=session_id)
        status = await client.get_status(session_id)
        assert status == await service.get_status(Actor.internal(), session_id)
        assert status["entityId"] == "agent_1"
        assert status["decisionsLogged"] == 1
    with pytest.raises(RuntimeError, match="closed"):
        await client.get_status(session_id)


async def test_a_remote_agent_runs_a_stream_on_the_reference_server(
    reference_server: ReferenceServer,
) -> None:
    async with Client.connect(reference_server.url, AGENT_KEY) as client:
        assert client.is_remote
        started = await client.start_stream(platform="twitch", stream_key=STREAM_KEY)
        session_id = started["sessionId"]
        assert started["success"] and not started["reused"]
        again = await client.start_stream(platform="twitch", stream_key=STREAM_KEY)
        assert again["reused"] and again["sessionId"] == session_id
        linked = await client.link_lobby(session_id, "lobby_1")
        assert linked["currentLobbyId"] == "lobby_1"
        await client.record_decision(DECISION, session_id=session_id)
        await client.record_event(
            session_id=session_id,
            game_id="g1",
            turn_number=1,
            event_type="attack",
            description="Ember Drake attacks",
        )
        await client.update_game_state(
            lobby_id="lobby_1",
            game_id="g1",
            turn_number=1,
            phase="battle",
            active_player="host",
            host={
                "playerId": AGENT_ID,
                "name": AGENT_ID,
                "lifePoints": 8000,
                "handCount": 4,
                "deckCount": 30,
                "graveyardCount": 0,
                "field": [],
            },
            opponent={
                "name": "TidalQueen",
                "lifePoints": 3100,
                "handCount": 5,
                "deckCount": 29,
                "graveyardCount": 1,
                "field": [],
            },
        )
        await client.record_match_result(session_id=session_id, last_match_result="win")
        status = await client.get_status(session_id)
        assert (status["decisionsLogged"], status["eventsRecorded"]) == (1, 1)
        timeline = await client.session_timeline(session_id)
        assert timeline and timeline[0]["kind"] == "created"
        listed = await client.list_sessions(limit=5)
        assert [s["sessionId"] for s in listed["sessions"]] == [session_id]
        stopped = await client.stop_stream(session_id=session_id)
        assert stopped["success"]
        assert (await client.get_status(session_id))["status"] == "ended"


async def test_remote_refusals_are_the_embedded_exceptions_with_their_details(
    reference_server: ReferenceServer,
) -> None:
    client = Client.connect(reference_server.url, AGENT_KEY)
    with pytest.raises(InvalidInputError) as bad:
        await client.start_stream({"platform": "myspace", "streamKey": STREAM_KEY})
    assert bad.value.field == "platform"
    assert STREAM_KEY not in str(bad.value)
    with pytest.raises(ForbiddenError):
        await client.stop_stream(agent_id="someone_else")
    with pytest.raises(InvalidInputError) as not_served:
        await client.overlay_url("ses_x")
    assert not_served.value.field == "method"
    with pytest.raises(UnauthorizedError):
        await Client.connect(reference_server.url, "ltcg_NotAKeyAnyoneHas0000000000000").get_status("ses_x")
    internal = Client.connect(reference_server.url, INTERNAL_KEY)
    summary = await internal.cleanup()
    assert isinstance(summary, dict)
    await client.close()


async def test_a_server_that_is_not_there_is_an_external_error_without_the_key() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = Client.connect(f"http://127.0.0.1:{port}", AGENT_KEY)
    with pytest.raises(ExternalError) as err:
        await client.get_status("ses_x")
    assert "could not be reached" in str(err.value)
    assert AGENT_KEY not in str(err.value) and AGENT_KEY not in repr(client)


def test_keys_are_not_sent_in_clear_text_over_a_network() -> None:
    with pytest.raises(InvalidInputError) as err:
        Client.connect("http://stream.example.com", AGENT_KEY)
    assert err.value.field == "baseUrl"
    assert Client.connect("http://stream.example.com", AGENT_KEY, allow_plain_http=True).is_remote


async def test_a_status_watch_follows_a_session_to_its_end(service: StreamingService) -> None:
    client = Client.embedded(service, Actor.agent("agent_1"))
    started = await client.start_stream(platform="twitch", stream_key=STREAM_KEY)
    session_id = started["sessionId"]
    # An hour between re-reads: each view comes because the service's write woke the watch.
    watch = client.watch_status(session_id, refresh_seconds=3600)
    seen = [await asyncio.wait_for(anext(watch), 5)]
    await client.record_decision(DECISION, session_id=session_id)
    seen.append(await asyncio.wait_for(anext(watch), 5))
    await client.stop_stream(session_id=session_id)
    async for status in watch:
        seen.append(status)
    assert [s["status"] for s in seen] == ["pending", "pending", "ended"]
    assert seen[1]["decisionsLogged"] == 1


async def test_a_remote_status_watch_rereads_until_the_end(reference_server: ReferenceServer) -> None:
    async with Client.connect(reference_server.url, AGENT_KEY) as client:
        started = await client.start_stream(platform="twitch", stream_key=STREAM_KEY)
        watch = client.watch_status(started["sessionId"], refresh_seconds=0.05)
        first = await asyncio.wait_for(anext(watch), 5)
        assert first["status"] == "pending"
        await client.stop_stream(session_id=started["sessionId"])
        rest = [status async for status in watch]
        assert [s["status"] for s in rest] == ["ended"]
        with pytest.raises(InvalidInputError) as bad:
            client.watch_status("not a session id")
        assert bad.value.field == "sessionId"
        for period in (0, -1.0, float("nan")):
            with pytest.raises(InvalidInputError) as bad:
                client.watch_status(started["sessionId"], refresh_seconds=period)
            assert bad.value.field == "refresh_seconds"
