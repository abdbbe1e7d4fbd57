"""Retention of the inbound log: rejected requests and the rest each kept for their own
number of days, older rows deleted in small batches by a periodic job. Held rows (a
disabled channel's acknowledged events, waiting to be replayed) are never deleted."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import InboundLogEntry
from hub.store.pruning import delete_in_batches
from hub.store.types import utcnow

log = logging.getLogger(__name__)


async def _delete_older(
    sessions: async_sessionmaker[AsyncSession], which: ColumnElement[bool], cutoff: datetime
) -> int:
    where = which & (InboundLogEntry.received_at < cutoff)
    return await delete_in_batches(sessions, InboundLogEntry, where)


async def prune_inbound_log(
    sessions: async_sessionmaker[AsyncSession],
    *,
    keep_days: int,
    rejected_keep_days: int,
    now: datetime | None = None,
) -> int:
    """Delete log rows past their retention (0 days keeps them forever); how many went."""
    now = now or utcnow()
    deleted = 0
    rejected = InboundLogEntry.result == "rejected"
    if rejected_keep_days > 0:
        deleted += await _delete_older(sessions, rejected, now - timedelta(days=rejected_keep_days))
    if keep_days > 0:
        others = InboundLogEntry.result.not_in(("rejected", "held"))
        deleted += await _delete_older(sessions, others, now - timedelta(days=keep_days))
    if deleted:
        log.info("inbound log: %s rows past their retention deleted", deleted)
    return deleted
