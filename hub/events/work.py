"""A unit of work: one transaction, and the realtime events and observer notices it
causes, both sent only after commit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pluggy
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.contract.notices import Notice
from hub.events.bus import EventBus
from hub.events.event import HubEvent
from hub.events.journal import loggable
from hub.observers import Observers

log = logging.getLogger(__name__)

PRE_COMMIT = "hub.pre_commit"
"""The key in a session's ``info`` (set on the app's session factory by ``hub.wiring``)
of a hook that sees every unit of work just before its transaction commits."""

PreCommitHook = Callable[[AsyncSession, Sequence["Work"]], Awaitable[None]]
"""Writes rows that must commit with the change itself (the outgoing webhooks'
deliveries), from the events and notices of the units of work about to commit."""


@dataclass(frozen=True)
class RuleOrigin:
    """The automation rule a unit of work's changes come from."""

    id: int
    name: str


@dataclass
class Work:
    """The session of a unit of work, and what to announce once it commits.

    ``hooks`` are the plugins' hooks (pluggy's hook relay) for the decisions plugins
    take inside the transaction (routing); ``None`` outside the app, where the core's
    built-in rules decide. ``rule`` is set while an automation rule's actions run in
    this unit: the timeline events they write name it, and their notices carry its id.
    """

    db: AsyncSession
    hooks: pluggy.HookRelay | None = None
    events: list[HubEvent] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    rule: RuleOrigin | None = None

    def emit(self, event: HubEvent) -> None:
        """Publish ``event`` if, and only after, the transaction commits."""
        self.events.append(event)

    def observe(self, notice: Notice) -> None:
        """Tell the plugins' observer hooks of ``notice`` if, and only after, it commits."""
        self.notices.append(notice)

    async def announce(self, bus: EventBus, observers: Observers | None) -> None:
        """Publish the events and notify the observers; call after the commit."""
        await announce_all([self], bus, observers)


async def announce_all(works: Sequence[Work], bus: EventBus, observers: Observers | None) -> None:
    """Announce several committed units of work at once (a group commit's batch): their
    events logged together in one append, then published; then the observers told."""
    await publish_events(bus, [event for work in works for event in work.events])
    if observers is not None:
        for work in works:
            for notice in work.notices:
                observers.notify(notice)


async def publish_events(bus: EventBus, events: Sequence[HubEvent]) -> None:
    """Log ``events`` in the bus's realtime event log, then publish them with their ids.

    The journal's lock is held from the append until the last one is published, so this
    process publishes in id order. If the append fails (the database busy), they are
    published without ids: the change is committed, so live delivery must not be lost
    and the caller must not fail; a client that misses them cannot replay them.
    """
    journal = bus.journal
    if journal is None or not any(loggable(event) for event in events):
        await bus.publish_all(events)
        return
    async with journal.lock:
        try:
            stamped = await journal.append(events)
        except (SQLAlchemyError, OSError) as err:
            log.warning(
                "realtime log: %d events not logged, sent without ids: %s", len(events), err
            )
            stamped = list(events)
        except Exception:
            log.exception("realtime log: %d events not logged, sent without ids", len(events))
            stamped = list(events)
        await bus.publish_all(stamped)


async def before_commit(db: AsyncSession, works: Sequence[Work]) -> None:
    """Run the session's pre-commit hook (if its factory has one) on ``works``, in the
    transaction about to commit: what it writes commits with the change, or not at all.
    Call right before ``db.commit()`` wherever units of work commit."""
    hook: PreCommitHook | None = db.info.get(PRE_COMMIT)
    if hook is not None and any(work.events or work.notices for work in works):
        await hook(db, works)


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession],
    bus: EventBus,
    observers: Observers | None = None,
) -> AsyncIterator[Work]:
    """Run a block in one transaction; commit, then publish its events and notices.
    On error, none of them."""
    async with sessions() as db:
        work = Work(db, hooks=observers.hooks if observers is not None else None)
        yield work
        await before_commit(db, [work])
        await db.commit()
    await work.announce(bus, observers)
