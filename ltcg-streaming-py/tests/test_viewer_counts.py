"""Viewer counts through the binding: platforms configured from the environment, one pass
asked for by the host app, against a local Twitch Helix that checks both headers and the
token grant."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

import pytest

from ltcg_streaming import Actor, ForbiddenError, MemoryEgress, StreamingService

from .webhooks import livekit_webhook

CLIENT_ID = "pyclientid0123456789"
CLIENT_SECRET = "py-client-secret-abcdefghij"
TOKEN = "pyfaketoken0001"


class Helix(BaseHTTPRequestHandler):
    """Twitch's token grant and `helix/streams`, refusing what Twitch refuses."""

    live: dict[str, int] = {}
    seen: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        form = parse_qs(self.rfile.read(length).decode())
        granted = (
            self.path == "/oauth2/token"
            and form.get("client_id") == [CLIENT_ID]
            and form.get("client_secret") == [CLIENT_SECRET]
            and form.get("grant_type") == ["client_credentials"]
        )
        if not granted:
            self.answer(400, {"status": 400, "message": "invalid client"})
            return
        self.answer(200, {"access_token": TOKEN, "expires_in": 5000000, "token_type": "bearer"})

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path != "/helix/streams":
            self.answer(404, {})
            return
        if (
            self.headers.get("authorization") != f"Bearer {TOKEN}"
            or self.headers.get("client-id") != CLIENT_ID
        ):
            self.answer(401, {"status": 401, "message": "Invalid OAuth token"})
            return
        logins = parse_qs(url.query).get("user_login", [])
        Helix.seen.append(",".join(logins))
        data = [
            {"user_login": login, "type": "live", "viewer_count": Helix.live[login],
             "started_at": "2026-12-01T17:00:00Z",
             "thumbnail_url": f"https://static-cdn.jtvnw.net/previews-ttv/live_user_{login}-{{width}}x{{height}}.jpg"}
            for login in logins if login in Helix.live
        ]
        self.answer(200, {"data": data, "pagination": {}})


@pytest.fixture
def helix(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Helix)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    for name, value in {
        "TWITCH_CLIENT_ID": CLIENT_ID, "TWITCH_CLIENT_SECRET": CLIENT_SECRET,
        "TWITCH_API_BASE": base, "TWITCH_ID_BASE": base,
    }.items():
        monkeypatch.setenv(name, value)
    Helix.live, Helix.seen = {}, []
    yield base
    server.shutdown()
    server.server_close()
    thread.join()


async def test_a_pass_asked_for_by_the_app_counts_live_twitch_channels(
    helix: str, make_service: Callable[..., StreamingService], egress: MemoryEgress,
) -> None:
    service = make_service(platforms_from_env=True)
    agent = Actor.agent("agent_counted")
    started = await service.start_stream(
        agent, platform="twitch", stream_key="live_counted_0123456789", channel="BlazeMaster",
    )
    [running] = await egress.list_active()
    body, token = livekit_webhook(running["egressId"], started["sessionId"])
    await service.handle_webhook(body, token)

    Helix.live["blazemaster"] = 64
    report = await service.poll_viewer_counts(Actor.internal())
    assert report["updated"] == [started["sessionId"]]
    assert [(p["platform"], p["outcome"]) for p in report["platforms"]] == [("twitch", "ok")]
    assert Helix.seen == ["blazemaster"]
    status = await service.get_status(agent, started["sessionId"])
    assert (status["viewerCount"], status["peakViewerCount"]) == (64, 64)
    assert status["destinations"][0]["previewUrl"] == (
        "https://static-cdn.jtvnw.net/previews-ttv/live_user_blazemaster-1280x720.jpg"
    )

    with pytest.raises(ForbiddenError):
        await service.poll_viewer_counts(agent)


async def test_without_platforms_a_pass_does_nothing(service: StreamingService) -> None:
    report = await service.poll_viewer_counts(Actor.internal())
    assert report == {"updated": [], "platforms": []}
