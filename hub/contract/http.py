"""Small HTTP helpers every plugin's API client needs, written once.

A streamed download that stops at a size limit, the ``Retry-After`` header read as
seconds, and a provider's error text cut to a length fit for the inbox. They translate
nothing into the contract's errors: a client raises its own, and the channel maps them.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from datetime import UTC

import httpx

REASON_MAX_CHARS = 300
"""How long a provider's reason may be when shown to an agent or admin."""


class TooLarge(Exception):
    """A download passed its size limit (declared up front, or while streaming)."""


class DownloadRefused(Exception):
    """The server answered a download with a non-2xx status; ``response`` is read, so a
    client can translate its body into its own error."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


async def download(
    http: httpx.AsyncClient,
    url: str,
    *,
    limit: int | None,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """GET ``url`` streamed, stopping as soon as it passes ``limit`` bytes (no limit:
    ``None``), so a huge file never sits in memory whole.

    Raises ``TooLarge``, ``DownloadRefused`` for a non-2xx answer, and lets ``httpx``'s
    own errors (timeouts, network) through for the client to word.
    """
    async with http.stream("GET", url, headers=headers) as response:
        if not response.is_success:
            await response.aread()
            raise DownloadRefused(response)
        declared = response.headers.get("Content-Length", "")
        if limit is not None and declared.isdigit() and int(declared) > limit:
            raise TooLarge(f"the file is {int(declared)} bytes; the limit is {limit}")
        chunks: list[bytes] = []
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if limit is not None and received > limit:
                raise TooLarge(f"the file is larger than the limit of {limit} bytes")
            chunks.append(chunk)
    return b"".join(chunks)


def retry_after(response: httpx.Response, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (delay seconds or an HTTP date), when given
    and readable; a date in the past means now (0)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # "-0000": HTTP dates are always GMT
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def truncate(text: str, limit: int = REASON_MAX_CHARS) -> str:
    """``text`` on one line (runs of whitespace as one space), at most ``limit``
    characters, ending in ``…`` when cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
