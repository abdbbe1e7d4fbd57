"""The custom channel's request signature: HMAC-SHA256 over "<timestamp>.<raw body>".

Both directions use it: the service signs its webhook calls to the hub, the hub signs
its replies to the service. The algorithm is fixed (a request can never choose it), the
comparison is constant-time, and a timestamp outside the replay window is refused in
either direction of clock skew.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping

from hub.contract import Headers, WebhookRejected

TIMESTAMP_HEADER = "X-Hub-Timestamp"
SIGNATURE_HEADER = "X-Hub-Signature-256"
REPLAY_WINDOW_SECONDS = 300
"""How far a request's timestamp may be from the receiver's clock, either way."""

_SIGNATURE_FORMAT = re.compile(r"sha256=[0-9a-fA-F]{64}")
_TIMESTAMP_FORMAT = re.compile(r"[0-9]{1,12}")


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The timestamp and signature headers for a request carrying ``body``."""
    timestamp = int(time.time() if now is None else now)
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> None:
    """Check a request's signature and timestamp; raise ``WebhookRejected`` if they fail.

    401 when a header is missing or not in the documented format (the request is not
    signed), 403 when the signature does not match or the timestamp is outside the
    replay window (the request is signed, but not acceptably).
    """
    found = Headers(headers)  # case-insensitive: proxies change the names' case
    timestamp_text = _strip(found.get(TIMESTAMP_HEADER))
    signature_text = _strip(found.get(SIGNATURE_HEADER))
    missing = [
        name
        for name, value in ((TIMESTAMP_HEADER, timestamp_text), (SIGNATURE_HEADER, signature_text))
        if not value
    ]
    if missing or timestamp_text is None or signature_text is None:
        raise WebhookRejected(
            401,
            f"missing {' and '.join(missing)} header: sign every request as described in "
            "docs/custom-channel.md",
        )
    if not _TIMESTAMP_FORMAT.fullmatch(timestamp_text):
        raise WebhookRejected(401, f"{TIMESTAMP_HEADER} must be the time in unix seconds")
    if not _SIGNATURE_FORMAT.fullmatch(signature_text):
        raise WebhookRejected(
            401, f"{SIGNATURE_HEADER} must be sha256=<64 hex digits of the HMAC-SHA256>"
        )
    expected = signature(secret, timestamp_text, body)
    # Constant-time, over the lower-cased hex: an upper-case digest is the same digest.
    if not hmac.compare_digest(expected.encode("ascii"), signature_text.lower().encode("ascii")):
        raise WebhookRejected(
            403,
            'signature does not match: compute HMAC-SHA256 of "<timestamp>.<raw body>" '
            "with the channel's signing secret",
        )
    current = time.time() if now is None else now
    skew = int(timestamp_text) - current
    if abs(skew) > REPLAY_WINDOW_SECONDS:
        direction = "ahead of" if skew > 0 else "behind"
        raise WebhookRejected(
            403,
            f"stale request: {TIMESTAMP_HEADER} is {abs(int(skew))} seconds {direction} the "
            f"hub's clock, outside the {REPLAY_WINDOW_SECONDS // 60}-minute replay window; "
            "sign each request when you send it and keep your server's clock in sync (NTP)",
        )


def _strip(value: str | None) -> str | None:
    return value.strip() if value is not None else None
