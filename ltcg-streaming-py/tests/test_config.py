"""StreamingConfig from the environment or from arguments; problems name the variable."""

from __future__ import annotations

import pytest

from ltcg_streaming import ConfigError, StreamingConfig

from .conftest import API_KEY, API_SECRET, JWT_SECRET, KEY_HEX

ENV = {
    "STREAM_KEY_ENCRYPTION_KEY": f"  {KEY_HEX}\n",
    "STREAMING_JWT_SECRET": JWT_SECRET,
    "LIVEKIT_URL": "wss://project.livekit.cloud",
    "LIVEKIT_API_KEY": API_KEY,
    "LIVEKIT_API_SECRET": API_SECRET,
    "NEXT_PUBLIC_APP_URL": "https://lunchtable.cards/",
    "STREAMING_OVERLAY_TOKEN_TTL_SECS": "3600",
}


def test_from_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config = StreamingConfig.from_env()
    assert config.app_url == "https://lunchtable.cards"
    assert (config.livekit_url, config.livekit_api_key) == (ENV["LIVEKIT_URL"], API_KEY)
    assert config.overlay_token_ttl_seconds == 3600
    assert (config.start_timeout_seconds, config.max_duration_seconds) == (300, 43_200)
    assert config.webhook_leeway_seconds == 10


def test_from_a_mapping_and_from_arguments() -> None:
    assert StreamingConfig.from_env(ENV).livekit_api_key == API_KEY
    config = StreamingConfig(
        KEY_HEX,
        JWT_SECRET,
        previous_encryption_keys=["17" * 32],
        app_url="https://example.test",
        start_timeout_seconds=60,
        webhook_leeway_seconds=0,
    )
    assert (config.app_url, config.livekit_url, config.start_timeout_seconds) == (
        "https://example.test",
        None,
        60,
    )
    assert config.webhook_leeway_seconds == 0


def test_problems_name_every_variable_without_its_value() -> None:
    with pytest.raises(ConfigError) as caught:
        StreamingConfig.from_env({**ENV, "STREAM_KEY_ENCRYPTION_KEY": "zz-secret", "LIVEKIT_API_SECRET": ""})
    assert caught.value.var == "STREAM_KEY_ENCRYPTION_KEY, LIVEKIT_API_SECRET"
    assert "zz-secret" not in str(caught.value)
    with pytest.raises(ConfigError) as bad_url:
        StreamingConfig(KEY_HEX, JWT_SECRET, app_url="ftp://x")
    assert bad_url.value.var == "NEXT_PUBLIC_APP_URL"
    with pytest.raises(ConfigError) as partial:
        StreamingConfig(KEY_HEX, JWT_SECRET, app_url="https://lunchtable.cards", livekit_url="wss://x.livekit.cloud")
    assert partial.value.var == "LIVEKIT_API_KEY, LIVEKIT_API_SECRET"


def test_the_app_url_is_required_unless_in_development() -> None:
    with pytest.raises(ConfigError) as caught:
        StreamingConfig(KEY_HEX, JWT_SECRET)
    assert caught.value.var == "NEXT_PUBLIC_APP_URL"
    assert StreamingConfig(KEY_HEX, JWT_SECRET, development=True).app_url == "http://localhost:3334"
    environ = {k: v for k, v in ENV.items() if k != "NEXT_PUBLIC_APP_URL"}
    assert StreamingConfig.from_env(environ, development=True).app_url == "http://localhost:3334"


def test_a_short_jwt_secret_is_refused_without_being_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        StreamingConfig(KEY_HEX, "short-jwt-secret", app_url="https://example.test")
    assert caught.value.var == "STREAMING_JWT_SECRET"
    assert "short-jwt-secret" not in str(caught.value)


def test_livekit_key_and_secret_without_a_url_verify_webhooks() -> None:
    config = StreamingConfig(
        KEY_HEX, JWT_SECRET, app_url="https://example.test", livekit_api_key=API_KEY, livekit_api_secret=API_SECRET
    )
    assert (config.livekit_url, config.livekit_api_key) == (None, API_KEY)
