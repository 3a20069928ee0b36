"""No secret (stream key, API secret, JWT secret, encryption key) in reprs, errors or results."""

from __future__ import annotations

import pytest

from ltcg_streaming import (
    Actor,
    InvalidInputError,
    LiveKitEgress,
    MemoryEgress,
    MemoryStore,
    OverlayTokens,
    StreamingConfig,
    StreamingService,
    StreamKeyVault,
    WebhookVerifier,
)

from .conftest import API_KEY, API_SECRET, JWT_SECRET, KEY_HEX, STREAM_KEY

SECRETS = (KEY_HEX, JWT_SECRET, API_SECRET, STREAM_KEY)


def clean(text: str) -> bool:
    return not any(secret in text for secret in SECRETS)


async def test_reprs_show_no_secret(config: StreamingConfig) -> None:
    service = StreamingService(config, MemoryStore(), MemoryEgress())
    objects = [
        config,
        service,
        StreamKeyVault(KEY_HEX),
        OverlayTokens(JWT_SECRET),
        WebhookVerifier(API_KEY, API_SECRET),
        LiveKitEgress("wss://livekit.test", API_KEY, API_SECRET),
        LiveKitEgress.from_config(config),
    ]
    for obj in objects:
        assert clean(repr(obj)) and clean(str(obj)), repr(obj)
    assert repr(LiveKitEgress.from_config(config)) == (
        f"LiveKitEgress(api_url='https://livekit.test/', api_key='{API_KEY}')"
    )


async def test_results_and_errors_show_no_stream_key(service: StreamingService) -> None:
    agent = Actor.agent("a1")
    started = await service.start_stream(agent, platform="twitch", stream_key=STREAM_KEY)
    status = await service.get_status(agent, started["sessionId"])
    session = await service.update_viewer_count(agent, started["sessionId"], 1)
    config = await service.configure_platform(agent, platform="twitch", stream_key=STREAM_KEY)
    for result in (started, status, session, config):
        assert clean(repr(result)), result
    with pytest.raises(InvalidInputError) as caught:
        await service.start_stream(
            Actor.agent("a2"), platform="twitch", stream_key=STREAM_KEY + " x"
        )
    assert clean(str(caught.value))
    with pytest.raises(InvalidInputError) as wrong_field:
        await service.start_stream(
            Actor.agent("a2"), platform=STREAM_KEY, stream_key="k"  # type: ignore[arg-type]
        )
    assert clean(str(wrong_field.value))
