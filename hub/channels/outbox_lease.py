"""Holding an outbox row's lease for as long as its send is in flight.

The lease is what stops a second worker from sending the row again; a send whose lease
ran out while the provider was still answering could be sent twice, and only some
providers drop a repeat by its idempotency key (docs/plugins.md lists which). So while
a send is in flight, the lease is extended every third of its length: a live worker
never loses it, and a dead one stops extending it and loses it within one lease.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import OutboxItem
from hub.store.types import utcnow

log = logging.getLogger(__name__)

# Extends the lease by its full length; whether the row still carries it.
Extend = Callable[[], Awaitable[bool]]


@asynccontextmanager
async def lease_held(extend: Extend, seconds: float) -> AsyncIterator[asyncio.Event]:
    """Call ``extend`` every ``seconds / 3`` for the duration of the block.

    Yields an event set when the lease was lost (another worker took the row): the
    caller stops its send then, so that at most one sender remains. A failed extension
    (a database error) is retried at the next beat; the lease still has two thirds of
    its length left at that moment.
    """
    lost = asyncio.Event()

    async def beat() -> None:
        while True:
            await asyncio.sleep(seconds / 3)
            try:
                held = await extend()
            except Exception:
                log.warning("outbox: extending a lease failed; trying again", exc_info=True)
                continue
            if not held:
                lost.set()
                return

    task = asyncio.create_task(beat())
    try:
        yield lost
    finally:
        task.cancel()
        # Wait for the cancelled beat, so no extension lands after the block.
        await asyncio.gather(task, return_exceptions=True)


async def extend_lease(
    sessions: async_sessionmaker[AsyncSession], item_id: int, lease: str, seconds: float
) -> bool:
    """Extend the lease of a row still carrying ``lease`` to ``seconds`` from now, in a
    transaction of its own; whether the row still carries it."""
    async with sessions() as db:
        result = await db.execute(
            update(OutboxItem)
            .where(
                OutboxItem.id == item_id,
                OutboxItem.lease_owner == lease,
                OutboxItem.status == "pending",
            )
            .values(lease_expires_at=utcnow() + timedelta(seconds=seconds))
            .execution_options(synchronize_session=False)
        )
        await db.commit()
    return cast(CursorResult[Any], result).rowcount == 1


async def unless_lost(lost: asyncio.Event, send: Awaitable[str]) -> str:
    """Await ``send``, cancelling it if ``lost`` is set first (raises ``LeaseLost``)."""
    sending = asyncio.ensure_future(send)
    losing = asyncio.create_task(lost.wait())
    try:
        await asyncio.wait({sending, losing}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        losing.cancel()
        if not sending.done():
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
    if sending.cancelled():
        raise LeaseLost
    return sending.result()


class LeaseLost(Exception):
    """Another worker took the row while its send was in flight."""
