"""Meta's webhook checks: the GET verify-token handshake and the POST body signature.

The signature is ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``
over the bytes received, never re-serialised JSON: Meta escapes non-ASCII as ``\\uXXXX``,
so re-encoding the parsed body would break every message with an umlaut or emoji.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from hub.contract import Headers, WebhookRejected, WebhookResponse

SIGNATURE_HEADER = "X-Hub-Signature-256"
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")


def signature(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(app_secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """Raise ``WebhookRejected`` unless ``body`` carries the app secret's signature.

    401 when the header is missing (the legacy sha1 ``X-Hub-Signature`` alone does not
    count), 403 when it is malformed or wrong. Compared in constant time.
    """
    value = Headers(headers).get(SIGNATURE_HEADER)
    if value is None or not value.strip():
        raise WebhookRejected(401, f"the {SIGNATURE_HEADER} header is missing")
    match = _SIGNATURE.fullmatch(value.strip())
    if match is None:
        raise WebhookRejected(403, f"the {SIGNATURE_HEADER} header is not sha256=<hex digest>")
    expected = signature(app_secret, body).removeprefix("sha256=")
    if not hmac.compare_digest(expected.encode(), match.group(1).lower().encode()):
        raise WebhookRejected(
            403, "the signature does not match: check the App Secret in the channel settings"
        )


def handshake(verify_token: str, query: Mapping[str, str]) -> WebhookResponse:
    """Answer Meta's ``hub.mode=subscribe`` GET with the raw ``hub.challenge``.

    400 when the parameters are missing, 403 when the mode or token is wrong.
    """
    mode = query.get("hub.mode")
    token = query.get("hub.verify_token")
    challenge = query.get("hub.challenge")
    if mode is None or token is None or challenge is None:
        raise WebhookRejected(
            400, "a verification request needs hub.mode, hub.verify_token and hub.challenge"
        )
    if mode != "subscribe":
        raise WebhookRejected(403, f"hub.mode must be subscribe, not {mode[:40]!r}")
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        raise WebhookRejected(403, "hub.verify_token does not match the channel's verify token")
    return WebhookResponse(status=200, body=challenge, content_type="text/plain")
