"""The inbound log read back: ``list_entries`` and ``get_entry`` serve the REST API and
the admin pages alike. Its rows are written with ``hub.inbox.storable.log_row``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from hub.errors import NotFound
from hub.events.work import Work
from hub.inbox.timeline import after_id, encode_id_cursor
from hub.store.models import InboundLogEntry


async def list_entries(
    work: Work,
    *,
    channel_id: int | None = None,
    result: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> tuple[list[InboundLogEntry], str | None]:
    """One page of the inbound log, newest first, and the next page's cursor.

    ``since`` keeps entries received at or after it, ``until`` those received before it
    (both timezone-aware).
    """
    query = select(InboundLogEntry)
    if channel_id is not None:
        query = query.where(InboundLogEntry.channel_id == channel_id)
    if result is not None:
        query = query.where(InboundLogEntry.result == result)
    if since is not None:
        query = query.where(InboundLogEntry.received_at >= since)
    if until is not None:
        query = query.where(InboundLogEntry.received_at < until)
    condition = after_id(InboundLogEntry.id, cursor, "desc")
    if condition is not None:
        query = query.where(condition)
    rows = list(await work.db.scalars(query.order_by(InboundLogEntry.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_id_cursor(rows[-1].id)
    return rows, next_cursor


async def get_entry(work: Work, entry_id: int) -> InboundLogEntry:
    """One log entry; 404 when there is none."""
    entry = await work.db.get(InboundLogEntry, entry_id)
    if entry is None:
        raise NotFound("inbound log entry")
    return entry
