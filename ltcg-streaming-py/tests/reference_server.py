"""The reference server (``ltcg-streaming-server``, built by ``cargo test``) as a child
process on 127.0.0.1 with a SQLite file, for tests of ``Client`` over HTTP.

The binary is ``$LTCG_SERVER_BIN``, else ``target/debug/ltcg-streaming-server``; without it
the tests skip, or fail when ``CI=true``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

REPO = Path(__file__).resolve().parents[2]
INTERNAL_KEY = "py-internal-key-0123456789abcdef"
AGENT_KEY = "ltcg_PyAgentKey0123456789abcdefghij"
AGENT_ID = "agent_py"
ENC_KEY = "6457ed47ba47dc9dccb72b09f27843b717aed4fcb909b4a7472fff3c46733e23"
JWT_SECRET = "py-overlay-secret-0123456789abcdef"
SECRETS = (INTERNAL_KEY, AGENT_KEY, ENC_KEY, JWT_SECRET)


def server_binary() -> Path:
    """The server binary, or a skip (a failure in CI) when it is not built."""
    path = Path(os.environ.get("LTCG_SERVER_BIN", REPO / "target" / "debug" / "ltcg-streaming-server"))
    if not path.is_file():
        message = f"the reference server is not built ({path}); run cargo test first"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ReferenceServer:
    """A running server: where it listens and what it printed."""

    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(tmp: Path, extra_env: Optional[Mapping[str, str]] = None) -> ReferenceServer:
    """Starts the server (memory egress unless ``extra_env`` says otherwise) and waits
    until ``/healthz`` answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "LTCG_"))}
    env.update(
        {
            "RUST_LOG": "info",
            "LTCG_BIND": f"127.0.0.1:{port}",
            "LTCG_DATABASE": str(tmp / "streams.db"),
            "LTCG_INTERNAL_KEY": INTERNAL_KEY,
            "LTCG_AGENT_KEYS": f"{AGENT_KEY}={AGENT_ID}",
            "STREAM_KEY_ENCRYPTION_KEY": ENC_KEY,
            "STREAMING_JWT_SECRET": JWT_SECRET,
            "NEXT_PUBLIC_APP_URL": url,
            "LTCG_EGRESS": "memory",
        }
    )
    env.update(extra_env or {})
    log = tmp / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(server_binary())], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = ReferenceServer(url, log, process)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the server did not start:\n{server.output()}")
        time.sleep(0.05)


def stop_server(server: ReferenceServer) -> None:
    """Stops the server and checks that it printed no secret."""
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    printed = server.output()
    for secret in SECRETS:
        assert secret not in printed, "the server printed a secret"


@pytest.fixture
def reference_server(tmp_path: Path) -> Iterator[ReferenceServer]:
    """A reference server for this test."""
    server = start_server(tmp_path)
    try:
        yield server
    finally:
        stop_server(server)
