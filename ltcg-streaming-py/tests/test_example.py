"""examples/python/agent_stream.py runs as documented (in-process egress, SQLite file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import REPO

EXAMPLE = REPO / "examples" / "python" / "agent_stream.py"
PRODUCT_VARS = ("LIVEKIT_", "STREAM_KEY", "STREAMING_", "NEXT_PUBLIC_APP_URL", "RTMP_URL")


def test_agent_stream_example_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PRODUCT_VARS)}
    db = tmp_path / "agent.db"
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"store: {db}" in lines
    assert "status: live" in lines
    assert any(line.startswith("live: 3 decisions, 3 events, 42 viewers") for line in lines)
    assert any(line.startswith('stopped: {"decisionsLogged": 3,') for line in lines)
    assert db.exists()
