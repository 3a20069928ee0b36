"""Stream-key vault, overlay tokens and webhook verification through the binding."""

from __future__ import annotations

import pytest

from ltcg_streaming import (
    CryptoError,
    InvalidInputError,
    OverlayTokens,
    StreamKeyVault,
    UnauthorizedError,
    WebhookVerifier,
)

from .conftest import API_KEY, API_SECRET, JWT_SECRET, KEY_HEX, STREAM_KEY

OLD_KEY = "17" * 32


def test_vault_round_trips_in_the_products_format() -> None:
    vault = StreamKeyVault(KEY_HEX)
    sealed = vault.encrypt(STREAM_KEY)
    iv, tag, body = sealed.split(":")
    assert (len(iv), len(tag), len(body)) == (32, 32, 2 * len(STREAM_KEY))
    assert vault.decrypt(sealed) == STREAM_KEY
    assert vault.encrypt(STREAM_KEY) != sealed, "fresh IV each time"


def test_vault_key_ring_and_reencrypt() -> None:
    old = StreamKeyVault(OLD_KEY).encrypt(STREAM_KEY)
    ring = StreamKeyVault(KEY_HEX, previous_keys=[OLD_KEY])
    assert ring.decrypt(old) == STREAM_KEY
    moved = ring.reencrypt(old)
    assert moved != old and StreamKeyVault(KEY_HEX).decrypt(moved) == STREAM_KEY
    assert ring.reencrypt(moved) == moved, "already under the current key"
    with pytest.raises(CryptoError):
        StreamKeyVault(KEY_HEX).decrypt(old)


def test_vault_rejects_bad_keys_and_values_without_echoing_them() -> None:
    with pytest.raises(InvalidInputError) as caught:
        StreamKeyVault("not-hex-" + "0" * 56)
    assert caught.value.field == "keyHex" and "not-hex" not in str(caught.value)
    with pytest.raises(InvalidInputError) as caught:
        StreamKeyVault(KEY_HEX, previous_keys=["zz"])
    assert caught.value.field == "previousKeys[0]"
    with pytest.raises(InvalidInputError):
        StreamKeyVault(KEY_HEX).decrypt("aa:bb")
    assert repr(StreamKeyVault(KEY_HEX, [OLD_KEY])) == "StreamKeyVault(previous_keys=1)"


def test_overlay_tokens_issue_and_verify() -> None:
    tokens = OverlayTokens(JWT_SECRET, ttl_seconds=600)
    token = tokens.issue("ses_1", "agent", "agent_7", now=1_767_225_600)
    claims = tokens.verify(token, "ses_1", now=1_767_225_601)
    assert claims == {
        "sessionId": "ses_1",
        "streamType": "agent",
        "entityId": "agent_7",
        "type": "overlay_access",
        "exp": 1_767_226_200,
        "iat": 1_767_225_600,
    }
    # Synchronous results keep the core's field order (here the token's claim order).
    assert list(claims) == ["sessionId", "streamType", "entityId", "type", "exp", "iat"]
    assert tokens.ttl_seconds == 600
    with pytest.raises(UnauthorizedError, match="another session"):
        tokens.verify(token, "ses_2", now=1_767_225_601)
    with pytest.raises(UnauthorizedError, match="expired"):
        tokens.verify(token, now=1_767_226_200)
    assert tokens.verify(tokens.issue("ses_1", "user", "u1"))["streamType"] == "user"
    with pytest.raises(InvalidInputError):
        OverlayTokens("")
    assert repr(tokens) == "OverlayTokens(ttl_seconds=600)"


def test_webhook_verifier_refuses_forgeries() -> None:
    verifier = WebhookVerifier(API_KEY, API_SECRET, leeway_seconds=0)
    with pytest.raises(UnauthorizedError, match="missing"):
        verifier.verify(b"{}", "")
    with pytest.raises(TypeError):
        verifier.verify(42, "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError) as caught:
        WebhookVerifier(API_KEY, API_SECRET, leeway_seconds=7200)
    assert caught.value.field == "leewaySeconds"
    assert repr(verifier) == f"WebhookVerifier(api_key='{API_KEY}', leeway_seconds=0)"
