"""The core's JSON test vectors (made with the real peer libraries), through the binding."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from ltcg_streaming import (
    CryptoError,
    InvalidInputError,
    OverlayTokens,
    StreamKeyVault,
    UnauthorizedError,
    WebhookVerifier,
)

from .conftest import fixture


def test_stream_key_vectors() -> None:
    fx = fixture("stream_key_aes_gcm")
    vault = StreamKeyVault(fx["keyHex"])
    valid = fx["valid"] + fx["valid12ByteIv"]
    assert len(valid) == 10
    for case in valid:
        assert vault.decrypt(case["ciphertext"]) == case["plaintext"]
    assert len(fx["invalid"]) == 8
    for case in fx["invalid"]:
        why = case["why"]
        expected = CryptoError if "flipped" in why or why == "wrong key" else InvalidInputError
        with pytest.raises(expected):
            vault.decrypt(case["ciphertext"])


def test_overlay_jwt_vectors() -> None:
    fx = fixture("overlay_jwt")
    tokens = OverlayTokens(fx["secret"])
    at = fx["verifyAt"]
    assert len(fx["valid"]) == 3
    for case in fx["valid"]:
        expected: Dict[str, Any] = case["claims"]
        claims = tokens.verify(case["token"], expected["sessionId"], now=at)
        assert {k: claims[k] for k in expected} == expected, case["by"]  # type: ignore[literal-required]
        with pytest.raises(UnauthorizedError):
            tokens.verify(case["token"], "someone_else", now=at)
        if case["by"].startswith("jose"):
            ours = tokens.issue(
                expected["sessionId"], expected["streamType"], expected["entityId"], now=1_767_225_600
            )
            assert ours == case["token"], "byte for byte"
    assert len(fx["invalid"]) == 8
    for case in fx["invalid"]:
        with pytest.raises(UnauthorizedError):
            tokens.verify(case["token"], now=at)


def test_livekit_webhook_vectors() -> None:
    fx = fixture("livekit_webhooks")
    verifier = WebhookVerifier(fx["apiKey"], fx["apiSecret"])
    at = fx["verifyAt"]
    assert len(fx["valid"]) == 6
    for case in fx["valid"]:
        event = verifier.verify(case["body"], case["authorization"], now=at)
        assert event["event"] == case["event"]
        assert event["egressId"] == case.get("egressId")
        assert event["status"] == case.get("status")
        assert event["id"].startswith("EV_")
        bearer = verifier.verify(case["body"].encode(), "Bearer " + case["authorization"], now=at)
        assert bearer == event
        with pytest.raises(UnauthorizedError):
            verifier.verify(case["body"], case["authorization"], now=1_795_478_632 + 10)
    assert len(fx["invalid"]) == 6
    for case in fx["invalid"]:
        with pytest.raises(UnauthorizedError):
            verifier.verify(case["body"], case["authorization"], now=at)
