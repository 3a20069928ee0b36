"""nginx with the RTMP module on 127.0.0.1, for tests that stream to it (Debian:
``nginx libnginx-mod-rtmp``); a skip without it, a failure when ``CI=true``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} is not installed")


@dataclass
class NginxRtmp:
    """A running nginx-rtmp: ``base_url`` is ``rtmp://127.0.0.1:<port>/live``."""

    port: int

    @property
    def base_url(self) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live"


def probe_codecs(url: str, within: float = 30.0) -> list[str]:
    """The codecs ffprobe reads from ``url``, retrying for up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-rw_timeout", "5000000", "-show_entries", "stream=codec_name",
             "-of", "csv=p=0", url],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        codecs = [line.strip().rstrip(",") for line in out.splitlines() if line.strip()]
        if codecs or time.monotonic() > deadline:
            return codecs
        time.sleep(0.5)


@pytest.fixture
def nginx_rtmp(tmp_path: Path) -> Iterator[NginxRtmp]:
    """nginx-rtmp for this test."""
    if not MODULE.exists() or shutil.which("nginx") is None:
        _missing("nginx with libnginx-mod-rtmp")
    if shutil.which("ffprobe") is None:
        _missing("ffprobe (ffmpeg)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"load_module {MODULE};\ndaemon off;\nmaster_process off;\nerror_log {tmp_path}/error.log;\n"
        f"pid {tmp_path}/nginx.pid;\nevents {{ worker_connections 64; }}\n"
        f"rtmp {{ server {{ listen 127.0.0.1:{port}; application live {{ live on; record off; }} }} }}\n"
    )
    process = subprocess.Popen(
        ["nginx", "-p", str(tmp_path), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("nginx-rtmp did not start") from None
                time.sleep(0.05)
        yield NginxRtmp(port)
    finally:
        process.kill()
        process.wait()
