"""A unit of work: one transaction, and the realtime events and observer notices it
causes, both sent only after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.contract.notices import Notice
from hub.events.bus import EventBus
from hub.events.event import HubEvent
from hub.observers import Observers


@dataclass
class Work:
    """The session of a unit of work, and what to announce once it commits."""

    db: AsyncSession
    events: list[HubEvent] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def emit(self, event: HubEvent) -> None:
        """Publish ``event`` if, and only after, the transaction commits."""
        self.events.append(event)

    def observe(self, notice: Notice) -> None:
        """Tell the plugins' observer hooks of ``notice`` if, and only after, it commits."""
        self.notices.append(notice)

    async def announce(self, bus: EventBus, observers: Observers | None) -> None:
        """Publish the events and notify the observers; call after the commit."""
        for event in self.events:
            await bus.publish(event)
        if observers is not None:
            for notice in self.notices:
                observers.notify(notice)


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession],
    bus: EventBus,
    observers: Observers | None = None,
) -> AsyncIterator[Work]:
    """Run a block in one transaction; commit, then publish its events and notices.
    On error, none of them."""
    async with sessions() as db:
        work = Work(db)
        yield work
        await db.commit()
    await work.announce(bus, observers)
