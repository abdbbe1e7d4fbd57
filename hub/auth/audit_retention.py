"""Retention of the audit log: entries older than the configured days are deleted in
small batches by a periodic job, the one path that ever deletes an entry."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import AuditEntry
from hub.store.pruning import delete_in_batches
from hub.store.types import utcnow

log = logging.getLogger(__name__)


async def prune_audit_log(
    sessions: async_sessionmaker[AsyncSession], *, keep_days: int, now: datetime | None = None
) -> int:
    """Delete entries older than ``keep_days`` (0 keeps them forever); how many went."""
    if keep_days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    deleted = await delete_in_batches(sessions, AuditEntry, AuditEntry.at < cutoff)
    if deleted:
        log.info("audit log: %s entries past their retention deleted", deleted)
    return deleted
