"""The product's flows through the binding: game state on the overlay, match results, the
product's agent and user settings, agent decisions, cleanup and change notices."""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

import pytest

from ltcg_streaming import (
    Actor,
    ForbiddenError,
    InvalidInputError,
    StreamingService,
)

from .dict_store import DictStore

AGENT = Actor.agent("agent_flow")
INTERNAL = Actor.internal()


def game_state(lobby_id: str, life_points: int) -> dict[str, Any]:
    return {
        "lobbyId": lobby_id, "gameId": "g1", "turnNumber": 3, "phase": "battle",
        "activePlayer": "host",
        "host": {"playerId": "agent_flow", "name": "host_name", "lifePoints": life_points,
                 "field": [{"name": "Ember Drake", "attack": 1800, "defense": 1200},
                           {"name": "Hidden", "faceDown": True}]},
        "opponent": {"name": "Rival", "lifePoints": 8000},
    }


async def test_game_state_and_match_results_reach_the_overlay(
    make_service: Callable[..., StreamingService],
) -> None:
    store = DictStore()
    service = make_service(store=store)
    started = await service.start_stream(
        AGENT, platform="twitch", stream_key="live_flow_key_0123456789",
        entity_name="Blaze", lobby_id="lobby_flow",
    )
    updated = await service.update_game_state(AGENT, game_state("lobby_flow", 6400))
    assert (updated["success"], updated["lobbyId"]) == (True, "lobby_flow")
    token = parse_qs(urlparse(started["overlayUrl"]).query)["token"][0]
    shown = await service.overlay_snapshot(started["sessionId"], token)
    assert shown["scene"] == "live-game"
    board = shown["gameState"]
    assert board is not None
    assert board["host"]["name"] == "Blaze"
    assert "name" not in board["host"]["field"][1]

    bad = game_state("lobby_flow", 6400)
    bad["host"]["field"][0]["attack"] = 100000
    with pytest.raises(InvalidInputError) as err:
        await service.update_game_state(AGENT, bad)
    assert err.value.field == "host.field[0].attack"
    assert store.games["lobby_flow"]["state"]["host"]["lifePoints"] == 6400, "nothing written"
    with pytest.raises(ForbiddenError):
        await service.update_game_state(AGENT, game_state("lobby_other", 1))

    with pytest.raises(InvalidInputError) as err:
        await service.record_match_result(
            AGENT, {"sessionId": started["sessionId"], "lastMatchResult": "victory"}
        )
    assert err.value.field == "lastMatchResult"
    recorded = await service.record_match_result(
        AGENT, session_id=started["sessionId"], last_match_result="draw"
    )
    assert recorded["lastMatch"] == {
        "endedAt": recorded["lastMatch"]["endedAt"], "result": "draw", "summary": "Match over.",
    }
    after = await service.overlay_snapshot(started["sessionId"], token)
    assert (after["scene"], after["currentLobbyId"]) == ("match-over", None)
    assert await service.notify_changed(INTERNAL, lobby_id="lobby_flow") is True
    with pytest.raises(ForbiddenError):
        await service.notify_changed(AGENT, session_id=started["sessionId"])


async def test_agent_and_user_settings_decisions_and_cleanup(
    make_service: Callable[..., StreamingService],
) -> None:
    service = make_service(store=DictStore())
    with pytest.raises(InvalidInputError) as err:
        await service.configure_agent(INTERNAL, agent_id="agent_cfg", platform="twitch", voice_volume=2)
    assert err.value.field == "voiceVolume"
    with pytest.raises(InvalidInputError) as err:
        await service.configure_agent(INTERNAL, agent_id="agent_cfg")
    assert err.value.field == "platform"
    config = await service.configure_agent(
        INTERNAL, agent_id="agent_cfg", platform="twitch", stream_key="live_cfg_key_0123456789",
        profile_picture_url="https://cdn.example/p.png", keep_alive=False,
    )
    assert (config["enabled"], config["hasStreamKey"], config["keepAlive"]) == (True, True, False)
    assert config["profilePictureUrl"] == "https://cdn.example/p.png"
    assert await service.agent_streaming_config(Actor.agent("agent_cfg"), "agent_cfg") == config
    unset = await service.agent_streaming_config(INTERNAL, "agent_nothing")
    assert (unset["enabled"], unset["platform"], unset["hasStreamKey"]) == (False, None, False)

    outcome = await service.on_game_started(INTERNAL, "agent_cfg", "lobby_cfg")
    assert outcome["started"] is True
    await service.record_decision(
        INTERNAL, session_id=outcome["sessionId"], game_id="g1", turn_number=1,
        phase="main1", action="summon", reasoning="first",
    )
    decisions = await service.agent_decisions(Actor.agent("agent_cfg"))
    assert [d["data"]["action"] for d in decisions["decisions"]] == ["summon"]
    with pytest.raises(InvalidInputError) as err:
        await service.configure_user(Actor.user("u1"), platform="retake", stream_key="k")
    assert err.value.field == "platform"
    user = await service.configure_user(Actor.user("u1"), platform="kick", stream_key="sk_kick_0123")
    assert (user["platform"], user["hasStreamKey"]) == ("kick", True)
    cleanup = await service.cleanup(INTERNAL)
    assert cleanup["success"] is True and cleanup["summary"].startswith("Stopped ")


async def test_the_timeline_tells_what_happened_to_a_session(
    make_service: Callable[..., StreamingService],
) -> None:
    store = DictStore()
    service = make_service(store=store)
    started = await service.start_stream(
        AGENT, platform="twitch", stream_key="live_timeline_0123456789"
    )
    await service.update_viewer_count(AGENT, started["sessionId"], 42)
    samples = await service.session_viewer_samples(AGENT, started["sessionId"])
    assert [(s["viewers"], s["platform"]) for s in samples] == [(42, "twitch")]
    assert list(store.samples[started["sessionId"]].values()) == samples, "kept by the Python store"
    with pytest.raises(ForbiddenError):
        await service.session_viewer_samples(Actor.agent("agent_other"), started["sessionId"])
    await service.stop_stream(AGENT, session_id=started["sessionId"], reason="manual")
    timeline = await service.session_timeline(AGENT, started["sessionId"])
    assert [(e["kind"], e["status"]) for e in timeline] == [
        ("created", "initializing"), ("started", "pending"), ("stopped", "ended"),
    ]
    assert timeline[-1]["cause"] == "manual"
    assert store.timelines[started["sessionId"]] == timeline, "kept by the Python store"
    assert "live_timeline_0123456789" not in repr(timeline)
    with pytest.raises(ForbiddenError):
        await service.session_timeline(Actor.agent("agent_other"), started["sessionId"])


async def test_analytics_sum_the_sessions_of_a_range_per_platform(
    make_service: Callable[..., StreamingService],
) -> None:
    service = make_service(store=DictStore())
    started = await service.start_stream(
        AGENT, platform="twitch", stream_key="live_analytics_0123456789"
    )
    await service.stop_stream(AGENT, session_id=started["sessionId"], reason="manual")
    created = (await service.get_status(AGENT, started["sessionId"]))["createdAt"]
    report = await service.analytics(AGENT, {"since": created - 1000, "groupBy": "platform"})
    assert [(r["key"], r["sessions"]) for r in report["rows"]] == [("twitch", 1)]
    assert report["totals"]["endReasons"] == {"manual": 1}
    assert "free tier" in report["freeTierNote"]
    with pytest.raises(ForbiddenError):
        await service.analytics(
            AGENT, {"since": created, "streamType": "agent", "entityId": "agent_other"}
        )
    with pytest.raises(InvalidInputError) as err:
        await service.analytics(INTERNAL, since=10, until=5)
    assert err.value.field == "until"
