"""Background jobs of the inbox, run by every hub process (started by ``hub.wiring_jobs``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.events.bus import EventBus
from hub.events.forget import everything, forget_on_change
from hub.events.work import unit_of_work
from hub.inbox.availability import apply_schedules
from hub.inbox.conversations import wake_due_snoozes
from hub.inbox.sla import Clocks, check_slas
from hub.inbox.view_counts import CountsCache
from hub.observers import Observers

log = logging.getLogger(__name__)


async def wake_snoozes(
    sessions: async_sessionmaker[AsyncSession], bus: EventBus, observers: Observers | None
) -> None:
    """Reopen every conversation whose snooze time has passed."""
    async with unit_of_work(sessions, bus, observers) as work:
        woken = await wake_due_snoozes(work)
    if woken:
        log.info("snooze ended for conversations %s", woken)


async def check_service_levels(
    sessions: async_sessionmaker[AsyncSession],
    bus: EventBus,
    observers: Observers | None,
    clocks: Clocks | None = None,
    every: float | None = None,
) -> None:
    """Start the SLA clocks due since the last run, redraw what came due soon since the
    last run (``every`` seconds ago) and mark passed due times breached."""
    async with unit_of_work(sessions, bus, observers) as work:
        breached = await check_slas(work, clocks, every)
    if breached:
        log.info("SLA breached: %s", breached)


async def follow_availability_schedules(
    sessions: async_sessionmaker[AsyncSession], bus: EventBus, observers: Observers | None
) -> None:
    """Make every scheduled agent's availability what their schedule says (unless their
    manual toggle still holds)."""
    async with unit_of_work(sessions, bus, observers) as work:
        changed = await apply_schedules(work)
    if changed:
        log.info("availability schedules changed users %s", changed)


async def run_periodically(
    job: Callable[[], Awaitable[None]], *, every: float, stop: asyncio.Event
) -> None:
    """Run ``job`` every ``every`` seconds until ``stop`` is set.

    Stopping waits for a run in progress to finish instead of cancelling it mid-query,
    which could leave a database connection (and its row locks) behind. A failed run is
    logged and the next one tried, so one bad row cannot stop the job for good.
    """
    while not stop.is_set():
        try:
            await job()
        except Exception:
            log.exception("background job %s failed; retrying in %ss", job.__name__, every)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def forget_counts_on_change(bus: EventBus, cache: CountsCache) -> None:
    """Drop the shared sidebar counts whenever any hub process reports a change (or
    reports may have been lost: a resync, or this listener fell behind and listens
    again)."""
    await forget_on_change(bus, lambda _: cache.clear(), {"counts.changed"}, everything)


async def wake_on_close(bus: EventBus, wake: asyncio.Event) -> None:
    """Set ``wake`` whenever any hub process reports a closed conversation, so its CSAT
    survey goes out in seconds rather than at the next periodic run."""
    subscription = bus.subscribe()
    try:
        async for event in subscription:
            if event.type == "conversation.updated" and event.data.get("event") == "closed":
                wake.set()
    finally:
        subscription.close()


async def run_when_woken(
    job: Callable[[], Awaitable[object]], *, wake: asyncio.Event, every: float, stop: asyncio.Event
) -> None:
    """Run ``job`` whenever ``wake`` is set, and every ``every`` seconds anyway (a wake
    another process missed, a run that failed), until ``stop`` is set."""
    while not stop.is_set():
        wake.clear()  # before the run: a wake during it means one more run
        try:
            await job()
        except Exception:
            log.exception("background job %s failed; retrying in %ss", job.__name__, every)
        waits = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
        _, pending = await asyncio.wait(waits, timeout=every, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
