"""Which due outbox rows this process claims: leased to it, and never more of a channel's
rows than the channel has free send slots here, so a channel whose provider hangs keeps
its backlog in the store instead of in this process's claims.

The lease itself (a token unique to the claim, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL)
is described in ``hub/channels/outbound.py``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.inbox.channel_settings import ChannelSettings
from hub.settings import Settings
from hub.store.models import Channel, OutboxItem
from hub.store.types import utcnow


@dataclass(frozen=True)
class Claimed:
    """One row this worker leased, with its channel's limits."""

    item_id: int
    channel_id: int
    lease: str
    concurrency: int | None
    rate: float | None


class Claims:
    """The claims of one outbox worker: leasing due rows, and counting per channel the
    rows it holds and has not settled yet."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        worker_id: str,
        default_concurrency: int,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.worker_id = worker_id
        self.default_concurrency = default_concurrency
        self._claims = itertools.count(1)
        # Rows of each channel claimed and not yet settled, and each channel's
        # concurrency as last read: a claim takes only what fits.
        self._assigned: dict[int, int] = {}
        self._capacity: dict[int, int] = {}

    async def take(self, size: int, due_by: datetime | None) -> tuple[list[Claimed], bool]:
        """Lease up to ``size`` rows due by now (and by ``due_by``); return those to
        deliver, and whether the claim was full (more rows may be due)."""
        rows = await self._claim(size, due_by)
        kept: list[Claimed] = []
        extra: list[Claimed] = []
        for claimed in rows:
            channel = claimed.channel_id
            capacity = claimed.concurrency or self.default_concurrency
            self._capacity[channel] = capacity
            if self._assigned.get(channel, 0) < capacity:
                self._assigned[channel] = self._assigned.get(channel, 0) + 1
                kept.append(claimed)
            else:
                extra.append(claimed)
        if extra:
            # A channel seen for the first time (or whose limit was lowered) had more
            # due rows than free slots: leave the rest to be claimed when one frees.
            await self._release(extra)
        return kept, len(rows) >= size

    def settled(self, claimed: Claimed) -> None:
        """``claimed`` is delivered (or given up): its channel has a slot free again."""
        left = self._assigned.get(claimed.channel_id, 1) - 1
        if left > 0:
            self._assigned[claimed.channel_id] = left
        else:
            self._assigned.pop(claimed.channel_id, None)

    def _room(self) -> Any:
        """A SQL expression: how many rows of a candidate's channel this process may
        still claim (all the claim's size for a channel with none in hand)."""
        busy = {
            channel: max(0, self._capacity.get(channel, 0) - count)
            for channel, count in self._assigned.items()
        }
        if not busy:
            return None
        return case(busy, value=OutboxItem.channel_id, else_=literal(None))

    def _claimable(self, now: datetime) -> list[Any]:
        """The conditions a row must meet to be claimed now (its due time apart)."""
        conditions: list[Any] = [
            OutboxItem.status == "pending",
            or_(OutboxItem.lease_expires_at.is_(None), OutboxItem.lease_expires_at < now),
            # A disabled channel's rows wait, unattempted, until it is enabled again;
            # a deleted channel's rows are taken, to be failed with a reason.
            or_(Channel.enabled.is_(True), Channel.deleted_at.is_not(None)),
        ]
        full = [c for c, n in self._assigned.items() if n >= self._capacity.get(c, 0)]
        if full:
            conditions.append(OutboxItem.channel_id.not_in(full))
        return conditions

    async def _claim(self, size: int, due_by: datetime | None) -> list[Claimed]:
        now = utcnow()
        lease = f"{self.worker_id}:{next(self._claims)}"
        lease_free = or_(OutboxItem.lease_expires_at.is_(None), OutboxItem.lease_expires_at < now)
        order = (OutboxItem.next_attempt_at, OutboxItem.id)
        due = OutboxItem.next_attempt_at <= (now if due_by is None else min(now, due_by))
        candidates = (
            select(OutboxItem.id)
            .join(Channel, Channel.id == OutboxItem.channel_id)
            .where(due, *self._claimable(now))
        )
        room = self._room()
        if room is not None:
            # Rank each channel's due rows, so a busy channel's backlog takes only the
            # slots it has free and the rest of the claim goes to other channels.
            ranked = candidates.add_columns(
                func.row_number()
                .over(partition_by=OutboxItem.channel_id, order_by=order)
                .label("n"),
                room.label("room"),
            ).subquery()
            fitting = select(ranked.c.id).where(
                or_(ranked.c.room.is_(None), ranked.c.n <= ranked.c.room)
            )
            candidates = select(OutboxItem.id).where(OutboxItem.id.in_(fitting))
        candidates = candidates.order_by(*order).limit(size)
        if not self.settings.is_sqlite:
            candidates = candidates.with_for_update(of=OutboxItem, skip_locked=True)
        # A CTE runs once; PostgreSQL may run an ``IN (subquery)`` again for every row
        # it updates, which with SKIP LOCKED claims more rows than the LIMIT.
        chosen = candidates.cte("chosen")
        claim = (
            update(OutboxItem)
            .where(OutboxItem.id == chosen.c.id)
            .where(OutboxItem.status == "pending", lease_free)
            .values(
                lease_owner=lease,
                lease_expires_at=now + timedelta(seconds=self.settings.outbox_lease_seconds),
            )
            .returning(OutboxItem.id, OutboxItem.channel_id, OutboxItem.next_attempt_at)
            .execution_options(synchronize_session=False)
        )
        async with self.sessions() as db:
            rows = sorted(
                ((row[2], row[0], row[1]) for row in await db.execute(claim)),
                key=lambda row: (row[0], row[1]),
            )
            channels = {
                c.id: ChannelSettings.of(c)
                for c in await db.scalars(
                    select(Channel).where(Channel.id.in_({row[2] for row in rows}))
                )
            }
            await db.commit()
        return [
            Claimed(
                item_id=item_id,
                channel_id=channel_id,
                lease=lease,
                concurrency=channels[channel_id].max_concurrency
                if channel_id in channels
                else None,
                rate=channels[channel_id].rate_per_second if channel_id in channels else None,
            )
            for _, item_id, channel_id in rows
        ]

    async def _release(self, rows: list[Claimed]) -> None:
        """Give back the leases of claimed rows this process will not deliver now."""
        async with self.sessions() as db:
            for lease in {row.lease for row in rows}:
                await db.execute(
                    update(OutboxItem)
                    .where(
                        OutboxItem.id.in_([row.item_id for row in rows if row.lease == lease]),
                        OutboxItem.lease_owner == lease,
                    )
                    .values(lease_owner=None, lease_expires_at=None)
                    .execution_options(synchronize_session=False)
                )
            await db.commit()

    async def next_due_in(self) -> float:
        """Seconds until the earliest pending row this process could claim becomes due
        (0 when one is due now), at most ``outbox_poll_seconds``."""
        now = utcnow()
        async with self.sessions() as db:
            earliest = await db.scalar(
                select(func.min(OutboxItem.next_attempt_at))
                .join(Channel, Channel.id == OutboxItem.channel_id)
                .where(*self._claimable(now))
            )
        poll = self.settings.outbox_poll_seconds
        if earliest is None:
            return poll
        return min(poll, max(0.0, (earliest - now).total_seconds()))
