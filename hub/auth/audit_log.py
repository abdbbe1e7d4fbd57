"""The audit log read back, newest first: one page at a time (the API's and the admin
page's lists) or every matching entry in batches (the CSV export)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import AuditEntry
from hub.store.paging import pack, unpack

EXPORT_BATCH = 500  # entries read per transaction while a CSV export streams


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show; ``None`` leaves a facet open. ``since`` is inclusive,
    ``until`` exclusive (both timezone-aware)."""

    actor_id: int | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _matching(which: AuditFilter) -> Select[AuditEntry]:
    query = select(AuditEntry)
    if which.actor_id is not None:
        query = query.where(AuditEntry.actor_id == which.actor_id)
    if which.action is not None:
        query = query.where(AuditEntry.action == which.action)
    if which.target_type is not None:
        query = query.where(AuditEntry.target_type == which.target_type)
    if which.target_id is not None:
        query = query.where(AuditEntry.target_id == which.target_id)
    if which.since is not None:
        query = query.where(AuditEntry.at >= which.since)
    if which.until is not None:
        query = query.where(AuditEntry.at < which.until)
    return query


async def _before(
    db: AsyncSession, which: AuditFilter, last_id: int | None, limit: int
) -> list[AuditEntry]:
    query = _matching(which)
    if last_id is not None:
        query = query.where(AuditEntry.id < last_id)
    return list(await db.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


async def list_entries(
    db: AsyncSession, which: AuditFilter, *, cursor: str | None, limit: int
) -> tuple[list[AuditEntry], str | None]:
    """One page of matching entries, newest first, and the next page's cursor.

    Paged by id (ids grow as entries are written), so a page never repeats or skips an
    entry however many are written meanwhile.
    """
    last_id = unpack(cursor, int)[0] if cursor else None
    rows = await _before(db, which, last_id, limit + 1)
    next_cursor = pack(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def all_entries(
    sessions: async_sessionmaker[AsyncSession], which: AuditFilter, batch: int = EXPORT_BATCH
) -> AsyncIterator[list[AuditEntry]]:
    """Every matching entry, newest first, ``batch`` at a time, each batch read in a
    short transaction of its own (an export never holds one open while it streams)."""
    last_id: int | None = None
    while True:
        async with sessions() as db:
            rows = await _before(db, which, last_id, batch)
        if rows:
            yield rows
        if len(rows) < batch:
            return
        last_id = rows[-1].id
