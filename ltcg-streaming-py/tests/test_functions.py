"""Plain functions: RTMP URLs, redaction, overlay defaults, cost estimates."""

from __future__ import annotations

from typing import Optional

import pytest

from ltcg_streaming import (
    InvalidInputError,
    build_rtmp_url,
    default_overlay_config,
    estimate_cost,
    redact_url,
)

from .conftest import STREAM_KEY

URLS = [
    ("twitch", "abc123", None, "rtmps://live.twitch.tv/app/abc123"),
    ("youtube", "yt-key", None, "rtmps://a.rtmps.youtube.com:443/live2/yt-key"),
    ("kick", "kick-key", None, "rtmps://fa723fc1b171.global-contribute.live-video.net:443/app/kick-key"),
    ("twitch", "override-key", "rtmps://custom.twitch.ingest/app", "rtmps://custom.twitch.ingest/app/override-key"),
    ("kick", "override-kick", "rtmp://ingest.kick.alt/live", "rtmp://ingest.kick.alt/live/override-kick"),
    ("retake", "k1", "rtmps://global-live.mux.com:443/app", "rtmps://global-live.mux.com:443/app/k1"),
    ("custom", "k2", "rtmp://example.com/live", "rtmp://example.com/live/k2"),
    ("x", "stream-key", "rtmps://example.com/live/stream-key", "rtmps://example.com/live/stream-key"),
    ("facebook", "FB-1", None, "rtmps://live-api-s.facebook.com:443/rtmp/FB-1"),
]


@pytest.mark.parametrize(("platform", "key", "custom", "expected"), URLS)
def test_rtmp_urls(platform: str, key: str, custom: Optional[str], expected: str) -> None:
    assert build_rtmp_url(platform, key, custom) == expected


@pytest.mark.parametrize(
    ("platform", "key", "custom", "field", "message"),
    [
        ("twitch", "   ", None, "streamKey", "invalid streamKey: is required"),
        ("custom", "abc", None, "customRtmpUrl", "invalid customRtmpUrl: is required for the custom platform"),
        ("pumpfun", "abc", "https://example.com/live", "customRtmpUrl", "must start with rtmp:// or rtmps://"),
        ("myspace", "abc", None, "platform", "unsupported platform"),
        ("twitch", "bad key/1", None, "streamKey", "printable"),
    ],
)
def test_rtmp_url_errors_name_the_field(
    platform: str, key: str, custom: Optional[str], field: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        build_rtmp_url(platform, key, custom)
    assert caught.value.field == field
    assert caught.value.code == "INVALID_INPUT"
    assert "bad key" not in str(caught.value), "the key is never echoed"


def test_redaction_hides_the_key() -> None:
    url = build_rtmp_url("twitch", STREAM_KEY)
    assert redact_url(url) == "rtmps://live.twitch.tv/app/{liv...nop}"


def test_overlay_defaults_are_the_seeds() -> None:
    assert default_overlay_config("user") == {
        "showDecisions": False,
        "showAgentInfo": False,
        "showEventFeed": True,
        "showPlayerCam": True,
        "theme": "dark",
    }
    assert default_overlay_config("agent") == {
        "showDecisions": True,
        "showAgentInfo": True,
        "showEventFeed": True,
        "showPlayerCam": False,
        "theme": "dark",
    }
    with pytest.raises(InvalidInputError) as caught:
        default_overlay_config("robot")  # type: ignore[arg-type]
    assert caught.value.field == "streamType"


def test_cost_estimates_use_the_seeds_prices() -> None:
    one_hour = estimate_cost(1)
    assert one_hour["totalUsd"] == pytest.approx(1.035)
    assert one_hour["gigabytes"] == pytest.approx(1.35)
    assert one_hour["egressMinutes"] == pytest.approx(60)
    assert estimate_cost(2, streams=10)["totalUsd"] == pytest.approx(20.70)
    assert estimate_cost(1, bitrate_mbps=6.0)["bandwidthUsd"] == pytest.approx(0.27)
    with pytest.raises(InvalidInputError) as caught:
        estimate_cost(-1)
    assert caught.value.field == "hours"
