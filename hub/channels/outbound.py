"""(stub: the outbound pipe, filled in by the outbound-pipe work)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web


async def outbox_context(app: web.Application) -> AsyncIterator[None]:
    """Start the outbox worker with the app; stop it, letting deliveries finish, on cleanup."""
    yield
