"""Signed, expiring links to one attachment, for providers that fetch media by URL.

An outbound attachment must be reachable by the provider or the bridged service, which
has no hub login. The link carries the attachment id, an expiry time and an HMAC of both
under a key derived from the hub's secret, so it grants that one file until it expires
and cannot be forged or extended.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote

from hub.settings import Settings

DEFAULT_TTL_SECONDS = 24 * 3600


def _signature(secret_key: str, attachment_id: int, expires: int) -> str:
    key = hashlib.sha256(b"inbox-hub media links v1\x00" + secret_key.encode()).digest()
    message = f"{attachment_id}.{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_media_url(
    settings: Settings,
    secret_key: str,
    attachment_id: int,
    filename: str,
    *,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> str:
    """A URL serving the attachment without login until ``ttl_seconds`` from now."""
    expires = int((time.time() if now is None else now) + ttl_seconds)
    signature = _signature(secret_key, attachment_id, expires)
    name = quote(filename, safe="")
    return f"{settings.base_url}/media/{attachment_id}/{expires}/{signature}/{name}"


def link_is_valid(
    secret_key: str, attachment_id: int, expires: int, signature: str, *, now: float | None = None
) -> bool:
    """Whether a link's signature is the hub's and the link has not expired."""
    if expires < (time.time() if now is None else now):
        return False
    expected = _signature(secret_key, attachment_id, expires)
    return hmac.compare_digest(expected, signature)
