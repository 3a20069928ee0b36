"""The library's log records arrive in Python's ``logging``, under ``ltcg_streaming_core``."""

from __future__ import annotations

import logging

import pytest

from ltcg_streaming import Actor, StreamingService

from .conftest import STREAM_KEY


async def test_the_library_logs_into_python_logging_without_secrets(
    service: StreamingService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ltcg_streaming_core")
    started = await service.start_stream(
        Actor.internal(), agent_id="agent_logs", platform="twitch", stream_key=STREAM_KEY
    )
    ours = [r for r in caplog.records if r.name.startswith("ltcg_streaming_core.")]
    created = [r for r in ours if "session created" in r.getMessage()]
    assert created, [r.getMessage() for r in ours]
    assert started["sessionId"] in created[0].getMessage()
    assert created[0].levelno == logging.INFO
    assert all(STREAM_KEY not in r.getMessage() for r in caplog.records)


async def test_a_quieter_level_set_after_import_takes_effect_at_once(
    service: StreamingService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ltcg_streaming_core")
    await service.start_stream(
        Actor.internal(), agent_id="agent_quiet", platform="twitch", stream_key=STREAM_KEY
    )
    assert not [r for r in caplog.records if "session created" in r.getMessage()]
