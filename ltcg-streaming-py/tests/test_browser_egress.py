"""BrowserEgress from Python: the core's options (snake_case), their errors, and a service whose
session follows the browser egress's own events."""

from __future__ import annotations

import asyncio
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from ltcg_streaming import (
    Actor,
    BrowserEgress,
    InvalidInputError,
    MemoryStore,
    StreamingConfig,
    StreamingService,
)

from .conftest import JWT_SECRET, KEY_HEX, STREAM_KEY


def test_options_are_the_cores_in_snake_case(tmp_path: Path) -> None:
    egress = BrowserEgress(max_concurrent=2, work_dir=str(tmp_path), thumbnail_interval_ms=0)
    assert repr(egress) == f"BrowserEgress(max_concurrent=2, work_dir='{tmp_path}')"
    assert isinstance(egress.missing_programs(), list)
    assert egress.status("EG_browser_unknown") is None
    with pytest.raises(InvalidInputError) as bad:
        BrowserEgress(max_concurrent=0)
    assert bad.value.field == "options.maxConcurrent"
    with pytest.raises(InvalidInputError) as unknown:
        BrowserEgress(mute_audio=True)  # type: ignore[call-arg]
    assert unknown.value.field == "options.muteAudio"
    with pytest.raises(InvalidInputError) as slow:
        BrowserEgress(page_load_timeout_ms=10)
    assert slow.value.field == "options.pageLoadTimeoutMs"


class _NotFound(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        self.send_response(404)
        self.end_headers()
        self.wfile.write(b"no overlay here")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


async def test_a_session_follows_the_browser_egress(tmp_path: Path) -> None:
    egress = BrowserEgress(work_dir=str(tmp_path), page_load_timeout_ms=5000, page_load_attempts=1)
    missing = egress.missing_programs()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser egress needs {missing} in CI")
        pytest.skip(f"the browser egress needs {missing}")
    # An app server without the overlay: the page answers 404, so the render fails on its own
    # after the start, and only the egress's events can tell the session.
    server = HTTPServer(("127.0.0.1", 0), _NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = StreamingConfig(
            KEY_HEX, JWT_SECRET, app_url=f"http://127.0.0.1:{server.server_address[1]}"
        )
        service = StreamingService(config, MemoryStore(), egress, rate_limits=False)
        started = await service.start_stream(
            Actor.internal(),
            agent_id="agent_py",
            platform="custom",
            custom_rtmp_url="rtmp://127.0.0.1:9/live",
            stream_key=STREAM_KEY,
        )
        sid = started["sessionId"]
        status = started["status"]
        for _ in range(200):
            view = await service.get_status(Actor.internal(), sid)
            status = view["status"]
            if status == "error":
                break
            await asyncio.sleep(0.1)
        assert status == "error"
        message = view["errorMessage"] or ""
        assert "HTTP 404" in message, message
        assert "/stream/overlay?{...}" in message and "token=" not in message, message
        assert await egress.list_active() == []
    finally:
        server.shutdown()
        server.server_close()
