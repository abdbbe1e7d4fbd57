"""Background jobs of the inbox, run by every hub process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from hub import appkeys
from hub.inbox.conversations import wake_due_snoozes
from hub.inbox.work import unit_of_work

log = logging.getLogger(__name__)


async def wake_snoozes(app: web.Application) -> None:
    """Reopen every conversation whose snooze time has passed."""
    async with unit_of_work(app[appkeys.SESSIONS], app[appkeys.BUS]) as work:
        woken = await wake_due_snoozes(work)
    if woken:
        log.info("snooze ended for conversations %s", woken)


async def run_periodically(
    job: Callable[[web.Application], Awaitable[None]], app: web.Application, *, every: float
) -> None:
    """Run ``job`` every ``every`` seconds until cancelled; a failed run is logged and the
    next one tried, so one bad row cannot stop the job for good."""
    while True:
        try:
            await job(app)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background job %s failed; retrying in %ss", job.__name__, every)
        await asyncio.sleep(every)
