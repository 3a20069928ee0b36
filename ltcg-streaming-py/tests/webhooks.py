"""LiveKit webhooks made by LiveKit's own Python SDK, for tests that take sessions live."""

from __future__ import annotations

import base64
import hashlib
import time

from google.protobuf.json_format import MessageToJson
from livekit import api
from livekit.protocol.egress import EGRESS_ACTIVE, EgressInfo, WebEgressRequest
from livekit.protocol.webhook import WebhookEvent

from .conftest import API_KEY, API_SECRET, APP_URL


def livekit_webhook(egress_id: str, session_id: str) -> tuple[str, str]:
    """A webhook body and Authorization header made by LiveKit's own Python SDK."""
    event = WebhookEvent(
        event="egress_updated",
        id=f"EV_{egress_id}",
        created_at=int(time.time()),
        egress_info=EgressInfo(
            egress_id=egress_id,
            status=EGRESS_ACTIVE,
            web=WebEgressRequest(url=f"{APP_URL}/stream/overlay?sessionId={session_id}&token=t"),
        ),
    )
    body = MessageToJson(event)
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    token = api.AccessToken(API_KEY, API_SECRET).with_sha256(digest).to_jwt()
    return body, token
