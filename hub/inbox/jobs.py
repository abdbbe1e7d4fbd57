"""Background jobs of the inbox, run by every hub process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from hub import appkeys
from hub.events.work import unit_of_work
from hub.inbox.conversations import wake_due_snoozes

log = logging.getLogger(__name__)


async def wake_snoozes(app: web.Application) -> None:
    """Reopen every conversation whose snooze time has passed."""
    async with unit_of_work(
        app[appkeys.SESSIONS], app[appkeys.BUS], app[appkeys.OBSERVERS]
    ) as work:
        woken = await wake_due_snoozes(work)
    if woken:
        log.info("snooze ended for conversations %s", woken)


async def run_periodically(
    job: Callable[[web.Application], Awaitable[None]],
    app: web.Application,
    *,
    every: float,
    stop: asyncio.Event,
) -> None:
    """Run ``job`` every ``every`` seconds until ``stop`` is set.

    Stopping waits for a run in progress to finish instead of cancelling it mid-query,
    which could leave a database connection (and its row locks) behind. A failed run is
    logged and the next one tried, so one bad row cannot stop the job for good.
    """
    while not stop.is_set():
        try:
            await job(app)
        except Exception:
            log.exception("background job %s failed; retrying in %ss", job.__name__, every)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def forget_counts_on_change(app: web.Application) -> None:
    """Drop the shared sidebar counts whenever any hub process reports a change."""
    cache = app[appkeys.COUNTS_CACHE]
    subscription = app[appkeys.BUS].subscribe()
    try:
        async for event in subscription:
            if event.type in ("counts.changed", "resync"):
                cache.clear()
    finally:
        subscription.close()
