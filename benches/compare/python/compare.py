"""Side-by-side comparison, in ONE Python process: ``ltcg_streaming`` (a release build of
ltcg-streaming-py) against the peer stack doing the same work: cryptography ``AESGCM`` with the
product's 16-byte IV format, PyJWT HS256 encode/decode and livekit-api ``WebhookReceiver``.

    python compare.py                                  # in benches/compare/.venv (run.sh)
    COMPARE_ROUND_MS=500 COMPARE_ROUNDS=9 python compare.py

Every operation is warmed up, then timed (``time.perf_counter_ns``) in COMPARE_ROUNDS rounds of
about COMPARE_ROUND_MS each, alternating ours and peer; the table shows the median round in
µs/op. All calls are synchronous on both sides. Inputs are identical and cross-checked before
anything is timed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from typing import Any, Callable

import jwt
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from livekit import api

import ltcg_streaming
from ltcg_streaming import OverlayTokens, StreamKeyVault, WebhookVerifier

ROUND_MS = float(os.environ.get("COMPARE_ROUND_MS", "300"))
ROUNDS = int(os.environ.get("COMPARE_ROUNDS", "7"))
WARMUP_MS = float(os.environ.get("COMPARE_WARMUP_MS", "300"))

# --- Inputs (the same for both sides, and the same values as compare.mjs) ---------------------
ENCRYPTION_KEY = "0123456789abcdef" * 4  # STREAM_KEY_ENCRYPTION_KEY, 64 hex chars
JWT_SECRET = "overlay-secret-for-the-comparison-0123456789"  # STREAMING_JWT_SECRET
LIVEKIT_API_KEY = "APIcompare"
LIVEKIT_API_SECRET = "livekit-secret-for-the-comparison-0123456789"
STREAM_KEY = "live_123456789_abcdefghijklmnopqrstuvwxyz"
TTL = 86_400
# PyJWT and livekit-api take no clock: tokens are issued at the start and valid for the run.
NOW = int(time.time())
SESSION_ID, STREAM_TYPE, ENTITY_ID = "ses_compare_1", "agent", "agent_7"


def product_encrypt(plaintext: str, key_hex: str) -> str:
    """The product's encryptStreamKey format: ``<iv>:<tag>:<ciphertext>`` hex, 16-byte IV."""
    iv = os.urandom(16)
    sealed = AESGCM(bytes.fromhex(key_hex)).encrypt(iv, plaintext.encode(), None)
    return f"{iv.hex()}:{sealed[-16:].hex()}:{sealed[:-16].hex()}"


def product_decrypt(value: str, key_hex: str) -> str:
    """The product's decryptStreamKey with cryptography's AESGCM."""
    iv, tag, sealed = value.split(":")
    aead = AESGCM(bytes.fromhex(key_hex))
    return aead.decrypt(bytes.fromhex(iv), bytes.fromhex(sealed) + bytes.fromhex(tag), None).decode()


def pyjwt_issue(session_id: str, stream_type: str, entity_id: str) -> str:
    """The product's overlay token with PyJWT: header {alg: HS256}, claims in jose's order."""
    claims = {
        "sessionId": session_id,
        "streamType": stream_type,
        "entityId": entity_id,
        "type": "overlay_access",
        "exp": NOW + TTL,
        "iat": NOW,
    }
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256", headers={"typ": None})


def pyjwt_verify(token: str, session_id: str) -> dict[str, Any]:
    """The product's overlay token check with PyJWT (signature, exp, type, session)."""
    claims: dict[str, Any] = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
    if claims.get("type") != "overlay_access" or claims.get("sessionId") != session_id:
        raise jwt.InvalidTokenError("invalid overlay token")
    return claims


# A LiveKit egress_updated webhook as the server sends it (protobuf JSON), as in compare.mjs.
WEBHOOK_BODY = json.dumps(
    {
        "event": "egress_updated",
        "egressInfo": {
            "egressId": "EG_compare1",
            "roomId": "RM_compare1",
            "roomName": "ltcg-ses_compare_1",
            "status": "EGRESS_ACTIVE",
            "startedAt": str((NOW - 30) * 1_000_000_000),
            "updatedAt": str(NOW * 1_000_000_000),
            "web": {
                "url": "https://app.example.com/stream-overlay?sessionId=ses_compare_1",
                "audioOnly": False,
            },
            "stream": {"urls": ["rtmp://live.twitch.tv/app/{stream_key}"]},
            "streamResults": [
                {
                    "url": "rtmp://live.twitch.tv/app/{stream_key}",
                    "status": "ACTIVE",
                    "startedAt": str((NOW - 25) * 1_000_000_000),
                }
            ],
        },
        "id": "EV_compare1",
        "createdAt": str(NOW),
    },
    separators=(",", ":"),
)
# Signed as the LiveKit server signs it: an AccessToken carrying the body's sha256.
WEBHOOK_AUTH = (
    api.AccessToken(LIVEKIT_API_KEY, LIVEKIT_API_SECRET)
    .with_sha256(base64.b64encode(hashlib.sha256(WEBHOOK_BODY.encode()).digest()).decode())
    .to_jwt()
)


def run_for(op: Callable[[], object], n: int) -> float:
    """A timed loop of ``n`` calls of ``op``, in µs."""
    t0 = time.perf_counter_ns()
    for _ in range(n):
        op()
    return (time.perf_counter_ns() - t0) / 1000


def warm_up(op: Callable[[], object]) -> int:
    """Warm-up, doubling the batch until WARMUP_MS is spent; returns the round size."""
    n, spent, per_op = 64, 0.0, 0.0
    while spent < WARMUP_MS * 1000:
        us = run_for(op, n)
        spent += us
        per_op = us / n
        n *= 2
    return max(1000, round(ROUND_MS * 1000 / per_op))


def measure_pair(ours: Callable[[], object], peer: Callable[[], object]) -> tuple[float, float]:
    """µs/op of both sides: warm-up, then ROUNDS rounds alternating ours and peer (so both see
    the same background load), median round of each."""
    n_ours, n_peer = warm_up(ours), warm_up(peer)
    o, p = [], []
    for _ in range(ROUNDS):
        o.append(run_for(ours, n_ours) / n_ours)
        p.append(run_for(peer, n_peer) / n_peer)
    return statistics.median(o), statistics.median(p)


def main() -> None:
    vault = StreamKeyVault(ENCRYPTION_KEY)
    ciphertext = product_encrypt(STREAM_KEY, ENCRYPTION_KEY)
    assert vault.decrypt(ciphertext) == STREAM_KEY
    assert product_decrypt(ciphertext, ENCRYPTION_KEY) == STREAM_KEY

    tokens = OverlayTokens(JWT_SECRET, TTL)
    our_token = tokens.issue(SESSION_ID, STREAM_TYPE, ENTITY_ID, now=NOW)
    peer_token = pyjwt_issue(SESSION_ID, STREAM_TYPE, ENTITY_ID)
    assert our_token == peer_token, "same claims at the same clock: the tokens are byte-identical"
    assert tokens.verify(peer_token, SESSION_ID)["sessionId"] == SESSION_ID
    assert pyjwt_verify(our_token, SESSION_ID)["sessionId"] == SESSION_ID

    verifier = WebhookVerifier(LIVEKIT_API_KEY, LIVEKIT_API_SECRET)
    receiver = api.WebhookReceiver(api.TokenVerifier(LIVEKIT_API_KEY, LIVEKIT_API_SECRET))
    assert verifier.verify(WEBHOOK_BODY, WEBHOOK_AUTH)["egressId"] == "EG_compare1"
    assert receiver.receive(WEBHOOK_BODY, WEBHOOK_AUTH).egress_info.egress_id == "EG_compare1"

    operations: list[tuple[str, Callable[[], object], Callable[[], object], str]] = [
        (
            "stream-key decrypt",
            lambda: vault.decrypt(ciphertext),
            lambda: product_decrypt(ciphertext, ENCRYPTION_KEY),
            "cryptography AESGCM",
        ),
        (
            "overlay token issue",
            lambda: tokens.issue(SESSION_ID, STREAM_TYPE, ENTITY_ID, now=NOW),
            lambda: pyjwt_issue(SESSION_ID, STREAM_TYPE, ENTITY_ID),
            "PyJWT encode HS256",
        ),
        (
            "overlay token verify",
            lambda: tokens.verify(peer_token, SESSION_ID),
            lambda: pyjwt_verify(peer_token, SESSION_ID),
            "PyJWT decode HS256",
        ),
        (
            "webhook verify",
            lambda: verifier.verify(WEBHOOK_BODY, WEBHOOK_AUTH),
            lambda: receiver.receive(WEBHOOK_BODY, WEBHOOK_AUTH),
            "livekit-api WebhookReceiver.receive",
        ),
    ]

    print(
        f"Python {platform.python_version()} ({sys.executable}) · "
        f"ltcg_streaming from {os.path.dirname(ltcg_streaming.__file__)}"
    )
    print(
        f"warm-up {WARMUP_MS:g} ms, {ROUNDS} rounds of ~{ROUND_MS:g} ms per side (alternating), "
        "median round\n"
    )
    cells = []
    for name, ours, peer, peer_name in operations:
        ours_us, peer_us = measure_pair(ours, peer)
        cells.append(
            [name, f"{ours_us:.2f}", f"{peer_us:.2f}", f"{peer_us / ours_us:.1f}×", peer_name]
        )

    header = ["operation", "ours µs/op", "peer µs/op", "ratio (peer/ours)", "peer"]
    widths = [max(len(header[i]), *(len(c[i]) for c in cells)) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(
            x.ljust(widths[i]) if i in (0, 4) else x.rjust(widths[i]) for i, x in enumerate(row)
        ) + " |"

    print(line(header))
    print(
        "|"
        + "|".join("-" * (w + 2) if i in (0, 4) else "-" * (w + 1) + ":" for i, w in enumerate(widths))
        + "|"
    )
    for c in cells:
        print(line(c))


if __name__ == "__main__":
    main()
