"""(stub: fetching inbound media into attachments, filled in by the media work)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web


async def media_context(app: web.Application) -> AsyncIterator[None]:
    """Start the inbound-media fetcher with the app; stop it on cleanup."""
    yield
