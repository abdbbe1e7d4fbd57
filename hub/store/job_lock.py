"""Run a periodic job in one hub process at a time, whichever process gets there first.

Several hub processes (``hub serve --workers N``, or several hosts) share a PostgreSQL
database and each runs the periodic jobs. Most of them claim their rows (``SKIP LOCKED``,
versions, unique keys) and so gain from running everywhere; a few only repeat each
other's work at once (pruning the same rows, recomputing the same schedules and
announcing each change twice). Those run under a session advisory lock, tried without
waiting: the process that does not get it skips this round, and the next round goes to
whoever is first then, so no process is special and none has to be up for the job to run.
SQLite has one hub process: the job simply runs.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# First key of the two-key advisory lock ("HUBJ"), so these locks cannot collide with
# the poller's ("HUBP", hub.channels.polling) or the realtime log's.
LOCK_NAMESPACE = 0x4855424A


def lock_key(name: str) -> int:
    """The second key of ``name``'s lock: a stable 31-bit number of the job's name."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


async def run_exclusively(
    engine: AsyncEngine, name: str, job: Callable[[], Awaitable[None]]
) -> bool:
    """Run ``job`` unless another process is running the job called ``name`` now;
    whether it ran. The lock is held on a connection of its own for as long as the job
    runs (the job opens its own sessions) and released even when the job fails."""
    if engine.dialect.name != "postgresql":
        await job()
        return True
    async with engine.connect() as conn:
        key = {"ns": LOCK_NAMESPACE, "id": lock_key(name)}
        got = await conn.scalar(text("SELECT pg_try_advisory_lock(:ns, :id)"), key)
        # Out of any transaction while the job runs: the lock is the session's, and an
        # open transaction would hold back vacuum for as long as a prune takes.
        await conn.commit()
        if not got:
            return False
        try:
            await job()
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:ns, :id)"), key)
            await conn.commit()
    return True
