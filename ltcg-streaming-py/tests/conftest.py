"""Shared fixtures: a configuration with LiveKit credentials, an in-process egress, services."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from ltcg_streaming import MemoryEgress, MemoryStore, StreamingConfig, StreamingService

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "ltcg-streaming-core" / "tests" / "fixtures"

KEY_HEX = "42" * 32
JWT_SECRET = "overlay-secret-for-tests-" + "0123456789abcdef" * 3
API_KEY = "APItest1234"
API_SECRET = "lk-secret-0123456789abcdefghijklmnop"
APP_URL = "https://lunchtable.test"
STREAM_KEY = "live_123456789_abcdefghijklmnop"


def fixture(name: str) -> Any:
    """A JSON vector file of the core's tests."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def config() -> StreamingConfig:
    return StreamingConfig(
        KEY_HEX,
        JWT_SECRET,
        app_url=APP_URL,
        livekit_url="wss://livekit.test",
        livekit_api_key=API_KEY,
        livekit_api_secret=API_SECRET,
    )


@pytest.fixture
def egress() -> MemoryEgress:
    return MemoryEgress()


@pytest.fixture
def make_service(config: StreamingConfig, egress: MemoryEgress) -> Callable[..., StreamingService]:
    """Services over `store` (default: a fresh MemoryStore) with rate limits off."""

    def make(store: Any = None, **options: Any) -> StreamingService:
        options.setdefault("rate_limits", False)
        return StreamingService(config, store or MemoryStore(), egress, **options)

    return make


@pytest.fixture
def service(make_service: Callable[..., StreamingService]) -> StreamingService:
    return make_service()
