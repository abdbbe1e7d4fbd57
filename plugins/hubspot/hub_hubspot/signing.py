"""HubSpot's v3 webhook signature: ``X-HubSpot-Signature-v3`` over method, URL, body, time.

The signed string is ``method + uri + body + timestamp`` (UTF-8), where ``uri`` is the
full URL HubSpot called with the characters HubSpot leaves encoded decoded first, and the
body is the raw bytes received. The signature is base64 (not hex) of HMAC-SHA256 keyed
with the app's client secret; ``X-HubSpot-Request-Timestamp`` is in milliseconds and a
request older than five minutes is refused, so a captured call cannot be replayed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from hub.contract import WebhookRejected, WebhookRequest

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
MAX_AGE_MS = 300_000

# HubSpot's documented list of escapes to undo in the URL before signing.
_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def signed_uri(url: str) -> str:
    """``url`` with HubSpot's listed percent-escapes decoded (either letter case)."""
    for escaped, char in _DECODED.items():
        url = url.replace(escaped, char).replace(escaped.lower(), char)
    return url


def signature(client_secret: str, method: str, url: str, body: bytes, timestamp: str) -> str:
    """The ``X-HubSpot-Signature-v3`` value HubSpot sends for this request."""
    message = method.upper().encode() + signed_uri(url).encode() + body + timestamp.encode()
    digest = hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(client_secret: str, request: WebhookRequest, *, now_ms: int | None = None) -> None:
    """Raise ``WebhookRejected`` unless ``request`` is signed by HubSpot, recently.

    401 when a header is missing; 403 when the timestamp is malformed or outside the
    window, or the signature does not match (compared in constant time).
    """
    given = request.header(SIGNATURE_HEADER)
    stamp = request.header(TIMESTAMP_HEADER)
    if not given or not stamp:
        raise WebhookRejected(401, f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required")
    if not stamp.strip().isdigit():
        raise WebhookRejected(403, f"{TIMESTAMP_HEADER} must be milliseconds since the epoch")
    current = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(current - int(stamp)) > MAX_AGE_MS:
        raise WebhookRejected(403, "the request is older than five minutes")
    expected = signature(client_secret, request.method, request.url, request.body, stamp.strip())
    if not hmac.compare_digest(expected.encode(), given.strip().encode()):
        raise WebhookRejected(403, "the signature does not match: check the client secret")
