"""(stub: the inbound pipe, filled in by the inbound-pipe work)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web


async def inbound_context(app: web.Application) -> AsyncIterator[None]:
    """Start and stop what the inbound pipe runs in the background (the group committer)."""
    yield
