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

Sharing needs company: at a low rate (20 messages a second) each message arrives alone
and still paid a session and a query per observer. ``HeldRead`` keeps the answer instead,
until its owner is told of a change (``forget``, called on the bus's announcement of the
change from any hub process), with a short age limit only as the safety net should an
announcement be lost; its misses are read through a ``SharedRead``.
"""

from __future__ import annotations

import asyncio
import time
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


class HeldRead(Generic[K, V]):
    """``get(key)`` answers ``read(key)`` from memory until ``forget`` drops it, or for at
    most ``ttl`` seconds (the safety net should the announcement of a change be lost).

    A read that was under way when ``forget`` was called still answers the callers that
    asked before it, but is not kept: the next caller reads again. Misses are read through
    a ``SharedRead``, so callers missing together share one read begun after they asked.
    """

    def __init__(self, read: Callable[[K], Awaitable[V]], *, ttl: float) -> None:
        # Public so a test can lengthen it (a slow machine must not expire it mid-test).
        self.ttl = ttl
        self._shared = SharedRead(read)
        self._held: dict[K, tuple[float, V]] = {}
        # Bumped by every forget: a read begun before one is not kept.
        self._generation = 0

    @property
    def reads(self) -> int:
        """How many reads were made (for tests and metrics)."""
        return self._shared.reads

    async def get(self, key: K) -> V:
        """The held answer for ``key``, or ``read(key)`` (kept) when none is held."""
        held = self._held.get(key)
        if held is not None and time.monotonic() - held[0] < self.ttl:
            return held[1]
        generation, asked = self._generation, time.monotonic()
        value = await self._shared.get(key)
        if generation == self._generation:
            self._held[key] = (asked, value)
        return value

    def forget(self, key: K | None = None) -> None:
        """Drop the answer for ``key`` (every answer when None): something it depends on
        changed, or may have without this process hearing of it."""
        self._generation += 1
        if key is None:
            self._held.clear()
        else:
            self._held.pop(key, None)
