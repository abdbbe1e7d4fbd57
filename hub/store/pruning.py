"""Deleting old rows a batch at a time: what every retention job does."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import Base

BATCH = 1000  # rows deleted per transaction: short locks, and other writers go between
# How often the retention jobs with no setting of their own run (idempotency keys,
# outgoing-webhook deliveries, the audit log): what they keep lives for hours or days,
# so a row deleted up to an hour late is harmless.
PRUNE_EVERY_SECONDS = 3600.0


async def delete_in_batches(
    sessions: async_sessionmaker[AsyncSession],
    model: type[Base],
    where: ColumnElement[bool],
    batch: int = BATCH,
) -> int:
    """Delete the rows of ``model`` (keyed by ``id``) matching ``where``, ``batch`` rows
    per transaction; return how many went."""
    key = model.__table__.c.id
    deleted = 0
    while True:
        async with sessions() as db, db.begin():
            ids = list(await db.scalars(select(key).where(where).order_by(key).limit(batch)))
            if ids:
                await db.execute(delete(model).where(key.in_(ids)))
        deleted += len(ids)
        if len(ids) < batch:
            return deleted
