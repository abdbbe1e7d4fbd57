"""Figures about channels for the admin pages: failed deliveries and held requests.

Each function answers for a whole page of channels with one grouped query, so a list of
fifty channels costs two queries, not a hundred.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import InboundLogEntry, OutboxItem

# Deliveries that gave up: the dead letters an admin can retry.
FAILED_STATUSES = ("dead", "failed")


async def failed_deliveries(db: AsyncSession, channel_ids: Collection[int]) -> dict[int, int]:
    """How many deliveries of each channel failed for good (dead or failed outbox rows);
    channels with none are absent."""
    if not channel_ids:
        return {}
    rows = await db.execute(
        select(OutboxItem.channel_id, func.count())
        .where(OutboxItem.channel_id.in_(set(channel_ids)), OutboxItem.status.in_(FAILED_STATUSES))
        .group_by(OutboxItem.channel_id)
    )
    return {channel_id: count for channel_id, count in rows}


async def held_requests(db: AsyncSession, channel_ids: Collection[int]) -> dict[int, int]:
    """How many inbound requests each channel holds (received while it was disabled,
    waiting to be replayed); channels with none are absent."""
    if not channel_ids:
        return {}
    rows = await db.execute(
        select(InboundLogEntry.channel_id, func.count())
        .where(
            InboundLogEntry.channel_id.in_(set(channel_ids)),
            InboundLogEntry.result == "held",
        )
        .group_by(InboundLogEntry.channel_id)
    )
    return {channel_id: count for channel_id, count in rows if channel_id is not None}
