"""A unit of work: one transaction, and the realtime events it causes, sent after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.realtime.bus import EventBus
from hub.realtime.events import HubEvent


@dataclass
class Work:
    """The session of a unit of work, and the events to publish once it commits."""

    db: AsyncSession
    events: list[HubEvent] = field(default_factory=list)

    def emit(self, event: HubEvent) -> None:
        """Publish ``event`` if, and only after, the transaction commits."""
        self.events.append(event)


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], bus: EventBus
) -> AsyncIterator[Work]:
    """Run a block in one transaction; commit, then publish its events. On error, neither."""
    async with sessions() as db:
        work = Work(db)
        yield work
        await db.commit()
    for event in work.events:
        await bus.publish(event)
