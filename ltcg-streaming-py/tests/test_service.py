"""StreamingService: the lifecycle through the binding, requests as dicts and keywords."""

from __future__ import annotations

from typing import Literal, Callable

import pytest

from ltcg_streaming import (
    Actor,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    MemoryEgress,
    MemoryStore,
    NotFoundError,
    RateLimitedError,
    StreamingConfig,
    StreamingService,
    UnauthorizedError,
    WebhookVerifier,
)

from ltcg_streaming.types import RateLimits

from .conftest import API_KEY, API_SECRET, APP_URL, JWT_SECRET, KEY_HEX, STREAM_KEY

AGENT = Actor.agent("agent_blaze")
DECISION = {"gameId": "g1", "turnNumber": 1, "phase": "main", "action": "attack", "reasoning": "r"}


async def test_an_agent_streams_a_game_end_to_end(
    service: StreamingService, egress: MemoryEgress
) -> None:
    started = await service.start_stream(
        AGENT,
        {"platform": "custom", "customRtmpUrl": "rtmp://203.0.113.10:1935/live"},
        stream_key=STREAM_KEY,
        stream_title="Blaze plays",
        lobby_id="lobby_1",
    )
    assert started["success"] and started["status"] == "pending" and not started["reused"]
    sid = started["sessionId"]
    assert started["overlayUrl"].startswith(f"{APP_URL}/stream/overlay?sessionId={sid}&token=")
    [running] = await egress.list_active()
    assert egress.outputs(running["egressId"]) == ["rtmp://203.0.113.10:1935/live/{liv...nop}"]
    egress.set_status(running["egressId"], "EGRESS_ACTIVE")
    report = await service.reconcile(Actor.internal())
    assert report["caughtUp"] == [sid]

    recorded = await service.record_decision(AGENT, DECISION)
    assert recorded == {"success": True, "sessionId": sid, "decisionsLogged": 1, "eventsRecorded": 0}
    await service.record_event(
        AGENT, game_id="g1", turn_number=1, event_type="agent_decided", description="attacked"
    )
    session = await service.update_viewer_count(AGENT, sid, 42)
    assert session["peakViewerCount"] == 42 and session["viewerCount"] == 42
    linked = await service.link_lobby(AGENT, sid, "lobby_2")
    assert linked["currentLobbyId"] == "lobby_2"
    events = await service.recent_activity(AGENT, sid, "event", limit=5)
    assert [e["data"]["eventType"] for e in events] == ["agent_decided"]
    overlay_url = await service.overlay_url(AGENT, sid)
    assert overlay_url.startswith(f"{APP_URL}/stream/overlay?sessionId={sid}&token=")
    snapshot = await service.overlay_snapshot(sid, overlay_url.rsplit("token=", 1)[1])
    assert snapshot["entityName"] == "agent_blaze" and snapshot["currentLobbyId"] == "lobby_2"
    assert [d["reasoning"] for d in snapshot["decisions"]] == ["r"]
    with pytest.raises(UnauthorizedError):
        await service.overlay_snapshot(sid, "not-a-token")

    status = await service.get_status(AGENT, sid)
    assert status["status"] == "live" and status["streamTitle"] == "Blaze plays"
    assert (status["decisionsLogged"], status["eventsRecorded"], status["viewerCount"]) == (1, 1, 42)
    listed = await service.list_sessions(AGENT, active=True)
    assert listed["count"] == 1 and listed["sessions"][0]["sessionId"] == sid

    stopped = await service.stop_stream(AGENT, {"sessionId": sid, "reason": "manual"})
    assert stopped["stoppedSessionIds"] == [sid]
    assert stopped["stats"] is not None and stopped["stats"]["decisionsLogged"] == 1
    assert egress.status(running["egressId"]) == "EGRESS_COMPLETE"
    again = await service.start_stream(AGENT, platform="twitch", stream_key=STREAM_KEY)
    assert again["sessionId"] != sid


async def test_simulcast_destinations(service: StreamingService) -> None:
    started = await service.start_stream(AGENT, platform="twitch", stream_key=STREAM_KEY)
    changed = await service.update_destinations(
        AGENT,
        session_id=started["sessionId"],
        add=[{"platform": "youtube", "streamKey": "yt-key-123"}],
    )
    [added] = changed["added"]
    assert added["platform"] == "youtube" and "yt-key-123" not in added["url"]
    removed = await service.update_destinations(
        AGENT, {"sessionId": started["sessionId"], "removeDestinations": [added["id"]]}
    )
    assert removed["removed"] == [added["id"]]


async def test_stored_credentials_and_auto_start(service: StreamingService) -> None:
    view = await service.configure_platform(
        AGENT, platform="twitch", stream_key=STREAM_KEY, auto_start=True
    )
    assert view["hasStreamKey"] and view["autoStart"] and view["entityId"] == "agent_blaze"
    assert STREAM_KEY not in repr(view)
    assert await service.get_platform_config(AGENT) == view
    assert await service.get_platform_config(Actor.internal(), agent_id="agent_blaze") == view
    outcome = await service.on_game_started(AGENT, "agent_blaze", "lobby_9")
    assert outcome["started"] and outcome["reason"] == "started"
    linked = await service.on_game_started(Actor.internal(), "agent_blaze", "lobby_10")
    assert not linked["started"] and linked["sessionId"] == outcome["sessionId"]
    assert await service.delete_platform_config(AGENT) is True
    assert await service.delete_platform_config(AGENT) is False
    with pytest.raises(NotFoundError):
        await service.get_platform_config(AGENT)


async def test_requests_are_checked_by_the_core(service: StreamingService) -> None:
    with pytest.raises(InvalidInputError, match="is not a known field") as unknown:
        await service.start_stream(AGENT, platform="twitch", stream_kye=STREAM_KEY)  # type: ignore[call-arg]
    assert unknown.value.field == "streamKye"
    with pytest.raises(TypeError, match="both"):
        await service.start_stream(AGENT, {"platform": "twitch"}, platform="kick")
    with pytest.raises(InvalidInputError, match="must be a JSON object") as positional:
        await service.start_stream(AGENT, ["twitch"])  # type: ignore[arg-type]
    assert positional.value.field == "request"
    cases: list[tuple[dict[str, object], str]] = [
        ({"platform": "myspace", "streamKey": "k"}, "platform"),
        ({"platform": "twitch"}, "streamKey"),
        ({"platform": "twitch", "streamKey": "k", "overlayConfig": {"bogus": 1}}, "overlayConfig.bogus"),
        ({"platform": "twitch", "streamKey": "k", "destinations": [{"platform": "kick"}]}, "destinations[0].streamKey"),
        ({"platform": "twitch", "streamKey": "k", "destinations": [{"platform": "kick", "streamKey": "k", "x": 1}]}, "destinations[0].x"),
        ({"platform": "twitch", "streamKey": "k", "streamTitel": "typo"}, "streamTitel"),
        ({"platform": "twitch", "streamKey": "k", "baseUrl": "https://evil.test"}, "baseUrl"),
        ({"platform": "twitch", "streamKey": "k", "forceRestart": "sk_live_secret"}, "forceRestart"),
        # The destination policy: an agent cannot make the egress connect to internal addresses.
        ({"platform": "custom", "streamKey": "k", "customRtmpUrl": "rtmp://2130706433:1935/live"}, "customRtmpUrl"),
        (
            {"platform": "twitch", "streamKey": "k", "destinations": [{"platform": "custom", "streamKey": "k2", "customRtmpUrl": "rtmp://[::1]/live"}]},
            "destinations[0].customRtmpUrl",
        ),
    ]
    for request, field in cases:
        with pytest.raises(InvalidInputError) as caught:
            await service.start_stream(AGENT, request)
        assert caught.value.field == field, request
        assert "sk_live_secret" not in str(caught.value)
    with pytest.raises(InvalidInputError) as caught:
        await service.record_decision(AGENT, {**DECISION, "turnNumber": -1})
    assert caught.value.field == "turnNumber"
    with pytest.raises(InvalidInputError) as caught:
        await service.get_status(AGENT, "not a session id")
    assert caught.value.field == "sessionId"
    with pytest.raises(InvalidInputError) as caught:
        await service.recent_activity(AGENT, "ses_x", "gossip")  # type: ignore[arg-type]
    assert caught.value.field == "kind"
    with pytest.raises(InvalidInputError) as caught:
        await service.configure_platform(AGENT, {"platform": "twitch", "streamKey": "k", "autoStrat": True})
    assert caught.value.field == "autoStrat"
    with pytest.raises(InvalidInputError, match="is not a known field") as keyword:
        await service.configure_platform(AGENT, platform="twitch", stream_key="k", auto_strat=True)  # type: ignore[call-arg]
    assert keyword.value.field == "autoStrat"
    assert await service.list_sessions(AGENT) == {"count": 0, "sessions": [], "nextCursor": None}


async def test_errors_are_raised_when_awaited(service: StreamingService) -> None:
    pending = service.get_status(AGENT, "not a session id")
    with pytest.raises(InvalidInputError):
        await pending


async def test_actors_are_enforced(service: StreamingService) -> None:
    started = await service.start_stream(AGENT, platform="twitch", stream_key=STREAM_KEY)
    with pytest.raises(ForbiddenError):
        await service.stop_stream(Actor.agent("someone_else"), session_id=started["sessionId"])
    with pytest.raises(ForbiddenError):
        await service.reconcile(AGENT)
    with pytest.raises(ConflictError):
        await service.start_stream(AGENT, platform="kick", stream_key=STREAM_KEY)
    reused = await service.start_stream(AGENT, platform="twitch", stream_key=STREAM_KEY)
    assert reused["reused"] and reused["sessionId"] == started["sessionId"]
    with pytest.raises(InvalidInputError):
        Actor.user("has spaces")
    assert Actor.user("u1") == Actor.user("u1") != Actor.agent("u1")
    assert {Actor.internal(), Actor.internal()} == {Actor.internal()}
    assert (Actor.agent("a").kind, Actor.agent("a").id, Actor.internal().id) == ("agent", "a", None)
    assert repr(Actor.user("u1")) == "Actor.user('u1')"


async def test_rate_limits_carry_retry_after(config: StreamingConfig) -> None:
    limits: RateLimits = {"calls_per_minute": 60, "call_burst": 1}
    limited = StreamingService(config, MemoryStore(), MemoryEgress(), rate_limits=limits)
    await limited.list_sessions(AGENT)
    with pytest.raises(RateLimitedError) as caught:
        await limited.list_sessions(AGENT)
    assert 0 < caught.value.retry_after_ms <= 1000 and caught.value.retryable
    with pytest.raises(InvalidInputError) as invalid:
        StreamingService(
            config, MemoryStore(), MemoryEgress(), rate_limits={"perHour": 1}  # type: ignore[arg-type]
        )
    assert invalid.value.field == "options.rateLimits"


async def test_webhooks_need_livekit_credentials_or_a_verifier() -> None:
    bare = StreamingConfig(KEY_HEX, JWT_SECRET, app_url=APP_URL)
    service = StreamingService(bare, MemoryStore(), MemoryEgress())
    # Without LiveKit credentials no webhook is authentic: refused like a forged one.
    with pytest.raises(UnauthorizedError) as caught:
        await service.handle_webhook(b"{}", "token")
    assert "LiveKit API key and secret" in str(caught.value)
    verified = StreamingService(
        bare, MemoryStore(), MemoryEgress(), webhook_verifier=WebhookVerifier(API_KEY, API_SECRET)
    )
    with pytest.raises(Exception) as unauthorized:
        await verified.handle_webhook(b"{}", "token")
    assert getattr(unauthorized.value, "code", None) == "UNAUTHORIZED"


def test_service_options_are_checked(make_service: Callable[..., StreamingService]) -> None:
    with pytest.raises(InvalidInputError):
        make_service(egress_start_timeout_ms=0)
    with pytest.raises(TypeError, match="egress must be"):
        StreamingService(StreamingConfig(KEY_HEX, JWT_SECRET, app_url=APP_URL), MemoryStore(), object())  # type: ignore[arg-type]


def test_calls_need_a_running_event_loop(service: StreamingService) -> None:
    with pytest.raises(RuntimeError):
        service.list_sessions(AGENT)


async def test_status_reads_open_by_default_and_owner_only_on_request(config: StreamingConfig) -> None:
    other = Actor.agent("agent_other")
    cases: list[tuple[Literal["owner"] | None, bool]] = [(None, True), ("owner", False)]
    for status_reads, others_see_it in cases:
        service = StreamingService(config, MemoryStore(), MemoryEgress(), rate_limits=False, status_reads=status_reads)
        started = await service.start_stream(Actor.agent("did:privy:abc123"), platform="twitch", stream_key=STREAM_KEY)
        if others_see_it:
            assert (await service.get_status(other, started["sessionId"]))["sessionId"] == started["sessionId"]
        else:
            with pytest.raises(NotFoundError):
                await service.get_status(other, started["sessionId"])


async def test_the_operator_allowlist_admits_a_local_ingest_server() -> None:
    config = StreamingConfig(KEY_HEX, JWT_SECRET, app_url=APP_URL, destination_allowlist=["127.0.0.1"])
    service = StreamingService(config, MemoryStore(), MemoryEgress(), rate_limits=False)
    started = await service.start_stream(
        AGENT, platform="custom", stream_key=STREAM_KEY, custom_rtmp_url="rtmp://127.0.0.1:1935/live"
    )
    assert not started["reused"]
    with pytest.raises(InvalidInputError) as caught:
        await service.start_stream(
            Actor.agent("agent_other"), platform="custom", stream_key=STREAM_KEY, custom_rtmp_url="rtmp://10.0.0.1/live"
        )
    assert caught.value.field == "customRtmpUrl"
