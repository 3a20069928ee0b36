"""Interop with the real Python peers: PyJWT, cryptography's AESGCM, livekit-api."""

from __future__ import annotations

import base64
import hashlib
import os
import time

import jwt
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.json_format import MessageToJson
from livekit import api
from livekit.protocol.egress import EGRESS_ACTIVE, EgressInfo, WebEgressRequest
from livekit.protocol.webhook import WebhookEvent

from ltcg_streaming import (
    Actor,
    MemoryEgress,
    OverlayTokens,
    StreamingService,
    StreamKeyVault,
    UnauthorizedError,
    WebhookVerifier,
)

from .conftest import API_KEY, API_SECRET, APP_URL, JWT_SECRET, KEY_HEX, STREAM_KEY
from .webhooks import livekit_webhook

NOW = 1_767_225_600


def test_pyjwt_verifies_our_overlay_tokens() -> None:
    token = OverlayTokens(JWT_SECRET).issue("ses_1", "agent", "agent_7", now=NOW)
    assert jwt.get_unverified_header(token) == {"alg": "HS256"}
    claims = jwt.decode(
        token, JWT_SECRET.encode(), algorithms=["HS256"], options={"verify_exp": False}
    )
    assert claims == {
        "sessionId": "ses_1",
        "streamType": "agent",
        "entityId": "agent_7",
        "type": "overlay_access",
        "exp": NOW + 86_400,
        "iat": NOW,
    }
    fresh = OverlayTokens(JWT_SECRET).issue("ses_2", "user", "u1")
    assert jwt.decode(fresh, JWT_SECRET, algorithms=["HS256"])["sessionId"] == "ses_2"


def product_claims(**overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "sessionId": "ses_9",
        "streamType": "user",
        "entityId": "user_3",
        "type": "overlay_access",
        "exp": NOW + 3600,
        "iat": NOW,
    }
    claims.update(overrides)
    return claims


def test_we_verify_pyjwt_tokens_in_the_product_layout() -> None:
    tokens = OverlayTokens(JWT_SECRET)
    token = jwt.encode(product_claims(), JWT_SECRET, algorithm="HS256")
    assert tokens.verify(token, "ses_9", now=NOW + 1) == product_claims()
    for forged in [
        jwt.encode(product_claims(), JWT_SECRET, algorithm="HS512"),
        jwt.encode(product_claims(type="other"), JWT_SECRET, algorithm="HS256"),
        jwt.encode(product_claims(), "another-secret-" + "z" * 64, algorithm="HS256"),
        jwt.encode(product_claims(exp=NOW), JWT_SECRET, algorithm="HS256"),
    ]:
        with pytest.raises(UnauthorizedError):
            tokens.verify(forged, now=NOW + 1)


def test_cryptography_decrypts_our_ciphertexts() -> None:
    sealed = StreamKeyVault(KEY_HEX).encrypt(STREAM_KEY)
    iv, tag, body = (bytes.fromhex(part) for part in sealed.split(":"))
    assert len(iv) == 16
    plain = AESGCM(bytes.fromhex(KEY_HEX)).decrypt(iv, body + tag, None)
    assert plain.decode() == STREAM_KEY


@pytest.mark.parametrize("iv_len", [16, 12])
def test_we_decrypt_cryptographys_ciphertexts(iv_len: int) -> None:
    iv = os.urandom(iv_len)
    sealed = AESGCM(bytes.fromhex(KEY_HEX)).encrypt(iv, STREAM_KEY.encode(), None)
    body, tag = sealed[:-16], sealed[-16:]
    product_format = f"{iv.hex()}:{tag.hex()}:{body.hex()}"
    assert StreamKeyVault(KEY_HEX).decrypt(product_format) == STREAM_KEY


def test_livekit_api_webhooks_verify_and_tampering_is_caught() -> None:
    body, token = livekit_webhook("EG_abc123", "ses_42")
    event = WebhookVerifier(API_KEY, API_SECRET).verify(body, token)
    assert event["event"] == "egress_updated"
    assert event["egressId"] == "EG_abc123"
    assert event["status"] == "EGRESS_ACTIVE"
    assert event["webUrl"] is not None and "sessionId=ses_42" in event["webUrl"]
    tampered = body.replace("EG_abc123", "EG_abc124")
    with pytest.raises(UnauthorizedError):
        WebhookVerifier(API_KEY, API_SECRET).verify(tampered, token)
    with pytest.raises(UnauthorizedError):
        WebhookVerifier(API_KEY, "another-secret").verify(body, token)


async def test_a_livekit_api_webhook_takes_a_session_live(
    service: StreamingService, egress: MemoryEgress
) -> None:
    agent = Actor.agent("agent_7")
    started = await service.start_stream(agent, platform="twitch", stream_key=STREAM_KEY)
    [running] = await egress.list_active()
    assert running["sessionId"] == started["sessionId"]
    body, token = livekit_webhook(running["egressId"], started["sessionId"])
    outcome = await service.handle_webhook(body.encode(), token)
    assert outcome["applied"] and outcome["sessionId"] == started["sessionId"]
    again = await service.handle_webhook(body, token)
    assert again["duplicate"] and not again["applied"]
    status = await service.get_status(agent, started["sessionId"])
    assert status["status"] == "live" and status["startedAt"] is not None
    with pytest.raises(UnauthorizedError):
        await service.handle_webhook(body + " ", token)
