"""LiveKitEgress from Python, against an in-process LiveKit Twirp endpoint on 127.0.0.1.

The endpoint decodes and answers with the real protocol messages of the `livekit-protocol`
package and checks the bearer token with PyJWT, as LiveKit does.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Tuple

import jwt
import pytest
from livekit.protocol.egress import (
    EGRESS_ABORTED,
    EGRESS_ACTIVE,
    EGRESS_STARTING,
    EgressInfo,
    ListEgressRequest,
    ListEgressResponse,
    StopEgressRequest,
    WebEgressRequest,
)

from ltcg_streaming import (
    Actor,
    EgressError,
    LiveKitEgress,
    MemoryStore,
    StreamingConfig,
    StreamingService,
)

from .conftest import API_KEY, API_SECRET, STREAM_KEY
from .webhooks import livekit_webhook


class FakeLiveKit:
    """`livekit.Egress` StartWebEgress / StopEgress / ListEgress, kept in memory."""

    def __init__(self) -> None:
        self.egresses: Dict[str, EgressInfo] = {}
        self.calls: List[Tuple[str, Any]] = []
        self.lock = threading.Lock()

    def handle(self, method: str, body: bytes) -> Tuple[int, bytes]:
        with self.lock:
            if method == "StartWebEgress":
                request = WebEgressRequest.FromString(body)
                egress_id = f"EG_py{len(self.egresses) + 1}"
                info = EgressInfo(egress_id=egress_id, status=EGRESS_STARTING, web=request)
                self.egresses[egress_id] = info
                self.calls.append((method, request))
                return 200, info.SerializeToString()
            if method == "StopEgress":
                stop = StopEgressRequest.FromString(body)
                self.calls.append((method, stop.egress_id))
                info = self.egresses[stop.egress_id]
                info.status = EGRESS_ABORTED
                return 200, info.SerializeToString()
            if method == "ListEgress":
                listing = ListEgressRequest.FromString(body)
                self.calls.append((method, listing.active))
                active = [e for e in self.egresses.values() if e.status in (EGRESS_STARTING, EGRESS_ACTIVE)]
                return 200, ListEgressResponse(items=active).SerializeToString()
        return 404, b'{"code":"bad_route","msg":"unknown method"}'


@pytest.fixture
def livekit() -> Iterator[Tuple[FakeLiveKit, str]]:
    fake = FakeLiveKit()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            try:
                claims = jwt.decode(token, API_SECRET, algorithms=["HS256"], issuer=API_KEY)
                allowed = claims.get("video", {}).get("roomRecord") is True
            except jwt.PyJWTError:
                allowed = False
            status, answer = (
                fake.handle(self.path.rsplit("/", 1)[-1], body)
                if allowed
                else (401, b'{"code":"unauthenticated","msg":"invalid token"}')
            )
            self.send_response(status)
            content_type = "application/protobuf" if status == 200 else "application/json"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_a_stream_through_livekit_egress(
    config: StreamingConfig, livekit: Tuple[FakeLiveKit, str]
) -> None:
    fake, url = livekit
    egress = LiveKitEgress(url, API_KEY, API_SECRET, request_timeout=5)
    assert egress.api_url == url + "/"
    service = StreamingService(config, MemoryStore(), egress, rate_limits=False)
    agent = Actor.agent("agent_lk")
    started = await service.start_stream(agent, platform="twitch", stream_key=STREAM_KEY)
    sid = started["sessionId"]
    [(method, request)] = fake.calls
    assert method == "StartWebEgress"
    assert f"sessionId={sid}" in request.url
    assert list(request.stream_outputs[0].urls) == [f"rtmps://live.twitch.tv/app/{STREAM_KEY}"]

    body, token = livekit_webhook("EG_py1", sid)
    assert (await service.handle_webhook(body, token))["applied"]
    assert (await service.get_status(agent, sid))["status"] == "live"
    fake.egresses["EG_py1"].status = EGRESS_ACTIVE
    report = await service.reconcile(Actor.internal())
    assert ("ListEgress", True) in fake.calls and report["stoppedEgresses"] == []

    stopped = await service.stop_stream(agent, session_id=sid)
    assert stopped["stoppedSessionIds"] == [sid]
    assert ("StopEgress", "EG_py1") in fake.calls


async def test_livekit_refusals_are_egress_errors(
    config: StreamingConfig, livekit: Tuple[FakeLiveKit, str]
) -> None:
    _, url = livekit
    wrong_secret = LiveKitEgress(url, API_KEY, "not-the-secret-" + "x" * 20)
    service = StreamingService(config, MemoryStore(), wrong_secret, rate_limits=False)
    with pytest.raises(EgressError) as caught:
        await service.start_stream(Actor.agent("a1"), platform="twitch", stream_key=STREAM_KEY)
    assert STREAM_KEY not in str(caught.value)
    assert not caught.value.retryable
