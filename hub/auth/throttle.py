"""Login throttling: too many failures for one email or one address → wait."""

from __future__ import annotations

import time
from collections import deque


class LoginThrottle:
    """Counts failed logins per key in a sliding window, in this process.

    Keys are ``email:<address>`` and ``ip:<address>``, so neither one account nor one
    client can be hammered. With several hub processes each keeps its own count, which
    multiplies the limit by the process count; see docs/decisions.md.
    """

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, *keys: str, now: float | None = None) -> float:
        """Seconds until a login may be tried again for these keys; 0 when allowed now."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        for key in keys:
            stamps = self._prune(key, now)
            if stamps is not None and len(stamps) >= self.max_failures:
                wait = max(wait, stamps[0] + self.window - now)
        return wait

    def record_failure(self, *keys: str, now: float | None = None) -> None:
        """Count one failed login against each key."""
        now = time.monotonic() if now is None else now
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def reset(self, *keys: str) -> None:
        """Forget the failures of these keys, after a successful login."""
        for key in keys:
            self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float] | None:
        # Lookups never create entries, and emptied ones are dropped: guessing random
        # emails must not grow memory.
        stamps = self._failures.get(key)
        if stamps is None:
            return None
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
            return None
        return stamps
