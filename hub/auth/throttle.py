"""Login throttling: too many failures for one email or one address → wait.

A login reserves its attempt before the password is hashed, and the reservation counts
like a failure until the check settles it. So checks in flight count too: forty wrong
passwords sent at once get five checks, not forty. The counts live in this process
(``MemoryThrottle``) or, with several processes, in Redis (``hub.auth.throttle_redis``).
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

# A reservation not settled after this long (its check hung, or its process died with
# Redis holding it) stops counting.
PENDING_SECONDS = 60.0
# The wait to announce when checks in flight, not failures, fill the limit: they settle
# within about the time one password hash takes.
IN_FLIGHT_WAIT = 1.0


class Throttled(Exception):
    """No attempt may be made now for one of the keys; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"throttled for {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Attempt:
    """One reserved login attempt: the keys it counts against and its own id."""

    keys: tuple[str, ...]
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


class LoginThrottle(Protocol):
    """Counts login attempts per key (``email:<address>``, ``ip:<address>``) in a
    sliding window, so neither one account nor one client can be hammered."""

    max_failures: int
    window: float

    async def reserve(self, keys: Sequence[str]) -> Attempt:
        """Count one attempt in flight against every key, atomically, or raise
        ``Throttled`` (and count nothing) when a key has no attempt left."""
        ...

    async def settle(self, attempt: Attempt, *, failed: bool, forgive: str | None = None) -> None:
        """End ``attempt``: it stays counted as a failure if ``failed``, else is dropped;
        ``forgive`` (one of its keys) then has all its failures forgotten."""
        ...

    async def close(self) -> None:
        """Release what the throttle holds (connections)."""
        ...


@dataclass
class _Count:
    failures: deque[float] = field(default_factory=deque)
    pending: dict[str, float] = field(default_factory=dict)


class MemoryThrottle:
    """The counts in this process's memory: one hub process (the default, and the
    fallback while Redis does not answer)."""

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self.max_failures = max_failures
        self.window = float(window_seconds)
        self._counts: dict[str, _Count] = {}

    async def reserve(self, keys: Sequence[str]) -> Attempt:
        """See ``LoginThrottle.reserve``."""
        return self.reserve_now(keys)

    def reserve_now(self, keys: Sequence[str], now: float | None = None) -> Attempt:
        """``reserve`` without awaiting: nothing runs between the check and the count."""
        now = time.monotonic() if now is None else now
        wait = max((self._wait(key, now) for key in keys), default=0.0)
        if wait > 0:
            raise Throttled(wait)
        attempt = Attempt(tuple(keys))
        for key in keys:
            self._counts.setdefault(key, _Count()).pending[attempt.token] = now
        return attempt

    async def settle(self, attempt: Attempt, *, failed: bool, forgive: str | None = None) -> None:
        """See ``LoginThrottle.settle``."""
        self.settle_now(attempt, failed=failed, forgive=forgive)

    def settle_now(
        self,
        attempt: Attempt,
        *,
        failed: bool,
        forgive: str | None = None,
        now: float | None = None,
    ) -> None:
        """``settle`` without awaiting."""
        now = time.monotonic() if now is None else now
        for key in attempt.keys:
            count = self._counts.get(key)
            if count is None:
                continue
            count.pending.pop(attempt.token, None)
            if failed:
                count.failures.append(now)
            if key == forgive:
                count.failures.clear()
            if not count.failures and not count.pending:
                del self._counts[key]

    async def close(self) -> None:
        """Nothing to release."""

    def _wait(self, key: str, now: float) -> float:
        # Lookups never create entries, and emptied ones are dropped: guessing random
        # emails must not grow memory.
        count = self._counts.get(key)
        if count is None:
            return 0.0
        while count.failures and count.failures[0] <= now - self.window:
            count.failures.popleft()
        for token, since in list(count.pending.items()):
            if since <= now - PENDING_SECONDS:
                del count.pending[token]
        if not count.failures and not count.pending:
            del self._counts[key]
            return 0.0
        if len(count.failures) >= self.max_failures:
            # The oldest failures that must expire to leave one attempt free.
            return count.failures[len(count.failures) - self.max_failures] + self.window - now
        if len(count.failures) + len(count.pending) >= self.max_failures:
            return IN_FLIGHT_WAIT
        return 0.0
