"""One read shared by every caller that asks while it waits, never a read older than the
question.

Observers run once per stored message, and some first read something that rarely
changes (the rules of an event, a channel's out-of-hours setting). Under a burst of
inbound messages that was a session and a query per message, each waiting for a
connection, for the same answer. A cache would answer with what was true up to its
age ago; this does not: a caller joins the *next* read, which starts only after the
read in flight (if any) has finished, so every caller's answer comes from a read that
began after it asked, exactly as if it had read alone. Callers asking together share
that read: at most one read in flight and one waiting per key, whatever the load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SharedRead(Generic[K, V]):
    """``get(key)`` answers ``read(key)``, sharing one read among concurrent callers."""

    def __init__(self, read: Callable[[K], Awaitable[V]]) -> None:
        self._read = read
        # Per key: the future of the read that has not started yet (callers join it) and
        # the task that runs reads back to back while callers keep coming.
        self._next: dict[K, asyncio.Future[V]] = {}
        self._runners: dict[K, asyncio.Task[None]] = {}
        # How many reads were made (for tests and metrics).
        self.reads = 0

    async def get(self, key: K) -> V:
        """``read(key)`` as of a read started after this call; its exception if it fails."""
        waiting = self._next.get(key)
        if waiting is None:
            waiting = asyncio.get_running_loop().create_future()
            self._next[key] = waiting
            runner = self._runners.get(key)
            if runner is None or runner.done():
                self._runners[key] = asyncio.get_running_loop().create_task(self._run(key))
        # Shielded: one caller going away (cancelled) must not cancel the others' read.
        return await asyncio.shield(waiting)

    async def _run(self, key: K) -> None:
        waiting: asyncio.Future[V] | None = None
        try:
            while (waiting := self._next.pop(key, None)) is not None:
                self.reads += 1
                try:
                    value = await self._read(key)
                except Exception as err:
                    waiting.set_exception(err)
                    # Marked retrieved so a failure whose callers all went away is not
                    # reported as never retrieved; the callers still get it.
                    waiting.exception()
                else:
                    waiting.set_result(value)
        finally:
            # Cancelled (the hub stopping): no caller may wait for a read never made.
            for left in (waiting, self._next.pop(key, None)):
                if left is not None and not left.done():
                    left.cancel()
            self._runners.pop(key, None)
