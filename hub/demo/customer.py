"""What the demo's customers send: custom-channel events, signed as a bridged service
signs them (docs/custom-channel.md: HMAC-SHA256 over "<timestamp>.<raw body>")."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import uuid4

TIMESTAMP_HEADER = "X-Hub-Timestamp"
SIGNATURE_HEADER = "X-Hub-Signature-256"


def signed_headers(secret: str, body: bytes) -> dict[str, str]:
    """The headers a service sends with ``body``: its timestamp and signature."""
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: f"sha256={digest.hexdigest()}",
    }


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether a request to the echo was signed with ``secret`` (constant-time)."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "").lower()
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(f"sha256={digest.hexdigest()}".encode(), given.encode())


def message_event(
    sender_id: str,
    name: str,
    text: str | None,
    at: datetime,
    *,
    email: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A contact's message, with a fresh id."""
    event: dict[str, Any] = {
        "type": "message",
        "id": f"demo-{uuid4().hex}",
        "timestamp": at.isoformat(timespec="seconds"),
        "sender": {"id": sender_id, "name": name, **({"email": email} if email else {})},
    }
    if text:
        event["text"] = text
    if attachments:
        event["attachments"] = attachments
    return event


def status_event(provider_id: str, status: str) -> dict[str, Any]:
    """A delivery status of a reply the service answered with ``provider_id``."""
    return {"type": "status", "id": provider_id, "status": status}


def body_of(event: dict[str, Any]) -> bytes:
    """The raw JSON body of one event."""
    return json.dumps(event).encode()
