"""Build and post webhook requests the way a provider does: raw bytes, signed headers.

The signing helpers implement the hub's own scheme (the custom channel's and every
scaffolded plugin's): ``X-Hub-Timestamp: <unix seconds>`` and ``X-Hub-Signature-256:
sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">``. A plugin with a provider scheme
of its own signs its samples itself; ``WebhookSample`` only carries the result.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import ClientResponse
    from aiohttp.test_utils import TestClient

TIMESTAMP_HEADER = "X-Hub-Timestamp"
SIGNATURE_HEADER = "X-Hub-Signature-256"


@dataclass(frozen=True)
class WebhookSample:
    """One webhook request as a provider would send it: headers and the raw body."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "POST"
    query: Mapping[str, str] = field(default_factory=dict)


def hub_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers that sign ``body`` with ``secret`` now (or at ``timestamp``), JSON typed."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: hub_signature(secret, stamp, body),
    }


def signed_json(secret: str, payload: Any, *, timestamp: int | None = None) -> WebhookSample:
    """A sample carrying ``payload`` as compact JSON, signed with ``secret``."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return WebhookSample(body=body, headers=signed_headers(secret, body, timestamp=timestamp))


async def post_webhook(
    client: TestClient[Any, Any], channel_id: int, sample: WebhookSample
) -> ClientResponse:
    """Send ``sample`` to the real inbound pipe, ``/webhooks/{channel_id}``, as is."""
    return await client.request(
        sample.method,
        f"/webhooks/{channel_id}",
        data=sample.body,
        headers=dict(sample.headers),
        params=dict(sample.query),
    )
